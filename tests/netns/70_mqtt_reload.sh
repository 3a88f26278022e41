#!/bin/bash
# tests/netns/70_mqtt_reload.sh — SIGUSR2/`netwakectl reload` applies a changed mqtt section (SPEC §3,
# §16): an unchanged section keeps its connection; a changed one disconnects cleanly (offline, then
# online again, never a will after it) and reconnects with the new settings (client_id, signed
# commands), clearing the discovery and state the new connection does not take over; a removed one
# says offline and clears its retained topics; one added to a daemon started without it connects
# and publishes events; the sleep proxy's "needs a restart" error is not lost. A real mosquitto.
#
#   router netns ($NW_ID-rtr), all on loopback:
#     mosquitto 127.0.0.1:$MQ_PORT (TLS) <--- netwaked -C conf.yaml (targets nas [wol on lo], pc)
#                                        <--- mosquitto_sub / mosquitto_pub (observer)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt.inc.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
mq_start "$NS"
G=$(nflog_group)
KEY=$NW_TMP/cmd.key
"$NW_CTL" keygen "$KEY" >/dev/null 2>&1 || fail "netwakectl keygen"
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
chmod 600 "$NW_TMP/mqtt.pass"
CTL_SOCK=$NW_TMP/ctl.sock
conf() {  # conf CLIENT_ID COMMANDS-YAML EXTRA-TARGET-YAML [no-mqtt]
    cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: $NW_TMP/state, control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    wol: { mac: "02:00:00:00:00:07", interface: "", method: udp, udp_to: "127.0.0.1:9", repeat: 1, cooldown: 0s }
$3
EOF
    [[ ${4:-} == no-mqtt ]] && return
    cat >>"$NW_TMP/conf.yaml" <<EOF
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: $1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
  keepalive: 10s
  homeassistant: { discovery: true, prefix: homeassistant }
  commands: $2
EOF
}
PC="  - name: pc
    match: [{ dst_port: 4243 }]"
conf r1 '{ allow: [wake], signed: false }' "$PC"
OBS=$NW_TMP/obs.txt
mq_sub "$NS" "$OBS" 'netwaked/r1/#' 'homeassistant/#'
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' || fail "not online: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/button/netwaked_r1/nas_wake/config \{' || fail "no Wake button: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/pc/state \{' || fail "no state for pc"
mq_conn() { status_get "[s['mqtt'][k] for k in ('client_id', 'connected', 'connects')]"; }
wait_for 5 eval '[[ $(mq_conn) == "[\"r1\", true, 1]" ]]' || fail "status: $(mq_conn)"

# An unchanged section: the same connection (no reconnect, no offline).
ctl_ok reload
[[ $(mq_conn) == '["r1", true, 1]' ]] || fail "an unchanged mqtt section reconnected: $(mq_conn)"
mq_seen "$OBS" 'netwaked/r1/status offline' && fail "offline published by a reload that changed nothing"
log_has 'mqtt section changed' && fail "an unchanged section was taken as changed"
say "reload with the same section: connection kept"

