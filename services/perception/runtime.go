package perception

import (
	"github.com/somsgo/soms/internal/cachedir"
)

// BuiltinSynthetic names the generated test model instead of a file.
const BuiltinSynthetic = "builtin:synthetic"

// BuiltinSyntheticPose names the generated pose model (YOLO11 pose contract,
// [1,56,N]) instead of a file.
const BuiltinSyntheticPose = "builtin:synthetic-pose"

// FindRuntimeLibrary resolves ONNXRUNTIME_LIB: an explicit path is used as is;
// empty looks for the library onnxruntime.sh installs under .soms/cache in the
// working directory or its parents, then falls back to the dynamic loader's
// search path (libonnxruntime.so).
func FindRuntimeLibrary(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if p := cachedir.Find(cachedir.ONNXRuntime); p != "" {
		return p
	}
	return "libonnxruntime.so"
}

// EngineConfig says which model to run where.
type EngineConfig struct {
	Library  string // ONNX Runtime shared library
	Model    string // .onnx path or BuiltinSynthetic
	Provider string // cpu, cuda or rocm
	Threads  int    // intra-op threads; 0 lets ONNX Runtime choose
	Kind     string // auto (default), detect or pose: how to read the output
}
