package backend

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/apidoc/apidoctest"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/services/backend/openapi"
)

// TestOpenAPICoversEveryRoute checks the document against the router the
// service really serves (with the kit's health and metrics routes), both ways.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	srv := httpx.New("backend", logging.Discard(), prometheus.NewRegistry())
	NewAPI(nil, nil, logging.Discard(), token, "local").Routes(srv.Router)
	apidoctest.CoversRoutes(t, openapi.YAML, srv.Router, 30)
}

func TestOpenAPIServed(t *testing.T) {
	r := chi.NewRouter()
	NewAPI(nil, nil, logging.Discard(), token, "local").Routes(r)
	srv := httptest.NewServer(apidoctest.Handler(t, openapi.YAML, r))
	defer srv.Close()
	get := func(path, wantType string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return b
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(get("/openapi.json", "application/json"), &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/tasks/"]["post"] == nil {
		t.Fatalf("openapi.json: %v %+v", err, doc.OpenAPI)
	}
	if !strings.Contains(string(get("/openapi.yaml", "application/yaml")), "openapi: 3.1.0") {
		t.Fatal("openapi.yaml")
	}
	page := string(get("/docs", "text/html"))
	for _, want := range []string{"/tasks/{id}/complete", "X-Service-Token", "report_status"} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.ReplaceAll(want, "_", "")) {
			t.Errorf("docs page lacks %q", want)
		}
	}
}
