package perception

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/somsgo/soms/internal/cachedir"
)

// BuiltinSynthetic names the simulator's generated test model instead of a
// file (sim/modelgen.BuiltinDetect).
const BuiltinSynthetic = "builtin:synthetic"

// BuiltinSyntheticPose names the simulator's generated pose model (YOLO11
// pose contract, [1,56,N]) instead of a file.
const BuiltinSyntheticPose = "builtin:synthetic-pose"

// builtinPrefix marks a model name that is not a file.
const builtinPrefix = "builtin:"

// BuiltinModels returns the serialised model a builtin: name stands for. The
// simulator build passes sim/modelgen.Builtin; production has none, so a
// builtin: name is a configuration error there.
type BuiltinModels func(name string) ([]byte, error)

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
	Model    string // .onnx path, or a builtin: name that Builtin resolves
	Builtin  BuiltinModels
	Provider string // cpu, cuda or rocm
	Threads  int    // intra-op threads; 0 lets ONNX Runtime choose
	Kind     string // auto (default), detect or pose: how to read the output
}

// errNoBuiltins is the answer to a builtin: model outside the simulator.
var errNoBuiltins = errors.New("built-in test models exist only in the simulator build (soms sim, the sim image); in production set PERCEPTION_MODEL to an exported YOLO11 .onnx file")

// modelData reads the model file or generates the builtin model.
func (c EngineConfig) modelData() ([]byte, error) {
	if strings.HasPrefix(c.Model, builtinPrefix) {
		if c.Builtin == nil {
			return nil, fmt.Errorf("model %s: %w", c.Model, errNoBuiltins)
		}
		data, err := c.Builtin(c.Model)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", c.Model, err)
		}
		return data, nil
	}
	data, err := os.ReadFile(c.Model)
	if err != nil {
		return nil, fmt.Errorf("model: %w (export one with `yolo export model=yolo11s.pt format=onnx` and set PERCEPTION_MODEL)", err)
	}
	return data, nil
}
