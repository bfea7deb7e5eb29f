package sanitizer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func task(extra map[string]any) map[string]any {
	a := map[string]any{"title": "換気", "description": "窓を開けてください"}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func device(agent, tool string, args any) map[string]any {
	return map[string]any{"agent_id": agent, "tool_name": tool, "arguments": args}
}

func TestCheckBoundaries(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string // substring of the violation; "" = allowed
	}{
		{"temperature 18 allowed", "send_device_command", device("hvac_01", "set_temperature", `{"temperature":18}`), ""},
		{"temperature 28 allowed", "send_device_command", device("hvac_01", "set_temperature", map[string]any{"temperature": 28.0}), ""},
		{"temperature 17.9 rejected", "send_device_command", device("hvac_01", "set_temperature", `{"temperature":17.9}`), "outside 18–28"},
		{"temperature 30 rejected", "send_device_command", device("swarm_hub_01", "set_temperature", `{"temperature":30}`), "outside 18–28"},
		{"temperature missing rejected", "send_device_command", device("hvac_01", "set_temperature", `{}`), "numeric temperature"},
		{"pump 60 s allowed", "send_device_command", device("pump_01", "run_pump", `{"duration":60}`), ""},
		{"pump 61 s rejected", "send_device_command", device("pump_01", "run_pump", `{"duration":61}`), "over 60s"},
		{"pump negative rejected", "send_device_command", device("pump_01", "run_pump", `{"duration":-1}`), "non-negative"},
		{"allow-listed agent", "send_device_command", device("window_01", "open", ""), ""},
		{"swarm hub prefix", "send_device_command", device("swarm_hub_02", "leaf_command", `{"leaf_id":"x"}`), ""},
		{"agent not on the allow-list", "send_device_command", device("door_lock_01", "unlock", `{}`), "allow-list"},
		{"missing agent", "send_device_command", device("", "open", `{}`), "required"},
		{"urgency 0", "create_task", task(map[string]any{"urgency": 0.0}), ""},
		{"urgency 4", "create_task", task(map[string]any{"urgency": 4.0}), ""},
		{"urgency 5", "create_task", task(map[string]any{"urgency": 5.0}), "urgency"},
		{"urgency -1", "create_task", task(map[string]any{"urgency": -1.0}), "urgency"},
		{"urgency 2.5", "create_task", task(map[string]any{"urgency": 2.5}), "urgency"},
		{"urgency as text", "create_task", task(map[string]any{"urgency": "high"}), "urgency"},
		{"urgency as a numeric string", "create_task", task(map[string]any{"urgency": " 3 "}), ""},
		{"urgency as a boolean", "create_task", task(map[string]any{"urgency": true}), "urgency"},
		{"temperature NaN rejected", "send_device_command", device("hvac_01", "set_temperature", `{"temperature":"NaN"}`), "numeric temperature"},
		{"bounty 500", "create_task", task(map[string]any{"bounty": 500.0}), ""},
		{"bounty 5000", "create_task", task(map[string]any{"bounty": "5000"}), ""},
		{"bounty 499", "create_task", task(map[string]any{"bounty": 499.0}), "bounty"},
		{"bounty 5001", "create_task", task(map[string]any{"bounty": 5001.0}), "bounty"},
		{"no title", "create_task", map[string]any{"description": "x"}, "title"},
		{"title too long", "create_task", task(map[string]any{"title": strings.Repeat("あ", 101)}), "title longer"},
		{"empty speak", "speak", map[string]any{"message": "  "}, "empty"},
		{"speak", "speak", map[string]any{"message": "こんにちは", "zone": "main"}, ""},
		{"tare", "calibrate_shelf", map[string]any{"device_id": "shelf_01", "step": "tare"}, ""},
		{"known weight", "calibrate_shelf", map[string]any{"device_id": "shelf_01", "step": "set_known_weight", "known_weight_g": 500.0}, ""},
		{"known weight missing", "calibrate_shelf", map[string]any{"device_id": "shelf_01", "step": "set_known_weight"}, "positive known_weight_g"},
		{"known weight zero", "calibrate_shelf", map[string]any{"device_id": "shelf_01", "step": "set_known_weight", "known_weight_g": 0.0}, "positive known_weight_g"},
		{"unknown step", "calibrate_shelf", map[string]any{"device_id": "shelf_01", "step": "zero"}, "step must be"},
		{"no shelf", "calibrate_shelf", map[string]any{"step": "tare"}, "device_id"},
		{"read-only tool", "get_zone_status", map[string]any{"zone_id": "main"}, ""},
		{"unknown tool", "trigger_display_event", map[string]any{}, "unknown tool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(clock.NewManual(t0), Default).Check(tc.tool, tc.args)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var v *Violation
			if !errors.As(err, &v) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a violation containing %q", err, tc.want)
			}
		})
	}
}

