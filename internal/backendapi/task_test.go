package backendapi

import (
	"testing"
	"time"
)

func TestValidateDefaults(t *testing.T) {
	c := CreateTask{Title: "  換気  ", Description: "d"}
	if bad := c.Validate(); len(bad) != 0 {
		t.Fatal(bad)
	}
	if c.Title != "換気" || c.Location != "Office" || *c.Urgency != 2 || *c.Bounty != DefaultBounty ||
		c.Audience != "user" || c.TaskType[0] != "general" || *c.MinPeopleRequired != 1 || *c.EstimatedDuration != 10 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestValidateBounds(t *testing.T) {
	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	tests := []struct {
		name  string
		c     CreateTask
		field string
	}{
		{"urgency -1", CreateTask{Title: "t", Urgency: n(-1)}, "urgency"},
		{"urgency 5", CreateTask{Title: "t", Urgency: n(5)}, "urgency"},
		{"bounty 499", CreateTask{Title: "t", Bounty: n(499)}, "bounty"},
		{"bounty 5001", CreateTask{Title: "t", Bounty: n(5001)}, "bounty"},
		{"skill", CreateTask{Title: "t", SkillLevel: s("guru")}, "skill_level"},
		{"people 0", CreateTask{Title: "t", MinPeopleRequired: n(0)}, "min_people_required"},
		{"blank title", CreateTask{Title: "   "}, "title"},
		{"empty type", CreateTask{Title: "t", TaskType: []string{"ok", " "}}, "task_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bad := tc.c.Validate(); bad[tc.field] == "" {
				t.Fatalf("no error for %s: %v", tc.field, bad)
			}
		})
	}
	for _, b := range []int{MinBounty, MaxBounty} {
		c := CreateTask{Title: "t", Bounty: n(b)}
		if bad := c.Validate(); len(bad) != 0 {
			t.Fatalf("bounty %d rejected: %v", b, bad)
		}
	}
}

func TestStatusAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	uid := int64(7)
	tests := []struct {
		t    Task
		want string
	}{
		{Task{}, StatusOpen},
		{Task{ExpiresAt: &future}, StatusOpen},
		{Task{ExpiresAt: &past}, StatusExpired},
		{Task{AssignedTo: &uid}, StatusAccepted},
		{Task{IsCompleted: true, ExpiresAt: &past}, StatusCompleted},
	}
	for _, tc := range tests {
		if got := tc.t.StatusAt(now); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestCompleteValidate(t *testing.T) {
	long := make([]rune, MaxCompletionNote+1)
	for i := range long {
		long[i] = 'あ'
	}
	tests := []struct {
		in    CompleteTask
		field string
		want  string
	}{
		{CompleteTask{}, "", ReportNoIssue},
		{CompleteTask{ReportStatus: "resolved", CompletionNote: " ok "}, "", ReportResolved},
		{CompleteTask{ReportStatus: "done"}, "report_status", ""},
		{CompleteTask{CompletionNote: string(long)}, "completion_note", ""},
		{CompleteTask{CompletionNote: string(long[:MaxCompletionNote])}, "", ReportNoIssue},
	}
	for _, tc := range tests {
		bad := tc.in.Validate()
		if tc.field != "" {
			if bad[tc.field] == "" {
				t.Errorf("%+v: no error for %s", tc.in, tc.field)
			}
			continue
		}
		if len(bad) != 0 || tc.in.ReportStatus != tc.want {
			t.Errorf("%+v: %v, status %q", tc.in, bad, tc.in.ReportStatus)
		}
	}
}
