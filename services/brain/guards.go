package brain

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/services/brain/rules"
	"github.com/somsgo/soms/services/brain/sanitizer"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// recentCreateWindow is how long a create_task attempt blocks a similar title;
// deviceRepeatWindow how long a successful device command blocks itself.
const (
	recentCreateWindow = 30 * time.Minute
	deviceRepeatWindow = 10 * time.Minute
)

// deviceInvestigation words mark tasks about unknown devices, which the brain
// must not hand to people (untrusted devices are not shown to the LLM).
var deviceInvestigation = []string{
	"未登録", "未確認デバイス", "デバイス確認", "デバイス調査", "デバイス登録", "デバイスの確認",
	"デバイスの調査", "デバイスの登録", "未認識", "不明デバイス", "不明なデバイス",
}

// cycleGuard holds the per-cycle state of the duplicate guards (docs/brain.md,
// "Tools and hard limits").
type cycleGuard struct {
	executed map[string]bool
	spoke    bool
	active   []backendapi.Task
	since    time.Time // the cycle's start: tasks created since are this cycle's
}

func newCycleGuard(active []backendapi.Task, since time.Time) *cycleGuard {
	return &cycleGuard{executed: map[string]bool{}, active: active, since: since}
}

// check returns why a proposed call must be skipped, or "".
func (b *brain) check(g *cycleGuard, tool string, args map[string]any) string {
	canon, _ := json.Marshal(args) // map keys are sorted: a canonical form
	key := tool + string(canon)
	if g.executed[key] {
		return "identical call already executed this cycle"
	}
	if tool == "speak" && g.spoke {
		return "only one speak per cycle"
	}
	if tool == "send_device_command" {
		// The same command that already worked needs time to take effect;
		// repeating it every cycle only floods the device.
		sum := summarize(tool, args)
		for _, a := range b.actionsSince(b.clock.Now().Add(-deviceRepeatWindow)) {
			if a.tool == tool && a.success && a.summary == sum {
				return "the same device command succeeded in the last 10 minutes"
			}
		}
		return ""
	}
	if tool != "create_task" {
		return ""
	}
	title, desc := str(args["title"]), str(args["description"])
	text := strings.ToLower(title + " " + desc + " " + str(args["task_types"]))
	zone := strings.TrimSpace(str(args["zone"]))
	kinds := taskKinds(title, desc)
	if why := b.inProgress(zone, text, kinds); why != "" {
		return why
	}
	if strings.Contains(title+desc, "デバイス") {
		for _, w := range deviceInvestigation {
			if strings.Contains(title+desc, w) {
				return "tasks about unknown devices are not created"
			}
		}
	}
	// Duplicates are per zone: the same title or kind elsewhere is another task.
	for _, t := range g.active {
		if deref(t.Zone) != zone {
			continue
		}
		if k := sharedKind(kinds, taskKinds(t.Title, t.Description)); k != "" {
			return "active task #" + itoa(t.ID) + " 「" + t.Title + "」 already covers " + k + " in this zone"
		}
		if titlesOverlap(t.Title, title) {
			return "active task #" + itoa(t.ID) + " 「" + t.Title + "」 already covers it"
		}
	}
	for _, a := range b.actionsSince(b.clock.Now().Add(-recentCreateWindow)) {
		if a.tool != "create_task" || a.zone != zone {
			continue
		}
		if strings.Contains(a.summary, strings.ToLower(title)) {
			return "a task with this title was attempted for this zone in the last 30 minutes"
		}
		// The active list was read when the cycle began; what the critical
		// rules created since is in the action history.
		if !a.at.Before(g.since) && a.success {
			if k := sharedKind(kinds, taskKinds(str(a.args["title"]), str(a.args["description"]))); k != "" {
				return "a task for " + k + " in this zone was created this cycle"
			}
		}
	}
	return ""
}

