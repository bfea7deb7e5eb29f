package voice

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/somsgo/soms/internal/httpx"
)

// Client calls the voice service. Deadlines come from the caller's context
// (the brain uses 60 s for speak, 180 s for a dual announcement, 30 s for a
// reminder); the HTTP client has no timeout of its own.
type Client struct {
	base *url.URL
	api  httpx.Client
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
	return &Client{base: u, api: httpx.Client{BaseURL: u.String(), HTTP: hc, MaxAnswer: 1 << 20}}, nil
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
	return callError("", c.api.Do(ctx, http.MethodPost, path, in, out))
}
