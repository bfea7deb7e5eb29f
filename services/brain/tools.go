package brain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/services/brain/queue"
	"github.com/somsgo/soms/services/brain/quote"
	"github.com/somsgo/soms/services/brain/sanitizer"
)

// toolSchemas are the functions offered to the LLM, in the original's shapes
// (plus the bounty the original design demands).
var toolSchemas = []llm.Tool{
	function("create_task", "人間に物理的な作業を依頼するタスクをダッシュボードに作成する。", `{
		"type": "object",
		"properties": {
			"title": {"type": "string", "description": "タスクのタイトル（日本語、簡潔に）"},
			"description": {"type": "string", "description": "作業内容の説明"},
			"urgency": {"type": "integer", "minimum": 0, "maximum": 4, "description": "緊急度 0（低）〜4（緊急）"},
			"zone": {"type": "string", "description": "対象ゾーンID"},
			"task_types": {"type": "string", "description": "カンマ区切りの種別 (environment, supply, urgent, general など)"},
			"bounty": {"type": "integer", "minimum": 500, "maximum": 5000, "description": "報酬ポイント（難易度に比例、500〜5000）"},
			"audience": {"type": "string", "enum": ["user", "admin"]},
			"skill_level": {"type": "string", "enum": ["junior", "intermediate", "senior"]}
		},
		"required": ["title", "description"]
	}`),
	function("send_device_command", "エッジデバイスにMCPツール呼び出しを送る（窓の開閉、照明、空調の温度設定など）。", `{
		"type": "object",
		"properties": {
			"agent_id": {"type": "string", "description": "デバイスID（例: window_01, hvac_01, swarm_hub_01）"},
			"tool_name": {"type": "string", "description": "ツール名（例: open, close, turn_on, set_temperature）"},
			"arguments": {"type": "string", "description": "引数のJSON文字列（例: {\"temperature\": 24}）"}
		},
		"required": ["agent_id", "tool_name"]
	}`),
	function("speak", "オフィスのスピーカーで短く話しかける（70文字以内）。", `{
		"type": "object",
		"properties": {
			"message": {"type": "string", "description": "話す内容（70文字以内）"},
			"zone": {"type": "string", "description": "対象ゾーン（省略時は全体）"},
			"tone": {"type": "string", "enum": ["neutral", "caring", "humorous", "alert"]}
		},
		"required": ["message"]
	}`),
	function("calibrate_shelf", "重量棚センサーを校正する。まず tare（空の状態で零点調整）、次に既知の重さを載せて set_known_weight。", `{
		"type": "object",
		"properties": {
			"device_id": {"type": "string", "description": "棚デバイスID（例: shelf_01）"},
			"step": {"type": "string", "enum": ["tare", "set_known_weight"]},
			"known_weight_g": {"type": "number", "description": "set_known_weight で載せた重さ (g)"}
		},
		"required": ["device_id", "step"]
	}`),
	function("check_inventory", "在庫状況を確認する。棚の重量センサーから数えた在庫の一覧を返す。", `{
		"type": "object",
		"properties": {"zone": {"type": "string", "description": "ゾーンID（省略時は全体）"}}
	}`),
	function("add_shopping_item", "買い物リストに商品を追加する（在庫不足のとき）。同じ商品が未購入なら数量を足す。", `{
		"type": "object",
		"properties": {
			"name": {"type": "string", "description": "商品名（棚に登録された品目名、例: コーヒー豆）"},
			"quantity": {"type": "integer", "minimum": 1, "maximum": 100, "description": "購入数量"},
			"category": {"type": "string", "description": "カテゴリ（例: 飲料）"},
			"store": {"type": "string", "description": "購入店舗（任意）"},
			"price": {"type": "number", "description": "参考価格（任意）"},
			"notes": {"type": "string", "description": "備考（任意）"}
		},
		"required": ["name", "quantity"]
	}`),
	function("get_zone_status", "ゾーンの現在の状態（在室、温度、湿度、CO2など）を取得する。", `{
		"type": "object",
		"properties": {"zone_id": {"type": "string", "description": "ゾーンID"}},
		"required": ["zone_id"]
	}`),
	function("get_active_tasks", "未完了のタスク一覧を取得する。", `{"type": "object", "properties": {}}`),
	function("get_device_status", "デバイスネットワークの状態（オンライン/オフライン/スリープ、電池）を取得する。", `{
		"type": "object",
		"properties": {"zone_id": {"type": "string", "description": "ゾーンID（省略時は全体）"}}
	}`),
}

