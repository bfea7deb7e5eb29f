//go:build !prod

package main

import (
	"bytes"
	"os"
	"testing"
)

// docs/config.md documents the full build (every command).
func TestConfigDocIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := writeConfigDoc(&b); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatal("docs/config.md is stale: run `make docs`")
	}
}
