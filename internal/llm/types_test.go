package llm

import (
	"encoding/json"
	"testing"
)

func TestArgumentsDecodeStringOrObject(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"openai string", `{"name":"create_task","arguments":"{\"title\":\"換気\"}"}`, "換気"},
		{"object", `{"name":"create_task","arguments":{"title":"換気"}}`, "換気"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fc FunctionCall
			if err := json.Unmarshal([]byte(tc.raw), &fc); err != nil {
				t.Fatal(err)
			}
			m, err := fc.Arguments.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if m["title"] != tc.want {
				t.Fatalf("title = %v", m["title"])
			}
			out, _ := json.Marshal(fc)
			var back struct{ Arguments any }
			_ = json.Unmarshal(out, &back)
			if _, isString := back.Arguments.(string); !isString {
				t.Fatalf("arguments must encode as a JSON string, got %s", out)
			}
		})
	}
}

func TestContentForms(t *testing.T) {
	tests := []struct {
		raw  string
		want Content
	}{
		{`{"role":"user","content":"hello"}`, "hello"},
		{`{"role":"assistant","content":null}`, ""},
		{`{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"text","text":"b"}]}`, "a\nb"},
	}
	for _, tc := range tests {
		var m Message
		if err := json.Unmarshal([]byte(tc.raw), &m); err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if m.Content != tc.want {
			t.Fatalf("%s: content = %q, want %q", tc.raw, m.Content, tc.want)
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr bool
	}{
		{"think stripped", `{"choices":[{"message":{"role":"assistant","content":"<think>hmm\nlong</think>\n了解"}}]}`, "了解", false},
		{"unterminated think", `{"choices":[{"message":{"role":"assistant","content":"<think>never ends"}}]}`, "", false},
		{"error object", `{"error":{"message":"model not found"}}`, "", true},
		{"no choices", `{"choices":[]}`, "", true},
		{"garbage", `<html>502</html>`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseResponse([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && string(m.Content) != tc.want {
				t.Fatalf("content = %q, want %q", m.Content, tc.want)
			}
		})
	}
}
