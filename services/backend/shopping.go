package backend

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
)

// The original's shopping list: what the office has to buy (people, and the
// brain when a shelf runs low), purchases and their history, recurring items
// and share links.

type shoppingStore struct{ pool *pgxpool.Pool }

const shoppingColumns = `id, name, category, quantity, unit, store, price, is_purchased, is_recurring, recurrence_days,
	last_purchased_at, next_purchase_at, notes, priority, created_at, purchased_at, created_by, share_token`

func (s *shoppingStore) query(ctx context.Context, q querier, where string, args ...any) ([]backendapi.ShoppingItem, error) {
	rows, err := q.Query(ctx, `SELECT `+shoppingColumns+` FROM dashboard.shopping_items WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("shopping list: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backendapi.ShoppingItem])
	if err != nil {
		return nil, fmt.Errorf("shopping list: %w", err)
	}
	if items == nil {
		items = []backendapi.ShoppingItem{}
	}
	return items, nil
}

func (s *shoppingStore) get(ctx context.Context, q querier, id int64) (backendapi.ShoppingItem, error) {
	items, err := s.query(ctx, q, `id = $1`, id)
	if err != nil {
		return backendapi.ShoppingItem{}, err
	}
	if len(items) == 0 {
		return backendapi.ShoppingItem{}, errNotFound
	}
	return items[0], nil
}

// add lists an item; an unpurchased one of the same name gets the quantity
// added, the newer notes and the higher priority instead (the original's
// duplicate rule). It reports whether the item is new.
func (s *shoppingStore) add(ctx context.Context, it backendapi.ShoppingItem, now time.Time) (backendapi.ShoppingItem, bool, error) {
	var out backendapi.ShoppingItem
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('shopping|' || $1))`, it.Name); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM dashboard.shopping_items WHERE name = $1 AND NOT is_purchased ORDER BY id LIMIT 1`, it.Name).Scan(&id)
		switch {
		case err == nil:
			_, err = tx.Exec(ctx, `UPDATE dashboard.shopping_items SET quantity = quantity + $2, notes = COALESCE($3, notes),
				priority = GREATEST(priority, $4) WHERE id = $1`, id, it.Quantity, it.Notes, it.Priority)
		case errors.Is(err, pgx.ErrNoRows):
			created = true
			if it.IsRecurring && it.RecurrenceDays != nil {
				next := now.Add(time.Duration(*it.RecurrenceDays) * 24 * time.Hour)
				it.NextPurchaseAt = &next
			}
			err = tx.QueryRow(ctx, `INSERT INTO dashboard.shopping_items (name, category, quantity, unit, store, price,
				is_recurring, recurrence_days, next_purchase_at, notes, priority, created_at, created_by)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
				it.Name, it.Category, it.Quantity, it.Unit, it.Store, it.Price, it.IsRecurring, it.RecurrenceDays,
				it.NextPurchaseAt, it.Notes, it.Priority, now, it.CreatedBy).Scan(&id)
		}
		if err != nil {
			return err
		}
		out, err = s.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return out, false, fmt.Errorf("add to the shopping list: %w", err)
	}
	return out, created, nil
}

