#!/bin/bash
# tests/netns/32_register_client.sh — `netwakectl register` (issue 19): a machine with two IPv4
# and three IPv6 addresses (plus a deprecated one, link-local, and a VLAN sub-interface that does
# not carry the route) and TCP listeners (one loopback-only) registers with netwaked by a name that
# resolves to both families (IPv6 refused -> IPv4 tried); the registration held matches what the
# machine has; refusals (outside allow, spoofed MAC) exit 1 with the server's message; a server
# that is down or silent exits 1 within --timeout; then the machine sleeps and a SYN wakes it.
# Lab: tests/netns/59_proxy_lab.sh, plus:
#   machine ($NS_SL): $SL_IF 10.77.0.20 10.77.0.21 fd77::20 fd77::21 2001:db8:77::20 fd77::99 (deprecated)
#                     $SL_IF.10 (VLAN 10, or macvlan) 10.78.0.20 fd78::20; listeners :: 2222, 10.77.0.21:8080,
#                     127.0.0.1:631, [::1]:25;  /etc/hosts: proxy.test = 2001:db8:77::2 and 10.77.0.2
#   proxy  ($NS_PX):  $PX_IF also 2001:db8:77::2 (nothing listens there: registrations are on 10.77.0.2)
. "$(dirname "$0")/59_proxy_lab.sh"
HOSTS_DIR=/etc/netns/$NW_ID-sl
trap 'rc=$?; rm -rf "$HOSTS_DIR"; (exit $rc); cleanup' EXIT
proxy_lab
VL=${SL_IF}.10
ip -n "$NS_SL" addr add 10.77.0.21/24 dev "$SL_IF"
ip -n "$NS_SL" addr add fd77::21/64 dev "$SL_IF" nodad
ip -n "$NS_SL" addr add 2001:db8:77::20/64 dev "$SL_IF" nodad
ip -n "$NS_SL" addr add fd77::99/64 dev "$SL_IF" nodad preferred_lft 0
ip -n "$NS_PX" addr add 2001:db8:77::2/64 dev "$PX_IF" nodad
VL_MAC=02:77:00:00:00:21
# Each interface answers ARP only for its own addresses (no ARP flux between $SL_IF and $VL).
ip netns exec "$NS_SL" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
if ! ip -n "$NS_SL" link add link "$SL_IF" name "$VL" address $VL_MAC type vlan id 10 2>/dev/null; then
    # kernels without 802.1Q (some containers): a macvlan sub-interface plays the same part
    ip -n "$NS_SL" link add link "$SL_IF" name "$VL" address $VL_MAC type macvlan mode bridge || fail "vlan/macvlan"
    say "no 802.1Q in this kernel: $VL is a macvlan"
fi
ip -n "$NS_SL" addr add 10.78.0.20/24 dev "$VL"
ip -n "$NS_SL" addr add fd78::20/64 dev "$VL" nodad
ip -n "$NS_SL" link set "$VL" up
mkdir -p "$HOSTS_DIR"
printf '127.0.0.1 localhost\n2001:db8:77::2 proxy.test\n10.77.0.2 proxy.test\n' >"$HOSTS_DIR/hosts"
wait_for 5 ip netns exec "$NS_SL" ping -6 -c1 -W1 2001:db8:77::2 >/dev/null 2>&1 || fail "lab: no 2001:db8:77::2"
# the machine's TCP services
background pk "$NS_SL" listen 2222
listen_on() {  # listen_on ADDR PORT
    background ip netns exec "$NS_SL" "$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); time.sleep(600)' "$1" "$2"
}
listen_on 10.77.0.21 8080
listen_on 127.0.0.1 631
listen_on ::1 25
listening() { [[ $(ip netns exec "$NS_SL" ss -Hltn | wc -l) -ge 4 ]]; }
wait_for 5 listening || fail "listeners: $(ip netns exec "$NS_SL" ss -ltn)"

reg() {  # reg ARGS...: netwakectl register in the machine's namespace; sets RC OUT ERR
    ip netns exec "$NS_SL" "$NETWAKECTL" register "$@" >"$NW_TMP/out" 2>"$NW_TMP/err"
    RC=$?
    OUT=$(cat "$NW_TMP/out") ERR=$(cat "$NW_TMP/err")
}
# monitor_of JSON: "ip=port,port ..." sorted, from a Wakupator payload (or a state-file record).
monitor_of() {
    "$PYTHON" -c 'import json, sys
j = json.loads(sys.argv[1])
print(j["mac"], " ".join(sorted("%s=%s" % (m["ip"], ",".join(map(str, m.get("port", m.get("ports"))))) for m in j["monitor"])))' "$1"
}
WANT="$SL_MAC 10.77.0.20=2222 10.77.0.21=2222,8080 2001:db8:77::20=2222 fd77::20=2222 fd77::21=2222"

