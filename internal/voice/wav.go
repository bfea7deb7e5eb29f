package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// WAVInfo describes a PCM WAV file.
type WAVInfo struct {
	Format        int // 1 = PCM
	Channels      int
	SampleRate    int
	BitsPerSample int
	// DataOffset and DataLen locate the sample bytes in the file.
	DataOffset, DataLen int
}

// Frames is the number of sample frames (one sample per channel).
func (w WAVInfo) Frames() int {
	if w.Channels == 0 || w.BitsPerSample < 8 {
		return 0
	}
	return w.DataLen / (w.Channels * w.BitsPerSample / 8)
}

// Duration is the playing time.
func (w WAVInfo) Duration() time.Duration {
	if w.SampleRate == 0 {
		return 0
	}
	return time.Duration(float64(w.Frames()) / float64(w.SampleRate) * float64(time.Second))
}

// ErrNotWAV is returned for data that is not a RIFF/WAVE file.
var ErrNotWAV = errors.New("not a RIFF/WAVE file")

// ParseWAV reads the RIFF header, fmt and data chunks. A data chunk whose
// declared size runs past the end (streamed output such as espeak-ng's
// --stdout, which cannot know the length) is taken to end with the file.
func ParseWAV(b []byte) (WAVInfo, error) {
	var w WAVInfo
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, ErrNotWAV
	}
	haveFmt := false
	for pos := 12; pos+8 <= len(b); {
		id := string(b[pos : pos+4])
		size := int(binary.LittleEndian.Uint32(b[pos+4 : pos+8]))
		body := pos + 8
		switch id {
		case "fmt ":
			if size < 16 || body+16 > len(b) {
				return w, fmt.Errorf("wav: fmt chunk of %d bytes is too short", size)
			}
			w.Format = int(binary.LittleEndian.Uint16(b[body:]))
			w.Channels = int(binary.LittleEndian.Uint16(b[body+2:]))
			w.SampleRate = int(binary.LittleEndian.Uint32(b[body+4:]))
			w.BitsPerSample = int(binary.LittleEndian.Uint16(b[body+14:]))
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, errors.New("wav: data chunk before fmt chunk")
			}
			if size < 0 || body+size > len(b) {
				size = len(b) - body
			}
			w.DataOffset, w.DataLen = body, size
			if w.Channels == 0 || w.SampleRate == 0 || w.BitsPerSample == 0 {
				return w, fmt.Errorf("wav: bad format: %d channels, %d Hz, %d bits", w.Channels, w.SampleRate, w.BitsPerSample)
			}
			return w, nil
		}
		if size < 0 || body+size > len(b) {
			break
		}
		pos = body + size + size%2
	}
	if !haveFmt {
		return w, errors.New("wav: no fmt chunk")
	}
	return w, errors.New("wav: no data chunk")
}

// PCM16 returns the samples of a 16-bit PCM WAV, interleaved by channel.
func PCM16(b []byte) ([]int16, WAVInfo, error) {
	w, err := ParseWAV(b)
	if err != nil {
		return nil, w, err
	}
	if w.Format != 1 || w.BitsPerSample != 16 {
		return nil, w, fmt.Errorf("wav: want 16-bit PCM, got format %d with %d bits", w.Format, w.BitsPerSample)
	}
	n := w.DataLen / 2
	s := make([]int16, n)
	data := b[w.DataOffset:]
	for i := range n {
		s[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return s, w, nil
}

// EncodeWAV writes interleaved 16-bit samples as a canonical 44-byte-header
// PCM WAV file.
func EncodeWAV(samples []int16, rate, channels int) []byte {
	dataLen := len(samples) * 2
	b := make([]byte, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(b[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// Resample converts mono samples from one rate to another by linear
// interpolation: enough for speech in a simulator, not for music.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 || from <= 0 || to <= 0 {
		return append([]int16(nil), in...)
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	step := float64(from) / float64(to)
	for i := range out {
		x := float64(i) * step
		j := int(x)
		if j >= len(in)-1 {
			out[i] = in[len(in)-1]
			continue
		}
		f := x - float64(j)
		out[i] = int16(float64(in[j])*(1-f) + float64(in[j+1])*f)
	}
	return out
}
