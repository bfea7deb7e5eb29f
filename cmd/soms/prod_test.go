//go:build prod

package main

import (
	"bytes"
	"strings"
	"testing"
)

// The production build (images) holds the services and tools, not the
// simulator: asking for a simulator part says which build this is.
func TestProductionBuildHasNoSimulator(t *testing.T) {
	for _, name := range []string{"sim", "edge", "mockllm", "camera", "voicevox-sim", "scenario", "modelgen"} {
		var out, errOut bytes.Buffer
		if code := run([]string{name}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "production (-tags prod)") {
			t.Errorf("soms %s in the production build: code %d, stderr %q", name, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "perception") || strings.Contains(out.String(), "mockllm") {
		t.Fatalf("help: %d %q", code, out.String())
	}
}
