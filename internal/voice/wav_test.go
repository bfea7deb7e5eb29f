package voice

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestWAVRoundTrip(t *testing.T) {
	samples := make([]int16, 24000) // 1 s of mono at 24 kHz
	for i := range samples {
		samples[i] = int16(i % 1000)
	}
	b := EncodeWAV(samples, 24000, 1)
	got, info, err := PCM16(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.SampleRate != 24000 || info.Channels != 1 || info.BitsPerSample != 16 || info.Format != 1 {
		t.Fatalf("info = %+v", info)
	}
	if info.Duration() != time.Second {
		t.Fatalf("duration = %v, want 1s", info.Duration())
	}
	if len(got) != len(samples) || got[999] != 999 {
		t.Fatalf("samples differ: len %d", len(got))
	}
}

func TestParseWAVStreamedSize(t *testing.T) {
	// espeak-ng --stdout declares a huge data size it cannot know.
	b := EncodeWAV(make([]int16, 2205), 22050, 1)
	binary.LittleEndian.PutUint32(b[40:], 0x7ffff000)
	info, err := ParseWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.DataLen != 4410 || info.Duration() != 100*time.Millisecond {
		t.Fatalf("info = %+v, duration %v", info, info.Duration())
	}
}

func TestParseWAVRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":   nil,
		"text":    []byte("hello, this is not audio at all"),
		"no data": EncodeWAV(nil, 24000, 1)[:36],
		"no fmt":  append([]byte("RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00"), 0),
	} {
		if _, err := ParseWAV(b); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestResample(t *testing.T) {
	in := make([]int16, 22050)
	for i := range in {
		in[i] = int16(i % 100)
	}
	out := Resample(in, 22050, 24000)
	if len(out) != 24000 {
		t.Fatalf("len = %d, want 24000", len(out))
	}
	if out[0] != 0 {
		t.Fatalf("first sample %d", out[0])
	}
}
