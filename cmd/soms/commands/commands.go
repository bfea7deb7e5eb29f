// Package commands is the table of `soms` subcommands: each production service
// and simulator part with its Config type. cmd/soms dispatches through it, and
// tooling (configuration docs, compose checks) reads it to know which
// environment variables each process reads.
package commands

import (
	"context"
	"fmt"
	"io"

	"github.com/somsgo/soms/internal/healthprobe"
	"github.com/somsgo/soms/services/backend"
	"github.com/somsgo/soms/services/brain"
	"github.com/somsgo/soms/services/frontend"
	"github.com/somsgo/soms/services/perception"
	voicesvc "github.com/somsgo/soms/services/voice"
	"github.com/somsgo/soms/services/wallet"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/edge"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scenario"
	"github.com/somsgo/soms/sim/voicevox"
)

// Command is one subcommand configured from the environment.
type Command struct {
	Name, Summary string
	// Service is true for long-running processes configured only by
	// environment (everything but tools such as sim).
	Service   bool
	NewConfig func() any
	Run       func(ctx context.Context, cfg any, args []string, stdout io.Writer) error
}

func service[C any](name, summary string, run func(context.Context, C) error) Command {
	return Command{
		Name: name, Summary: summary, Service: true,
		NewConfig: func() any { return new(C) },
		Run: func(ctx context.Context, cfg any, args []string, _ io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("%s takes no arguments (configure it with environment variables; see `soms env %s`)", name, name)
			}
			return run(ctx, *cfg.(*C))
		},
	}
}

// All lists the subcommands in help order.
func All() []Command {
	return []Command{
		service("brain", "cognitive loop: world model, LLM tools, decisions", brain.Run),
		service("backend", "dashboard API: tasks for people", backend.Run),
		service("edge", "simulator: virtual edge devices and office physics", edge.Run),
		service("frontend", "web dashboard and reverse proxy", frontend.Run),
		service("wallet", "wallet: double-entry ledger of credits (task rewards, transfers, demurrage)", wallet.Run),
		service("voice", "voice: announcement texts (LLM) and speech (VOICEVOX), audio files", voicesvc.Run),
		service("perception", "camera streams → YOLO11 on ONNX Runtime → occupancy/activity/fall on MQTT", perception.Run),
		service("mockllm", "simulator: OpenAI-compatible mock LLM", mockllm.Run),
		service("voicevox-sim", "simulator: VOICEVOX-compatible engine speaking with espeak-ng", voicevox.Run),
		service("camera", "simulator: virtual cameras (mediamtx + rendered scenes over RTSP)", camera.Run),
		{
			Name: "scenario", Summary: "run or validate QA scenario files: scenario run|validate FILE...",
			NewConfig: func() any { return new(scenario.Config) },
			Run: func(ctx context.Context, cfg any, args []string, stdout io.Writer) error {
				return scenario.Command(ctx, *cfg.(*scenario.Config), args, stdout)
			},
		},
		{
			Name: "healthcheck", Summary: "probe http(s)://…/readyz or tcp://host:port; exit 0 when healthy (container healthchecks)",
			NewConfig: func() any { return new(healthprobe.Config) },
			Run: func(ctx context.Context, cfg any, args []string, stdout io.Writer) error {
				return healthprobe.Run(ctx, *cfg.(*healthprobe.Config), args, stdout)
			},
		},
		{
			Name: "sim", Summary: "run the whole virtual office natively (Mosquitto, PostgreSQL, every service)",
			NewConfig: func() any { return new(harness.Config) },
			Run: func(ctx context.Context, cfg any, _ []string, stdout io.Writer) error {
				return harness.RunSim(ctx, *cfg.(*harness.Config), stdout)
			},
		},
	}
}

// Lookup finds a subcommand by name.
func Lookup(name string) (Command, bool) {
	for _, c := range All() {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}
