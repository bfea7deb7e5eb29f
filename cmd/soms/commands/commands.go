// Package commands is the table of `soms` subcommands: each production service
// and simulator part with its Config type. cmd/soms dispatches through it, and
// tooling (configuration docs, compose checks) reads it to know which
// environment variables each process reads.
//
// Two builds: the default one has everything (sim.go: the simulator parts,
// `soms sim`, the scenario runner); `-tags prod` (prod.go) leaves the
// simulators, the scenario runner and its plotting out of the production
// images.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/somsgo/soms/internal/healthprobe"
	"github.com/somsgo/soms/internal/tlscert"
	"github.com/somsgo/soms/services/backend"
	"github.com/somsgo/soms/services/brain"
	"github.com/somsgo/soms/services/frontend"
	voicesvc "github.com/somsgo/soms/services/voice"
	"github.com/somsgo/soms/services/wallet"
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

// All lists the subcommands in help order: the production services and
// tools, then what this build adds (the simulator, unless built with -tags
// prod).
func All() []Command {
	return append(production(), simulation()...)
}

// production are the commands every build has, and all the production
// images need.
func production() []Command {
	return []Command{
		service("brain", "cognitive loop: world model, LLM tools, decisions", brain.Run),
		service("backend", "dashboard API: tasks for people", backend.Run),
		service("frontend", "web dashboard and reverse proxy", frontend.Run),
		service("wallet", "wallet: double-entry ledger of credits (task rewards, transfers, demurrage)", wallet.Run),
		service("voice", "voice: announcement texts (LLM) and speech (VOICEVOX), audio files", voicesvc.Run),
		service("perception", "camera streams → YOLO11 on ONNX Runtime → occupancy/activity/fall on MQTT", runPerception),
		{
			Name: "tls-cert", Summary: "tls-cert DIR HOST[,HOST...]: a private CA and server certificate in DIR unless one is there (the compose broker's TLS listener)",
			NewConfig: func() any { return new(struct{}) },
			Run: func(_ context.Context, _ any, args []string, stdout io.Writer) error {
				return tlsCert(args, stdout)
			},
		},
		{
			Name: "healthcheck", Summary: "probe http(s)://…/readyz or tcp://host:port; exit 0 when healthy (container healthchecks)",
			NewConfig: func() any { return new(healthprobe.Config) },
			Run: func(ctx context.Context, cfg any, args []string, stdout io.Writer) error {
				return healthprobe.Run(ctx, *cfg.(*healthprobe.Config), args, stdout)
			},
		},
	}
}

// tlsCert runs `soms tls-cert DIR HOSTS`.
func tlsCert(args []string, stdout io.Writer) error {
	if len(args) != 2 || len(tlscert.Hosts(args[1])) == 0 {
		return errors.New("usage: soms tls-cert DIR HOST[,HOST...]")
	}
	made, err := tlscert.Ensure(args[0], tlscert.Hosts(args[1]), time.Now())
	if err != nil {
		return err
	}
	if made {
		fmt.Fprintf(stdout, "tls-cert: made a CA (%s: give it to clients) and a certificate for %s in %s\n", tlscert.CAFile, args[1], args[0])
	} else {
		fmt.Fprintf(stdout, "tls-cert: %s already holds %s and %s; kept\n", args[0], tlscert.CertFile, tlscert.KeyFile)
	}
	return nil
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
