package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDispatchErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"teleport"}, 2, "unknown command"},
		{[]string{"env"}, 2, "usage"},
		{[]string{"env", "nope"}, 2, "unknown command"},
		{[]string{"help"}, 0, "commands ("},
		{[]string{"env", "brain"}, 0, "LLM_API_URL"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.out) {
			t.Errorf("soms %v: code %d, output %q", tc.args, code, out.String()+errOut.String())
		}
	}
}

func TestBadConfigExitsWithReason(t *testing.T) {
	t.Setenv("MQTT_PORT", "not-a-port")
	var out, errOut bytes.Buffer
	if code := run([]string{"wallet"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `MQTT_PORT="not-a-port"`) {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
}
