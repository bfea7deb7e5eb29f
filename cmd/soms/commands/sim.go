//go:build !prod

package commands

import (
	"context"
	"io"

	"github.com/somsgo/soms/services/perception"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/edge"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/modelgen"
	"github.com/somsgo/soms/sim/scenario"
	"github.com/somsgo/soms/sim/voicevox"
)

// Built names this build in help and error messages.
const Built = "full"

// simulation are the simulator parts and tools of the default build.
func simulation() []Command {
	return []Command{
		service("edge", "simulator: virtual edge devices and office physics", edge.Run),
		service("mockllm", "simulator: OpenAI-compatible mock LLM", mockllm.Run),
		service("voicevox-sim", "simulator: VOICEVOX-compatible engine speaking with espeak-ng", voicevox.Run),
		service("camera", "simulator: virtual cameras (mediamtx + rendered scenes over RTSP)", camera.Run),
		{
			Name: "scenario", Summary: "run or validate QA scenario files: scenario run [--target URL]|validate FILE...",
			NewConfig: func() any { return new(scenario.Config) },
			Run: func(ctx context.Context, cfg any, args []string, stdout io.Writer) error {
				return scenario.Command(ctx, *cfg.(*scenario.Config), args, stdout)
			},
		},
		{
			Name: "modelgen", Summary: "write the simulator's generated test model: modelgen [-pose] [-size N] FILE",
			NewConfig: func() any { return new(struct{}) },
			Run: func(_ context.Context, _ any, args []string, stdout io.Writer) error {
				return modelgen.Command(args, stdout)
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

// runPerception resolves builtin: models to the simulator's generated ones.
func runPerception(ctx context.Context, cfg perception.Config) error {
	return perception.RunWithModels(ctx, cfg, modelgen.Builtin)
}
