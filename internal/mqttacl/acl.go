// Package mqttacl is the one source of the broker's access-control list. The
// native harness writes it for its private Mosquitto and infra/mosquitto/aclfile
// (mounted by every compose variant) is generated from it by `make docs`; a
// test keeps the two equal.
package mqttacl

import (
	"fmt"
	"strings"

	"github.com/somsgo/soms/internal/topic"
)

// Users of the ACL.
const (
	UserService = "soms"    // services and edge devices
	UserSim     = "sim"     // harness and simulator control
	UserMonitor = "monitor" // read-only observers
)

// LegacyPassword is the password the original SOMS firmware is flashed with,
// for user soms (UserService): the "legacy device" credential. `soms sim`
// gives the soms account this password unless SOMS_SIM_MQTT_PASS says
// otherwise, so that a real ESP32 running the original firmware joins the
// simulated office (docs/simulator.md, "Hardware in the loop"). Until devices
// get identities of their own, the services share that account.
const LegacyPassword = "soms_dev_mqtt"

// Access is what a rule allows on its topic filter.
type Access string

const (
	Read      Access = "read"
	Write     Access = "write"
	ReadWrite Access = "readwrite"
)

// Rule allows Access on a topic filter.
type Rule struct {
	Access Access
	Topic  string
}

// User is one broker account and what it may do.
type User struct {
	Name  string
	Doc   string // why the account exists, written above its rules
	Rules []Rule
}

// Users is the ACL, in file order.
func Users() []User {
	return []User{
		{
			Name: UserService,
			Doc: `soms: production services and edge devices (the original SOMS credentials,
used by ESP32 firmware). Office telemetry and MCP tool calls both ways, and
the topic roots the original's demo devices publish under (hydro/, aqua/:
the services count and log them); may read, never write, the simulated clock,
and acknowledge its steps (soms/sim/progress/{process}).`,
			Rules: serviceRules(),
		},
		{
			Name: UserSim,
			Doc: `sim: the simulation harness, scenario runner and simulator parts that inject
conditions. May publish anything, including the simulated clock.`,
			Rules: []Rule{{ReadWrite, "#"}},
		},
		{
			Name:  UserMonitor,
			Doc:   `monitor: read-only observers (dashboards, debugging).`,
			Rules: []Rule{{Read, "#"}, {Read, "$SYS/#"}},
		},
	}
}

func serviceRules() []Rule {
	rules := []Rule{{ReadWrite, "office/#"}, {ReadWrite, "mcp/#"}}
	for _, root := range topic.OriginalRoots {
		rules = append(rules, Rule{ReadWrite, root + "/#"})
	}
	return append(rules, Rule{Write, "soms/sim/progress/#"}, Rule{Read, "soms/sim/#"})
}

// File renders the ACL in Mosquitto's acl_file format.
func File() string {
	var b strings.Builder
	b.WriteString("# SOMS broker access control, generated from internal/mqttacl by `make docs`;\n" +
		"# edit the Go source, not this file. Anonymous clients are refused\n" +
		"# (allow_anonymous false); every client authenticates with a user from the\n" +
		"# password file.\n")
	for _, u := range Users() {
		b.WriteString("\n")
		for _, line := range strings.Split(u.Doc, "\n") {
			fmt.Fprintf(&b, "# %s\n", line)
		}
		fmt.Fprintf(&b, "user %s\n", u.Name)
		for _, r := range u.Rules {
			fmt.Fprintf(&b, "topic %s %s\n", r.Access, r.Topic)
		}
	}
	return b.String()
}
