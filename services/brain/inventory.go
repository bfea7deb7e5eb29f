package brain

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/services/brain/quote"
	"github.com/somsgo/soms/services/brain/sanitizer"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// livePushEvery is how often the live stock is pushed even when unchanged
// (the dashboard shows when it was last heard of).
const livePushEvery = 5 * time.Minute

// inventoryLoop keeps the world model's shelf items in step with the
// backend's inventory (every InventoryRefresh) and pushes the weighed stock
// to the backend's live status when it changes (checked every
// InventoryPush), as the original brain did every 15 s.
func (b *brain) inventoryLoop(ctx context.Context) error {
	if b.cfg.InventoryRefresh <= 0 || b.cfg.InventoryPush <= 0 {
		<-ctx.Done()
		return nil
	}
	tick := b.clock.NewTicker(b.cfg.InventoryPush)
	defer tick.Stop()
	var (
		refreshed, pushed time.Time
		last              []backendapi.InventoryLiveItem
	)
	for {
		now := b.clock.Now()
		if refreshed.IsZero() || now.Sub(refreshed) >= b.cfg.InventoryRefresh {
			if err := b.refreshInventory(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				b.log.Warn("reading the shelf items from the backend", "err", err)
			} else {
				refreshed = now
			}
		}
		live := liveItems(b.world.Stock(""))
		if !slices.Equal(live, last) || now.Sub(pushed) >= livePushEvery {
			pctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
			err := b.dash.PutInventoryLiveStatus(pctx, live)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				b.log.Warn("pushing the live stock to the backend", "err", err)
			} else {
				last, pushed = live, now
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C():
		}
	}
}

// refreshInventory reads the active shelf items into the world model.
func (b *brain) refreshInventory(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	defer cancel()
	items, err := b.dash.ListInventory(ctx, true)
	if err != nil {
		return err
	}
	shelves := make([]worldmodel.Shelf, 0, len(items))
	for _, it := range items {
		shelves = append(shelves, worldmodel.Shelf{
			DeviceID: it.DeviceID, Channel: it.Channel, Zone: it.Zone, Item: it.ItemName, Category: deref(it.Category),
			UnitWeightG: it.UnitWeightG, TareWeightG: it.TareWeightG, MinThreshold: it.MinThreshold, ReorderQuantity: it.ReorderQuantity,
		})
	}
	b.world.SetInventory(shelves)
	return nil
}

func liveItems(stock []worldmodel.Stock) []backendapi.InventoryLiveItem {
	out := make([]backendapi.InventoryLiveItem, 0, len(stock))
	for _, s := range stock {
		status := backendapi.StockOK
		if s.Low {
			status = backendapi.StockLow
		}
		out = append(out, backendapi.InventoryLiveItem{
			DeviceID: s.DeviceID, Channel: s.Channel, Zone: s.Zone, ItemName: s.Item, Category: s.Category,
			Quantity: s.Quantity, MinThreshold: s.MinThreshold, CurrentWeightG: s.WeightG, Status: status,
		})
	}
	return out
}

// checkInventory is the check_inventory tool: the weighed stock of a zone
// (every zone when none is named).
func (b *brain) checkInventory(args map[string]any) toolResult {
	stock := b.world.Stock(strings.TrimSpace(str(args["zone"])))
	if len(stock) == 0 {
		return ok("在庫を計測している棚はありません")
	}
	lines := make([]string, 0, len(stock))
	for _, s := range stock {
		lines = append(lines, s.Line())
	}
	return ok("%s", strings.Join(lines, "\n"))
}

// addShoppingItem is the add_shopping_item tool: the item goes on the
// backend's shopping list (merged with an unpurchased one of the same name),
// and the low stock of its shelves counts as handled.
func (b *brain) addShoppingItem(ctx context.Context, args map[string]any) toolResult {
	name := strings.TrimSpace(str(args["name"]))
	q, _ := jsonnum.Float(args["quantity"], sanitizer.ArgAccept)
	quantity, priority, by := int(q), 2, "brain"
	in := backendapi.ShoppingItemInput{Name: &name, Quantity: &quantity, Priority: &priority, CreatedBy: &by}
	for key, dst := range map[string]**string{"category": &in.Category, "store": &in.Store, "notes": &in.Notes} {
		if v := strings.TrimSpace(str(args[key])); v != "" {
			*dst = &v
		}
	}
	if p, isNum := jsonnum.Float(args["price"], sanitizer.ArgAccept); isNum && p >= 0 {
		price := int(p)
		in.Price = &price
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.BackendTimeout)
	it, err := b.dash.AddShoppingItem(cctx, in)
	cancel()
	if err != nil {
		return fail("backend rejected the shopping item: %v", err)
	}
	b.san.RecordShopping()
	for _, s := range b.world.Stock("") {
		if s.Item == name && s.Low {
			b.world.Suppress(s.Zone, worldmodel.AlertLowStock)
		}
	}
	b.log.Info("added to the shopping list", "id", it.ID, "name", name, "quantity", it.Quantity)
	return ok("買い物リストに追加しました (ID %d, %s × %d)", it.ID, quote.Text(it.Name, maxTitleRunes), it.Quantity)
}

// inventoryLines are the prompt's stock section: the low items, each quoted.
func inventoryLines(zones []worldmodel.Snapshot) []string {
	var out []string
	for _, z := range zones {
		for _, s := range z.Stock {
			if s.Low {
				out = append(out, s.Line())
			}
		}
	}
	return out
}

// restockSuppress marks the low stock of a supply task's zone (every zone
// with low stock when it names none) as handled.
func (b *brain) restockSuppress(zone string) {
	for _, s := range b.world.Stock(zone) {
		if s.Low {
			b.world.Suppress(s.Zone, worldmodel.AlertLowStock)
		}
	}
}
