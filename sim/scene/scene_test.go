package scene

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		count             int
	}{
		{"two people", `{"zone":"meeting_room","seq":3,"people":[{"id":"a","x":0.2,"y":0.5,"posture":"sitting"},{"id":"b","x":0.7,"y":0.5,"posture":"walking","motion":0.6}]}`, "", 2},
		{"empty room", `{"zone":"kitchen","people":[]}`, "", 0},
		{"no zone", `{"people":[]}`, "zone is required", 0},
		{"bad posture", `{"zone":"z","people":[{"id":"a","posture":"dancing"}]}`, "posture", 0},
		{"duplicate id", `{"zone":"z","people":[{"id":"a","posture":"sitting"},{"id":"a","posture":"sitting"}]}`, "duplicate id", 0},
		{"off the floor", `{"zone":"z","people":[{"id":"a","x":1.5,"posture":"sitting"}]}`, "outside 0..1", 0},
		{"not json", `{`, "scene:", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if z.Count() != tt.count {
				t.Fatalf("count = %d, want %d", z.Count(), tt.count)
			}
		})
	}
}

func TestZoneFromTopic(t *testing.T) {
	for in, want := range map[string]string{"soms/sim/scene/main": "main", "soms/sim/scene/": "", "soms/sim/scene/a/b": "", "office/main": ""} {
		got, ok := ZoneFromTopic(in)
		if got != want || ok != (want != "") {
			t.Errorf("ZoneFromTopic(%q) = %q,%v", in, got, ok)
		}
	}
}
