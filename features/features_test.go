package features

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/sim/harness"
)

var (
	tags    = flag.String("godog.tags", "", "run only scenarios matching these tags (e.g. @co2)")
	verbose = flag.Bool("godog.logs", false, "stream the services' logs while running")
)

// sys is the native stack the whole suite runs against; each scenario gets
// fresh services and an empty database through Reset.
var sys native

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	switch d := os.Getenv("SOMS_HARNESS"); d {
	case "", "local", "native":
	case "compose":
		return runOnCompose()
	default:
		fmt.Fprintf(os.Stderr, "acceptance suite: SOMS_HARNESS=%q: want local or compose\n", d)
		return 2
	}
	bin, cleanup, err := buildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite:", err)
		return 1
	}
	defer cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	began := time.Now()
	st := Start()
	opts := harness.Options{Binary: bin, Speed: st.Speed, Start: st.SimTime, Layout: "builtin:office", Seed: 1, Cameras: true,
		// As `soms sim` by default: the soms account takes the original
		// firmware's password, so a device flashed with it can join.
		MQTTPasswords: map[string]string{mqttacl.UserLegacy: mqttacl.LegacyPassword}}
	if *verbose {
		opts.Output = os.Stdout
	}
	s, err := harness.Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite: the system did not start:", err)
		return 1
	}
	sys = native{s}
	fmt.Printf("acceptance suite: system up in %.1fs\n", time.Since(began).Seconds())
	defer func() {
		if err := sys.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "acceptance suite: stopping the stack:", err)
		}
	}()
	return m.Run()
}

// runOnCompose hands SOMS_HARNESS=compose to the compose run, which lives in
// the infra module (infra/e2e) with the compose tooling.
func runOnCompose() int {
	args := []string{"test", "-count=1", "-timeout", "60m", "./e2e", "-args"}
	if *tags != "" {
		args = append(args, "-godog.tags="+*tags)
	}
	if *verbose {
		args = append(args, "-godog.logs")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = "../infra"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite on compose:", err)
		return 1
	}
	return 0
}

// buildBinary compiles the soms binary the stack runs.
func buildBinary() (string, func(), error) {
	dir, err := os.MkdirTemp("", "soms-features-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "soms")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/soms")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building soms: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

func TestFeatures(t *testing.T) {
	Run(t, sys, Options{Tags: *tags})
}

// native adapts the native harness.
type native struct{ s *harness.Stack }

var _ System = native{}

func (n native) URL(name string) string      { return n.s.URL(name) }
func (n native) MQTT(user string) bus.Config { return n.s.MQTT(user) }
func (n native) Reset(ctx context.Context, st clock.State) error {
	return n.s.RestartServices(ctx, st)
}
func (n native) SetClock(ctx context.Context, st clock.State) error { return n.s.SetClock(ctx, st) }
func (n native) Clock() *clock.Sim                                  { return n.s.Clock }
func (n native) Failed() <-chan error                               { return n.s.Failed() }
func (n native) Logs(name string, k int) []string                   { return n.s.Logs(name, k) }
func (n native) Services() []string                                 { return harness.Services() }
func (n native) Stop() error                                        { return n.s.Stop() }
func (n native) Token() string                                      { return n.s.Token }