func function(name, desc, params string) llm.Tool {
	return llm.Tool{Type: "function", Function: llm.ToolFunction{Name: name, Description: desc, Parameters: json.RawMessage(params)}}
}

// Caps of device text in tool results.
const (
	maxTreeLines         = 60
	maxDeviceAnswerRunes = 500
)

// toolResult is what the LLM sees as the tool message.
type toolResult struct {
	Success bool   `json:"success"`
	Result  string `json:"result,omitempty"`
	Error   string `json:"error,omitempty"`
}

// maxToolResultRunes caps what one tool result hands back to the LLM.
const maxToolResultRunes = 4000

// text is the tool message: JSON, so the result is one escaped string value
// (newlines, quotes and markup cannot leave it), capped in length.
func (r toolResult) text() string {
	r.Result, r.Error = capRunes(r.Result, maxToolResultRunes), capRunes(r.Error, maxToolResultRunes)
	b, _ := json.Marshal(r)
	return string(b)
}

func capRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func ok(format string, args ...any) toolResult {
	return toolResult{Success: true, Result: fmt.Sprintf(format, args...)}
}

func fail(format string, args ...any) toolResult {
	return toolResult{Success: false, Error: fmt.Sprintf(format, args...)}
}

// execute decodes and runs one LLM tool call.
func (b *brain) execute(ctx context.Context, call llm.ToolCall) toolResult {
	args, err := call.Function.Arguments.Decode()
	if err != nil {
		return fail("arguments are not a JSON object: %v", err)
	}
	return b.run(ctx, call.Function.Name, args)
}

// run checks a call against the sanitizer and executes it. Every caller —
// LLM, rule engine — goes through here.
func (b *brain) run(ctx context.Context, tool string, args map[string]any) toolResult {
	if err := b.san.Check(tool, args); err != nil {
		b.metrics.rejected.WithLabelValues(tool).Inc()
		return fail("%v", err)
	}
	switch tool {
	case "create_task":
		return b.createTask(ctx, args)
	case "send_device_command":
		return b.sendDeviceCommand(ctx, args)
	case "speak":
		return b.speak(ctx, args)
	case "calibrate_shelf":
		return b.calibrateShelf(ctx, args)
	case "check_inventory":
		return b.checkInventory(args)
	case "add_shopping_item":
		return b.addShoppingItem(ctx, args)
	case "get_zone_status":
		id := str(args["zone_id"])
		z, found := b.world.Zone(id)
		if !found {
			return fail("unknown zone %s", quote.ID(id))
		}
		return ok("%s", z.Describe())
	case "get_active_tasks":
		ts, err := b.activeTasks(ctx)
		if err != nil {
			return fail("could not read tasks: %v", err)
		}
		if len(ts) == 0 {
			return ok("アクティブなタスクはありません")
		}
		var lines []string
		for i, t := range ts {
			if i == 10 {
				break
			}
			lines = append(lines, fmt.Sprintf("- #%d %s [%s] (%s) %s", t.ID, quote.Text(t.Title, maxTitleRunes), zoneOr(t.Zone), typesText(t.TaskType), quote.ID(t.Status)))
		}
		return ok("%s", strings.Join(lines, "\n"))
	case "get_device_status":
		// The registry renders device ids and types as the devices sent them.
		return ok("%s", quote.Lines(b.registry.Tree(str(args["zone_id"])), maxTreeLines, maxDeviceRunes))
	}
	return fail("unknown tool %q", tool)
}

// createSafetyTask creates a critical rule's task: checked like any other
// except for the hourly task limit (sanitizer.CheckSafetyTask).
func (b *brain) createSafetyTask(ctx context.Context, args map[string]any) toolResult {
	if err := b.san.CheckSafetyTask(args); err != nil {
		b.metrics.rejected.WithLabelValues("create_task").Inc()
		return fail("%v", err)
	}
	return b.createTask(ctx, args)
}

