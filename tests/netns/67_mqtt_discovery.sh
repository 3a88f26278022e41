#!/bin/bash
# tests/netns/67_mqtt_discovery.sh — Home Assistant discovery through a real mosquitto: a router
# device (the targets' via_device) and one device per target with availability on
# <base>/status, a Wake button only when plain wake is obeyed (the others cleared), republished
# when HA announces itself, cleared for a target a reload deletes and for entities an earlier run
# left; a plain wake pressed on the button sends the wake.
#
#   router netns ($NW_ID-rtr), all on loopback:
#     mosquitto 127.0.0.1:$MQ_PORT (TLS) <--- netwaked -C conf.yaml (targets nas [wol on lo], pc)
#                                        <--- mosquitto_sub / mosquitto_pub (observer, "HA")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt.inc.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
mq_start "$NS"
G=$(nflog_group)
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
chmod 600 "$NW_TMP/mqtt.pass"
CTL_SOCK=$NW_TMP/ctl.sock
conf() {  # conf "extra target yaml"
    cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: "", control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    wol: { mac: "02:00:00:00:00:07", interface: "", method: udp, udp_to: "127.0.0.1:9", repeat: 1, cooldown: 0s }
$1
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
  homeassistant: { discovery: true, prefix: homeassistant }
  commands: { allow: [wake], signed: false }
EOF
}
conf "  - name: pc
    match: [{ dst_port: 4243 }]"
OBS=$NW_TMP/obs.txt
mq_sub "$NS" "$OBS" 'homeassistant/#' 'netwaked/r1/+/result' 'netwaked/r1/+/event'
# Left on the broker by an earlier run with the same client_id: must be cleared.
mq_pub "$NS" homeassistant/sensor/netwaked_r1/old_state/config '{"name":"State"}' -r
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1/old_state/config \{' || fail "stale config not seen"
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
B='homeassistant/button/netwaked_r1'
wait_for 10 mq_seen "$OBS" "^[01] $B/nas_wake/config \{.*\"command_topic\":\"netwaked/r1/nas/set\"" ||
    fail "no Wake button for nas: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1/nas_state/config \{.*"availability_topic":"netwaked/r1/status"' ||
    fail "no State sensor with availability"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/event/netwaked_r1/pc_events/config \{' || fail "no event entity for pc"
mq_seen "$OBS" "^[01] $B/pc_wake/config \{" && fail "a Wake button for pc, which has no wol"
wait_for 5 mq_seen "$OBS" "^[01] $B/pc_wake/config \$" || fail "pc's Wake button not cleared"
grep -E "nas_state/config" "$OBS" | grep -F '"connections":[["mac","02:00:00:00:00:07"]]' >/dev/null ||
    fail "nas's device has no MAC connection"
# The router's own device, which every target's via_device names (else HA ignores via_device).
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/binary_sensor/netwaked_r1/bridge/config \{.*"identifiers":\["netwaked_r1"\].*"state_topic":"netwaked/r1/status"' ||
    fail "no router device: $(grep bridge "$OBS")"
grep -E "nas_state/config" "$OBS" | grep -F '"via_device":"netwaked_r1"' >/dev/null || fail "nas's device has no via_device"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1/old_state/config $' || fail "stale discovery from an earlier run not cleared"
say "discovery: router device, devices via it, availability, Wake button only for the wol target; a stale entity cleared"

# HA restarts: it publishes "online" on <prefix>/status and gets the discovery again.
n=$(grep -c "nas_wake/config {" "$OBS")
mq_pub "$NS" homeassistant/status online
wait_for 5 mq_seen "$OBS" "nas_wake/config \{" $((n + 1)) || fail "discovery not republished on homeassistant/status online"
say "republished after homeassistant/status online"

# The button's plain wake: result ok, wake event.
mq_pub "$NS" netwaked/r1/nas/set wake
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/result \{"action":"wake","result":"ok"\}' || fail "wake not accepted: $(tail -3 "$OBS")"
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/event \{.*"event":"wake".*"mac":"02:00:00:00:00:07"' || fail "no wake event"
say "Wake button: wake accepted, wake event published"

# A reload that deletes pc clears its entities.
conf ""
ctl_ok reload
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/event/netwaked_r1/pc_events/config $' || fail "pc's entities not cleared after the reload"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1/pc_state/config $' || fail "pc's State not cleared"
say "reload deleting pc cleared its entities"
pass
