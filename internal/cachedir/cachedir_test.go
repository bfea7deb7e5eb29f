package cachedir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindNewestFromAParent(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"1.13.0", "1.14.0"} {
		p := filepath.Join(root, ".soms", "cache", "tool", v)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "tool"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	if got, want := Find("tool/*/tool"), filepath.Join(root, ".soms", "cache", "tool", "1.14.0", "tool"); got != want {
		t.Fatalf("Find = %q, want %q", got, want)
	}
	if got := Find("nothing/*"); got != "" {
		t.Fatalf("Find = %q for a missing tool", got)
	}
}
