package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCallJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]int
		if err := Decode(r, &in); err != nil || in["n"] == 0 {
			Error(w, http.StatusUnprocessableEntity, "n is required")
			return
		}
		WriteJSON(w, http.StatusOK, map[string]int{"double": 2 * in["n"]})
	}))
	defer srv.Close()
	var out struct{ Double int }
	if err := CallJSON(context.Background(), srv.Client(), http.MethodPost, srv.URL, map[string]int{"n": 21}, &out); err != nil || out.Double != 42 {
		t.Fatalf("out = %+v, err = %v", out, err)
	}
	err := CallJSON(context.Background(), srv.Client(), http.MethodPost, srv.URL, map[string]int{}, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 422") || !strings.Contains(err.Error(), "n is required") {
		t.Fatalf("err = %v", err)
	}
}
