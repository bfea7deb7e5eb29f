package brain

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/llm"
)

// toolSchemas are the functions offered to the LLM, in the original's shapes.
var toolSchemas = []llm.Tool{
	function("create_task", "人間に物理的な作業を依頼するタスクをダッシュボードに作成する。", `{
		"type": "object",
		"properties": {
			"title": {"type": "string", "description": "タスクのタイトル（日本語、簡潔に）"},
			"description": {"type": "string", "description": "作業内容の説明"},
			"urgency": {"type": "integer", "minimum": 0, "maximum": 4, "description": "緊急度 0（低）〜4（緊急）"},
			"zone": {"type": "string", "description": "対象ゾーンID"},
			"task_types": {"type": "string", "description": "カンマ区切りの種別 (environment, supply, urgent, general など)"},
			"audience": {"type": "string", "enum": ["user", "admin"]},
			"skill_level": {"type": "string", "enum": ["junior", "intermediate", "senior"]}
		},
		"required": ["title", "description"]
	}`),
	function("get_zone_status", "ゾーンの現在の状態（在室、温度、湿度、CO2など）を取得する。", `{
		"type": "object",
		"properties": {"zone_id": {"type": "string", "description": "ゾーンID"}},
		"required": ["zone_id"]
	}`),
	function("get_active_tasks", "未完了のタスク一覧を取得する。", `{"type": "object", "properties": {}}`),
}

func function(name, desc, params string) llm.Tool {
	return llm.Tool{Type: "function", Function: llm.ToolFunction{Name: name, Description: desc, Parameters: json.RawMessage(params)}}
}

// toolResult is what the LLM sees as the tool message.
type toolResult struct {
	Success bool   `json:"success"`
	Result  string `json:"result,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (r toolResult) text() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func ok(format string, args ...any) toolResult {
	return toolResult{Success: true, Result: fmt.Sprintf(format, args...)}
}

func fail(format string, args ...any) toolResult {
	return toolResult{Success: false, Error: fmt.Sprintf(format, args...)}
}

// execute runs one tool call and returns its result.
func (b *brain) execute(ctx context.Context, call llm.ToolCall) toolResult {
	args, err := call.Function.Arguments.Decode()
	if err != nil {
		return fail("arguments are not a JSON object: %v", err)
	}
	switch call.Function.Name {
	case "create_task":
		return b.createTask(ctx, args)
	case "get_zone_status":
		id := str(args["zone_id"])
		z, found := b.world.Zone(id)
		if !found {
			return fail("unknown zone %q", id)
		}
		return ok("%s", z.Describe())
	case "get_active_tasks":
		ts, err := b.dash.ListTasks(ctx, dashboard.TaskFilter{Status: "active", Limit: 10})
		if err != nil {
			return fail("could not read tasks: %v", err)
		}
		if len(ts) == 0 {
			return ok("アクティブなタスクはありません")
		}
		var lines []string
		for _, t := range ts {
			lines = append(lines, fmt.Sprintf("- #%d %s [%s] (%s) %s", t.ID, t.Title, deref(t.Zone), strings.Join(t.TaskType, ","), t.Status))
		}
		return ok("%s", strings.Join(lines, "\n"))
	}
	return fail("unknown tool %q", call.Function.Name)
}

func (b *brain) createTask(ctx context.Context, args map[string]any) toolResult {
	title, desc := strings.TrimSpace(str(args["title"])), strings.TrimSpace(str(args["description"]))
	if title == "" || desc == "" {
		return fail("title and description are required")
	}
	urgency := 2
	if v, present := args["urgency"]; present {
		n, isNum := toInt(v)
		if !isNum || n < 0 || n > 4 {
			return fail("urgency must be an integer between 0 and 4, got %v", v)
		}
		urgency = n
	}
	types := splitTypes(str(args["task_types"]))
	zone := strings.TrimSpace(str(args["zone"]))

	// A task that restates an active one is not created again.
	active, err := b.dash.ListTasks(ctx, dashboard.TaskFilter{Status: "active", Limit: 100})
	if err != nil {
		return fail("could not check active tasks: %v", err)
	}
	for _, t := range active {
		if titlesOverlap(t.Title, title) && (zone == "" || deref(t.Zone) == "" || deref(t.Zone) == zone) {
			return ok("skipped: task #%d %q is already active", t.ID, t.Title)
		}
	}

	req := dashboard.CreateTask{
		Title: title, Description: desc, Location: "Office", TaskType: types, Urgency: &urgency,
		Audience: str(args["audience"]),
	}
	if zone != "" {
		req.Zone, req.Location = &zone, zone
	}
	if s := str(args["skill_level"]); s != "" {
		req.SkillLevel = &s
	}
	exp := b.clock.Now().Add(expiry(types)).UTC()
	req.ExpiresAt = &exp
	t, err := b.dash.CreateTask(ctx, req)
	if err != nil {
		return fail("backend rejected the task: %v", err)
	}
	b.log.Info("task created", "id", t.ID, "title", t.Title, "zone", zone, "urgency", urgency)
	return ok("created (ID %d)", t.ID)
}

// expiry follows the original rules: a day by default, an hour for
// environment tasks, a week for supplies, 30 minutes when urgent.
func expiry(types []string) time.Duration {
	d := 24 * time.Hour
	has := func(s string) bool {
		for _, t := range types {
			if t == s {
				return true
			}
		}
		return false
	}
	if has("environment") {
		d = min(d, time.Hour)
	}
	if has("supply") {
		d = 7 * 24 * time.Hour
	}
	if has("urgent") {
		d = min(d, 30*time.Minute)
	}
	return d
}

func splitTypes(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(strings.ToLower(t)); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = []string{"general"}
	}
	return out
}

// titlesOverlap is the original's case-insensitive substring match in either
// direction.
func titlesOverlap(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	return strings.Contains(a, b) || strings.Contains(b, a)
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
