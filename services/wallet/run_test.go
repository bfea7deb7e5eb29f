package wallet

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/testenv"
	api "github.com/somsgo/soms/internal/wallet"
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

// loadConfig reads a Config from env as `soms wallet` does.
func loadConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	var cfg Config
	if err := config.Load(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, map[string]string{})
	if cfg.Addr != ":8003" || cfg.Rules() != DefaultRules() || cfg.DemurrageCheck != time.Minute {
		t.Fatalf("defaults = %+v", cfg)
	}
	for _, v := range config.Describe(&cfg) {
		if v.Doc == "" {
			t.Errorf("%s has no doc", v.Name)
		}
	}
}

func TestRunServes(t *testing.T) {
	addr := freeAddr(t)
	cfg := loadConfig(t, map[string]string{
		"WALLET_ADDR": addr, "DATABASE_URL": testenv.Postgres(t), "INTERNAL_SERVICE_TOKEN": token, "LOG_LEVEL": "error",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("wallet not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling another process-like server's readiness
	}
	c := api.NewClient(base, token, nil)
	if _, err := c.PayTaskReward(ctx, api.TaskReward{UserID: 3, TaskID: 1, Amount: 100_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.NewClient(base, "nope", nil).PayTaskReward(ctx, api.TaskReward{UserID: 3, TaskID: 2, Amount: 1}); !httpx.IsStatus(err, 401) {
		t.Fatalf("wrong token: %v", err)
	}
	// The loop charges the current period at start and the trigger asks
	// for the same period: whichever comes first charges it (nobody is
	// above the exemption), the other answers that run.
	d, err := c.TriggerDemurrage(ctx)
	if err != nil || d.Charged != 0 || d.Burned != 0 {
		t.Fatalf("trigger = %+v, %v", d, err)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`soms_wallet_transactions_total{kind="task_reward"} 1`, `soms_wallet_failures_total{kind="task_reward",reason="unauthorized"} 1`,
		`soms_wallet_demurrage_runs_total{result="charged"} 1`, `soms_http_requests_total`} {
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
		env  map[string]string
		want string
	}{
		{"no service token", map[string]string{}, "INTERNAL_SERVICE_TOKEN"},
		{"fee over 100 %", map[string]string{"INTERNAL_SERVICE_TOKEN": "t", "WALLET_TRANSFER_FEE_BPS": "20000"}, "transfer fee"},
		{"zero interval", map[string]string{"INTERNAL_SERVICE_TOKEN": "t", "WALLET_DEMURRAGE_INTERVAL": "0s"}, "demurrage interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), loadConfig(t, tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// A production run (the wall clock) refuses env.example's placeholders and
// weak secrets, naming the variable; a simulation brings its own.
func TestRunRefusesWeakSecrets(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"INTERNAL_SERVICE_TOKEN": "change-me-service-token"}, "INTERNAL_SERVICE_TOKEN is still a placeholder"},
		{map[string]string{"INTERNAL_SERVICE_TOKEN": "short"}, "INTERNAL_SERVICE_TOKEN is 5 bytes"},
		{map[string]string{"INTERNAL_SERVICE_TOKEN": token, "DATABASE_URL": "postgres://soms_wallet:changemewallet@postgres:5432/soms"}, "the password in DATABASE_URL is still a placeholder"},
	} {
		err := Run(context.Background(), loadConfig(t, tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run with %v = %v, want %q", tc.env, err, tc.want)
		}
	}
}
