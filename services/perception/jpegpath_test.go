package perception

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
)

// The image path perception used before FFmpeg decoded the cameras: Go's
// image/jpeg decode, then letterbox and colour conversion straight into the
// model's input. Tests use it to run the model on rendered frames without a
// decoder process, and BenchmarkPipeline measures it side by side with the
// raw-frame path.

// jpegPath runs JPEG frames through a Detector, keeping its scratch planes.
type jpegPath struct {
	d      *Detector
	planes []float32
}

// detectJPEG decodes a JPEG frame in Go and detects in it.
func detectJPEG(d *Detector, j []byte) (Result, error) { return (&jpegPath{d: d}).Detect(j) }

func (jp *jpegPath) Detect(j []byte) (Result, error) {
	t0 := jp.d.wall.Now()
	img, err := jpeg.Decode(bytes.NewReader(j))
	if err != nil {
		return Result{}, fmt.Errorf("decoding frame: %w", err)
	}
	r, err := jp.DetectImage(img)
	r.Timings.Decode = jp.d.wall.Now().Sub(t0) - r.Timings.Preprocess - r.Timings.Inference - r.Timings.Postprocess
	return r, err
}

// DetectImage letterboxes a decoded frame in Go and detects in it.
func (jp *jpegPath) DetectImage(img image.Image) (Result, error) {
	b := img.Bounds()
	lb := NewLetterbox(b.Dx(), b.Dy(), jp.d.engine.Size)
	return jp.d.detect(lb, func(dst []float32) { jp.planes = lb.Fill(img, dst, jp.planes) })
}

const padGrey = 114.0 / 255

// Fill writes the letterboxed frame into dst as planar RGB floats in 0..1
// (the [1,3,size,size] "images" tensor of a YOLO export). planes is scratch
// space reused between frames; the returned slice is the (possibly grown)
// scratch to keep.
func (l Letterbox) Fill(src image.Image, dst []float32, planes []float32) []float32 {
	S := l.Size
	n := S * S
	sw, sh := l.SrcW, l.SrcH
	w := int(math.Round(float64(sw) * l.Scale))
	h := int(math.Round(float64(sh) * l.Scale))
	px, py := int(l.PadX), int(l.PadY)
	fillPad(dst, S, px, py, w, h)
	if w == sw && h == sh { // same size: convert straight into the padded frame
		if yc, ok := src.(*image.YCbCr); ok {
			b := yc.Bounds()
			parallelRows(h, func(y0, y1 int) {
				for y := y0; y < y1; y++ {
					o := (y+py)*S + px
					ycbcrRow(yc, b.Min.X, b.Min.Y+y, dst[o:o+w], dst[n+o:n+o+w], dst[2*n+o:2*n+o+w])
				}
			})
			return planes
		}
		planes = toPlanes(src, planes)
		for c := range 3 {
			plane := planes[c*sw*sh : (c+1)*sw*sh]
			out := dst[c*n : (c+1)*n]
			for y := range h {
				copy(out[(y+py)*S+px:(y+py)*S+px+w], plane[y*sw:(y+1)*sw])
			}
		}
		return planes
	}
	planes = toPlanes(src, planes)
	// bilinear resize, sampling at pixel centres like cv2.INTER_LINEAR
	x0s, x1s, fxs := make([]int, w), make([]int, w), make([]float32, w)
	for x := range w {
		x0s[x], x1s[x], fxs[x] = srcSample(x, sw, l.Scale)
	}
	parallelRows(h, func(ya, yb int) {
		for y := ya; y < yb; y++ {
			l.resizeRow(y, sw, sh, S, n, px, py, w, x0s, x1s, fxs, planes, dst)
		}
	})
	return planes
}

func (l Letterbox) resizeRow(y, sw, sh, S, n, px, py, w int, x0s, x1s []int, fxs []float32, planes, dst []float32) {
	{
		y0, y1, fy := srcSample(y, sh, l.Scale)
		for c := range 3 {
			plane := planes[c*sw*sh : (c+1)*sw*sh]
			r0, r1 := plane[y0*sw:(y0+1)*sw], plane[y1*sw:(y1+1)*sw]
			out := dst[c*n+(y+py)*S+px : c*n+(y+py)*S+px+w]
			for x := range w {
				a, b, f := x0s[x], x1s[x], fxs[x]
				top := r0[a] + (r0[b]-r0[a])*f
				bot := r1[a] + (r1[b]-r1[a])*f
				out[x] = top + (bot-top)*fy
			}
		}
	}
}

