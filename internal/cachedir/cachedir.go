// Package cachedir finds what the setup scripts (infra/scripts) install under
// .soms/cache: the mediamtx binary, the ONNX Runtime library.
package cachedir

import (
	"os"
	"path/filepath"
	"sort"
)

// Find looks for pattern (a glob relative to .soms/cache) in the working
// directory and each parent, then beside the running binary and its parents
// (bin/soms → .soms/cache), newest version directory first. It returns "" when
// nothing matches.
func Find(pattern string) string {
	var starts []string
	if dir, err := os.Getwd(); err == nil {
		starts = append(starts, dir)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			matches, _ := filepath.Glob(filepath.Join(dir, ".soms", "cache", pattern))
			if len(matches) > 0 {
				sort.Sort(sort.Reverse(sort.StringSlice(matches)))
				return matches[0]
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

// What infra/scripts install, as Find patterns.
const (
	Mediamtx    = "mediamtx/*/mediamtx"
	ONNXRuntime = "onnxruntime/*/libonnxruntime.so"
)
