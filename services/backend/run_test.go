package backend

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond (an HTTP observation of another process-like component)
// until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunServesAndIngests(t *testing.T) {
	addr := freeAddr(t)
	cfg := Config{
		Common: service.Common{MQTT: testenv.Broker(t).Config(mqttacl.UserBackend), Clock: "wall"},
		DB:     pg.Config{URL: testenv.Postgres(t)},
		Addr:   addr, ServiceToken: token, RegionID: "local",
		JWTSecret: strings.Repeat("s", 32), TokenTTL: time.Hour,
		AdminUser: "root", AdminPassword: "root-password",
		PaymentRetry: time.Second, ExpirySweep: time.Second, SensorRetention: time.Hour,
	}
	cfg.Common.Log.Level = "error"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	base := "http://" + addr
	waitFor(t, "readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	c := backendapi.NewClient(base, "")
	if _, err := c.Login(ctx, "root", "root-password"); err != nil {
		t.Fatalf("bootstrap admin cannot log in: %v", err)
	}
	z := uniq("runzone")
	edge := connectBus(t, mqttacl.UserLegacy, "edge")
	if err := edge.PublishJSON(ctx, topic.Sensor(z, "env_01", "temperature"), 1, false, map[string]float64{"value": 23.5}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reading to be stored", func() bool {
		var rs []Reading
		return getJSON(base+"/sensors/latest?zone="+z, &rs) == nil && len(rs) == 1 && rs[0].Value == 23.5
	})
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range []string{"soms_backend_tasks_created_total", "soms_backend_task_payments_pending", "soms_backend_sensor_readings_total"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no service token", Config{JWTSecret: strings.Repeat("s", 32)}, "INTERNAL_SERVICE_TOKEN"},
		{"no jwt secret", Config{ServiceToken: "t"}, "JWT_SECRET"},
		{"short jwt secret", Config{ServiceToken: "t", JWTSecret: "short"}, "at least 32"},
		// Production (the wall clock) refuses env.example's placeholders and
		// weak secrets, naming the variable.
		{"placeholder service token", Config{ServiceToken: "change-me-service-token", JWTSecret: strings.Repeat("s", 32)}, "INTERNAL_SERVICE_TOKEN is still a placeholder"},
		{"short service token", Config{ServiceToken: "t", JWTSecret: strings.Repeat("s", 32)}, "INTERNAL_SERVICE_TOKEN is 1 bytes"},
		{"placeholder jwt secret", Config{ServiceToken: token, JWTSecret: "change-me-jwt-secret-at-least-32-bytes-long"}, "JWT_SECRET is still a placeholder"},
		{"placeholder database password", Config{ServiceToken: token, JWTSecret: strings.Repeat("s", 32),
			DB: pg.Config{URL: "postgres://soms_backend:changemebackend@postgres:5432/soms"}}, "the password in DATABASE_URL is still a placeholder"},
		{"default database password", Config{ServiceToken: token, JWTSecret: strings.Repeat("s", 32),
			DB: pg.Config{URL: "postgres://soms:soms@localhost:5432/soms"}}, "the password in DATABASE_URL is 4 bytes"},
		{"placeholder admin password", Config{ServiceToken: token, JWTSecret: strings.Repeat("s", 32), AdminUser: "root", AdminPassword: "change-me"}, "BACKEND_ADMIN_PASSWORD is still a placeholder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
