#!/usr/bin/env bash
# Installs what `make sim` and `make test` need on a fresh Debian machine and
# says what it does. Debian packages go through apt-get as root (sudo when not
# root); Go modules through the module proxy. Safe to re-run: it only installs
# what is missing.
set -euo pipefail

say() { printf 'deps: %s\n' "$*"; }

# command → Debian package that provides it
declare -A need=(
  [mosquitto]=mosquitto
  [mosquitto_passwd]=mosquitto
  [initdb]=postgresql
  [curl]=curl # onnxruntime.sh and mediamtx.sh fetch files of npm packages (npm-fetch.sh)
  [espeak-ng]=espeak-ng # the simulated VOICEVOX engine speaks with it
  [chromium]=chromium # the dashboard's browser tests (services/frontend) drive headless Chromium
  [chromedriver]=chromium-driver
  [ffmpeg]=ffmpeg # perception's camera decoders, the virtual camera's encoders (and HLS transcoders)
  [promtool]=prometheus # checks the monitoring profile's configuration and alert rules (infra/compose)
)

have() {
  case "$1" in
    mosquitto) command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] ;;
    initdb) command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for cmd in "${!need[@]}"; do
  if ! have "$cmd"; then
    pkg=${need[$cmd]}
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    apt=(apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt=(sudo apt-get)
  else
    say "missing Debian packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]} (apt-get as root)"
  log=$(mktemp)
  if ! { "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    say "apt-get failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
  say "installed ${missing[*]}"
else
  say "Debian packages present (mosquitto, postgresql, espeak-ng, chromium, ffmpeg, prometheus)"
fi

if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  say "Go is not installed; install Go 1.26 or newer (https://go.dev/dl/) and re-run" >&2
  exit 1
fi
say "downloading Go modules (module proxy)"
go mod download
(cd infra && go mod download) # the deployment tooling's own module
scripts=$(dirname "${BASH_SOURCE[0]}")
say "ONNX Runtime for perception (npm package onnxruntime-node → .soms/cache/onnxruntime)"
"$scripts/onnxruntime.sh" >/dev/null
say "mediamtx for the virtual camera (built from its Go module source → .soms/cache/mediamtx)"
"$scripts/mediamtx.sh" >/dev/null
say "ready"
