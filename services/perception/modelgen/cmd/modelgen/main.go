// Command modelgen writes the synthetic YOLO11-compatible person detector
// (see package modelgen) to a file, for perception runs that want a model
// file rather than PERCEPTION_MODEL=builtin:synthetic:
//
//	go run ./services/perception/modelgen/cmd/modelgen -o .soms/models/synthetic.onnx
//	go run ./services/perception/modelgen/cmd/modelgen -pose -o .soms/models/synthetic-pose.onnx
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/somsgo/soms/services/perception/modelgen"
)

func main() {
	out := flag.String("o", "synthetic-yolo11.onnx", "output file")
	size := flag.Int("size", 640, "input size (multiple of 32)")
	classes := flag.Int("classes", 80, "class scores per anchor (detect model)")
	pose := flag.Bool("pose", false, "write the pose model (YOLO11 pose contract, output [1,56,N]) instead of the detect model")
	flag.Parse()
	gen := modelgen.PersonDetector
	if *pose {
		gen = modelgen.PoseEstimator
	}
	data, err := gen(modelgen.Options{Size: *size, Classes: *classes})
	if err == nil && filepath.Dir(*out) != "." {
		err = os.MkdirAll(filepath.Dir(*out), 0o755)
	}
	if err == nil {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d bytes, input [1,3,%d,%d])\n", *out, len(data), *size, *size)
}