# A changed section: new client_id, signed commands only (the Wake button goes), pc deleted.
conf r1b "{ allow: [wake], signed: true, key_file: $KEY, window: 60s }" ""
ctl_ok reload
wait_for 10 eval '[[ $(mq_conn) == "[\"r1b\", true, 1]" ]]' || fail "not reconnected as r1b: $(mq_conn)"
wait_for 5 mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1b/nas_state/config \{' || fail "no discovery under r1b: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/status online$' 2 || fail "not online again"
# Clean hand-over: offline (the old connection's clean exit) before the new online, and none after
# (no will from a session takeover): checked once a marker published after the reload came back.
mq_pub "$NS" netwaked/r1/marker reached
wait_for 5 mq_seen "$OBS" '^0 netwaked/r1/marker reached$' || fail "marker not seen"
grep -E '^[01] netwaked/r1/status ' "$OBS" | awk '{print $3}' | tr '\n' ' ' | grep -Eq '^online offline online $' ||
    fail "status sequence: $(grep -E 'netwaked/r1/status' "$OBS" | tr '\n' '|')"
for e in button/netwaked_r1/nas_wake sensor/netwaked_r1/nas_state event/netwaked_r1/pc_events; do
    mq_seen "$OBS" "^[01] homeassistant/$e/config \$" || fail "old discovery $e not cleared: $(cut -c1-90 "$OBS")"
done
mq_seen "$OBS" '^[01] netwaked/r1/pc/state $' || fail "deleted pc's state not cleared"
mq_seen "$OBS" '^[01] homeassistant/binary_sensor/netwaked_r1/bridge/config $' || fail "old router device not cleared"
mq_seen "$OBS" '^[01] homeassistant/binary_sensor/netwaked_r1b/bridge/config \{' || fail "no router device under r1b"
mq_seen "$OBS" '^[01] homeassistant/button/netwaked_r1b/nas_wake/config \{' && fail "a Wake button with signed: true"
say "changed section: offline, online as r1b, old discovery and pc's state cleared"
# The new command settings are in force.
mq_pub "$NS" netwaked/r1/nas/set wake
wait_for 5 mq_seen "$OBS" '"why":"unsigned command \(signed: true\)"' || fail "plain wake not refused after the reload"
mq_pub "$NS" netwaked/r1/nas/set "$(mq_signed "$KEY" netwaked/r1 nas wake)"
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/result \{"action":"wake",.*"result":"ok"' || fail "signed wake not accepted: $(tail -3 "$OBS")"
say "plain wake refused, signed wake accepted"

# The section removed: offline, the discovery and state cleared, the daemon goes on without it.
conf "" "" "" no-mqtt
ctl_ok reload
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/status offline$' 2 || fail "no offline after removing the section"
mq_seen "$OBS" '^[01] homeassistant/sensor/netwaked_r1b/nas_state/config $' || fail "r1b discovery not cleared"
mq_seen "$OBS" '^[01] netwaked/r1/nas/state $' || fail "nas's state not cleared"
[[ $(status_get "s.get('mqtt')") == null ]] || fail "status still shows a bridge: $(status_get "s.get('mqtt')")"
log_has "$MQ_PASS" && fail "the MQTT password appears in the daemon log"
say "section removed: offline, retained topics cleared"

# A daemon started without the section gains it by a reload: connects and publishes events.
stop_daemon
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
conf r1 '{ allow: [], signed: true }' ""
ctl_ok reload
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' 3 || fail "a section added by a reload did not connect"
ctl_ok start nas
wait_for 5 mq_seen "$OBS" '^0 netwaked/r1/nas/event \{.*"event":"start"' || fail "no event published after the section was added"
say "section added by a reload: online, events published"

# With mqtt configured, a reload that adds the first sleep-proxied target still says that the
# sleep proxy needs a restart (the mqtt branch used to swallow that error).
{ ip -n "$NS" link add "${NW_ID}d" type veth peer name "${NW_ID}e" && ip -n "$NS" addr add 10.77.0.1/24 dev "${NW_ID}d" &&
    ip -n "$NS" link set "${NW_ID}d" up && ip -n "$NS" link set "${NW_ID}e" up; } || fail "veth in $NS"
conf r1 '{ allow: [], signed: true }' "  - name: sp
    wol: { mac: \"02:00:00:00:00:08\", interface: ${NW_ID}d }
    sleep_proxy: { addresses: [10.77.0.5] }"
ctl_ok reload
log_has 'reload: the sleep proxy needs a restart to start' || fail "no 'needs a restart' error for the sleep proxy"
say "a reload adding a sleep proxy says it needs a restart"

# A broker address nobody answers (on-link, no ARP reply): the client thread blocks in its
# connect. A reload back to the real broker cannot join it in time: the old bridge is kept
# alive for that thread, the new one connects, and the daemon survives the thread's return.
cp "$NW_TMP/conf.yaml" "$NW_TMP/good.yaml"
sed -i "s|broker: mqtts://localhost:$MQ_PORT|broker: mqtt://10.77.0.9:1883|; /ca_file:/d" "$NW_TMP/conf.yaml"
ctl_ok reload
wait_for 5 log_has 'connecting to mqtt://10.77.0.9:1883' || fail "no connect to the dead address"
cp "$NW_TMP/good.yaml" "$NW_TMP/conf.yaml"
off=$(log_size)
ctl_ok reload
log_since "$off" 'stuck connecting to mqtt://10.77.0.9:1883' || fail "the stuck thread was not detected: $(tail -c +"$((off + 1))" "$DAEMON_LOG")"
wait_for 10 eval '[[ $(mq_conn) == "[\"r1\", true, 1]" ]]' || fail "not reconnected to the real broker: $(mq_conn)"
ntasks() { find "/proc/$DAEMON_PID/task" -mindepth 1 -maxdepth 1 | wc -l; }
n=$(ntasks)
wait_for 15 eval "((\$(ntasks) < $n))" || fail "the stuck thread never ended ($(ntasks) threads)"
ctl_ok status
[[ $(mq_conn) == '["r1", true, 1]' ]] || fail "the connection after the stuck thread ended: $(mq_conn)"
say "a thread stuck in a connect outlives its bridge safely; reconnected to the real broker"
pass