func (b *brain) activeTasks(ctx context.Context) ([]backendapi.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	defer cancel()
	return b.dash.ListTasks(ctx, backendapi.TaskFilter{Status: backendapi.StatusActive, Limit: 100})
}

func (b *brain) createTask(ctx context.Context, args map[string]any) toolResult {
	title, desc := strings.TrimSpace(str(args["title"])), strings.TrimSpace(str(args["description"]))
	urgency := 2
	if n, isNum := jsonnum.Float(args["urgency"], sanitizer.ArgAccept); isNum {
		urgency = int(n)
	}
	types := splitTypes(str(args["task_types"]))
	zone := strings.TrimSpace(str(args["zone"]))
	audience := str(args["audience"])
	if audience == "" {
		audience = "user"
	}
	var skill *string
	if s := str(args["skill_level"]); s != "" {
		skill = &s
	}
	bounty := defaultBounty(urgency, deref(skill))
	if n, isNum := jsonnum.Float(args["bounty"], sanitizer.ArgAccept); isNum {
		bounty = int(n)
	}

	entry := queue.Entry{Title: title, Zone: zone, Urgency: urgency, MinPeople: 1, Interruptible: true, CreatedAt: b.clock.Now()}
	decision := b.queue.Decide(entry, officeView{b.world})
	held := !decision.Now

	req := backendapi.CreateTask{
		Title: title, Description: desc, Location: "Office", TaskType: types, Urgency: &urgency,
		Bounty: &bounty, Audience: audience, SkillLevel: skill, IsQueued: &held,
	}
	if zone != "" {
		req.Zone, req.Location = &zone, zone
	}
	exp := b.clock.Now().Add(expiry(types)).UTC()
	req.ExpiresAt = &exp

	if audience != "admin" && b.voice != nil {
		vctx, cancel := context.WithTimeout(ctx, b.cfg.VoiceTimeout)
		a, err := b.voice.AnnounceWithCompletion(vctx, voice.Task{Title: title, Description: desc, Location: req.Location, Urgency: urgency, Zone: zone, Bounty: bounty, TaskType: types})
		cancel()
		if err != nil {
			// The task matters more than its announcement.
			b.log.Warn("task announcement failed; creating the task without audio", "title", title, "err", err)
		} else {
			req.AnnouncementAudioURL, req.AnnouncementText = &a.AnnouncementAudioURL, &a.AnnouncementText
			req.CompletionAudioURL, req.CompletionText = &a.CompletionAudioURL, &a.CompletionText
		}
	}

	cctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	t, err := b.dash.CreateTask(cctx, req)
	cancel()
	if err != nil {
		return fail("backend rejected the task: %v", err)
	}
	b.san.RecordTask()
	b.metrics.tasks.WithLabelValues(map[bool]string{true: "queued", false: "dispatched"}[held]).Inc()
	text := strings.ToLower(title + " " + desc + " " + strings.Join(types, ","))
	if (strings.Contains(text, "environment") || strings.Contains(text, "urgent")) && !safetyOnly(taskKinds(title, desc)) {
		// A fall or leak task handles no alert: it must not mark the zone's
		// out-of-band values as in progress.
		if kinds := b.world.SuppressForTask(zone, text); len(kinds) > 0 {
			b.log.Debug("alerts suppressed by task", "task", t.ID, "zone", zone, "kinds", kinds)
		}
	}
	if slices.Contains(types, "supply") {
		// A restock task handles the zone's low stock: shown as requested.
		b.restockSuppress(zone)
	}
	if !held && t.IsQueued {
		// The backend merged this urgent task into a held one of the same
		// zone and kind: release it now.
		dctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
		if err := b.dash.Dispatch(dctx, t.ID); err != nil {
			b.log.Warn("releasing the held task an urgent one merged into", "id", t.ID, "err", err)
		}
		cancel()
	}
	if held {
		entry.TaskID = t.ID
		if t.ExpiresAt != nil {
			entry.Deadline = *t.ExpiresAt
		}
		b.queue.Push(entry)
		b.log.Info("task created and queued", "id", t.ID, "title", t.Title, "zone", zone, "reason", decision.Reason)
		return ok("created (ID %d), queued: %s", t.ID, decision.Reason)
	}
	b.log.Info("task created", "id", t.ID, "title", t.Title, "zone", zone, "urgency", urgency, "bounty", bounty)
	return ok("created (ID %d)", t.ID)
}

