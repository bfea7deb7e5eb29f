# Local stand-in for postgres:<version> (make images; tests only): Debian's
# PostgreSQL 15 with the official image's contract — POSTGRES_USER /
# POSTGRES_PASSWORD / POSTGRES_DB, PGDATA=/var/lib/postgresql/data, scripts
# in /docker-entrypoint-initdb.d run on the first start of an empty data
# directory, pg_isready and psql on PATH, SIGINT (fast shutdown) to stop.
ARG BASE_IMAGE=soms-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data \
 && chown -R postgres:postgres /var/lib/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
