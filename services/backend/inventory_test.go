package backend

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
)

// send issues a JSON request with a client's credentials and decodes a 2xx
// answer into out; it returns the status.
func send(t *testing.T, e *env, c *backendapi.Client, method, path string, body any, out any) int {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set(backendapi.ServiceTokenHeader, c.Token)
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func str(s string) *string { return &s }

func TestInventoryItems(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	beans := backendapi.InventoryItemInput{DeviceID: str("shelf_01"), Zone: str("kitchen"), ItemName: str("コーヒー豆"),
		UnitWeightG: ptr(200.0), TareWeightG: ptr(50.0), MinThreshold: ptr(1)}
	if code := send(t, e, e.anon, "POST", "/inventory/", beans, nil); code != 401 {
		t.Fatalf("anonymous create: %d", code)
	}
	if code := send(t, e, alice, "POST", "/inventory/", beans, nil); code != 403 {
		t.Fatalf("a person creates: %d", code)
	}
	if code := send(t, e, e.svc, "POST", "/inventory/", backendapi.InventoryItemInput{DeviceID: str("x")}, nil); code != 422 {
		t.Fatalf("incomplete item: %d", code)
	}
	item, err := e.svc.CreateInventoryItem(ctx, beans)
	if err != nil || item.ID == 0 || item.Channel != "weight" || item.ReorderQuantity != 1 || !item.IsActive || !item.CreatedAt.Equal(t0) {
		t.Fatalf("created = %+v, %v", item, err)
	}
	if _, err := e.svc.CreateInventoryItem(ctx, beans); !isStatus(err, http.StatusConflict) {
		t.Fatalf("second item on the same shelf: %v", err)
	}
	tea := beans
	tea.DeviceID, tea.ItemName, tea.Zone = str("shelf_02"), str("紅茶"), str("main")
	other, err := e.svc.CreateInventoryItem(ctx, tea)
	if err != nil {
		t.Fatal(err)
	}
	if items, err := e.anon.ListInventory(ctx, true); err != nil || len(items) != 2 {
		t.Fatalf("list = %+v, %v", items, err)
	}
	var kitchen []backendapi.InventoryItem
	if code := send(t, e, e.anon, "GET", "/inventory/?zone=kitchen", nil, &kitchen); code != 200 || len(kitchen) != 1 || kitchen[0].ItemName != "コーヒー豆" {
		t.Fatalf("kitchen = %d %+v", code, kitchen)
	}
	var got backendapi.InventoryItem
	if code := send(t, e, e.svc, "PUT", "/inventory/"+itoa(other.ID), backendapi.InventoryItemInput{IsActive: ptr(false), MinThreshold: ptr(3)}, &got); code != 200 || got.IsActive || got.MinThreshold != 3 || got.ItemName != "紅茶" {
		t.Fatalf("update = %d %+v", code, got)
	}
	if items, _ := e.anon.ListInventory(ctx, true); len(items) != 1 {
		t.Fatalf("active after deactivation = %+v", items)
	}
	if code := send(t, e, e.svc, "DELETE", "/inventory/"+itoa(other.ID), nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := send(t, e, e.anon, "GET", "/inventory/"+itoa(other.ID), nil, nil); code != 404 {
		t.Fatalf("get deleted: %d", code)
	}

	// The brain pushes the live stock; anyone reads it.
	var live backendapi.InventoryLiveStatus
	if code := send(t, e, e.anon, "GET", "/inventory/live-status", nil, &live); code != 200 || live.UpdatedAt != 0 || len(live.Items) != 0 {
		t.Fatalf("live before a push = %+v", live)
	}
	push := []backendapi.InventoryLiveItem{{DeviceID: "shelf_01", Channel: "weight", Zone: "kitchen", ItemName: "コーヒー豆", Quantity: 0, MinThreshold: 1, CurrentWeightG: 150, Status: "low"}}
	if code := send(t, e, alice, "PUT", "/inventory/live-status", push, nil); code != 403 {
		t.Fatalf("a person pushes: %d", code)
	}
	if err := e.svc.PutInventoryLiveStatus(ctx, push); err != nil {
		t.Fatal(err)
	}
	if code := send(t, e, e.anon, "GET", "/inventory/live-status", nil, &live); code != 200 || len(live.Items) != 1 || live.Items[0].Status != "low" || live.UpdatedAt != float64(t0.Unix()) {
		t.Fatalf("live = %+v", live)
	}
	push[0].Status = "empty"
	if code := send(t, e, e.svc, "PUT", "/inventory/live-status", push, nil); code != 422 {
		t.Fatalf("bad status pushed: %d", code)
	}
}

func isStatus(err error, status int) bool {
	ae, ok := err.(*backendapi.APIError)
	return ok && ae.Status == status
}

func TestShoppingList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.person(t, "alice")
	if code := send(t, e, e.anon, "POST", "/shopping/", backendapi.ShoppingItemInput{Name: str("牛乳")}, nil); code != 401 {
		t.Fatalf("anonymous add: %d", code)
	}
	beans, err := e.svc.AddShoppingItem(ctx, backendapi.ShoppingItemInput{Name: str("コーヒー豆"), Quantity: ptr(1), Priority: ptr(2),
		CreatedBy: str("brain"), Category: str("飲料"), Price: ptr(1200), Store: str("スーパー")})
	if err != nil || beans.Quantity != 1 || beans.CreatedBy != "brain" {
		t.Fatalf("added = %+v, %v", beans, err)
	}
	again, err := e.svc.AddShoppingItem(ctx, backendapi.ShoppingItemInput{Name: str("コーヒー豆"), Quantity: ptr(2), Notes: str("在庫残量: 0個")})
	if err != nil || again.ID != beans.ID || again.Quantity != 3 || again.Priority != 2 || *again.Notes != "在庫残量: 0個" {
		t.Fatalf("merged = %+v, %v", again, err)
	}
	var milk backendapi.ShoppingItem
	if code := send(t, e, alice, "POST", "/shopping/", backendapi.ShoppingItemInput{Name: str("牛乳"), IsRecurring: ptr(true), RecurrenceDays: ptr(7)}, &milk); code != 201 || milk.NextPurchaseAt == nil || !milk.NextPurchaseAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("recurring add = %d %+v", code, milk)
	}
	var list []backendapi.ShoppingItem
	if code := send(t, e, e.anon, "GET", "/shopping/", nil, &list); code != 200 || len(list) != 2 || list[0].ID != beans.ID {
		t.Fatalf("list = %+v", list)
	}
	var done backendapi.ShoppingItem
	if code := send(t, e, alice, "PUT", "/shopping/"+itoa(beans.ID)+"/purchase", nil, &done); code != 200 || !done.IsPurchased || done.PurchasedAt == nil {
		t.Fatalf("purchase = %d %+v", code, done)
	}
	if code := send(t, e, alice, "PUT", "/shopping/"+itoa(beans.ID)+"/purchase", nil, nil); code != 400 {
		t.Fatalf("purchase again: %d", code)
	}
	// alice's sign-in has expired by now: the service acts.
	e.clock.Advance(8 * 24 * time.Hour)
	var due []backendapi.ShoppingItem
	if code := send(t, e, e.anon, "GET", "/shopping/due", nil, &due); code != 200 || len(due) != 1 || due[0].ID != milk.ID {
		t.Fatalf("due = %+v", due)
	}
	if code := send(t, e, e.svc, "PUT", "/shopping/"+itoa(milk.ID)+"/purchase", nil, nil); code != 200 {
		t.Fatal(code)
	}
	var recurring []backendapi.ShoppingItem
	if code := send(t, e, e.anon, "GET", "/shopping/recurring", nil, &recurring); code != 200 || len(recurring) != 1 || recurring[0].ID == milk.ID || recurring[0].CreatedBy != "recurring" {
		t.Fatalf("next instance = %+v", recurring)
	}
	var hist []Purchase
	if code := send(t, e, e.anon, "GET", "/shopping/history", nil, &hist); code != 200 || len(hist) != 2 || hist[1].ItemName != "コーヒー豆" || hist[1].Quantity != 3 {
		t.Fatalf("history = %+v", hist)
	}
	var st ShoppingStats
	if code := send(t, e, e.anon, "GET", "/shopping/stats", nil, &st); code != 200 || st.TotalItems != 3 || st.PurchasedItems != 2 || st.PendingItems != 1 || st.CategoryBreakdown["未分類"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	var cats, stores []string
	send(t, e, e.anon, "GET", "/shopping/categories", nil, &cats)
	send(t, e, e.anon, "GET", "/shopping/stores", nil, &stores)
	if len(cats) != 1 || cats[0] != "飲料" || len(stores) != 1 {
		t.Fatalf("categories %v, stores %v", cats, stores)
	}
	var share ShoppingShare
	if code := send(t, e, e.svc, "POST", "/shopping/0/share", nil, &share); code != 200 || share.Token == "" || !strings.HasSuffix(share.ShareURL, "/shopping/shared/"+share.Token) || len(share.Items) != 1 {
		t.Fatalf("share = %d %+v", code, share)
	}
	var shared []backendapi.ShoppingItem
	if code := send(t, e, e.anon, "GET", "/shopping/shared/"+share.Token, nil, &shared); code != 200 || len(shared) != 1 {
		t.Fatalf("shared = %d %+v", code, shared)
	}
	if code := send(t, e, e.anon, "GET", "/shopping/shared/nope", nil, nil); code != 404 {
		t.Fatalf("unknown share: %d", code)
	}
	var del map[string]bool
	if code := send(t, e, e.svc, "DELETE", "/shopping/"+itoa(recurring[0].ID), nil, &del); code != 200 || !del["success"] {
		t.Fatalf("delete = %d %v", code, del)
	}
	if code := send(t, e, e.svc, "PUT", "/shopping/9999", backendapi.ShoppingItemInput{Quantity: ptr(2)}, nil); code != 404 {
		t.Fatalf("update unknown: %d", code)
	}
}
