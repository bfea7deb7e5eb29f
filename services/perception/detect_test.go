package perception

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

func TestLetterboxGeometry(t *testing.T) {
	tests := []struct {
		name              string
		w, h, size        int
		scale, padX, padY float64
	}{
		{"VGA into 640", 640, 480, 640, 1, 0, 80},
		{"portrait", 480, 640, 640, 1, 80, 0},
		{"HD shrinks", 1280, 720, 640, 0.5, 0, 140},
		{"small grows", 320, 240, 640, 2, 0, 80},
		{"square", 500, 500, 320, 0.64, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLetterbox(tt.w, tt.h, tt.size)
			if math.Abs(l.Scale-tt.scale) > 1e-9 || l.PadX != tt.padX || l.PadY != tt.padY {
				t.Fatalf("got scale %g pad (%g,%g), want %g (%g,%g)", l.Scale, l.PadX, l.PadY, tt.scale, tt.padX, tt.padY)
			}
			// the frame's corners map to the padded frame's corners and back
			x, y := l.ToSource(l.PadX, l.PadY)
			if x != 0 || y != 0 {
				t.Errorf("top-left maps to (%g,%g)", x, y)
			}
			x, y = l.ToSource(float64(tt.size)-l.PadX, float64(tt.size)-l.PadY)
			if math.Abs(x-float64(tt.w)) > 1 || math.Abs(y-float64(tt.h)) > 1 {
				t.Errorf("bottom-right maps to (%g,%g), want (%d,%d)", x, y, tt.w, tt.h)
			}
		})
	}
}

func TestLetterboxFill(t *testing.T) {
	tests := []struct {
		name string
		w, h int
	}{{"same size", 8, 4}, {"resized", 16, 8}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, tt.w, tt.h))
			for y := range tt.h {
				for x := range tt.w {
					img.Set(x, y, color.RGBA{255, 0, 51, 255})
				}
			}
			const S = 8
			l := NewLetterbox(tt.w, tt.h, S)
			dst := make([]float32, 3*S*S)
			l.Fill(img, dst, nil)
			n := S * S
			// rows 0,1 and 6,7 are padding; rows 2..5 the picture
			for y := range S {
				for x := range S {
					r, g, b := dst[y*S+x], dst[n+y*S+x], dst[2*n+y*S+x]
					if y < 2 || y >= 6 {
						if r != padGrey || g != padGrey || b != padGrey {
							t.Fatalf("pad (%d,%d) = %g,%g,%g", x, y, r, g, b)
						}
						continue
					}
					if math.Abs(float64(r)-1) > 1e-3 || g != 0 || math.Abs(float64(b)-0.2) > 1e-3 {
						t.Fatalf("picture (%d,%d) = %g,%g,%g, want 1,0,0.2", x, y, r, g, b)
					}
				}
			}
		})
	}
}

func TestLetterboxFromYCbCr(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 4, 4), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = 128
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	l := NewLetterbox(4, 4, 4)
	dst := make([]float32, 48)
	l.Fill(img, dst, nil)
	for i, v := range dst {
		if math.Abs(float64(v)-128.0/255) > 1e-3 {
			t.Fatalf("dst[%d] = %g, want mid grey", i, v)
		}
	}
}

// yoloOut lays anchors out as [1, 4+C, N].
func yoloOut(classes int, anchors [][]float32) ([]float32, []int64) {
	n := len(anchors)
	ch := 4 + classes
	out := make([]float32, ch*n)
	for i, a := range anchors {
		for c := range ch {
			out[c*n+i] = a[c]
		}
	}
	return out, []int64{1, int64(ch), int64(n)}
}

