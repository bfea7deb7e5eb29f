package mockllm

import (
	"context"

	"github.com/somsgo/soms/internal/service"
)

// Run serves the mock LLM until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	var rs *RuleSet
	if cfg.Rules != "" {
		loaded, err := LoadRuleSet(cfg.Rules)
		if err != nil {
			return err
		}
		rs = &loaded
	}
	kit, err := service.New(ctx, "mockllm", cfg.Common, service.Options{})
	if err != nil {
		return err
	}
	defer kit.Close()
	m := New(kit.Clock, cfg.Model, cfg.Keep)
	m.SetSeed(cfg.Seed)
	if rs != nil {
		if err := m.Apply(*rs); err != nil {
			return err
		}
	}
	m.Routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr)
}
