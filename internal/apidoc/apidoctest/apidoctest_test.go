package apidoctest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
)

const spec = `
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    get:
      responses:
        "200": {description: a thing, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "404": {description: none, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /things/:
    post:
      security: [{token: []}]
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string, minLength: 1}}}}}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "401": {description: no token, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "422": {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
components:
  securitySchemes:
    token: {type: apiKey, in: header, name: X-Token}
  schemas:
    Thing:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
        tags: {type: [array, "null"], items: {type: string}}
    Error:
      type: object
      required: [error]
      properties: {error: {type: string}}
`

// recordingT collects what the validator reports instead of failing.
type recordingT struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingT) Helper() {}

func TestHandler(t *testing.T) {
	// answer is what the handler under test writes, per test case.
	var status int
	var body string
	var gotBody string
	r := chi.NewRouter()
	serve := func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	r.Get("/things/{id}", serve)
	r.Post("/things/", serve)
	r.Get("/other", serve)

	tests := []struct {
		name, method, path, token, reqBody string
		status                             int
		body                               string
		want                               string // in the report; "" = no report
	}{
		{"a documented exchange", "GET", "/things/7", "", "", 200, `{"id":7,"name":"a","tags":null}`, ""},
		{"a documented error", "GET", "/things/8", "", "", 404, `{"error":"no such thing"}`, ""},
		{"a valid write", "POST", "/things/", "k", `{"name":"b"}`, 201, `{"id":1,"name":"b"}`, ""},
		{"an invalid request refused", "POST", "/things/", "k", `{"name":""}`, 422, `{"error":"name is empty"}`, ""},
		{"a missing credential refused", "POST", "/things/", "", `{"name":"b"}`, 401, `{"error":"no token"}`, ""},
		{"an invalid request accepted", "POST", "/things/", "k", `{"name":""}`, 201, `{"id":1,"name":""}`, "violates the document but was answered 201"},
		{"a missing credential accepted", "POST", "/things/", "", `{"name":"b"}`, 201, `{"id":1,"name":"b"}`, "violates the document"},
		{"a bad path parameter accepted", "GET", "/things/0", "", "", 200, `{"id":0,"name":"z"}`, "violates the document"},
		{"an undocumented status", "GET", "/things/7", "", "", 500, `{"error":"boom"}`, "status is not supported"},
		{"a field of the wrong type", "GET", "/things/7", "", "", 200, `{"id":"7","name":"a"}`, `"/id"`},
		{"a required field missing", "GET", "/things/7", "", "", 200, `{"id":7}`, "name"},
		{"an undocumented field", "GET", "/things/7", "", "", 200, `{"id":7,"name":"a","colour":"red"}`, "colour"},
		{"not JSON", "GET", "/things/7", "", "", 200, `{"id":7,`, "answered 200"},
		{"an undocumented route answered", "GET", "/other", "", "", 200, `{}`, "is not in the document"},
		{"an undocumented route refused", "GET", "/nowhere", "", "", 404, "404 page not found\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			srv := httptest.NewServer(Handler(rt, []byte(spec), r))
			defer srv.Close()
			status, body, gotBody = tc.status, tc.body, ""
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.token != "" {
				req.Header.Set("X-Token", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(got) != tc.body {
				t.Fatalf("the response was changed: %d %s", resp.StatusCode, got)
			}
			if gotBody != tc.reqBody && tc.path != "/nowhere" {
				t.Fatalf("the handler read %q, want %q", gotBody, tc.reqBody)
			}
			report := strings.Join(rt.errs, "\n")
			switch {
			case tc.want == "" && report != "":
				t.Fatalf("unexpected report:\n%s", report)
			case tc.want != "" && !strings.Contains(report, tc.want):
				t.Fatalf("report %q lacks %q", report, tc.want)
			}
		})
	}
}
