package voicevox

import (
	"context"
	"time"

	"github.com/somsgo/soms/internal/service"
)

// Run serves the simulated engine until ctx is cancelled. It fails at once,
// naming the package, when espeak-ng is missing.
func Run(ctx context.Context, cfg Config) error {
	kit, err := service.New(ctx, "voicevox-sim", cfg.Common, service.Options{Timeless: true}) // reads no time
	if err != nil {
		return err
	}
	defer kit.Close()
	e := New(cfg, kit.Log, kit.Metrics)
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = e.Check(checkCtx)
	cancel()
	if err != nil {
		return err
	}
	e.Routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr)
}
