# The simulator image: the soms binary plus the programs the simulator parts
# run as children — mediamtx (the virtual camera's RTSP server, built from its
# Go module source by infra/scripts/mediamtx.sh), ffmpeg (which encodes the
# virtual cameras' H.264) and espeak-ng (the VOICEVOX-compatible sim engine's
# voice). The full build (simulator parts,
# scenario runner, modelgen): every simulator service of the edge-mock compose
# and the production compose's mock-llm run on it; the production services run
# on the smaller soms image (-tags prod).
#
#   docker build -f infra/docker/sim.Dockerfile -t soms/sim:dev .

ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=debian:12.11-slim

FROM ${GO_IMAGE} AS mediamtx
# mediamtx.sh fetches hls.js (which the mediamtx source embeds) from the npm
# registry with curl: no Node.js needed.
COPY infra/scripts/mediamtx.sh infra/scripts/npm-fetch.sh /usr/local/bin/
ARG MEDIAMTX_VERSION=v1.14.0
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    SOMS_CACHE=/cache MEDIAMTX_VERSION=${MEDIAMTX_VERSION} /usr/local/bin/mediamtx.sh \
 && cp /cache/mediamtx/${MEDIAMTX_VERSION}/mediamtx /mediamtx

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w" -o /out/soms ./cmd/soms

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="soms-sim" \
      org.opencontainers.image.source="https://github.com/somsgo/soms"
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 soms \
 && useradd --uid 10001 --gid soms --create-home --home-dir /data --shell /usr/sbin/nologin soms \
 && mkdir -p /models && chown soms:soms /models
COPY --from=mediamtx /mediamtx /usr/local/bin/mediamtx
COPY --from=build /out/soms /usr/local/bin/soms
USER 10001:10001
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/soms"]
CMD ["help"]
