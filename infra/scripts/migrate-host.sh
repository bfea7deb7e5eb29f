#!/usr/bin/env bash
# Moves a SOMS compose deployment to a new host (docs/deploy.md, "Moving to a
# new host"):
#   1. stops the services that write (everything but postgres and mosquitto),
#   2. backs up the database, volumes and infra/.env (backup.sh),
#   3. copies the repository (without .git and local caches) and the backup
#      to the new host with rsync over SSH,
#   4. on the new host: restore.sh, which builds and starts the stack.
# The old stack stays stopped afterwards; `docker compose up -d` brings it
# back if the move is abandoned.
#
# usage: infra/scripts/migrate-host.sh [--no-models] [--dry-run] USER@HOST [REMOTE_DIR]
#   REMOTE_DIR defaults to ~/soms on the new host, which needs Docker with the
#   compose plugin, rsync, and (for ROCm) the same device nodes; check
#   ROCM_RENDER_NODE and RENDER_GID in its infra/.env afterwards.
set -euo pipefail

say() { printf 'migrate: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
infra=$root/infra
project=${COMPOSE_PROJECT:-soms}
read -r -a files <<<"${COMPOSE_FILES:-docker-compose.yml}"
backup_args=()
dry=0
target=
remote_dir=soms

while (($#)); do
  case $1 in
    --no-models) backup_args+=(--no-models) ;;
    --dry-run) dry=1; backup_args+=(--dry-run) ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) if [ -z "$target" ]; then target=$1; else remote_dir=$1; fi ;;
  esac
  shift
done
[ -n "$target" ] || die "usage: migrate-host.sh [--no-models] [--dry-run] USER@HOST [REMOTE_DIR]"

compose=(docker compose --project-name "$project" --project-directory "$infra")
for f in "${files[@]}"; do compose+=(-f "$infra/$f"); done

run() {
  if ((dry)); then printf '+ %s\n' "$*"; else "$@"; fi
}

for tool in docker rsync ssh; do
  command -v "$tool" >/dev/null 2>&1 || ((dry)) || die "$tool is not installed"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
backup=$root/backups/migrate-$stamp

say "stopping the services that write (postgres and mosquitto keep running)"
if ((dry)); then
  printf '+ %s\n' "${compose[*]} stop <every service but postgres and mosquitto>"
else
  mapfile -t writers < <("${compose[@]}" ps --services | grep -vx -e postgres -e mosquitto)
  if ((${#writers[@]})); then
    "${compose[@]}" stop "${writers[@]}"
  fi
fi

say "backing up to $backup"
run "$infra/scripts/backup.sh" "${backup_args[@]}" "$backup"

say "copying the repository and the backup to $target:$remote_dir"
run ssh "$target" mkdir -p "$remote_dir"
run rsync -a --delete --exclude .git --exclude .soms --exclude bin --exclude backups \
  --exclude infra/.env "$root/" "$target:$remote_dir/"
run rsync -a "$backup/" "$target:$remote_dir/backups/migrate-$stamp/"

say "restoring on $target (builds the images there)"
run ssh "$target" "cd '$remote_dir' && COMPOSE_PROJECT='$project' COMPOSE_FILES='${files[*]}' infra/scripts/restore.sh backups/migrate-$stamp"

say "stopping the old stack"
run "${compose[@]}" stop
say "done: SOMS runs on $target; point edge devices (MQTT_BROKER) and bridges (MQTT_BRIDGE_ADDRESS) at it"
