package mqttacl

import (
	"fmt"
	"strings"
)

// DocPath is where Markdown is written by `make docs`, relative to the
// repository root.
const DocPath = "docs/mqtt-acl.md"

// Markdown renders docs/mqtt-acl.md: who may publish and subscribe what, from
// the same accounts and patterns File renders, with what the ACL cannot
// prevent and the checks behind it.
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# MQTT: identities and access control

Generated from ` + "`internal/mqttacl`" + ` by ` + "`make docs`" + `; edit the Go source. The same
ACL runs in the native simulator (` + "`soms sim`" + `, ` + "`internal/localinfra`" + ` writes it for its
private Mosquitto) and in every compose variant (` + "`infra/mosquitto/aclfile`" + `, generated
from the same source, plus the swarm-hub sections ` + "`infra/docker/mosquitto-entrypoint.sh`" + `
appends exactly as ` + "`mqttacl.HubSection`" + ` renders them; a test runs the script and
holds its output to the Go rendering). Anonymous clients are refused.

Every client has its own account: each service its own, each device its own
(its MQTT user name is its device id, listed in ` + "`MQTT_DEVICES`" + ` as ` + "`id:password`" + ` or,
for a SensorSwarm hub, ` + "`id:password:leaf+leaf`" + `), and the original firmware's fixed
credential is the legacy device class ` + "`soms`" + `. Mosquitto refuses what an account may not
do silently: a forbidden publish is acknowledged and dropped, a forbidden
subscription delivers nothing.

## Fixed accounts

| account | password (compose ` + "`.env`" + `) | publishes | subscribes | why |
|---|---|---|---|---|
`)
	for _, a := range Accounts() {
		var pub, sub []string
		for _, r := range a.Rules {
			t := "`" + r.Topic + "`"
			switch r.Access {
			case Write:
				pub = append(pub, t)
			case Read:
				sub = append(sub, t)
			case ReadWrite:
				pub, sub = append(pub, t), append(sub, t)
			}
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", a.Name, a.PassVar, list(pub), list(sub), oneLine(a.Doc))
	}
	b.WriteString(`
