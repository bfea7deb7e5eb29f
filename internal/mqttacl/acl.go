// Package mqttacl is the one source of the broker's identities and
// access-control list. The native harness writes it for its private
// Mosquitto; infra/mosquitto/aclfile (mounted by every compose variant) is
// generated from it by `make docs`, and the compose entrypoint appends the
// same per-hub sections this package renders (a test holds the two equal).
//
// Every client has its own account: each service its own, each device its
// own (its MQTT user name is its device id), and the original firmware's
// fixed credential a "legacy device" account confined to device topics.
// docs/mqtt-acl.md has the matrix this file encodes.
package mqttacl

import (
	"fmt"
	"strings"

	"github.com/somsgo/soms/internal/topic"
)

// Accounts that are not devices. No device may take one of these names.
const (
	UserBrain      = "brain"      // the brain: the only sender of device commands
	UserBackend    = "backend"    // the dashboard backend
	UserPerception = "perception" // camera analysis results
	UserFollower   = "follower"   // services that only follow the simulated clock
	UserSim        = "sim"        // simulation harness and simulator control
	UserMonitor    = "monitor"    // read-only operators' tools
	UserBridge     = "bridge"     // a Raspberry Pi edge node's broker bridge
	UserLegacy     = "soms"       // the original firmware's fixed credential
)

// LegacyPassword is the password the original SOMS firmware is flashed with,
// for the legacy device account (UserLegacy). `soms sim` gives that account
// this password unless SOMS_SIM_MQTT_PASS says otherwise, so that a real
// ESP32 running the original firmware joins the simulated office
// (docs/simulator.md, "Hardware in the loop").
const LegacyPassword = "soms_dev_mqtt"

// Access is what a rule allows on its topic filter.
type Access string

const (
	Read      Access = "read"
	Write     Access = "write"
	ReadWrite Access = "readwrite"
	// Deny refuses a topic some other rule (a pattern) would grant; Mosquitto
	// applies an account's denials before any grant.
	Deny Access = "deny"
)

// Rule allows Access on a topic filter.
type Rule struct {
	Access Access
	Topic  string
}

// Account is one fixed broker account and what it may do.
type Account struct {
	Name string
	// PassVar is the compose .env variable with its password
	// (infra/docker/mosquitto-entrypoint.sh creates the account when set).
	PassVar string
	Doc     string // why the account exists, written above its rules
	// Device is true for the legacy device account: it connects as devices do.
	Device bool
	Rules  []Rule
}

// deviceTopic is a topic a device uses, with "{id}" for its device id (the
// whole topic level).
type deviceTopic struct {
	access Access
	topic  string
}

// deviceTopics are what a device may do under its own id: telemetry and
// heartbeats (office/{zone}/sensor/{id}/...), a camera node's status, an
// actuator's state, and MCP — reading the tool calls addressed to it and
// answering them. The zone is free: where a device sits is configuration.
var deviceTopics = []deviceTopic{
	{Write, "office/+/sensor/{id}/#"},
	{Write, "office/+/camera/{id}/#"},
	{Write, "office/+/" + string(topic.KindHVAC) + "/{id}"},
	{Write, "office/+/" + string(topic.KindLight) + "/{id}"},
	{Write, "office/+/" + string(topic.KindCoffeeMachine) + "/{id}"},
	{Read, "mcp/{id}/request/#"},
	{Write, "mcp/{id}/response/#"},
}

// leafTopics are what a swarm hub may do for each of its leaves, under the
// leaf's id (hub.leaf): forward its readings, take and answer its tool calls.
var leafTopics = []deviceTopic{
	{Write, "office/+/sensor/{id}/#"},
	{Read, "mcp/{id}/request/#"},
	{Write, "mcp/{id}/response/#"},
}

func (d deviceTopic) with(id string) string { return strings.ReplaceAll(d.topic, "{id}", id) }

// DevicePatterns are the Mosquitto pattern rules (%u: the account's user
// name) that confine every device account to its own topics.
func DevicePatterns() []Rule {
	out := make([]Rule, len(deviceTopics))
	for i, d := range deviceTopics {
		out[i] = Rule{d.access, d.with("%u")}
	}
	return out
}

// ownDeviceTopics denies an account the device topics of its own name:
// Mosquitto applies pattern rules to every account, and a service is no
// device. (Every deviceTopics entry lies under these two; a test checks.)
func ownDeviceTopics(name string) []Rule {
	return []Rule{{Deny, "office/+/+/" + name + "/#"}, {Deny, "mcp/" + name + "/#"}}
}

func originalRoots(a Access) []Rule {
	var out []Rule
	for _, root := range topic.OriginalRoots {
		out = append(out, Rule{a, root + "/#"})
	}
	return out
}

