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
)

func (o *office) registerInventory(sc *godog.ScenarioContext) {
	sc.Step(`^the shelf "([^"]+)" in "([^"]+)" holds "([^"]+)" in bags of (\d+) g on a (\d+) g tray, low below (\d+) bags?$`, o.shelfHolds)
	sc.Step(`^(\d+) (?:people are|person is) in "([^"]+)"$`, func(ctx context.Context, n int, zone string) error {
		return o.patchZone(ctx, zone, map[string]any{"people": n})
	})
	sc.Step(`^the kitchen uses the beans on "([^"]+)" at (\d+) g per simulated minute$`, o.shelfRate)
	sc.Step(`^the kitchen stops using the beans on "([^"]+)"$`, func(ctx context.Context, shelf string) error {
		return o.shelfRate(ctx, shelf, 0)
	})
	sc.Step(`^within (\d+) simulated minutes the dashboard lists a restock task for "([^"]+)" in "([^"]+)"$`, o.restockTaskWithin)
	sc.Step(`^the dashboard's live stock shows "([^"]+)" low$`, o.liveStockLow)
	sc.Step(`^for (\d+) simulated minutes the restock task for "([^"]+)" is listed only once$`, o.restockTaskOnce)
	sc.Step(`^"([^"]+)" accepts the restock task$`, o.acceptsTask)
	sc.Step(`^"([^"]+)" puts (\d+) g of beans on "([^"]+)"$`, func(ctx context.Context, _ string, grams int, shelf string) error {
		return o.call(ctx, http.MethodPatch, o.sys.URL(harness.Edge)+"/devices/"+shelf+"/shelf", map[string]any{"put_g": grams}, nil)
	})
	sc.Step(`^within (\d+) simulated minutes the brain sees "([^"]+)" restocked in "([^"]+)"$`, o.brainSeesRestock)
}

// shelfHolds registers what the shelf holds with the backend (as an
// administrator would); the brain reads it within its refresh interval.
func (o *office) shelfHolds(ctx context.Context, shelf, zone, item string, bag, tray, low int) error {
	svc := backendapi.NewClient(o.sys.URL(harness.Backend), o.sys.Token())
	unit, tare := float64(bag), float64(tray)
	_, err := svc.CreateInventoryItem(ctx, backendapi.InventoryItemInput{
		DeviceID: &shelf, Zone: &zone, ItemName: &item, UnitWeightG: &unit, TareWeightG: &tare, MinThreshold: &low,
	})
	return err
}

func (o *office) shelfRate(ctx context.Context, shelf string, gramsPerMinute int) error {
	return o.call(ctx, http.MethodPatch, o.sys.URL(harness.Edge)+"/devices/"+shelf+"/shelf",
		map[string]any{"rate_g_per_s": float64(gramsPerMinute) / 60}, nil)
}

// restockTasks lists the zone's tasks about restocking item.
func (o *office) restockTasks(ctx context.Context, item, zone string) ([]backendapi.Task, error) {
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return nil, err
	}
	var out []backendapi.Task
	for _, t := range ts {
		if t.HasType("supply") && strings.Contains(t.Title, item) && strings.Contains(t.Title, "補充") {
			out = append(out, t)
		}
	}
	return out, nil
}

func (o *office) restockTaskWithin(ctx context.Context, minutes int, item, zone string) error {
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		ts, err := o.restockTasks(ctx, item, zone)
		if err != nil || len(ts) == 0 {
			return false, err
		}
		o.task = &ts[0]
		return true, nil
	})
	if errTimedOut(err) {
		var shelf map[string]any
		_ = o.call(ctx, http.MethodGet, o.sys.URL(harness.Edge)+"/devices/shelf_01/shelf", nil, &shelf)
		return fmt.Errorf("no restock task for %s in %s (the shelf: %v): %w", item, zone, shelf, err)
	}
	return err
}

func (o *office) liveStockLow(ctx context.Context, item string) error {
	return o.within(ctx, 2*time.Minute, func() (bool, error) {
		var live backendapi.InventoryLiveStatus
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/inventory/live-status", nil, &live); err != nil {
			return false, err
		}
		for _, it := range live.Items {
			if it.ItemName == item && it.Status == backendapi.StockLow && live.UpdatedAt > 0 {
				return true, nil
			}
		}
		return false, nil
	})
}

func (o *office) restockTaskOnce(ctx context.Context, minutes int, item string) error {
	zone := deref(o.task.Zone)
	return o.quietFor(ctx, time.Duration(minutes)*time.Minute, func() error {
		ts, err := o.restockTasks(ctx, item, zone)
		if err != nil {
			return err
		}
		if len(ts) != 1 {
			return fmt.Errorf("%d restock tasks for %s, want exactly 1", len(ts), item)
		}
		return nil
	})
}

// acceptsTask accepts the scenario's task (dispatching it first if it is
// still held, as the brain does when people are about).
func (o *office) acceptsTask(ctx context.Context, name string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	if o.task == nil {
		return fmt.Errorf("no task in this scenario")
	}
	if o.task.IsQueued {
		if err := backendapi.NewClient(o.sys.URL(harness.Backend), o.sys.Token()).Dispatch(ctx, o.task.ID); err != nil {
			return err
		}
	}
	got, err := p.dash.AcceptTask(ctx, o.task.ID, p.user.ID)
	if err != nil {
		return fmt.Errorf("%s accepting #%d: %w", name, o.task.ID, err)
	}
	o.task = &got
	return nil
}

func (o *office) brainSeesRestock(ctx context.Context, minutes int, item, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var evs []struct {
			Zone string         `json:"zone"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := o.call(ctx, http.MethodGet, o.sys.URL(harness.Brain)+"/world/events", nil, &evs); err != nil {
			return false, err
		}
		for _, e := range evs {
			if e.Type == "restocked" && e.Zone == zone && e.Data["item_name"] == item {
				return true, nil
			}
		}
		return false, nil
	})
}
