// Package apidoctest checks a service's real HTTP exchanges against its
// OpenAPI document in tests: wrap the handler under test with Handler and every
// request it serves and every response it writes is validated (kin-openapi),
// whichever client the test uses.
package apidoctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"
	"github.com/somsgo/soms/internal/apidoc"
)

// Handler returns h wrapped so that every exchange is checked against the
// document spec (YAML or JSON); a disagreement fails t. The rules:
//   - a request to a path or method the document lacks must be answered 404
//     or 405;
//   - a request the document calls invalid (parameters, body, a missing
//     credential) must be refused with a 4xx — the server accepting it means
//     the document or the code is wrong;
//   - every response must have a documented status, and its headers and body
//     must match that response's schema (responses are closed: a field the
//     schema does not list is an error, so the document cannot fall behind).
//
// Server-Sent Events streams are passed through; they and other bodies
// kin-openapi cannot decode (HTML pages) are checked for status and content
// type only.
func Handler(t testing.TB, spec []byte, h http.Handler) http.Handler {
	t.Helper()
	reqRouter := router(t, spec, false)
	respRouter := router(t, spec, true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := bufferBody(r); err != nil {
			t.Errorf("apidoctest: %s %s: reading the request body: %v", r.Method, r.URL.Path, err)
		}
		route, params, err := reqRouter.FindRoute(withURL(r))
		if err != nil {
			rec := &recorder{ResponseWriter: w}
			h.ServeHTTP(rec, r)
			if s := rec.status(); s != http.StatusNotFound && s != http.StatusMethodNotAllowed {
				t.Errorf("apidoctest: %s %s is not in the document (%v) but was answered %d", r.Method, r.URL.Path, err, s)
			}
			return
		}
		opts := &openapi3filter.Options{AuthenticationFunc: credentialPresent, MultiError: true, SkipSettingDefaults: true}
		opts.WithCustomSchemaErrorFunc(briefly)
		in := &openapi3filter.RequestValidationInput{Request: withURL(r), PathParams: params, Route: route, Options: opts}
		reqErr := openapi3filter.ValidateRequest(r.Context(), in)
		rewind(r)

		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status()
		if reqErr != nil && status < 400 {
			t.Errorf("apidoctest: %s %s violates the document but was answered %d:\n%v", r.Method, r.URL.Path, status, reqErr)
		}

		respRoute, respParams, err := respRouter.FindRoute(withURL(r))
		if err != nil {
			t.Errorf("apidoctest: %s %s: %v", r.Method, r.URL.Path, err)
			return
		}
		// An event stream is endless, and a page (text/html) has no schema to
		// check: their status and content type still are.
		ct, _, _ := strings.Cut(rec.Header().Get("Content-Type"), ";")
		opaque := openapi3filter.RegisteredBodyDecoder(strings.TrimSpace(ct)) == nil
		ropts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: opaque}
		ropts.WithCustomSchemaErrorFunc(briefly)
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: withURL(r), PathParams: respParams, Route: respRoute},
			Status:                 status,
			Header:                 rec.Header(),
			Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
			Options:                ropts,
		}
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			t.Errorf("apidoctest: %s %s answered %d, which the document does not allow:\n%v\nbody: %s",
				r.Method, r.URL.Path, status, err, truncate(rec.body.String(), 600))
		}
	})
}

// router loads the document for one side of the exchange. The servers are
// dropped: the handler under test sees paths without any mount prefix. For
// responses, object schemas that list their properties are closed.
func router(t testing.TB, spec []byte, closed bool) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		t.Fatalf("apidoctest: loading the document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("apidoctest: the document is not valid OpenAPI: %v", err)
	}
	doc.Servers = nil
	if closed {
		seen := map[*openapi3.Schema]bool{}
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				for _, resp := range op.Responses.Map() {
					if resp.Value == nil {
						continue
					}
					for _, mt := range resp.Value.Content {
						closeObjects(mt.Schema, seen)
					}
				}
			}
		}
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("apidoctest: routing the document: %v", err)
	}
	return r
}

// closeObjects sets additionalProperties: false on every object schema with
// properties and no additionalProperties of its own, recursively.
func closeObjects(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		no := false
		s.AdditionalProperties.Has = &no
	}
	for _, p := range s.Properties {
		closeObjects(p, seen)
	}
	closeObjects(s.Items, seen)
	closeObjects(s.AdditionalProperties.Schema, seen)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range group {
			closeObjects(sub, seen)
		}
	}
}

// briefly reports a schema error by where and why, without the schema dump.
func briefly(err *openapi3.SchemaError) string {
	return fmt.Sprintf("at %q: %s", "/"+strings.Join(err.JSONPointer(), "/"), err.Reason)
}

// credentialPresent accepts a request that carries the credential a security
// scheme names; whether it is valid is the server's business (401/403).
func credentialPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	r := in.RequestValidationInput.Request
	switch {
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
		return fmt.Errorf("no %s header", s.Name)
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			return nil
		}
		return errors.New("no bearer token")
	}
	return fmt.Errorf("security scheme %s %s is not supported by apidoctest", s.Type, s.Scheme)
}

// withURL gives a server-side request the absolute URL the router matches.
func withURL(r *http.Request) *http.Request {
	if r.URL.Host != "" {
		return r
	}
	c := r.Clone(r.Context())
	c.URL.Scheme, c.URL.Host = "http", r.Host
	c.Body = r.Body
	return c
}

// bufferBody reads the body into memory so the validator and the handler
// both see it.
func bufferBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		r.Body = http.NoBody
		return nil
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = &replayable{Reader: bytes.NewReader(b), data: b}
	r.GetBody = func() (io.ReadCloser, error) { return &replayable{Reader: bytes.NewReader(b), data: b}, nil }
	return err
}

type replayable struct {
	*bytes.Reader
	data []byte
}

func (*replayable) Close() error { return nil }

func rewind(r *http.Request) {
	if r.GetBody != nil {
		r.Body, _ = r.GetBody()
	}
}

// recorder passes the response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if !strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream") {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers streaming.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// CoversRoutes checks an OpenAPI document against the router a service
// really serves, both ways: every route documented, every documented route
// served, every operation with a summary and responses, and at least minOps
// operations (so an empty document cannot pass).
func CoversRoutes(t testing.TB, spec []byte, r chi.Routes, minOps int) {
	t.Helper()
	d, err := apidoc.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version() != "3.1.0" {
		t.Fatalf("openapi version %v", d.Version())
	}
	for _, op := range d.Operations() {
		if op.Summary == "" || len(op.Responses) == 0 {
			t.Errorf("%s %s: no summary or responses", op.Method, op.Path)
		}
	}
	undocumented, unrouted, err := d.Compare(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(undocumented) > 0 || len(unrouted) > 0 {
		t.Fatalf("routes not in openapi.yaml: %v\ndocumented but not routed: %v", undocumented, unrouted)
	}
	if n := len(d.Operations()); n < minOps {
		t.Fatalf("only %d operations documented", n)
	}
}
