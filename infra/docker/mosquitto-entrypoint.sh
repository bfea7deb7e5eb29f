#!/bin/sh
# Prepares the broker's accounts, TLS listener and bridge, then runs the
# command given (the mosquitto image's own entrypoint and mosquitto).
# Mosquitto has no variable substitution in its configuration, so what comes
# from .env is written here (docs/mqtt-acl.md):
#   - the password file: one account per service whose password is set
#     (brain MQTT_BRAIN_PASS, backend MQTT_BACKEND_PASS, perception
#     MQTT_PERCEPTION_PASS, follower MQTT_FOLLOWER_PASS, sim MQTT_SIM_PASS,
#     bridge MQTT_EDGE_BRIDGE_PASS, the legacy device account soms MQTT_PASS) and
#     monitor (MQTT_MONITOR_PASS, required: the healthcheck uses it), plus a
#     device account per MQTT_DEVICES entry (id:password[:leaf+leaf...]);
#   - the ACL: the aclfile (internal/mqttacl) and a section per swarm hub
#     with leaves, exactly as internal/mqttacl.HubSection renders it;
#   - a TLS listener on 8883 when the TLS directory holds server.crt and
#     server.key (an operator's, or the ones `soms tls-cert` made);
#   - on an edge node (MQTT_BRIDGE_ADDRESS set), the bridge to the hub.
# Regenerated on every start, so a rotated password or a new device takes
# effect on restart. internal/localinfra's tests run this script and hold
# its result to the Go rendering.
set -euf

run=${MOSQUITTO_RUN_DIR:-/run/mosquitto}
acl=${MOSQUITTO_ACL_SOURCE:-/mosquitto/config/aclfile}
tls=${MOSQUITTO_TLS_DIR:-/mosquitto/tls}
tls_listen=${MOSQUITTO_TLS_LISTEN:-8883 0.0.0.0}
owner=${MOSQUITTO_OWNER:-mosquitto}

die() {
  echo "mosquitto-entrypoint: $*" >&2
  exit 1
}

umask 077
mkdir -p "$run/conf.d"
rm -rf "$run/passwd" "$run/aclfile" "$run/tls" "$run/tls-hub-ca.crt" "$run/conf.d/bridge.conf" "$run/conf.d/tls.conf"
plain="$run/passwd"
: >"$plain"
cp "$acl" "$run/aclfile"

# account NAME PASSWORD: an account, when its password is set. Placeholders
# and short passwords are refused: the broker faces the office network.
account() {
  [ -n "$2" ] || return 0
  case "$2" in
  *change-me* | *changeme*) die "the password of MQTT account $1 is still the placeholder from env.example" ;;
  esac
  [ "${#2}" -ge 12 ] || die "the password of MQTT account $1 is shorter than 12 characters"
  printf '%s:%s\n' "$1" "$2" >>"$plain"
}

account brain "${MQTT_BRAIN_PASS:-}"
account backend "${MQTT_BACKEND_PASS:-}"
account perception "${MQTT_PERCEPTION_PASS:-}"
account follower "${MQTT_FOLLOWER_PASS:-}"
account sim "${MQTT_SIM_PASS:-}"
account monitor "${MQTT_MONITOR_PASS:?MQTT_MONITOR_PASS is not set}"
# The legacy device account: the original firmware's fixed credential.
account soms "${MQTT_PASS:-}"
# Edge nodes' bridges (on the hub).
account bridge "${MQTT_EDGE_BRIDGE_PASS:-}"

# valid_id S: a device or leaf id is one topic level: letters, digits, _ and -.
valid_id() {
  case "$1" in
  "" | *[!A-Za-z0-9_-]*) return 1 ;;
  esac
  [ "${#1}" -le 64 ]
}

