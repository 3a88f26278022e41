#!/bin/bash
# tests/netns/90_proxy_own_config.sh — a sleep_proxy address that is the router's own (on the
# proxied interface or another one) or off-link is refused by `--check`, at start-up and on
# reload, with FILE:LINE:COL naming the address and why (issue 12 item 3: one typo held the
# router's address and dropped every packet to it). Good addresses still pass.
#
#   router netns ($NW_ID-rt)                         peer netns ($NW_ID-pe)
#   ${NW_ID}a 10.90.0.1/24 fd90::1/64  <-- veth -->   ${NW_ID}b 10.90.0.9/24
#   ${NW_ID}x 10.91.0.1/24             <-- veth -->   ${NW_ID}y (no address)
. "$(dirname "$0")/lib.sh"
require_root
NS_RT=$NW_ID-rt NS_PE=$NW_ID-pe
IF_A=${NW_ID}a IF_X=${NW_ID}x
netns_add "$NS_RT"
netns_add "$NS_PE"
ip netns exec "$NS_RT" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
veth_pair "$NS_RT" "$IF_A" "$NS_PE" "${NW_ID}b" 10.90.0.1 10.90.0.9
veth_pair "$NS_RT" "$IF_X" "$NS_PE" "${NW_ID}y" 10.91.0.1
ip -n "$NS_RT" addr add fd90::1/64 dev "$IF_A" nodad
make_hook "$NW_TMP/hook"
CONF=$NW_TMP/netwaked.yaml
CTL=$NW_TMP/ctl.sock

# write_conf ADDRESSES: one sleep-proxied target on $IF_A; the addresses list is on line 12.
write_conf() {
    cat >"$CONF" <<EOF2
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL
  pidfile: ""
sensors:
  - name: lan
    pcap: { interface: $IF_A, filter: "udp port 9" }
targets:
  - name: nas
    hook: $NW_TMP/hook
    wol: { mac: "02:90:00:00:00:20", interface: $IF_A }
    sleep_proxy: { addresses: $1 }
EOF2
}
# check ADDRESSES: --check in the router namespace; sets RC and ERR.
check() {
    write_conf "$1"
    ERR=$(timeout -k 1 10 ip netns exec "$NS_RT" "$NETWAKED" --check -C "$CONF" 2>&1 >/dev/null </dev/null)
    RC=$?
}
# refused ADDRESSES REGEX: --check exits 2 and prints REGEX.
refused() {
    check "$1"
    ((RC == 2)) || fail "--check with addresses $1: exit $RC (expected 2): $ERR"
    grep -E -- "$2" >/dev/null <<<"$ERR" || fail "--check with addresses $1: expected /$2/, got: $ERR"
    say "refused $1: $(head -n1 <<<"$ERR")"
}

check "[10.90.0.20, \"fd90::20\"]"
((RC == 0)) || fail "a good configuration fails --check: $ERR"
refused "[10.90.0.1]" "^$CONF:12:32: sleep_proxy.addresses: \"10.90.0.1\" belongs to this host$"
refused "[10.90.0.20, 10.91.0.1]" "^$CONF:12:44: sleep_proxy.addresses: \"10.91.0.1\" belongs to this host$"
refused "[\"fd90::1\"]" "^$CONF:12:32: sleep_proxy.addresses: \"fd90::1\" belongs to this host$"
refused "[{ address: 10.90.0.1, ports: [22] }]" "^$CONF:12:43: sleep_proxy.addresses.address: \"10.90.0.1\" belongs to this host$"
refused "[10.92.0.5]" "^$CONF:12:32: sleep_proxy.addresses: \"10.92.0.5\" is not on-link on $IF_A$"
refused "[\"fd91::5\"]" "sleep_proxy.addresses: \"fd91::5\" is not on-link on $IF_A$"
refused "[10.90.0.255]" "\"10.90.0.255\" is the broadcast address of its /24 network on $IF_A$"

# start-up refuses it too (exit 2, nothing held)
write_conf "[10.90.0.1]"
timeout -k 1 10 ip netns exec "$NS_RT" "$NETWAKED" -C "$CONF" >"$NW_TMP/start.log" 2>&1 </dev/null
rc=$?
((rc == 2)) || fail "netwaked started with its own address as a sleep_proxy address (exit $rc)"
grep -E "belongs to this host" "$NW_TMP/start.log" >/dev/null || fail "start-up error: $(cat "$NW_TMP/start.log")"
say "start-up refused"

# reload refuses it and keeps the running configuration
write_conf "[10.90.0.20]"
NW_NOWAIT=1 start_daemon "$NS_RT" -C "$CONF"
wait_for 5 log_has "sleep proxy: listening on $IF_A" || fail "daemon did not start"
write_conf "[10.90.0.20, 10.90.0.1]"
kill -USR2 "$DAEMON_PID"
wait_for 5 log_has "reload of .* failed" || fail "the reload was not refused"
log_has "$CONF:12:44: sleep_proxy.addresses: \"10.90.0.1\" belongs to this host" || fail "reload error lacks the position"
pid_alive "$DAEMON_PID" || fail "the daemon died on a refused reload"
say "reload refused"
stop_daemon
pass
