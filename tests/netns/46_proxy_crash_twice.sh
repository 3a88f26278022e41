#!/bin/bash
# tests/netns/46_proxy_crash_twice.sh — a second crash inside the re-probe window after a restart
# (issue 12 item 5): machines asleep (a registration older than its shutdown_timeout and a
# configured target) survive SIGKILL, restart, SIGKILL before the probes decide, restart: both
# are still proxied, no `lost`, no second `asleep`, and traffic still wakes the registered one.
# Lab: tests/netns/59_proxy_lab.sh plus a second sleeper S2 (a configured target "nas2"):
#
#   proxy (netwaked)   sleeper SL (registers "Tartiflette")   S2 10.77.0.21   client CL
#          \__________________________ bridge br0 ____________________/__________/
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NS_S2=$NW_ID-s2 S2_IF=${NW_ID}t S2_IP=10.77.0.21 S2_MAC=02:77:00:00:00:21
lab_port "$NS_S2" "$S2_IF" "$S2_MAC" "$S2_IP" fd77::21
wait_for 5 ip netns exec "$NS_CL" ping -c1 -W1 "$S2_IP" >/dev/null 2>&1 || fail "lab: no S2"

s2_yaml() {
    cat <<EOF
  - name: nas2
    wol: { mac: "$S2_MAC", interface: $PX_IF, repeat: 2, interval: 200ms }
    sleep_proxy: { addresses: [$S2_IP], ports: [2222], probe_interval: $PROBE, probe_misses: 3, wake_attempts: 1, wake_interval: 5s, keep: true }
EOF
}
STATE=$NW_TMP/state/state.json
inode() { stat -c %i "$STATE" 2>/dev/null || echo none; }
inode_changed() { [[ $(inode) != "$1" ]]; }
saved_state() {  # NAME: its proxy state in the state file
    "$PYTHON" -c '
import json, sys
s = json.load(open(sys.argv[1]))
for x in s.get("registrations", []):
    if x.get("name") == sys.argv[2]:
        print(x.get("state"))
for x in s.get("targets", []):
    if x.get("name") == sys.argv[2]:
        print(x.get("proxy_state"))' "$STATE" "$1" 2>/dev/null
}
saved_is() { [[ $(saved_state "$1") == "$2" ]]; }
kill9() {
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    wait_for 3 pid_dead "$DAEMON_PID" || fail "SIGKILL"
}

# --- both machines go to sleep (probes every 500 ms; registrations: shutdown_timeout 4 s)
PROBE=500ms SHUTDOWN=4s write_conf "$(PROBE=500ms s2_yaml)"
start_proxy
now_us; t_reg=$NOW_US
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "registration"
sleeper_down
ip -n "$NS_S2" link set "$S2_IF" down
wait_for 6 hook_has_t asleep Tartiflette 1 || fail "Tartiflette not asleep"
wait_for 6 hook_has_t asleep nas2 1 || fail "nas2 not asleep"
wait_for 3 saved_is Tartiflette asleep || fail "state file: Tartiflette is '$(saved_state Tartiflette)'"
wait_for 3 saved_is nas2 asleep || fail "state file: nas2 is '$(saved_state nas2)'"
kill9
say "both asleep; SIGKILL"

# --- restart with slow probes (3 s: the re-probe needs ~9 s to decide), killed again at once
PROBE=3s SHUTDOWN=4s write_conf "$(PROBE=3s s2_yaml)"
i0=$(inode)
start_proxy
wait_for 3 log_has "Tartiflette: was asleep before the restart" || fail "registration not restored"
wait_for 3 log_has "nas2: was asleep before the restart" || fail "nas2 not restored"
wait_for 3 inode_changed "$i0" || fail "the restarted daemon did not write its state"
kill9
log_has "proxy up -> asleep" && fail "test premise: the re-probe decided before the second kill"
say "restarted, state written (Tartiflette: '$(saved_state Tartiflette)', nas2: '$(saved_state nas2)'); SIGKILL again"

# --- the registration is now older than its shutdown_timeout; restart with fast probes
wait_for 10 past_us $((t_reg + 5000000)) || fail "clock"
PROBE=500ms SHUTDOWN=4s write_conf "$(PROBE=500ms s2_yaml)"
start_proxy
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "Tartiflette not proxied: '$(proxy_state Tartiflette)'"
wait_for 6 state_is nas2 "asleep $S2_IP" || fail "nas2 not proxied: '$(proxy_state nas2)'"
[[ $(hook_count_t lost Tartiflette) == 0 ]] || fail "Tartiflette was declared lost"
[[ $(hook_count_t asleep nas2) == 1 ]] || fail "nas2: $(hook_count_t asleep nas2) asleep hooks"
[[ $(hook_count_t asleep Tartiflette) == 1 ]] || fail "Tartiflette: $(hook_count_t asleep Tartiflette) asleep hooks"
say "second restart: both resumed quietly"

# --- traffic still wakes it
cap_start main
pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 43001 2222 S >/dev/null
wait_for 3 hook_has_t wake Tartiflette 1 || fail "a SYN did not wake Tartiflette"
wait_for 3 cap_has main "$PX_MAC $SL_MAC wol target=$SL_MAC" || fail "no magic packet for $SL_MAC"
[[ $(hook_count_t lost Tartiflette) == 0 ]] || fail "Tartiflette was declared lost"
say "a SYN wakes Tartiflette: $(cap_count main "wol target=$SL_MAC") magic packet(s) so far"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
capture_stop
pass
