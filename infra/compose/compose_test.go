package compose_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/somsgo/soms/infra/compose"
)

// repoRoot is the repository root (this package is infra/compose).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func exampleEnv(t *testing.T, root string) map[string]string {
	t.Helper()
	env, err := compose.ReadEnvFile(filepath.Join(root, "infra", "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestVariants loads every supported combination of compose files with the
// values of env.example, first with the default profiles (as `docker compose
// up` starts it: depends_on must hold together) and then with every profile
// enabled, and applies every rule.
func TestVariants(t *testing.T) {
	root := repoRoot(t)
	infra := filepath.Join(root, "infra")
	env := exampleEnv(t, root)
	pol := policy(t, root)
	for _, v := range compose.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if _, err := compose.Load(ctx, infra, v.Files, env, nil); err != nil {
				t.Fatalf("default profiles: %v", err)
			}
			p, err := compose.Load(ctx, infra, v.Files, env, compose.AllProfiles)
			if err != nil {
				t.Fatalf("all profiles: %v", err)
			}
			if len(p.Services) == 0 {
				t.Fatal("no services")
			}
			for _, pr := range compose.Check(p, pol) {
				t.Error(pr)
			}
		})
	}
}

// TestEveryComposeFileIsChecked keeps a new compose file from escaping the
// checks: each must belong to a variant.
func TestEveryComposeFileIsChecked(t *testing.T) {
	infra := filepath.Join(repoRoot(t), "infra")
	files, err := filepath.Glob(filepath.Join(infra, "docker-compose*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, v := range compose.Variants {
		for _, f := range v.Files {
			covered[f] = true
		}
	}
	if len(files) < 6 {
		t.Fatalf("found %d compose files, want at least 6", len(files))
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s is in no variant of compose.Variants", filepath.Base(f))
		}
	}
}

// TestServices pins down what each variant runs, so a service dropped by an
// overlay mistake is noticed.
func TestServices(t *testing.T) {
	root := repoRoot(t)
	env := exampleEnv(t, root)
	want := map[string][]string{
		"production (ROCm)": {"backend", "brain", "frontend", "mosquitto", "mqtt-tls", "ollama", "perception", "postgres", "voice-service", "voicevox", "wallet"},
		"production (CPU)":  {"backend", "brain", "frontend", "mosquitto", "mqtt-tls", "ollama", "perception", "postgres", "voice-service", "voicevox", "wallet"},
		"virtual office":    {"backend", "brain", "frontend", "mock-llm", "mosquitto", "mqtt-tls", "perception", "postgres", "test-model", "virtual-camera", "virtual-edge", "voice-service", "voicevox-sim", "wallet"},
		"Raspberry Pi edge": {"mosquitto", "mqtt-tls", "perception", "rtsp-restream"},
	}
	for _, v := range compose.Variants {
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), v.Files, env, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := p.ServiceNames()
		sort.Strings(got)
		if !slices.Equal(got, w) {
			t.Errorf("%s runs %v, want %v", v.Name, got, w)
		}
	}
}

// TestEnvExample: env.example documents exactly the variables the compose
// files interpolate — none missing (a fresh .env would miss it), none stale.
func TestEnvExample(t *testing.T) {
	root := repoRoot(t)
	env := exampleEnv(t, root)
	files, _ := filepath.Glob(filepath.Join(root, "infra", "docker-compose*.yml"))
	used := map[string]bool{}
	for _, f := range files {
		vars, err := compose.Variables(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			used[v] = true
			if _, ok := env[v]; !ok {
				t.Errorf("%s uses ${%s}, which infra/env.example does not document", filepath.Base(f), v)
			}
		}
	}
	for v := range env {
		if !used[v] {
			t.Errorf("infra/env.example sets %s, which no compose file uses", v)
		}
	}
}

