package compose

import (
	"fmt"
	"net"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Network is the one network every service joins.
const Network = "soms-net"

// Problem is one broken rule.
type Problem struct {
	Service string // empty for project-wide problems
	Rule    string
	Detail  string
}

func (p Problem) String() string {
	if p.Service == "" {
		return fmt.Sprintf("[%s] %s", p.Rule, p.Detail)
	}
	return fmt.Sprintf("%s: [%s] %s", p.Service, p.Rule, p.Detail)
}

// Rule names.
const (
	RuleHealthcheck     = "healthcheck"
	RuleHealthPort      = "healthcheck-port"
	RuleImagePinned     = "image-pinned"
	RulePorts           = "ports"
	RuleNetworkMode     = "network-mode"
	RuleNetwork         = "network"
	RuleVolumeUnused    = "volume-unused"
	RuleVolumeUndefined = "volume-undefined"
	RuleBindSource      = "bind-source"
	RuleDependsOn       = "depends-on"
	RuleEnvUnknown      = "env-unknown"
	RuleEnvRequired     = "env-required"
	RuleProgram         = "program"
	RuleDevices         = "devices"
)

// Env is what one program reads from its environment.
type Env struct {
	// Allowed reports whether the program reads the variable.
	Allowed func(name string) bool
	// Required variables must be set to a non-empty value.
	Required []string
}

// Catalog says which environment each program reads. Program names are
// "soms <command>" for the services built from this repository and the
// image repository or entrypoint name for the others (see Program).
type Catalog func(program string) (Env, bool)

// Policy holds the deployment-specific parts of the rules.
type Policy struct {
	Catalog Catalog
	// Public services may publish ports on every interface (edge devices and
	// browsers reach them); all others bind loopback.
	Public map[string]bool
	// LoopbackOnly programs must never publish on a non-loopback address,
	// whatever the variables say (PostgreSQL).
	LoopbackOnly map[string]bool
	// Unpublished programs must publish no port at all (wallet).
	Unpublished map[string]bool
}

// somsImages are the Dockerfiles whose entrypoint is the soms binary (or,
// for dev, builds and runs it): their command names the soms command.
var somsImages = map[string]bool{"soms.Dockerfile": true, "sim.Dockerfile": true, "perception.Dockerfile": true, "dev.Dockerfile": true}

// Program names what runs in a service's container: "soms <command>" for an
// image built here whose entrypoint is the soms binary, the entrypoint's
// script or program when the file overrides it, else the image repository.
func Program(s types.ServiceConfig) string {
	if len(s.Entrypoint) > 0 {
		for _, e := range s.Entrypoint {
			base := path.Base(e)
			if base == "sh" || base == "bash" || strings.HasPrefix(e, "-") {
				continue
			}
			return base
		}
	}
	if s.Build != nil {
		df := path.Base(s.Build.Dockerfile)
		if len(s.Command) > 0 && somsImages[df] {
			return "soms " + s.Command[0]
		}
		// An image built here that is not the soms binary (the nginx
		// frontend, Prometheus) is named by its Dockerfile.
		return df
	}
	repo, _, _ := imageRef(s.Image)
	return repo
}

// Check applies every rule to a loaded project.
func Check(p *types.Project, pol Policy) []Problem {
	var out []Problem
	names := p.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		s := p.Services[name]
		out = append(out, checkHealth(p, s)...)
		out = append(out, checkImage(s)...)
		out = append(out, checkPorts(s, pol)...)
		out = append(out, checkNetworks(s)...)
		out = append(out, checkDependsOn(p, s)...)
		out = append(out, checkEnv(s, pol.Catalog)...)
		out = append(out, checkDevices(s)...)
		out = append(out, checkBinds(s)...)
	}
	out = append(out, checkProjectNetwork(p)...)
	out = append(out, checkVolumes(p)...)
	return out
}

