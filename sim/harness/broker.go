package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	mosqconf "github.com/somsgo/soms/infra/mosquitto"
	"github.com/somsgo/soms/internal/bus"
)

// Broker is a private Mosquitto with password authentication and the project's
// ACL, listening on loopback.
type Broker struct {
	Port int
	pass map[string]string
	proc *proc
}

// StartBroker writes a broker configuration under dir and starts Mosquitto on
// port (0 picks a free one). out receives its log lines (nil: kept only for
// failure reports).
func StartBroker(ctx context.Context, dir string, port int, out *lineWriter) (*Broker, error) {
	var err error
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	return startBroker(ctx, dir, port, map[string]string{
		mosqconf.UserService: secret(), mosqconf.UserSim: secret(), mosqconf.UserMonitor: secret(),
	}, out)
}

// StartBrokerWith starts a broker with prev's port and passwords, as a
// restarted server would come back (for reconnection tests).
func StartBrokerWith(ctx context.Context, dir string, prev *Broker, out *lineWriter) (*Broker, error) {
	return startBroker(ctx, dir, prev.Port, prev.pass, out)
}

func startBroker(ctx context.Context, dir string, port int, pass map[string]string, out *lineWriter) (*Broker, error) {
	progs, err := findPrograms()
	if err != nil {
		return nil, err
	}
	b := &Broker{Port: port, pass: pass}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	passwd := filepath.Join(dir, "passwd")
	_ = os.Remove(passwd)
	for i, u := range []string{mosqconf.UserService, mosqconf.UserSim, mosqconf.UserMonitor} {
		args := []string{"-b", passwd, u, b.pass[u]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		p, err := startProc(procSpec{name: "mosquitto_passwd", path: progs.mosquittoPasswd, args: args, env: baseEnv()}, nil)
		if err != nil {
			return nil, err
		}
		if err := p.waitExit(ctx); err != nil {
			return nil, fmt.Errorf("creating the broker password file: %w", err)
		}
	}
	acl := filepath.Join(dir, "aclfile")
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf(`# written by the SOMS harness
listener %d 127.0.0.1
allow_anonymous false
password_file %s
acl_file %s
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
`, port, passwd, acl)
	if err := os.WriteFile(acl, []byte(mosqconf.ACL), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	// As root the broker drops to its own user, which must read these files.
	_ = os.Chmod(dir, 0o755)
	for _, f := range []string{passwd, acl, conf} {
		_ = os.Chmod(f, 0o644)
	}
	p, err := startProc(procSpec{name: "mosquitto", path: progs.mosquitto, args: []string{"-c", conf}, env: baseEnv(), dir: dir}, out)
	if err != nil {
		return nil, err
	}
	b.proc = p
	if err := waitTCP(ctx, p, port); err != nil {
		_ = b.Stop()
		return nil, err
	}
	return b, nil
}

// Config is a client configuration for one of the ACL's users.
func (b *Broker) Config(user string) bus.Config {
	return bus.Config{Broker: "127.0.0.1", Port: b.Port, User: user, Pass: b.pass[user]}
}

// Password returns a user's password.
func (b *Broker) Password(user string) string { return b.pass[user] }

// Logs returns the broker's last n log lines.
func (b *Broker) Logs(n int) []string { return b.proc.logs.last(n) }

// Stop terminates the broker.
func (b *Broker) Stop() error {
	if b == nil || b.proc == nil {
		return nil
	}
	return b.proc.stop(syscall.SIGTERM, 5*time.Second)
}

// waitTCP waits until port accepts connections, failing fast if p exits.
func waitTCP(ctx context.Context, p *proc, port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited during start-up (%v):\n%s", p.name, err, strings.Join(p.logs.last(20), "\n"))
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not open port %d within 30s", p.name, port)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func portFree(p int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// baseEnv is the minimal environment children inherit, so a developer's own
// DATABASE_URL or MQTT_* settings never leak into the simulated stack.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func secret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
