package voice

import (
	"context"
	"fmt"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/secret"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/voice"
)

// Run serves the voice service until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Common.Production() {
		// Without the token the stock endpoints' writes would be open.
		if err := secret.Check("INTERNAL_SERVICE_TOKEN", cfg.ServiceToken, secret.MinLength); err != nil {
			return fmt.Errorf("refusing to start with weak production secrets (SOMS_CLOCK=wall):\n%w", err)
		}
	}
	kit, err := service.New(ctx, "voice", cfg.Common, service.Options{})
	if err != nil {
		return err
	}
	defer kit.Close()

	engine, err := voice.NewEngine(cfg.VoicevoxURL, nil)
	if err != nil {
		return err
	}
	store, err := NewStore(cfg.AudioDir)
	if err != nil {
		return err
	}
	writer := NewWriter(llm.NewClient(cfg.LLM), cfg.LLMTimeout, 0, kit.Log, kit.Metrics)
	synth := NewSynth(engine, store, cfg.Speaker, cfg.EngineTimeout, kit.Metrics)

	stockGen := func(write func(context.Context) (string, string)) func(context.Context) (voice.StockEntry, string, error) {
		return func(ctx context.Context) (voice.StockEntry, string, error) {
			text, _ := write(ctx)
			au, err := synth.Speak(ctx, text, voice.ToneNeutral)
			if err != nil {
				return voice.StockEntry{}, "", err
			}
			return voice.StockEntry{Text: text, Duration: au.Duration}, au.File, nil
		}
	}
	rejections, err := NewStock("rejection", cfg.RejectionStock, store, kit.Clock, kit.Log, stockGen(writer.Rejection))
	if err != nil {
		return err
	}
	acceptance, err := NewStock("acceptance", cfg.AcceptanceStock, store, kit.Clock, kit.Log, stockGen(writer.Acceptance))
	if err != nil {
		return err
	}
	api := NewAPI(writer, synth, store, engine, rejections, acceptance,
		APIOptions{PublicURL: cfg.PublicURL, MaxText: cfg.MaxText, ServiceToken: cfg.ServiceToken}, kit.Log)
	api.Routes(kit.HTTP.Router)
	kit.HTTP.AddCheck("voicevox", func(ctx context.Context) error {
		if _, err := engine.Version(ctx); err != nil {
			return fmt.Errorf("VOICEVOX at %s: %w", cfg.VoicevoxURL, err)
		}
		return nil
	})
	kit.Log.Info("voice service", "voicevox", cfg.VoicevoxURL, "speaker", cfg.Speaker, "llm", cfg.LLM.URL, "audio_dir", cfg.AudioDir)

	refill := func(ctx context.Context) error {
		return Refill(ctx, kit.Clock, cfg.StockInterval, api.Idle, kit.Log, rejections, acceptance)
	}
	return kit.Run(ctx, cfg.Addr, refill)
}

// Compile-time check that the production LLM client fits the writer.
var _ Chatter = (*llm.Client)(nil)
