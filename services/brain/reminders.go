package brain

import (
	"context"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/voice"
)

// reminderGap spaces reminders of several tasks apart.
const reminderGap = 2 * time.Second

// remindLoop re-announces open tasks nobody has taken (docs/brain.md,
// "Devices, tasks, people"), first immediately, then every ReminderInterval.
func (b *brain) remindLoop(ctx context.Context) error {
	t := b.clock.NewTicker(b.cfg.ReminderInterval)
	defer t.Stop()
	for {
		b.remind(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// remind announces each open, unaccepted, non-admin task older than
// ReminderAfter whose last reminder is older than ReminderCooldown, and tells
// the backend (with the service token, which the original forgot).
func (b *brain) remind(ctx context.Context) {
	tasks, err := b.activeTasks(ctx)
	if err != nil {
		b.log.Warn("reminders: tasks unavailable", "err", err)
		return
	}
	now := b.clock.Now()
	first := true
	for _, t := range tasks {
		if t.IsCompleted || t.IsQueued || t.AssignedTo != nil || t.AcceptedAt != nil || t.Audience == "admin" {
			continue
		}
		if now.Sub(t.CreatedAt) < b.cfg.ReminderAfter {
			continue
		}
		if t.LastRemindedAt != nil && now.Sub(*t.LastRemindedAt) < b.cfg.ReminderCooldown {
			continue
		}
		if !first {
			if clock.Sleep(ctx, b.clock, reminderGap) != nil {
				return
			}
		}
		first = false
		if err := b.remindOne(ctx, t); err != nil {
			b.log.Warn("reminder failed", "task", t.ID, "err", err)
			continue
		}
		b.metrics.reminders.Inc()
		b.log.Info("task reminded", "id", t.ID, "title", t.Title)
	}
}

func (b *brain) remindOne(ctx context.Context, t backendapi.Task) error {
	msg, audio := "リマインド: "+t.Title, ""
	if b.voice != nil {
		vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		a, err := b.voice.Announce(vctx, voice.Task{Title: t.Title, Description: t.Description, Location: t.Location, Urgency: t.Urgency, Zone: deref(t.Zone), Bounty: t.Bounty, TaskType: t.TaskType})
		cancel()
		if err != nil {
			return err // try again next round; the reminder was not heard
		}
		msg, audio = a.Text, a.AudioURL
	}
	ectx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	defer cancel()
	if err := b.dash.PostVoiceEvent(ectx, backendapi.VoiceEvent{Message: msg, AudioURL: audio, Zone: deref(t.Zone), Tone: "neutral"}); err != nil {
		b.log.Warn("reminder voice event not stored", "task", t.ID, "err", err)
	}
	return b.dash.Reminded(ectx, t.ID)
}
