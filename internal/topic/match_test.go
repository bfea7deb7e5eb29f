package topic

import "testing"

func TestMatches(t *testing.T) {
	tests := []struct {
		filter, name string
		want         bool
	}{
		{"office/#", "office/main/sensor/env_01/co2", true},
		{"office/#", "office", true},
		{"office/#", "officex/main", false},
		{"#", "office/main", true},
		{"#", "$SYS/broker/uptime", false},
		{"+/main", "$SYS/main", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"mcp/+/response/#", "mcp/light_01/response/42", true},
		{"mcp/+/response/#", "mcp/light_01/request/call_tool", false},
		{"mcp/+/response/#", "mcp/light_01/response", true},
		{"office/+/occupancy", "office/main/occupancy", true},
		{"office/+/occupancy", "office/main/occupancy/x", false},
		{"office/+/occupancy", "office/occupancy", false},
		{"office/+", "office/", true}, // "+" matches an empty level
		{"soms/sim/clock", "soms/sim/clock", true},
		{"soms/sim/clock", "soms/sim/clock/", false},
		{"soms/sim/clock", "soms/sim", false},
		{"a/#/b", "a/x/b", false}, // "#" not last: invalid, matches nothing
		{"+", "a", true},
		{"+", "a/b", false},
	}
	for _, tc := range tests {
		if got := Matches(tc.filter, tc.name); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.filter, tc.name, got, tc.want)
		}
	}
}

func TestMatchesAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Matches("mcp/+/response/#", "mcp/light_01/response/42") }); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}
