// Package migrations holds the backend's versioned schema (schema "dashboard").
package migrations

import "embed"

// FS holds the goose SQL migrations.
//
//go:embed *.sql
var FS embed.FS
