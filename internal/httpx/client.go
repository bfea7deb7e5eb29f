package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxAnswer bounds the answer bodies a Client reads when its MaxAnswer
// is zero.
const DefaultMaxAnswer = 16 << 20

// Client calls an HTTP API: it sends JSON, decodes JSON answers and turns
// every non-2xx answer into an *APIError. It is the one HTTP client helper of
// SOMS: the typed clients (backend, wallet, voice, VOICEVOX, LLM) and the
// tests, scenarios and probes are built on it. A Client is a value that may be
// copied; it is safe for concurrent use once set up.
type Client struct {
	// Name names the API in error messages ("wallet"); it may be empty.
	Name string
	// BaseURL is put before every path; empty when paths are whole URLs.
	BaseURL string
	// Header is sent with every request (service tokens, bearer tokens).
	Header http.Header
	// HTTP does the requests; nil means http.DefaultClient. Deadlines come
	// from its Timeout and from the caller's context.
	HTTP *http.Client
	// MaxAnswer bounds an answer's body in bytes; 0 means DefaultMaxAnswer.
	// A longer answer is an error, never silently cut.
	MaxAnswer int64
}

// Request is one call: Path is put after the client's BaseURL and may carry a
// query string.
type Request struct {
	Method string
	Path   string
	// Header adds headers to this request only (e.g. an idempotency key).
	Header http.Header
	// JSON is the body, encoded as JSON; nil sends no body.
	JSON any
}

// Response is a 2xx answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends in as JSON (nil: no body) and decodes a 2xx answer into out (nil:
// the answer is discarded).
func (c Client) Do(ctx context.Context, method, path string, in, out any) error {
	return c.Call(ctx, Request{Method: method, Path: path, JSON: in}, out)
}

// Call is Do for a request that needs its own headers.
func (c Client) Call(ctx context.Context, r Request, out any) error {
	resp, err := c.Send(ctx, r)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("%sdecoding the answer: %w", c.where(r), err)
	}
	return nil
}

// Send performs r and returns the raw 2xx answer, for bodies that are not
// JSON (audio) or need their headers. A non-2xx answer is an *APIError;
// transport errors are wrapped, so errors.Is(err, context.DeadlineExceeded)
// holds for a deadline.
func (c Client) Send(ctx context.Context, r Request) (*Response, error) {
	var body io.Reader
	if r.JSON != nil {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("%sencoding the request: %w", c.where(r), err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.BaseURL+r.Path, body)
	if err != nil {
		return nil, fmt.Errorf("%s%w", c.where(r), err)
	}
	copyHeader(req.Header, c.Header)
	copyHeader(req.Header, r.Header)
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s%w", c.where(r), err)
	}
	defer resp.Body.Close()
	limit := c.MaxAnswer
	if limit <= 0 {
		limit = DefaultMaxAnswer
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%sreading the answer: %w", c.where(r), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%sthe answer exceeds %d bytes", c.where(r), limit)
	}
	if resp.StatusCode/100 != 2 {
		msg, fields := errorBody(data)
		return nil, &APIError{API: c.Name, Method: r.Method, Path: r.Path, Status: resp.StatusCode, Message: msg, Fields: fields}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// where prefixes error messages: "wallet: POST /transactions/task-reward: ".
func (c Client) where(r Request) string {
	if c.Name == "" {
		return r.Method + " " + r.Path + ": "
	}
	return c.Name + ": " + r.Method + " " + r.Path + ": "
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
}

// APIError is a non-2xx answer. Message is the server's own: the "error" of
// SOMS's ErrorBody (or of an OpenAI-style {"error": {"message": ...}}), the
// "detail" of FastAPI and VOICEVOX, else the start of the body.
type APIError struct {
	API          string // the Client's Name
	Method, Path string
	Status       int
	Message      string
	// Fields names invalid request fields and why (ErrorBody.Fields, 422).
	Fields map[string]string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
	if e.API != "" {
		s = e.API + ": " + s
	}
	return s
}

// IsStatus reports whether err is (or wraps) an *APIError with status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// Permanent reports whether err is an answer that will not change on retry: a
// 4xx other than 408 (timeout) and 429 (too many requests). Transport errors
// and 5xx are worth retrying.
func Permanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
		ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests
}

// StatusMessage returns the status and the server's message of the *APIError
// in err's chain, or 0 and err's own text when no answer came. Typed clients
// use it to build their own error types.
func StatusMessage(err error) (int, string) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.Message
	}
	return 0, err.Error()
}

// maxMessage bounds a message quoted from a body that is not an error object.
const maxMessage = 300

// errorBody extracts the message and invalid fields of an error answer.
func errorBody(data []byte) (string, map[string]string) {
	var b struct {
		Error  json.RawMessage   `json:"error"`
		Detail json.RawMessage   `json:"detail"`
		Fields map[string]string `json:"fields"`
	}
	if json.Unmarshal(data, &b) == nil {
		if msg := jsonMessage(b.Error); msg != "" {
			return msg, b.Fields
		}
		if msg := jsonMessage(b.Detail); msg != "" {
			return msg, b.Fields
		}
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "(empty body)", nil
	}
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return s, nil
}

// jsonMessage reads a JSON string, an object's "message", or else any other
// non-null value as its JSON text.
func jsonMessage(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return string(raw)
}
