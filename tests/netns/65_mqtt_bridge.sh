#!/bin/bash
# tests/netns/65_mqtt_bridge.sh — the MQTT bridge against a real mosquitto (TLS, password file,
# ACL): retained online/state, events, a signed command accepted once (replay, bad HMAC, stale,
# retained and unsigned refused, each answered on result), hooks keep the default SIGPIPE, the
# password never reaches the log, and the will (`offline`) after SIGKILL.
#
#   router netns ($NW_ID-rtr), all on loopback:
#     mosquitto 127.0.0.1:$MQ_PORT (TLS, CA made here) <--- netwaked -C conf.yaml (target nas, hook)
#                                                      <--- mosquitto_sub / mosquitto_pub (observer)
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
make_hook "$NW_TMP/hook" 'grep SigIgn /proc/$$/status >"$D/sigign.$$"'
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: $NW_TMP/state, control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    ttl: 1h
    hook: $NW_TMP/hook
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
  keepalive: 10s
  commands: { allow: [start, stop], signed: true, key_file: $KEY, window: 60s }
EOF
OBS=$NW_TMP/obs.txt
mq_sub "$NS" "$OBS" 'netwaked/r1/#'
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' || fail "no online on netwaked/r1/status: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/nas/state \{.*"state":"idle"' || fail "no retained idle state: $(cat "$OBS")"
mq_seen "$OBS" '^[01] netwaked/r1/nas/state \{.*"since":"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z"' ||
    fail "the first state has no RFC 3339 since: $(grep nas/state "$OBS")"
# A late subscriber gets both as retained messages.
LATE=$NW_TMP/late.txt
mq_sub "$NS" "$LATE" 'netwaked/r1/status' 'netwaked/r1/nas/state'
wait_for 5 mq_seen "$LATE" '^1 netwaked/r1/status online$' || fail "status not retained: $(cat "$LATE")"
wait_for 5 mq_seen "$LATE" '^1 netwaked/r1/nas/state ' || fail "state not retained: $(cat "$LATE")"
say "online and idle state retained"

