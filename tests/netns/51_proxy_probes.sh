#!/bin/bash
# tests/netns/51_proxy_probes.sh — the sleep proxy's safety rules with a configured target:
# a reload keeps the state; requests from the proxy host itself are never answered; a DAD NS or an ARP probe for a held
# address is never answered and means the machine is back (awake, reason probe); a SYN with IPv4
# options or behind IPv6 extension headers wakes; failed wakes with keep go back to asleep; an
# ARP from another MAC claiming a held address releases only that address; SIGTERM releases
# everything with announcements on the machine's behalf and removes the nft table.
# Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
ATTEMPTS=2 WAKE_INTERVAL=2s write_conf "$(ATTEMPTS=2 WAKE_INTERVAL=2s COOLDOWN=1s sleeper_target_yaml)"  # cooldown: see 47_
start_proxy
cap_start main
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep"
wait_for 2 state_is nas asleep || fail "status: $(proxy_state nas)"
# the nft update runs asynchronously after the transition: wait for it before the reload
wait_for 5 held_in_nft held4 "$SL_IP" || fail "nft set never held $SL_IP"

# --- a reload (SIGUSR2) keeps an unchanged machine asleep and its addresses held
kill -USR2 "$DAEMON_PID"
wait_for 3 log_has "reloaded $CONF" || fail "no reload"
sleep 0.5
state_is nas "asleep $SL_IP $SL_IP6" || fail "after reload: $(proxy_state nas)"
held_in_nft held4 "$SL_IP" || fail "after reload: nft set lost $SL_IP"
[[ $(hook_count asleep) == 1 && $(hook_count awake) == 0 ]] || fail "reload caused transitions: $(hook_seq)"

# --- the host's own ARP request is not answered
ip netns exec "$NS_PX" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1
sleep 0.3
cap_has main "arp rep sha=$PX_MAC spa=$SL_IP tha=$PX_MAC" && fail "the proxy answered its own host"
say "the host's own ARP request for a held address is not answered"

# --- DAD NS for a held address: never answered, the machine is back
n0=$(cap_count main "na $SL_IP6 .*tgt=$SL_IP6 flags=S")
pk "$NS_CL" frame "$CL_IF" dadns "$CL_MAC" "$SL_IP6" >/dev/null
wait_for 2 hook_has awake 1 || fail "a DAD probe for a held address did not release it"
expect_env awake 1 NETWAKED_REASON probe
sleep 0.3
[[ $(cap_count main "na $SL_IP6 .*tgt=$SL_IP6 flags=S") == "$n0" ]] || fail "a DAD NS was answered"
log_has "nas: proxy asleep -> up \(probe: DAD probe for $SL_IP6" || fail "no log line for the DAD release"
say "DAD NS: not answered, released (awake)"

# --- ARP probe for a held address: never answered, the machine is back
wait_for 6 hook_has asleep 2 || fail "not asleep again"
r0=$(cap_count main "arp rep sha=$PX_MAC spa=$SL_IP")
pk "$NS_CL" frame "$CL_IF" arpprobe "$CL_MAC" "$SL_IP" >/dev/null
wait_for 2 hook_has awake 2 || fail "an ARP probe for a held address did not release it"
sleep 0.3
[[ $(cap_count main "arp rep sha=$PX_MAC spa=$SL_IP") == "$r0" ]] || fail "an ARP probe was answered"
say "ARP probe: not answered, released (awake)"

# --- a SYN with IPv4 options wakes; after wake_attempts without an answer, keep -> asleep
wait_for 6 hook_has asleep 3 || fail "not asleep again"
pk "$NS_CL" frame "$CL_IF" tcp4opt "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 41000 2222 S >/dev/null
wait_for 2 hook_has wake 1 || fail "a SYN with IPv4 options did not wake"
wait_for 3 hook_has wake 2 || fail "no second wake attempt"
expect_env wake 2 NETWAKED_ATTEMPT 2
wait_for 4 hook_has asleep 4 || fail "keep: not back to asleep after the attempts"
log_has "nas: proxy waking -> asleep \(probe: no answer after 2 wake attempts; keep" || fail "no keep log line"
[[ $(cap_count main "wol target=$SL_MAC") == 12 ]] || fail "expected 2 bursts x 3 x 2 magic packets, saw $(cap_count main "wol target=$SL_MAC")"
state_is nas "asleep $SL_IP $SL_IP6" || fail "keep: not proxying any more: $(proxy_state nas)"

# --- a SYN behind IPv6 hop-by-hop + destination options headers wakes
pk "$NS_CL" frame "$CL_IF" tcp6ext "$CL_MAC" "$PX_MAC" "$CL_IP6" "$SL_IP6" 41001 2222 S >/dev/null
wait_for 2 hook_has wake 3 || fail "a SYN behind IPv6 extension headers did not wake"
expect_env wake 3 NETWAKED_DST "$SL_IP6"
wait_for 6 hook_has asleep 5 || fail "keep: not back to asleep"
say "IPv4 options and IPv6 extension headers: woken; keep: back to asleep"

# --- conflict: another MAC claims a held address
pk "$NS_CL" frame "$CL_IF" garp "$CL_MAC" "$SL_IP" >/dev/null
wait_for 2 log_has "nas: address conflict: $CL_MAC claims $SL_IP" || fail "no conflict logged"
wait_for 2 state_is nas "asleep $SL_IP6" || fail "after the conflict: $(proxy_state nas)"
wait_for 3 bash -c "! ip netns exec $NS_PX nft list set inet netwaked held4 | grep $SL_IP >/dev/null" || fail "nft still holds $SL_IP"
r0=$(cap_count main "arp rep sha=$PX_MAC spa=$SL_IP")
ip -n "$NS_CL" neigh flush all
pk "$NS_CL" frame "$CL_IF" arpreq "$CL_MAC" "$SL_IP" "$CL_IP" >/dev/null
sleep 0.3
[[ $(cap_count main "arp rep sha=$PX_MAC spa=$SL_IP") == "$r0" ]] || fail "a released address is still answered"
say "conflict: $SL_IP released, $SL_IP6 still held"

# --- SIGTERM: released on the machine's behalf, table removed
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
sleep 0.2
cap_has main "$PX_MAC 33:33:00:00:00:01 na $SL_IP6 ff02::1 tgt=$SL_IP6 flags=O ll=$SL_MAC" ||
    fail "no unsolicited NA on the machine's behalf at exit"
nft_table && fail "nft table left behind"
pass
