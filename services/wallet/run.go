package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/secret"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/services/wallet/migrations"
)

// Run serves the wallet until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.ServiceToken == "" {
		return errors.New("INTERNAL_SERVICE_TOKEN is not set: the wallet refuses to run without authenticating its writes")
	}
	rules := cfg.Rules()
	if err := rules.Validate(); err != nil {
		return err
	}
	if cfg.Common.Production() {
		if err := errors.Join(
			secret.Check("INTERNAL_SERVICE_TOKEN", cfg.ServiceToken, secret.MinLength),
			secret.CheckURLPassword("DATABASE_URL", cfg.DB.URL, secret.MinLength),
		); err != nil {
			return fmt.Errorf("refusing to start with weak production secrets (SOMS_CLOCK=wall):\n%w", err)
		}
	}
	kit, err := service.New(ctx, "wallet", cfg.Common, service.Options{})
	if err != nil {
		return err
	}
	defer kit.Close()
	pool, err := pg.Open(ctx, cfg.DB.URL, kit.Log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, "wallet", migrations.FS, kit.Log); err != nil {
		return err
	}
	kit.HTTP.AddCheck("database", pg.Ready(pool))
	ledger := NewLedger(pool, kit.Clock, rules)
	a := NewAPI(ledger, kit.Log, cfg.ServiceToken, kit.Metrics)
	a.Routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr, ledger.DemurrageLoop(cfg.DemurrageCheck, a.demurrageDone))
}
