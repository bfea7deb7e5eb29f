// Package ffmpeg runs FFmpeg child processes the way SOMS needs them: the
// binary found with a clear error (naming the Debian package), each process in
// its own process group, killed with its context (SIGTERM to the group, then
// SIGKILL) and with the parent, and its stderr read line by line into our slog
// log at the level FFmpeg gave each line, secrets redacted. Perception decodes
// cameras with it; the virtual camera encodes and transcodes with it.
//
// Restarting is the caller's loop (internal/backoff): what counts as a
// healthy run differs (frames received, frames published).
package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Find resolves the ffmpeg binary: explicit (the value of the variable
// envVar) as is, else ffmpeg on PATH. The error names the Debian package.
func Find(explicit, envVar string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envVar, explicit, err)
		}
		return explicit, nil
	}
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("ffmpeg is not on PATH: install the Debian package ffmpeg (apt-get install ffmpeg; `make deps` does) or set %s", envVar)
	}
	return p, nil
}

// LogArgs are the first arguments of every SOMS ffmpeg: no banner, no
// stdin, no progress lines, and each log line prefixed with its level
// ("[error] ...") so that Line can map it to a slog level.
var LogArgs = []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"}

// Line is one line FFmpeg wrote to stderr.
type Line struct {
	Level   slog.Level // panic/fatal/error → Error, warning → Warn, info → Info, the rest → Debug
	Context string     // the component in brackets, e.g. "rtsp" or "Parsed_showinfo_1" ("" for ffmpeg itself)
	Text    string     // the message without the prefixes
}

var linePrefix = regexp.MustCompile(`^((?:\[[^\]]*\] )*?)\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ?`)
var ctxPrefix = regexp.MustCompile(`\[([^\] @]+)(?: @ 0x[0-9a-f]+)?\]`)

// ParseLine splits a stderr line written with -loglevel level+… .
func ParseLine(s string) Line {
	m := linePrefix.FindStringSubmatch(s)
	if m == nil {
		return Line{Level: slog.LevelInfo, Text: s}
	}
	l := Line{Text: s[len(m[0]):]}
	if c := ctxPrefix.FindAllStringSubmatch(m[1], -1); len(c) > 0 {
		l.Context = c[len(c)-1][1]
	}
	switch m[2] {
	case "panic", "fatal", "error":
		l.Level = slog.LevelError
	case "warning":
		l.Level = slog.LevelWarn
	case "info":
		l.Level = slog.LevelInfo
	default:
		l.Level = slog.LevelDebug
	}
	return l
}

func (l Line) String() string {
	if l.Context == "" {
		return l.Text
	}
	return l.Context + ": " + l.Text
}

// Spec says what to run.
type Spec struct {
	Bin  string
	Args []string
	// Log receives FFmpeg's lines (component=ffmpeg): its errors and
	// warnings at Warn, the rest at Debug; a message that keeps repeating is
	// logged the 1st, 10th, 100th… time.
	Log *slog.Logger
	// Redact, when set, rewrites every line before anything sees it (log,
	// OnLine, the exit error): camera URLs carry credentials.
	Redact func(string) string
	// OnLine, when set, sees every line first; returning true keeps it out
	// of the log (per-frame lines the caller parses).
	OnLine func(Line) bool
	// Stdin and Stdout give the caller pipes to the process.
	Stdin, Stdout bool
}

// Proc is a running FFmpeg.
type Proc struct {
	cmd    *exec.Cmd
	Stdin  io.WriteCloser // nil unless Spec.Stdin
	Stdout io.ReadCloser  // nil unless Spec.Stdout

	stderrDone chan struct{}
	mu         sync.Mutex
	errLines   []string // the last error lines, for Wait's error
}

// grace is how long FFmpeg has to exit after SIGTERM before it is killed.
const grace = 5 * time.Second

// Start starts FFmpeg. The process ends when ctx does (SIGTERM to its process
// group, SIGKILL after a grace period) or when this process dies (it gets
// SIGKILL then). Call Wait to reap it.
func Start(ctx context.Context, s Spec) (*Proc, error) {
	cmd := exec.CommandContext(ctx, s.Bin, s.Args...)
	// Its own process group, so that a terminal's Ctrl-C reaches only us and
	// we stop it in order; Pdeathsig so that it never outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
	p := &Proc{cmd: cmd, stderrDone: make(chan struct{})}
	var err error
	if s.Stdin {
		if p.Stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if s.Stdout {
		if p.Stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.Bin, err)
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "ffmpeg", "pid", cmd.Process.Pid)
	go p.readStderr(stderr, s, log)
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

func (p *Proc) readStderr(r io.Reader, s Spec, log *slog.Logger) {
	defer close(p.stderrDone)
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		text := sc.Text()
		if s.Redact != nil {
			text = s.Redact(text)
		}
		l := ParseLine(text)
		if l.Level >= slog.LevelError {
			p.mu.Lock()
			p.errLines = append(p.errLines, l.String())
			if len(p.errLines) > 3 {
				p.errLines = p.errLines[1:]
			}
			p.mu.Unlock()
		}
		if s.OnLine != nil && s.OnLine(l) {
			continue
		}
		level := slog.LevelDebug
		if l.Level >= slog.LevelWarn {
			level = slog.LevelWarn
		}
		// Live streams repeat the same complaint (lost packets, a deprecated
		// pixel format) for every frame: log it with a count, decades apart.
		key := l.String()
		n := seen[key] + 1
		if len(seen) < 1000 || n > 1 {
			seen[key] = n
		}
		switch {
		case n == 1:
			log.Log(context.Background(), level, l.Text, "from", l.Context)
		case isPowerOf10(n):
			log.Log(context.Background(), level, l.Text, "from", l.Context, "repeated", n)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func isPowerOf10(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// Wait waits for FFmpeg to exit and returns why it did: nil for a clean exit,
// else the exit status with FFmpeg's last error lines (redacted).
func (p *Proc) Wait() error {
	<-p.stderrDone // drain stderr before Wait closes the pipe
	err := p.cmd.Wait()
	if err == nil {
		return nil
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = fmt.Errorf("ffmpeg did not exit within %s of SIGTERM and was killed", grace)
	}
	if last := p.ErrorLines(); len(last) > 0 {
		return fmt.Errorf("%w: %s", err, strings.Join(last, "; "))
	}
	return err
}

// ErrorLines are FFmpeg's last error lines (up to 3, oldest first).
func (p *Proc) ErrorLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errLines...)
}
