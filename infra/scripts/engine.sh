#!/usr/bin/env bash
# Makes sure a Docker engine answers, for `make images` and the compose tests,
# and says what it did. An engine that already answers (DOCKER_HOST, or the
# default socket) is used as it is. Otherwise, as root (or with sudo), it
# installs Debian's docker.io when dockerd is missing, starts dockerd in the
# background (log: $SOMS_DOCKERD_LOG, default /var/log/soms-dockerd.log) and
# waits for its socket. It starts nothing when SOMS_ENGINE=none.
set -euo pipefail

say() { printf 'engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

answers() { docker version --format '{{.Server.Version}}' 2>/dev/null; }

[ "${SOMS_ENGINE:-}" != none ] || die "SOMS_ENGINE=none: not starting a Docker engine"

if ! command -v docker >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ]; then
  need_pkg=1
else
  need_pkg=0
fi
if v=$(answers) && [ -n "$v" ]; then
  say "using the Docker engine that answers (${DOCKER_HOST:-unix:///var/run/docker.sock}, version $v)"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  die "no Docker engine answers and starting one needs root: run as root, or start dockerd yourself"
fi

dockerd=$(command -v dockerd || true)
[ -n "$dockerd" ] || [ ! -x /usr/sbin/dockerd ] || dockerd=/usr/sbin/dockerd
if [ -z "$dockerd" ] || ((need_pkg)); then
  say "installing Debian's docker.io (apt-get as root)"
  log=$(mktemp)
  if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends docker.io; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get install docker.io failed (output above)"
  fi
  rm -f "$log"
  dockerd=/usr/sbin/dockerd
fi

dlog=${SOMS_DOCKERD_LOG:-/var/log/soms-dockerd.log}
say "starting dockerd in the background (log: $dlog)"
# setsid: the engine outlives this script (and make); it is the machine's
# engine from now on, as a service manager would run it.
"${sudo[@]}" sh -c "setsid '$dockerd' >>'$dlog' 2>&1 < /dev/null &"
for _ in $(seq 1 120); do
  if v=$(answers) && [ -n "$v" ]; then
    say "dockerd $v is up (/var/run/docker.sock)"
    exit 0
  fi
  sleep 0.5
done
tail -20 "$dlog" >&2 || true
die "dockerd did not answer within 60 s (its log above)"
