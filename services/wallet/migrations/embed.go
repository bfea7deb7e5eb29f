// Package migrations holds the wallet's versioned schema (schema "wallet").
package migrations

import "embed"

// FS holds the goose SQL migrations.
//
//go:embed *.sql
var FS embed.FS
