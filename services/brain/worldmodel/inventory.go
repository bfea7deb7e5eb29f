package worldmodel

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/somsgo/soms/services/brain/quote"
)

// Inventory: shelves weigh what they hold. Each configured shelf item (the
// backend's /inventory/) names a device's weight channel in a zone; its stock
// is floor((weight − tare) / unit weight) of the channel's stable readings.
// Falling below the item's minimum raises low_stock (at most once an hour per
// item, again after a restock); a rise in stock raises restocked — the
// original's inventory tracker, which at its HEAD never received a weight.

// Events of the inventory.
const (
	EventLowStock  = "low_stock"
	EventRestocked = "restocked"
)

// AlertLowStock is the suppression kind a restock task sets in its zone: the
// low items there are shown as "restock requested".
const AlertLowStock = "low_stock"

// Stable-reading filter and cooldown of the original tracker.
const (
	stockWindow      = 3    // readings that must agree
	stockTolerance   = 0.05 // of their mean
	stockMinTolerGr  = 5.0  // grams: load-cell noise near empty
	lowStockCooldown = time.Hour
)

// Shelf is one shelf item: what the weight channel of a device holds.
type Shelf struct {
	DeviceID        string
	Channel         string
	Zone            string
	Item            string
	Category        string
	UnitWeightG     float64
	TareWeightG     float64
	MinThreshold    int
	ReorderQuantity int
}

// Stock is a shelf item's stock as last weighed.
type Stock struct {
	DeviceID     string  `json:"device_id"`
	Channel      string  `json:"channel"`
	Zone         string  `json:"zone"`
	Item         string  `json:"item_name"`
	Category     string  `json:"category"`
	Quantity     int     `json:"quantity"`
	MinThreshold int     `json:"min_threshold"`
	WeightG      float64 `json:"current_weight_g"`
	Low          bool    `json:"low"`
	// Requested is true while a restock task handles the zone's low stock.
	Requested bool `json:"restock_requested,omitempty"`
}

type shelfState struct {
	cfg      Shelf
	readings []float64
	weighed  bool
	weight   float64
	quantity int
	lastLow  time.Time
}

func shelfKey(device, channel string) string { return device + "\x00" + channel }

// SetInventory replaces the shelf items; an item that stays keeps what has
// been weighed.
func (m *Model) SetInventory(shelves []Shelf) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := make(map[string]*shelfState, len(shelves))
	for _, s := range shelves {
		if s.Channel == "" {
			s.Channel = "weight"
		}
		if s.DeviceID == "" || s.Zone == "" || s.Item == "" || !(s.UnitWeightG > 0) {
			continue
		}
		k := shelfKey(s.DeviceID, s.Channel)
		st, ok := m.shelves[k]
		if !ok || st.cfg.Zone != s.Zone {
			st = &shelfState{}
		}
		st.cfg = s
		if st.weighed {
			st.quantity = quantityOf(st.weight, s)
		}
		next[k] = st
	}
	m.shelves = next
}

func quantityOf(weight float64, s Shelf) int {
	net := weight - s.TareWeightG
	if net <= 0 {
		return 0
	}
	return int(math.Floor(net/s.UnitWeightG + 1e-9))
}

// stable reports whether the last readings agree (within 5 % of their mean,
// at least 5 g), and their mean.
func stable(readings []float64) (float64, bool) {
	if len(readings) < stockWindow {
		return 0, false
	}
	w := readings[len(readings)-stockWindow:]
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	mean := sum / float64(len(w))
	tol := max(math.Abs(mean)*stockTolerance, stockMinTolerGr)
	for _, v := range w {
		if math.Abs(v-mean) > tol {
			return 0, false
		}
	}
	return mean, true
}

// trackStockLocked weighs a shelf reading (a no-op for other channels).
func (m *Model) trackStockLocked(z *zone, device, ch string, v float64, now time.Time) {
	st, ok := m.shelves[shelfKey(device, ch)]
	if !ok || st.cfg.Zone != z.id {
		return
	}
	st.readings = append(st.readings, v)
	if n := len(st.readings); n > 3*stockWindow {
		st.readings = append(st.readings[:0], st.readings[n-stockWindow:]...)
	}
	w, ok := stable(st.readings)
	if !ok {
		return
	}
	q := quantityOf(w, st.cfg)
	prev, weighed := st.quantity, st.weighed
	st.weight, st.quantity, st.weighed = w, q, true
	s := st.cfg
	data := map[string]any{
		"item_name": s.Item, "device_id": s.DeviceID, "channel": s.Channel, "quantity": q,
		"min_threshold": s.MinThreshold, "reorder_quantity": s.ReorderQuantity, "current_weight_g": math.Round(w*10) / 10,
	}
	if s.Category != "" {
		data["category"] = s.Category
	}
	if weighed && q > prev {
		st.lastLow = time.Time{}
		data["previous_quantity"] = prev
		m.clearSuppressionLocked(z.id, AlertLowStock)
		m.emitLocked(z.id, EventRestocked, SeverityInfo, data, 0)
		return
	}
	if q < s.MinThreshold && (st.lastLow.IsZero() || now.Sub(st.lastLow) >= lowStockCooldown) {
		st.lastLow = now
		m.emitLocked(z.id, EventLowStock, SeverityWarning, data, 0)
	}
}

// stockLocked lists the weighed shelf items of zone (all zones when empty),
// sorted by zone and item.
func (m *Model) stockLocked(zone string, now time.Time) []Stock {
	var out []Stock
	for _, st := range m.shelves {
		s := st.cfg
		if !st.weighed || (zone != "" && s.Zone != zone) {
			continue
		}
		low := st.quantity < s.MinThreshold
		until, sup := m.suppress[cooldownKey{s.Zone, AlertLowStock}]
		out = append(out, Stock{
			DeviceID: s.DeviceID, Channel: s.Channel, Zone: s.Zone, Item: s.Item, Category: s.Category,
			Quantity: st.quantity, MinThreshold: s.MinThreshold, WeightG: math.Round(st.weight*10) / 10,
			Low: low, Requested: low && sup && now.Before(until),
		})
	}
	slices.SortFunc(out, func(a, b Stock) int {
		if a.Zone != b.Zone {
			return compare(a.Zone, b.Zone)
		}
		return compare(a.Item+a.DeviceID, b.Item+b.DeviceID)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Stock lists the weighed shelf items of a zone (every zone when empty).
// Items never weighed are left out, as the original did.
func (m *Model) Stock(zone string) []Stock {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stockLocked(zone, m.clock.Now())
}

// HasItem reports whether a weighed shelf holds an item of this name (the
// items the brain may put on the shopping list).
func (m *Model) HasItem(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.shelves {
		if st.weighed && st.cfg.Item == name {
			return true
		}
	}
	return false
}

// Line is the stock as one prompt line: the item quoted (it came from a
// person), the count, and whether it is low or a restock is requested.
func (s Stock) Line() string {
	line := fmt.Sprintf("- [%s] %s: 残り%d個（最低%d個, %.0fg）", quote.ID(s.Zone), quote.Text(s.Item, maxNameRunes), s.Quantity, s.MinThreshold, s.WeightG)
	switch {
	case s.Requested:
		line += " 🔄 補充を依頼済み"
	case s.Low:
		line += " ⚠ 在庫不足"
	}
	return line
}
