package voice

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/sim/mockllm"
)

var co2Task = voice.Task{Title: "換気を行ってください", Description: "CO2濃度が高くなっています。", Location: "meeting_room", Zone: "meeting_room", Urgency: 3}

func TestAnnouncementFromLLM(t *testing.T) {
	srv := newMockLLM(t, voiceRules)
	w := NewWriter(llmClient(srv.URL, 5*time.Second), 5*time.Second, 7, quiet, nil)
	units := map[string]bool{}
	for range 20 {
		text, unit, source := w.Announcement(context.Background(), co2Task)
		if source != SourceLLM {
			t.Fatalf("source = %s (text %q)", source, text)
		}
		for _, want := range []string{"至急、", "換気を行ってください", "meeting room", unit} {
			if !strings.Contains(text, want) {
				t.Errorf("announcement %q lacks %q", text, want)
			}
		}
		if strings.Contains(text, "think") {
			t.Errorf("reasoning left in %q", text)
		}
		units[unit] = true
	}
	if len(units) < 3 {
		t.Errorf("reward units not varied: %v", units)
	}

	bounty := co2Task
	bounty.Bounty, bounty.Urgency = 150, 1
	text, unit, _ := w.Announcement(context.Background(), bounty)
	if !strings.Contains(text, "150"+unit) || strings.HasPrefix(text, "至急") {
		t.Errorf("bounty announcement %q (unit %s)", text, unit)
	}

	done, source := w.Completion(context.Background(), co2Task)
	if source != SourceLLM || !strings.Contains(done, "換気を行ってください") {
		t.Errorf("completion %q from %s", done, source)
	}
}

func TestTemplateFallback(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leave
		select {                           // never answers
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	cases := []struct {
		name  string
		url   string
		rules []mockllm.Rule
	}{
		{"LLM down", down.URL, nil},
		{"LLM times out", hung.URL, nil},
		{"only reasoning", "", []mockllm.Rule{{Name: "think", NoTools: true, Match: `.`, Content: "<think>何を言おうか……"}}},
		{"English", "", []mockllm.Rule{{Name: "en", NoTools: true, Match: `.`, Content: "Please open the window."}}},
		{"markup", "", []mockllm.Rule{{Name: "md", NoTools: true, Match: `.`, Content: "**お願い**: 換気してください"}}},
		{"too long", "", []mockllm.Rule{{Name: "long", NoTools: true, Match: `.`, Content: strings.Repeat("お願いします。", 30)}}},
		// The default mock answers 承知しました。 to text prompts: no reward unit.
		{"no reward unit", "", []mockllm.Rule{{Name: "ack", NoTools: true, Match: `.`, Content: "承知しました。"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if url == "" {
				url = newMockLLM(t, tc.rules).URL
			}
			w := NewWriter(llmClient(url, 5*time.Second), 300*time.Millisecond, 3, quiet, nil)
			task := co2Task
			task.Urgency = 4
			text, unit, source := w.Announcement(context.Background(), task)
			if source != SourceTemplate {
				t.Fatalf("source = %s, text %q", source, text)
			}
			want := "緊急です。お願いがあります。meeting roomで換気を行ってくださいをお願いします。お礼は" + unit + "です。"
			if text != want {
				t.Errorf("template = %q, want %q", text, want)
			}
			done, source := w.Completion(context.Background(), task)
			if tc.name != "no reward unit" && source != SourceTemplate {
				t.Errorf("completion from %s: %q", source, done)
			}
			if source == SourceTemplate && !strings.Contains(done, task.Title) {
				t.Errorf("completion template %q lacks the title", done)
			}
			for _, write := range []func(context.Context) (string, string){w.Rejection, w.Acceptance} {
				if s, _ := write(context.Background()); s == "" {
					t.Error("empty stock phrase")
				}
			}
		})
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want, why string }{
		{"お願いします。", "お願いします。", ""},
		{"<think>\nうーん\n</think>\n\n「換気をお願いします。」", "換気をお願いします。", ""},
		{"一行目。\n二行目。", "一行目。二行目。", ""},
		{"", "", "empty"},
		{"<think>unterminated", "", "empty"},
		{"OK, will do.", "", "no Japanese text"},
		{"{\"text\": \"換気\"}", "", "contains markup"},
		{strings.Repeat("あ", 31), "", "longer than 30 characters"},
	} {
		got, why := Clean(tc.in, 30)
		if got != tc.want || why != tc.why {
			t.Errorf("Clean(%q) = %q, %q; want %q, %q", tc.in, got, why, tc.want, tc.why)
		}
	}
}

func TestFeedbackKinds(t *testing.T) {
	w := NewWriter(llmClient(newMockLLM(t, voiceRules).URL, 5*time.Second), 5*time.Second, 1, quiet, nil)
	for _, kind := range FeedbackKinds {
		text, source, ok := w.Feedback(context.Background(), kind)
		if !ok || text == "" || source != SourceLLM {
			t.Errorf("%s: %q %s %v", kind, text, source, ok)
		}
	}
	if _, _, ok := w.Feedback(context.Background(), "nope"); ok {
		t.Error("unknown kind accepted")
	}
}
