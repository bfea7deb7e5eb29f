// Package compose checks the deployment files statically, because no Docker
// engine runs where `make test` does: every compose file is loaded with the
// compose-spec loader (the one Docker Compose itself uses) and held to the
// deployment rules — healthchecks, pinned images, port bindings, networks,
// volumes, environment variables each program really reads — and every
// Dockerfile is parsed with BuildKit's parser and held to its own (pinned
// bases, multi-stage, non-root, no remote ADD, sources that exist).
//
// The rules are plain functions over the loaded model, so the tests feed them
// both the real files and deliberately broken ones.
package compose

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Variant is one way the compose files are combined (`-f a -f b`).
type Variant struct {
	Name  string
	Files []string // relative to the infra directory
}

// Variants are the supported combinations, as docs/deploy.md documents them.
var Variants = []Variant{
	{"production (ROCm)", []string{"docker-compose.yml"}},
	{"production (NVIDIA)", []string{"docker-compose.yml", "docker-compose.nvidia.yml"}},
	{"production (CPU)", []string{"docker-compose.yml", "docker-compose.cpu.yml"}},
	{"development", []string{"docker-compose.yml", "docker-compose.dev.yml"}},
	{"virtual office", []string{"docker-compose.yml", "docker-compose.edge-mock.yml"}},
	{"virtual office (development)", []string{"docker-compose.yml", "docker-compose.edge-mock.yml", "docker-compose.dev.yml"}},
	{"Raspberry Pi edge", []string{"docker-compose.edge.yml"}},
	// What tests and CI run (no registry): local stand-ins for the
	// third-party images, built by make images.
	{"production (CPU, local images)", []string{"docker-compose.yml", "docker-compose.cpu.yml", "docker-compose.local-images.yml"}},
	{"virtual office (tests)", TestFiles},
}

// TestFiles are the files the compose acceptance run (infra/e2e) starts: the
// production stack on the CPU, the simulators, and the local stand-ins.
var TestFiles = []string{"docker-compose.yml", "docker-compose.cpu.yml", "docker-compose.edge-mock.yml", "docker-compose.local-images.yml"}

// AllProfiles enables every service regardless of its profiles.
var AllProfiles = []string{"*"}

// Load reads files (relative to dir) the way `docker compose -f ... config`
// does, with env as the .env file's variables and the given profiles active.
func Load(ctx context.Context, dir string, files []string, env map[string]string, profiles []string) (*types.Project, error) {
	details := types.ConfigDetails{WorkingDir: dir, Environment: env}
	for _, f := range files {
		path := filepath.Join(dir, f)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: path, Content: data})
	}
	return LoadDetails(ctx, details, profiles)
}

// LoadDetails loads an in-memory model (tests feed broken snippets through it).
func LoadDetails(ctx context.Context, details types.ConfigDetails, profiles []string) (*types.Project, error) {
	// The loader writes into the environment it is given (the project name),
	// and callers load many variants from one env concurrently.
	details.Environment = maps.Clone(details.Environment)
	return loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName("soms-check", true)
		o.ResolvePaths = true
		o.Profiles = profiles
	})
}

// ReadEnvFile parses a .env file (env.example) as compose would.
func ReadEnvFile(path string) (map[string]string, error) {
	env, err := dotenv.Read(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env, nil
}

// composeVar matches what compose interpolates: $$ is an escaped dollar,
// ${NAME...} and $NAME are variables.
var composeVar = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Variables lists the variables a compose file interpolates. It reads the
// text: the loaded model cannot be used, because the loader splits
// short-syntax entries such as devices at colons before interpolating.
func Variables(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, m := range composeVar.FindAllStringSubmatch(string(data), -1) {
		name := m[1] + m[2]
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

var shellVar = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`)

// ScriptVariables lists the upper-case variables a shell script expands, the
// environment a wrapper script (mosquitto, postgres init) reads.
func ScriptVariables(paths ...string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, m := range shellVar.FindAllStringSubmatch(string(data), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// imageRef splits an image reference into repository, tag and digest.
func imageRef(image string) (repo, tag, digest string) {
	if i := strings.Index(image, "@"); i >= 0 {
		image, digest = image[:i], image[i+1:]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		image, tag = image[:i], image[i+1:]
	}
	return image, tag, digest
}
