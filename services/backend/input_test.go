package backend

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/somsgo/soms/internal/backendapi"
)

// Input PostgreSQL cannot store — a NUL in text, an integer beyond its column
// (INTEGER is 32 bits, BIGINT 64) — is refused with a 4xx and a message on
// every route that takes input, never passed on to become a 500.
func TestUnstorableInputIs4xx(t *testing.T) {
	e := newEnvWith(t, envOpts{server: true})
	ctx := context.Background()
	root := e.admin(t, "root")
	alice := e.person(t, "alice")
	task := mustOK(t)(e.svc.CreateTask(ctx, backendapi.CreateTask{Title: "input", Location: "x"}))
	tid := itoa(task.ID)
	var item backendapi.InventoryItem
	if s := send(t, e, root, "POST", "/inventory/", map[string]any{"device_id": "shelf_01", "zone": "kitchen", "item_name": "beans", "unit_weight_g": 10}, &item); s != 201 {
		t.Fatalf("create inventory item: %d", s)
	}
	var shop backendapi.ShoppingItem
	if s := send(t, e, alice, "POST", "/shopping/", map[string]any{"name": "milk"}, &shop); s != 201 {
		t.Fatalf("create shopping item: %d", s)
	}
	const int4 = int64(1) << 31        // one past INTEGER
	const int8 = "9223372036854775808" // one past BIGINT (and int64)
	aliceID := itoa(me(t, alice).ID)

	tests := []struct {
		name         string
		c            *backendapi.Client
		method, path string
		body         string
	}{
		{"task title with NUL", e.svc, "POST", "/tasks/", `{"title":"` + "a\\u0000b" + `"}`},
		{"task location with NUL", e.svc, "POST", "/tasks/", `{"title":"t","location":"\u0000"}`},
		{"task type with NUL", e.svc, "POST", "/tasks/", `{"title":"t","task_type":["a\u0000"]}`},
		{"task min people beyond INTEGER", e.svc, "POST", "/tasks/", `{"title":"t","min_people_required":` + itoa(int4) + `}`},
		{"task duration beyond INTEGER", e.svc, "POST", "/tasks/", `{"title":"t","estimated_duration":` + itoa(int4) + `}`},
		{"task bounty beyond int64", e.svc, "POST", "/tasks/", `{"title":"t","bounty":` + int8 + `}`},
		{"task urgency beyond INTEGER", e.svc, "POST", "/tasks/", `{"title":"t","urgency":` + itoa(int4) + `}`},
		{"completion note with NUL", alice, "PUT", "/tasks/" + tid + "/complete", `{"completion_note":"\u0000"}`},
		{"accept for a user beyond BIGINT", e.svc, "PUT", "/tasks/" + tid + "/accept", `{"user_id":` + int8 + `}`},
		{"task id beyond BIGINT", e.svc, "GET", "/tasks/" + int8, ``},
		{"task id with NUL", e.svc, "GET", "/tasks/1%00", ``},
		{"task list zone with NUL", e.svc, "GET", "/tasks/?zone=%00", ``},
		{"register with NUL", nil, "POST", "/auth/register", `{"username":"` + "x\\u0000y" + `","password":"password1"}`},
		{"login with NUL", nil, "POST", "/auth/login", `{"username":"\u0000","password":"password1"}`},
		{"display name with NUL", alice, "PUT", "/users/" + aliceID, `{"display_name":"\u0000"}`},
		{"user id beyond BIGINT", root, "GET", "/users/" + int8, ``},
		{"inventory name with NUL", root, "POST", "/inventory/", `{"device_id":"d","zone":"z","item_name":"\u0000","unit_weight_g":1}`},
		{"inventory price beyond INTEGER", root, "POST", "/inventory/", `{"device_id":"d2","zone":"z","item_name":"n","unit_weight_g":1,"price":` + itoa(int4) + `}`},
		{"inventory update price beyond INTEGER", root, "PUT", "/inventory/" + itoa(item.ID), `{"price":` + itoa(int4) + `}`},
		{"inventory threshold beyond int64", root, "PUT", "/inventory/" + itoa(item.ID), `{"min_threshold":` + int8 + `}`},
		{"shopping name with NUL", alice, "POST", "/shopping/", `{"name":"\u0000"}`},
		{"shopping price beyond INTEGER", alice, "POST", "/shopping/", `{"name":"eggs","price":` + itoa(int4) + `}`},
		{"shopping update price beyond INTEGER", alice, "PUT", "/shopping/" + itoa(shop.ID), `{"price":` + itoa(int4) + `}`},
		{"shopping list store with NUL", alice, "GET", "/shopping/?store=%00", ``},
		{"voice event with NUL", e.svc, "POST", "/voice-events/", `{"message":"\u0000","audio_url":"/audio/x.wav"}`},
		{"chitchat with NUL", e.svc, "POST", "/voice-events/chitchat-stock", `{"text":"\u0000","audio_url":"/audio/x.wav"}`},
		{"sensor series zone with NUL", nil, "GET", "/sensors/time-series?zone=%00&channel=temperature", ``},
		{"sensor series limit beyond int64", nil, "GET", "/sensors/time-series?window=raw&limit=" + int8, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.c != nil && tc.c.Token != "" {
				req.Header.Set(backendapi.ServiceTokenHeader, tc.c.Token)
			}
			if tc.c != nil && tc.c.Bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.c.Bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var eb struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(b, &eb)
			if resp.StatusCode/100 != 4 || eb.Error == "" {
				t.Fatalf("%d %s, want a 4xx with a message", resp.StatusCode, b)
			}
		})
	}
}
