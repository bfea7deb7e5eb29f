// Package openapi holds the backend's hand-written OpenAPI 3.1 description.
// A test in the backend checks it against the router, route by route.
package openapi

import _ "embed"

// YAML is the OpenAPI document.
//
//go:embed openapi.yaml
var YAML []byte