# A signed start: accepted once, the event and the new state follow, the hook runs once.
CMD=$(mq_signed "$KEY" netwaked/r1 nas start)
mq_pub "$NS" netwaked/r1/nas/set "$CMD"
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/result \{"action":"start",.*"result":"ok"' || fail "no ok result: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/event \{.*"event":"start".*"origin":"mqtt"' || fail "no start event: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" 'netwaked/r1/nas/state \{.*"state":"active"' || fail "state not active: $(cat "$OBS")"
wait_for 5 hook_has start 1 || fail "start hook did not run"
say "signed start accepted: result ok, event, state active, hook ran"

# Refusals, each answered on result; the replay is refused after the nonce was recorded.
mq_pub "$NS" netwaked/r1/nas/set "$CMD"
wait_for 5 mq_seen "$OBS" '"result":"refused","why":"replayed nonce"' || fail "replay not refused: $(cat "$OBS")"
BAD=$(mq_signed "$KEY" netwaked/r1 nas stop | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin); h = d["hmac"]; d["hmac"] = h[:-1] + ("1" if h[-1] == "0" else "0"); print(json.dumps(d))')
mq_pub "$NS" netwaked/r1/nas/set "$BAD"
wait_for 5 mq_seen "$OBS" '"why":"bad HMAC"' || fail "bad HMAC not refused: $(cat "$OBS")"
mq_pub "$NS" netwaked/r1/nas/set "$(mq_signed "$KEY" netwaked/r1 nas stop $(($(date +%s) - 3600)))"
wait_for 5 mq_seen "$OBS" '"why":"timestamp outside the window"' || fail "stale not refused: $(cat "$OBS")"
mq_pub "$NS" netwaked/r1/nas/set stop
wait_for 5 mq_seen "$OBS" '"why":"unsigned command \(signed: true\)"' || fail "plain stop not refused: $(cat "$OBS")"
mq_pub "$NS" netwaked/r1/nas/set "$(mq_signed "$KEY" netwaked/r1 nas wake)"
wait_for 5 mq_seen "$OBS" '"action":"wake",.*"why":"action not allowed"' || fail "wake not refused: $(cat "$OBS")"
mq_pub "$NS" netwaked/r1/nas/set "$(mq_signed "$KEY" netwaked/r1 nas stop)" -r
wait_for 5 mq_seen "$OBS" '"why":"retained commands are never obeyed"' || fail "retained not refused: $(cat "$OBS")"
mq_pub "$NS" netwaked/r1/nas/set '' -r   # clear it from the broker
target_is nas active || fail "a refused command changed the target: $(status_get "t('nas')['state']")"
[[ $(hook_count start) == 1 && $(hook_count stop) == 0 ]] || fail "hooks ran for refused commands: $(hook_seq)"
log_has 'mqtt: nas: start refused: replayed nonce' || fail "refusal not logged"
say "replay, bad HMAC, stale, unsigned, not-allowed and retained commands refused and logged"

# A burst of 25 bad commands: every one answered, at most 10 log lines a second (SPEC §16), the
# rest summed up in one line once the next second's command comes.
n0=$(grep -c '"result":"refused"' "$OBS")
l0=$(grep -c 'mqtt: nas: .* refused' "$DAEMON_LOG")
for i in $(seq 25); do echo "jump$i"; done | ip netns exec "$NS" mosquitto_pub -h localhost -p "$MQ_PORT" \
    --cafile "$MQ_DIR/ca.pem" -u observer -P "$MQ_OBS_PASS" -q 1 -t netwaked/r1/nas/set -l || fail "mosquitto_pub -l"
wait_for 5 mq_seen "$OBS" '"result":"refused"' $((n0 + 25)) || fail "not every command of the burst was answered"
burst=$(($(grep -c 'mqtt: nas: .* refused' "$DAEMON_LOG") - l0))
((burst >= 1 && burst <= 20)) || fail "$burst log lines for a burst of 25 refusals (at most 10 a second)"
_more() { mq_pub "$NS" netwaked/r1/nas/set jump; log_has 'mqtt: [0-9]+ more command lines not logged in the last second'; }
wait_for 5 _more || fail "no summary of the lines not logged"
say "burst of 25 refusals: all answered, $burst logged, $(grep -o -m1 '[0-9]* more command lines' "$DAEMON_LOG")"

# Hooks keep the default SIGPIPE although libmosquitto ignores it process-wide (bit 13 of SigIgn).
f=$(find "$NW_TMP" -maxdepth 1 -name "sigign.*" | head -1)
mask=$(awk '{print $2}' "$f")
(((16#$mask >> 12) & 1)) && fail "hook started with SIGPIPE ignored (SigIgn $mask)"
say "hook SigIgn $mask: SIGPIPE at its default"
log_has "$MQ_PASS" && fail "the MQTT password appears in the daemon log"

# `status --json`, the text status and SIGUSR1 report the bridge: connected, messages published,
# commands accepted and refused (7: the six above and the empty retained message that cleared the
# retained command; then the burst's 25 and the jumps that brought the summary), no queue drops.
mq_status() { status_get "[s['mqtt'][k] for k in ('client_id', 'topic', 'connected', 'connects', 'commands_accepted', 'commands_refused', 'queue_drops')]"; }
_refused_match() { R=$(status_get "s['mqtt']['commands_refused']") && [[ $R == $(grep -c '"result":"refused"' "$OBS") ]]; }
wait_for 5 _refused_match || fail "commands_refused $R, refused results $(grep -c '"result":"refused"' "$OBS")"
((R >= 7 + 25)) || fail "commands_refused $R"
wait_for 5 eval '[[ $(mq_status) == "[\"r1\", \"netwaked/r1\", true, 1, 1, $R, 0]" ]]' ||
    fail "status --json does not report the bridge: $(mq_status)"
(($(status_get "s['mqtt']['published']") >= 6)) || fail "status --json: published $(status_get "s['mqtt']['published']")"
ctl_ok status
grep -E "^mqtt: mqtts://localhost:[0-9]+ connected as r1 \(topic netwaked/r1\): connects 1, published [1-9][0-9]*, commands accepted 1 refused $R, queue drops 0$" <<<"$CTL_OUT" >/dev/null ||
    fail "netwakectl status does not show the bridge: $CTL_OUT"
kill -USR1 "$DAEMON_PID"
wait_for 5 log_has "status: mqtt: mqtts://localhost:[0-9]+ connected as r1 \(topic netwaked/r1\): connects 1, published [1-9][0-9]*, commands accepted 1 refused $R" ||
    fail "SIGUSR1 does not report the bridge: $(grep 'status: mqtt' "$DAEMON_LOG")"
say "status --json, netwakectl status and SIGUSR1 show the bridge: $(status_get "s['mqtt']")"

# Clean exit publishes offline; the replay cache (shared with SPA) survives the restart.
stop_daemon
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/status offline$' || fail "no offline on clean exit"
n=$(grep -c '"why":"replayed nonce"' "$OBS")
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' 2 || fail "not online after the restart"
mq_pub "$NS" netwaked/r1/nas/set "$CMD"
wait_for 5 mq_seen "$OBS" '"why":"replayed nonce"' $((n + 1)) || fail "replay accepted after a restart: $(tail -3 "$OBS")"
say "offline on clean exit; the nonce is still refused after a restart"

# The will: SIGKILL -> the broker publishes offline (retained).
kill -KILL "$DAEMON_PID"
wait_for 30 mq_seen "$OBS" '^[01] netwaked/r1/status offline$' || fail "no offline will after SIGKILL: $(tail -3 "$OBS")"
say "will published after SIGKILL"
pass
