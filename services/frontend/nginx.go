package frontend

import (
	"encoding/json"
	"fmt"
	"strings"
)

// NginxVariant is one compose frontend configuration generated from Routes.
type NginxVariant struct {
	File string // under infra/nginx/
	Doc  string // what it is for, in the file's header
	Sim  bool   // proxy the simulator routes too
}

// NginxVariants are the generated configurations: production (baked into
// the frontend image) and the virtual office (mounted over it by
// docker-compose.edge-mock.yml).
func NginxVariants() []NginxVariant {
	return []NginxVariant{
		{"default.conf", "The production frontend (baked into the frontend image).", false},
		{"sim.conf", "The virtual office (docker-compose.edge-mock.yml mounts it over default.conf):\n# the production routes plus the simulators' control APIs.", true},
	}
}

// proxied reports whether nginx of variant v forwards route r.
func (v NginxVariant) proxied(r Route) bool {
	return r.Upstream != "" && (!r.Sim || v.Sim)
}

// Conf renders the nginx server configuration of variant v.
func (v NginxVariant) Conf() (string, error) {
	info, err := json.Marshal(infoOf(v.proxied))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# SOMS frontend: the dashboard's static files and the reverse proxy to the
# services on soms-net. Generated from services/frontend's route table
# (Routes, the one soms frontend serves) by `+"`make docs`"+`; edit that, not this.
# %s
#
# Upstreams are resolved per request through Docker's DNS (variables +
# resolver), so nginx starts and serves the dashboard even while a service is
# down or left out of a profile; that route answers 502 until it is back.

map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      '';
}

# One request ID from the edge inward: the client's X-Request-Id when it sent
# one (the services keep only short URL-safe IDs and replace any other), else
# nginx's own. The service answers with it in X-Request-Id and logs it.
map $http_x_request_id $soms_request_id {
    default $http_x_request_id;
    ''      $request_id;
}

server {
    # HTTP, which compose publishes on the host's loopback only (scripts,
    # tests, the healthcheck), and HTTPS for the office network with the
    # operator's certificate or the self-signed one the image's entrypoint
    # made at first start (docs/deploy.md, "TLS").
    listen 8080;
    listen 8443 ssl;
    ssl_certificate /etc/nginx/tls/tls.crt;
    ssl_certificate_key /etc/nginx/tls/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:soms_tls:1m;
    ssl_session_timeout 1h;
    server_name _;
    server_tokens off;

    resolver 127.0.0.11 valid=10s ipv6=off;
    resolver_timeout 5s;

    root /usr/share/nginx/html;
    index index.html;
    client_max_body_size 2m;

    # Shared by every proxied route: HTTP/1.1 with keep-alive or upgrade
    # (WebSocket), no buffering so Server-Sent Events reach the browser as
    # they are written, long read timeout for idle event streams.
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Request-Id $soms_request_id;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_buffering off;
    proxy_cache off;
    proxy_read_timeout 1h;
    proxy_send_timeout 1h;

    location = /healthz {
        access_log off;
        default_type text/plain;
        return 200 "ok\n";
    }

    # What this server proxies, so the dashboard shows only working views.
    location = /frontend.json {
        default_type application/json;
        add_header Cache-Control no-store;
        return 200 %s;
    }
`, v.Doc, nginxQuote(string(info)))
	for _, r := range Routes() {
		loc := r.Prefix + "/"
		fmt.Fprintf(&b, "\n    # %s → %s\n", r.Prefix, r.Name)
		if v.proxied(r) && r.Strip != "" {
			// An exact location wins over every prefix: the services'
			// metrics stay on the internal network.
			msg, _ := json.Marshal(map[string]string{"error": internalMessage})
			for _, p := range InternalPaths {
				fmt.Fprintf(&b, "    location = %s%s {\n        default_type application/json;\n        return 404 %s;\n    }\n", r.Strip, p, nginxQuote(string(msg)))
			}
		}
		fmt.Fprintf(&b, "    location %s {\n", loc)
		if !v.proxied(r) {
			msg, _ := json.Marshal(map[string]string{"error": "the " + r.Name + " is not configured on this frontend"})
			fmt.Fprintf(&b, "        default_type application/json;\n        return 404 %s;\n    }\n", nginxQuote(string(msg)))
			continue
		}
		upstream := "$" + strings.NewReplacer("-", "_", ":", "_").Replace(r.Upstream)
		fmt.Fprintf(&b, "        set %s %s;\n", upstream, r.Upstream)
		if r.Strip != "" {
			fmt.Fprintf(&b, "        rewrite ^%s/(.*)$ /$1 break;\n", r.Strip)
		}
		fmt.Fprintf(&b, "        proxy_pass http://%s;\n    }\n", upstream)
	}
	b.WriteString(`
    # The dashboard is a single page: unknown paths get index.html.
    location / {
        try_files $uri $uri/ /index.html;
    }
}
`)
	return b.String(), nil
}

// nginxQuote quotes s as one nginx argument.
func nginxQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}
