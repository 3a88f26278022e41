#!/bin/bash
# tests/netns/91_proxy_own_gained.sh — the router gains an address the proxy holds for a sleeping
# machine (an admin's `ip addr add`, VRRP, DHCP): netwaked releases it at once (RTNETLINK), says
# so in the log, takes it out of `table inet netwaked`, stops answering ARP for it (only the
# router's kernel answers), and a ping to the router's new address works (issue 12 item 3: it was
# kept, and the nft set dropped every packet to the router's address). Same for IPv6.
# Lab: see tests/netns/59_proxy_lab.sh (proxy, sleeper, client on one bridge; proxy forwards).
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NO_TARGETS=1 write_conf
start_proxy
cap_start main
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "registration"
sleeper_down
wait_for 6 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "not asleep: $(proxy_state Tartiflette)"
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft set held4 lacks $SL_IP"
wait_for 3 held_in_nft held6 "$SL_IP6" || fail "nft set held6 lacks $SL_IP6"
say "asleep: $SL_IP and $SL_IP6 held"

# --- the router gains the held IPv4 address
now_us; t_add=$NOW_US
ip -n "$NS_PX" addr add "$SL_IP/24" dev "$PX_IF" || fail "ip addr add"
wait_for 3 state_is Tartiflette "asleep $SL_IP6" || fail "$SL_IP still held: $(proxy_state Tartiflette)"
now_us; figure own_release_ms "$(us_to_ms $((NOW_US - t_add)))"
[[ $(proxy_state Tartiflette) == "asleep $SL_IP6" ]] || fail "held now: $(proxy_state Tartiflette)"
log_has "Tartiflette: $SL_IP became an address of this host: released at once" || fail "release not logged"
wait_for 3 held_in_nft held6 "$SL_IP6" || fail "nft set lost $SL_IP6"
wait_for 3 bash -c "! ip netns exec $NS_PX nft list set inet netwaked held4 2>/dev/null | grep -F -- '$SL_IP' >/dev/null" ||
    fail "$SL_IP is still in the nft set"

# ARP for it is answered by the router's kernel only. Marker that netwaked has read the request:
# its answer to the client's NS for $SL_IP6 (still held), sent after the ARP request on the same link.
now_us; t_arp=$NOW_US
pk "$NS_CL" frame "$CL_IF" arpreq "$CL_MAC" "$SL_IP" "$CL_IP" >/dev/null
ip -n "$NS_CL" -6 neigh flush all
ip netns exec "$NS_CL" ping -6 -c1 -W1 "$SL_IP6" >/dev/null 2>&1
na_since() { cap_lines main | awk -v t="$t_arp" '$1 > t' | grep -E -- "$PX_MAC $CL_MAC na $SL_IP6 .* tgt=$SL_IP6" >/dev/null; }
wait_for 3 na_since || fail "netwaked did not answer the NS for $SL_IP6 (marker)"
replies=$(cap_lines main | awk -v t="$t_arp" '$1 > t' | grep -Ec -- "$PX_MAC $CL_MAC arp rep sha=$PX_MAC spa=$SL_IP tha=$CL_MAC tpa=$CL_IP" || true)
[[ $replies == 1 ]] || fail "$replies ARP replies for $SL_IP (expected 1, the router's kernel)"
say "ARP for $SL_IP: one reply (the kernel's)"

# the router's new address is reachable (the nft set dropped it)
ip -n "$NS_CL" neigh flush all
wait_for 3 ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1 || fail "ping to the router's new address $SL_IP fails"
say "ping to the router's $SL_IP works"

# --- the same for IPv6
ip -n "$NS_PX" addr add "$SL_IP6/64" dev "$PX_IF" nodad || fail "ip addr add $SL_IP6"
holds_nothing() { [[ $(proxy_state Tartiflette | tr -d ' ') == asleep ]]; }
wait_for 3 holds_nothing || fail "$SL_IP6 still held: $(proxy_state Tartiflette)"
log_has "Tartiflette: $SL_IP6 became an address of this host" || fail "IPv6 release not logged"
wait_for 3 bash -c "! ip netns exec $NS_PX nft list set inet netwaked held6 2>/dev/null | grep -F -- '$SL_IP6' >/dev/null" ||
    fail "$SL_IP6 is still in the nft set"
ip -n "$NS_CL" -6 neigh flush all
wait_for 3 ip netns exec "$NS_CL" ping -6 -c1 -W1 "$SL_IP6" >/dev/null 2>&1 || fail "ping to the router's new $SL_IP6 fails"
say "IPv6: released, ping to the router's $SL_IP6 works"
pid_alive "$DAEMON_PID" || fail "netwaked died"
stop_daemon
capture_stop
pass