func join(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Accounts are the fixed accounts, in file order.
func Accounts() []Account {
	clock := Rule{Read, topic.SimClock}
	// A process following the simulated clock acknowledges each step on
	// soms/sim/progress/{process} (sim/stepper): a service with its own
	// account under its own name only.
	ack := func(process string) Rule { return Rule{Write, topic.SimProgress(process)} }
	legacy := []Rule{{Read, "mcp/+/request/#"}, {Write, "mcp/+/response/#"}}
	for _, d := range deviceTopics {
		if d.access == Write && strings.HasPrefix(d.topic, "office/") {
			legacy = append(legacy, Rule{Write, d.with("+")})
		}
	}
	return []Account{
		{
			Name: UserBrain, PassVar: "MQTT_BRAIN_PASS",
			Doc: `brain: reads the office and the devices' MCP replies, and is the only account
that sends MCP tool calls (the sanitizer's limits apply to every command a
device gets).`,
			Rules: join([]Rule{{Read, topic.OfficeAll}, {Read, topic.MCPResponses}, {Write, "mcp/+/request/#"}}, originalRoots(Read), []Rule{clock, ack(UserBrain)}),
		},
		{
			Name: UserBackend, PassVar: "MQTT_BACKEND_PASS",
			Doc: `backend: reads the office; writes task reports and shopping-list events.`,
			Rules: join([]Rule{{Read, topic.OfficeAll}, {Write, topic.TaskReport("+", "+")}, {Write, "office/shopping/+"}},
				originalRoots(Read), []Rule{clock, ack(UserBackend)}),
		},
		{
			Name: UserPerception, PassVar: "MQTT_PERCEPTION_PASS",
			Doc: `perception: writes what the cameras see (occupancy, activity, positions, falls).`,
			Rules: []Rule{
				{Write, topic.Occupancy("+")}, {Write, topic.Activity("+")}, {Write, topic.Spatial("+", "+")},
				{Write, "office/+/" + string(topic.KindSafety) + "/+"}, clock, ack(UserPerception),
			},
		},
		{
			Name: UserFollower, PassVar: "MQTT_FOLLOWER_PASS",
			Doc: `follower: services that only follow the simulation (wallet, voice, the mock
LLM, the voice engine, the virtual camera, the virtual edge's own connection):
read the simulated clock and scenes, and acknowledge the clock's steps
(soms/sim/progress/{process}, any process: they share the account).`,
			Rules: []Rule{{Read, "soms/sim/#"}, {Write, topic.SimProgressAll}},
		},
		{
			Name: UserSim, PassVar: "MQTT_SIM_PASS",
			Doc: `sim: the simulation harness, scenario runner and the virtual edge's scene
publisher. The only account that writes the simulated clock and scenes; may
inject office messages (scenario steps). Never sends device commands.
Production creates no sim account: only the virtual office does.`,
			Rules: join([]Rule{{ReadWrite, "soms/sim/#"}, {Write, topic.OfficeAll}}, originalRoots(Write)),
		},
		{
			Name: UserMonitor, PassVar: "MQTT_MONITOR_PASS",
			Doc:   `monitor: read-only operators' tools (dashboards, debugging, the healthcheck); the only account that reads everything.`,
			Rules: []Rule{{Read, "#"}, {Read, "$SYS/#"}},
		},
		{
			Name: UserBridge, PassVar: "MQTT_EDGE_BRIDGE_PASS",
			Doc: `bridge: an edge node's broker (docker-compose.edge.yml) forwarding its
office messages (its devices' and its perception's) and its devices' MCP
replies, and taking the tool calls for them. It speaks for every device
behind it; the node's own broker confines each of those. Created only when
MQTT_EDGE_BRIDGE_PASS is set.`,
			Rules: join([]Rule{{Write, topic.OfficeAll}, {Read, "mcp/+/request/#"}, {Write, "mcp/+/response/#"}}, originalRoots(Write)),
		},
		{
			Name: UserLegacy, PassVar: "MQTT_PASS",
			Doc: `soms: the legacy device class, the original firmware's fixed credential
shared by every device flashed with it. Confined to device topics (any
device id: the ACL cannot tell those devices apart): telemetry, heartbeats,
actuator and camera status, the original demo roots, MCP requests read and
replies written. It cannot send commands, read telemetry, write perception,
task reports or the simulated clock. Unset MQTT_PASS to refuse it.`,
			Device: true,
			Rules:  join(legacy, originalRoots(Write)),
		},
	}
}

// Reserved reports whether name belongs to a fixed account (no device may
// take it).
func Reserved(name string) bool {
	for _, a := range Accounts() {
		if a.Name == name {
			return true
		}
	}
	return false
}

// File renders the ACL in Mosquitto's acl_file format: the device patterns,
// the fixed accounts, then a section per swarm hub in devices that forwards
// leaves. infra/mosquitto/aclfile is File(nil).
func File(devices []Device) string {
	var b strings.Builder
	b.WriteString(`# SOMS broker access control, generated from internal/mqttacl by ` + "`make docs`" + `;
# edit the Go source, not this file (docs/mqtt-acl.md explains it). Anonymous
# clients are refused (allow_anonymous false); every client authenticates with
# an account from the password file: a service's, a device's (user name =
# device id) or the legacy device account.

# Every device account: its own topics only (%u is its user name, its device
# id). Mosquitto applies patterns to every account; the fixed accounts below
# deny themselves the topics of their own name.
`)
	for _, r := range DevicePatterns() {
		fmt.Fprintf(&b, "pattern %s %s\n", r.Access, r.Topic)
	}
	for _, a := range Accounts() {
		b.WriteString("\n")
		for _, line := range strings.Split(a.Doc, "\n") {
			fmt.Fprintf(&b, "# %s\n", line)
		}
		fmt.Fprintf(&b, "user %s\n", a.Name)
		for _, r := range append(ownDeviceTopics(a.Name), a.Rules...) {
			fmt.Fprintf(&b, "topic %s %s\n", r.Access, r.Topic)
		}
	}
	b.WriteString("\n# Swarm hubs listed in MQTT_DEVICES with leaves get a section each, appended\n# here by the broker's start-up (infra/docker/mosquitto-entrypoint.sh).\n")
	for _, d := range devices {
		b.WriteString(HubSection(d))
	}
	return b.String()
}

// HubSection is the ACL section of a swarm hub: its leaves' topics (none for
// a device without leaves).
func HubSection(d Device) string {
	if len(d.Leaves) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n# swarm hub %s: its leaves' readings and tool calls\nuser %s\n", d.ID, d.ID)
	for _, leaf := range d.Leaves {
		for _, t := range leafTopics {
			fmt.Fprintf(&b, "topic %s %s\n", t.access, t.with(d.ID+"."+leaf))
		}
	}
	return b.String()
}