func TestDecodeYOLO(t *testing.T) {
	out, shape := yoloOut(3, [][]float32{
		{100, 100, 20, 40, 0.9, 0.1, 0.0}, // person
		{200, 50, 10, 10, 0.2, 0.7, 0.1},  // class 1
		{300, 300, 50, 50, 0.3, 0.1, 0.2}, // below threshold
		{10, 10, 4, 4, 0.1, 0.2, 0.6},     // class 2
	})
	tests := []struct {
		name    string
		keep    func(int) bool
		conf    float64
		classes []int
	}{
		{"all classes", nil, 0.5, []int{0, 1, 2}},
		{"persons only", func(c int) bool { return c == ClassPerson }, 0.5, []int{0}},
		{"higher threshold", nil, 0.8, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dets, err := DecodeYOLO(out, shape, tt.conf, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != len(tt.classes) {
				t.Fatalf("got %d detections %+v, want classes %v", len(dets), dets, tt.classes)
			}
			for i, d := range dets {
				if d.Class != tt.classes[i] {
					t.Errorf("det %d class %d, want %d", i, d.Class, tt.classes[i])
				}
			}
			if d := dets[0]; d.Box != (Box{90, 80, 110, 120}) || math.Abs(d.Confidence-0.9) > 1e-6 {
				t.Errorf("person = %+v", d)
			}
		})
	}
}

func TestDecodeYOLOErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		out   []float32
		shape []int64
		want  string
	}{
		{"rank", make([]float32, 10), []int64{10}, "want [1, 4+classes"},
		{"batch", make([]float32, 20), []int64{2, 5, 2}, "want [1, 4+classes"},
		{"too few channels", make([]float32, 40), []int64{1, 4, 10}, "fewer than 4 box values"},
		{"size mismatch", make([]float32, 9), []int64{1, 5, 2}, "needs 10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeYOLO(tt.out, tt.shape, 0.5, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestIoU(t *testing.T) {
	tests := []struct {
		a, b Box
		want float64
	}{
		{Box{0, 0, 10, 10}, Box{0, 0, 10, 10}, 1},
		{Box{0, 0, 10, 10}, Box{5, 0, 15, 10}, 50.0 / 150},
		{Box{0, 0, 10, 10}, Box{10, 0, 20, 10}, 0},
		{Box{0, 0, 10, 10}, Box{2, 2, 4, 4}, 4.0 / 100},
		{Box{0, 0, 0, 0}, Box{0, 0, 0, 0}, 0},
	}
	for _, tt := range tests {
		if got := IoU(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("IoU(%v,%v) = %g, want %g", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNMS(t *testing.T) {
	d := func(c int, conf float64, b Box) Detection { return Detection{Class: c, Confidence: conf, Box: b} }
	tests := []struct {
		name string
		in   []Detection
		iou  float64
		want []float64 // confidences kept, in order
	}{
		{"duplicates collapse to the best", []Detection{
			d(0, 0.6, Box{0, 0, 10, 20}), d(0, 0.9, Box{1, 0, 11, 20}), d(0, 0.7, Box{0, 1, 10, 21})}, 0.45, []float64{0.9}},
		{"separate people stay", []Detection{
			d(0, 0.8, Box{0, 0, 10, 20}), d(0, 0.9, Box{50, 0, 60, 20})}, 0.45, []float64{0.9, 0.8}},
		{"other class is not suppressed", []Detection{
			d(0, 0.8, Box{0, 0, 10, 20}), d(56, 0.7, Box{0, 0, 10, 20})}, 0.45, []float64{0.8, 0.7}},
		{"overlap below the threshold stays", []Detection{
			d(0, 0.9, Box{0, 0, 10, 10}), d(0, 0.8, Box{6, 0, 16, 10})}, 0.45, []float64{0.9, 0.8}},
		{"empty", nil, 0.45, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NMS(tt.in, tt.iou)
			if len(got) != len(tt.want) {
				t.Fatalf("kept %+v, want confidences %v", got, tt.want)
			}
			for i := range got {
				if got[i].Confidence != tt.want[i] {
					t.Errorf("kept[%d] = %g, want %g", i, got[i].Confidence, tt.want[i])
				}
			}
		})
	}
}
