package compose_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/somsgo/soms/infra/compose"
	"github.com/somsgo/soms/internal/mqttacl"
)

// alwaysMQTT are the programs that connect to the broker on the wall clock
// too; the others only when they follow the simulated clock (SOMS_CLOCK=sim,
// the virtual office).
var alwaysMQTT = map[string]bool{"soms brain": true, "soms backend": true, "soms perception": true, "soms edge": true, "soms camera": true}

// TestMQTTAccounts holds every variant to the broker's accounts
// (internal/mqttacl, docs/mqtt-acl.md): each service that speaks MQTT logs in
// with a fixed account and that account's password variable, never with the
// legacy device account, sim, or as anonymous; the broker mounts the
// generated ACL and offers TLS on 8883; production creates no sim or
// follower account (only the virtual office overlay does).
func TestMQTTAccounts(t *testing.T) {
	root := repoRoot(t)
	env := exampleEnv(t, root)
	passVar := map[string]string{}
	for _, a := range mqttacl.Accounts() {
		passVar[a.Name] = a.PassVar
	}
	for _, v := range compose.Variants {
		t.Run(v.Name, func(t *testing.T) {
			p, err := compose.Load(context.Background(), filepath.Join(root, "infra"), v.Files, env, compose.AllProfiles)
			if err != nil {
				t.Fatal(err)
			}
			virtual := strings.HasPrefix(v.Name, "virtual office")
			for name, s := range p.Services {
				val := func(k string) (string, bool) {
					if x, ok := s.Environment[k]; ok && x != nil {
						return *x, true
					}
					return "", false
				}
				if name == "mosquitto" {
					for _, k := range []string{"MQTT_SIM_PASS", "MQTT_FOLLOWER_PASS"} {
						if _, ok := val(k); ok != virtual {
							t.Errorf("mosquitto has %s: %v; want it only in the virtual office", k, ok)
						}
					}
					acl, tls := false, false
					for _, m := range s.Volumes {
						acl = acl || m.Target == "/mosquitto/config/aclfile" && filepath.Base(m.Source) == "aclfile"
						tls = tls || m.Target == "/mosquitto/tls"
					}
					if !acl || !tls {
						t.Errorf("mosquitto mounts the generated aclfile %v, a TLS directory %v", acl, tls)
					}
					published := false
					for _, port := range s.Ports {
						published = published || port.Target == 8883
					}
					if !published {
						t.Error("mosquitto does not publish the TLS listener 8883")
					}
					continue
				}
				if _, ok := val("MQTT_BROKER"); !ok {
					continue
				}
				user, _ := val("MQTT_USER")
				pv, fixed := passVar[user]
				always := alwaysMQTT[compose.Program(s)]
				switch {
				case user == "" && !always && !virtual:
					// Connects only on the simulated clock: not here.
				case !fixed || user == mqttacl.UserLegacy || user == mqttacl.UserSim:
					t.Errorf("%s connects as %q: want a service account of internal/mqttacl", name, user)
				case user == mqttacl.UserFollower && always && !virtual:
					t.Errorf("%s connects as follower outside the virtual office, where the account does not exist", name)
				default:
					if pass, _ := val("MQTT_PASS"); pass == "" || pass != env[pv] {
						t.Errorf("%s connects as %s with MQTT_PASS %q, not %s", name, user, pass, pv)
					}
				}
			}
		})
	}
}
