package features

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/sim/harness"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

var jst = time.FixedZone("JST", 9*3600)

func (o *office) registerOfficeLife(sc *godog.ScenarioContext) {
	sc.Step(`^(\d+) people sit still at their desks in "([^"]+)"$`, o.sitStill)
	sc.Step(`^a person in "([^"]+)" falls to the floor$`, o.personFalls)
	sc.Step(`^someone warms the "([^"]+)" sensor of "([^"]+)" by ([\d.]+)$`, o.tamperSensor)
	sc.Step(`^the device "([^"]+)" goes offline$`, o.deviceOffline)
	sc.Step(`^everyone leaves the office$`, o.everyoneLeaves)
	sc.Step(`^it is (\d\d):(\d\d) in the office$`, o.itIs)
	sc.Step(`^the office clock jumps to (\d\d):(\d\d) the next morning$`, o.jumpNextMorning)
	sc.Step(`^a service posts the task "([^"]+)" for "([^"]+)" (\d+) times? with urgency (\d)$`, o.servicePostsTaskUrgency)

	sc.Step(`^within (\d+) simulated minutes an urgent task with urgency (\d) is listed for "([^"]+)"$`, o.urgentTaskWithin)
	sc.Step(`^within (\d+) simulated minutes the office says something in "([^"]+)" containing "([^"]+)"$`, o.officeSaysTextWithin)
	sc.Step(`^within (\d+) simulated minutes the brain notices "([^"]+)" in "([^"]+)"$`, o.brainNoticesWithin)
	sc.Step(`^within (\d+) simulated minutes the brain knows the "([^"]+)" of "([^"]+)"$`, o.brainKnowsWithin)
	sc.Step(`^within (\d+) simulated minutes the brain reports the device "([^"]+)" as "([^"]+)"$`, o.deviceStateWithin)
	sc.Step(`^within (\d+) simulated minutes the brain is in "([^"]+)" mode$`, o.modeWithin)
	sc.Step(`^the brain does not consult the LLM for (\d+) simulated minutes$`, o.noLLMFor)
	sc.Step(`^within (\d+) simulated minutes the task "([^"]+)" for "([^"]+)" is held until morning$`, o.taskHeldWithin)
	sc.Step(`^within (\d+) simulated minutes the task "([^"]+)" for "([^"]+)" is dispatched$`, o.taskDispatchedWithin)
	sc.Step(`^within (\d+) simulated minutes the task "([^"]+)" is announced again as a reminder$`, o.remindedWithin)
	sc.Step(`^within (\d+) simulated minutes the LLM's prompt shows "([^"]+)"$`, o.promptShowsWithin)
	sc.Step(`^within (\d+) simulated minutes the LLM's prompt shows '([^']+)'$`, o.promptShowsWithin) // text with double quotes
	sc.Step(`^within (\d+) simulated minutes the brain's decision log records "([^"]+)" succeeding with "([^"]+)"$`, o.decisionLogSuccess)
}

func (o *office) edge(path string) string { return o.sys.URL(harness.Edge) + path }

func (o *office) sitStill(ctx context.Context, n int, zone string) error {
	people := make([]scene.Person, n)
	for i := range people {
		people[i] = scene.Person{ID: fmt.Sprintf("desk_%d", i+1), X: 0.2 + 0.6*float64(i)/float64(max(n, 2)), Y: 0.6, Posture: scene.Sitting}
	}
	return o.call(ctx, http.MethodPut, o.edge("/zones/"+zone+"/scene"), map[string]any{"people": people}, nil)
}

func (o *office) personFalls(ctx context.Context, zone string) error {
	var sc scene.Zone
	if err := o.call(ctx, http.MethodGet, o.edge("/zones/"+zone+"/scene"), nil, &sc); err != nil {
		return err
	}
	if len(sc.People) == 0 {
		return fmt.Errorf("nobody in %s to fall", zone)
	}
	return o.call(ctx, http.MethodPatch, o.edge("/zones/"+zone+"/people/"+sc.People[0].ID),
		map[string]any{"posture": scene.Fallen, "motion": 0}, nil)
}

func (o *office) tamperSensor(ctx context.Context, channel, device string, by float64) error {
	return o.call(ctx, http.MethodPut, o.edge("/devices/"+device+"/fault"), map[string]any{"tamper": map[string]float64{channel: by}}, nil)
}

func (o *office) deviceOffline(ctx context.Context, device string) error {
	return o.call(ctx, http.MethodPut, o.edge("/devices/"+device+"/fault"), map[string]any{"offline": true}, nil)
}

func (o *office) everyoneLeaves(ctx context.Context) error {
	var zones []struct {
		ID string `json:"id"`
	}
	if err := o.call(ctx, http.MethodGet, o.edge("/zones"), nil, &zones); err != nil {
		return err
	}
	for _, z := range zones {
		if err := o.patchZone(ctx, z.ID, map[string]any{"people": 0}); err != nil {
			return err
		}
	}
	return nil
}

// itIs moves the simulated clock to hh:mm of the scenario's day (JST).
func (o *office) itIs(ctx context.Context, hh, mm int) error {
	st := o.sys.Clock().State()
	d := st.SimTime.In(jst)
	st.SimTime = time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, jst)
	return o.sys.SetClock(ctx, st)
}

func (o *office) jumpNextMorning(ctx context.Context, hh, mm int) error {
	st := o.sys.Clock().State()
	d := st.SimTime.In(jst).Add(12 * time.Hour)
	st.SimTime = time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, jst)
	return o.sys.SetClock(ctx, st)
}

