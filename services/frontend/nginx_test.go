package frontend

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated nginx configurations under infra/nginx")

// The compose frontend's nginx configurations are generated from Routes, so
// the dashboard works the same behind nginx as behind soms frontend.
func TestNginxConfsAreCurrent(t *testing.T) {
	for _, v := range NginxVariants() {
		conf, err := v.Conf()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "infra", "nginx", v.File)
		if *update {
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(have) != conf {
			t.Errorf("infra/nginx/%s is out of date: run `make docs`", v.File)
		}
	}
}

func TestNginxConfRoutes(t *testing.T) {
	prod, err := NginxVariants()[0].Conf()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NginxVariants()[1].Conf()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"location /api/brain/ {\n        set $brain_8080 brain:8080;\n        rewrite ^/api/brain/(.*)$ /$1 break;",
		"location /api/ {\n        set $backend_8000 backend:8000;\n        rewrite ^/api/(.*)$ /$1 break;",
		"location /audio/ {\n        set $voice_service_8002 voice-service:8002;\n        proxy_pass http://$voice_service_8002;",
		`"brain":true`,
	} {
		if !strings.Contains(prod, want) || !strings.Contains(sim, want) {
			t.Errorf("a configuration lacks %q", want)
		}
	}
	if strings.Contains(prod, "virtual-edge") || !strings.Contains(prod, `return 404 '{"error":"the simulator\'s edge control API is not configured on this frontend"}'`) {
		t.Error("production nginx proxies the simulator's edge API")
	}
	if !strings.Contains(sim, "set $virtual_edge_8010 virtual-edge:8010;") || !strings.Contains(sim, `"edge":true`) {
		t.Error("the virtual office's nginx does not proxy the edge API")
	}
}
