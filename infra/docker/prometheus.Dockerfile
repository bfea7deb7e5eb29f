# Prometheus for the `monitoring` compose profile: Debian's package (no
# registry image needed), the scrape configuration and alert rules of
# infra/prometheus/, checked by promtool while building (a broken rule file
# fails the build, not the monitoring).
#
#   docker build -f infra/docker/prometheus.Dockerfile -t soms/prometheus:dev .
#
# It scrapes every SOMS service's /metrics on soms-net; compose publishes its
# UI on loopback only (PROMETHEUS_BIND_ADDR).

ARG RUNTIME_IMAGE=debian:12.11-slim

FROM ${RUNTIME_IMAGE} AS prometheus
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus wget \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o prometheus -g prometheus /prometheus

FROM prometheus AS checked
COPY infra/prometheus/ /etc/prometheus/soms/
RUN promtool check config /etc/prometheus/soms/prometheus.yml \
 && promtool check rules /etc/prometheus/soms/alerts.yml \
 && cd /etc/prometheus/soms && promtool test rules alerts_test.yml

FROM prometheus
COPY --from=checked /etc/prometheus/soms/prometheus.yml /etc/prometheus/prometheus.yml
COPY --from=checked /etc/prometheus/soms/alerts.yml /etc/prometheus/rules/soms.yml
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090"]
