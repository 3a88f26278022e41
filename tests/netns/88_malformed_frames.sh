#!/bin/bash
# tests/netns/88_malformed_frames.sh — fault: malformed frames at a high rate, on the wire to the pcap
# interface (random garbage, truncated/bad IPv4, IPv6, VLAN, ARP, TCP/UDP headers) and through the
# NFLOG rule (what the kernel lets through: valid IP headers with broken L4 / IPv6 extension
# headers, and datagrams cut by copy_range). The daemon survives, its malformed and truncated
# counters grow, memory stays bounded, and a good datagram afterwards still starts the targets.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24 (IPv6 on: fd88::1/64)
#   AF_PACKET frames (Python)                  raw PREROUTING -i ${NW_ID}r -> NFLOG group G
#                                              netwaked -C conf.yaml: pcap on ${NW_ID}r (no
#                                              filter) -> target viapcap; NFLOG G (copy_range
#                                              96) -> target vianflog; both: udp dport 9999
. "$(dirname "$0")/lib.sh"
require_root iptables ip6tables
lab_two
G=$(nflog_group)
for ns in "$NS_RTR" "$NS_CLI"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
done
ip -n "$NS_RTR" addr add fd88::1/64 dev "$RTR_IF" nodad
ip -n "$NS_CLI" addr add fd88::2/64 dev "$CLI_IF" nodad
ip netns exec "$NS_RTR" iptables -t raw -A PREROUTING -i "$RTR_IF" -j NFLOG --nflog-group "$G" || fail "iptables raw rule"
ip netns exec "$NS_RTR" ip6tables -t raw -A PREROUTING -i "$RTR_IF" -j NFLOG --nflog-group "$G" || fail "ip6tables raw rule"
RTR_MAC=$(ip netns exec "$NS_RTR" cat "/sys/class/net/$RTR_IF/address")
CLI_MAC=$(ip netns exec "$NS_CLI" cat "/sys/class/net/$CLI_IF/address")
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 88_malformed_frames
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: lan
    pcap: { interface: $RTR_IF }
  - name: fw
    nflog: { group: $G, copy_range: 96 }
defaults:
  ttl: 1h
  hook: $NW_TMP/hook
targets:
  - name: viapcap
    sensors: [lan]
    match: [ { proto: udp, dst_port: 9999 } ]
  - name: vianflog
    sensors: [fw]
    match: [ { proto: udp, dst_port: 9999 } ]
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
wait_for 5 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" || fail "pcap handle not open"
rss_kb() { awk '$1=="VmRSS:"{print $2}' "/proc/$1/status" 2>/dev/null; }
if grep -aqE '__(asan|tsan)_init' "$NETWAKED"; then RSS_LIMIT=${NW_RSS_LIMIT_KB:-400000}; else RSS_LIMIT=${NW_RSS_LIMIT_KB:-20480}; fi
# counter SENSOR FIELD
counter() { status_get "[x for x in s['sensors'] if x['name'] == '$1'][0]['$2']"; }
RSS0=$(rss_kb "$DAEMON_PID")

cat >"$NW_TMP/badframes.py" <<'EOF'
# badframes.py (88_malformed_frames): malformed frames on an AF_PACKET socket, as fast as it can.
#   badframes.py IFACE DSTMAC SRCMAC COUNT SEED -> prints "sent N kinds {...} seconds S"
import random, socket, struct, sys, time
ifn, dmac, smac, count, seed = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), \
    bytes.fromhex(sys.argv[3].replace(":", "")), int(sys.argv[4]), int(sys.argv[5])
r = random.Random(seed)
SRC4, DST4 = socket.inet_aton("10.201.0.2"), socket.inet_aton("10.201.0.1")
SRC6, DST6 = socket.inet_pton(socket.AF_INET6, "fd88::2"), socket.inet_pton(socket.AF_INET6, "fd88::1")
def rb(n): return bytes(r.getrandbits(8) for _ in range(n))
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def eth(t, p, d=dmac): return d + smac + struct.pack("!H", t) + p
def ip4(proto, l4, ihl=5, tot=None, ver=4, good_csum=True):
    tot = 20 + len(l4) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", ver << 4 | ihl, 0, tot & 0xffff, r.getrandbits(16), 0, 64, proto, 0, SRC4, DST4)
    if good_csum: h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4