// purchase marks an item bought, records the purchase and, for a recurring
// item, lists its next instance.
func (s *shoppingStore) purchase(ctx context.Context, id int64, now time.Time) (backendapi.ShoppingItem, error) {
	var out backendapi.ShoppingItem
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		items, err := s.query(ctx, tx, `id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errNotFound
		}
		it := items[0]
		if it.IsPurchased {
			return &stateError{"item is already purchased"}
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard.shopping_items SET is_purchased = true, purchased_at = $2, last_purchased_at = $2
			WHERE id = $1`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dashboard.purchase_history (item_name, category, store, price, quantity, purchased_at)
			VALUES ($1,$2,$3,$4,$5,$6)`, it.Name, it.Category, it.Store, it.Price, it.Quantity, now); err != nil {
			return err
		}
		if it.IsRecurring && it.RecurrenceDays != nil {
			next := now.Add(time.Duration(*it.RecurrenceDays) * 24 * time.Hour)
			if _, err := tx.Exec(ctx, `INSERT INTO dashboard.shopping_items (name, category, quantity, unit, store, price,
				is_recurring, recurrence_days, next_purchase_at, notes, priority, created_at, created_by)
				VALUES ($1,$2,$3,$4,$5,$6,true,$7,$8,$9,$10,$11,'recurring')`,
				it.Name, it.Category, it.Quantity, it.Unit, it.Store, it.Price, it.RecurrenceDays, next, it.Notes, it.Priority, now); err != nil {
				return err
			}
		}
		out, err = s.get(ctx, tx, id)
		return err
	})
	return out, err
}

func (a *API) shoppingRoutes(r chi.Router) {
	r.Route("/shopping", func(r chi.Router) {
		r.Get("/", a.listShopping)
		r.With(a.requireAuth).Post("/", a.addShopping)
		r.Get("/stats", a.shoppingStats)
		r.Get("/categories", a.shoppingDistinct("category"))
		r.Get("/stores", a.shoppingDistinct("store"))
		r.Get("/history", a.shoppingHistory)
		r.Get("/recurring", a.shoppingRecurring(false))
		r.Get("/due", a.shoppingRecurring(true))
		r.Get("/shared/{token}", a.sharedShopping)
		r.With(a.requireAuth).Put("/{id}", a.updateShopping)
		r.With(a.requireAuth).Put("/{id}/purchase", a.purchaseShopping)
		r.With(a.requireAuth).Delete("/{id}", a.deleteShopping)
		r.With(a.requireAuth).Post("/{id}/share", a.shareShopping)
	})
}

// publishShopping tells listeners (office/shopping/{event}) what changed, as
// the original did; failures are only logged.
func (a *API) publishShopping(ctx context.Context, event string, it backendapi.ShoppingItem) {
	if a.bus == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	body := map[string]any{"id": it.ID, "name": it.Name, "category": it.Category, "price": it.Price}
	if err := a.bus.PublishJSON(ctx, "office/shopping/"+event, 0, false, body); err != nil {
		a.log.WarnContext(ctx, "publish shopping event", "event", event, "err", err)
	}
}

func (a *API) writeShopping(w http.ResponseWriter, r *http.Request, where string, args ...any) {
	items, err := a.shopping.query(r.Context(), a.shopping.pool, where, args...)
	if err != nil {
		a.log.ErrorContext(r.Context(), "shopping list", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the shopping list")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, items)
}

func (a *API) listShopping(w http.ResponseWriter, r *http.Request) {
	all, ok := boolParam(w, r, "include_purchased", false)
	if !ok {
		return
	}
	q := r.URL.Query()
	a.writeShopping(w, r, `($1 OR NOT is_purchased) AND ($2 = '' OR category = $2) AND ($3 = '' OR store = $3)
		ORDER BY priority DESC, created_at, id`, all, q.Get("category"), q.Get("store"))
}

// applyShopping applies in onto it and validates the result.
func applyShopping(it *backendapi.ShoppingItem, in backendapi.ShoppingItemInput) map[string]string {
	bad := map[string]string{}
	if in.Name != nil {
		it.Name = strings.TrimSpace(*in.Name)
	}
	if n := len([]rune(it.Name)); n == 0 || n > 100 {
		bad["name"] = "required, at most 100 characters"
	}
	for name, p := range map[string]struct {
		dst **string
		v   *string
		max int
	}{"category": {&it.Category, in.Category, 100}, "unit": {&it.Unit, in.Unit, 40}, "store": {&it.Store, in.Store, 100}, "notes": {&it.Notes, in.Notes, 500}} {
		if p.v == nil {
			continue
		}
		t := strings.TrimSpace(*p.v)
		*p.dst = &t
		if t == "" {
			*p.dst = nil
		} else if len([]rune(t)) > p.max {
			bad[name] = fmt.Sprintf("at most %d characters", p.max)
		}
	}
	if in.Quantity != nil {
		it.Quantity = *in.Quantity
	}
	if in.Price != nil {
		it.Price = in.Price
	}
	if in.IsRecurring != nil {
		it.IsRecurring = *in.IsRecurring
	}
	if in.RecurrenceDays != nil {
		it.RecurrenceDays = in.RecurrenceDays
	}
	if in.Priority != nil {
		it.Priority = *in.Priority
	}
	if in.CreatedBy != nil && strings.TrimSpace(*in.CreatedBy) != "" {
		it.CreatedBy = strings.TrimSpace(*in.CreatedBy)
	}
	if it.Quantity < 1 || it.Quantity > 1000 {
		bad["quantity"] = "between 1 and 1000"
	}
	if it.Price != nil && (*it.Price < 0 || *it.Price > backendapi.MaxPrice) {
		bad["price"] = fmt.Sprintf("between 0 and %d", backendapi.MaxPrice)
	}
	if it.RecurrenceDays != nil && (*it.RecurrenceDays < 1 || *it.RecurrenceDays > 3650) {
		bad["recurrence_days"] = "between 1 and 3650"
	}
	if it.Priority < 0 || it.Priority > 5 {
		bad["priority"] = "between 0 and 5"
	}
	if len(it.CreatedBy) > 40 {
		bad["created_by"] = "at most 40 characters"
	}
	return bad
}

func (a *API) addShopping(w http.ResponseWriter, r *http.Request) {
	var in backendapi.ShoppingItemInput
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	it := backendapi.ShoppingItem{Quantity: 1, Priority: 1, CreatedBy: "user"}
	if bad := applyShopping(&it, in); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	out, created, err := a.shopping.add(r.Context(), it, a.clock.Now())
	if err != nil {
		a.writeItem(w, r, "shopping item", 0, nil, err)
		return
	}
	event := "updated"
	if created {
		event = "added"
	}
	a.log.InfoContext(r.Context(), "shopping list "+event, "id", out.ID, "name", out.Name, "quantity", out.Quantity, "by", out.CreatedBy)
	a.publishShopping(r.Context(), event, out)
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (a *API) updateShopping(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "shopping item")
	if !ok {
		return
	}
	var in backendapi.ShoppingItemInput
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	it, err := a.shopping.get(r.Context(), a.shopping.pool, id)
	if err != nil {
		a.writeItem(w, r, "shopping item", 0, nil, err)
		return
	}
	if bad := applyShopping(&it, in); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	_, err = a.shopping.pool.Exec(r.Context(), `UPDATE dashboard.shopping_items SET name = $2, category = $3, quantity = $4,
		unit = $5, store = $6, price = $7, is_recurring = $8, recurrence_days = $9, notes = $10, priority = $11 WHERE id = $1`,
		id, it.Name, it.Category, it.Quantity, it.Unit, it.Store, it.Price, it.IsRecurring, it.RecurrenceDays, it.Notes, it.Priority)
	if err == nil {
		it, err = a.shopping.get(r.Context(), a.shopping.pool, id)
	}
	a.writeItem(w, r, "shopping item", http.StatusOK, it, err)
}

func (a *API) purchaseShopping(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "shopping item")
	if !ok {
		return
	}
	it, err := a.shopping.purchase(r.Context(), id, a.clock.Now())
	if err == nil {
		a.publishShopping(r.Context(), "purchased", it)
	}
	a.writeItem(w, r, "shopping item", http.StatusOK, it, err)
}

func (a *API) deleteShopping(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "shopping item")
	if !ok {
		return
	}
	tag, err := a.shopping.pool.Exec(r.Context(), `DELETE FROM dashboard.shopping_items WHERE id = $1`, id)
	switch {
	case err != nil:
		a.writeItem(w, r, "shopping item", 0, nil, err)
	case tag.RowsAffected() == 0:
		httpx.Error(w, http.StatusNotFound, "shopping item not found")
	default:
		httpx.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
	}
}

// ShoppingStats is GET /shopping/stats (the original's shape).
type ShoppingStats struct {
	TotalItems          int            `json:"total_items"`
	PurchasedItems      int            `json:"purchased_items"`
	PendingItems        int            `json:"pending_items"`
	TotalSpentThisMonth int64          `json:"total_spent_this_month"`
	CategoryBreakdown   map[string]int `json:"category_breakdown"`
}

func (a *API) shoppingStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := a.clock.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	st := ShoppingStats{CategoryBreakdown: map[string]int{}}
	err := a.shopping.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_purchased),
		(SELECT COALESCE(sum(price::bigint * quantity), 0) FROM dashboard.purchase_history WHERE purchased_at >= $1)
		FROM dashboard.shopping_items`, month).Scan(&st.TotalItems, &st.PurchasedItems, &st.TotalSpentThisMonth)
	if err == nil {
		st.PendingItems = st.TotalItems - st.PurchasedItems
		// "未分類" (uncategorised) is the original's key for items without one.
		err = a.tasks.countInto(ctx, st.CategoryBreakdown, `SELECT COALESCE(category, '未分類'), count(*)
			FROM dashboard.shopping_items WHERE NOT is_purchased GROUP BY 1`)
	}
	if err != nil {
		a.log.ErrorContext(ctx, "shopping stats", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not count the shopping list")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

// shoppingDistinct lists the distinct categories or stores.
func (a *API) shoppingDistinct(column string) http.HandlerFunc {
	sql := `SELECT DISTINCT ` + column + ` FROM dashboard.shopping_items WHERE ` + column + ` IS NOT NULL ORDER BY 1`
	return func(w http.ResponseWriter, r *http.Request) {
		rows, err := a.shopping.pool.Query(r.Context(), sql)
		var out []string
		if err == nil {
			out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			a.log.ErrorContext(r.Context(), "shopping "+column, "err", err)
			httpx.Error(w, http.StatusInternalServerError, "could not read the shopping list")
			return
		}
		if out == nil {
			out = []string{}
		}
		httpx.WriteJSON(w, http.StatusOK, out)
	}
}

// Purchase is one entry of GET /shopping/history.
type Purchase struct {
	ID          int64     `json:"id"`
	ItemName    string    `json:"item_name"`
	Category    *string   `json:"category"`
	Store       *string   `json:"store"`
	Price       *int      `json:"price"`
	Quantity    int       `json:"quantity"`
	PurchasedAt time.Time `json:"purchased_at"`
}

func (a *API) shoppingHistory(w http.ResponseWriter, r *http.Request) {
	days, ok := boundedInt(w, r, "days", 30, 1, 365)
	if !ok {
		return
	}
	rows, err := a.shopping.pool.Query(r.Context(), `SELECT id, item_name, category, store, price, quantity, purchased_at
		FROM dashboard.purchase_history WHERE purchased_at >= $1 AND ($2 = '' OR category = $2)
		ORDER BY purchased_at DESC, id DESC LIMIT 100`, a.clock.Now().AddDate(0, 0, -days), r.URL.Query().Get("category"))
	var out []Purchase
	if err == nil {
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Purchase])
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "purchase history", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the purchase history")
		return
	}
	if out == nil {
		out = []Purchase{}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// shoppingRecurring lists recurring items not yet bought (only those due when
// due).
func (a *API) shoppingRecurring(due bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.writeShopping(w, r, `is_recurring AND NOT is_purchased AND (NOT $1 OR next_purchase_at <= $2)
			ORDER BY next_purchase_at NULLS LAST, id`, due, a.clock.Now())
	}
}

// ShoppingShare is the answer of POST /shopping/{id}/share.
type ShoppingShare struct {
	ShareURL string                    `json:"share_url"`
	Token    string                    `json:"token"`
	Items    []backendapi.ShoppingItem `json:"items"`
}

// shareShopping makes a link to the pending list (id 0: all pending items;
// else the one item), readable without an account at
// GET /shopping/shared/{token}.
func (a *API) shareShopping(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, "shopping item id must be 0 (the whole list) or a positive integer")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	ctx := r.Context()
	var items []backendapi.ShoppingItem
	if id > 0 {
		items, err = a.shopping.query(ctx, a.shopping.pool, `id = $1`, id)
	} else {
		items, err = a.shopping.query(ctx, a.shopping.pool, `NOT is_purchased ORDER BY priority DESC, created_at, id`)
	}
	if err == nil && len(items) == 0 {
		if id > 0 {
			httpx.Error(w, http.StatusNotFound, "shopping item not found")
		} else {
			httpx.Error(w, http.StatusNotFound, "no pending items to share")
		}
		return
	}
	if err == nil {
		_, err = a.shopping.pool.Exec(ctx, `UPDATE dashboard.shopping_items SET share_token = $2 WHERE id = $1`, items[0].ID, token)
		items[0].ShareToken = &token
	}
	if err != nil {
		a.writeItem(w, r, "shopping item", 0, nil, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ShoppingShare{ShareURL: a.externalURL + "/shopping/shared/" + token, Token: token, Items: items})
}

func (a *API) sharedShopping(w http.ResponseWriter, r *http.Request) {
	var n int
	err := a.shopping.pool.QueryRow(r.Context(), `SELECT count(*) FROM dashboard.shopping_items WHERE share_token = $1`, chi.URLParam(r, "token")).Scan(&n)
	if err == nil && n == 0 {
		httpx.Error(w, http.StatusNotFound, "share link not found")
		return
	}
	if err != nil {
		a.writeItem(w, r, "shopping item", 0, nil, err)
		return
	}
	a.writeShopping(w, r, `NOT is_purchased ORDER BY priority DESC, created_at, id`)
}

func parseID(s string) (int64, error) {
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil || id < 0 || fmt.Sprint(id) != s {
		return 0, errors.New("bad id")
	}
	return id, nil
}
