// Package edge is the virtual edge: the office's rooms as a physics model
// (CO2, temperature, humidity, light, outside weather) observed by virtual
// sensor nodes and a SensorSwarm hub that speak the original SOMS MQTT
// protocol (telemetry, heartbeats with children) and acted on by virtual
// actuators answering MCP tool calls. It owns each zone's scene (who is
// where), publishes it for the virtual camera, and lets occupancy sensing
// follow it. A control API sets the scene and injects device faults.
package edge

import (
	"time"

	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env edge`.
type Config struct {
	Common            service.Common
	Addr              string        `env:"EDGE_ADDR" default:":8010" doc:"control API listen address"`
	Layout            string        `env:"EDGE_LAYOUT" default:"builtin:office" doc:"office layout: builtin:office, builtin:meeting, builtin:original, or a JSON file path"`
	Seed              uint64        `env:"SOMS_SIM_SEED" default:"1" doc:"seed of the sensor-noise and people generators (same seed, same run)"`
	PhysicsStep       time.Duration `env:"EDGE_PHYSICS_STEP" default:"10s" doc:"simulated time between physics updates"`
	ReportInterval    time.Duration `env:"EDGE_REPORT_INTERVAL" default:"30s" doc:"simulated time between sensor reports"`
	HeartbeatInterval time.Duration `env:"EDGE_HEARTBEAT_INTERVAL" default:"60s" doc:"simulated time between device heartbeats"`
	SwarmTick         time.Duration `env:"EDGE_SWARM_TICK" default:"2s" doc:"simulated time between SensorSwarm radio ticks (leaves report on their own intervals)"`
	MCPLatency        time.Duration `env:"EDGE_MCP_LATENCY" default:"500ms" doc:"simulated device latency before answering a tool call"`
	Devices           string        `env:"MQTT_DEVICES" doc:"device accounts as id:password or, for a swarm hub, id:password:leaf+leaf..., separated by commas (the broker's list, docs/mqtt-acl.md): each virtual device listed connects as itself"`
	LegacyPass        string        `env:"EDGE_LEGACY_MQTT_PASS" doc:"password of the legacy device account soms (the original firmware's) for the virtual devices not in MQTT_DEVICES; empty: every device must be listed"`
	SceneUser         string        `env:"EDGE_SCENE_MQTT_USER" doc:"MQTT user for publishing scenes on soms/sim/scene/+ (default: the main connection, which must then be user sim)"`
	ScenePass         string        `env:"EDGE_SCENE_MQTT_PASS" doc:"password of EDGE_SCENE_MQTT_USER"`
}
