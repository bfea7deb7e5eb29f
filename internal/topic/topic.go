// Package topic is the one MQTT topic map of SOMS. Every topic the platform
// publishes or parses is built or recognised here, so the wire contract with the
// original SOMS edge devices lives in a single place.
//
// Office topics have the shape office/{zone}/{kind}/{device_id}/{channel}; MCP
// topics are mcp/{agent}/request/call_tool and mcp/{agent}/response/{id}.
package topic

import (
	"strings"
	"unicode/utf8"
)

// Subscription filters.
const (
	// OfficeAll is everything the office publishes.
	OfficeAll = "office/#"
	// MCPResponses matches every device's JSON-RPC responses.
	MCPResponses = "mcp/+/response/#"
	// MCPRequests matches every device's JSON-RPC requests (edge side).
	MCPRequests = "mcp/+/request/#"
	// SimClock is the retained simulated-clock anchor published by the harness.
	SimClock = "soms/sim/clock"
	// SimProgressAll matches every process's acknowledgements of clock steps
	// (SimProgress).
	SimProgressAll = "soms/sim/progress/+"
)

// SimProgress is where process reports how far in simulated time it has
// handled the stepped clock.
func SimProgress(process string) string { return "soms/sim/progress/" + process }

// Kind is the third segment of an office topic: what published it.
type Kind string

// Office topic kinds (the topics are listed in docs/brain.md, "Perception:
// ingest and world model").
const (
	KindSensor        Kind = "sensor"
	KindActivity      Kind = "activity"
	KindOccupancy     Kind = "occupancy"
	KindCamera        Kind = "camera"
	KindSpatial       Kind = "spatial"
	KindTracking      Kind = "tracking"
	KindSafety        Kind = "safety"
	KindAnomaly       Kind = "anomaly"
	KindVLM           Kind = "vlm"
	KindWifiPose      Kind = "wifi-pose"
	KindWifiPoseRaw   Kind = "wifi-pose-raw"
	KindWifiCSI       Kind = "wifi-csi"
	KindTaskReport    Kind = "task_report"
	KindHVAC          Kind = "hvac"
	KindLight         Kind = "light"
	KindCoffeeMachine Kind = "coffee_machine"
	KindWhiteboard    Kind = "whiteboard"
	KindTasks         Kind = "tasks"
)

// zoneKinds are the kinds whose second segment really is a zone. Anything else
// under office/ (office/tracking/persons, office/perception/discovery,
// office/shopping/...) is a system topic and must not create a zone.
var zoneKinds = map[Kind]bool{
	KindSensor: true, KindActivity: true, KindOccupancy: true, KindCamera: true,
	KindSpatial: true, KindTracking: true, KindSafety: true, KindAnomaly: true,
	KindVLM: true, KindWifiPose: true, KindWifiPoseRaw: true, KindWifiCSI: true,
	KindTaskReport: true, KindHVAC: true, KindLight: true, KindCoffeeMachine: true,
	KindWhiteboard: true, KindTasks: true,
}

// Office is a parsed office/... topic.
type Office struct {
	Zone     string
	Kind     Kind
	DeviceID string // fourth segment; may contain a dot (hub.leaf)
	Channel  string // fifth segment
	// ZoneScoped is false for system topics that only look like zone topics.
	ZoneScoped bool
}

// ParseOffice splits an office topic. It returns false for anything that is not
// office/{x}/{y}[/...], has empty segments among the first five, or is no MQTT
// topic name (NUL or invalid UTF-8, which MQTT forbids and PostgreSQL refuses
// in the ids stored from it). It allocates nothing: every received message
// goes through it.
func ParseOffice(t string) (Office, bool) {
	rest, ok := strings.CutPrefix(t, "office/")
	if !ok || strings.IndexByte(t, 0) >= 0 || !utf8.ValidString(t) {
		return Office{}, false
	}
	var seg [4]string // zone, kind, device, channel
	n := 0
	for n < len(seg) {
		s, r, more := strings.Cut(rest, "/")
		if s == "" {
			return Office{}, false
		}
		seg[n], n, rest = s, n+1, r
		if !more {
			break
		}
	}
	if n < 2 {
		return Office{}, false
	}
	o := Office{Zone: seg[0], Kind: Kind(seg[1]), DeviceID: seg[2], Channel: seg[3]}
	o.ZoneScoped = zoneKinds[o.Kind]
	return o, true
}

// IsHeartbeat reports whether an office topic carries a device heartbeat.
func (o Office) IsHeartbeat() bool { return o.Kind == KindSensor && o.Channel == "heartbeat" }

// Sensor is office/{zone}/sensor/{device}/{channel}.
func Sensor(zone, device, channel string) string {
	return "office/" + zone + "/sensor/" + device + "/" + channel
}

// Heartbeat is office/{zone}/sensor/{device}/heartbeat.
func Heartbeat(zone, device string) string { return Sensor(zone, device, "heartbeat") }

// Occupancy is office/{zone}/occupancy.
func Occupancy(zone string) string { return "office/" + zone + "/occupancy" }

// Activity is office/{zone}/activity.
func Activity(zone string) string { return "office/" + zone + "/activity" }

// Spatial is office/{zone}/spatial/{camera}.
func Spatial(zone, camera string) string { return "office/" + zone + "/spatial/" + camera }

// Fall is office/{zone}/safety/fall.
func Fall(zone string) string { return "office/" + zone + "/safety/fall" }

// TaskReport is office/{zone}/task_report/{id}.
func TaskReport(zone, id string) string { return "office/" + zone + "/task_report/" + id }

// MCPRequest is the topic a device listens on for tool calls.
func MCPRequest(agent string) string { return "mcp/" + agent + "/request/call_tool" }

// MCPResponse is the topic a device answers request id on.
func MCPResponse(agent, id string) string { return "mcp/" + agent + "/response/" + id }

// MCP is a parsed mcp/... topic.
type MCP struct {
	Agent string
	Dir   string // "request" or "response"
	Rest  string // "call_tool" for requests, the request id for responses
}

// ParseMCP splits mcp/{agent}/{request|response}/{rest}.
func ParseMCP(t string) (MCP, bool) {
	parts := strings.SplitN(t, "/", 4)
	if len(parts) != 4 || parts[0] != "mcp" || parts[1] == "" || parts[3] == "" {
		return MCP{}, false
	}
	if parts[2] != "request" && parts[2] != "response" {
		return MCP{}, false
	}
	return MCP{Agent: parts[1], Dir: parts[2], Rest: parts[3]}, true
}
