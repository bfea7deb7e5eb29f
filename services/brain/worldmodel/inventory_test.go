package worldmodel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/clock"
)

var beans = Shelf{DeviceID: "shelf_01", Channel: "weight", Zone: "kitchen", Item: "コーヒー豆", UnitWeightG: 200, TareWeightG: 50, MinThreshold: 1, ReorderQuantity: 2}

// weigh publishes n readings of a shelf, a simulated minute apart.
func weigh(t *testing.T, m *Model, c *clock.Sim, zone string, grams ...float64) {
	t.Helper()
	for _, g := range grams {
		if err := m.Ingest("office/"+zone+"/sensor/shelf_01/weight", []byte(fmt.Sprintf(`{"value":%g}`, g))); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
	}
}

func typesOf(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// The coffee beans run low: stable readings are counted in bags (tare and
// unit weight), low stock is raised once per hour, a restock is seen.
func TestStockFromShelfWeight(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	m.SetInventory([]Shelf{beans, {DeviceID: "shelf_09", Zone: "kitchen", Item: "未設定"}}) // the second has no unit weight: ignored
	weigh(t, m, c, "kitchen", 652, 649)
	if st := m.Stock(""); len(st) != 0 {
		t.Fatalf("stock before three stable readings: %+v", st)
	}
	weigh(t, m, c, "kitchen", 650.5)
	st := m.Stock("kitchen")
	if len(st) != 1 || st[0].Quantity != 3 || st[0].Low || st[0].WeightG != 650.5 {
		t.Fatalf("full shelf = %+v", st)
	}
	// Someone takes beans: readings in motion are not counted.
	weigh(t, m, c, "kitchen", 420, 300, 160)
	if m.Stock("kitchen")[0].Quantity != 3 {
		t.Fatalf("unstable readings were counted: %+v", m.Stock("kitchen"))
	}
	weigh(t, m, c, "kitchen", 150, 151)
	if evs := m.EventsSince(t0); len(evs) != 1 || evs[0].Type != EventLowStock || evs[0].Zone != "kitchen" ||
		evs[0].Data["quantity"] != 0 || evs[0].Data["item_name"] != "コーヒー豆" {
		t.Fatalf("events = %+v", evs)
	}
	if !m.Stock("kitchen")[0].Low || !m.HasItem("コーヒー豆") || m.HasItem("紅茶") {
		t.Fatalf("stock = %+v", m.Stock("kitchen"))
	}
	// A prompt line puts the item before 在庫 (what the mock LLM's rule reads).
	if d := m.EventsSince(t0)[0].Describe(); !strings.Contains(d, `"コーヒー豆" の在庫が少なくなっています（残り0個、最低1個）`) {
		t.Fatalf("describe = %s", d)
	}
	weigh(t, m, c, "kitchen", 150, 150, 150)
	if n := len(m.EventsSince(t0)); n != 1 {
		t.Fatalf("low stock repeated within the hour: %d events", n)
	}
	// A restock task is handling it.
	m.Suppress("kitchen", AlertLowStock)
	if s := m.Stock("kitchen")[0]; !s.Requested || !strings.Contains(s.Line(), "補充を依頼済み") {
		t.Fatalf("requested = %+v %s", s, s.Line())
	}
	weigh(t, m, c, "kitchen", 650, 651, 650)
	evs := m.EventsSince(t0)
	if got := typesOf(evs); len(got) != 2 || got[1] != EventRestocked || evs[1].Data["previous_quantity"] != 0 {
		t.Fatalf("events after restock = %v %+v", got, evs)
	}
	if s := m.Stock("kitchen")[0]; s.Low || s.Requested || m.Suppressed("kitchen", AlertLowStock) {
		t.Fatalf("after restock = %+v", s)
	}
	// Low again after a restock: raised at once (the cooldown restarts).
	weigh(t, m, c, "kitchen", 100, 100, 100)
	if got := typesOf(m.EventsSince(t0)); len(got) != 3 || got[2] != EventLowStock {
		t.Fatalf("events = %v", got)
	}
	// An hour on and still low: raised again.
	c.Advance(time.Hour)
	weigh(t, m, c, "kitchen", 100)
	if got := typesOf(m.EventsSince(t0)); len(got) != 4 {
		t.Fatalf("events after an hour = %v", got)
	}
}

// Only the configured zone's shelf counts; other devices and channels are
// untouched, and the zone's snapshot carries its stock.
func TestStockScope(t *testing.T) {
	c := clock.NewManual(t0)
	m := New(c)
	m.SetInventory([]Shelf{beans})
	weigh(t, m, c, "main", 100, 100, 100)
	if st := m.Stock(""); len(st) != 0 {
		t.Fatalf("a reading from another zone counted: %+v", st)
	}
	weigh(t, m, c, "kitchen", 450, 450, 450)
	z, _ := m.Zone("kitchen")
	if len(z.Stock) != 1 || z.Stock[0].Quantity != 2 {
		t.Fatalf("snapshot stock = %+v", z.Stock)
	}
	// Changing the item (unit weight) recounts what was weighed.
	b := beans
	b.UnitWeightG = 100
	m.SetInventory([]Shelf{b})
	if st := m.Stock("kitchen"); st[0].Quantity != 4 {
		t.Fatalf("after reconfiguration = %+v", st)
	}
	m.SetInventory(nil)
	if st := m.Stock(""); len(st) != 0 {
		t.Fatalf("after removal = %+v", st)
	}
}
