// Package backend is the dashboard API: tasks for people, and (as they land)
// zones, sensors, devices, voice events and users. It owns the "dashboard"
// schema in PostgreSQL.
package backend

import (
	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env backend`.
type Config struct {
	Common       service.Common
	DB           pg.Config
	Addr         string `env:"BACKEND_ADDR" default:":8000" doc:"HTTP listen address"`
	ServiceToken string `env:"INTERNAL_SERVICE_TOKEN" doc:"shared secret for service-to-service writes (X-Service-Token); required"`
	RegionID     string `env:"SOMS_REGION_ID" default:"local" doc:"region id stamped on stored rows"`
}
