package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// Config is an OpenAI-compatible endpoint, with the original SOMS variable names.
type Config struct {
	URL         string        `env:"LLM_API_URL" default:"http://localhost:8001/v1" doc:"OpenAI-compatible base URL (Ollama: http://ollama:11434/v1)"`
	Model       string        `env:"LLM_MODEL" default:"qwen3.5:9b" doc:"model name sent in requests"`
	APIKey      string        `env:"OPENAI_API_KEY" default:"EMPTY" doc:"bearer token (local servers ignore it)"`
	Timeout     time.Duration `env:"LLM_TIMEOUT" default:"120s" doc:"timeout of one completion request"`
	Temperature float64       `env:"LLM_TEMPERATURE" default:"0.3" doc:"sampling temperature"`
	MaxTokens   int           `env:"LLM_MAX_TOKENS" default:"4096" doc:"completion token limit"`
}

// Client calls /chat/completions.
type Client struct {
	cfg Config
	api httpx.Client
}

// NewClient returns a client for cfg.
func NewClient(cfg Config) *Client {
	return &Client{cfg: cfg, api: httpx.Client{
		BaseURL: strings.TrimRight(cfg.URL, "/"),
		Header:  http.Header{"Authorization": {"Bearer " + cfg.APIKey}},
		HTTP:    &http.Client{Timeout: cfg.Timeout},
	}}
}

// Model is the configured model name.
func (c *Client) Model() string { return c.cfg.Model }

// Error is a failed completion: transport, HTTP status or a malformed answer.
type Error struct {
	Status int // 0 when no HTTP answer was received
	Msg    string
	Err    error // the transport error, if any
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("LLM API error %d: %s", e.Status, e.Msg)
	}
	return "LLM: " + e.Msg
}

// Chat sends messages with tools and returns the first choice's message, with
// <think> blocks removed from its content.
func (c *Client) Chat(ctx context.Context, messages []Message, tools []Tool) (Message, error) {
	temp := c.cfg.Temperature
	resp, err := c.api.Send(ctx, httpx.Request{Method: http.MethodPost, Path: "/chat/completions", JSON: ChatRequest{
		Model: c.cfg.Model, Messages: messages, Temperature: &temp, MaxTokens: c.cfg.MaxTokens, Tools: tools,
	}})
	if err != nil {
		status, msg := httpx.StatusMessage(err)
		return Message{}, &Error{Status: status, Msg: msg, Err: err}
	}
	return ParseResponse(resp.Body)
}

// ParseResponse decodes a completion answer and returns its first message.
func ParseResponse(data []byte) (Message, error) {
	var out struct {
		ChatResponse
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return Message{}, &Error{Msg: "answer is not valid JSON: " + truncate(string(data), 200)}
	}
	if len(out.Error) > 0 && string(out.Error) != "null" {
		return Message{}, &Error{Msg: "server error: " + truncate(string(out.Error), 300)}
	}
	if len(out.Choices) == 0 {
		return Message{}, &Error{Msg: "answer has no choices"}
	}
	m := out.Choices[0].Message
	m.Content = Content(StripThink(string(m.Content)))
	return RecoverTextToolCalls(m), nil
}

var thinkBlock = regexp.MustCompile(`(?s)<think>.*?(</think>|$)`)

// StripThink removes reasoning blocks (<think>…</think>, or an unterminated
// <think> to the end) that reasoning models put before their answer.
func StripThink(s string) string {
	return strings.TrimSpace(thinkBlock.ReplaceAllString(s, ""))
}

// IsTimeout reports whether err is a deadline or client timeout.
func IsTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
