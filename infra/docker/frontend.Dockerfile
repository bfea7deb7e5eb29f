# The frontend: nginx serving the dashboard's static files (web/, no build
# step) and reverse-proxying /api, /api/voice, /api/wallet and /audio to the
# services on soms-net (infra/nginx/default.conf). The unprivileged nginx
# image listens on 8080 as uid 101; compose publishes it on the host's 80.
#
#   docker build -f infra/docker/frontend.Dockerfile -t soms/frontend:dev .

ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.28.0-alpine

FROM ${NGINX_IMAGE} AS site
USER root
RUN rm -rf /usr/share/nginx/html/* /etc/nginx/conf.d/default.conf

FROM site
COPY infra/nginx/default.conf /etc/nginx/conf.d/default.conf
COPY web/ /usr/share/nginx/html/
USER 101
EXPOSE 8080
