# The frontend: nginx serving the dashboard's static files (web/, no build
# step) and reverse-proxying /api, /api/voice, /api/brain and /audio to the
# services on soms-net (infra/nginx/default.conf, generated from the route
# table). The unprivileged nginx image runs as uid 101 with a read-only root:
# HTTP on 8080 (compose publishes it on the host's loopback) and HTTPS on 8443
# (the office network), with the operator's certificate or a self-signed one
# made at first start by frontend-entrypoint.sh into the frontend_tls volume.
#
#   docker build -f infra/docker/frontend.Dockerfile -t soms/frontend:dev .

ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.28.0-alpine

FROM ${NGINX_IMAGE} AS site
USER root
# openssl makes the self-signed certificate: apk on the upstream Alpine
# image, apt on a Debian-based one (the local stand-in).
RUN rm -rf /usr/share/nginx/html/* /etc/nginx/conf.d/default.conf \
 && if command -v apk >/dev/null 2>&1; then apk add --no-cache openssl; \
    else apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*; fi \
 && mkdir -p /etc/nginx/tls \
 && chown 101:101 /etc/nginx/tls \
 && chmod 700 /etc/nginx/tls

FROM site
COPY infra/nginx/default.conf /etc/nginx/conf.d/default.conf
COPY infra/docker/frontend-entrypoint.sh /usr/local/bin/soms-frontend-entrypoint
COPY web/ /usr/share/nginx/html/
USER 101
EXPOSE 8080 8443
ENTRYPOINT ["/bin/sh", "/usr/local/bin/soms-frontend-entrypoint"]
CMD ["nginx", "-g", "daemon off;"]
