// Package localinfra starts the infrastructure of a native SOMS stack as child
// processes: a private Mosquitto with the project's ACL and a private
// PostgreSQL cluster. The native harness (soms sim) and integration tests
// (internal/testenv) use it.
package localinfra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/childproc"
	"github.com/somsgo/soms/internal/mqttacl"
)

// Broker is a private Mosquitto with password authentication and the project's
// ACL, listening on loopback.
type Broker struct {
	Port   int
	listen string
	pass   map[string]string
	proc   *childproc.Proc
}

// StartBroker writes a broker configuration under dir and starts Mosquitto on
// port (0 picks a free one). out receives its log lines (nil: kept only for
// failure reports).
func StartBroker(ctx context.Context, dir string, port int, out *childproc.Lines) (*Broker, error) {
	return StartBrokerOpts(ctx, dir, port, BrokerOptions{}, out)
}

// BrokerOptions adjust the broker `soms sim` starts for hardware in the loop.
type BrokerOptions struct {
	// Listen is ListenLoopback (the default) or ListenAll: every interface,
	// so that real devices on the network can connect.
	Listen string
	// Passwords fixes users' passwords; the others get a random one.
	Passwords map[string]string
}

// Listen addresses of the broker.
const (
	ListenLoopback = "127.0.0.1"
	ListenAll      = "0.0.0.0"
)

// StartBrokerOpts is StartBroker with options.
func StartBrokerOpts(ctx context.Context, dir string, port int, o BrokerOptions, out *childproc.Lines) (*Broker, error) {
	var err error
	if port == 0 {
		if port, err = childproc.FreePort(); err != nil {
			return nil, err
		}
	}
	switch o.Listen {
	case "":
		o.Listen = ListenLoopback
	case ListenLoopback, ListenAll:
	default:
		return nil, fmt.Errorf("broker listen address %q: want %s (this machine) or %s (every interface)", o.Listen, ListenLoopback, ListenAll)
	}
	pass := map[string]string{}
	for _, u := range []string{mqttacl.UserService, mqttacl.UserSim, mqttacl.UserMonitor} {
		if pass[u] = o.Passwords[u]; pass[u] == "" {
			pass[u] = Secret()
		}
	}
	return startBroker(ctx, dir, port, o.Listen, pass, out)
}

// StartBrokerWith starts a broker with prev's port and passwords, as a
// restarted server would come back (for reconnection tests).
func StartBrokerWith(ctx context.Context, dir string, prev *Broker, out *childproc.Lines) (*Broker, error) {
	return startBroker(ctx, dir, prev.Port, prev.listen, prev.pass, out)
}

func startBroker(ctx context.Context, dir string, port int, listen string, pass map[string]string, out *childproc.Lines) (*Broker, error) {
	progs, err := findPrograms()
	if err != nil {
		return nil, err
	}
	b := &Broker{Port: port, listen: listen, pass: pass}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	passwd := filepath.Join(dir, "passwd")
	_ = os.Remove(passwd)
	for i, u := range []string{mqttacl.UserService, mqttacl.UserSim, mqttacl.UserMonitor} {
		args := []string{"-b", passwd, u, b.pass[u]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		p, err := childproc.Start(childproc.Spec{Name: "mosquitto_passwd", Path: progs.mosquittoPasswd, Args: args, Env: childproc.BaseEnv()}, nil)
		if err != nil {
			return nil, err
		}
		if err := p.WaitExit(ctx); err != nil {
			return nil, fmt.Errorf("creating the broker password file: %w", err)
		}
	}
	acl := filepath.Join(dir, "aclfile")
	conf := filepath.Join(dir, "mosquitto.conf")
	// Retained messages (the clock, the scenes) survive a restart of the
	// broker: it saves them on shutdown and every 10 s.
	data := filepath.Join(dir, "data")
	if err := brokerDataDir(data); err != nil {
		return nil, err
	}
	body := fmt.Sprintf(`# written by the SOMS harness
listener %d %s
allow_anonymous false
password_file %s
acl_file %s
persistence true
persistence_location %s/
autosave_interval 10
max_packet_size %d
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
`, port, listen, passwd, acl, data, MaxPacketSize)
	if err := os.WriteFile(acl, []byte(mqttacl.File()), 0o644); err != nil {
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
	p, err := childproc.Start(childproc.Spec{Name: "mosquitto", Path: progs.mosquitto, Args: []string{"-c", conf}, Env: childproc.BaseEnv(), Dir: dir}, out)
	if err != nil {
		return nil, err
	}
	b.proc = p
	if err := childproc.WaitTCP(ctx, p, port); err != nil {
		_ = b.Stop()
		return nil, err
	}
	return b, nil
}

// brokerDataDir makes Mosquitto's persistence directory, owned by the user
// it drops to when started as root.
func brokerDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("mosquitto")
	if err != nil {
		return nil // no such user: Mosquitto keeps running as root
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// Config is a client configuration for one of the ACL's users.
func (b *Broker) Config(user string) bus.Config {
	return bus.Config{Broker: "127.0.0.1", Port: b.Port, User: user, Pass: b.pass[user]}
}

// Password returns a user's password.
func (b *Broker) Password(user string) string { return b.pass[user] }

// Logs returns the broker's last n log lines.
func (b *Broker) Logs(n int) []string { return b.proc.Logs(n) }

// Done is closed when the broker has exited.
func (b *Broker) Done() <-chan struct{} { return b.proc.Done() }

// Kill kills the broker at once (SIGKILL), as a crash would.
func (b *Broker) Kill() error { return b.proc.Stop(syscall.SIGKILL, 5*time.Second) }

// Stop terminates the broker.
func (b *Broker) Stop() error {
	if b == nil || b.proc == nil {
		return nil
	}
	return b.proc.Stop(syscall.SIGTERM, 5*time.Second)
}

// Secret returns a fresh random password.
func Secret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MaxPacketSize is the largest MQTT packet the brokers take (max_packet_size
// here and in infra/mosquitto/*.conf): room for the largest legitimate
// message — a camera's spatial summary, a hub heartbeat with
// telemetry.MaxChildren children — with a wide margin. The broker disconnects
// a client that sends a larger packet.
const MaxPacketSize = 256 << 10