// TestRocmDevices: the ROCm variant hands ollama the kfd and one render node.
func TestRocmDevices(t *testing.T) {
	root := repoRoot(t)
	p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), []string{"docker-compose.yml"}, exampleEnv(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Services["ollama"].Devices {
		got = append(got, d.Source)
	}
	if !slices.Equal(got, []string{"/dev/kfd", "/dev/dri/renderD128"}) {
		t.Errorf("ollama devices %v", got)
	}
	if p.Services["ollama"].Environment["HSA_OVERRIDE_GFX_VERSION"] == nil {
		t.Error("HSA_OVERRIDE_GFX_VERSION is not passed to ollama")
	}
	for _, overlay := range []string{"docker-compose.nvidia.yml", "docker-compose.cpu.yml"} {
		p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), []string{"docker-compose.yml", overlay}, exampleEnv(t, root), nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := p.Services["ollama"].Devices; len(d) != 0 {
			t.Errorf("%s: ollama still maps ROCm devices %v", overlay, d)
		}
	}
}

// TestNginxRoutes: the frontend proxies to services that exist, on the ports
// they listen on.
func TestNginxRoutes(t *testing.T) {
	root := repoRoot(t)
	conf, err := os.ReadFile(filepath.Join(root, "infra", "nginx", "default.conf"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), []string{"docker-compose.yml"}, exampleEnv(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	upstreams := compose.NginxUpstreams(string(conf))
	// The wallet answers services only: nginx never reaches it (people read
	// theirs through the backend).
	if port, ok := upstreams["wallet"]; ok {
		t.Errorf("nginx proxies to the wallet (port %s)", port)
	}
	for _, name := range []string{"backend", "voice-service", "brain"} {
		port, ok := upstreams[name]
		if !ok {
			t.Errorf("nginx has no upstream for %s", name)
			continue
		}
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("nginx proxies to %s, which compose does not run", name)
			continue
		}
		if !compose.Listens(s, port) {
			t.Errorf("nginx proxies to %s:%s, which listens elsewhere", name, port)
		}
	}
	for _, loc := range []string{"location /api/ ", "location /api/voice/ ", "location /audio/ ", "proxy_buffering off", "location = /healthz",
		// Metrics stay on soms-net; HTTPS with the volume's certificate.
		"location = /api/metrics ", "location = /api/brain/metrics ", "listen 8443 ssl;", "ssl_certificate /etc/nginx/tls/tls.crt;"} {
		if !strings.Contains(string(conf), loc) {
			t.Errorf("nginx conf lacks %q", loc)
		}
	}
}

// TestDockerfiles checks every Dockerfile under infra/docker and that each
// compose build names one that exists.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "infra", "docker", "*.Dockerfile"))
	if err != nil || len(files) < 4 {
		t.Fatalf("Dockerfiles: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range compose.CheckDockerfile(data, filepath.Base(f), root) {
			t.Error(pr)
		}
	}
	env := exampleEnv(t, root)
	for _, v := range compose.Variants {
		p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), v.Files, env, compose.AllProfiles)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range p.Services {
			if s.Build == nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: %s builds from %s: %v", v.Name, name, s.Build.Dockerfile, err)
			}
			if filepath.Clean(s.Build.Context) != root {
				t.Errorf("%s: %s build context %s, want the repository root", v.Name, name, s.Build.Context)
			}
		}
	}
}

