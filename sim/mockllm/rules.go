package mockllm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/somsgo/soms/internal/llm"
)

// Scopes say which text a rule's pattern is matched against.
const (
	// ScopeLastUser matches the last user message only (the default). The
	// original mock matched all messages, so the brain's system prompt (which
	// mentions 温度 and 高) made every cycle look like a heat alert.
	ScopeLastUser = "last_user"
	// ScopeAll matches all messages joined, like the original mock.
	ScopeAll = "all"
)

// Rule maps a prompt pattern to an answer: a tool call, or plain content.
type Rule struct {
	Name string `json:"name" yaml:"name"`
	// Match is a regular expression (RE2). Named groups, e.g. (?P<zone>\w+),
	// can be used as {{zone}} in Arguments and Content.
	Match string `json:"match" yaml:"match"`
	// Scope is last_user (default) or all.
	Scope string `json:"scope,omitempty" yaml:"scope,omitempty"`
	// Tool is the function to call; empty answers with Content only.
	Tool      string         `json:"tool,omitempty" yaml:"tool,omitempty"`
	Arguments map[string]any `json:"arguments,omitempty" yaml:"arguments,omitempty"`
	Content   string         `json:"content,omitempty" yaml:"content,omitempty"`
	// NoTools makes the rule apply only to requests without tools (the voice
	// service's text generation); by default rules apply only to tool requests.
	NoTools bool `json:"no_tools,omitempty" yaml:"no_tools,omitempty"`

	re *regexp.Regexp
}

// compile validates the rule.
func (r *Rule) compile() error {
	if r.Name == "" {
		return fmt.Errorf("rule without a name")
	}
	re, err := regexp.Compile(r.Match)
	if err != nil {
		return fmt.Errorf("rule %q: bad pattern: %w", r.Name, err)
	}
	switch r.Scope {
	case "", ScopeLastUser, ScopeAll:
	default:
		return fmt.Errorf("rule %q: scope must be %s or %s", r.Name, ScopeLastUser, ScopeAll)
	}
	if r.Tool == "" && r.Content == "" {
		return fmt.Errorf("rule %q: needs a tool or content", r.Name)
	}
	r.re = re
	return nil
}

