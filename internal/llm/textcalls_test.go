package llm

import "testing"

func TestRecoverTextToolCalls(t *testing.T) {
	tests := []struct {
		name, content string
		calls         []string // name:arguments
		rest          string
	}{
		{"one call", "換気します\n<tool_call>\n{\"name\":\"create_task\",\"arguments\":{\"title\":\"換気\"}}\n</tool_call>", []string{`create_task:{"title":"換気"}`}, "換気します"},
		{"string arguments", `<tool_call>{"name":"speak","arguments":"{\"message\":\"hi\"}"}</tool_call>`, []string{`speak:{"message":"hi"}`}, ""},
		{"two calls", `<tool_call>{"name":"a"}</tool_call><tool_call>{"name":"b","arguments":{}}</tool_call>`, []string{"a:{}", "b:{}"}, ""},
		{"not json stays text", `<tool_call>oops</tool_call>`, nil, `<tool_call>oops</tool_call>`},
		{"plain answer", "問題ありません", nil, "問題ありません"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := RecoverTextToolCalls(Message{Role: RoleAssistant, Content: Content(tc.content)})
			if len(m.ToolCalls) != len(tc.calls) {
				t.Fatalf("calls = %+v", m.ToolCalls)
			}
			for i, c := range m.ToolCalls {
				if got := c.Function.Name + ":" + string(c.Function.Arguments); got != tc.calls[i] || c.ID == "" {
					t.Errorf("call %d = %s (id %q), want %s", i, got, c.ID, tc.calls[i])
				}
			}
			if string(m.Content) != tc.rest {
				t.Errorf("content = %q, want %q", m.Content, tc.rest)
			}
		})
	}
}
