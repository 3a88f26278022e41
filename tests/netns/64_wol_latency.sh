#!/bin/bash
# tests/netns/64_wol_latency.sh — figure packet_to_magic_ms (p50/p99, 25 wakes): client packet on
# the router's client veth -> first magic frame on its LAN veth (kernel timestamps, two captures).
#
#   client netns                router netns (ip_forward=1)                       nas netns
#   ${NW_ID}c 10.201.0.2 <-veth-> ${NW_ID}r 10.201.0.1  ${NW_ID}l 10.202.0.1 <-veth-> ${NW_ID}n (no address)
#   default via 10.201.0.1      ^ tcpdump "tcp dst port 22"  ^ tcpdump "ether proto 0x0842"
#                               FORWARD -d 10.202.0.20 tcp SYN dport 22 -> NFLOG G "nas"
#                               netwaked -C conf.yaml: nas (ethernet unicast, repeat 1, cooldown 0);
#                               after each wake `netwakectl stop nas` makes it idle for the next try
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root iptables
TRIES=${NW_WOL_TRIES:-25}
lab_two
NAS_ADDR=10.202.0.20
NAS_MAC=d8:cb:8a:39:be:a1
nas_lab "$NAS_MAC"
nas_forward
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A FORWARD -d "$NAS_ADDR" -p tcp --syn --dport 22 \
    -j NFLOG --nflog-group "$G" --nflog-prefix nas || fail "iptables rule"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
targets:
  - name: nas
    match: [ { prefix: nas } ]
    ttl: 1m
    wol:
      mac: $NAS_MAC
      interface: $LAN_IF
      method: ethernet
      ethernet_to: unicast
      repeat: 1
      cooldown: 0s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
capture_start "$NS_RTR" "$RTR_IF" "tcp dst port 22" "$NW_TMP/in.pcap"
CAP_IN=$CAP_PID
capture_start "$NS_RTR" "$LAN_IF" "ether proto 0x0842" "$NW_TMP/out.pcap"
CAP_OUT=$CAP_PID
nout() { [[ $(pcap_packets "$NW_TMP/out.pcap") -ge $1 ]]; }
# tcpdump writes its file only every ~1 s without --immediate-mode: pace the tries on the
# daemon's log instead ("nas: wake: ..." follows the first frame), read with bash builtins only
# so the polling does not compete for the CPU with what is measured; read the captures at the end.
wakes_ge() {
    local n=0 l
    while IFS= read -r l; do [[ $l == "nas: wake: "* ]] && n=$((n + 1)); done <"$DAEMON_LOG"
    ((n >= $1))
}

say "$TRIES wakes: client SYN -> magic frame -> netwakectl stop nas"
for ((i = 1; i <= TRIES; i++)); do
    pkt "$NS_CLI" tcp "$NAS_ADDR" 22 --sport $((41000 + i)) >/dev/null || fail "send failed"
    wait_for 2 wakes_ge "$i" || fail "try $i: no wake logged"
    ctl_ok stop nas
done
wait_for 3 nout "$TRIES" || fail "$(pcap_packets "$NW_TMP/out.pcap") magic frames on the LAN for $TRIES wakes"
stays_false 0.3 nout $((TRIES + 1)) || fail "more magic frames than wakes"
nin() { [[ $(pcap_packets "$NW_TMP/in.pcap") -ge $1 ]]; }
wait_for 3 nin "$TRIES" || fail "$(pcap_packets "$NW_TMP/in.pcap") SYNs in the client-side capture, expected $TRIES"
capture_stop "$CAP_IN"
capture_stop "$CAP_OUT"
[[ $(status_get 't("nas")["wakes"]') == "$TRIES" ]] || fail "status wakes $(status_get 't("nas")["wakes"]'), expected $TRIES"

# pair each SYN with the first magic frame after it
pcap_decode "$NW_TMP/in.pcap" >"$NW_TMP/in.txt"
pcap_decode "$NW_TMP/out.pcap" "$NAS_MAC" >"$NW_TMP/out.txt"
[[ $(awk '$2=="tcp"' "$NW_TMP/in.txt" | wc -l) -eq $TRIES ]] || fail "the client-side capture has $(wc -l <"$NW_TMP/in.txt") SYNs, expected $TRIES"
[[ $(awk '$2=="eth" && $3=="'"$NAS_MAC"'" && $5=="0x0842" && $7=="magic"' "$NW_TMP/out.txt" | wc -l) -eq $TRIES ]] ||
    fail "the LAN capture does not hold $TRIES magic frames to $NAS_MAC: $(head -3 "$NW_TMP/out.txt")"
"$PYTHON" - "$NW_TMP/in.txt" "$NW_TMP/out.txt" >"$NW_TMP/lat.txt" <<'PYEOF' || fail "pairing failed: $(cat "$NW_TMP/lat.txt")"
import sys
syn = [int(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1] == "tcp"]
mag = [int(l.split()[0]) for l in open(sys.argv[2]) if l.split()[1] == "eth"]
lat = []
for i, t in enumerate(syn):
    nxt = syn[i + 1] if i + 1 < len(syn) else float("inf")
    after = [m for m in mag if t <= m < nxt]
    if len(after) != 1:
        print("SYN %d at %d: %d magic frames before the next SYN" % (i + 1, t, len(after)))
        sys.exit(1)
    lat.append((after[0] - t) / 1000.0)
s = sorted(lat)
pct = lambda p: s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]
print("%.3f %.3f %.3f %.3f %d %.3f %d" % (pct(50), pct(99), s[0], s[-1], len(s), lat[0], lat.index(s[-1]) + 1))
PYEOF
read -r p50 p99 lo hi n first slowest <"$NW_TMP/lat.txt"
say "packet_to_magic over $n wakes: min $lo ms, p50 $p50 ms, p99 $p99 ms, max $hi ms (try $slowest); first try $first ms"
figure packet_to_magic_ms_p50 "$p50"
figure packet_to_magic_ms_p99 "$p99"
limit=$((LATE_LIMIT_US / 1000))
"$PYTHON" -c "import sys; sys.exit(not ($p50 < 100 and $hi < $limit))" ||
    fail "packet to magic packet: p50 $p50 ms (limit 100), max $hi ms (limit $limit)"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
