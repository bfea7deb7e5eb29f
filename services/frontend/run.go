package frontend

import (
	"context"

	"github.com/somsgo/soms/internal/service"
)

// Run serves the dashboard until ctx is cancelled. It needs no upstream to
// start: a route whose service is down answers 502 until it is back, as
// behind nginx.
func Run(ctx context.Context, cfg Config) error {
	kit, err := service.New(ctx, "frontend", cfg.Common, service.Options{Timeless: true}) // reads no time
	if err != nil {
		return err
	}
	defer kit.Close()
	h, err := NewHandler(cfg, kit.Log)
	if err != nil {
		return err
	}
	kit.HTTP.Router.Handle("/*", h)
	kit.Log.Info("dashboard", "backend", cfg.BackendURL, "voice", cfg.VoiceURL,
		"brain", cfg.BrainURL, "edge", cfg.EdgeURL, "mockllm", cfg.MockLLMURL, "camera", cfg.CameraURL, "hls", cfg.HLSURL, "harness", cfg.HarnessURL)
	return kit.Run(ctx, cfg.Addr)
}
