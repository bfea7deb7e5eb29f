package mqttacl

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/somsgo/soms/internal/topic"
)

var update = flag.Bool("update", false, "rewrite infra/mosquitto/aclfile and docs/mqtt-acl.md")

// The compose deployments mount infra/mosquitto/aclfile; it must be what the
// native harness enforces, and docs/mqtt-acl.md must describe it.
func TestGeneratedFileIsCurrent(t *testing.T) {
	for path, want := range map[string]string{"../../infra/mosquitto/aclfile": File(nil), "../../" + DocPath: Markdown()} {
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is out of date: run `make docs`", path)
		}
	}
}

func TestFileGrantsEachAccountItsRules(t *testing.T) {
	f := File(nil)
	for _, want := range []string{
		"pattern write office/+/sensor/%u/#\n", "pattern read mcp/%u/request/#\n", "pattern write mcp/%u/response/#\n",
		"user brain\ntopic deny office/+/+/brain/#\ntopic deny mcp/brain/#\n",
		"topic read office/#\ntopic read mcp/+/response/#\ntopic write mcp/+/request/#\n",
		"user sim\n", "topic readwrite soms/sim/#\ntopic write office/#\ntopic write hydro/#\ntopic write aqua/#\n",
		"user monitor\n", "topic read #\ntopic read $SYS/#\n",
		"user soms\n", "topic read mcp/+/request/#\ntopic write mcp/+/response/#\ntopic write office/+/sensor/+/#\n",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("ACL lacks %q", want)
		}
	}
	// Only the brain writes requests; only monitor reads everything; only
	// sim writes the simulation's topics, but for the clock's
	// acknowledgements (soms/sim/progress/...) of the processes following it.
	for _, a := range Accounts() {
		for _, r := range a.Rules {
			switch {
			case strings.HasPrefix(r.Topic, "mcp/+/request") && r.Access != Read && r.Access != Deny && a.Name != UserBrain:
				t.Errorf("%s may send MCP requests (%s %s)", a.Name, r.Access, r.Topic)
			case r.Topic == "#" && a.Name != UserMonitor:
				t.Errorf("%s has %s on #", a.Name, r.Access)
			case strings.HasPrefix(r.Topic, "soms/sim") && (r.Access == Write || r.Access == ReadWrite) && a.Name != UserSim &&
				!(r.Access == Write && strings.HasPrefix(r.Topic, "soms/sim/progress/")):
				t.Errorf("%s may write %s", a.Name, r.Topic)
			}
		}
	}
}

// A fixed account's denials cover every device topic of its name.
func TestAccountsAreNoDevices(t *testing.T) {
	for _, a := range Accounts() {
		for _, d := range deviceTopics {
			covered := false
			for _, r := range ownDeviceTopics(a.Name) {
				covered = covered || topic.Matches(r.Topic, strings.ReplaceAll(d.with(a.Name), "+", "zone"))
			}
			if !covered {
				t.Errorf("%s is not denied %s", a.Name, d.with(a.Name))
			}
		}
	}
}

func TestHubSections(t *testing.T) {
	ds := []Device{{ID: "env_01", Password: "0123456789ab"}, {ID: "hub_01", Password: "0123456789ab", Leaves: []string{"leaf_a", "leaf_b"}}}
	f := File(ds)
	if !strings.HasPrefix(f, File(nil)) {
		t.Fatal("File(devices) does not extend the generated file")
	}
	want := "\n# swarm hub hub_01: its leaves' readings and tool calls\nuser hub_01\n" +
		"topic write office/+/sensor/hub_01.leaf_a/#\ntopic read mcp/hub_01.leaf_a/request/#\ntopic write mcp/hub_01.leaf_a/response/#\n" +
		"topic write office/+/sensor/hub_01.leaf_b/#\ntopic read mcp/hub_01.leaf_b/request/#\ntopic write mcp/hub_01.leaf_b/response/#\n"
	if got := strings.TrimPrefix(f, File(nil)); got != want {
		t.Fatalf("hub sections:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseDevices(t *testing.T) {
	ds, err := ParseDevices(" env_01:pass-env-01-xyz,\nswarm_hub_01:pass-hub-01-xyz:leaf_env_01+leaf_pir_01  hvac_01:pass-hvac-1-xyz")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || ds[1].ID != "swarm_hub_01" || len(ds[1].Leaves) != 2 || ds[2].Password != "pass-hvac-1-xyz" {
		t.Fatalf("%+v", ds)
	}
	back, err := ParseDevices(FormatDevices(ds))
	if err != nil || FormatDevices(back) != FormatDevices(ds) {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if ds, err := ParseDevices(""); err != nil || len(ds) != 0 {
		t.Fatalf("empty list: %v %v", ds, err)
	}
	for _, bad := range []string{
		"env_01",                                // no password
		"env_01:short",                          // too short
		"brain:0123456789abcdef",                // a service's name
		"env/01:0123456789abcdef",               // not a topic level
		"env.01:0123456789abcdef",               // dots are hub.leaf
		"env_+:0123456789abcdef",                // wildcard
		"a:0123456789abcdef,a:0123456789abcdef", // twice
		"hub:0123456789abcdef:leaf+le#f",        // bad leaf
		"hub:0123456789abcdef:leaf+leaf",        // leaf twice
		"a:b:c:d",
	} {
		if _, err := ParseDevices(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%q: the error shows the password: %v", bad, err)
		}
	}
}