func (o *office) servicePostsTaskUrgency(ctx context.Context, title, zone string, n, urgency int) error {
	svc := backendapi.NewClient(o.sys.URL(harness.Backend), o.sys.Token())
	for range n {
		z, u := zone, urgency
		if _, err := svc.CreateTask(ctx, backendapi.CreateTask{Title: title, Description: title + "をお願いします", Location: zone, Zone: &z, Urgency: &u}); err != nil {
			return err
		}
	}
	return nil
}

func (o *office) findTask(ctx context.Context, zone string, match func(backendapi.Task) bool) (*backendapi.Task, error) {
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if match(ts[i]) {
			return &ts[i], nil
		}
	}
	return nil, nil
}

func (o *office) urgentTaskWithin(ctx context.Context, minutes, urgency int, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		t, err := o.findTask(ctx, zone, func(t backendapi.Task) bool { return t.Urgency == urgency })
		return t != nil, err
	})
}

func (o *office) officeSaysTextWithin(ctx context.Context, minutes int, zone, text string) error {
	var said []string
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		evs, err := o.dash.RecentVoiceEvents(ctx)
		if err != nil {
			return false, err
		}
		said = said[:0]
		for _, ev := range evs {
			said = append(said, ev.Zone+": "+ev.Message)
			if ev.Zone == zone && strings.Contains(ev.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%w; the office said %q", err, said)
	}
	return err
}

func (o *office) brainNoticesWithin(ctx context.Context, minutes int, event, zone string) error {
	var seen []string
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var evs []struct {
			Zone string `json:"zone"`
			Type string `json:"type"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/events", nil, &evs); err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range evs {
			seen = append(seen, e.Zone+":"+e.Type)
			if e.Type == event && e.Zone == zone {
				return true, nil
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%w; recent events %q", err, seen)
	}
	return err
}

func (o *office) deviceStateWithin(ctx context.Context, minutes int, device, state string) error {
	last := "absent"
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var out struct {
			Devices []struct {
				ID    string `json:"device_id"`
				State string `json:"state"`
			} `json:"devices"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/devices/status", nil, &out); err != nil {
			return false, err
		}
		for _, d := range out.Devices {
			if d.ID == device {
				last = d.State
				return d.State == state, nil
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%s is %s, want %s: %w", device, last, state, err)
	}
	return err
}

func (o *office) modeWithin(ctx context.Context, minutes int, mode string) error {
	last := ""
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var st struct {
			Mode string `json:"mode"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/status", nil, &st); err != nil {
			return false, err
		}
		last = st.Mode
		return st.Mode == mode, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("brain mode is %q, want %q: %w", last, mode, err)
	}
	return err
}

// brainRequests counts the LLM requests that offered tools (the brain's
// cycles; the voice service asks without tools).
func (o *office) brainRequests(ctx context.Context) (int, error) {
	var reqs []mockllm.Recorded
	if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.MockLLM)+"/control/requests", nil, &reqs); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range reqs {
		if len(r.Request.Tools) > 1 {
			n++
		}
	}
	return n, nil
}

func (o *office) noLLMFor(ctx context.Context, minutes int) error {
	before, err := o.brainRequests(ctx)
	if err != nil {
		return err
	}
	return o.quietFor(ctx, time.Duration(minutes)*time.Minute, func() error {
		after, err := o.brainRequests(ctx)
		if err != nil {
			return err
		}
		if after != before {
			return fmt.Errorf("the brain asked the LLM %d times in %d quiet minutes", after-before, minutes)
		}
		return nil
	})
}

func (o *office) taskHeldWithin(ctx context.Context, minutes int, title, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		t, err := o.findTask(ctx, zone, func(t backendapi.Task) bool { return t.Title == title })
		if t != nil && !t.IsQueued {
			return false, fmt.Errorf("task #%d %q was handed out at night", t.ID, t.Title)
		}
		return t != nil, err
	})
}

func (o *office) taskDispatchedWithin(ctx context.Context, minutes int, title, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		t, err := o.findTask(ctx, zone, func(t backendapi.Task) bool { return t.Title == title })
		return t != nil && !t.IsQueued && t.DispatchedAt != nil, err
	})
}

func (o *office) remindedWithin(ctx context.Context, minutes int, title string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		t, err := o.findTask(ctx, "", func(t backendapi.Task) bool { return t.Title == title })
		if err != nil || t == nil || t.LastRemindedAt == nil {
			return false, err
		}
		evs, err := o.dash.RecentVoiceEvents(ctx)
		for _, ev := range evs {
			if strings.Contains(ev.Message, title) || (ev.AudioURL != "" && ev.Zone == deref(t.Zone)) {
				return true, err
			}
		}
		return false, err
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (o *office) promptShowsWithin(ctx context.Context, minutes int, text string) error {
	return o.llmSeesWithin(ctx, minutes, "user", text)
}

func (o *office) decisionLogSuccess(ctx context.Context, minutes int, tool, text string) error {
	return o.decisionLogHas(ctx, minutes, tool, true, text)
}

// brainKnowsWithin waits until the brain's world model has a value for a
// zone's channel (GET /world/zones/{id}).
func (o *office) brainKnowsWithin(ctx context.Context, minutes int, channel, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var z struct {
			Channels map[string]any `json:"channels"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/zones/"+zone, nil, &z); err != nil {
			return false, nil // the zone appears with its first message
		}
		_, ok := z.Channels[channel]
		return ok, nil
	})
}
