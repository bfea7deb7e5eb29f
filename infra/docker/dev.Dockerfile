# The development image: a Go toolchain that runs `soms <service>` straight
# from the bind-mounted source (docker-compose.dev.yml mounts the repository
# at /src), so an edit takes effect on `docker compose restart <service>`
# without rebuilding an image. Build and module caches live on named volumes.
# Not for production: the toolchain makes it large.

ARG GO_IMAGE=golang:1.26.8-bookworm

FROM ${GO_IMAGE} AS toolchain
RUN groupadd --gid 10001 soms \
 && useradd --uid 10001 --gid soms --create-home --home-dir /home/soms --shell /bin/bash soms \
 && mkdir -p /go/pkg/mod /home/soms/.cache/go-build /data/voice \
 && chown -R soms:soms /go /home/soms /data

FROM toolchain
ENV GOFLAGS=-buildvcs=false \
    GOCACHE=/home/soms/.cache/go-build \
    CGO_ENABLED=0
# /usr/local/bin/soms is where the production images keep the binary, so the
# compose healthchecks (/usr/local/bin/soms healthcheck URL) work unchanged.
COPY infra/docker/dev-entrypoint.sh /usr/local/bin/soms
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/soms"]
CMD ["help"]
