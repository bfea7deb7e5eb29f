#!/bin/sh
# The upstream eclipse-mosquitto entrypoint: hand /mosquitto to the broker's
# user (it drops to it when started as root), then run the command.
set -e
if [ "$(id -u)" = 0 ] && [ -d /mosquitto ]; then
  chown -R mosquitto:mosquitto /mosquitto 2>/dev/null || true
fi
exec "$@"