def ip6(nh, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, plen & 0xffff, nh, 64) + SRC6 + DST6 + payload

# --- kinds that only the pcap sensor sees (the kernel drops them before netfilter)
def garbage(): return eth(r.getrandbits(16), rb(r.randrange(0, 200)), d=rb(6))
def ip4_short(): return eth(0x0800, rb(r.randrange(0, 20)))
def ip4_bad_ihl(): return eth(0x0800, ip4(17, rb(12), ihl=r.randrange(0, 5)))
def ip4_bad_tot(): return eth(0x0800, ip4(r.choice([6, 17, 1]), rb(r.randrange(0, 30)), tot=r.choice([0, 5, 19, 1500, 65535])))
def ip4_bad_ver(): return eth(0x0800, ip4(17, rb(8), ver=r.choice([0, 5, 6, 15])))
def ip4_opts(): return eth(0x0800, ip4(17, rb(r.randrange(0, 40)), ihl=r.randrange(6, 16)))
def ip6_short(): return eth(0x86dd, rb(r.randrange(0, 40)))
def ip6_bad_plen(): return eth(0x86dd, ip6(r.choice([6, 17, 0, 43, 44, 60]), rb(r.randrange(0, 30)), plen=r.choice([0xffff, 1000, 200])))
def vlan_deep(): return eth(0x8100, b"".join(struct.pack("!HH", r.getrandbits(12), r.choice([0x8100, 0x88a8])) for _ in range(r.randrange(1, 12))) + rb(r.randrange(0, 30)))
def vlan_short(): return eth(r.choice([0x8100, 0x88a8]), rb(r.randrange(0, 4)))
def arp_short(): return eth(0x0806, rb(r.randrange(0, 28)))
# --- kinds that pass the kernel's IP checks and reach the NFLOG rule too (valid IP headers)
def udp_trunc(): return eth(0x0800, ip4(17, rb(r.randrange(0, 8))))
def tcp_trunc(): return eth(0x0800, ip4(6, rb(r.randrange(0, 20))))
def tcp_bad_doff():
    doff = r.choice([0, 1, 4, 15])
    return eth(0x0800, ip4(6, struct.pack("!HHIIBBHHH", 1234, 9999, 1, 0, doff << 4, 2, 1024, 0, 0) + rb(r.randrange(0, 8))))
def icmp_trunc(): return eth(0x0800, ip4(1, rb(r.randrange(0, 4))))
def ip4_frag_tiny(): return eth(0x0800, ip4(17, rb(r.randrange(0, 8)))[:6] + struct.pack("!H", 0x2000 | r.randrange(0, 8)) + ip4(17, rb(r.randrange(0, 8)))[8:])
def ip6_ext_overrun():   # destination options header whose length runs past the end
    return eth(0x86dd, ip6(60, bytes([r.choice([6, 17, 60]), r.randrange(1, 255)]) + rb(r.randrange(0, 20))))
def ip6_ext_chain():     # a long chain of extension headers, then truncated L4
    body = b""
    n = r.randrange(1, 40)
    for i in range(n):
        body += bytes([60 if i < n - 1 else r.choice([6, 17, 58]), 0]) + rb(6)
    return eth(0x86dd, ip6(60, body + rb(r.randrange(0, 6))))
def ip6_frag_tiny(): return eth(0x86dd, ip6(44, bytes([17, 0]) + struct.pack("!HI", r.randrange(0, 65535) & 0xfff9, 1) + rb(r.randrange(0, 6))))
def ip6_udp_trunc(): return eth(0x86dd, ip6(17, rb(r.randrange(0, 8))))
def long_udp():          # valid, but longer than copy_range 96: cut short by NFLOG
    l4 = struct.pack("!HHHH", 40000, 9998, 8 + 600, 0) + rb(600)
    return eth(0x0800, ip4(17, l4))

kinds = [garbage, ip4_short, ip4_bad_ihl, ip4_bad_tot, ip4_bad_ver, ip4_opts, ip6_short, ip6_bad_plen,
         vlan_deep, vlan_short, arp_short, udp_trunc, tcp_trunc, tcp_bad_doff, icmp_trunc, ip4_frag_tiny,
         ip6_ext_overrun, ip6_ext_chain, ip6_frag_tiny, ip6_udp_trunc, long_udp]
