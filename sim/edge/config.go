// Package edge is the virtual edge: the office's rooms as a physics model
// (CO2, temperature, humidity, light) observed by virtual sensor nodes that
// speak the original SOMS MQTT protocol (telemetry, heartbeats) and acted on by
// virtual actuators answering MCP tool calls. A control API sets the scene.
package edge

import (
	"time"

	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env edge`.
type Config struct {
	Common            service.Common
	Addr              string        `env:"EDGE_ADDR" default:":8010" doc:"control API listen address"`
	Layout            string        `env:"EDGE_LAYOUT" default:"builtin:office" doc:"office layout: builtin:office, builtin:meeting, or a JSON file path"`
	Seed              uint64        `env:"SOMS_SIM_SEED" default:"1" doc:"seed of the sensor-noise generator (same seed, same run)"`
	PhysicsStep       time.Duration `env:"EDGE_PHYSICS_STEP" default:"10s" doc:"simulated time between physics updates"`
	ReportInterval    time.Duration `env:"EDGE_REPORT_INTERVAL" default:"30s" doc:"simulated time between sensor reports"`
	HeartbeatInterval time.Duration `env:"EDGE_HEARTBEAT_INTERVAL" default:"60s" doc:"simulated time between device heartbeats"`
	MCPLatency        time.Duration `env:"EDGE_MCP_LATENCY" default:"500ms" doc:"simulated device latency before answering a tool call"`
}
