#!/bin/sh
# The frontend's entrypoint: makes sure nginx has a TLS certificate, then runs
# the command (nginx). The certificate is the operator's when
# /etc/nginx/tls/tls.crt and tls.key exist (mounted, or copied into the
# frontend_tls volume); otherwise a self-signed one is generated there at
# first start and kept in the volume, so browsers see the same one after a
# restart. FRONTEND_TLS_NAME is the host name it is made for.
set -eu

dir=/etc/nginx/tls
crt=$dir/tls.crt
key=$dir/tls.key
name=${FRONTEND_TLS_NAME:-soms.local}

if [ ! -s "$crt" ] || [ ! -s "$key" ]; then
  if [ ! -w "$dir" ]; then
    echo "frontend: no certificate in $dir (tls.crt, tls.key) and it is read-only: mount the operator's certificate there" >&2
    exit 1
  fi
  umask 077
  if ! out=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$name" -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
    -keyout "$key.new" -out "$crt.new" 2>&1); then
    echo "frontend: making a self-signed certificate for $name failed: $out" >&2
    exit 1
  fi
  mv "$key.new" "$key"
  mv "$crt.new" "$crt"
  echo "frontend: generated a self-signed certificate for $name in $dir (valid 825 days); browsers warn until you install your own (docs/deploy.md, \"TLS\")" >&2
fi

exec "$@"
