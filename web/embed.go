// Package web holds the dashboard: static ES modules, one page, no build
// step. The Go frontend (services/frontend) serves the embedded copy; the
// production image copies this directory into nginx as it is.
package web

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.css favicon.svg js vendor
var files embed.FS

// FS is the dashboard's files, index.html at the root.
func FS() fs.FS { return files }
