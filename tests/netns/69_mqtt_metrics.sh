#!/bin/bash
# tests/netns/69_mqtt_metrics.sh — the Prometheus textfile (SPEC §17): written atomically when
# something changes (start, stop), with the target state, event counters and hook runs by event
# and result; left alone when nothing changed (a status request wakes the daemon but rewrites
# nothing). Then `mqtt.metrics:
# true`: the same figures retained on netwaked/r1/metrics through a real mosquitto, on change,
# at most once a second, nothing published while idle.
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (target nas, metrics.textfile) <- netwakectl
#                              mosquitto 127.0.0.1:$MQ_PORT (part 2) <- mosquitto_sub
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt.inc.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
PROM=$NW_TMP/prom/netwaked.prom
make_hook "$NW_TMP/hook" '[[ $1 == stop ]] && exit 3'
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: "", control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    hook: $NW_TMP/hook
metrics: { textfile: $PROM }
EOF
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
has() { [[ -f $PROM ]] && grep -F -- "$1" "$PROM" >/dev/null; }
wait_for 5 has 'netwaked_target_state{target="nas",state="idle"} 1' || fail "no metrics file with nas idle"
ctl_ok start nas
wait_for 5 has 'netwaked_events_total{target="nas",event="start"} 1' || fail "start not counted: $(cat "$PROM")"
has 'netwaked_target_state{target="nas",state="active"} 1' || fail "state not active in the file"
ctl_ok stop nas
wait_for 5 has 'netwaked_events_total{target="nas",event="stop"} 1' || fail "stop not counted"
wait_for 5 has 'netwaked_target_state{target="nas",state="idle"} 1' || fail "state not idle again"
# Finished hooks by event and result (the stop hook exits 3).
wait_for 5 has 'netwaked_hook_runs_total{target="nas",event="start",result="ok"} 1' || fail "start hook run not counted: $(grep hook_runs "$PROM")"
wait_for 5 has 'netwaked_hook_runs_total{target="nas",event="stop",result="failed"} 1' || fail "failed stop hook not counted: $(grep hook_runs "$PROM")"
[[ $(stat -c %a "$PROM") == 644 ]] || fail "mode $(stat -c %a "$PROM"), expected 644"
left=$(find "$NW_TMP/prom" -mindepth 1 ! -name netwaked.prom)
[[ -z $left ]] || fail "temporary files left: $left"
ino1=$(stat -c %i "$PROM")
t=$((${EPOCHREALTIME/./} + 1200000))
wait_for 3 past_us "$t"  # past the once-a-second limit, so an unneeded rewrite could happen
ctl_ok status
ctl_ok status
[[ $(stat -c %i "$PROM") == "$ino1" ]] || fail "the metrics file was rewritten although nothing changed"
say "textfile written on start/stop ($(grep -c . "$PROM") lines), untouched by status requests"

# Part 2: mqtt.metrics: true (no textfile).
stop_daemon
mq_start "$NS"
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
chmod 600 "$NW_TMP/mqtt.pass"
sed '/^metrics:/d' "$NW_TMP/conf.yaml" >"$NW_TMP/conf2.yaml"
cat >>"$NW_TMP/conf2.yaml" <<EOF
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
  homeassistant: { discovery: false }
  commands: { allow: [] }
  metrics: true
EOF
start_conf_daemon "$NS" "$NW_TMP/conf2.yaml" "$G"
wait_for 10 log_has 'mqtt: connected' || fail "daemon did not connect to the broker"
OBS=$NW_TMP/obs.txt TIMES=$NW_TMP/times.txt
mq_sub "$NS" "$OBS" 'netwaked/r1/metrics'
wait_for 5 mq_seen "$OBS" '^1 netwaked/r1/metrics # HELP' || fail "no retained metrics: $(head -3 "$OBS")"
mq_seen "$OBS" '^netwaked_target_state\{target="nas",state="idle"\} 1$' || fail "metrics: nas not idle: $(cat "$OBS")"
ip netns exec "$NS" stdbuf -oL mosquitto_sub -h localhost -p "$MQ_PORT" --cafile "$MQ_DIR/ca.pem" -u observer \
    -P "$MQ_OBS_PASS" -F '%U %r' -t netwaked/r1/metrics >"$TIMES" 2>&1 &
NW_BGPIDS+=("$!")
wait_for 5 mq_seen "$TIMES" '^[0-9.]+ 1$' || fail "no retained metrics for the timing observer: $(cat "$TIMES")"
t=$((${EPOCHREALTIME/./} + 1200000))
wait_for 3 past_us "$t"  # past the limit: the first change goes out at once, the others wait
for a in start stop start stop; do ctl_ok "$a" nas; done  # four changes well within a second
wait_for 5 mq_seen "$OBS" '^netwaked_events_total\{target="nas",event="stop"\} 2$' ||
    fail "the last stop never reached netwaked/r1/metrics: $(tail -5 "$OBS")"
"$PYTHON" - "$TIMES" <<'EOF' || fail "metrics published more than once a second: $(cat "$TIMES")"
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1:] == ["0"]]
gaps = [b - a for a, b in zip(t, t[1:])]
print("  live metrics messages: %d, gaps (s): %s" % (len(t), " ".join("%.2f" % g for g in gaps)))
sys.exit(0 if 1 <= len(t) <= 4 and all(g >= 0.9 for g in gaps) else 1)
EOF
# Idle: past the once-a-second limit, a status request wakes the daemon but publishes nothing
# (the next status reply shows the published counter unchanged).
p1=$(status_get "s['mqtt']['published']") || fail "status --json"
t=$((${EPOCHREALTIME/./} + 1200000))
wait_for 3 past_us "$t"
ctl_ok status
p2=$(status_get "s['mqtt']['published']")
[[ $p1 == "$p2" ]] || fail "published while idle: $p1 -> $p2 messages"
# Idle with MQTT connected (keepalive 60 s, connected seconds ago: no PINGREQ due): no thread of
# the daemon wakes up (libmosquitto's default loop timeout woke its thread every second).
switches() { awk '/ctxt_switches/ {n += $2} END {print n + 0}' /proc/"$DAEMON_PID"/task/*/status; }
s1=$(switches)
t=$((${EPOCHREALTIME/./} + 2500000))
wait_for 4 past_us "$t"
s2=$(switches)
((s2 - s1 <= 1)) || fail "idle with MQTT connected: $((s2 - s1)) wake-ups in 2.5 s"
say "mqtt.metrics: retained on netwaked/r1/metrics, $(grep -c ' 0$' "$TIMES") message(s) for 4 changes, none while idle"
pass
