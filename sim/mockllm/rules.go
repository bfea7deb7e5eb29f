package mockllm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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
	// ScopeToolResult matches the tool results a request ends with (what the
	// client's tools returned since the last assistant message), so an answer
	// can quote them as a real model would. Only these rules apply to such a
	// request; without a match it gets the plain closing answer.
	ScopeToolResult = "tool_result"
)

// Rule maps a prompt pattern to an answer: a tool call, or plain content.
type Rule struct {
	Name string `json:"name" yaml:"name"`
	// Match is a regular expression (RE2). Named groups, e.g. (?P<zone>\w+),
	// can be used as {{zone}} in Arguments and Content.
	Match string `json:"match" yaml:"match"`
	// Scope is last_user (default), all or tool_result.
	Scope string `json:"scope,omitempty" yaml:"scope,omitempty"`
	// Tool is the function to call; empty answers with Content only.
	Tool      string         `json:"tool,omitempty" yaml:"tool,omitempty"`
	Arguments map[string]any `json:"arguments,omitempty" yaml:"arguments,omitempty"`
	Content   string         `json:"content,omitempty" yaml:"content,omitempty"`
	// NoTools makes the rule apply only to requests without tools (the voice
	// service's text generation); by default rules apply only to tool requests.
	NoTools bool `json:"no_tools,omitempty" yaml:"no_tools,omitempty"`
	// Pool is a list of lines; {{pool}} in Content or Arguments is one of them,
	// picked by the mock's seeded generator.
	Pool []string `json:"pool,omitempty" yaml:"pool,omitempty"`
	// Extract adds placeholders found anywhere in the matched text: name →
	// pattern whose first group is the value (empty when absent).
	Extract map[string]string `json:"extract,omitempty" yaml:"extract,omitempty"`

	re      *regexp.Regexp
	extract map[string]*regexp.Regexp
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
	case "", ScopeLastUser, ScopeAll, ScopeToolResult:
	default:
		return fmt.Errorf("rule %q: scope must be %s, %s or %s", r.Name, ScopeLastUser, ScopeAll, ScopeToolResult)
	}
	if r.Tool == "" && r.Content == "" {
		return fmt.Errorf("rule %q: needs a tool or content", r.Name)
	}
	r.extract = map[string]*regexp.Regexp{}
	for name, pat := range r.Extract {
		x, err := regexp.Compile(pat)
		if err != nil {
			return fmt.Errorf("rule %q: extract %s: %w", r.Name, name, err)
		}
		if x.NumSubexp() < 1 {
			return fmt.Errorf("rule %q: extract %s: the pattern needs a group", r.Name, name)
		}
		r.extract[name] = x
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
	if (r.Scope == ScopeToolResult) != endsWithToolResult(req) {
		return nil, false
	}
	text := scopeText(req, r.Scope)
	m := r.re.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	groups := map[string]string{}
	for name, x := range r.extract {
		groups[name] = ""
		if e := x.FindStringSubmatch(text); e != nil {
			groups[name] = strings.TrimSpace(e[1])
		}
	}
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

func endsWithToolResult(req *llm.ChatRequest) bool {
	return len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == llm.RoleTool
}

func scopeText(req *llm.ChatRequest, scope string) string {
	if scope == ScopeToolResult {
		var parts []string
		for i := len(req.Messages) - 1; i >= 0 && req.Messages[i].Role == llm.RoleTool; i-- {
			parts = append(parts, string(req.Messages[i].Content))
		}
		slices.Reverse(parts)
		return strings.Join(parts, "\n")
	}
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
