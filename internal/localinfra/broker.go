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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/childproc"
	"github.com/somsgo/soms/internal/mqttacl"
)

// Broker is a private Mosquitto with password authentication and the project's
// ACL, listening on loopback.
type Broker struct {
	Port int
	// TLSPort is the TLS listener's port (0: none).
	TLSPort int
	dir     string
	o       BrokerOptions
	pass    map[string]string
	proc    *childproc.Proc

	mu sync.Mutex // guards o.Devices, which AddDevices extends
}

// StartBroker writes a broker configuration under dir and starts Mosquitto on
// port (0 picks a free one). out receives its log lines (nil: kept only for
// failure reports).
func StartBroker(ctx context.Context, dir string, port int, out *childproc.Lines) (*Broker, error) {
	return StartBrokerOpts(ctx, dir, port, BrokerOptions{}, out)
}

// BrokerOptions adjust the broker: devices, hardware in the loop, TLS.
type BrokerOptions struct {
	// Listen is ListenLoopback (the default) or ListenAll: every interface,
	// so that real devices on the network can connect.
	Listen string
	// Passwords fixes the fixed accounts' passwords (mqttacl.Accounts); the
	// others get a random one.
	Passwords map[string]string
	// Devices are the device accounts (their hubs' leaves go into the ACL).
	Devices []mqttacl.Device
	// TLS adds a TLS listener on loopback (the plain one stays).
	TLS *TLSListener
}

// TLSListener is a TLS listener's port (0: a free one) and PEM files.
type TLSListener struct {
	Port              int
	CertFile, KeyFile string
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
	for _, d := range o.Devices {
		if err := d.Validate(); err != nil {
			return nil, err
		}
	}
	if o.TLS != nil {
		tl := *o.TLS
		if tl.Port == 0 {
			if tl.Port, err = childproc.FreePort(); err != nil {
				return nil, err
			}
		}
		o.TLS = &tl
	}
	pass := map[string]string{}
	for _, a := range mqttacl.Accounts() {
		if pass[a.Name] = o.Passwords[a.Name]; pass[a.Name] == "" {
			pass[a.Name] = Secret()
		}
	}
	o.Devices = slices.Clone(o.Devices)
	return startBroker(ctx, dir, port, o, pass, out)
}

// StartBrokerWith starts a broker with prev's port, accounts and options, as
// a restarted server would come back (for reconnection tests).
func StartBrokerWith(ctx context.Context, dir string, prev *Broker, out *childproc.Lines) (*Broker, error) {
	prev.mu.Lock()
	o := prev.o
	o.Devices = slices.Clone(o.Devices)
	prev.mu.Unlock()
	return startBroker(ctx, dir, prev.Port, o, prev.pass, out)
}