Each fixed account is also denied the device topics of its own name
(` + "`office/+/+/{name}/#`" + `, ` + "`mcp/{name}/#`" + `): the device patterns below apply to every
account, and a service is no device. No device may take a fixed account's name.

## Device accounts

Every device account ({id} is its user name, its device id; the zone is free):

| access | topic |
|---|---|
`)
	for _, d := range deviceTopics {
		fmt.Fprintf(&b, "| %s | `%s` |\n", d.access, d.topic)
	}
	b.WriteString(`
A swarm hub listed with leaves also gets, for each leaf, under {hub}.{leaf}:

| access | topic |
|---|---|
`)
	for _, d := range leafTopics {
		fmt.Fprintf(&b, "| %s | `%s` |\n", d.access, strings.ReplaceAll(d.topic, "{id}", "{hub}.{leaf}"))
	}
	b.WriteString(`
So a device publishes only its own telemetry, state and MCP replies, and reads
only the tool calls addressed to it: it cannot command another device (only
` + "`brain`" + ` writes ` + "`mcp/+/request/#`" + `), answer for another device, write perception
results, task reports or the simulated clock, and a ` + "`#`" + ` subscription brings it
nothing but its own requests. Only ` + "`monitor`" + ` reads everything; only ` + "`sim`" + ` writes
the simulated clock and scenes, and production creates neither ` + "`sim`" + ` nor
` + "`follower`" + ` (only the virtual office overlay, ` + "`docker-compose.edge-mock.yml`" + `, does).

## The legacy device class (` + "`soms`" + `)

Devices still flashed with the original firmware share one fixed credential
(` + "`soms`" + ` / ` + "`soms_dev_mqtt`" + ` in the original; ` + "`MQTT_PASS`" + ` in compose, empty refuses it).
The ACL confines it to device topics, so it **cannot**: send tool calls, read
telemetry or anything but tool calls, write occupancy, safety, task reports,
shopping events or the simulated clock, or subscribe to ` + "`#`" + ` for more than tool calls.
It **cannot prevent**, because the broker cannot tell such devices apart: one
legacy device publishing readings or heartbeats under another device's id,
reading the tool calls addressed to any device, or answering one. What holds
then: the brain accepts a reply only on the reply topic of the device it asked
(a reply from another device's topic is refused and counted as the drop
reason ` + "`mcp_wrong_device`" + `), but a legacy device can write any device's reply
topic; every device checks a call against its tool schema before acting (a
value outside the hardware's range is an error reply); the brain's sanitizer
bounds what it sends. Give each device its own account in ` + "`MQTT_DEVICES`" + ` and
leave ` + "`MQTT_PASS`" + ` empty once none is left.

An edge node's ` + "`bridge`" + ` speaks for every device behind it in the same way; the
node's own broker confines each of those devices with this same ACL.

## MQTT over TLS

The compose broker listens on 8883 with TLS (` + "`MQTT_TLS_BIND_ADDR`" + `) when its TLS
directory holds ` + "`server.crt`" + ` and ` + "`server.key`" + `: the operator's (` + "`MQTT_TLS_DIR`" + `), or
those the one-shot ` + "`mqtt-tls`" + ` service (` + "`soms tls-cert`" + `) makes at first start, signed
by a private CA whose ` + "`ca.crt`" + ` clients trust (names: ` + "`mosquitto`" + `, ` + "`localhost`" + `,
` + "`127.0.0.1`" + ` and ` + "`MQTT_TLS_HOSTS`" + `). Clients set ` + "`MQTT_TLS=true`" + `, ` + "`MQTT_PORT=8883`" + ` and
` + "`MQTT_TLS_CA`" + `; the broker's certificate is always verified. The same accounts and
ACL apply on both listeners. The plain listener 1883 stays: for the services on
the internal network ` + "`soms-net`" + `, the original firmware (no TLS), and the native
simulator, which listens on 127.0.0.1 unless ` + "`SOMS_SIM_MQTT_LISTEN=0.0.0.0`" + `
admits real devices (hardware in the loop). Bind 1883 to 127.0.0.1
(` + "`MQTT_BIND_ADDR`" + `) once no LAN device needs it. An edge node's bridge uses TLS
when the hub's ` + "`ca.crt`" + ` is in the node's TLS directory as ` + "`hub-ca.crt`" + `.

## Media server and simulator control

The virtual camera's mediamtx accepts a publish only from the camera process
(user ` + "`camera`" + `, ` + "`CAMERA_PUBLISH_PASS`" + `, random per start by default); reading is
open, or needs ` + "`CAMERA_READ_USER`" + `/` + "`CAMERA_READ_PASS`" + `. It listens on ` + "`CAMERA_LISTEN`" + `
(127.0.0.1; 0.0.0.0 inside a container, where the compose file decides what is
published). The simulator's control APIs (virtual edge, camera, voice engine,
mock LLM) have no authentication: they listen on 127.0.0.1 under ` + "`soms sim`" + ` and
are published on ` + "`SIM_BIND_ADDR`" + ` (127.0.0.1) in compose.

## Tests

` + "`internal/localinfra`" + ` (` + "`TestACLMatrix`" + `, ` + "`TestComposeEntrypointMatrix`" + `) runs the
matrix of allowed and forbidden publishes and subscriptions against a real
Mosquitto, once with the native harness's files and once with the compose
entrypoint's. ` + "`services/brain`" + ` (` + "`TestForgedReplyIsRefusedAndCounted`" + `) forges a
reply over the real broker; ` + "`sim/edge`" + ` refuses calls outside the schema;
` + "`sim/camera`" + ` (` + "`TestOnlyTheCameraPublishes`" + `) publishes to the real mediamtx
anonymously and with a wrong password; ` + "`internal/bus`" + ` (` + "`TestTLS`" + `) connects over TLS
and is refused with another CA or name; ` + "`infra/compose`" + ` (` + "`TestMQTTAccounts`" + `) holds
every compose variant to these accounts.
`)
	return b.String()
}

func list(ts []string) string {
	if len(ts) == 0 {
		return "—"
	}
	return strings.Join(ts, ", ")
}

// oneLine is a Doc as one table cell, without its leading "name:".
func oneLine(doc string) string {
	s := strings.Join(strings.Fields(doc), " ")
	if _, rest, ok := strings.Cut(s, ": "); ok {
		s = rest
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
