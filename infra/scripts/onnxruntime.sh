#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that perception loads (through
# github.com/yalue/onnxruntime_go) and says what it does. The library comes from
# the npm package onnxruntime-node, which ships a CPU build for linux/x64 inside
# its tarball; npm-fetch.sh fetches the tarball (npm pack, or curl without
# Node.js) without running its postinstall (which would try to download GPU
# add-ons from outside the registry).
#
# The version must match the C API headers onnxruntime_go was built with
# (onnxruntime_go v1.27.0 ↔ ONNX Runtime 1.24.1).
#
# Result: $SOMS_CACHE/onnxruntime/$ORT_VERSION/libonnxruntime.so
#   (SOMS_CACHE defaults to <repo>/.soms/cache, which git ignores); point
#   ONNXRUNTIME_LIB at it (perception also finds it there by default).
# Safe to re-run: does nothing when the library is already there.
# Prints the library path as its last line.
set -euo pipefail

say() { printf 'onnxruntime: %s\n' "$*" >&2; }

# npm-fetch.sh sits beside this script (in the repository, or /usr/local/bin
# in an image build); found before the script changes directory.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${ORT_VERSION:-1.24.1}
cache=${SOMS_CACHE:-$root/.soms/cache}
dest=$cache/onnxruntime/$version
lib=$dest/libonnxruntime.so

if [ -s "$lib" ]; then
  say "present: $lib"
  echo "$lib"
  exit 0
fi

command -v tar >/dev/null 2>&1 || { say "needs tar on PATH"; exit 1; }
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) say "no ONNX Runtime build in onnxruntime-node for $(uname -m)"; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "fetching the npm package onnxruntime-node@$version (no install scripts)"
tgz=$("$here/npm-fetch.sh" onnxruntime-node "$version" "$work")
member=package/bin/napi-v6/linux/$arch/libonnxruntime.so.1
if ! tar -xzf "$tgz" -C "$work" "$member" 2>"$work/tar.log"; then
  cat "$work/tar.log" >&2
  say "the tarball has no $member"
  exit 1
fi
mkdir -p "$dest"
cp "$work/$member" "$lib.tmp"
mv "$lib.tmp" "$lib"
say "installed $lib"
echo "$lib"
