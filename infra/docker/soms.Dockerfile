# The production image of every pure-Go SOMS service (brain, backend, wallet,
# voice, frontend): one static binary on an empty base, built with -tags prod
# (no simulator parts, no scenario runner; those are in sim.Dockerfile).
#
#   docker build -f infra/docker/soms.Dockerfile -t soms/soms:dev .
#
# The binary is built with CGO_ENABLED=0; perception (cgo + ONNX Runtime) has
# its own image, perception.Dockerfile. The image holds only the binary, CA
# certificates and the directories the services write, owned by the non-root
# user 10001. Health: `soms healthcheck http://127.0.0.1:PORT/readyz`.

ARG GO_IMAGE=golang:1.26.8-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first so source edits keep the download layer cached.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags prod,timetzdata \
      -ldflags "-s -w" -o /out/soms ./cmd/soms \
 && mkdir -p /out/data/voice /out/data/scenarios /out/tmp \
 && chown -R 10001:10001 /out/data \
 && chmod 1777 /out/tmp

FROM scratch
LABEL org.opencontainers.image.title="soms" \
      org.opencontainers.image.source="https://github.com/somsgo/soms"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build --chown=10001:10001 /out/data /data
COPY --from=build /out/soms /usr/local/bin/soms
USER 10001:10001
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/soms"]
CMD ["help"]
