package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls the voice service. Deadlines come from the caller's context
// (the brain uses 60 s for speak, 180 s for a dual announcement, 30 s for a
// reminder); the HTTP client has no timeout of its own.
type Client struct {
	base *url.URL
	http *http.Client
}

// NewClient returns a client for the voice service at baseURL
// (VOICE_SERVICE_URL, e.g. http://voice-service:8002). hc may be nil.
func NewClient(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("voice service URL %q: want http(s)://host[:port]", baseURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u, http: hc}, nil
}

// Synthesize speaks text as is (the brain's speak tool). tone may be empty.
func (c *Client) Synthesize(ctx context.Context, text, tone string) (Speech, error) {
	var out Speech
	err := c.post(ctx, "/api/voice/synthesize", SynthesizeRequest{Text: text, Tone: tone}, &out)
	return out, err
}

// Announce has the service write and speak an announcement of t.
func (c *Client) Announce(ctx context.Context, t Task) (Announcement, error) {
	var out Announcement
	err := c.post(ctx, "/api/voice/announce", AnnounceRequest{Task: t}, &out)
	return out, err
}

// AnnounceWithCompletion returns the announcement of t and the thank-you
// message played when it is completed.
func (c *Client) AnnounceWithCompletion(ctx context.Context, t Task) (DualAnnouncement, error) {
	var out DualAnnouncement
	err := c.post(ctx, "/api/voice/announce_with_completion", AnnounceRequest{Task: t}, &out)
	return out, err
}

// AudioURL resolves an audio URL answered by the service (relative by
// default) against the service's base URL.
func (c *Client) AudioURL(u string) string {
	ref, err := url.Parse(u)
	if err != nil {
		return u
	}
	return c.base.ResolveReference(ref).String()
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("voice: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("POST %s: %v", path, err), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Status: resp.StatusCode, Msg: "reading answer: " + err.Error(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return &Error{Status: resp.StatusCode, Msg: errorMessage(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Status: resp.StatusCode, Msg: "answer is not the expected JSON: " + err.Error(), Err: err}
	}
	return nil
}

// errorMessage extracts {"error": ...} (SOMS) or {"detail": ...} (FastAPI,
// VOICEVOX) from an error body, else returns the body itself, shortened.
func errorMessage(data []byte) string {
	var e struct {
		Error  string          `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Error != "" {
			return e.Error
		}
		if len(e.Detail) > 0 {
			var s string
			if json.Unmarshal(e.Detail, &s) == nil {
				return s
			}
			return string(e.Detail)
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}