seen=" "
for entry in $(printf '%s' "${MQTT_DEVICES:-}" | tr ',\t\r\n' '    '); do
  id=${entry%%:*}
  case "$entry" in
  *:*) rest=${entry#*:} ;;
  *) die "MQTT_DEVICES entry $id: want id:password or id:password:leaf+leaf" ;;
  esac
  pass=${rest%%:*}
  leaves=
  case "$rest" in *:*) leaves=${rest#*:} ;; esac
  case "$leaves" in *:*) die "MQTT_DEVICES entry $id: want id:password or id:password:leaf+leaf" ;; esac
  valid_id "$id" || die "MQTT_DEVICES: device id '$id': want 1-64 letters, digits, '_' or '-'"
  case " brain backend perception follower sim monitor bridge soms " in
  *" $id "*) die "MQTT_DEVICES: device id '$id' is a service account's name" ;;
  esac
  case "$seen" in *" $id "*) die "MQTT_DEVICES: device $id listed twice" ;; esac
  seen="$seen$id "
  [ "${#pass}" -ge 12 ] || die "MQTT_DEVICES: device $id: password shorter than 12 characters"
  printf '%s:%s\n' "$id" "$pass" >>"$plain"
  if [ -n "$leaves" ]; then
    printf '\n# swarm hub %s: its leaves'"'"' readings and tool calls\nuser %s\n' "$id" "$id" >>"$run/aclfile"
    done_leaves=" "
    for leaf in $(printf '%s' "$leaves" | tr '+' ' '); do
      valid_id "$leaf" || die "MQTT_DEVICES: device $id: leaf '$leaf': want 1-64 letters, digits, '_' or '-'"
      case "$done_leaves" in *" $leaf "*) die "MQTT_DEVICES: device $id: leaf $leaf listed twice" ;; esac
      done_leaves="$done_leaves$leaf "
      printf 'topic write office/+/sensor/%s.%s/#\ntopic read mcp/%s.%s/request/#\ntopic write mcp/%s.%s/response/#\n' \
        "$id" "$leaf" "$id" "$leaf" "$id" "$leaf" >>"$run/aclfile"
    done
  fi
done
mosquitto_passwd -U "$plain"

if [ -f "$tls/server.crt" ] && [ -f "$tls/server.key" ]; then
  # Copies the broker's user can read (the key may be an operator's 0600 file).
  mkdir -p "$run/tls"
  cp "$tls/server.crt" "$tls/server.key" "$run/tls/"
  cat >"$run/conf.d/tls.conf" <<CONF
# MQTT over TLS (docs/mqtt-acl.md): the same accounts and ACL as 1883.
listener $tls_listen
protocol mqtt
certfile $run/tls/server.crt
keyfile $run/tls/server.key
CONF
else
  echo "mosquitto-entrypoint: no server.crt and server.key in $tls: no TLS listener" >&2
fi

if [ -n "${MQTT_BRIDGE_ADDRESS:-}" ]; then
  node=${EDGE_NODE_ID:-edge}
  cat >"$run/conf.d/bridge.conf" <<CONF
connection soms-hub-$node
address ${MQTT_BRIDGE_ADDRESS}:${MQTT_BRIDGE_PORT:-1883}
remote_username ${MQTT_BRIDGE_USER:-bridge}
remote_password ${MQTT_BRIDGE_PASS:?MQTT_BRIDGE_PASS is not set}
remote_clientid soms-edge-$node
bridge_protocol_version mqttv311
cleansession false
restart_timeout 5 60
try_private true
notifications false
topic office/# out 1
topic mcp/+/response/# out 1
topic mcp/+/request/# in 1
CONF
  # Over TLS when the hub's CA is there (the hub's ca.crt, copied as hub-ca.crt).
  if [ -f "$tls/hub-ca.crt" ]; then
    cp "$tls/hub-ca.crt" "$run/tls-hub-ca.crt"
    echo "bridge_cafile $run/tls-hub-ca.crt" >>"$run/conf.d/bridge.conf"
  fi
fi

if id "$owner" >/dev/null 2>&1; then
  chown -R "$owner:$owner" "$run"
fi
exec "$@"
