package backend

import (
	"context"
	"errors"

	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/services/backend/migrations"
)

// Run serves the dashboard API until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.ServiceToken == "" {
		return errors.New("INTERNAL_SERVICE_TOKEN is not set: the backend refuses to accept service writes without it")
	}
	kit, err := service.New(ctx, "backend", cfg.Common, service.Options{MQTT: true})
	if err != nil {
		return err
	}
	defer kit.Close()

	pool, err := pg.Open(ctx, cfg.DB.URL, kit.Log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, kit.Log); err != nil {
		return err
	}
	kit.HTTP.AddCheck("database", pg.Ready(pool))

	NewAPI(pool, kit.Clock, kit.Log, cfg.ServiceToken, cfg.RegionID).Routes(kit.HTTP.Router)
	return kit.Run(ctx, cfg.Addr)
}
