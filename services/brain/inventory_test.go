package brain

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
)

// registerBeans puts the original's coffee beans on shelf_01 in the kitchen
// (the backend's inventory) and has the brain read them.
func registerBeans(t *testing.T, r *rig) {
	t.Helper()
	ctx := context.Background()
	svc := backendapi.NewClient(r.dash.BaseURL, "tok")
	dev, zone, item, unit, tare, min := "shelf_01", "kitchen", "コーヒー豆", 200.0, 50.0, 1
	if _, err := svc.CreateInventoryItem(ctx, backendapi.InventoryItemInput{DeviceID: &dev, Zone: &zone, ItemName: &item,
		UnitWeightG: &unit, TareWeightG: &tare, MinThreshold: &min}); err != nil {
		t.Fatal(err)
	}
	if err := r.b.refreshInventory(ctx); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) weigh(t *testing.T, grams ...float64) {
	t.Helper()
	for _, g := range grams {
		r.ingest(t, "office/kitchen/sensor/shelf_01/weight", fmt.Sprintf(`{"value":%g}`, g))
		r.clock.Advance(30 * time.Second)
	}
}

// The coffee beans run out: the shelf's weight turns into a low_stock event,
// the LLM (the mock's coffee rule) asks for a restock task through the usual
// guards, once; the stock shows the restock as requested and is pushed to
// the dashboard's live status.
func TestCoffeeBeansRunOut(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	registerBeans(t, r)
	r.ingest(t, "office/kitchen/occupancy", `{"person_count":2}`)
	r.weigh(t, 650, 650, 650)
	if err := r.b.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if ts := r.tasks(t); len(ts) != 0 {
		t.Fatalf("a task with a full shelf: %+v", ts)
	}
	r.weigh(t, 150, 150, 150)
	if err := r.b.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	prompt := lastUser(r.requests(t)[len(r.requests(t))-1])
	if !strings.Contains(prompt, `"コーヒー豆" の在庫が少なくなっています`) || !strings.Contains(prompt, "## 在庫") {
		t.Fatalf("the prompt does not show the low stock:\n%s", prompt)
	}
	ts := r.tasks(t)
	if len(ts) != 1 || ts[0].Title != "コーヒー豆を補充してください" || deref(ts[0].Zone) != "kitchen" || !ts[0].HasType("supply") {
		t.Fatalf("tasks = %+v", ts)
	}
	if st := r.b.world.Stock("kitchen"); len(st) != 1 || !st[0].Requested {
		t.Fatalf("stock after the task = %+v", st)
	}
	// The next cycles propose it again; the guards keep it one task.
	for range 3 {
		r.clock.Advance(30 * time.Second)
		_ = r.b.cycle(ctx)
	}
	if ts := r.tasks(t); len(ts) != 1 {
		t.Fatalf("restock task doubled: %+v", ts)
	}
	// The dashboard's live stock.
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.b.inventoryLoop(loopCtx) }()
	var live backendapi.InventoryLiveStatus
	deadline := time.Now().Add(10 * time.Second)
	for len(live.Items) == 0 && time.Now().Before(deadline) {
		live = backendapi.InventoryLiveStatus{}
		if err := getJSON(r.dash.BaseURL+"/inventory/live-status", &live); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if len(live.Items) != 1 || live.Items[0].Status != "low" || live.Items[0].Quantity != 0 {
		t.Fatalf("live status = %+v", live)
	}
}

// With the LLM down the rule engine asks for the restock; the shopping-list
// tool takes only shelf items.
func TestRestockFallbackAndShopping(t *testing.T) {
	r := newRig(t, rigOpts{llmURL: "http://127.0.0.1:1/v1"})
	ctx := context.Background()
	registerBeans(t, r)
	r.ingest(t, "office/kitchen/occupancy", `{"person_count":1}`)
	r.weigh(t, 120, 120, 120)
	_ = r.b.cycle(ctx)
	ts := r.tasks(t)
	if len(ts) != 1 || ts[0].Title != "コーヒー豆を補充してください" || !ts[0].HasType("supply") {
		t.Fatalf("fallback tasks = %+v", ts)
	}
	if res := r.b.run(ctx, "add_shopping_item", map[string]any{"name": "牛乳", "quantity": 1.0}); res.Success {
		t.Fatalf("an unknown item went on the list: %+v", res)
	}
	res := r.b.run(ctx, "add_shopping_item", map[string]any{"name": "コーヒー豆", "quantity": 2.0, "category": "飲料"})
	if !res.Success {
		t.Fatal(res.Error)
	}
	var list []backendapi.ShoppingItem
	if err := getJSON(r.dash.BaseURL+"/shopping/", &list); err != nil || len(list) != 1 || list[0].Quantity != 2 || list[0].CreatedBy != "brain" || list[0].Priority != 2 {
		t.Fatalf("shopping list = %+v, %v", list, err)
	}
	if res := r.b.run(ctx, "check_inventory", map[string]any{"zone": "kitchen"}); !res.Success || !strings.Contains(res.Result, "残り0個") {
		t.Fatalf("check_inventory = %+v", res)
	}
}

func getJSON(url string, out any) error {
	c := httpx.Client{}
	return c.Do(context.Background(), "GET", url, nil, out)
}
