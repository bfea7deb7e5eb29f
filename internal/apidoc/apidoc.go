// Package apidoc serves a service's hand-written OpenAPI document — as JSON,
// as YAML and as a small HTML page — and compares it with the routes the
// service really mounts. apidoctest validates real requests and responses
// against the same document in the services' API tests.
package apidoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.yaml.in/yaml/v3"
)

// Doc is a parsed OpenAPI document with its JSON form and docs page.
type Doc struct {
	yaml []byte
	doc  map[string]any
	json []byte
	html []byte
}

// Load parses a document (YAML or JSON).
func Load(src []byte) (*Doc, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	j, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi document to JSON: %w", err)
	}
	page, err := renderDocs(doc)
	if err != nil {
		return nil, err
	}
	return &Doc{yaml: src, doc: doc, json: j, html: page}, nil
}

// MustLoad is Load for a document embedded in the binary, which the service's
// tests load: a failure is a programming error.
func MustLoad(src []byte) *Doc {
	d, err := Load(src)
	if err != nil {
		panic(err)
	}
	return d
}

// Version is the document's openapi field.
func (d *Doc) Version() string { return str(d.doc["openapi"]) }

// Routes mounts GET /openapi.json, /openapi.yaml and /docs.
func (d *Doc) Routes(r chi.Router) {
	r.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(d.json)
	})
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(d.yaml)
	})
	r.Get("/docs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(d.html)
	})
}

// Operations lists the document's operations in path order.
func (d *Doc) Operations() []Operation { return operations(d.doc) }

// Compare walks the routes a router really serves and returns those the
// document lacks and those it documents but nothing serves, as "method
// /path" (lower-case method), sorted.
func (d *Doc) Compare(r chi.Routes) (undocumented, unrouted []string, err error) {
	methods := map[string][]string{}
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		methods[route] = append(methods[route], strings.ToLower(method))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	routed := map[string]bool{}
	for route, ms := range methods {
		if slices.Contains(ms, "connect") { // mounted with Handle (any method): documented as GET
			ms = []string{"get"}
		}
		for _, m := range ms {
			routed[m+" "+route] = true
		}
	}
	documented := map[string]bool{}
	for _, op := range d.Operations() {
		documented[strings.ToLower(op.Method)+" "+op.Path] = true
	}
	for r := range routed {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for r := range documented {
		if !routed[r] {
			unrouted = append(unrouted, r)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unrouted)
	return undocumented, unrouted, nil
}

// Operation is one method+path of the document.
type Operation struct {
	Method, Path, Summary, Description, Security string
	Params                                       []string
	Body                                         string
	Responses                                    []string
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// operations lists the document's operations in path order.
func operations(doc map[string]any) []Operation {
	paths, _ := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ops []Operation
	for _, p := range keys {
		item, _ := paths[p].(map[string]any)
		shared := params(doc, item["parameters"])
		for _, m := range methodOrder {
			o, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			op := Operation{Method: strings.ToUpper(m), Path: p, Summary: str(o["summary"]), Description: str(o["description"])}
			op.Params = append(append([]string{}, shared...), params(doc, o["parameters"])...)
			if sec, ok := o["security"].([]any); ok {
				var names []string
				for _, s := range sec {
					for k := range s.(map[string]any) {
						names = append(names, k)
					}
				}
				op.Security = strings.Join(names, " or ")
			}
			if b, ok := o["requestBody"].(map[string]any); ok {
				op.Body = schemaName(b)
			}
			if rs, ok := o["responses"].(map[string]any); ok {
				codes := make([]string, 0, len(rs))
				for c := range rs {
					codes = append(codes, c)
				}
				slices.Sort(codes)
				for _, c := range codes {
					op.Responses = append(op.Responses, c+" "+describe(doc, rs[c]))
				}
			}
			ops = append(ops, op)
		}
	}
	return ops
}

func str(v any) string { s, _ := v.(string); return s }

// resolve follows a local $ref.
func resolve(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cm, _ := cur.(map[string]any)
		cur = cm[part]
	}
	out, _ := cur.(map[string]any)
	return out
}

func params(doc map[string]any, v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, p := range list {
		m := resolve(doc, p)
		s := fmt.Sprintf("%s (%s)", str(m["name"]), str(m["in"]))
		if req, _ := m["required"].(bool); req {
			s += " required"
		}
		if d := str(m["description"]); d != "" {
			s += ": " + d
		}
		out = append(out, s)
	}
	return out
}

func schemaName(body map[string]any) string {
	content, _ := body["content"].(map[string]any)
	for ct, v := range content {
		schema, _ := v.(map[string]any)["schema"].(map[string]any)
		if ref := str(schema["$ref"]); ref != "" {
			return ct + ": " + ref[strings.LastIndex(ref, "/")+1:]
		}
		return ct
	}
	return ""
}

func describe(doc map[string]any, v any) string {
	m := resolve(doc, v)
	return str(m["description"])
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{font-size:1.05rem;margin:1.6rem 0 .3rem;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:4.2rem;font-weight:bold}
.GET{color:#06c}.POST{color:#080}.PUT{color:#a60}.DELETE{color:#c00}
.d{white-space:pre-wrap;color:#444}.k{color:#666;font-size:.9rem}
ul{margin:.2rem 0}
</style></head><body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p class="d">{{.Description}}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> · <a href="openapi.yaml">openapi.yaml</a></p>
{{range .Ops}}<section>
<h2><span class="m {{.Method}}">{{.Method}}</span>{{.Path}}</h2>
<div>{{.Summary}}{{if .Security}} <span class="k">— auth: {{.Security}}</span>{{end}}</div>
{{if .Description}}<div class="d">{{.Description}}</div>{{end}}
{{if .Params}}<div class="k">parameters:</div><ul>{{range .Params}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Body}}<div class="k">body: {{.Body}}</div>{{end}}
<div class="k">responses:</div><ul>{{range .Responses}}<li>{{.}}</li>{{end}}</ul>
</section>{{end}}
</body></html>
`))

func renderDocs(doc map[string]any) ([]byte, error) {
	info, _ := doc["info"].(map[string]any)
	var buf bytes.Buffer
	err := docsPage.Execute(&buf, map[string]any{
		"Title": str(info["title"]), "Version": str(info["version"]), "Description": str(info["description"]),
		"Ops": operations(doc),
	})
	if err != nil {
		return nil, fmt.Errorf("render docs: %w", err)
	}
	return buf.Bytes(), nil
}
