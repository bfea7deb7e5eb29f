# Local stand-in for eclipse-mosquitto (make images; tests only): Debian's
# Mosquitto 2.0.11 with the upstream image's contract — /docker-entrypoint.sh,
# /usr/sbin/mosquitto, the mosquitto user, /mosquitto/{config,data,log},
# mosquitto_passwd and mosquitto_sub (the healthcheck).
ARG BASE_IMAGE=soms-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
 && chown -R mosquitto:mosquitto /mosquitto
COPY mosquitto-entrypoint.sh /docker-entrypoint.sh
EXPOSE 1883
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
