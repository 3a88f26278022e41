#!/bin/bash
# tests/netns/45_proxy_squat.sh — no squatting of another machine's address or name (issue 12
# item 2): the MAC that answers for an address owns it. K (the client) registering T's (the
# sleeper's) address while T is up is refused (neighbour entry, then probe answer); T's own
# registration is accepted and replaces K's; K's later registration under T's name is qualified
# with K's MAC; when T sleeps, traffic for T wakes T (magic packets for T's MAC only), not K.
# Lab: see tests/netns/59_proxy_lab.sh (proxy, sleeper T = SL, client K = CL on one bridge).
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NO_TARGETS=1 write_conf
start_proxy
k_payload() {  # IP NAME: K's registration of IP under NAME
    printf '{"mac": "%s", "name": "%s", "monitor": [{"ip": "%s", "port": [2222]}]}' "$CL_MAC" "$2" "$1"
}
OK="b'OK.\\x00'"

# --- K registers T's address while T is up and the router's neighbour table knows T there
ip netns exec "$NS_SL" ping -c1 -W1 "$PX_IP" >/dev/null 2>&1 || fail "lab: T cannot reach the router"
ip -n "$NS_PX" neigh show "$SL_IP" dev "$PX_IF" | grep -i "$SL_MAC" >/dev/null ||
    fail "test premise: no neighbour entry for $SL_IP: $(ip -n "$NS_PX" neigh show "$SL_IP")"
r=$(reg_send "$NS_CL" "$(k_payload "$SL_IP" Tartiflette)")
[[ $r == *"monitor[0].ip: $SL_IP is answered by another MAC ($SL_MAC, neighbour entry), not by $CL_MAC"* ]] ||
    fail "K's registration of T's address answered $r"
say "neighbour entry: refused: $r"

# --- without a neighbour entry it is accepted, until K's own probes see T answering
ip -n "$NS_PX" neigh flush dev "$PX_IF"
[[ $(reg_send "$NS_CL" "$(k_payload "$SL_IP" Tartiflette)") == "$OK" ]] || fail "registration without evidence refused"
wait_for 3 log_has "Tartiflette: $SL_IP is answered by $SL_MAC, not by $CL_MAC" || fail "K's probes were not answered by T"
ip -n "$NS_PX" neigh flush dev "$PX_IF"
r=$(reg_send "$NS_CL" "$(k_payload "$SL_IP" Tartiflette)")
[[ $r == *"monitor[0].ip: $SL_IP is answered by another MAC ($SL_MAC, probe answer), not by $CL_MAC"* ]] ||
    fail "K renewing its claim answered $r"
say "probe answer: K's renewal refused: $r"

# --- T registers (same name): accepted, K's registration replaced
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "$OK" ]] || fail "T's own registration was refused"
log_has "Tartiflette: no longer proxied \(replaced by the registration of the MAC that answers for its address\)" ||
    fail "K's registration was not replaced"
wait_for 3 state_is Tartiflette up || fail "T's registration: $(proxy_state Tartiflette)"
say "T's registration accepted; K's replaced"

# --- names are scoped to the MAC: K registering its own address as "Tartiflette" is qualified
[[ $(reg_send "$NS_CL" "$(k_payload "$CL_IP" Tartiflette)") == "$OK" ]] || fail "K's own address under T's name refused"
wait_for 3 state_is Tartiflette-027700000030 up || fail "K not registered as Tartiflette-027700000030: $(status_json)"
log_has "Tartiflette: the name is registered for another MAC: $CL_MAC registers as \"Tartiflette-027700000030\"" ||
    fail "no log line for the qualified name"

# --- T sleeps; traffic for T wakes T, not K
cap_start main
sleeper_down
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "T not proxied: $(proxy_state Tartiflette)"
pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 45001 2222 S >/dev/null
wait_for 3 hook_has_t wake Tartiflette 1 || fail "a SYN for T did not wake T"
expect_env_t wake Tartiflette 1 NETWAKED_MAC "$SL_MAC"
wait_for 3 cap_has main "$PX_MAC $SL_MAC wol target=$SL_MAC" || fail "no magic packet for T"
[[ $(cap_count main "wol target=$CL_MAC") == 0 ]] || fail "magic packets for K"
[[ $(hook_count_t wake Tartiflette-027700000030) == 0 ]] || fail "K was woken"
state_is Tartiflette-027700000030 up || fail "K: $(proxy_state Tartiflette-027700000030)"
say "T asleep; a SYN for T wakes T ($(cap_count main "wol target=$SL_MAC") magic packets for $SL_MAC, none for K)"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
capture_stop
pass
