#!/usr/bin/env bash
# Restores a backup made by backup.sh into this host's SOMS deployment
# (docs/deploy.md, "Backup and restore"). Destroys the current state of the
# project's volumes and database.
#
#   1. checks SHA256SUMS, installs the backed-up env as infra/.env (ENV_FILE)
#      unless one exists (--keep-env keeps the existing one either way),
#   2. stops the stack (docker compose down; volumes stay),
#   3. refills each archived volume (docker run --rm -v VOLUME:/v alpine tar),
#   4. starts postgres alone, recreates the soms database, re-runs the init
#      scripts (roles, schemas) and pg_restore's the dump,
#   5. starts the stack and waits until it is healthy.
#
# usage: infra/scripts/restore.sh [--keep-env] [--dry-run] BACKUP_DIR
# environment: COMPOSE_PROJECT (default soms), COMPOSE_FILES (space-separated,
#   relative to infra/ or absolute, default docker-compose.yml), ENV_FILE (the
#   deployment's settings and secrets, default infra/.env), ALPINE_IMAGE (any
#   image with sh, find and tar).
set -euo pipefail

say() { printf 'restore: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
infra=$root/infra
project=${COMPOSE_PROJECT:-soms}
read -r -a files <<<"${COMPOSE_FILES:-docker-compose.yml}"
alpine=${ALPINE_IMAGE:-alpine:3.22.1}
env_file=${ENV_FILE:-$infra/.env}
keep_env=0
dry=0
src=

while (($#)); do
  case $1 in
    --keep-env) keep_env=1 ;;
    --dry-run) dry=1 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) src=$1 ;;
  esac
  shift
done
[ -n "$src" ] || die "usage: restore.sh [--keep-env] [--dry-run] BACKUP_DIR"
src=$(cd "$src" && pwd)
[ -f "$src/soms.pgdump" ] || die "$src has no soms.pgdump: not a backup.sh directory"

compose=(docker compose --project-name "$project" --project-directory "$infra")
for f in "${files[@]}"; do
  case $f in
    /*) compose+=(-f "$f") ;;
    *) compose+=(-f "$infra/$f") ;;
  esac
done

run() {
  if ((dry)); then printf '+ %s\n' "$*"; else "$@"; fi
}

command -v docker >/dev/null 2>&1 || die "docker is not installed"
if ((!dry)); then
  docker info >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)"
fi

if [ -f "$src/SHA256SUMS" ]; then
  (cd "$src" && sha256sum --check --quiet SHA256SUMS) || die "checksums do not match: the backup is damaged"
fi
if [ -f "$src/env" ] && [ ! -f "$env_file" ] && ((!keep_env)); then
  say "installing the backed-up env as $env_file"
  run install -m 600 "$src/env" "$env_file"
fi
[ -f "$env_file" ] || ((dry)) || die "$env_file is missing: copy infra/env.example and set the secrets"
[ ! -f "$env_file" ] || compose+=(--env-file "$env_file")

say "stopping the stack (volumes stay)"
run "${compose[@]}" down

for archive in "$src"/*.tar.gz; do
  [ -e "$archive" ] || continue
  key=$(basename "$archive" .tar.gz)
  vol=${project}_$key
  say "volume $vol ← $(basename "$archive")"
  run docker volume create --label "com.docker.compose.project=$project" \
    --label "com.docker.compose.volume=$key" "$vol" >/dev/null
  run docker run --rm -v "$vol:/v" -v "$src:/backup:ro" "$alpine" \
    sh -c "find /v -mindepth 1 -delete && tar -C /v -xzf /backup/$key.tar.gz"
done

say "database: starting postgres alone"
run "${compose[@]}" up -d --wait postgres
say "database: recreating soms and restoring the dump"
# shellcheck disable=SC2016 # expanded by the container's shell
run "${compose[@]}" exec -T postgres sh -c \
  'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "DROP DATABASE IF EXISTS soms WITH (FORCE)" -c "CREATE DATABASE soms" &&
   for f in /docker-entrypoint-initdb.d/*.sh; do POSTGRES_DB=soms sh "$f"; done'
if ((dry)); then
  printf '+ %s < %s\n' "${compose[*]} exec -T postgres sh -c 'pg_restore -U \"\$POSTGRES_USER\" -d soms --clean --if-exists --exit-on-error'" "$src/soms.pgdump"
else
  # shellcheck disable=SC2016 # expanded by the container's shell
  "${compose[@]}" exec -T postgres sh -c \
    'pg_restore -U "$POSTGRES_USER" -d soms --clean --if-exists --exit-on-error' <"$src/soms.pgdump"
fi

say "starting the stack"
run "${compose[@]}" up -d --wait
say "done"
