#!/bin/sh
# Prepares the broker's credentials, then runs the command given (the
# mosquitto image's own entrypoint and mosquitto). Mosquitto has no variable
# substitution in its configuration, so what comes from .env is written here:
#   - the password file: users soms (MQTT_PASS, required), sim (MQTT_SIM_PASS)
#     and monitor (MQTT_MONITOR_PASS, required: the healthcheck uses it),
#   - a copy of the aclfile only the broker can read,
#   - on an edge node (MQTT_BRIDGE_ADDRESS set), the bridge to the hub.
# Regenerated on every start, so a rotated password takes effect on restart.
set -eu

run=${MOSQUITTO_RUN_DIR:-/run/mosquitto}
acl=${MOSQUITTO_ACL_SOURCE:-/mosquitto/config/aclfile}
owner=${MOSQUITTO_OWNER:-mosquitto}

umask 077
mkdir -p "$run/conf.d"
rm -f "$run/passwd" "$run/conf.d/bridge.conf"
mosquitto_passwd -c -b "$run/passwd" soms "${MQTT_PASS:?MQTT_PASS is not set}"
mosquitto_passwd -b "$run/passwd" monitor "${MQTT_MONITOR_PASS:?MQTT_MONITOR_PASS is not set}"
if [ -n "${MQTT_SIM_PASS:-}" ]; then
  mosquitto_passwd -b "$run/passwd" sim "$MQTT_SIM_PASS"
fi
cp "$acl" "$run/aclfile"

if [ -n "${MQTT_BRIDGE_ADDRESS:-}" ]; then
  node=${EDGE_NODE_ID:-edge}
  cat >"$run/conf.d/bridge.conf" <<CONF
connection soms-hub-$node
address ${MQTT_BRIDGE_ADDRESS}:${MQTT_BRIDGE_PORT:-1883}
remote_username ${MQTT_BRIDGE_USER:-soms}
remote_password ${MQTT_BRIDGE_PASS:?MQTT_BRIDGE_PASS is not set}
remote_clientid soms-edge-$node
bridge_protocol_version mqttv311
cleansession false
restart_timeout 5 60
try_private true
notifications false
topic office/# out 1
topic mcp/# both 1
CONF
fi

if id "$owner" >/dev/null 2>&1; then
  chown -R "$owner:$owner" "$run"
fi
exec "$@"
