# Local stand-in for golang:<version>-bookworm (make images; tests only): the
# Go toolchain of the pinned version on the local Debian base, with what the
# official image has for cgo builds and fetching (gcc, libc6-dev, pkg-config,
# git, curl).
# Build context: that toolchain's GOROOT.
ARG BASE_IMAGE=soms-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config git curl \
 && rm -rf /var/lib/apt/lists/*
COPY . /usr/local/go
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOTOOLCHAIN=local
RUN mkdir -p /go/bin /go/src && go version
WORKDIR /go
