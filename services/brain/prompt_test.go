package brain

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

func TestExpiry(t *testing.T) {
	tests := []struct {
		types []string
		want  time.Duration
	}{
		{[]string{"general"}, 24 * time.Hour},
		{[]string{"environment"}, time.Hour},
		{[]string{"supply"}, 7 * 24 * time.Hour},
		{[]string{"environment", "urgent"}, 30 * time.Minute},
		{[]string{"supply", "urgent"}, 30 * time.Minute},
	}
	for _, tc := range tests {
		if got := expiry(tc.types); got != tc.want {
			t.Errorf("expiry(%v) = %v, want %v", tc.types, got, tc.want)
		}
	}
}

func TestDefaultBounty(t *testing.T) {
	tests := []struct {
		urgency int
		skill   string
		want    int
	}{{0, "", 500}, {2, "", 1000}, {4, "senior", 3000}, {4, "intermediate", 2000}}
	for _, tc := range tests {
		if got := defaultBounty(tc.urgency, tc.skill); got != tc.want {
			t.Errorf("defaultBounty(%d,%q) = %d, want %d", tc.urgency, tc.skill, got, tc.want)
		}
	}
}

func TestTitlesOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"換気を行ってください", "換気を行ってください", true},
		{"会議室の換気を行ってください", "換気を行ってください", true},
		{"Open the Window", "open the window now", true},
		{"換気を行ってください", "室温を下げてください", false},
		{"", "anything", false},
	}
	for _, tc := range tests {
		if got := titlesOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("titlesOverlap(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestBuildPrompt(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC)
	c := clock.NewManual(now)
	w := worldmodel.New(c)
	_ = w.Ingest("office/meeting_room/sensor/env_02/co2", []byte(`{"value":1400}`))
	_ = w.Ingest("office/meeting_room/sensor/env_02/temperature", []byte(`{"value":27.5}`))
	_ = w.Ingest("office/main/sensor/env_01/temperature", []byte(`{"value":22.5}`))
	_ = w.Ingest("office/main/task_report/7", []byte(`{"task_id":7,"title":"コーヒー補充","report_status":"resolved"}`))
	w.SuppressForTask("meeting_room", "換気")
	zone := "meeting_room"
	jst := time.FixedZone("JST", 9*3600)
	tests := []struct {
		name string
		in   promptInput
		want []string
		not  []string
	}{
		{"full", promptInput{
			zones: w.Zones(), events: w.EventsSince(time.Time{}), feedback: w.EventsSince(time.Time{}),
			tasks:   []backendapi.Task{{Title: "換気を行ってください", Zone: &zone, TaskType: []string{"environment"}, Audience: "admin"}},
			actions: []action{{at: now.Add(-2 * time.Minute), tool: "create_task", summary: "title=換気", success: false}},
			devices: "デバイス 3台: オンライン 3\n", now: now, loc: jst,
		}, []string{
			"現在時刻: 2026-11-23 09:30 (Mon)",
			"## 注意が必要な状態\n- [meeting_room] 室温 27.5℃ 高温",
			"## 対応中（タスク発行済み）\n- [meeting_room] CO2 1400ppm",
			"## デバイスネットワークの状態\nデバイス 3台",
			"«コーヒー補充» → resolved\n",
			"## 最近のイベント", "co2_threshold_exceeded",
			"## アクティブなタスク\n- 換気を行ってください [meeting_room] (environment) [admin]",
			"2分前: create_task(title=換気) ✗", "失敗した行動をすぐに再試行しないでください", "22.5℃",
		}, []string{"⚠要対応", "] タスク報告"}},
		{"tasks unavailable, no devices", promptInput{zones: w.Zones(), tasksErr: errors.New("down"), now: now},
			[]string{"（取得できませんでした"}, []string{"デバイスネットワーク", "最近のあなたの行動"}},
		{"no tasks", promptInput{zones: w.Zones(), now: now}, []string{"## アクティブなタスク\nなし"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := buildPrompt(tc.in)
			for _, want := range tc.want {
				if !strings.Contains(p, want) {
					t.Errorf("prompt misses %q:\n%s", want, p)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(p, not) {
					t.Errorf("prompt has %q:\n%s", not, p)
				}
			}
		})
	}
}

func TestCutAnswer(t *testing.T) {
	long := strings.Repeat("あ", 200) + "。" + strings.Repeat("い", 200)
	if got := cutAnswer(long); got != strings.Repeat("あ", 200)+"。" {
		t.Fatalf("cut at %d runes", len([]rune(got)))
	}
	if got := cutAnswer(strings.Repeat("x", 400)); len(got) != 300 {
		t.Fatalf("no sentence end: %d", len(got))
	}
	if got := cutAnswer(" 短い答え。 "); got != "短い答え。" {
		t.Fatal(got)
	}
}
