package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one supervised child process whose output is prefixed with its name,
// copied to the harness output and kept in a ring for failure reports.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *ring

	done     chan struct{}
	exitErr  error
	stopping bool
	mu       sync.Mutex
}

// lineWriter serialises prefixed lines from many processes onto one writer.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (w *lineWriter) line(prefix, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "%-9s| %s\n", prefix, s)
}

type procSpec struct {
	name string
	path string
	args []string
	env  []string
	dir  string
	cred *syscall.Credential // run as this user (PostgreSQL refuses root)
}

func startProc(spec procSpec, out *lineWriter) (*proc, error) {
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = spec.env
	cmd.Dir = spec.dir
	// Children die with the harness even if it is killed without cleanup, and
	// live in their own process group so a terminal's Ctrl-C reaches only the
	// harness, which then stops them in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true, Credential: spec.cred}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: spec.name, cmd: cmd, logs: newRing(300), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.name, spec.path, err)
	}
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				line := sc.Text()
				p.logs.add(line)
				if out != nil {
					out.line(spec.name, line)
				}
			}
		}()
	}
	go func() {
		wg.Wait() // drain output before Wait closes the pipes
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.exitErr
	default:
		return false, nil
	}
}

// unexpected reports an exit the harness did not ask for.
func (p *proc) unexpected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.stopping
}

// stop sends sig, waits up to grace, then kills.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if done, _ := p.exited(); done {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v and was killed", p.name, grace)
	}
}

// waitExit waits for the process to end (for one-shot commands).
func (p *proc) waitExit(ctx context.Context) error {
	select {
	case <-p.done:
		_, err := p.exited()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", p.name, err, strings.Join(p.logs.last(20), "\n"))
		}
		return nil
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		return errors.Join(ctx.Err(), fmt.Errorf("%s interrupted", p.name))
	}
}

// ring keeps the last n lines.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRing(n int) *ring { return &ring{lines: make([]string, n)} }

func (r *ring) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
}

// last returns up to n most recent lines, oldest first.
func (r *ring) last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	if r.full {
		all = append(all, r.lines[r.next:]...)
	}
	all = append(all, r.lines[:r.next]...)
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}
