//go:build cgo

package perception

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// This file is the only place that touches ONNX Runtime (cgo through
// onnxruntime_go).

// ONNX Runtime keeps one environment per process; onnxruntime_go mirrors that
// with package state, so initialisation is guarded here once for the process.
var ortEnv struct {
	sync.Mutex
	lib string
	err error
}

// initRuntime loads the shared library (once per process) and reports the
// same failure to every caller until a different library path is tried.
func initRuntime(lib string) error {
	ortEnv.Lock()
	defer ortEnv.Unlock()
	if ort.IsInitialized() {
		if ortEnv.lib != lib {
			return fmt.Errorf("ONNX Runtime is already loaded from %s; one library per process", ortEnv.lib)
		}
		return nil
	}
	if _, err := os.Stat(lib); err != nil && strings.Contains(lib, "/") {
		return fmt.Errorf("ONNX Runtime library %s: %w (install it with infra/scripts/onnxruntime.sh or set ONNXRUNTIME_LIB)", lib, err)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
	}
	ortEnv.lib = lib
	return nil
}

// Engine runs one YOLO model. Run is not safe for concurrent use; a camera
// pipeline owns one engine (or serialises on it).
type Engine struct {
	session  *ort.AdvancedSession
	input    *ort.Tensor[float32]
	output   *ort.Tensor[float32]
	Size     int     // square input side
	OutShape []int64 // [1, 4+C, N] (detect) or [1, 56, N] (pose)
	Kind     string  // KindDetect or KindPose
	Provider string
}

// NewEngine loads the runtime and the model and allocates its tensors.
func NewEngine(c EngineConfig) (*Engine, error) {
	if err := initRuntime(c.Library); err != nil {
		return nil, err
	}
	data, err := c.modelData()
	if err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.Model, err)
	}
	if len(ins) != 1 || len(outs) < 1 {
		return nil, fmt.Errorf("model %s: want one image input and a detect output, have %d inputs, %d outputs", c.Model, len(ins), len(outs))
	}
	in, out := ins[0], outs[0]
	if len(in.Dimensions) != 4 || in.Dimensions[1] != 3 || in.Dimensions[2] != in.Dimensions[3] || in.Dimensions[2] <= 0 {
		return nil, fmt.Errorf("model %s: input %s has shape %v; want [1,3,S,S] with a fixed S (export with a fixed imgsz, dynamic=False)", c.Model, in.Name, in.Dimensions)
	}
	if len(out.Dimensions) != 3 || out.Dimensions[1] <= 0 || out.Dimensions[2] <= 0 {
		return nil, fmt.Errorf("model %s: output %s has shape %v; want [1, 4+classes, anchors]", c.Model, out.Name, out.Dimensions)
	}
	inShape := ort.NewShape(1, 3, in.Dimensions[2], in.Dimensions[3])
	outShape := ort.NewShape(1, out.Dimensions[1], out.Dimensions[2])
	e := &Engine{Size: int(in.Dimensions[2]), OutShape: []int64(outShape.Clone()), Provider: c.Provider}
	if e.input, err = ort.NewEmptyTensor[float32](inShape); err != nil {
		return nil, err
	}
	if e.output, err = ort.NewEmptyTensor[float32](outShape); err != nil {
		e.Close()
		return nil, err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		e.Close()
		return nil, err
	}
	defer opts.Destroy()
	e.session, err = ort.NewAdvancedSessionWithONNXData(data, []string{in.Name}, []string{out.Name},
		[]ort.Value{e.input}, []ort.Value{e.output}, opts)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("model %s on %s: %w", c.Model, c.Provider, err)
	}
	if e.Kind, err = ResolveKind(c.Kind, metadataTask(e.session), e.OutShape); err != nil {
		e.Close()
		return nil, fmt.Errorf("model %s: %w", c.Model, err)
	}
	return e, nil
}

// metadataTask is the "task" an Ultralytics export records in its metadata
// (detect, pose, …), or "" when the model has none.
func metadataTask(s *ort.AdvancedSession) string {
	md, err := s.GetModelMetadata()
	if err != nil {
		return ""
	}
	defer md.Destroy()
	task, ok, err := md.LookupCustomMetadataMap("task")
	if err != nil || !ok {
		return ""
	}
	return task
}

func sessionOptions(c EngineConfig) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		opts.Destroy()
		return nil, err
	}
	if c.Threads > 0 {
		if err := opts.SetIntraOpNumThreads(c.Threads); err != nil {
			return fail(err)
		}
		if err := opts.SetInterOpNumThreads(1); err != nil {
			return fail(err)
		}
	}
	switch c.Provider {
	case "cpu", "":
	case "cuda":
		cuda, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fail(fmt.Errorf("CUDA execution provider: %w", err))
		}
		defer cuda.Destroy()
		if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
			return fail(fmt.Errorf("CUDA execution provider (needs an ONNX Runtime GPU build with libonnxruntime_providers_cuda.so beside it): %w", err))
		}
	case "rocm":
		if err := opts.AppendExecutionProvider("MIGraphX", nil); err != nil {
			return fail(fmt.Errorf("ROCm (MIGraphX) execution provider (needs an ONNX Runtime ROCm/MIGraphX build): %w", err))
		}
	default:
		return fail(fmt.Errorf("execution provider %q: want cpu, cuda or rocm", c.Provider))
	}
	return opts, nil
}

// Input is the [1,3,S,S] tensor to fill before Run.
func (e *Engine) Input() []float32 { return e.input.GetData() }

// Run runs the model on Input and returns the output tensor's data, valid
// until the next Run.
func (e *Engine) Run() ([]float32, error) {
	if err := e.session.Run(); err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	return e.output.GetData(), nil
}

// Close frees the session and tensors.
func (e *Engine) Close() error {
	var errs []error
	if e.session != nil {
		errs = append(errs, e.session.Destroy())
	}
	if e.input != nil {
		errs = append(errs, e.input.Destroy())
	}
	if e.output != nil {
		errs = append(errs, e.output.Destroy())
	}
	return errors.Join(errs...)
}
