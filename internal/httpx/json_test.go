package httpx

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteJSONUnencodable: a value JSON cannot hold (±Inf, NaN, a channel)
// is a 500 with an error body, never a 200 with an empty one.
func TestWriteJSONUnencodable(t *testing.T) {
	for _, v := range []any{math.Inf(1), map[string]float64{"co2": math.NaN()}, make(chan int)} {
		w := httptest.NewRecorder()
		WriteJSON(w, http.StatusOK, v)
		var body ErrorBody
		if w.Code != http.StatusInternalServerError || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error == "" {
			t.Errorf("%T: %d %q", v, w.Code, w.Body.String())
		}
	}
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusCreated, map[string]int{"id": 7})
	if w.Code != http.StatusCreated || w.Body.String() != "{\"id\":7}\n" || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %q %v", w.Code, w.Body.String(), w.Header())
	}
}
