#!/usr/bin/env bash
# Backs up a SOMS compose deployment (docs/deploy.md, "Backup and restore"):
#   - the database as a pg_dump custom-format archive (consistent while the
#     stack runs; the raw pg_data volume is not copied while PostgreSQL runs),
#   - every other named volume of the project as a tar.gz
#     (docker run --rm -v VOLUME:/v alpine tar ...): broker persistence and
#     logs, generated audio, models (skip those with --no-models),
#   - the env file (infra/.env, or ENV_FILE: the secrets; the backup
#     directory is made private),
#   - a SHA256SUMS manifest.
#
# usage: infra/scripts/backup.sh [--no-models] [--dry-run] [DEST]
#   DEST defaults to ./backups/soms-<UTC timestamp>.
# environment: COMPOSE_PROJECT (default soms), COMPOSE_FILES (space-separated,
#   relative to infra/ or absolute, default docker-compose.yml), ENV_FILE (the
#   deployment's settings and secrets, default infra/.env), ALPINE_IMAGE (any
#   image with sh, find and tar).
set -euo pipefail

say() { printf 'backup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
infra=$root/infra
project=${COMPOSE_PROJECT:-soms}
read -r -a files <<<"${COMPOSE_FILES:-docker-compose.yml}"
alpine=${ALPINE_IMAGE:-alpine:3.22.1}
env_file=${ENV_FILE:-$infra/.env}
models=1
dry=0
dest=

while (($#)); do
  case $1 in
    --no-models) models=0 ;;
    --dry-run) dry=1 ;;
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) dest=$1 ;;
  esac
  shift
done
dest=${dest:-$PWD/backups/soms-$(date -u +%Y%m%dT%H%M%SZ)}

compose=(docker compose --project-name "$project" --project-directory "$infra")
for f in "${files[@]}"; do
  case $f in
    /*) compose+=(-f "$f") ;;
    *) compose+=(-f "$infra/$f") ;;
  esac
done
[ ! -f "$env_file" ] || compose+=(--env-file "$env_file")

run() {
  if ((dry)); then printf '+ %s\n' "$*"; else "$@"; fi
}

command -v docker >/dev/null 2>&1 || die "docker is not installed"
if ((!dry)); then
  docker info >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)"
  running=$("${compose[@]}" ps --status running --services) || die "docker compose ps failed (its message above)"
  grep -qx postgres <<<"$running" ||
    die "postgres of project $project is not running (running: ${running//$'\n'/ }): start it (docker compose up -d postgres)"
fi

run mkdir -p "$dest"
run chmod 700 "$dest"
say "writing to $dest"

say "database: pg_dump of soms (custom format)"
if ((dry)); then
  printf '+ %s > %s\n' "${compose[*]} exec -T postgres sh -c 'pg_dump -U \"\$POSTGRES_USER\" -d soms -Fc'" "$dest/soms.pgdump"
else
  # shellcheck disable=SC2016 # expanded by the container's shell
  "${compose[@]}" exec -T postgres sh -c 'pg_dump -U "$POSTGRES_USER" -d soms -Fc' >"$dest/soms.pgdump"
fi

# Volume keys as the compose files declare them; the engine names them
# <project>_<key>. pg_data is covered by the dump.
if ((dry)); then
  keys=$(sed -n '/^volumes:/,/^[^ ]/s/^  \([a-z_]*\):.*/\1/p' "$infra/${files[0]}")
else
  keys=$("${compose[@]}" config --volumes)
fi
# The broker writes its persistence file (retained messages, queued QoS 1/2
# messages) only now and then; SIGUSR1 makes it write it now, so the archive
# of its volume holds the current state.
if ((dry)); then
  printf '+ %s\n' "${compose[*]} kill -s SIGUSR1 mosquitto"
elif grep -qx mosquitto <<<"$running"; then
  # shellcheck disable=SC2016 # expanded by the container's shell
  stamp='stat -c %Y /mosquitto/data/mosquitto.db 2>/dev/null || echo 0'
  before=$("${compose[@]}" exec -T mosquitto sh -c "$stamp")
  say "broker: writing its persistence file (SIGUSR1)"
  "${compose[@]}" kill -s SIGUSR1 mosquitto >/dev/null 2>&1
  for _ in $(seq 1 40); do
    now=$("${compose[@]}" exec -T mosquitto sh -c "$stamp")
    [ "$now" != "$before" ] && break
    sleep 0.25
  done
  [ "$now" != "$before" ] || say "broker: the persistence file did not change (nothing retained yet?)"
fi

for key in $keys; do
  case $key in
    pg_data) continue ;;
    ollama_models | models) ((models)) || { say "skipping $key (--no-models)"; continue; } ;;
  esac
  vol=${project}_$key
  if ((!dry)) && ! docker volume inspect "$vol" >/dev/null 2>&1; then
    say "volume $vol does not exist; skipped"
    continue
  fi
  say "volume $vol → $key.tar.gz"
  run docker run --rm -v "$vol:/v:ro" -v "$dest:/backup" "$alpine" \
    tar -C /v -czf "/backup/$key.tar.gz" .
done

if [ -f "$env_file" ]; then
  run install -m 600 "$env_file" "$dest/env"
else
  say "no $env_file to copy (secrets must be provided again on restore)"
fi
if ((!dry)); then
  (cd "$dest" && sha256sum -- * >SHA256SUMS)
fi
say "done: $dest"