func problem(s types.ServiceConfig, rule, format string, args ...any) Problem {
	return Problem{Service: s.Name, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// oneShot reports a job that runs to completion before the services that
// depend on it start (restart "no", awaited with
// service_completed_successfully): it has no health to check.
func oneShot(p *types.Project, name string) bool {
	s, ok := p.Services[name]
	if !ok || s.Restart != types.RestartPolicyNo {
		return false
	}
	for _, other := range p.Services {
		if d, ok := other.DependsOn[name]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
			return true
		}
	}
	return false
}

func checkHealth(p *types.Project, s types.ServiceConfig) []Problem {
	if oneShot(p, s.Name) {
		return nil
	}
	h := s.HealthCheck
	if h == nil || h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE" {
		return []Problem{problem(s, RuleHealthcheck, "no healthcheck (known issue L-7)")}
	}
	return checkHealthPort(s)
}

var (
	listenPort = regexp.MustCompile(`^[^:]*:(\d+)$`)
	probePort  = regexp.MustCompile(`^(?:https?|tcp)://(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)`)
)

// checkHealthPort catches a probe aimed at a port the soms service does not
// listen on: the probe's port must be one of the service's *_ADDR ports.
func checkHealthPort(s types.ServiceConfig) []Problem {
	if !strings.HasPrefix(Program(s), "soms ") {
		return nil
	}
	listening := listenPorts(s)
	if len(listening) == 0 {
		return []Problem{problem(s, RuleHealthPort, "no *_ADDR listen address in environment; set it so the probe's port is explicit")}
	}
	var out []Problem
	probed := false
	for _, arg := range s.HealthCheck.Test[1:] {
		if m := probePort.FindStringSubmatch(arg); m != nil {
			probed = true
			if !listening[m[1]] {
				out = append(out, problem(s, RuleHealthPort, "healthcheck probes port %s, the service listens on %v", m[1], keys(listening)))
			}
		}
	}
	if !probed {
		out = append(out, problem(s, RuleHealthPort, "healthcheck %v probes no local URL", s.HealthCheck.Test))
	}
	return out
}

// listenPorts are the ports a soms service listens on according to its
// environment: *_ADDR (":8000", "0.0.0.0:8000") and *_PORT other than the
// broker's (the camera's RTSP port).
func listenPorts(s types.ServiceConfig) map[string]bool {
	out := map[string]bool{}
	for k, v := range s.Environment {
		if v == nil {
			continue
		}
		switch {
		case strings.HasSuffix(k, "_ADDR"):
			if m := listenPort.FindStringSubmatch(*v); m != nil {
				out[m[1]] = true
			}
		case strings.HasSuffix(k, "_PORT") && !strings.HasPrefix(k, "MQTT_"):
			if digits.MatchString(*v) {
				out[*v] = true
			}
		}
	}
	return out
}

var digits = regexp.MustCompile(`^\d+$`)

