package edge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// The office's coffee shelf is used by the people in the kitchen, never
// refills by itself, and the control API takes beans off and puts them back;
// the original layout's shelf keeps the original's cycle.
func TestShelfConsumptionAndControl(t *testing.T) {
	o := newTestOffice(t)
	s := o.shelves["shelf_01"]
	if s == nil || s.weight != 650 {
		t.Fatalf("default office shelf = %+v", s)
	}
	o.step(time.Hour)
	if s.weight != 650 {
		t.Fatalf("an empty kitchen used beans: %.1f g", s.weight)
	}
	o.zones["kitchen"].People = 4
	for range 360 {
		o.step(10 * time.Second) // an hour, four people: about 120 g
	}
	if used := 650 - s.weight; used < 60 || used > 180 {
		t.Fatalf("four people used %.1f g in an hour, want about 120", used)
	}

	r := chi.NewRouter()
	o.routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	patch := func(body string) (int, ShelfView) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/devices/shelf_01/shelf", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v ShelfView
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, v := patch(`{"weight_g": 650}`); code != 200 || v.WeightG != 650 {
		t.Fatalf("set: %d %+v", code, v)
	}
	if code, v := patch(`{"take_g": 700}`); code != 200 || v.WeightG != 50 {
		t.Fatalf("take more than there is: %d %+v (the tray stays)", code, v)
	}
	if code, v := patch(`{"put_g": 600, "rate_g_per_s": 1}`); code != 200 || v.WeightG != 650 || v.RateGPerS != 1 {
		t.Fatalf("restock: %d %+v", code, v)
	}
	if code, _ := patch(`{"take_g": -5}`); code != 422 {
		t.Fatalf("negative take: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/devices/env_01/shelf", strings.NewReader(`{"take_g": 5}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("not a shelf: %v %v", resp.StatusCode, err)
	}
	if msgs := o.readings("kitchen"); !hasTopic(msgs, "office/kitchen/sensor/shelf_01/weight") {
		t.Fatalf("no weight reading: %v", msgs)
	}

	// The original's shelf: 2.5 g/s (650 g run out in about 4 minutes) and
	// back to 650 g 160 s after running empty.
	orig := newShelf(nil)
	var emptyAt, fullAt time.Duration
	for step := time.Duration(0); step < 10*time.Minute && fullAt == 0; step += 10 * time.Second {
		orig.step(10*time.Second, 0, o.rng)
		switch {
		case emptyAt == 0 && orig.weight <= 80:
			emptyAt = step
		case emptyAt > 0 && orig.weight == 650:
			fullAt = step
		}
	}
	if emptyAt < 2*time.Minute || emptyAt > 6*time.Minute || fullAt-emptyAt < 150*time.Second || fullAt-emptyAt > 180*time.Second {
		t.Fatalf("original shelf: empty after %v, refilled %v later", emptyAt, fullAt-emptyAt)
	}
}

func hasTopic(msgs []message, topic string) bool {
	for _, m := range msgs {
		if m.topic == topic {
			return true
		}
	}
	return false
}
