package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/secret"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/services/backend/migrations"
)

// minSecret is the shortest JWT_SECRET accepted (HS256 wants 256 bits).
const minSecret = 32

// minAdminPassword is the bootstrap administrator's shortest password, as
// for every account.
const minAdminPassword = 8

// Run serves the dashboard API until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.ServiceToken == "" {
		return errors.New("INTERNAL_SERVICE_TOKEN is not set: the backend refuses to accept service writes without it")
	}
	// A simulation is a development run by definition.
	dev := cfg.Dev || cfg.Common.Clock == "sim"
	switch {
	case cfg.JWTSecret == "" && !dev:
		return errors.New("JWT_SECRET is not set: set a random secret of at least 32 bytes (or BACKEND_DEV=true for a throwaway one)")
	case cfg.JWTSecret != "" && len(cfg.JWTSecret) < minSecret:
		return fmt.Errorf("JWT_SECRET is %d bytes; use at least %d", len(cfg.JWTSecret), minSecret)
	}
	if cfg.Common.Production() {
		var jwtErr, adminErr error
		if cfg.JWTSecret != "" || !dev {
			jwtErr = secret.Check("JWT_SECRET", cfg.JWTSecret, minSecret)
		}
		if cfg.AdminUser != "" {
			adminErr = secret.Check("BACKEND_ADMIN_PASSWORD", cfg.AdminPassword, minAdminPassword)
		}
		if err := errors.Join(
			secret.Check("INTERNAL_SERVICE_TOKEN", cfg.ServiceToken, secret.MinLength), jwtErr,
			secret.CheckURLPassword("DATABASE_URL", cfg.DB.URL, secret.MinLength), adminErr,
		); err != nil {
			return fmt.Errorf("refusing to start with weak production secrets (SOMS_CLOCK=wall):\n%w", err)
		}
	}
	kit, err := service.New(ctx, "backend", cfg.Common, service.Options{MQTT: true})
	if err != nil {
		return err
	}
	defer kit.Close()
	if cfg.JWTSecret == "" {
		kit.Log.Warn("JWT_SECRET is not set (development or simulation): using a random secret; login tokens will not survive a restart")
	}

	pool, err := pg.Open(ctx, cfg.DB.URL, kit.Log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, "dashboard", migrations.FS, kit.Log); err != nil {
		return err
	}
	kit.HTTP.AddCheck("database", pg.Ready(pool))

	var payer RewardPayer
	if u, err := url.Parse(cfg.WalletURL); cfg.WalletURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("WALLET_SERVICE_URL=%q: want an http(s) base URL such as http://wallet:8003", cfg.WalletURL)
	}
	if cfg.WalletURL == "" {
		kit.Log.Warn("WALLET_SERVICE_URL is not set: task rewards are recorded as pending and not paid")
	} else {
		payer = newWalletPayer(cfg.WalletURL, cfg.ServiceToken)
	}
	api := New(Deps{
		Pool: pool, Clock: kit.Clock, Log: kit.Log, ServiceToken: cfg.ServiceToken, Region: cfg.RegionID,
		Bus: kit.Bus, Payer: payer, JWTSecret: []byte(cfg.JWTSecret), TokenTTL: cfg.TokenTTL, Metrics: kit.Metrics,
		MaxDevices: cfg.MaxDevices, DeviceRetention: cfg.DeviceRetention,
		BrainURL: cfg.BrainURL, ExternalURL: cfg.ExternalURL, WalletURL: cfg.WalletURL,
	})
	if cfg.AdminUser != "" {
		if err := api.users.ensureAdmin(ctx, cfg.AdminUser, cfg.AdminPassword, kit.Clock.Now()); err != nil {
			return err
		}
		kit.Log.Info("bootstrap administrator ready", "username", cfg.AdminUser)
	}
	api.Routes(kit.HTTP.Router)
	if err := api.Subscribe(ctx, kit.Bus); err != nil {
		return err
	}
	return kit.Run(ctx, cfg.Addr,
		api.IngestLoop,
		api.PruneLoop(cfg.SensorRetention, 10*time.Minute),
		api.PaymentLoop(cfg.PaymentRetry),
		api.ExpiryLoop(cfg.ExpirySweep),
	)
}
