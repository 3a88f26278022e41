#!/bin/bash
# tests/netns/92_proxy_own_restore.sh — a persisted registration is checked against the host
# again when it is restored: the machine slept, netwaked stopped, the router took over one of its
# addresses meanwhile; on the next start the registration is dropped with a log line naming the
# address, nothing is held, no nft set holds it, and the router's address answers pings (issue 12
# item 3: it was restored and held). Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NO_TARGETS=1 write_conf
start_proxy
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "registration"
sleeper_down
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "not asleep: $(proxy_state Tartiflette)"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
grep -q '"Tartiflette"' "$NW_TMP/state/state.json" || fail "registration not in the state file"
say "asleep, registration persisted, netwaked stopped"

ip -n "$NS_PX" addr add "$SL_IP/24" dev "$PX_IF" || fail "ip addr add"
start_proxy
wait_for 5 log_has "Tartiflette: registration in the state file dropped: monitor\[0\]\.ip: $SL_IP belongs to this host" ||
    fail "the registration was restored onto the router's own address: $(proxy_state Tartiflette)"
[[ -z $(proxy_state Tartiflette) ]] || fail "still proxied: $(proxy_state Tartiflette)"
held_in_nft held4 "$SL_IP" && fail "$SL_IP is in the nft set"
ip -n "$NS_CL" neigh flush all
wait_for 3 ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1 || fail "ping to the router's $SL_IP fails"
say "restore refused: not held, the router's $SL_IP answers"
log_has "proxy up -> asleep" "$DAEMON_LOG" && fail "taken over after the restart"
stop_daemon
pass
