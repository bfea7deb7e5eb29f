package backendapi

import (
	"strings"
	"time"
)

// Task states beyond the derived Status values, usable as TaskFilter.Status.
const (
	// StatusActive lists tasks that are neither completed nor expired.
	StatusActive = "active"
	// StatusQueued lists active tasks held back until dispatched.
	StatusQueued = "queued"
)

// Report statuses of a completed task.
const (
	ReportNoIssue       = "no_issue"
	ReportResolved      = "resolved"
	ReportNeedsFollowup = "needs_followup"
	ReportCannotResolve = "cannot_resolve"
)

// MaxCompletionNote bounds CompleteTask.CompletionNote in characters.
const MaxCompletionNote = 500

// AcceptTask is the body of PUT /tasks/{id}/accept.
type AcceptTask struct {
	// UserID 0 (omitted) is the signed-in person; for an anonymous caller
	// (the wall kiosk) or a service, nobody: the task is taken without an
	// assignee.
	UserID int64 `json:"user_id,omitempty"`
}

// CompleteTask is the body of PUT /tasks/{id}/complete.
type CompleteTask struct {
	ReportStatus   string `json:"report_status,omitempty"`
	CompletionNote string `json:"completion_note,omitempty"`
}

// Validate checks the report and fills the default status (no_issue).
func (c *CompleteTask) Validate() map[string]string {
	bad := map[string]string{}
	switch c.ReportStatus = strings.TrimSpace(c.ReportStatus); c.ReportStatus {
	case "":
		c.ReportStatus = ReportNoIssue
	case ReportNoIssue, ReportResolved, ReportNeedsFollowup, ReportCannotResolve:
	default:
		bad["report_status"] = "must be no_issue, resolved, needs_followup or cannot_resolve"
	}
	c.CompletionNote = strings.TrimSpace(c.CompletionNote)
	if len([]rune(c.CompletionNote)) > MaxCompletionNote {
		bad["completion_note"] = "at most 500 characters"
	}
	return bad
}

// Rewards of a completion (CompletedTask.Reward).
const (
	// RewardPending: the bounty is recorded for PaidTo and paid through the
	// wallet (retried until it is).
	RewardPending = "pending"
	// RewardNone: completed without a person (the kiosk, a service): nobody
	// is paid.
	RewardNone = "none"
)

// CompletedTask is the answer of PUT /tasks/{id}/complete: the task and what
// became of its bounty.
type CompletedTask struct {
	Task
	// PaidTo is the person the bounty goes to; nil when nobody is paid.
	PaidTo *int64 `json:"paid_to"`
	// Reward is RewardPending or RewardNone.
	Reward string `json:"reward"`
}

// TaskReport is the MQTT payload on office/{zone}/task_report/{id}, read by
// the brain as user feedback.
type TaskReport struct {
	TaskID         int64  `json:"task_id"`
	Title          string `json:"title"`
	ReportStatus   string `json:"report_status,omitempty"`
	CompletionNote string `json:"completion_note,omitempty"`
	Zone           string `json:"zone"`
}

// AuditEntry is one state change of a task.
type AuditEntry struct {
	ID     int64     `json:"id"`
	TaskID int64     `json:"task_id"`
	Action string    `json:"action"`
	Actor  string    `json:"actor"`
	Note   *string   `json:"note"`
	At     time.Time `json:"at"`
}

// TaskStats is GET /tasks/stats.
type TaskStats struct {
	Total           int            `json:"total"`
	Open            int            `json:"open"`
	Accepted        int            `json:"accepted"`
	Completed       int            `json:"completed"`
	Expired         int            `json:"expired"`
	Queued          int            `json:"queued"`
	CompletedToday  int            `json:"completed_today"`
	BountyPaid      int64          `json:"bounty_paid"`
	PaymentsPending int            `json:"payments_pending"`
	ByReportStatus  map[string]int `json:"by_report_status"`
	ByZoneActive    map[string]int `json:"by_zone_active"`

	// The original SOMS's keys (its dashboard reads them).
	TasksCompleted         int `json:"tasks_completed"`           // = Completed
	TasksCreated           int `json:"tasks_created"`             // = Total (merged duplicates are not new tasks)
	TasksActive            int `json:"tasks_active"`              // dispatched, neither completed nor expired
	TasksQueued            int `json:"tasks_queued"`              // = Queued
	TasksCompletedLastHour int `json:"tasks_completed_last_hour"` // by the clock
}
