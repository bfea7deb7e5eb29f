package scenario

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/somsgo/soms/sim/stepper"
	"io"
	"path/filepath"
	"strings"

	"github.com/somsgo/soms/internal/logging"
)

// Config is `soms scenario`'s environment; see `soms env scenario`.
type Config struct {
	Log       logging.Config
	OutDir    string  `env:"SOMS_SCENARIO_OUT" default:"reports" doc:"report directory; each scenario writes OUT/<file name>/report.{html,json} and junit.xml"`
	Speed     float64 `env:"SOMS_SCENARIO_SPEED" doc:"override every scenario's speed (simulated seconds per wall second)"`
	Logs      bool    `env:"SOMS_SCENARIO_LOGS" default:"false" doc:"stream the services' logs while running"`
	WalletURL string  `env:"SOMS_SCENARIO_WALLET_URL" doc:"wallet API base URL for wallet_balance expectations (empty: none in the stack)"`
	Target    string  `env:"SOMS_SCENARIO_TARGET" doc:"control API of a running soms sim (e.g. http://127.0.0.1:8090) to run the scenarios against, instead of a fresh native stack each; --target overrides it"`
}

// Usage is the help text of `soms scenario`.
const Usage = `usage: soms scenario run [--target URL] FILE...  run scenarios and write reports: each against a
                                                fresh native stack, or all against the running
                                                soms sim whose control API is at URL (e.g.
                                                http://127.0.0.1:8090; SOMS_SCENARIO_TARGET)
       soms scenario validate FILE...           check scenario files without running them`

// Command is `soms scenario run|validate FILE...`. It returns an error when
// a file is invalid or a scenario fails, so the process exits non-zero.
func Command(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) < 2 {
		return errors.New(Usage)
	}
	files := args[1:]
	switch args[0] {
	case "validate":
		var errs []error
		for _, f := range files {
			s, err := Load(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(stdout, "%s: ok — %q, %d steps, %d expectations, %v simulated at %s×\n", f, s.Name, len(s.Timeline), len(s.Expect), s.Duration, stepper.Speed(s.Speed))
		}
		return errors.Join(errs...)
	case "run":
		files, target, err := runArgs(ctx, cfg, args[1:])
		if err != nil {
			return err
		}
		var failed []string
		for _, f := range files {
			opts := Options{File: f, Target: target, Speed: cfg.Speed, WalletURL: cfg.WalletURL, Progress: stdout, LogLevel: cfg.Log.Level,
				OutDir: filepath.Join(cfg.OutDir, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))}
			if cfg.Logs {
				opts.Output = stdout
			}
			rep, err := Run(ctx, opts)
			if err != nil && rep.Name == "" {
				return err
			}
			printSummary(stdout, &rep)
			if err != nil {
				fmt.Fprintf(stdout, "  run error: %v\n", err)
			}
			if !rep.Passed {
				failed = append(failed, f)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%d of %d scenarios failed: %s", len(failed), len(files), strings.Join(failed, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown scenario command %q\n%s", args[0], Usage)
}

// runArgs reads `run`'s flags and files, and reaches the target if one is
// given.
func runArgs(ctx context.Context, cfg Config, args []string) ([]string, Target, error) {
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("target", cfg.Target, "control API of a running soms sim")
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w\n%s", err, Usage)
	}
	if fs.NArg() == 0 {
		return nil, nil, errors.New(Usage)
	}
	if *url == "" {
		return fs.Args(), nil, nil
	}
	t, err := DialSim(ctx, *url)
	return fs.Args(), t, err
}

func printSummary(w io.Writer, rep *Report) {
	status := "PASSED"
	if !rep.Passed {
		status = "FAILED"
	}
	fmt.Fprintf(w, "\n%s %s — %v simulated in %.1fs (start-up %.1fs, %.0f sim-s/wall-s)\n", status, rep.Name,
		rep.SimDuration, rep.RunWall.Seconds(), rep.StartupWall.Seconds(), rep.SimPerWall)
	for _, r := range rep.Results {
		mark := "ok  "
		if !r.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s line %d: %s — %s\n", mark, r.Line, r.Description, r.Message)
	}
	for _, line := range rep.Failed() {
		if strings.Contains(line, ": step ") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if f := rep.Files["html"]; f != "" {
		fmt.Fprintf(w, "  report: %s\n", f)
	}
}
