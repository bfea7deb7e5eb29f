// Package openapi holds the wallet's hand-written OpenAPI 3.1 description, its
// one route table: a test in the wallet checks it against the router, route by
// route, and the API tests validate every request and response against it.
package openapi

import _ "embed"

// YAML is the OpenAPI document.
//
//go:embed openapi.yaml
var YAML []byte
