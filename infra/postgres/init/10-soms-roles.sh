#!/bin/sh
# Creates one login role per database-owning service and its schema, owned by
# that role, so a service can only write its own tables (backend: dashboard,
# wallet: wallet, brain: events). The services create their tables with their
# own migrations at start-up.
#
# Run by the postgres image on the first start of an empty data volume
# (/docker-entrypoint-initdb.d). Idempotent: the compose driver's Reset and
# restore.sh run it again after dropping the schemas. Passwords come from the
# environment (.env): SOMS_DB_BACKEND_PASSWORD, SOMS_DB_WALLET_PASSWORD,
# SOMS_DB_BRAIN_PASSWORD.
set -eu

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=soms}"
: "${SOMS_DB_BACKEND_PASSWORD:?SOMS_DB_BACKEND_PASSWORD is not set}"
: "${SOMS_DB_WALLET_PASSWORD:?SOMS_DB_WALLET_PASSWORD is not set}"
: "${SOMS_DB_BRAIN_PASSWORD:?SOMS_DB_BRAIN_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v backend_pw="$SOMS_DB_BACKEND_PASSWORD" \
  -v wallet_pw="$SOMS_DB_WALLET_PASSWORD" \
  -v brain_pw="$SOMS_DB_BRAIN_PASSWORD" <<'SQL'
-- Roles: create when missing, (re)set the password every time so a rotated
-- .env takes effect on the next run.
SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['soms_backend', 'soms_wallet', 'soms_brain']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE soms_backend WITH LOGIN PASSWORD :'backend_pw';
ALTER ROLE soms_wallet WITH LOGIN PASSWORD :'wallet_pw';
ALTER ROLE soms_brain WITH LOGIN PASSWORD :'brain_pw';

-- Nobody but the owner creates objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- The services run CREATE SCHEMA IF NOT EXISTS for their own schema, which
-- PostgreSQL checks against the database's CREATE privilege even when the
-- schema exists.
GRANT CONNECT, CREATE ON DATABASE :"db" TO soms_backend, soms_wallet, soms_brain;

CREATE SCHEMA IF NOT EXISTS dashboard AUTHORIZATION soms_backend;
CREATE SCHEMA IF NOT EXISTS wallet AUTHORIZATION soms_wallet;
CREATE SCHEMA IF NOT EXISTS events AUTHORIZATION soms_brain;
ALTER SCHEMA dashboard OWNER TO soms_backend;
ALTER SCHEMA wallet OWNER TO soms_wallet;
ALTER SCHEMA events OWNER TO soms_brain;
SQL
