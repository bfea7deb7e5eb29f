#!/usr/bin/env bash
# Fetches the tarball of an npm package into a directory and prints its path
# (what `npm pack NAME@VERSION` does, without running any install script).
# With npm on PATH it uses npm (and your npm configuration); without it, curl
# or wget against the registry (NPM_CONFIG_REGISTRY, default
# https://registry.npmjs.org), checking the tarball's SHA-1 against the
# registry's metadata. Image builds use the second way, so no Node.js is needed.
#
# usage: npm-fetch.sh NAME VERSION DIR
set -euo pipefail

say() { printf 'npm-fetch: %s\n' "$*" >&2; }
[ $# -eq 3 ] || { say "usage: npm-fetch.sh NAME VERSION DIR"; exit 2; }
name=$1 version=$2 dir=$3
mkdir -p "$dir"

if command -v npm >/dev/null 2>&1 && [ -z "${SOMS_NPM_FETCH_NO_NPM:-}" ]; then
  (cd "$dir" && npm pack --silent "$name@$version" >/dev/null 2>"$dir/.npm.log") || {
    cat "$dir/.npm.log" >&2
    say "npm pack $name@$version failed"
    exit 1
  }
  ls "$dir"/*.tgz | head -1
  exit 0
fi

registry=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}
registry=${registry%/}
if command -v curl >/dev/null 2>&1; then
  get() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  get() { wget -q -O "$2" "$1"; }
else
  say "needs npm, curl or wget on PATH"
  exit 1
fi
meta=$dir/.meta.json
get "$registry/$name/$version" "$meta" || { say "cannot read $registry/$name/$version"; exit 1; }
tarball=$(tr ',' '\n' <"$meta" | sed -n 's/.*"tarball":[[:space:]]*"\([^"]*\)".*/\1/p' | head -1)
shasum=$(tr ',' '\n' <"$meta" | sed -n 's/.*"shasum":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' | head -1)
[ -n "$tarball" ] && [ -n "$shasum" ] || { say "$name@$version: no tarball in the registry's answer"; exit 1; }
out=$dir/$(basename "$tarball")
get "$tarball" "$out" || { say "cannot fetch $tarball"; exit 1; }
echo "$shasum  $out" | sha1sum -c --quiet - >&2 || { say "$out: checksum differs from the registry's"; exit 1; }
echo "$out"
