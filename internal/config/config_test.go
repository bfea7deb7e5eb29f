package config

import (
	"strings"
	"testing"
	"time"
)

type inner struct {
	Host string `env:"HOST" default:"localhost" doc:"broker host"`
	Port int    `env:"PORT" default:"1883" doc:"broker port"`
}

type sample struct {
	MQTT    inner         `prefix:"MQTT_"`
	Timeout time.Duration `env:"TIMEOUT" default:"10s" doc:"request timeout"`
	Ratio   float64       `env:"RATIO" default:"0.5"`
	Debug   bool          `env:"DEBUG" default:"false"`
	Agents  []string      `env:"AGENTS" default:"light_01, pump_01"`
	Token   string        `env:"TOKEN"`
	_       string        // unexported: the loader must skip it
}

func env(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, s sample)
		wantErr string
	}{
		{
			name: "defaults",
			env:  nil,
			check: func(t *testing.T, s sample) {
				if s.MQTT.Host != "localhost" || s.MQTT.Port != 1883 || s.Timeout != 10*time.Second || s.Ratio != 0.5 {
					t.Fatalf("defaults not applied: %+v", s)
				}
				if len(s.Agents) != 2 || s.Agents[1] != "pump_01" {
					t.Fatalf("list default = %q", s.Agents)
				}
			},
		},
		{
			name: "overrides and bare seconds",
			env:  map[string]string{"MQTT_HOST": "mosquitto", "MQTT_PORT": "11883", "TIMEOUT": "2.5", "DEBUG": "true", "TOKEN": "x"},
			check: func(t *testing.T, s sample) {
				if s.MQTT.Host != "mosquitto" || s.MQTT.Port != 11883 || s.Timeout != 2500*time.Millisecond || !s.Debug || s.Token != "x" {
					t.Fatalf("overrides not applied: %+v", s)
				}
			},
		},
		{
			name: "empty means default",
			env:  map[string]string{"MQTT_HOST": ""},
			check: func(t *testing.T, s sample) {
				if s.MQTT.Host != "localhost" {
					t.Fatalf("host = %q", s.MQTT.Host)
				}
			},
		},
		{
			name:    "every bad value is reported",
			env:     map[string]string{"MQTT_PORT": "abc", "TIMEOUT": "soon", "DEBUG": "maybe"},
			wantErr: `MQTT_PORT="abc": not an integer`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			err := Load(&s, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "TIMEOUT") || !strings.Contains(err.Error(), "DEBUG") {
					t.Fatalf("not all errors reported: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestDescribe(t *testing.T) {
	vars := Describe(sample{})
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	want := "MQTT_HOST MQTT_PORT TIMEOUT RATIO DEBUG AGENTS TOKEN"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("names = %s, want %s", got, want)
	}
	var b strings.Builder
	if err := WriteTable(&b, sample{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "broker host") {
		t.Fatalf("table misses docs:\n%s", b.String())
	}
}
