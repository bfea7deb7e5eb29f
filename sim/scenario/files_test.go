package scenario

import (
	"path/filepath"
	"testing"
)

// Every scenario shipped in scenarios/ must parse and validate.
func TestShippedScenariosValidate(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("scenario files: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}
