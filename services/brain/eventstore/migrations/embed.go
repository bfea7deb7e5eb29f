// Package migrations holds the brain's decision-log schema (schema "events").
package migrations

import "embed"

// FS holds the goose SQL migrations.
//
//go:embed *.sql
var FS embed.FS
