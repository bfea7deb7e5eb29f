package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
)

// The original's inventory API: which item each shelf weight channel holds
// (dashboard.inventory_items), read by the brain, which tracks the stock and
// pushes what it sees to the live status the dashboard shows.

type inventoryStore struct {
	pool *pgxpool.Pool

	mu       sync.Mutex
	live     []backendapi.InventoryLiveItem
	liveWhen time.Time
}

const inventoryColumns = `id, device_id, channel, zone, item_name, category, unit_weight_g, tare_weight_g,
	min_threshold, reorder_quantity, store, price, barcode, is_active, created_at, updated_at`

var errDuplicateShelf = errors.New("duplicate shelf")

func (s *inventoryStore) list(ctx context.Context, zone string, activeOnly bool) ([]backendapi.InventoryItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+inventoryColumns+` FROM dashboard.inventory_items
		WHERE ($1 = '' OR zone = $1) AND (NOT $2 OR is_active) ORDER BY id`, zone, activeOnly)
	if err != nil {
		return nil, fmt.Errorf("list inventory: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backendapi.InventoryItem])
	if err != nil {
		return nil, fmt.Errorf("list inventory: %w", err)
	}
	if items == nil {
		items = []backendapi.InventoryItem{}
	}
	return items, nil
}

func (s *inventoryStore) get(ctx context.Context, q querier, id int64) (backendapi.InventoryItem, error) {
	rows, err := q.Query(ctx, `SELECT `+inventoryColumns+` FROM dashboard.inventory_items WHERE id = $1`, id)
	if err != nil {
		return backendapi.InventoryItem{}, err
	}
	it, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[backendapi.InventoryItem])
	if errors.Is(err, pgx.ErrNoRows) {
		return it, errNotFound
	}
	return it, err
}

