package ffmpeg

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Line
	}{
		{"[info] Input #0, rtsp, from 'rtsp://cam/x':", Line{slog.LevelInfo, "", "Input #0, rtsp, from 'rtsp://cam/x':"}},
		{"[AVHWDeviceContext @ 0x560ce3c4d940] [error] No VA display found for device /dev/dri/renderD999.",
			Line{slog.LevelError, "AVHWDeviceContext", "No VA display found for device /dev/dri/renderD999."}},
		{"[swscaler @ 0x5623b3b3f280] [swscaler @ 0x5623b3b4c240] [warning] deprecated pixel format used",
			Line{slog.LevelWarn, "swscaler", "deprecated pixel format used"}},
		{"[fatal] Error parsing global options: Invalid argument", Line{slog.LevelError, "", "Error parsing global options: Invalid argument"}},
		{"[rtsp @ 0x1] [verbose] SDP:", Line{slog.LevelDebug, "rtsp", "SDP:"}},
		{"x265 [info]: HEVC encoder version 3.5", Line{slog.LevelInfo, "", "x265 [info]: HEVC encoder version 3.5"}},
	} {
		if got := ParseLine(tt.in); got != tt.want {
			t.Errorf("ParseLine(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestFind(t *testing.T) {
	if _, err := Find(t.TempDir()+"/no-ffmpeg", "X_FFMPEG"); err == nil || !strings.Contains(err.Error(), "X_FFMPEG=") {
		t.Fatalf("Find(missing) = %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := Find("", "X_FFMPEG"); err == nil || !strings.Contains(err.Error(), "Debian package ffmpeg") || !strings.Contains(err.Error(), "X_FFMPEG") {
		t.Fatalf("Find without ffmpeg on PATH = %v, want the package and the variable named", err)
	}
}

func bin(t *testing.T) string {
	t.Helper()
	b, err := Find("", "FFMPEG")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestFailureIsExplainedAndRedacted: FFmpeg's error lines make Wait's error,
// the log gets them at Warn, and Redact runs before either sees a line.
func TestFailureIsExplainedAndRedacted(t *testing.T) {
	var logBuf syncBuf
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	args := append(append([]string{}, LogArgs...), "-i", "/nonexistent/s3cret.mp4", "-f", "null", "-")
	p, err := Start(context.Background(), Spec{Bin: bin(t), Args: args, Log: log,
		Redact: func(s string) string { return strings.ReplaceAll(s, "s3cret", "xxxxx") }})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/xxxxx.mp4: No such file or directory") {
		t.Fatalf("Wait() = %v, want FFmpeg's reason", err)
	}
	out := logBuf.String()
	if strings.Contains(out+err.Error(), "s3cret") {
		t.Errorf("secret not redacted:\n%s", out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "component=ffmpeg") {
		t.Errorf("FFmpeg's error not logged at WARN with component=ffmpeg:\n%s", out)
	}
}

// TestStopsWithContext: cancelling the context ends FFmpeg (SIGTERM to its
// process group) and Wait returns; the process is gone.
func TestStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	args := append(append([]string{}, LogArgs...), "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5", "-f", "rawvideo", "pipe:1")
	p, err := Start(ctx, Spec{Bin: bin(t), Args: args, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	// It runs: frames arrive.
	if _, err := io.ReadFull(p.Stdout, make([]byte, 64*64*3)); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, p.Stdout) }()
	cancel()
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * grace):
		t.Fatal("FFmpeg still running after its context ended")
	}
	if err := syscall.Kill(p.Pid(), 0); err == nil {
		t.Error("process still exists after Wait")
	}
}

// TestRepeatsAreCounted: a message FFmpeg repeats for every frame is logged
// the 1st and 10th time, with the count.
func TestRepeatsAreCounted(t *testing.T) {
	var logBuf syncBuf
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := &Proc{stderrDone: make(chan struct{})}
	var in bytes.Buffer
	for range 12 {
		in.WriteString("[rtsp @ 0x55] [warning] max delay reached. need to consume packet\n")
	}
	in.WriteString("[info] done\n")
	p.readStderr(&in, Spec{}, log)
	out := logBuf.String()
	if n := strings.Count(out, "max delay reached"); n != 2 || !strings.Contains(out, "repeated=10") {
		t.Errorf("logged %d times, want 2 (1st, 10th with repeated=10):\n%s", n, out)
	}
	if !strings.Contains(out, "level=DEBUG msg=done") {
		t.Errorf("info line not at DEBUG:\n%s", out)
	}
}
