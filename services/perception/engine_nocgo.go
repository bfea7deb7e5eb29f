//go:build !cgo

package perception

import "errors"

// errNoCgo explains a perception built without cgo: the static image serves
// every other service; perception runs from its own image with ONNX Runtime.
var errNoCgo = errors.New("perception needs ONNX Runtime through cgo: this binary was built with CGO_ENABLED=0 (use the soms/perception image or a cgo build)")

// Engine is unavailable without cgo.
type Engine struct {
	Size     int
	OutShape []int64
	Kind     string
	Provider string
}

// NewEngine always fails without cgo.
func NewEngine(EngineConfig) (*Engine, error) { return nil, errNoCgo }

// Input is never called: NewEngine fails.
func (e *Engine) Input() []float32 { return nil }

// Run is never called: NewEngine fails.
func (e *Engine) Run() ([]float32, error) { return nil, errNoCgo }

// Close does nothing.
func (e *Engine) Close() error { return nil }
