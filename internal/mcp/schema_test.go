package mcp

import (
	"strings"
	"testing"
)

func TestToolValidate(t *testing.T) {
	lo, hi := Range(16, 30)
	setTemp := Tool{Name: "set_temperature", Params: []Param{{Name: "temperature", Type: Number, Required: true, Min: lo, Max: hi}}}
	cmdLo, cmdHi := Range(0, 255)
	leaf := Tool{Name: "leaf_command", Params: []Param{
		{Name: "leaf_id", Type: IntegerOrString, Required: true, Min: cmdLo, Max: cmdHi},
		{Name: "command", Type: String, Required: true, Enum: []string{"set_state", "read_now"}},
		{Name: "args", Type: Object},
	}}
	relay := Tool{Name: "set_state", Params: []Param{{Name: "state", Type: OnOff, Required: true}}}
	tests := []struct {
		tool Tool
		args map[string]any
		want string // "" = valid, else a fragment of the error
	}{
		{setTemp, map[string]any{"temperature": 24.0}, ""},
		{setTemp, map[string]any{"temperature": 16.0}, ""},
		{setTemp, map[string]any{"temperature": -40.0}, "-40 is out of range 16..30"},
		{setTemp, map[string]any{"temperature": 31.0}, "out of range"},
		{setTemp, map[string]any{"temperature": "24"}, "must be a number"},
		{setTemp, map[string]any{"temperature": true}, "must be a number"},
		{setTemp, map[string]any{}, "missing argument temperature"},
		{setTemp, nil, "missing argument temperature"},
		{setTemp, map[string]any{"temperature": 24.0, "force": true}, "unknown argument force"},
		{leaf, map[string]any{"leaf_id": 1.0, "command": "read_now"}, ""},
		{leaf, map[string]any{"leaf_id": "leaf_env_01", "command": "set_state", "args": map[string]any{"state": "on"}}, ""},
		{leaf, map[string]any{"leaf_id": 1.5, "command": "read_now"}, "must be an integer"},
		{leaf, map[string]any{"leaf_id": "", "command": "read_now"}, "must not be empty"},
		{leaf, map[string]any{"leaf_id": 1.0, "command": "format_flash"}, `"format_flash" is not one of`},
		{leaf, map[string]any{"leaf_id": 1.0, "command": "read_now", "args": "x"}, "must be an object"},
		{relay, map[string]any{"state": "on"}, ""},
		{relay, map[string]any{"state": true}, ""},
		{relay, map[string]any{"state": 0.0}, ""},
		{relay, map[string]any{"state": 2.0}, "must be on or off"},
		{relay, map[string]any{"state": "dim"}, "must be on or off"},
	}
	for _, tc := range tests {
		err := tc.tool.Validate(tc.args)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: %v", tc.tool.Name, tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %v: err %v, want %q", tc.tool.Name, tc.args, err, tc.want)
		}
	}
	if err := (Toolset{setTemp}).Check("open", nil); err == nil || !strings.Contains(err.Error(), `unknown tool "open"`) {
		t.Errorf("unknown tool: %v", err)
	}
}
