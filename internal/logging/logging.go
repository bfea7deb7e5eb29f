// Package logging builds the structured slog logger every SOMS process uses.
package logging

import (
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
	return slog.New(h).With("service", service), nil
}

// Discard is a logger that drops everything; for tests that do not assert on logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
