// Package sanitizer holds the brain's hard safety limits. Every tool call —
// from the LLM, the rule engine or chit-chat — passes Check before it runs; a
// violation is returned to the caller (and so to the LLM) as the tool's error
// and the call never reaches MQTT or HTTP.
package sanitizer

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/jsonnum"
)

// Limits are the original SOMS brain's hard limits plus the bounty range the
// original design demands (docs/brain.md, "Tools and hard limits").
type Limits struct {
	TempMin, TempMax         float64       // set_temperature °C
	PumpMax                  time.Duration // run_pump duration
	Agents                   []string      // agents allowed for send_device_command
	AgentPrefixes            []string      // agent id prefixes allowed
	UrgencyMin, UrgencyMax   int
	TasksPerHour             int
	SpeakCooldown            time.Duration // per zone ("general" when broadcast)
	BountyMin, BountyMax     int
	MaxTitle, MaxDesc        int // runes
	MaxMessage               int // speak message runes
	ShoppingPerHour          int // add_shopping_item successes per hour
	ShoppingMin, ShoppingMax int // quantity of one add_shopping_item
}

// Default are the original's numbers.
var Default = Limits{
	TempMin: 18, TempMax: 28, PumpMax: 60 * time.Second,
	Agents:        []string{"light_01", "pump_01", "window_01", "shelf_01", "hvac_01"},
	AgentPrefixes: []string{"swarm_hub"},
	UrgencyMin:    0, UrgencyMax: 4, TasksPerHour: 10, SpeakCooldown: 300 * time.Second,
	BountyMin: 500, BountyMax: 5000, MaxTitle: 100, MaxDesc: 2000, MaxMessage: 200,
	ShoppingPerHour: 20, ShoppingMin: 1, ShoppingMax: 100,
}

// Violation is a rejected call.
type Violation struct {
	Tool, Reason string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("safety limit: %s rejected: %s", v.Tool, v.Reason)
}

func reject(tool, format string, args ...any) error {
	return &Violation{Tool: tool, Reason: fmt.Sprintf(format, args...)}
}

// readOnly tools are always allowed.
var readOnly = []string{"get_zone_status", "get_active_tasks", "get_device_status", "check_inventory"}

// Sanitizer checks calls and keeps the rate-limit state. Safe for concurrent use.
type Sanitizer struct {
	limits Limits
	clock  clock.Clock

	mu       sync.Mutex
	tasks    []time.Time          // successful creations in the window
	shopping []time.Time          // successful shopping-list additions in the window
	speakAt  map[string]time.Time // zone key → last speak
	// known reports whether an item is on a weighed shelf (the only items
	// the brain may put on the shopping list); nil knows none.
	known func(name string) bool
}

