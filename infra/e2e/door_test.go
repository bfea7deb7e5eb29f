package e2e

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

// testPublicDoor: the frontend's nginx serves HTTPS with the self-signed
// certificate its entrypoint made at first start (for FRONTEND_TLS_NAME,
// env.example's soms.local), and through it a person's balance and history
// need a login, the audit trail an administrator, and no service's metrics
// are reachable, while what the dashboard's anonymous views read still
// answers (docs/security.md).
func testPublicDoor(t *testing.T) {
	port := sys.HostPort("frontend", 8443)
	if port == 0 {
		t.Fatal("the frontend publishes no HTTPS port (8443)")
	}
	base := "https://127.0.0.1:" + strconv.Itoa(port)
	var peer []string
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		// Self-signed: check what it names instead of who signed it.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				peer = cs.PeerCertificates[0].DNSNames
			}
			return nil
		},
	}}}
	get := func(path string) int {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s over HTTPS: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS = %d", got)
	}
	if !slices.Contains(peer, "soms.local") {
		t.Errorf("the frontend's certificate names %v, want soms.local (FRONTEND_TLS_NAME)", peer)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/api/wallet/wallets/1", http.StatusUnauthorized},
		{"/api/wallet/wallets/1/history", http.StatusUnauthorized},
		{"/api/wallet/admin/supply", http.StatusUnauthorized},
		{"/api/tasks/audit", http.StatusUnauthorized},
		{"/api/users/1", http.StatusUnauthorized},
		{"/api/metrics", http.StatusNotFound},
		{"/api//metrics", http.StatusNotFound},
		{"/api/brain/metrics", http.StatusNotFound},
		{"/api/tasks/", http.StatusOK},
		{"/api/sensors/zones", http.StatusOK},
		{"/api/wallet/transactions/transfer-fee?amount=100", http.StatusOK},
	} {
		if got := get(c.path); got != c.want {
			t.Errorf("anonymous GET %s over HTTPS = %d, want %d", c.path, got, c.want)
		}
	}
}
