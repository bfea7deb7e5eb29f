package harness

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/somsgo/soms/internal/mqttacl"
)

// StackView is GET /stack: what a scenario runner needs to find the rest of
// a running stack (`soms scenario run --target`). It carries the service
// token and broker passwords: the control API listens on loopback only
// (startControl) and is an admin API already (it kills processes); the
// dashboard proxies its /clock alone.
type StackView struct {
	// Services are the base URLs by the harness's names (Backend, ...).
	Services map[string]string `json:"services"`
	MQTT     MQTTView          `json:"mqtt"`
	// Token is the internal service token (wallet reads, task dispatch).
	Token string `json:"token"`
	// Layout is the edge's layout (a file as an absolute path), Seed its
	// noise seed; Cameras whether the virtual cameras and perception run.
	Layout  string `json:"layout"`
	Seed    uint64 `json:"seed"`
	Cameras bool   `json:"cameras"`
}

// MQTTView is the broker and the accounts a scenario runner uses.
type MQTTView struct {
	// URL is mqtt://host:port.
	URL string `json:"url"`
	// Accounts are user → password: sim (scenario steps) and monitor (the
	// observer).
	Accounts map[string]string `json:"accounts"`
}

func (s *Stack) stackView() StackView {
	v := StackView{
		Services: map[string]string{}, Token: s.Token, Layout: s.opts.Layout, Seed: s.opts.Seed, Cameras: s.opts.Cameras,
		MQTT: MQTTView{URL: "mqtt://127.0.0.1:" + strconv.Itoa(s.Ports[PortMQTT]), Accounts: map[string]string{}},
	}
	if !strings.HasPrefix(v.Layout, "builtin:") {
		if abs, err := filepath.Abs(v.Layout); err == nil {
			v.Layout = abs
		}
	}
	for _, svc := range s.active() {
		v.Services[svc.name] = s.URL(svc.name)
	}
	b := s.Broker()
	for _, user := range []string{mqttacl.UserSim, mqttacl.UserMonitor} {
		v.MQTT.Accounts[user] = b.Password(user)
	}
	return v
}