# --- dry runs: what would be sent
reg proxy.test --dry-run --name machine
((RC == 0)) || fail "dry run: exit $RC: $ERR"
[[ $(monitor_of "$OUT") == "$WANT" ]] || fail "dry run payload: $(monitor_of "$OUT"), expected $WANT"
grep -F '"name":"machine"' <<<"$OUT" >/dev/null || fail "dry run: no name: $OUT"
say "dry run: $(monitor_of "$OUT") (no link-local, deprecated, VLAN or loopback-only)"
reg proxy.test --dry-run --temporary
grep -F '"ip":"fd77::99"' <<<"$OUT" >/dev/null || fail "--temporary did not add the deprecated address: $OUT"
ip -n "$NS_SL" addr add fe80::20/64 dev "$SL_IF" nodad 2>/dev/null  # veths made with IPv6 off have none
reg proxy.test --dry-run --link-local
grep -F '"ip":"fe80::' <<<"$OUT" >/dev/null || fail "--link-local did not add fe80::: $OUT"
reg proxy.test --dry-run -i "$VL" --ports 22,445
[[ $(monitor_of "$OUT") == "$VL_MAC 10.78.0.20=22,445 fd78::20=22,445" ]] || fail "-i $VL: $(monitor_of "$OUT")"
reg proxy.test --dry-run --address 10.77.0.20 --ports-per-address 10.77.0.20=80,443 --mac 0:77:0:0:0:5
[[ $(monitor_of "$OUT") == "00:77:00:00:00:05 10.77.0.20=80,443" ]] || fail "--address/--ports-per-address: $(monitor_of "$OUT")"
say "dry runs: --temporary, --link-local, -i VLAN, --address, --ports-per-address, --mac"

# --- the real registration
write_conf
sed -i 's|allow: \[10.77.0.0/24\]|allow: [10.77.0.16/29]  # the machine, not the client|' "$CONF"
start_proxy
now_us; t0=$NOW_US
reg proxy.test --name machine --timeout 3s
now_us
((RC == 0)) || fail "register: exit $RC: $OUT $ERR"
[[ $OUT == "registered with 10.77.0.2:13717 ($SL_IF)" ]] || fail "register printed: $OUT"
grep -F "[2001:db8:77::2]:13717: Connection refused; trying the next address" <<<"$ERR" >/dev/null ||
    fail "the IPv6 address of proxy.test was not tried first: $ERR"
say "registered via proxy.test in $(us_to_ms $((NOW_US - t0))) ms (IPv6 refused, then IPv4)"
wait_for 3 state_is machine up || fail "machine not in status: $(status_json)"
held() {  # the registration in the state file, as monitor_of prints it
    "$PYTHON" -c 'import json, sys, glob
for f in glob.glob(sys.argv[1] + "/*"):
    try: j = json.load(open(f))
    except Exception: continue
    for r in j.get("registrations", []):
        if r["name"] == "machine": print(json.dumps(r))' "$NW_TMP/state" 2>/dev/null
}
held_nonempty() { [[ -n $(held) ]]; }
wait_for 3 held_nonempty
rec=$(held)
[[ -n $rec ]] || fail "no registration 'machine' in the state file: $(cat "$NW_TMP"/state/* 2>/dev/null | head -c 600)"
[[ $(monitor_of "$rec") == "$WANT" ]] || fail "held: $(monitor_of "$rec"), expected $WANT"
log_has "machine: registered \($SL_MAC, 10.77.0.20, 10.77.0.21, " || fail "no 'registered' log line"
say "held by netwaked: $(monitor_of "$rec")"

# --- refusals: exit 1 and the server's message
ip netns exec "$NS_CL" "$NETWAKECTL" register "$PX_IP" --ports 22 >"$NW_TMP/out" 2>"$NW_TMP/err"
RC=$? ERR=$(cat "$NW_TMP/err")
((RC == 1)) || fail "registration from outside allow: exit $RC ($ERR)"
[[ $ERR == "netwakectl register: 10.77.0.2:13717 refused the registration: "?* ]] || fail "outside allow: $ERR"
say "outside allow: exit 1: ${ERR#netwakectl register: }"
reg "$PX_IP" --mac 02:77:00:00:00:99 --address 10.77.0.20 --ports 22
((RC == 1)) || fail "spoofed MAC: exit $RC ($ERR)"
[[ $ERR == *"refused the registration: "*mac* ]] || fail "spoofed MAC: $ERR"
say "spoofed MAC: exit 1: ${ERR#netwakectl register: }"
state_is machine up || fail "a refused registration changed the held one: $(proxy_state machine)"

# --- server down: refused port, then a silent address (no ARP answer): exit 1 within --timeout
reg "$PX_IP:13799" --ports 22 --timeout 2s
{ ((RC == 1)) && [[ $ERR == *"Connection refused"* ]]; } || fail "closed port: exit $RC: $ERR"
now_us; t0=$NOW_US
reg 10.77.0.99 --ports 22 --timeout 1s
now_us
((RC == 1)) || fail "silent server: exit $RC: $ERR"
((NOW_US - t0 < 1800000)) || fail "silent server: gave up after $(us_to_ms $((NOW_US - t0))) ms (timeout 1s)"
figure silent_server_exit_ms "$(us_to_ms $((NOW_US - t0)))"
say "server down: exit 1 (refused at once; silent after $(us_to_ms $((NOW_US - t0))) ms with --timeout 1s)"

# --- bonus: the machine goes silent, is proxied, and a SYN to its service wakes it
sleeper_down
wait_for 6 state_is machine asleep || fail "machine not asleep: $(proxy_state machine)"
pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" 10.77.0.21 40000 8080 S >/dev/null
wait_for 3 hook_has wake 1 || fail "no wake after a SYN to 10.77.0.21:8080"
expect_env wake 1 NETWAKED_MAC "$SL_MAC"
expect_env wake 1 NETWAKED_DST_PORT 8080
say "asleep, then a SYN to 10.77.0.21:8080 woke it"
stop_daemon
pass