func checkImage(s types.ServiceConfig) []Problem {
	if s.Image == "" {
		return []Problem{problem(s, RuleImagePinned, "no image name (a built image needs a pinned tag too)")}
	}
	_, tag, digest := imageRef(s.Image)
	switch {
	case digest != "":
		return nil
	case tag == "":
		return []Problem{problem(s, RuleImagePinned, "image %q has no tag (floats on latest; known issue L-1)", s.Image)}
	case tag == "latest" || strings.HasSuffix(tag, "-latest"):
		return []Problem{problem(s, RuleImagePinned, "image %q uses a floating latest tag (known issue L-1)", s.Image)}
	case s.Build == nil && !strings.ContainsAny(tag, "0123456789"):
		return []Problem{problem(s, RuleImagePinned, "image %q: tag %q names no version", s.Image, tag)}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkPorts(s types.ServiceConfig, pol Policy) []Problem {
	prog := Program(s)
	if pol.Unpublished[prog] && len(s.Ports) > 0 {
		return []Problem{problem(s, RulePorts, "%s must not publish ports (known issue M-9); found %d", prog, len(s.Ports))}
	}
	var out []Problem
	for _, port := range s.Ports {
		where := fmt.Sprintf("%s:%s->%d", port.HostIP, port.Published, port.Target)
		switch {
		case port.HostIP == "":
			out = append(out, problem(s, RulePorts, "port %d published without a host address (binds 0.0.0.0 implicitly); write it out", port.Target))
		case pol.LoopbackOnly[prog] && !isLoopback(port.HostIP):
			out = append(out, problem(s, RulePorts, "%s bound to %s; it must stay on 127.0.0.1 (known issue M-1)", prog, where))
		case !isLoopback(port.HostIP) && !pol.Public[s.Name]:
			out = append(out, problem(s, RulePorts, "bound to %s; only %v face the network, others bind 127.0.0.1", where, keys(pol.Public)))
		}
	}
	return out
}

func checkNetworks(s types.ServiceConfig) []Problem {
	var out []Problem
	if s.NetworkMode != "" {
		out = append(out, problem(s, RuleNetworkMode, "network_mode %q: every service joins %s (known issue M-5)", s.NetworkMode, Network))
	}
	if _, ok := s.Networks[Network]; !ok {
		out = append(out, problem(s, RuleNetwork, "not on %s (networks: %v)", Network, keys(s.Networks)))
	}
	return out
}

func checkProjectNetwork(p *types.Project) []Problem {
	if _, ok := p.Networks[Network]; !ok {
		return []Problem{{Rule: RuleNetwork, Detail: Network + " is not declared (known issue M-11)"}}
	}
	return nil
}

func checkDependsOn(p *types.Project, s types.ServiceConfig) []Problem {
	var out []Problem
	for dep, d := range s.DependsOn {
		if d.Condition == types.ServiceConditionCompletedSuccessfully && oneShot(p, dep) {
			continue
		}
		if d.Condition != types.ServiceConditionHealthy {
			out = append(out, problem(s, RuleDependsOn, "depends on %s with condition %q; use service_healthy", dep, d.Condition))
		}
	}
	return out
}

func checkEnv(s types.ServiceConfig, catalog Catalog) []Problem {
	prog := Program(s)
	env, ok := catalog(prog)
	if !ok {
		if len(s.Environment) == 0 && !strings.HasPrefix(prog, "soms") {
			return nil
		}
		return []Problem{problem(s, RuleProgram, "no environment catalog for program %q", prog)}
	}
	var out []Problem
	for _, k := range keys(s.Environment) {
		if !env.Allowed(k) && !runtimeVar(k) {
			out = append(out, problem(s, RuleEnvUnknown, "%s sets %s, which %s does not read", s.Name, k, prog))
		}
	}
	for _, k := range env.Required {
		if v, ok := s.Environment[k]; !ok || v == nil || *v == "" {
			out = append(out, problem(s, RuleEnvRequired, "%s needs %s set", prog, k))
		}
	}
	return out
}

// runtimeVar reports a variable the container runtime reads, not the
// program: the NVIDIA Container Toolkit's.
func runtimeVar(k string) bool {
	return k == "NVIDIA_DRIVER_CAPABILITIES" || k == "NVIDIA_VISIBLE_DEVICES"
}

func checkDevices(s types.ServiceConfig) []Problem {
	var out []Problem
	for _, d := range s.Devices {
		src := path.Clean(d.Source)
		if src == "/dev/dri" || src == "/dev" {
			out = append(out, problem(s, RuleDevices, "device %q maps a whole directory; map the dGPU's nodes (/dev/kfd, /dev/dri/renderD128) only", d.Source))
		}
	}
	return out
}

func checkBinds(s types.ServiceConfig) []Problem {
	var out []Problem
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if _, err := os.Stat(v.Source); err != nil {
			out = append(out, problem(s, RuleBindSource, "bind mount source %s: %v", v.Source, err))
		}
	}
	return out
}

func checkVolumes(p *types.Project) []Problem {
	used := map[string]bool{}
	var out []Problem
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume || v.Source == "" {
				continue
			}
			used[v.Source] = true
			if _, ok := p.Volumes[v.Source]; !ok {
				out = append(out, problem(s, RuleVolumeUndefined, "uses volume %q, which is not declared", v.Source))
			}
		}
	}
	for _, name := range keys(p.Volumes) {
		if !used[name] {
			out = append(out, Problem{Rule: RuleVolumeUnused, Detail: fmt.Sprintf("volume %q is declared but no service mounts it (known issue M-8)", name)})
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