func TestTaskRateLimit(t *testing.T) {
	c := clock.NewManual(t0)
	s := New(c, Default)
	for i := range 10 {
		if err := s.Check("create_task", task(nil)); err != nil {
			t.Fatalf("task %d: %v", i+1, err)
		}
		s.RecordTask()
		c.Advance(time.Minute)
	}
	if err := s.Check("create_task", task(nil)); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("11th task within the hour: %v", err)
	}
	// A safety task is not held back by the limit, but is still checked.
	if err := s.CheckSafetyTask(task(nil)); err != nil {
		t.Fatalf("safety task over the limit: %v", err)
	}
	if err := s.CheckSafetyTask(task(map[string]any{"urgency": 9.0})); err == nil {
		t.Fatal("a malformed safety task passed")
	}
	// The first creation leaves the window 60 minutes after it.
	c.Advance(50 * time.Minute)
	if err := s.Check("create_task", task(nil)); err != nil {
		t.Fatalf("after the window moved: %v", err)
	}
}

func TestRejectedTasksDoNotCount(t *testing.T) {
	s := New(clock.NewManual(t0), Default)
	for range 20 {
		_ = s.Check("create_task", task(nil)) // checked but never recorded (backend failed)
	}
	if err := s.Check("create_task", task(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestSpeakCooldownPerZone(t *testing.T) {
	c := clock.NewManual(t0)
	s := New(c, Default)
	main := map[string]any{"message": "換気します", "zone": "main"}
	s.RecordSpeak(main)
	c.Advance(299 * time.Second)
	if err := s.Check("speak", main); err == nil || !strings.Contains(err.Error(), "wait 1s") {
		t.Fatalf("second speak after 299 s: %v", err)
	}
	if err := s.Check("speak", map[string]any{"message": "x", "zone": "kitchen"}); err != nil {
		t.Fatalf("other zone: %v", err)
	}
	if err := s.Check("speak", map[string]any{"message": "x"}); err != nil {
		t.Fatalf("broadcast: %v", err)
	}
	c.Advance(time.Second)
	if err := s.Check("speak", main); err != nil {
		t.Fatalf("after 300 s: %v", err)
	}
}

func TestDeviceArgs(t *testing.T) {
	if got := DeviceArgs(`{"a":1}`); got["a"] != 1.0 {
		t.Fatal(got)
	}
	if got := DeviceArgs(`not json`); len(got) != 0 {
		t.Fatal(got)
	}
	if got := DeviceArgs(nil); got == nil {
		t.Fatal("nil map")
	}
}

// add_shopping_item: only weighed shelves' items, 1–100 of them, 20 a hour —
// counted on success (the original never counted, so its limit never held).
func TestShoppingLimits(t *testing.T) {
	c := clock.NewManual(time.Unix(0, 0))
	s := New(c, Default)
	add := map[string]any{"name": "コーヒー豆", "quantity": 2.0}
	if err := s.Check("add_shopping_item", add); err == nil {
		t.Fatal("an item accepted before any shelf is known")
	}
	s.SetItems(func(name string) bool { return name == "コーヒー豆" })
	for _, bad := range []map[string]any{
		{"name": "牛乳", "quantity": 1.0},
		{"name": " ", "quantity": 1.0},
		{"name": "コーヒー豆", "quantity": 0.0},
		{"name": "コーヒー豆", "quantity": 101.0},
		{"name": "コーヒー豆", "quantity": 1.5},
		{"name": "コーヒー豆"},
	} {
		if err := s.Check("add_shopping_item", bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	for range 20 {
		if err := s.Check("add_shopping_item", add); err != nil {
			t.Fatal(err)
		}
		s.RecordShopping()
	}
	if err := s.Check("add_shopping_item", add); err == nil {
		t.Fatal("a 21st addition within the hour was accepted")
	}
	c.Advance(time.Hour + time.Second)
	if err := s.Check("add_shopping_item", map[string]any{"name": "コーヒー豆", "quantity": "3"}); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
	if err := s.Check("check_inventory", nil); err != nil {
		t.Fatalf("check_inventory is read-only: %v", err)
	}
}