// inProgress says why an environment or urgent task must not be created
// while a task for the same alert kinds is in progress in its zone (alert
// suppression), or "". Only the kinds the task names count; a task naming
// none would cover everything out of band, so any kind in progress holds it.
// Safety tasks (a fall, a water leak) are never held: no alert in progress
// is about them.
func (b *brain) inProgress(zone, text string, kinds []string) string {
	if !strings.Contains(text, "environment") && !strings.Contains(text, "urgent") {
		return ""
	}
	var alerts []string
	for _, k := range kinds {
		if k == rules.KindFall || k == rules.KindWaterLeak {
			return ""
		}
		alerts = append(alerts, k)
	}
	if len(alerts) == 0 {
		if b.world.AnySuppressed(zone) {
			return "a task for this zone's conditions is already in progress"
		}
		return ""
	}
	for _, k := range alerts {
		if !b.world.Suppressed(zone, k) {
			return ""
		}
	}
	return "a task for " + strings.Join(alerts, ", ") + " in this zone is already in progress"
}

// safetyWords name the safety kinds in a task's text.
var safetyWords = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`転倒|倒れ|\bfall(s|en)?\b|\bfell\b`), rules.KindFall},
	{regexp.MustCompile(`漏水|水漏れ|\bleak`), rules.KindWaterLeak},
}

// taskKinds are the kinds of a task — the alert kinds (worldmodel keywords)
// and the safety kinds — named by its title, or by its description when the
// title names none (descriptions often quote other readings), as the
// backend's duplicate categories do.
func taskKinds(title, desc string) []string {
	if k := kindsOf(title); len(k) > 0 {
		return k
	}
	return kindsOf(desc)
}

func kindsOf(text string) []string {
	text = strings.ToLower(text)
	kinds := worldmodel.TaskAlertKinds(text)
	for _, w := range safetyWords {
		if w.re.MatchString(text) {
			kinds = append(kinds, w.kind)
		}
	}
	return kinds
}

// safetyOnly reports whether kinds name a safety kind (fall, leak) and no
// alert kind.
func safetyOnly(kinds []string) bool {
	safety := false
	for _, k := range kinds {
		if k != rules.KindFall && k != rules.KindWaterLeak {
			return false
		}
		safety = true
	}
	return safety
}

// sharedKind returns a kind in both lists, or "".
func sharedKind(a, b []string) string {
	for _, k := range a {
		if slices.Contains(b, k) {
			return k
		}
	}
	return ""
}

// accept records an executed call in the guard.
func (g *cycleGuard) accept(tool string, args map[string]any) {
	canon, _ := json.Marshal(args)
	g.executed[tool+string(canon)] = true
	if tool == "speak" {
		g.spoke = true
	}
}

// titlesOverlap is the original's case-insensitive substring match in either
// direction.
func titlesOverlap(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSpace(a)), strings.ToLower(strings.TrimSpace(b))
	if a == "" || b == "" {
		return false
	}
	return strings.Contains(a, b) || strings.Contains(b, a)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// summarize is an action's one-line summary, as the prompt's recent actions
// and the guards show and compare it.
func summarize(tool string, args map[string]any) string {
	switch tool {
	case "speak":
		m := []rune(str(args["message"]))
		if len(m) > 30 {
			m = m[:30]
		}
		z := str(args["zone"])
		if z == "" {
			z = "general"
		}
		return "zone=" + z + ", msg=" + string(m)
	case "create_task":
		return "title=" + strings.ToLower(str(args["title"]))
	case "get_zone_status":
		return "zone=" + str(args["zone_id"])
	case "get_device_status":
		z := str(args["zone_id"])
		if z == "" {
			z = "all"
		}
		return "zone=" + z
	}
	if tool == "send_device_command" {
		// Agent, tool and the decoded arguments: the same command in any
		// argument encoding reads the same.
		a, _ := json.Marshal(sanitizer.DeviceArgs(args["arguments"]))
		return str(args["agent_id"]) + "." + str(args["tool_name"]) + string(a)
	}
	b, _ := json.Marshal(args)
	s := []rune(string(b))
	if len(s) > 50 {
		s = s[:50]
	}
	return string(s)
}