// TestDockerignore: secrets and local state stay out of the build context,
// and nothing the binary is built from is excluded.
func TestDockerignore(t *testing.T) {
	root := repoRoot(t)
	patterns, err := compose.DockerignorePatterns(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/config", "infra/.env", ".soms/cache/x", "bin/soms", "soms"} {
		if ex, err := compose.Excluded(patterns, p); err != nil || !ex {
			t.Errorf(".dockerignore lets %s into the build context (%v)", p, err)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/soms/main.go", "internal/config/config.go", "infra/mosquitto/aclfile", "infra/scripts/onnxruntime.sh", "infra/nginx/default.conf", "web/README.md", "services/backend/migrations/00001_tasks.sql"} {
		if ex, err := compose.Excluded(patterns, p); err != nil || ex {
			t.Errorf(".dockerignore excludes %s, which the images need (%v)", p, err)
		}
	}
}

// TestRulesCatchBrokenFiles feeds deliberately broken compose snippets and
// expects each rule to fire: the checks above can fail.
func TestRulesCatchBrokenFiles(t *testing.T) {
	root := repoRoot(t)
	pol := policy(t, root)
	const good = `
services:
  backend:
    image: soms/soms:0.1.0
    build: {context: ., dockerfile: infra/docker/soms.Dockerfile}
    command: ["backend"]
    environment: &env
      MQTT_BROKER: mosquitto
      DATABASE_URL: postgres://u:p@postgres:5432/soms
      INTERNAL_SERVICE_TOKEN: t
      JWT_SECRET: s
      BACKEND_ADDR: ":8000"
      BRAIN_CHAT_URL: http://brain:8080
      SOMS_EXTERNAL_URL: http://soms.example.lan
    healthcheck: {test: ["CMD", "/soms", "healthcheck", "http://127.0.0.1:8000/readyz"]}
    networks: [soms-net]
    depends_on:
      postgres: {condition: service_healthy}
  postgres:
    image: postgres:16.10-alpine
    environment: {POSTGRES_PASSWORD: x}
    ports: ["127.0.0.1:5432:5432"]
    volumes: [pg_data:/var/lib/postgresql/data]
    healthcheck: {test: ["CMD", "pg_isready"]}
    networks: [soms-net]
networks:
  soms-net: {}
volumes:
  pg_data: {}
`
	tests := []struct {
		name, from, to string
		rule           string
	}{
		{"baseline", "", "", ""},
		{"missing healthcheck", `    healthcheck: {test: ["CMD", "pg_isready"]}` + "\n", "", compose.RuleHealthcheck},
		{"disabled healthcheck", `{test: ["CMD", "pg_isready"]}`, `{disable: true}`, compose.RuleHealthcheck},
		{"probe on the wrong port", "127.0.0.1:8000/readyz", "127.0.0.1:8080/readyz", compose.RuleHealthPort},
		{"untagged image", "postgres:16.10-alpine", "postgres", compose.RuleImagePinned},
		{"latest tag", "postgres:16.10-alpine", "postgres:latest", compose.RuleImagePinned},
		{"versionless tag", "postgres:16.10-alpine", "postgres:alpine", compose.RuleImagePinned},
		{"latest own image", "soms/soms:0.1.0", "soms/soms:latest", compose.RuleImagePinned},
		{"postgres on all interfaces", `"127.0.0.1:5432:5432"`, `"0.0.0.0:5432:5432"`, compose.RulePorts},
		{"postgres implicit interface", `"127.0.0.1:5432:5432"`, `"5432:5432"`, compose.RulePorts},
		{"wallet published", `command: ["backend"]`, `command: ["wallet"]` + "\n    ports: [\"127.0.0.1:8003:8003\"]", compose.RulePorts},
		{"host network", "    networks: [soms-net]\n    depends_on:", "    network_mode: host\n    depends_on:", compose.RuleNetworkMode},
		{"undeclared network", "    healthcheck: {test: [\"CMD\", \"pg_isready\"]}\n    networks: [soms-net]", "    healthcheck: {test: [\"CMD\", \"pg_isready\"]}\n    networks: [other]", "load"},
		{"other network only (declared)", "    networks: [soms-net]\nnetworks:\n  soms-net: {}", "    networks: [other]\nnetworks:\n  soms-net: {}\n  other: {}", compose.RuleNetwork},
		{"unused volume", "  pg_data: {}", "  pg_data: {}\n  soms_db_data: {}", compose.RuleVolumeUnused},
		{"bind source missing", "[pg_data:/var/lib/postgresql/data]", "[pg_data:/var/lib/postgresql/data, ./no-such-init:/docker-entrypoint-initdb.d:ro]", compose.RuleBindSource},
		{"depends_on started only", "{condition: service_healthy}", "{condition: service_started}", compose.RuleDependsOn},
		{"unknown variable", "      BACKEND_ADDR: \":8000\"", "      BACKEND_ADDR: \":8000\"\n      BACKEND_PROT: \"8000\"", compose.RuleEnvUnknown},
		{"required variable missing", "      INTERNAL_SERVICE_TOKEN: t\n", "", compose.RuleEnvRequired},
		{"local default left", "      MQTT_BROKER: mosquitto\n", "", compose.RuleEnvRequired},
		{"unknown soms command", `command: ["backend"]`, `command: ["teleport"]`, compose.RuleProgram},
		{"whole /dev/dri", "    environment: {POSTGRES_PASSWORD: x}", "    environment: {POSTGRES_PASSWORD: x}\n    devices: [\"/dev/kfd:/dev/kfd\", \"/dev/dri:/dev/dri\"]", compose.RuleDevices},
		{"network undeclared", "networks:\n  soms-net: {}\n", "", "load"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := good
			if tc.from != "" || tc.to != "" {
				if !strings.Contains(src, tc.from) {
					t.Fatalf("snippet lacks %q", tc.from)
				}
				src = strings.Replace(src, tc.from, tc.to, 1)
			}
			p, err := compose.LoadDetails(context.Background(), types.ConfigDetails{
				WorkingDir:  root,
				ConfigFiles: []types.ConfigFile{{Filename: "broken.yml", Content: []byte(src)}},
			}, compose.AllProfiles)
			if tc.rule == "load" {
				if err == nil {
					t.Fatal("the loader accepted it")
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v\n%s", err, src)
			}
			problems := compose.Check(p, pol)
			if tc.rule == "" {
				for _, pr := range problems {
					t.Errorf("unexpected: %s", pr)
				}
				return
			}
			found := false
			for _, pr := range problems {
				found = found || pr.Rule == tc.rule
			}
			if !found {
				t.Errorf("rule %s did not fire; problems: %v", tc.rule, problems)
			}
		})
	}
}

// TestDockerfileRulesCatchBrokenFiles does the same for Dockerfiles.
func TestDockerfileRulesCatchBrokenFiles(t *testing.T) {
	root := repoRoot(t)
	const good = `ARG GO_IMAGE=golang:1.26.8-bookworm
FROM ${GO_IMAGE} AS build
COPY go.mod go.sum ./
RUN go build -o /out/soms ./cmd/soms
FROM scratch
COPY --from=build /out/soms /soms
USER 10001:10001
ENTRYPOINT ["/soms"]
`
	tests := []struct {
		name, from, to, rule string
	}{
		{"baseline", "", "", ""},
		{"unpinned base", "golang:1.26.8-bookworm", "golang", compose.RuleFromPinned},
		{"latest base", "golang:1.26.8-bookworm", "golang:latest", compose.RuleFromPinned},
		{"floating base", "golang:1.26.8-bookworm", "golang:bookworm", compose.RuleFromPinned},
		{"single stage", "FROM scratch\nCOPY --from=build /out/soms /soms\n", "", compose.RuleMultiStage},
		{"root final stage", "USER 10001:10001", "USER root", compose.RuleNonRoot},
		{"no user", "USER 10001:10001\n", "", compose.RuleNonRoot},
		{"remote add", "COPY go.mod go.sum ./", "ADD https://example.com/x.tgz /x.tgz", compose.RuleRemoteAdd},
		{"missing source", "COPY go.mod go.sum ./", "COPY go.mod no-such-file ./", compose.RuleCopySource},
		{"ignored source", "COPY go.mod go.sum ./", "COPY go.mod .soms ./", compose.RuleCopySource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := good
			if tc.from != "" {
				if !strings.Contains(src, tc.from) {
					t.Fatalf("snippet lacks %q", tc.from)
				}
				src = strings.Replace(src, tc.from, tc.to, 1)
			}
			problems := compose.CheckDockerfile([]byte(src), "broken.Dockerfile", root)
			if tc.rule == "" {
				for _, pr := range problems {
					t.Errorf("unexpected: %s", pr)
				}
				return
			}
			found := false
			for _, pr := range problems {
				found = found || pr.Rule == tc.rule
			}
			if !found {
				t.Errorf("rule %s did not fire; problems: %v", tc.rule, problems)
			}
		})
	}
}
