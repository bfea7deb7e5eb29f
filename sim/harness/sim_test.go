package harness

import (
	"testing"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/mqttacl"
)

// By default `soms sim` gives the soms account the original firmware's
// password, so a real device flashed with it joins; the broker stays on this
// machine unless asked otherwise.
func TestSimBrokerDefaults(t *testing.T) {
	var cfg Config
	if err := config.Load(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	if cfg.MQTTPass != mqttacl.LegacyPassword || cfg.MQTTListen != localinfra.ListenLoopback || cfg.MQTTSimPass != "" {
		t.Fatalf("defaults: pass %q listen %q sim %q", cfg.MQTTPass, cfg.MQTTListen, cfg.MQTTSimPass)
	}
}