func startBroker(ctx context.Context, dir string, port int, o BrokerOptions, pass map[string]string, out *childproc.Lines) (*Broker, error) {
	progs, err := findPrograms()
	if err != nil {
		return nil, err
	}
	b := &Broker{Port: port, dir: dir, o: o, pass: pass}
	if o.TLS != nil {
		b.TLSPort = o.TLS.Port
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := b.writeAccounts(ctx, progs); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	// Retained messages (the clock, the scenes) survive a restart of the
	// broker: it saves them on shutdown and every 10 s.
	data := filepath.Join(dir, "data")
	if err := brokerDataDir(data); err != nil {
		return nil, err
	}
	body := fmt.Sprintf(`# written by the SOMS harness
per_listener_settings false
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
listener %d %s
`, filepath.Join(dir, "passwd"), filepath.Join(dir, "aclfile"), data, MaxPacketSize, port, o.Listen)
	if o.TLS != nil {
		key, err := brokerReadable(o.TLS.KeyFile, filepath.Join(dir, "server.key"))
		if err != nil {
			return nil, err
		}
		body += fmt.Sprintf("listener %d %s\ncertfile %s\nkeyfile %s\n", o.TLS.Port, ListenLoopback, o.TLS.CertFile, key)
	}
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	// As root the broker drops to its own user, which must read these files.
	_ = os.Chmod(dir, 0o755)
	_ = os.Chmod(conf, 0o644)
	p, err := childproc.Start(childproc.Spec{Name: "mosquitto", Path: progs.mosquitto, Args: []string{"-c", conf}, Env: childproc.BaseEnv(), Dir: dir}, out)
	if err != nil {
		return nil, err
	}
	b.proc = p
	if err := childproc.WaitTCP(ctx, p, port); err != nil {
		_ = b.Stop()
		return nil, err
	}
	if o.TLS != nil {
		if err := childproc.WaitTCP(ctx, p, o.TLS.Port); err != nil {
			_ = b.Stop()
			return nil, err
		}
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

// brokerReadable copies a private key to dst, owned by the mosquitto user
// when we are root (the broker drops to it before reading keys), mode 0600.
func brokerReadable(src, dst string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("broker TLS key: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		return "", err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("mosquitto")
		if err != nil {
			return "", fmt.Errorf("running as root, the broker drops to the mosquitto user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dst, uid, gid); err != nil {
			return "", err
		}
	}
	return dst, nil
}

// writeAccounts writes the password file (every fixed account and device,
// hashed by mosquitto_passwd) and the ACL (mqttacl.File).
func (b *Broker) writeAccounts(ctx context.Context, progs programs) error {
	var plain strings.Builder
	for _, a := range mqttacl.Accounts() {
		fmt.Fprintf(&plain, "%s:%s\n", a.Name, b.pass[a.Name])
	}
	for _, d := range b.o.Devices {
		fmt.Fprintf(&plain, "%s:%s\n", d.ID, d.Password)
	}
	passwd := filepath.Join(b.dir, "passwd")
	if err := os.WriteFile(passwd, []byte(plain.String()), 0o600); err != nil {
		return err
	}
	p, err := childproc.Start(childproc.Spec{Name: "mosquitto_passwd", Path: progs.mosquittoPasswd, Args: []string{"-U", passwd}, Env: childproc.BaseEnv()}, nil)
	if err != nil {
		return err
	}
	if err := p.WaitExit(ctx); err != nil {
		return fmt.Errorf("hashing the broker password file: %w", err)
	}
	acl := filepath.Join(b.dir, "aclfile")
	if err := os.WriteFile(acl, []byte(mqttacl.File(b.o.Devices)), 0o644); err != nil {
		return err
	}
	for _, f := range []string{passwd, acl} {
		_ = os.Chmod(f, 0o644)
	}
	return nil
}

// AddDevices adds device accounts to a running broker: the password file and
// ACL are rewritten and Mosquitto reloads them (SIGHUP). The reload is
// asynchronous: a client's first connection may still be refused, and the
// bus client retries.
func (b *Broker) AddDevices(ctx context.Context, devices ...mqttacl.Device) error {
	for _, d := range devices {
		if err := d.Validate(); err != nil {
			return err
		}
		if b.Password(d.ID) != "" {
			return fmt.Errorf("account %s exists", d.ID)
		}
	}
	progs, err := findPrograms()
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.o.Devices = append(slices.Clone(b.o.Devices), devices...)
	if err := b.writeAccounts(ctx, progs); err != nil {
		return err
	}
	return syscall.Kill(b.proc.Pid(), syscall.SIGHUP)
}

// Config is a client configuration for an account: a fixed one
// (mqttacl.Accounts) or a device.
func (b *Broker) Config(user string) bus.Config {
	return bus.Config{Broker: "127.0.0.1", Port: b.Port, User: user, Pass: b.Password(user)}
}

// Password returns an account's password ("" for none).
func (b *Broker) Password(user string) string {
	if p, ok := b.pass[user]; ok {
		return p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.o.Devices {
		if d.ID == user {
			return d.Password
		}
	}
	return ""
}

// Devices are the broker's device accounts.
func (b *Broker) Devices() []mqttacl.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.o.Devices)
}

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