pool = []
for k in kinds:
    for _ in range(64):
        f = k()
        if len(f) < 14: f += b"\0" * (14 - len(f))
        pool.append((k.__name__, f))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifn, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
sent, per = 0, {}
t0 = time.monotonic()
for i in range(count):
    name, f = pool[r.randrange(len(pool))]
    try:
        s.send(f)
    except OSError:
        continue
    sent += 1
    per[name] = per.get(name, 0) + 1
dt = time.monotonic() - t0
print("sent", sent, "pps", int(sent / max(dt, 1e-6)), "seconds", "%.2f" % dt)
EOF

# --- the flood (three senders in parallel, different seeds)
N=${NW_BAD_FRAMES:-40000}
pk0=$(counter lan packets) nf0=$(counter fw packets)
for seed in 1 2 3; do
    ip netns exec "$NS_CLI" "$PYTHON" "$NW_TMP/badframes.py" "$CLI_IF" "$RTR_MAC" "$CLI_MAC" "$N" "$seed" >"$NW_TMP/bad.$seed" 2>&1 &
    NW_BGPIDS+=("$!")
done
wait "${NW_BGPIDS[@]}" 2>/dev/null
for seed in 1 2 3; do say "sender $seed: $(cat "$NW_TMP/bad.$seed")"; done
pid_alive "$DAEMON_PID" || fail "netwaked died in the flood of malformed frames"
sum_pps=$(awk '{s += $4} END{print s + 0}' "$NW_TMP"/bad.[123])
figure bad_frames_pps "$sum_pps"
# the sensors have caught up when the pcap packet count stops moving (200 ms apart)
LAST_P=-1
caught_up() {
    local p
    p=$(counter lan packets) || return 1
    [[ $p == "$LAST_P" ]] && return 0
    LAST_P=$p
    sleep 0.2
    return 1
}
wait_for 10 caught_up || fail "the status counters never settled after the flood"
ctl_ok status --json
for x in lan fw; do
    say "sensor $x: packets $(($(counter $x packets))) malformed $(counter $x malformed) truncated $(counter $x truncated) drops $(counter $x drops) queue_full $(counter $x queue_full)"
done
say "counters: $(status_get 's["counters"]')"
(($(counter lan packets) - pk0 > 0)) || fail "the pcap sensor saw none of the frames"
(($(counter lan malformed) > 0)) || fail "pcap sensor: malformed counter did not grow"
(($(counter lan truncated) > 0)) || fail "pcap sensor: truncated counter did not grow"
(($(counter fw packets) - nf0 > 0)) || fail "the NFLOG sensor saw none of the frames"
(($(counter fw malformed) + $(counter fw truncated) > 0)) || fail "NFLOG sensor: neither malformed nor truncated grew"
(($(counter fw truncated) > 0)) || fail "NFLOG sensor: truncated did not grow (datagrams longer than copy_range 96)"
[[ $(status_get 's["counters"]["malformed"]') -ge $(($(counter lan malformed) + $(counter fw malformed))) ]] ||
    fail "counters.malformed is not the sum of the sensors'"
[[ $(status_get 't("viapcap")["state"]') == idle && $(status_get 't("vianflog")["state"]') == idle ]] ||
    fail "a malformed frame started a target: $(hook_seq)"
[[ $(hook_count start) == 0 ]] || fail "malformed frames ran hooks: $(hook_seq)"
RSS1=$(rss_kb "$DAEMON_PID")
figure vmrss_kb "$RSS1"
say "VmRSS $RSS0 kB before, $RSS1 kB after"
((RSS1 < RSS_LIMIT)) || fail "VmRSS $RSS1 kB after the flood (limit $RSS_LIMIT kB)"

# --- a good datagram afterwards still starts both targets
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 3 hook_has_t start viapcap 1 || fail "a good datagram after the flood did not start viapcap (pcap)"
wait_for 3 hook_has_t start vianflog 1 || fail "a good datagram after the flood did not start vianflog (NFLOG)"
expect_env_t start viapcap 1 NETWAKED_DST_PORT 9999
expect_env_t start vianflog 1 NETWAKED_DST_PORT 9999
say "a good datagram afterwards started both targets"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
