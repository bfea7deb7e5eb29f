// Package childproc runs child processes the way the native stack needs them:
// output prefixed with the process name and kept in a ring for failure
// reports, a process group of their own, death with the parent, and a
// graceful stop that kills after a grace period.
package childproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one supervised child process whose output is prefixed with its name,
// copied to the harness output and kept in a ring for failure reports.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	logs *ring

	done     chan struct{}
	exitErr  error
	stopping bool
	mu       sync.Mutex
}

// Lines serialises prefixed lines from many processes onto one writer.
type Lines struct {
	mu  sync.Mutex
	out io.Writer
}

// NewLines returns a Lines writing to out.
func NewLines(out io.Writer) *Lines { return &Lines{out: out} }

// Line writes one prefixed line.
func (w *Lines) Line(prefix, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "%-9s| %s\n", prefix, s)
}

// Spec says what to run.
type Spec struct {
	Name string
	Path string
	Args []string
	Env  []string
	Dir  string
	Cred *syscall.Credential // run as this user (PostgreSQL refuses root)
}

// Start starts spec; out (nil: none) receives its prefixed output lines.
func Start(spec Spec, out *Lines) (*Proc, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	// Children die with the harness even if it is killed without cleanup, and
	// live in their own process group so a terminal's Ctrl-C reaches only the
	// harness, which then stops them in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true, Credential: spec.Cred}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &Proc{Name: spec.Name, cmd: cmd, logs: newRing(300), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.Name, spec.Path, err)
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
					out.Line(spec.Name, line)
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

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.exitErr
	default:
		return false, nil
	}
}

// Unexpected reports an exit the harness did not ask for.
func (p *Proc) Unexpected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.stopping
}

// Stop sends sig, waits up to grace, then kills.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if done, _ := p.Exited(); done {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v and was killed", p.Name, grace)
	}
}

// WaitExit waits for the process to end (for one-shot commands).
func (p *Proc) WaitExit(ctx context.Context) error {
	select {
	case <-p.done:
		_, err := p.Exited()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", p.Name, err, strings.Join(p.logs.last(20), "\n"))
		}
		return nil
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		return errors.Join(ctx.Err(), fmt.Errorf("%s interrupted", p.Name))
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

// Logs returns the process's last n output lines, oldest first.
func (p *Proc) Logs(n int) []string { return p.logs.last(n) }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitTCP waits until port on loopback accepts connections, failing fast if p
// exits.
func WaitTCP(ctx context.Context, p *Proc, port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited during start-up (%v):\n%s", p.Name, err, strings.Join(p.Logs(20), "\n"))
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not open port %d within 30s", p.Name, port)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports whether loopback port p can be listened on.
func PortFree(p int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// BaseEnv is the minimal environment children inherit, so a developer's own
// DATABASE_URL or MQTT_* settings never leak into a private stack.
func BaseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
