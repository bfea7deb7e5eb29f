#!/bin/sh
# Development entrypoint: build the soms binary from the mounted source (the
# build cache makes this quick after the first time) and run it with the
# container's arguments, e.g. `soms backend`. The healthcheck calls
# `soms healthcheck URL`, which reuses the binary already built.
set -eu
# One binary per container: services share the cache volume.
bin=/home/soms/.cache/soms-$(hostname)
if [ "${1:-}" != "healthcheck" ] || [ ! -x "$bin" ]; then
  go build -o "$bin.tmp" ./cmd/soms
  mv "$bin.tmp" "$bin"
fi
exec "$bin" "$@"