// SetItems tells the sanitizer which item names add_shopping_item may use.
func (s *Sanitizer) SetItems(known func(name string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known = known
}

// New returns a sanitizer with the given limits.
func New(c clock.Clock, l Limits) *Sanitizer {
	return &Sanitizer{limits: l, clock: c, speakAt: map[string]time.Time{}}
}

// Check returns a *Violation when the call breaks a limit.
func (s *Sanitizer) Check(tool string, args map[string]any) error {
	switch tool {
	case "create_task":
		return s.checkTask(args, true)
	case "send_device_command":
		return s.checkDevice(args)
	case "speak":
		return s.checkSpeak(args)
	case "calibrate_shelf":
		return checkCalibration(args)
	case "add_shopping_item":
		return s.checkShopping(args)
	}
	if slices.Contains(readOnly, tool) {
		return nil
	}
	return reject(tool, "unknown tool")
}

// CheckSafetyTask checks a create_task of the critical rules (a fall, a
// critical CO2 level or temperature, a water leak) like Check, except for the
// hourly task limit: the LLM spending its budget must not silence a safety
// task. Its creation still counts against the limit (RecordTask).
func (s *Sanitizer) CheckSafetyTask(args map[string]any) error {
	return s.checkTask(args, false)
}

func (s *Sanitizer) checkTask(args map[string]any, limited bool) error {
	const tool = "create_task"
	l := s.limits
	title, _ := args["title"].(string)
	desc, _ := args["description"].(string)
	switch {
	case strings.TrimSpace(title) == "":
		return reject(tool, "title is required")
	case strings.TrimSpace(desc) == "":
		return reject(tool, "description is required")
	case runes(title) > l.MaxTitle:
		return reject(tool, "title longer than %d characters", l.MaxTitle)
	case runes(desc) > l.MaxDesc:
		return reject(tool, "description longer than %d characters", l.MaxDesc)
	}
	if v, ok := args["urgency"]; ok && v != nil {
		u, isNum := jsonnum.Float(v, ArgAccept)
		if !isNum || u != math.Trunc(u) || u < float64(l.UrgencyMin) || u > float64(l.UrgencyMax) {
			return reject(tool, "urgency %v outside %d–%d", v, l.UrgencyMin, l.UrgencyMax)
		}
	}
	if v, ok := args["bounty"]; ok && v != nil {
		b, isNum := jsonnum.Float(v, ArgAccept)
		if !isNum || b != math.Trunc(b) || b < float64(l.BountyMin) || b > float64(l.BountyMax) {
			return reject(tool, "bounty %v outside %d–%d", v, l.BountyMin, l.BountyMax)
		}
	}
	if !limited {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trimLocked()
	if len(s.tasks) >= l.TasksPerHour {
		return reject(tool, "rate limit: %d tasks in the last hour", len(s.tasks))
	}
	return nil
}

func (s *Sanitizer) checkDevice(args map[string]any) error {
	const tool = "send_device_command"
	l := s.limits
	agent, _ := args["agent_id"].(string)
	name, _ := args["tool_name"].(string)
	if agent == "" || name == "" {
		return reject(tool, "agent_id and tool_name are required")
	}
	allowed := slices.Contains(l.Agents, agent)
	for _, p := range l.AgentPrefixes {
		allowed = allowed || strings.HasPrefix(agent, p)
	}
	if !allowed {
		return reject(tool, "agent %q is not on the allow-list", agent)
	}
	dargs := DeviceArgs(args["arguments"])
	switch name {
	case "set_temperature":
		t, ok := jsonnum.Float(dargs["temperature"], ArgAccept)
		if !ok {
			return reject(tool, "set_temperature needs a numeric temperature")
		}
		if t < l.TempMin || t > l.TempMax {
			return reject(tool, "temperature %g°C outside %g–%g°C", t, l.TempMin, l.TempMax)
		}
	case "run_pump":
		d, ok := jsonnum.Float(dargs["duration"], ArgAccept)
		if !ok || d < 0 {
			return reject(tool, "run_pump needs a non-negative numeric duration")
		}
		if d > l.PumpMax.Seconds() {
			return reject(tool, "pump duration %gs over %gs", d, l.PumpMax.Seconds())
		}
	}
	return nil
}

func (s *Sanitizer) checkSpeak(args map[string]any) error {
	const tool = "speak"
	msg, _ := args["message"].(string)
	if strings.TrimSpace(msg) == "" {
		return reject(tool, "message is empty")
	}
	if runes(msg) > s.limits.MaxMessage {
		return reject(tool, "message longer than %d characters", s.limits.MaxMessage)
	}
	key := SpeakKey(args)
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.speakAt[key]; ok {
		if wait := s.limits.SpeakCooldown - s.clock.Now().Sub(last); wait > 0 {
			return reject(tool, "zone %s spoke %ds ago; wait %ds", key, int((s.limits.SpeakCooldown - wait).Seconds()), int(math.Ceil(wait.Seconds())))
		}
	}
	return nil
}

// checkCalibration checks a shelf calibration step. Shelves are not on the
// device allow-list: calibration is its own, narrowly scoped tool.
func checkCalibration(args map[string]any) error {
	const tool = "calibrate_shelf"
	if id, _ := args["device_id"].(string); strings.TrimSpace(id) == "" {
		return reject(tool, "device_id is required")
	}
	switch args["step"] {
	case "tare":
	case "set_known_weight":
		if w, ok := jsonnum.Float(args["known_weight_g"], ArgAccept); !ok || w <= 0 {
			return reject(tool, "set_known_weight needs a positive known_weight_g")
		}
	default:
		return reject(tool, "step must be tare or set_known_weight")
	}
	return nil
}

// checkShopping lets only the items of weighed shelves onto the shopping
// list, in a sane quantity, at most ShoppingPerHour times an hour.
func (s *Sanitizer) checkShopping(args map[string]any) error {
	const tool = "add_shopping_item"
	l := s.limits
	name, _ := args["name"].(string)
	name = strings.TrimSpace(name)
	if name == "" {
		return reject(tool, "name is required")
	}
	q, isNum := jsonnum.Float(args["quantity"], ArgAccept)
	if !isNum || q != math.Trunc(q) || q < float64(l.ShoppingMin) || q > float64(l.ShoppingMax) {
		return reject(tool, "quantity %v outside %d–%d", args["quantity"], l.ShoppingMin, l.ShoppingMax)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil || !s.known(name) {
		return reject(tool, "%q is not an item on a weighed shelf", name)
	}
	cut := s.clock.Now().Add(-time.Hour)
	i := 0
	for i < len(s.shopping) && !s.shopping[i].After(cut) {
		i++
	}
	s.shopping = s.shopping[i:]
	if len(s.shopping) >= l.ShoppingPerHour {
		return reject(tool, "rate limit: %d shopping-list additions in the last hour", len(s.shopping))
	}
	return nil
}

// RecordShopping counts a shopping-list addition the backend accepted (the
// original never recorded them, so its limit never held).
func (s *Sanitizer) RecordShopping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shopping = append(s.shopping, s.clock.Now())
}

// RecordTask counts a task the backend accepted against the hourly limit.
func (s *Sanitizer) RecordTask() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks = append(s.tasks, s.clock.Now())
}

// RecordSpeak starts the speak cooldown of the call's zone.
func (s *Sanitizer) RecordSpeak(args map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.speakAt[SpeakKey(args)] = s.clock.Now()
}

func (s *Sanitizer) trimLocked() {
	now := s.clock.Now()
	i := 0
	for i < len(s.tasks) && now.Sub(s.tasks[i]) >= time.Hour {
		i++
	}
	s.tasks = s.tasks[i:]
}

// SpeakKey is the cooldown key of a speak call: its zone, or "general".
func SpeakKey(args map[string]any) string {
	if z, _ := args["zone"].(string); strings.TrimSpace(z) != "" {
		return z
	}
	return "general"
}

// DeviceArgs reads send_device_command's arguments: a JSON object given as a
// string or as an object; anything else is an empty object, as the original.
func DeviceArgs(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case string:
		var m map[string]any
		if json.Unmarshal([]byte(x), &m) == nil && m != nil {
			return m
		}
	}
	return map[string]any{}
}

// ArgAccept is what a tool argument takes for a number: JSON numbers and
// numeric strings (models write "24" as often as 24), not booleans.
const ArgAccept = jsonnum.Strings

func runes(s string) int { return len([]rune(s)) }
