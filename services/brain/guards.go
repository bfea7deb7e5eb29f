package brain

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/services/brain/sanitizer"
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
}

func newCycleGuard(active []backendapi.Task) *cycleGuard {
	return &cycleGuard{executed: map[string]bool{}, active: active}
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
	zone := str(args["zone"])
	if (strings.Contains(text, "environment") || strings.Contains(text, "urgent")) && b.world.HasSuppression(zone) {
		return "a task for this zone's conditions is already in progress"
	}
	if strings.Contains(title+desc, "デバイス") {
		for _, w := range deviceInvestigation {
			if strings.Contains(title+desc, w) {
				return "tasks about unknown devices are not created"
			}
		}
	}
	for _, t := range g.active {
		if titlesOverlap(t.Title, title) {
			return "active task #" + itoa(t.ID) + " 「" + t.Title + "」 already covers it"
		}
	}
	for _, a := range b.actionsSince(b.clock.Now().Add(-recentCreateWindow)) {
		if a.tool == "create_task" && strings.Contains(a.summary, strings.ToLower(title)) {
			return "a task with this title was attempted in the last 30 minutes"
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