// save inserts (id 0) or replaces an item.
func (s *inventoryStore) save(ctx context.Context, id int64, it backendapi.InventoryItem, now time.Time) (backendapi.InventoryItem, error) {
	args := []any{it.DeviceID, it.Channel, it.Zone, it.ItemName, it.Category, it.UnitWeightG, it.TareWeightG,
		it.MinThreshold, it.ReorderQuantity, it.Store, it.Price, it.Barcode, it.IsActive, now}
	var err error
	if id == 0 {
		err = s.pool.QueryRow(ctx, `INSERT INTO dashboard.inventory_items (device_id, channel, zone, item_name, category,
			unit_weight_g, tare_weight_g, min_threshold, reorder_quantity, store, price, barcode, is_active, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$14) RETURNING id`, args...).Scan(&id)
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE dashboard.inventory_items SET device_id = $1, channel = $2, zone = $3, item_name = $4,
			category = $5, unit_weight_g = $6, tare_weight_g = $7, min_threshold = $8, reorder_quantity = $9, store = $10,
			price = $11, barcode = $12, is_active = $13, updated_at = $14 WHERE id = $15`, append(args, id)...)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return it, errDuplicateShelf
	}
	if err != nil {
		return it, fmt.Errorf("save inventory item: %w", err)
	}
	return s.get(ctx, s.pool, id)
}

func (a *API) inventoryRoutes(r chi.Router) {
	r.Route("/inventory", func(r chi.Router) {
		r.Get("/", a.listInventory)
		r.With(a.requireAuth, a.requireAdmin).Post("/", a.createInventoryItem)
		r.Get("/live-status", a.getLiveStatus)
		r.With(a.requireService).Put("/live-status", a.putLiveStatus)
		r.Get("/{id}", a.getInventoryItem)
		r.With(a.requireAuth, a.requireAdmin).Put("/{id}", a.updateInventoryItem)
		r.With(a.requireAuth, a.requireAdmin).Delete("/{id}", a.deleteInventoryItem)
	})
}

// boolParam reads ?name= as a boolean, def when absent.
func boolParam(w http.ResponseWriter, r *http.Request, name string, def bool) (bool, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, name+" must be true or false")
		return false, false
	}
	return v, true
}

// pathID reads the {id} path segment (a positive integer).
func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		httpx.Error(w, http.StatusBadRequest, what+" id must be a positive integer")
		return 0, false
	}
	return id, true
}

func (a *API) listInventory(w http.ResponseWriter, r *http.Request) {
	active, ok := boolParam(w, r, "active_only", true)
	if !ok {
		return
	}
	items, err := a.inventory.list(r.Context(), r.URL.Query().Get("zone"), active)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list inventory", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not list the inventory")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, items)
}

func (a *API) getInventoryItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "inventory item")
	if !ok {
		return
	}
	it, err := a.inventory.get(r.Context(), a.inventory.pool, id)
	a.writeItem(w, r, "inventory item", http.StatusOK, it, err)
}

// writeItem answers an item or maps its store's error to a status.
func (a *API) writeItem(w http.ResponseWriter, r *http.Request, what string, status int, v any, err error) {
	switch {
	case err == nil:
		httpx.WriteJSON(w, status, v)
	case errors.Is(err, errNotFound):
		httpx.Error(w, http.StatusNotFound, what+" not found")
	case errors.Is(err, errDuplicateShelf):
		httpx.Error(w, http.StatusConflict, "an active item already uses this device and channel")
	default:
		var se *stateError
		if errors.As(err, &se) {
			httpx.Error(w, http.StatusBadRequest, se.msg)
			return
		}
		a.log.ErrorContext(r.Context(), what, "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not store the "+what)
	}
}

// applyInventory applies in onto it and validates the result.
func applyInventory(it *backendapi.InventoryItem, in backendapi.InventoryItemInput) map[string]string {
	bad := map[string]string{}
	text := func(name string, dst *string, v *string, required bool) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
		switch n := len([]rune(*dst)); {
		case n == 0 && required:
			bad[name] = "required"
		case n > 100:
			bad[name] = "at most 100 characters"
		}
	}
	optional := func(name string, dst **string, v *string) {
		if v == nil {
			return
		}
		t := strings.TrimSpace(*v)
		*dst = &t
		if t == "" {
			*dst = nil
		} else if len([]rune(t)) > 100 {
			bad[name] = "at most 100 characters"
		}
	}
	text("device_id", &it.DeviceID, in.DeviceID, true)
	text("channel", &it.Channel, in.Channel, true)
	text("zone", &it.Zone, in.Zone, true)
	text("item_name", &it.ItemName, in.ItemName, true)
	optional("category", &it.Category, in.Category)
	optional("store", &it.Store, in.Store)
	optional("barcode", &it.Barcode, in.Barcode)
	if in.UnitWeightG != nil {
		it.UnitWeightG = *in.UnitWeightG
	}
	if in.TareWeightG != nil {
		it.TareWeightG = *in.TareWeightG
	}
	if in.MinThreshold != nil {
		it.MinThreshold = *in.MinThreshold
	}
	if in.ReorderQuantity != nil {
		it.ReorderQuantity = *in.ReorderQuantity
	}
	if in.Price != nil {
		it.Price = in.Price
	}
	if in.IsActive != nil {
		it.IsActive = *in.IsActive
	}
	switch {
	case !(it.UnitWeightG > 0 && it.UnitWeightG <= 1e6):
		bad["unit_weight_g"] = "required: grams per item, above 0"
	case !(it.TareWeightG >= 0 && it.TareWeightG <= 1e6):
		bad["tare_weight_g"] = "grams, 0 or more"
	}
	if it.MinThreshold < 0 || it.MinThreshold > 10000 {
		bad["min_threshold"] = "between 0 and 10000"
	}
	if it.ReorderQuantity < 1 || it.ReorderQuantity > 10000 {
		bad["reorder_quantity"] = "between 1 and 10000"
	}
	if it.Price != nil && (*it.Price < 0 || *it.Price > backendapi.MaxPrice) {
		bad["price"] = fmt.Sprintf("between 0 and %d", backendapi.MaxPrice)
	}
	return bad
}

func (a *API) createInventoryItem(w http.ResponseWriter, r *http.Request) {
	var in backendapi.InventoryItemInput
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	it := backendapi.InventoryItem{Channel: "weight", MinThreshold: 2, ReorderQuantity: 1, IsActive: true}
	if bad := applyInventory(&it, in); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	out, err := a.inventory.save(r.Context(), 0, it, a.clock.Now())
	if err == nil {
		a.log.InfoContext(r.Context(), "inventory item created", "id", out.ID, "item", out.ItemName, "device", out.DeviceID, "zone", out.Zone)
	}
	a.writeItem(w, r, "inventory item", http.StatusCreated, out, err)
}

func (a *API) updateInventoryItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "inventory item")
	if !ok {
		return
	}
	var in backendapi.InventoryItemInput
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	it, err := a.inventory.get(r.Context(), a.inventory.pool, id)
	if err != nil {
		a.writeItem(w, r, "inventory item", http.StatusOK, it, err)
		return
	}
	if bad := applyInventory(&it, in); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	out, err := a.inventory.save(r.Context(), id, it, a.clock.Now())
	a.writeItem(w, r, "inventory item", http.StatusOK, out, err)
}

func (a *API) deleteInventoryItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "inventory item")
	if !ok {
		return
	}
	tag, err := a.inventory.pool.Exec(r.Context(), `DELETE FROM dashboard.inventory_items WHERE id = $1`, id)
	switch {
	case err != nil:
		a.writeItem(w, r, "inventory item", 0, nil, err)
	case tag.RowsAffected() == 0:
		httpx.Error(w, http.StatusNotFound, "inventory item not found")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// maxLiveItems bounds a live-status push.
const maxLiveItems = 1000

func (a *API) putLiveStatus(w http.ResponseWriter, r *http.Request) {
	var items []backendapi.InventoryLiveItem
	if !httpx.DecodeOrError(w, r, &items) {
		return
	}
	if len(items) > maxLiveItems {
		httpx.Invalid(w, map[string]string{"items": "at most " + strconv.Itoa(maxLiveItems)})
		return
	}
	for i, it := range items {
		if it.Status != backendapi.StockOK && it.Status != backendapi.StockLow {
			httpx.Invalid(w, map[string]string{"[" + strconv.Itoa(i) + "].status": "must be ok or low"})
			return
		}
	}
	if items == nil {
		items = []backendapi.InventoryLiveItem{}
	}
	a.inventory.mu.Lock()
	a.inventory.live, a.inventory.liveWhen = items, a.clock.Now()
	a.inventory.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "items": len(items)})
}

func (a *API) getLiveStatus(w http.ResponseWriter, _ *http.Request) {
	a.inventory.mu.Lock()
	out := backendapi.InventoryLiveStatus{Items: a.inventory.live}
	if !a.inventory.liveWhen.IsZero() {
		out.UpdatedAt = float64(a.inventory.liveWhen.UnixMilli()) / 1000
	}
	a.inventory.mu.Unlock()
	if out.Items == nil {
		out.Items = []backendapi.InventoryLiveItem{}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
