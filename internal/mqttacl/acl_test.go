package mqttacl

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite infra/mosquitto/aclfile")

// The compose deployments mount infra/mosquitto/aclfile; it must be what the
// native harness enforces.
func TestGeneratedFileIsCurrent(t *testing.T) {
	const path = "../../infra/mosquitto/aclfile"
	if *update {
		if err := os.WriteFile(path, []byte(File()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != File() {
		t.Fatal("infra/mosquitto/aclfile is out of date: run `make docs`")
	}
}

func TestFileGrantsEachUserItsRules(t *testing.T) {
	f := File()
	for _, want := range []string{"user soms\ntopic readwrite office/#\n", "topic readwrite hydro/#\ntopic readwrite aqua/#\n", "user sim\ntopic readwrite #\n", "user monitor\ntopic read #\n"} {
		if !strings.Contains(f, want) {
			t.Errorf("ACL lacks %q", want)
		}
	}
}