// defaultBounty pays by difficulty when the LLM names no reward: more for
// urgent and skilled work, always within the sanitizer's 500–5000.
func defaultBounty(urgency int, skill string) int {
	b := 500 + 250*urgency
	switch skill {
	case "intermediate":
		b += 500
	case "senior":
		b += 1500
	}
	return min(max(b, 500), 5000)
}

func (b *brain) sendDeviceCommand(ctx context.Context, args map[string]any) toolResult {
	agent, tool := str(args["agent_id"]), str(args["tool_name"])
	dargs := sanitizer.DeviceArgs(args["arguments"])
	timeout := b.registry.Timeout(agent)
	if _, known := b.registry.Get(agent); !known {
		timeout = b.cfg.MCPTimeout
	}
	res, err := b.devices.Call(ctx, agent, tool, dargs, timeout)
	b.metrics.mcp.WithLabelValues(mcpOutcome(res, err)).Inc()
	if err != nil {
		var de *mcp.DeviceError
		if errors.As(err, &de) {
			return fail("device error: %s", quote.Text(de.Message, maxDeviceAnswerRunes))
		}
		return fail("%v", err)
	}
	if res.Queued {
		eta := ""
		if res.EstimatedDelivery > 0 {
			eta = fmt.Sprintf(", delivery in about %ds", int(res.EstimatedDelivery.Seconds()))
		}
		return ok("%s on %s queued for next wake (target %s%s)", tool, agent, res.Target, eta)
	}
	return ok("%s on %s: %s", tool, agent, deviceAnswer(res.Raw))
}

// deviceAnswer is a device's reply as the LLM sees it: JSON re-encoded on
// one line (strings stay JSON strings, markup escaped) when it is short
// enough, anything else quoted as text.
func deviceAnswer(raw []byte) string {
	var v any
	if len(raw) <= maxDeviceAnswerRunes && json.Unmarshal(raw, &v) == nil {
		if b, err := json.Marshal(v); err == nil && len(b) <= maxDeviceAnswerRunes*2 {
			return string(b)
		}
	}
	return quote.Text(string(raw), maxDeviceAnswerRunes)
}

func mcpOutcome(res mcp.Outcome, err error) string {
	switch {
	case errors.Is(err, mcp.ErrTimeout):
		return "timeout"
	case err != nil:
		return "error"
	case res.Queued:
		return "queued"
	}
	return "ok"
}

// speak synthesises a message and posts it as a voice event. Like the
// original, it succeeds even when TTS or the backend fail: the words are
// still shown on the displays when the audio is missing.
func (b *brain) speak(ctx context.Context, args map[string]any) toolResult {
	msg, zone, tone := strings.TrimSpace(str(args["message"])), str(args["zone"]), str(args["tone"])
	if tone == "" {
		tone = "neutral"
	}
	audio := ""
	if b.voice != nil {
		sctx, cancel := context.WithTimeout(ctx, b.cfg.SpeakTimeout)
		s, err := b.voice.Synthesize(sctx, msg, tone)
		cancel()
		if err != nil {
			b.log.Warn("speech synthesis failed; posting the text only", "err", err)
		} else {
			audio = s.AudioURL
		}
	}
	ectx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	err := b.dash.PostVoiceEvent(ectx, backendapi.VoiceEvent{Message: msg, AudioURL: audio, Zone: zone, Tone: tone})
	cancel()
	if err != nil {
		b.log.Warn("voice event not stored", "err", err)
	}
	b.san.RecordSpeak(args)
	return ok("spoke in %s: %s", sanitizer.SpeakKey(args), msg)
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

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
