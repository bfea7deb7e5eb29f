package frontend

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/web"
)

// Handler serves the dashboard: proxied APIs, /frontend.json (what this
// server offers), /reports/ and the embedded static files with a single-page
// fallback to index.html (nginx: try_files $uri $uri/ /index.html).
type Handler struct {
	routes  []*route
	static  fs.FS
	files   http.Handler
	reports string
	log     *slog.Logger
}

// NewHandler validates the configured URLs and builds the handler.
func NewHandler(cfg Config, log *slog.Logger) (*Handler, error) {
	rts, err := routes(cfg, log)
	if err != nil {
		return nil, err
	}
	static := web.FS()
	return &Handler{routes: rts, static: static, files: http.FileServerFS(static), reports: cfg.ReportsDir, log: log}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	for _, rt := range h.routes {
		if !rt.matches(p) {
			continue
		}
		if rt.proxy == nil {
			httpx.Error(w, http.StatusNotFound, "the "+rt.name+" is not configured on this frontend ("+rt.envVar+")")
			return
		}
		if rt.internal(p) {
			httpx.Error(w, http.StatusNotFound, internalMessage)
			return
		}
		if isStream(r) {
			// Event streams and upgraded connections outlive the server's
			// write timeout, which bounds ordinary answers.
			rc := http.NewResponseController(w)
			_ = rc.SetWriteDeadline(time.Time{})
			_ = rc.SetReadDeadline(time.Time{})
		}
		rt.proxy.ServeHTTP(w, r)
		return
	}
	switch {
	case p == "/frontend.json":
		h.serveInfo(w)
	case p == "/reports" || strings.HasPrefix(p, "/reports/"):
		h.serveReports(w, r)
	default:
		h.serveStatic(w, r)
	}
}

// isStream reports a request for a Server-Sent Events stream or a protocol
// upgrade (WebSocket).
func isStream(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// Info is /frontend.json: which optional parts this server proxies, so the
// dashboard shows the simulator and admin views only where they work. The
// compose frontend's nginx answers it too (generated with its routes).
type Info struct {
	Brain   bool            `json:"brain"`
	Sim     map[string]bool `json:"sim"`
	Reports []Report        `json:"reports"`
}

// Report is one scenario report directory holding report.html.
type Report struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

func (h *Handler) serveInfo(w http.ResponseWriter) {
	on := map[string]bool{}
	for _, rt := range h.routes {
		on[rt.prefix] = rt.proxy != nil
	}
	info := infoOf(func(r Route) bool { return on[r.Prefix] })
	info.Reports = h.listReports()
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, info)
}

// infoOf says which optional parts are proxied.
func infoOf(proxied func(Route) bool) Info {
	info := Info{Sim: map[string]bool{}, Reports: []Report{}}
	for _, r := range Routes() {
		switch {
		case r.Prefix == "/api/brain":
			info.Brain = proxied(r)
		case strings.HasPrefix(r.Prefix, "/api/sim/"):
			info.Sim[strings.TrimPrefix(r.Prefix, "/api/sim/")] = proxied(r)
		}
	}
	return info
}

// listReports finds <dir>/<name>/report.html, newest first.
func (h *Handler) listReports() []Report {
	out := []Report{}
	if h.reports == "" {
		return out
	}
	entries, err := os.ReadDir(h.reports)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			h.log.Warn("reading scenario reports", "dir", h.reports, "err", err)
		}
		return out
	}
	type dated struct {
		Report
		mod int64
	}
	var found []dated
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		st, err := os.Stat(filepath.Join(h.reports, e.Name(), "report.html"))
		if err != nil {
			continue
		}
		found = append(found, dated{Report{Name: e.Name(), URL: "/reports/" + url.PathEscape(e.Name()) + "/report.html"}, st.ModTime().UnixNano()})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].mod > found[j].mod })
	for _, f := range found {
		out = append(out, f.Report)
	}
	return out
}

func (h *Handler) serveReports(w http.ResponseWriter, r *http.Request) {
	if h.reports == "" {
		httpx.Error(w, http.StatusNotFound, "scenario reports are not configured (FRONTEND_REPORTS_DIR)")
		return
	}
	// http.Dir refuses paths that leave the directory.
	http.StripPrefix("/reports", http.FileServer(http.Dir(h.reports))).ServeHTTP(w, r)
}

// serveStatic serves an embedded file, or index.html for any path that is
// not one (client-side routes).
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpx.Error(w, http.StatusMethodNotAllowed, "the dashboard's files are read-only")
		return
	}
	// A new build must reach browsers at once; the files are small.
	w.Header().Set("Cache-Control", "no-cache")
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(h.static, name); err == nil && !st.IsDir() {
			h.files.ServeHTTP(w, r)
			return
		}
	}
	http.ServeFileFS(w, r, h.static, "index.html")
}
