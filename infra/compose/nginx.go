package compose

import (
	"regexp"

	"github.com/compose-spec/compose-go/v2/types"
)

var nginxUpstream = regexp.MustCompile(`(?m)^\s*set\s+\$\w+\s+([a-z0-9-]+):(\d+)\s*;`)

// NginxUpstreams maps the host of each `set $x host:port;` upstream in an
// nginx configuration to its port.
func NginxUpstreams(conf string) map[string]string {
	out := map[string]string{}
	for _, m := range nginxUpstream.FindAllStringSubmatch(conf, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// Listens reports whether a soms service listens on port, judged by its
// environment (*_ADDR).
func Listens(s types.ServiceConfig, port string) bool {
	return listenPorts(s)[port]
}
