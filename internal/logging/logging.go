// Package logging builds the structured slog logger every SOMS process uses.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config selects log verbosity and encoding.
type Config struct {
	Level  string `env:"LOG_LEVEL" default:"info" doc:"debug, info, warn or error"`
	Format string `env:"LOG_FORMAT" default:"text" doc:"text (human) or json (log shippers)"`
}

// New returns a logger writing to w, tagged with the service name.
func New(w io.Writer, cfg Config, service string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: %w", cfg.Level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(cfg.Format) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: want text or json", cfg.Format)
	}
	return slog.New(contextHandler{h}).With("service", service), nil
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the ID of the request it serves. Loggers
// from New add it as request_id to every record logged with such a context
// (the *Context methods: log.ErrorContext(r.Context(), ...)).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// contextHandler adds what the context knows (the request ID) to each record.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// Discard is a logger that drops everything; for tests that do not assert on logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
