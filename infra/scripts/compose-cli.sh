#!/usr/bin/env bash
# Makes `docker compose` (Compose v2) available, for the backup and restore
# scripts and for operators: Debian bookworm has only docker-compose 1.29.
# When the docker CLI has no compose plugin, builds Compose from its Go module
# (the version infra/go.mod pins as a tool) and installs it as the user's CLI
# plugin, ~/.docker/cli-plugins/docker-compose (DOCKER_CONFIG is honoured),
# and says so. Safe to re-run.
set -euo pipefail

say() { printf 'compose-cli: %s\n' "$*" >&2; }

if v=$(docker compose version --short 2>/dev/null) && [ -n "$v" ]; then
  say "docker compose $v is available"
  exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH=$PATH:/usr/local/go/bin
mod=github.com/docker/compose/v5
version=$(cd "$root/infra" && go list -m -f '{{.Version}}' "$mod")
cache=${SOMS_CACHE:-$root/.soms/cache}/compose/$version
bin=$cache/docker-compose
if [ ! -x "$bin" ]; then
  say "building Compose $version from its Go module (infra/go.mod)"
  mkdir -p "$cache"
  (cd "$root/infra" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $mod/internal.Version=$version" -o "$bin.tmp" "$mod/cmd")
  mv "$bin.tmp" "$bin"
fi
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
mkdir -p "$plugins"
install -m 755 "$bin" "$plugins/docker-compose"
say "installed $plugins/docker-compose ($(docker compose version --short))"
