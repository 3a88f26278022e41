#!/bin/bash
# tests/netns/69_mqtt_metrics.sh — the Prometheus textfile (SPEC §17): written atomically when
# something changes (start, stop), with the target state and event counters; left alone when
# nothing changed (a status request wakes the daemon but rewrites nothing).
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (target nas, metrics.textfile) <- netwakectl
. "$(dirname "$0")/lib.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
PROM=$NW_TMP/prom/netwaked.prom
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: "", control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
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
pass