// CompileRules validates rules, returning them ready to match.
func CompileRules(rules []Rule) ([]Rule, error) {
	out := make([]Rule, len(rules))
	for i := range rules {
		out[i] = rules[i]
		if err := out[i].compile(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// match returns the captured groups when the rule applies to req.
func (r *Rule) match(req *llm.ChatRequest) (map[string]string, bool) {
	if r.NoTools != (len(req.Tools) == 0) {
		return nil, false
	}
	if r.Tool != "" && !offers(req, r.Tool) {
		return nil, false // a model never calls a function it was not offered
	}
	text := scopeText(req, r.Scope)
	m := r.re.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	groups := map[string]string{}
	for i, name := range r.re.SubexpNames() {
		if name != "" && i < len(m) {
			groups[name] = m[i]
		}
	}
	return groups, true
}

func offers(req *llm.ChatRequest, tool string) bool {
	for _, t := range req.Tools {
		if t.Function.Name == tool {
			return true
		}
	}
	return false
}

func scopeText(req *llm.ChatRequest, scope string) string {
	if scope == ScopeAll {
		parts := make([]string, 0, len(req.Messages))
		for _, m := range req.Messages {
			parts = append(parts, string(m.Content))
		}
		return strings.Join(parts, " ")
	}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			return string(req.Messages[i].Content)
		}
	}
	return ""
}

// expand fills {{group}} placeholders in every string of v.
func expand(v any, groups map[string]string) any {
	switch x := v.(type) {
	case string:
		for k, g := range groups {
			x = strings.ReplaceAll(x, "{{"+k+"}}", g)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = expand(e, groups)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expand(e, groups)
		}
		return out
	}
	return v
}

// answer builds the assistant message for a matched rule.
func (r *Rule) answer(groups map[string]string, callID string) (llm.Message, error) {
	msg := llm.Message{Role: llm.RoleAssistant, Content: llm.Content(expand(r.Content, groups).(string))}
	if r.Tool == "" {
		return msg, nil
	}
	args := expand(r.Arguments, groups)
	if args == nil {
		args = map[string]any{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return llm.Message{}, fmt.Errorf("rule %q: arguments: %w", r.Name, err)
	}
	msg.ToolCalls = []llm.ToolCall{{ID: callID, Type: "function", Function: llm.FunctionCall{Name: r.Tool, Arguments: llm.Arguments(b)}}}
	if msg.Content == "" {
		msg.Content = "対応します。"
	}
	return msg, nil
}

// zoneRef captures the zone id the brain writes in brackets before each alert or
// event line ("[meeting_room] ...").
const zoneRef = `\[(?P<zone>[A-Za-z0-9_.-]+)\][^\n]*`

// DefaultRules are the original mock's keyword rules, matched against the last
// user message and aimed at the zone named in the matching line.
func DefaultRules() []Rule {
	return []Rule{
		{
			Name: "high_temperature", Match: `(?i)` + zoneRef + `(温度|気温|室温|temperature)[^\n]*(高|hot|暑)`,
			Tool: "create_task", Content: "室温が高いのでタスクを作成します。",
			Arguments: map[string]any{
				"title": "室温を下げてください", "description": "{{zone}}の室温が高くなっています。エアコンを入れるか窓を開けてください。",
				"urgency": 3, "task_types": "environment,urgent", "zone": "{{zone}}",
			},
		},
		{
			Name: "high_co2", Match: `(?i)` + zoneRef + `(co2|二酸化炭素)[^\n]*(換気|超)`,
			Tool: "create_task", Content: "CO2濃度が高いので換気タスクを作成します。",
			Arguments: map[string]any{
				"title": "換気を行ってください", "description": "{{zone}}のCO2濃度が高くなっています。窓を開けるか換気扇を回してください。",
				"urgency": 2, "task_types": "environment", "zone": "{{zone}}",
			},
		},
		{
			Name: "empty_coffee", Match: zoneRef + `コーヒー[^\n]*(空|補充|在庫)`,
			Tool: "create_task", Content: "コーヒー豆の補充タスクを作成します。",
			Arguments: map[string]any{
				"title": "コーヒー豆を補充してください", "description": "{{zone}}のコーヒー豆が少なくなっています。",
				"urgency": 1, "task_types": "supply", "zone": "{{zone}}",
			},
		},
		{
			Name: "low_humidity", Match: `(?i)` + zoneRef + `(湿度|humidity)[^\n]*(低|乾燥)`,
			Tool: "create_task", Content: "湿度が低いのでタスクを作成します。",
			Arguments: map[string]any{
				"title": "加湿と換気を行ってください", "description": "{{zone}}の湿度が低くなっています。加湿器を使ってください。",
				"urgency": 2, "task_types": "environment", "zone": "{{zone}}",
			},
		},
		{
			Name: "sedentary", Match: zoneRef + `(sedentary_alert|座りっぱなし)`,
			Tool: "speak", Content: "休憩を促します。",
			Arguments: map[string]any{"message": "長時間座りっぱなしです。少し立って体を伸ばしましょう。", "tone": "caring", "zone": "{{zone}}"},
		},
		{
			Name: "sensor_tamper", Match: zoneRef + `(sensor_tamper|急変)`,
			Tool: "speak", Content: "センサーの急変に反応します。",
			Arguments: map[string]any{"message": "誰かセンサーにいたずらしましたか？", "tone": "humorous", "zone": "{{zone}}"},
		},
		{
			Name: "person_entered", Match: zoneRef + `(person_entered|入室)`,
			Tool: "speak", Content: "入室を歓迎します。",
			Arguments: map[string]any{"message": "いらっしゃいませ。今日もよろしくお願いします。", "tone": "neutral", "zone": "{{zone}}"},
		},
	}
}
