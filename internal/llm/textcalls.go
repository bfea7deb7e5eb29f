package llm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// textToolCall is the Hermes/Qwen convention some local servers fall back to
// when their chat template does not map tool calls: the call is written into
// the content as <tool_call>{"name": ..., "arguments": {...}}</tool_call>.
var textToolCall = regexp.MustCompile(`(?s)<tool_call>\s*(.*?)\s*</tool_call>`)

// RecoverTextToolCalls moves tool calls written as text into ToolCalls when
// the message has none, and removes them from the content. Blocks that are
// not a JSON object with a name are left in the content.
func RecoverTextToolCalls(m Message) Message {
	if len(m.ToolCalls) > 0 || !strings.Contains(string(m.Content), "<tool_call>") {
		return m
	}
	content := string(m.Content)
	var calls []ToolCall
	content = textToolCall.ReplaceAllStringFunc(content, func(block string) string {
		body := textToolCall.FindStringSubmatch(block)[1]
		var c struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal([]byte(body), &c) != nil || c.Name == "" {
			return block
		}
		var args Arguments = "{}"
		if len(c.Arguments) > 0 {
			if err := json.Unmarshal(c.Arguments, &args); err != nil {
				return block
			}
		}
		calls = append(calls, ToolCall{ID: fmt.Sprintf("call_text_%d", len(calls)+1), Type: "function", Function: FunctionCall{Name: c.Name, Arguments: args}})
		return ""
	})
	if len(calls) == 0 {
		return m
	}
	m.ToolCalls = calls
	m.Content = Content(strings.TrimSpace(content))
	return m
}
