package wallet

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/services/wallet/openapi"
)

// TestOpenAPICoversEveryRoute checks the document against the router the
// service really serves (with the kit's health and metrics routes), both ways.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	srv := httpx.New("wallet", logging.Discard(), prometheus.NewRegistry())
	NewAPI(nil, logging.Discard(), token, prometheus.NewRegistry()).Routes(srv.Router)
	apidoctest.CoversRoutes(t, openapi.YAML, srv.Router, 17)
}

// TestOpenAPIServed reads the document and the docs page the way a client
// does, through the validating router.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{
		"/openapi.json": `"openapi": "3.1.0"`,
		"/openapi.yaml": "openapi: 3.1.0",
		"/docs":         "/transactions/p2p-transfer",
	} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}
}