// fillPad paints the grey border around the w×h picture at (px,py).
func fillPad(dst []float32, S, px, py, w, h int) {
	n := S * S
	for c := range 3 {
		out := dst[c*n : (c+1)*n]
		for y := range S {
			row := out[y*S : (y+1)*S]
			if y < py || y >= py+h {
				for i := range row {
					row[i] = padGrey
				}
				continue
			}
			for i := 0; i < px; i++ {
				row[i] = padGrey
			}
			for i := px + w; i < S; i++ {
				row[i] = padGrey
			}
		}
	}
}

// Colour conversion tables (JFIF, as image/color): one add per channel and
// pixel instead of three multiplies.
var yTab, crR, cbG, crG, cbB [256]float32

func init() {
	for i := range 256 {
		f := float32(i) - 128
		yTab[i] = float32(i)
		crR[i] = 1.402 * f
		cbG[i] = -0.344136 * f
		crG[i] = -0.714136 * f
		cbB[i] = 1.772 * f
	}
}

// ycbcrRow converts one row of a YCbCr picture to RGB floats in 0..1.
func ycbcrRow(yc *image.YCbCr, x0, y int, R, G, B []float32) {
	const k = 1.0 / 255
	yi := yc.YOffset(x0, y)
	ys := yc.Y[yi : yi+len(R)]
	hshift := 0 // chroma samples cover 2 columns in 4:2:0 and 4:2:2
	switch yc.SubsampleRatio {
	case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422:
		hshift = 1
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440:
	default:
		for x := range R {
			ci := yc.COffset(x0+x, y)
			R[x], G[x], B[x] = ycbcrToRGB(ys[x], yc.Cb[ci], yc.Cr[ci])
		}
		return
	}
	c0 := yc.COffset(x0, y)
	cb, cr := yc.Cb[c0:], yc.Cr[c0:]
	for x, yv := range ys {
		ci := x >> hshift
		Y := yTab[yv]
		R[x] = clamp01((Y + crR[cr[ci]]) * k)
		G[x] = clamp01((Y + cbG[cb[ci]] + crG[cr[ci]]) * k)
		B[x] = clamp01((Y + cbB[cb[ci]]) * k)
	}
}

func srcSample(d, srcLen int, scale float64) (int, int, float32) {
	s := (float64(d)+0.5)/scale - 0.5
	if s < 0 {
		s = 0
	}
	i := int(s)
	if i >= srcLen-1 {
		return srcLen - 1, srcLen - 1, 0
	}
	return i, i + 1, float32(s - float64(i))
}

// toPlanes converts a frame to planar RGB floats in 0..1. JPEG frames decode
// to YCbCr; converting them here directly avoids image/color's per-pixel
// interface calls.
func toPlanes(src image.Image, planes []float32) []float32 {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	need := 3 * w * h
	if cap(planes) < need {
		planes = make([]float32, need)
	}
	planes = planes[:need]
	R, G, B := planes[:w*h], planes[w*h:2*w*h], planes[2*w*h:]
	const k = 1.0 / 255
	switch img := src.(type) {
	case *image.YCbCr:
		for y := range h {
			yi := img.YOffset(b.Min.X, b.Min.Y+y)
			for x := range w {
				ci := img.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := ycbcrToRGB(img.Y[yi+x], img.Cb[ci], img.Cr[ci])
				R[y*w+x], G[y*w+x], B[y*w+x] = r, g, bb
			}
		}
	case *image.RGBA:
		for y := range h {
			row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				R[y*w+x], G[y*w+x], B[y*w+x] = float32(row[4*x])*k, float32(row[4*x+1])*k, float32(row[4*x+2])*k
			}
		}
	default:
		for y := range h {
			for x := range w {
				r, g, bb, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
				R[y*w+x], G[y*w+x], B[y*w+x] = float32(r>>8)*k, float32(g>>8)*k, float32(bb>>8)*k
			}
		}
	}
	return planes
}

// ycbcrToRGB is JFIF's conversion, as image/color does it, scaled to 0..1.
func ycbcrToRGB(y, cb, cr uint8) (float32, float32, float32) {
	yy := float32(y)
	fcb, fcr := float32(cb)-128, float32(cr)-128
	r := yy + 1.402*fcr
	g := yy - 0.344136*fcb - 0.714136*fcr
	b := yy + 1.772*fcb
	return clamp01(r / 255), clamp01(g / 255), clamp01(b / 255)
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}
