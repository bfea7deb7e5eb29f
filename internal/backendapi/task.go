// Package backendapi is the wire contract of the backend service, the API
// behind the dashboard (paths and JSON shapes of the original SOMS backend),
// and a typed client for it. The backend serves these types; the brain, the
// harness and tests consume them.
package backendapi

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Task states as reported in Task.Status.
const (
	StatusOpen      = "open"
	StatusAccepted  = "accepted"
	StatusCompleted = "completed"
	StatusExpired   = "expired"
)

// Reward (bounty) bounds in credits: the original design's 500–5000.
const (
	MinBounty     = 500
	MaxBounty     = 5000
	DefaultBounty = 1000
)

// Upper bounds of a task's counts, well inside their INTEGER columns: beyond
// them a request is refused (422) rather than failing in the database.
const (
	MaxPeopleRequired    = 100
	MaxEstimatedDuration = 7 * 24 * 60 // minutes: a week
)

// Task is a unit of physical work the brain hands to people.
type Task struct {
	ID                   int64      `json:"id" db:"id"`
	Title                string     `json:"title" db:"title"`
	Description          string     `json:"description" db:"description"`
	Location             string     `json:"location" db:"location"`
	Zone                 *string    `json:"zone" db:"zone"`
	TaskType             []string   `json:"task_type" db:"task_type"`
	Urgency              int        `json:"urgency" db:"urgency"`
	Bounty               int        `json:"bounty" db:"bounty"`
	Audience             string     `json:"audience" db:"audience"`
	SkillLevel           *string    `json:"skill_level" db:"skill_level"`
	MinPeopleRequired    int        `json:"min_people_required" db:"min_people_required"`
	EstimatedDuration    int        `json:"estimated_duration" db:"estimated_duration"`
	AnnouncementAudioURL *string    `json:"announcement_audio_url" db:"announcement_audio_url"`
	AnnouncementText     *string    `json:"announcement_text" db:"announcement_text"`
	CompletionAudioURL   *string    `json:"completion_audio_url" db:"completion_audio_url"`
	CompletionText       *string    `json:"completion_text" db:"completion_text"`
	CreatedAt            time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt            time.Time  `json:"updated_at" db:"updated_at"`
	ExpiresAt            *time.Time `json:"expires_at" db:"expires_at"`
	IsQueued             bool       `json:"is_queued" db:"is_queued"`
	DispatchedAt         *time.Time `json:"dispatched_at" db:"dispatched_at"`
	AssignedTo           *int64     `json:"assigned_to" db:"assigned_to"`
	AcceptedAt           *time.Time `json:"accepted_at" db:"accepted_at"`
	IsCompleted          bool       `json:"is_completed" db:"is_completed"`
	CompletedAt          *time.Time `json:"completed_at" db:"completed_at"`
	ReportStatus         *string    `json:"report_status" db:"report_status"`
	CompletionNote       *string    `json:"completion_note" db:"completion_note"`
	LastRemindedAt       *time.Time `json:"last_reminded_at" db:"last_reminded_at"`
	RegionID             string     `json:"region_id" db:"region_id"`
	// Status is derived: open, accepted, completed or expired.
	Status string `json:"status" db:"-"`
}

// StatusAt derives the task's state at time now.
func (t *Task) StatusAt(now time.Time) string {
	switch {
	case t.IsCompleted:
		return StatusCompleted
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return StatusExpired
	case t.AssignedTo != nil || t.AcceptedAt != nil:
		// Accepted at the wall kiosk, a task has no assignee but is taken.
		return StatusAccepted
	}
	return StatusOpen
}

// HasType reports whether the task carries task type typ.
func (t *Task) HasType(typ string) bool { return slices.Contains(t.TaskType, typ) }

// CreateTask is the body of POST /tasks/ (sent by the brain with the service token).
type CreateTask struct {
	Title                string     `json:"title"`
	Description          string     `json:"description"`
	Location             string     `json:"location,omitempty"`
	Zone                 *string    `json:"zone,omitempty"`
	TaskType             []string   `json:"task_type,omitempty"`
	Urgency              *int       `json:"urgency,omitempty"`
	Bounty               *int       `json:"bounty,omitempty"`
	Audience             string     `json:"audience,omitempty"`
	SkillLevel           *string    `json:"skill_level,omitempty"`
	MinPeopleRequired    *int       `json:"min_people_required,omitempty"`
	EstimatedDuration    *int       `json:"estimated_duration,omitempty"`
	ExpiresAt            *time.Time `json:"expires_at,omitempty"`
	AnnouncementAudioURL *string    `json:"announcement_audio_url,omitempty"`
	AnnouncementText     *string    `json:"announcement_text,omitempty"`
	CompletionAudioURL   *string    `json:"completion_audio_url,omitempty"`
	CompletionText       *string    `json:"completion_text,omitempty"`
	// IsQueued creates the task held back until PUT /tasks/{id}/dispatch.
	IsQueued *bool `json:"is_queued,omitempty"`
}

// Validate checks the request and fills defaults; it returns one message per
// invalid field.
func (c *CreateTask) Validate() map[string]string {
	bad := map[string]string{}
	c.Title = strings.TrimSpace(c.Title)
	switch n := len([]rune(c.Title)); {
	case n == 0:
		bad["title"] = "required"
	case n > 200:
		bad["title"] = "at most 200 characters"
	}
	if len([]rune(c.Description)) > 2000 {
		bad["description"] = "at most 2000 characters"
	}
	if c.Location = strings.TrimSpace(c.Location); c.Location == "" {
		c.Location = "Office"
	}
	if c.Zone != nil && strings.TrimSpace(*c.Zone) == "" {
		c.Zone = nil
	}
	if len(c.TaskType) == 0 {
		c.TaskType = []string{"general"}
	}
	for i, t := range c.TaskType {
		if t = strings.TrimSpace(t); t == "" || len(t) > 40 {
			bad["task_type"] = "each type must be 1 to 40 characters"
		}
		c.TaskType[i] = strings.TrimSpace(t)
	}
	if c.Urgency == nil {
		c.Urgency = ptr(2)
	} else if *c.Urgency < 0 || *c.Urgency > 4 {
		bad["urgency"] = "must be between 0 and 4"
	}
	if c.Bounty == nil {
		c.Bounty = ptr(DefaultBounty)
	} else if *c.Bounty < MinBounty || *c.Bounty > MaxBounty {
		bad["bounty"] = fmt.Sprintf("must be between %d and %d", MinBounty, MaxBounty)
	}
	switch c.Audience {
	case "":
		c.Audience = "user"
	case "user", "admin":
	default:
		bad["audience"] = "must be user or admin"
	}
	if c.SkillLevel != nil {
		switch *c.SkillLevel {
		case "junior", "intermediate", "senior":
		case "":
			c.SkillLevel = nil
		default:
			bad["skill_level"] = "must be junior, intermediate or senior"
		}
	}
	if c.MinPeopleRequired == nil {
		c.MinPeopleRequired = ptr(1)
	} else if *c.MinPeopleRequired < 1 || *c.MinPeopleRequired > MaxPeopleRequired {
		bad["min_people_required"] = fmt.Sprintf("must be between 1 and %d", MaxPeopleRequired)
	}
	if c.EstimatedDuration == nil {
		c.EstimatedDuration = ptr(10)
	} else if *c.EstimatedDuration < 1 || *c.EstimatedDuration > MaxEstimatedDuration {
		bad["estimated_duration"] = fmt.Sprintf("must be between 1 and %d minutes", MaxEstimatedDuration)
	}
	return bad
}

func ptr[T any](v T) *T { return &v }
