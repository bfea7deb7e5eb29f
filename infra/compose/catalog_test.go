package compose_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/somsgo/soms/cmd/soms/commands"
	"github.com/somsgo/soms/infra/compose"
	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
)

// pending maps subcommands the compose files run that are not in the
// commands table yet to their package directories. Until a command is
// registered its variables come from the env tags in the package's source;
// once registered, config.Describe of its real Config decides. Remove an
// entry when its command lands in commands.All().
var pending = map[string]string{}

// pendingFallback lists what a pending command whose package does not exist
// yet is expected to read (the wallet's documented interface).
var pendingFallback = map[string][]string{}

// external lists the variables of programs not built here: official images
// and the wrapper scripts this repository mounts into them.
func external(t *testing.T, root string) map[string]func(string) bool {
	t.Helper()
	script := func(paths ...string) func(string) bool {
		vars, err := compose.ScriptVariables(paths...)
		if err != nil {
			t.Fatal(err)
		}
		return set(vars)
	}
	initScripts, err := filepath.Glob(filepath.Join(root, "infra/postgres/init/*.sh"))
	if err != nil || len(initScripts) == 0 {
		t.Fatalf("no postgres init scripts: %v", err)
	}
	pgInit := script(initScripts...)
	ollama := set([]string{"HSA_OVERRIDE_GFX_VERSION", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"})
	return map[string]func(string) bool{
		// The wrapper reads these, then execs the image's entrypoint.
		"mosquitto-entrypoint.sh": script(filepath.Join(root, "infra/docker/mosquitto-entrypoint.sh")),
		"postgres": func(k string) bool {
			return strings.HasPrefix(k, "POSTGRES_") || k == "PGDATA" || pgInit(k)
		},
		// The local stand-in (infra/local/postgres-entrypoint.sh) keeps the
		// official image's contract.
		"soms-local/postgres": func(k string) bool {
			return strings.HasPrefix(k, "POSTGRES_") || k == "PGDATA" || pgInit(k)
		},
		"ollama/ollama": func(k string) bool {
			return strings.HasPrefix(k, "OLLAMA_") || ollama(k)
		},
		// mediamtx takes any configuration key as MTX_<KEY>.
		"mediamtx":                 func(k string) bool { return strings.HasPrefix(k, "MTX_") },
		"voicevox/voicevox_engine": func(string) bool { return false },
		// The frontend image's entrypoint (self-signed certificate), then nginx.
		"frontend.Dockerfile":         script(filepath.Join(root, "infra/docker/frontend-entrypoint.sh")),
		"prometheus.Dockerfile":       func(string) bool { return false },
		"nginxinc/nginx-unprivileged": func(string) bool { return false },
	}
}

var envTag = regexp.MustCompile(`env:"([A-Z0-9_]+)"(?:\s+default:"([^"]*)")?`)

// catalog builds the Catalog from the commands table.
func catalog(t *testing.T, root string) compose.Catalog {
	t.Helper()
	ext := external(t, root)
	return func(program string) (compose.Env, bool) {
		if allowed, ok := ext[program]; ok {
			return compose.Env{Allowed: allowed}, true
		}
		name, ok := strings.CutPrefix(program, "soms ")
		if !ok {
			return compose.Env{}, false
		}
		if cmd, ok := commands.Lookup(name); ok {
			if !cmd.Service {
				// A tool (modelgen, healthcheck) reads no environment.
				return compose.Env{Allowed: func(string) bool { return false }}, true
			}
			return envOf(config.Describe(cmd.NewConfig())), true
		}
		dir, ok := pending[name]
		if !ok {
			return compose.Env{}, false
		}
		vars, err := scanPackage(filepath.Join(root, dir))
		if err != nil && pendingFallback[name] == nil {
			return compose.Env{}, false
		}
		if len(vars) == 0 {
			// Not written yet: the shared configuration it will embed.
			vars = config.Describe(service.Common{})
		}
		for _, v := range pendingFallback[name] {
			vars = append(vars, config.Var{Name: v})
		}
		return envOf(vars), true
	}
}

// envOf turns a variable list into the allowed set and the variables a
// container must set: documented as required, or defaulting to a local
// address, which inside a container means the container itself.
func envOf(vars []config.Var) compose.Env {
	allowed := map[string]bool{}
	var required []string
	for _, v := range vars {
		if allowed[v.Name] {
			continue
		}
		allowed[v.Name] = true
		if strings.Contains(v.Doc, "required") || strings.Contains(v.Default, "localhost") || strings.Contains(v.Default, "127.0.0.1") {
			required = append(required, v.Name)
		}
	}
	return compose.Env{Allowed: func(k string) bool { return allowed[k] }, Required: required}
}

// scanPackage reads the env tags of a package that is not registered yet,
// with the shared config structs it embeds.
func scanPackage(dir string) ([]config.Var, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, os.ErrNotExist
	}
	var vars []config.Var
	embeds := map[string]any{"service.Common": service.Common{}, "llm.Config": llm.Config{}, "pg.Config": pg.Config{}}
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range envTag.FindAllStringSubmatch(string(data), -1) {
			vars = append(vars, config.Var{Name: m[1], Default: m[2]})
		}
		for name := range embeds {
			if strings.Contains(string(data), name) {
				used[name] = true
			}
		}
	}
	for name := range used {
		vars = append(vars, config.Describe(embeds[name])...)
	}
	return vars, nil
}

func set(names []string) func(string) bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return func(k string) bool { return m[k] }
}

// policy is the deployment policy of the SOMS files.
func policy(t *testing.T, root string) compose.Policy {
	return compose.Policy{
		Catalog: catalog(t, root),
		// Edge devices reach the broker, browsers the dashboard, viewers the
		// edge node's camera re-stream.
		Public: map[string]bool{"mosquitto": true, "frontend": true, "rtsp-restream": true},
		// The simulator's control APIs have no authentication: this host only.
		LoopbackOnly: map[string]bool{"postgres": true, "soms edge": true, "soms camera": true, "soms voicevox-sim": true, "soms mockllm": true},
		Unpublished:  map[string]bool{"soms wallet": true},
	}
}
