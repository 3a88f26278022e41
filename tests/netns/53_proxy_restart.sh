#!/bin/bash
# tests/netns/53_proxy_restart.sh — restarts: after SIGTERM (everything released on the machine's
# behalf, nft table removed, state written) and after SIGKILL (the stale table is there until the
# next start), the registration survives, the next start probes again and resumes proxying a
# machine still asleep (quietly: no second `asleep` hook); a machine that woke while netwaked was
# down is not taken over, its registration ends, and no kernel state is left.
# Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
write_conf
start_proxy
cap_start main
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "registration"
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep"
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft set lacks $SL_IP"

# --- SIGTERM: released with announcements on its behalf, table removed, registration persisted
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
nft_table && fail "nft table left behind after SIGTERM"
sleep 0.2
cap_has main "$PX_MAC ff:ff:ff:ff:ff:ff arp req sha=$SL_MAC spa=$SL_IP tha=00:00:00:00:00:00 tpa=$SL_IP" ||
    fail "no gratuitous ARP on the machine's behalf at exit"
grep -q '"Tartiflette"' "$NW_TMP/state/state.json" || fail "registration not in the state file"
say "SIGTERM: released, table removed, registration persisted"

# --- restart while it still sleeps: probed again, taken over quietly
start_proxy
wait_for 3 log_has "Tartiflette: was asleep before the restart" || fail "no resume after restart"
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "not proxying after restart: $(proxy_state Tartiflette)"
wait_for 3 held_in_nft held6 "$SL_IP6" || fail "nft set not recreated"
[[ $(hook_count asleep) == 1 ]] || fail "a resumed takeover ran the asleep hook again"
say "restart: resumed (quietly)"

# --- SIGKILL: the table stays until the next start; resumed again
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
wait_for 3 pid_dead "$DAEMON_PID" || fail "SIGKILL"
nft_table || fail "expected the stale table after SIGKILL (test premise)"
start_proxy
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "not proxying after SIGKILL: $(proxy_state Tartiflette)"
ip -n "$NS_CL" neigh flush all
ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1
ip -n "$NS_CL" neigh show "$SL_IP" | grep "$PX_MAC" >/dev/null || fail "not answering ARP after SIGKILL + restart"
say "SIGKILL + restart: resumed"

# --- SIGKILL, the machine wakes while netwaked is down: not taken over, stale table removed
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
wait_for 3 pid_dead "$DAEMON_PID" || fail "SIGKILL"
sleeper_up
sleep 1
start_proxy
wait_for 5 hook_has awake 1 || fail "a machine found awake at start-up did not end its registration"
wait_for 3 bash -c "! ip netns exec $NS_PX nft list table inet netwaked >/dev/null 2>&1" || fail "stale nft table not removed"
sleep 2
[[ -z $(proxy_state Tartiflette) ]] || fail "registration still there: $(proxy_state Tartiflette)"
[[ $(hook_count asleep) == 1 ]] || fail "taken over although awake"
ip -n "$NS_CL" neigh flush all
ip netns exec "$NS_CL" ping -c1 -W2 "$SL_IP" >/dev/null 2>&1 || fail "the awake machine is unreachable"
ip -n "$NS_CL" neigh show "$SL_IP" | grep "$SL_MAC" >/dev/null || fail "client resolves $SL_IP to $(ip -n "$NS_CL" neigh show "$SL_IP")"
say "awake at start-up: not taken over, registration ended, no table"
stop_daemon
capture_stop
pass
