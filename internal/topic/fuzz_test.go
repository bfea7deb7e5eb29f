package topic

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseOffice: ParseOffice never panics, a parsed topic has a zone and a
// kind, and the topics the platform builds parse back to their parts.
func FuzzParseOffice(f *testing.F) {
	for _, s := range []string{"office/main/sensor/env_01/temperature", "office/main/sensor/hub.leaf/co2", "office/main/occupancy",
		"office/tracking/persons", "office//sensor/x/y", "office/main/sensor/a/b/c/d", "mcp/env_01/response/1", "office/a/b/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := ParseOffice(s)
		if !ok {
			return
		}
		if o.Zone == "" || o.Kind == "" || strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) || strings.Contains(o.Zone, "/") || strings.Contains(string(o.Kind), "/") ||
			strings.Contains(o.DeviceID, "/") || strings.Contains(o.Channel, "/") {
			t.Fatalf("%q parsed as %+v", s, o)
		}
		if o.DeviceID != "" && o.Channel != "" {
			back, ok := ParseOffice(Sensor(o.Zone, o.DeviceID, o.Channel))
			if !ok || back.Zone != o.Zone || back.DeviceID != o.DeviceID || back.Channel != o.Channel || back.Kind != KindSensor {
				t.Fatalf("Sensor(%q, %q, %q) parsed back as %+v", o.Zone, o.DeviceID, o.Channel, back)
			}
		}
	})
}

// FuzzMatches: Matches never panics, a topic without wildcards matches itself
// and "#" matches every topic not starting with "$".
func FuzzMatches(f *testing.F) {
	for _, s := range [][2]string{{"office/#", "office/main/occupancy"}, {"mcp/+/response/#", "mcp/a/response/1"},
		{"a/+", "a"}, {"#", "$SYS/x"}, {"+/#", ""}, {"a/#/b", "a/x/b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, filter, name string) {
		_ = Matches(filter, name)
		if !strings.ContainsAny(name, "+#") && !Matches(name, name) {
			t.Fatalf("%q does not match itself", name)
		}
		if !strings.HasPrefix(name, "$") && !Matches("#", name) {
			t.Fatalf("# does not match %q", name)
		}
	})
}

// FuzzParseMCP: ParseMCP never panics and round-trips the topics it builds.
func FuzzParseMCP(f *testing.F) {
	for _, s := range []string{"mcp/env_01/request/call_tool", "mcp/env_01/response/abc", "mcp//response/x", "mcp/a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := ParseMCP(s)
		if !ok {
			return
		}
		if m.Dir == "response" {
			if back, ok := ParseMCP(MCPResponse(m.Agent, m.Rest)); !ok || back != m {
				t.Fatalf("%q: %+v, back %+v", s, m, back)
			}
		}
	})
}
