#!/usr/bin/env bash
# Builds every image of the project locally, with no registry (make images):
#
#   1. soms-local/debian:bookworm — a Debian bookworm base made with
#      debootstrap (minbase) and imported into the engine, trusting the host's
#      CA bundle (SSL_CERT_FILE) so builds reach the module proxy and npm;
#   2. local stand-ins for the third-party images (infra/local/*.Dockerfile):
#      the Go toolchain (golang), mosquitto, PostgreSQL and nginx-unprivileged
#      from Debian's packages;
#   3. the project's images from the production Dockerfiles
#      (infra/docker/{soms,sim,perception,frontend,prometheus}.Dockerfile) with their
#      pinned upstream bases replaced by those stand-ins through build
#      arguments — the Dockerfiles themselves are not changed.
#
# Steps 1 and the golang stand-in run only when the image is missing; every
# other build goes through the engine's BuildKit cache, so a second run
# rebuilds nothing that did not change. Tags: $SOMS_IMAGE_REPO/<name>:$SOMS_VERSION
# (defaults soms.local and 0.1.0, what the compose files use).
#
# usage: infra/scripts/images.sh [IMAGE...]   (soms sim perception frontend prometheus; default all)
set -euo pipefail

say() { printf 'images: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
infra=$root/infra
repo=${SOMS_IMAGE_REPO:-soms.local}
version=${SOMS_VERSION:-0.1.0}
base=soms-local/debian:bookworm
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
images=("$@")
((${#images[@]})) || images=(soms sim perception frontend prometheus)

"$infra/scripts/engine.sh"

# A CLI that builds with BuildKit: the buildx plugin, or a client that has
# BuildKit built in (Docker < 23, such as Debian's docker.io 20.10).
build=()
for cli in docker /usr/bin/docker; do
  command -v "$cli" >/dev/null 2>&1 || continue
  if "$cli" buildx version >/dev/null 2>&1; then
    build=("$cli" buildx build --load)
    break
  fi
  major=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)
  if [ -n "$major" ] && [ "$major" -lt 23 ]; then
    build=(env DOCKER_BUILDKIT=1 "$cli" build)
    break
  fi
done
((${#build[@]})) || die "no Docker CLI here builds with BuildKit: install the buildx plugin, or Debian's docker.io (its 20.10 client has BuildKit built in)"

have() { docker image inspect "$1" >/dev/null 2>&1; }

# built NAME SECONDS: one line of the summary table.
summary=()
built() { summary+=("$(printf '%-44s %6.1fs %8s' "$1" "$2" "$(docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.1fMB", $1/1e6}')")"); }

timed_build() {
  local tag=$1
  shift
  local t0=$SECONDS
  say "building $tag"
  local log
  log=$(mktemp)
  if ! "${build[@]}" --progress=plain -t "$tag" "$@" >"$log" 2>&1; then
    tail -40 "$log" >&2
    rm -f "$log"
    die "building $tag failed (last lines above)"
  fi
  rm -f "$log"
  built "$tag" $((SECONDS - t0))
}

debian_mirror() {
  local m=
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources | grep -v security | head -1)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

if ! have "$base"; then
  [ "$(id -u)" -eq 0 ] || die "making the Debian base ($base) needs root (debootstrap, chroot)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing Debian's debootstrap (apt-get as root)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  t0=$SECONDS
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mirror=$(debian_mirror)
  say "making $base with debootstrap (minbase, $mirror; about a minute)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$tmp/rootfs" "$mirror" >"$tmp/log" 2>&1 ||
    { tail -20 "$tmp/log" >&2; die "debootstrap failed"; }
  # The host's CA bundle (it may hold a proxy's CA) joins the image's trust
  # store, so TLS from builds works as it does on the host.
  if [ -f "$ca" ]; then
    cp "$ca" "$tmp/rootfs/usr/local/share/ca-certificates/soms-host-bundle.crt"
    chroot "$tmp/rootfs" update-ca-certificates >/dev/null 2>&1
  fi
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  tar -C "$tmp/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$base" >/dev/null
  rm -rf "$tmp"
  trap - EXIT
  built "$base" $((SECONDS - t0))
fi

# The Go toolchain the production Dockerfiles pin (golang:X.Y.Z-bookworm).
gover=$(sed -n 's/^ARG GO_IMAGE=golang:\([0-9.]*\)-bookworm$/\1/p' "$infra/docker/soms.Dockerfile")
[ -n "$gover" ] || die "cannot read the pinned Go version (ARG GO_IMAGE) from infra/docker/soms.Dockerfile"
golang=soms-local/golang:$gover
if ! have "$golang"; then
  goroot=$(GOTOOLCHAIN=go$gover go env GOROOT) || die "cannot get Go $gover (GOTOOLCHAIN=go$gover go env GOROOT)"
  timed_build "$golang" -f "$infra/local/golang.Dockerfile" --build-arg BASE_IMAGE="$base" "$goroot"
fi
for img in mosquitto postgres nginx; do
  case $img in
    mosquitto) tag=soms-local/mosquitto:2.0.11 ;;
    postgres) tag=soms-local/postgres:15 ;;
    nginx) tag=soms-local/nginx-unprivileged:bookworm ;;
  esac
  timed_build "$tag" -f "$infra/local/$img.Dockerfile" --build-arg BASE_IMAGE="$base" "$infra/local"
done

args=(
  --build-arg GO_IMAGE="$golang"
  --build-arg RUNTIME_IMAGE="$base"
  --build-arg NGINX_IMAGE=soms-local/nginx-unprivileged:bookworm
)
for img in "${images[@]}"; do
  [ -f "$infra/docker/$img.Dockerfile" ] || die "no infra/docker/$img.Dockerfile"
  timed_build "$repo/$img:$version" -f "$infra/docker/$img.Dockerfile" "${args[@]}" "$root"
done

printf '%-44s %7s %8s\n' image build size >&2
printf '%s\n' "${summary[@]}" >&2
