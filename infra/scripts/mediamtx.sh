#!/usr/bin/env bash
# Builds the mediamtx RTSP server (the virtual camera's server) from its Go
# module source and says what it does. mediamtx cannot be `go install`ed: its
# source embeds two generated files (internal/core/VERSION and
# internal/servers/hls/hls.min.js) that the release process creates. This
# script fetches the module source through the Go module proxy, writes VERSION,
# takes hls.min.js from the npm package hls.js (the version mediamtx pins), and
# builds a static binary.
#
# Result: $SOMS_CACHE/mediamtx/$MEDIAMTX_VERSION/mediamtx
#   (SOMS_CACHE defaults to <repo>/.soms/cache, which git ignores).
# Safe to re-run: does nothing when that binary already runs.
# Prints the binary path as its last line.
set -euo pipefail

say() { printf 'mediamtx: %s\n' "$*" >&2; }

# npm-fetch.sh sits beside this script (in the repository, or /usr/local/bin
# in an image build); found before the script changes directory.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${MEDIAMTX_VERSION:-v1.14.0}
cache=${SOMS_CACHE:-$root/.soms/cache}
dest=$cache/mediamtx/$version
bin=$dest/mediamtx
export PATH=$PATH:/usr/local/go/bin

if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then
  say "present: $bin"
  echo "$bin"
  exit 0
fi

for tool in go tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "needs $tool on PATH"
    exit 1
  fi
done

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

say "fetching github.com/bluenviron/mediamtx@$version source (Go module proxy)"
src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/bluenviron/mediamtx@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -d "$src" ]; then
  say "could not download the mediamtx module source"
  exit 1
fi
cp -r "$src" "$work/mediamtx"
chmod -R u+w "$work/mediamtx"
cd "$work/mediamtx"

echo "$version" >internal/core/VERSION
hlsver=$(tr -d '[:space:]' <internal/servers/hls/hlsjsdownloader/VERSION)
hlsver=${hlsver#v}
say "taking hls.min.js from the npm package hls.js@$hlsver"
tgz=$("$here/npm-fetch.sh" hls.js "$hlsver" "$work/npm")
tar -xzf "$tgz" -C "$work" package/dist/hls.min.js
cp "$work/package/dist/hls.min.js" internal/servers/hls/hls.min.js

say "building (CGO_ENABLED=0; takes a few minutes the first time)"
mkdir -p "$dest"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
say "built $bin"
echo "$bin"
