# The perception image: the soms binary built with cgo (onnxruntime_go) on
# glibc and -tags prod, plus the ONNX Runtime shared library taken from the
# npm package onnxruntime-node by the same script the native setup uses
# (infra/scripts/onnxruntime.sh; version pinned there, ORT_VERSION overrides),
# and Debian's ffmpeg, which decodes the cameras (RTSP, HTTP, V4L2; VAAPI and
# CUDA decoding when the container is given the device).
#
#   docker build -f infra/docker/perception.Dockerfile -t soms/perception:dev .
#
# Builds for linux/amd64 (GPU host, CPU fallback) and linux/arm64 (Raspberry
# Pi edge node). Models are not baked in: mount them at /models.

ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=debian:12.11-slim

# The ONNX Runtime library from the npm package onnxruntime-node, fetched
# with curl (the golang image has it): no Node.js needed.
FROM ${GO_IMAGE} AS ort
ARG ORT_VERSION=1.24.1
COPY infra/scripts/onnxruntime.sh infra/scripts/npm-fetch.sh /usr/local/bin/
RUN SOMS_CACHE=/cache ORT_VERSION=${ORT_VERSION} /usr/local/bin/onnxruntime.sh \
 && cp /cache/onnxruntime/${ORT_VERSION}/libonnxruntime.so /libonnxruntime.so

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -tags prod,timetzdata \
      -ldflags "-s -w" -o /out/soms ./cmd/soms

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="soms-perception" \
      org.opencontainers.image.source="https://github.com/somsgo/soms"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 soms \
 && useradd --uid 10001 --gid soms --no-create-home --shell /usr/sbin/nologin soms \
 && mkdir -p /models && chown soms:soms /models
COPY --from=ort /libonnxruntime.so /usr/local/lib/libonnxruntime.so
RUN ldconfig
COPY --from=build /out/soms /usr/local/bin/soms
ENV ONNXRUNTIME_LIB=/usr/local/lib/libonnxruntime.so
USER 10001:10001
WORKDIR /models
ENTRYPOINT ["/usr/local/bin/soms"]
CMD ["perception"]
