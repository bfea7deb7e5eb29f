// Package backend is the dashboard API: tasks for people (with their reward
// payments through the wallet), zones and sensors, devices, voice events and
// users. It owns the "dashboard" schema in PostgreSQL.
package backend

import (
	"time"

	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env backend`.
type Config struct {
	Common       service.Common
	DB           pg.Config
	Addr         string `env:"BACKEND_ADDR" default:":8000" doc:"HTTP listen address"`
	ServiceToken string `env:"INTERNAL_SERVICE_TOKEN" doc:"shared secret for service-to-service writes (X-Service-Token); required; production (SOMS_CLOCK=wall) refuses a placeholder or one under 16 bytes, and checks the password in DATABASE_URL the same way"`
	RegionID     string `env:"SOMS_REGION_ID" default:"local" doc:"region id stamped on stored rows"`

	JWTSecret     string        `env:"JWT_SECRET" doc:"HMAC secret (at least 32 bytes, not env.example's placeholder) signing people's login tokens; required unless BACKEND_DEV=true or SOMS_CLOCK=sim"`
	Dev           bool          `env:"BACKEND_DEV" default:"false" doc:"development mode: without JWT_SECRET a random per-process secret is used (tokens die with the process)"`
	TokenTTL      time.Duration `env:"JWT_TTL" default:"24h" doc:"lifetime of a login token (clock time)"`
	AdminUser     string        `env:"BACKEND_ADMIN_USER" doc:"bootstrap administrator created (or reset) at start; empty: none"`
	AdminPassword string        `env:"BACKEND_ADMIN_PASSWORD" doc:"password of BACKEND_ADMIN_USER (8 to 72 bytes)"`

	WalletURL    string        `env:"WALLET_SERVICE_URL" doc:"wallet base URL for task rewards and people's wallet reads at /wallet/ (compose: http://wallet:8003); empty: rewards stay pending, with a warning, and /wallet/ answers 503"`
	PaymentRetry time.Duration `env:"BACKEND_PAYMENT_RETRY" default:"15s" doc:"how often pending task rewards are retried and counted for soms_backend_task_payments_pending (clock time)"`
	ExpirySweep  time.Duration `env:"BACKEND_EXPIRY_SWEEP" default:"60s" doc:"how often expired tasks are recorded in the audit log and announced live (clock time)"`

	ExternalURL string `env:"SOMS_EXTERNAL_URL" default:"http://localhost:80" doc:"the dashboard's public base URL, for shopping-list share links"`
	BrainURL    string `env:"BRAIN_CHAT_URL" default:"http://localhost:8080" doc:"the brain's HTTP API, asked for the event feed and LLM activity (/sensors/events, /sensors/llm-activity, /sensors/llm-timeline); compose: http://brain:8080"`

	SensorRetention time.Duration `env:"BACKEND_SENSOR_RETENTION" default:"168h" doc:"how long sensor history is kept (clock time); latest values follow BACKEND_DEVICE_RETENTION"`
	DeviceRetention time.Duration `env:"BACKEND_DEVICE_RETENTION" default:"720h" doc:"how long a device's latest values and heartbeat row outlive its last message (clock time); ids seen for less than 10 minutes expire an hour after they go quiet"`
	MaxDevices      int           `env:"BACKEND_MAX_DEVICES" default:"10000" doc:"devices (a device id in a zone) whose latest values and heartbeats are kept; messages that would add more are dropped (soms_backend_telemetry_dropped_total{reason=\"device_limit\"})"`
}
