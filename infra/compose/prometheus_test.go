package compose_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/somsgo/soms/infra/compose"
)

// The monitoring profile's Prometheus: its configuration and alert rules
// pass promtool (Debian's prometheus package, installed by `make deps`), the
// alert rules' own unit tests pass (each alert fires on trouble and stays
// quiet otherwise), and it scrapes every lasting SOMS service of the
// production file on the port that service listens on.
func TestPrometheus(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "infra", "prometheus")
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is missing: `make deps` installs Debian's prometheus package, which has it")
	}
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	conf, err := os.ReadFile(filepath.Join(dir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), []string{"docker-compose.yml"}, exampleEnv(t, root), []string{"monitoring"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Services["prometheus"]; !ok {
		t.Fatal("the monitoring profile runs no prometheus service")
	}
	var scraped []string
	for _, m := range regexp.MustCompile(`targets: \["([a-z-]+):(\d+)"\]`).FindAllStringSubmatch(string(conf), -1) {
		name, port := m[1], m[2]
		if name == "localhost" {
			continue
		}
		scraped = append(scraped, name)
		s, ok := p.Services[name]
		switch {
		case !ok:
			t.Errorf("Prometheus scrapes %s, which compose does not run", name)
		case !compose.Listens(s, port):
			t.Errorf("Prometheus scrapes %s:%s, which listens elsewhere", name, port)
		}
	}
	for name, s := range p.Services {
		// One-shot jobs (restart "no", such as a certificate maker) serve
		// no metrics; every lasting soms service does.
		if strings.HasPrefix(compose.Program(s), "soms ") && s.Restart != "no" && !slices.Contains(scraped, name) {
			t.Errorf("Prometheus does not scrape %s", name)
		}
	}
}
