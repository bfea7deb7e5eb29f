// Package e2e runs the acceptance features (../../features) against the
// Docker Compose stacks: the production compose file, its CPU variant and the
// edge-mock simulators, with images built locally (make images). It lives in
// the infra module so that the compose tooling stays out of the main module.
package e2e
