package features

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/sim/harness"
)

func (o *office) registerPerception(sc *godog.ScenarioContext) {
	sc.Step(`^(\d+) (?:people walk|person walks) into "([^"]+)"$`, func(ctx context.Context, n int, zone string) error { return o.zoneOccupiedBy(ctx, zone, n) })
	sc.Step(`^everyone leaves "([^"]+)"$`, func(ctx context.Context, zone string) error { return o.zoneOccupiedBy(ctx, zone, 0) })
	sc.Step(`^within (\d+) simulated minutes the brain counts (\d+) (?:people|person) in "([^"]+)"$`, o.brainCountsWithin)
	sc.Step(`^within (\d+) simulated minutes the dashboard lists a task "([^"]+)" for "([^"]+)"$`, o.taskListedWithin)
}

// brainCountsWithin watches the brain's world model (GET /world/zones/{id}).
func (o *office) brainCountsWithin(ctx context.Context, minutes, people int, zone string) error {
	last := -1
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var z struct {
			PersonCount int `json:"person_count"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/zones/"+zone, nil, &z); err != nil {
			return false, nil // the zone appears with its first message
		}
		last = z.PersonCount
		return last == people, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("the brain counts %d people in %s, want %d: %w", last, zone, people, err)
	}
	return err
}

func (o *office) taskListedWithin(ctx context.Context, minutes int, title, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
		if err != nil {
			return false, err
		}
		for _, t := range ts {
			if t.Title == title {
				return true, nil
			}
		}
		return false, nil
	})
}
