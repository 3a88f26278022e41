#!/bin/bash
# tests/data/capture.sh — regenerates tests/data/*.pcap: real frames sent by the kernel, captured
# with tcpdump inside throw-away network namespaces. Root only; sends nothing outside its namespaces.
#
#   ns A (va 02:00:00:00:00:01, 10.0.0.1/24, fd00::1/64)  <-veth->  ns B (vb 02:00:00:00:00:02, 10.0.0.2/24, fd00::2/64)
# This kernel has no 8021q support (`ip link add ... type vlan` fails), so the VLAN and QinQ
# frames are real kernel frames from the captures above with tags inserted, injected on va
# with AF_PACKET and captured on vb (through the kernel's receive-side untagging and
# libpcap's tag reinsertion).
#        tun0 in A (raw IP, 10.9.0.1 peer 10.9.0.2), kept open by a python reader
#
# Usage: tests/data/capture.sh [OUTDIR]   (default: the directory of this script)
set -euo pipefail
OUT=$(cd "${1:-$(dirname "$0")}" && pwd)
A=nwpkA$$
B=nwpkB$$
TMP=$(mktemp -d)
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" link set va address 02:00:00:00:00:01
ip -n "$B" link set vb address 02:00:00:00:00:02
for ns in "$A" "$B"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
# Checksum offload off: captured TCP/UDP checksums are then complete, not partial.
inA ethtool -K va tx off rx off >/dev/null
inB ethtool -K vb tx off rx off >/dev/null
ip -n "$A" addr add 10.0.0.1/24 dev va
ip -n "$B" addr add 10.0.0.2/24 dev vb
ip -n "$A" addr add fd00::1/64 dev va nodad
ip -n "$B" addr add fd00::2/64 dev vb nodad
ip -n "$A" link set va up
ip -n "$B" link set vb up
sleep 1

# cap NS IFACE FILE COUNT [tcpdump args...] FILTER — starts tcpdump in the background, waits until it listens.
cap() {
    local ns=$1 ifc=$2 file=$3 n=$4
    shift 4
    : >"$TMP/err"
    ip netns exec "$ns" timeout 15 tcpdump -Z root -i "$ifc" -U -s 0 -c "$n" -w "$OUT/$file" "$@" 2>"$TMP/err" &
    CAP=$!
    for _ in $(seq 100); do grep -q listening "$TMP/err" && return 0; sleep 0.05; done
    echo "tcpdump did not start: $(cat "$TMP/err")" >&2
    return 1
}
done_cap() {
    wait "$CAP" || { echo "capture $1 failed" >&2; exit 1; }
    echo "captured $1"
}
flush() { ip -n "$A" neigh flush all; ip -n "$B" neigh flush all; }

# A one-connection TCP listener in B on port 22 (v4 and v6).
listen_b() {
    inB python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 22)); s.listen()
c, _ = s.accept(); c.close()' &
    sleep 0.5
}

# ARP request + reply, then the IPv4 echo over the resolved neighbor.
flush
cap "$B" vb eth_arp.pcap 2 arp
inA ping -c1 -W1 10.0.0.2 >/dev/null
done_cap eth_arp.pcap

cap "$B" vb eth_icmp4_echo.pcap 2 icmp
inA ping -c1 -W1 10.0.0.2 >/dev/null
done_cap eth_icmp4_echo.pcap

# Neighbor solicitation + advertisement (the kernel's own ND), then the IPv6 echo.
flush
cap "$B" vb eth_ndp.pcap 2 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)'
inA ping -6 -c1 -W1 fd00::2 >/dev/null
done_cap eth_ndp.pcap

cap "$B" vb eth_icmp6_echo.pcap 2 'icmp6 and (ip6[40] == 128 or ip6[40] == 129)'
inA ping -6 -c1 -W1 fd00::2 >/dev/null
done_cap eth_icmp6_echo.pcap

# TCP handshake and TCP RST, v4 and v6.
listen_b
cap "$B" vb eth_tcp4_handshake.pcap 3 'tcp port 22'
inA bash -c 'exec 3<>/dev/tcp/10.0.0.2/22; sleep 0.3'
done_cap eth_tcp4_handshake.pcap
wait
cap "$B" vb eth_tcp4_rst.pcap 2 'tcp port 9'
inA bash -c 'exec 3<>/dev/tcp/10.0.0.2/9' 2>/dev/null || true
done_cap eth_tcp4_rst.pcap

listen_b
cap "$B" vb eth_tcp6_handshake.pcap 3 'tcp port 22'
inA bash -c 'exec 3<>/dev/tcp/fd00::2/22; sleep 0.3'
done_cap eth_tcp6_handshake.pcap
wait
cap "$B" vb eth_tcp6_rst.pcap 2 'tcp port 9'
inA bash -c 'exec 3<>/dev/tcp/fd00::2/9' 2>/dev/null || true
done_cap eth_tcp6_rst.pcap

# UDP v4 and v6 (one datagram each, "hello\n").
cap "$B" vb eth_udp4.pcap 1 'udp port 5353'
inA bash -c 'echo hello >/dev/udp/10.0.0.2/5353'
done_cap eth_udp4.pcap
cap "$B" vb eth_udp6.pcap 1 'udp port 5353'
inA bash -c 'echo hello >/dev/udp/fd00::2/5353'
done_cap eth_udp6.pcap

# IPv4 with options: ping -R (record route, IHL 15).
cap "$B" vb eth_ipv4_rr.pcap 1 'icmp[icmptype] == icmp-echo'
inA ping -R -c1 -W1 10.0.0.2 >/dev/null
done_cap eth_ipv4_rr.pcap

# IPv4 and IPv6 fragments (echo request of 2000 bytes over a 1500 MTU: two fragments each).
cap "$B" vb eth_ipv4_frag.pcap 2 'ip and src 10.0.0.1 and (icmp or ip[6:2] & 0x1fff != 0)'
inA ping -c1 -W1 -s 2000 10.0.0.2 >/dev/null
done_cap eth_ipv4_frag.pcap
cap "$B" vb eth_ipv6_frag.pcap 2 'ip6 and src fd00::1 and ip6[6] == 44'
inA ping -6 -c1 -W1 -s 2000 fd00::2 >/dev/null
done_cap eth_ipv6_frag.pcap

# IPv6 extension headers: hop-by-hop + destination options set on a UDP socket (the kernel
# builds them); routing (type 253, segments left 0), AH and ESP headers written by hand
# after the kernel's IPv6 header with raw sockets (this kernel has no AH/ESP for xfrm).
cap "$B" vb eth_ipv6_ext.pcap 4 'ip6 and dst fd00::2 and not icmp6 and not tcp'
inA python3 -c '
import socket, struct, time
pad = bytes([0, 0, 1, 4, 0, 0, 0, 0])  # next header + len (filled by kernel), PadN of 4 bytes
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, pad)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, pad)
u.sendto(b"hbh+dst", ("fd00::2", 7777))
def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
def raw(proto, payload):
    r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto)
    r.sendto(payload, ("fd00::2", 0))
    time.sleep(0.1)
time.sleep(0.1)
raw(43, bytes([17, 0, 253, 0, 0, 0, 0, 0]) + udp(1000, 7778, b"rthdr"))
raw(51, bytes([17, 4, 0, 0]) + struct.pack("!II", 0x100, 1) + bytes(range(12)) + udp(1001, 7779, b"ah"))
raw(50, struct.pack("!II", 0x200, 1) + bytes(range(32)))'
done_cap eth_ipv6_ext.pcap

# MLD report (hop-by-hop router alert) and DAD neighbor solicitation (from ::) for a new address.
inB sysctl -qw net.ipv6.conf.vb.accept_dad=1
cap "$A" va eth_mld.pcap 1 'ip6 and ip6[6] == 0'
MLD=$CAP
cap "$A" va eth_ndp_dad.pcap 1 'src host :: and icmp6 and ip6[40] == 135'
ip -n "$B" addr add fd00::99/64 dev vb
done_cap eth_ndp_dad.pcap
CAP=$MLD
done_cap eth_mld.pcap

# 802.1Q vlan 5 (the v4 echo request and the v6 SYN from above) and QinQ (802.1ad 100 outer,
# 802.1Q 7 inner; the v4 echo request), injected on va as explained at the top.
inject() { # inject PCAP INDEX TAGS... (each tag TPID:VID)
    inA python3 - "$OUT/$1" "$2" "${@:3}" <<'PY'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
off, frames = 24, []
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    frames.append(data[off + 16:off + 16 + incl]); off += 16 + incl
f = frames[int(sys.argv[2])]
tags = b"".join(struct.pack("!HH", int(t.split(":")[0], 16), int(t.split(":")[1])) for t in sys.argv[3:])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("va", 0))
s.send(f[:12] + tags + f[12:])
PY
}
cap "$B" vb eth_vlan.pcap 2 'vlan'
inject eth_icmp4_echo.pcap 0 8100:5
inject eth_tcp6_rst.pcap 0 8100:5
done_cap eth_vlan.pcap
cap "$B" vb eth_qinq.pcap 1 'vlan'
inject eth_icmp4_echo.pcap 0 88a8:100 8100:7
done_cap eth_qinq.pcap

# Linux cooked captures on "any": v1 (SLL) and v2 (SLL2); an outgoing echo request + its reply.
cap "$A" any sll_icmp4.pcap 2 -y LINUX_SLL 'icmp and host 10.0.0.2'
inA ping -c1 -W1 10.0.0.2 >/dev/null
done_cap sll_icmp4.pcap
cap "$A" any sll2_tcp6.pcap 2 -y LINUX_SLL2 'tcp and host fd00::2'
inA bash -c 'exec 3<>/dev/tcp/fd00::2/9' 2>/dev/null || true
done_cap sll2_tcp6.pcap

# Raw IP (LINKTYPE_RAW) from a tun device kept up by a reader.
inA python3 -c '
import fcntl, os, struct, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tun0", 0x0001 | 0x1000))  # TUNSETIFF IFF_TUN|IFF_NO_PI
time.sleep(6)' &
sleep 0.5
ip -n "$A" link set tun0 up
ip -n "$A" addr add 10.9.0.1 peer 10.9.0.2 dev tun0
ip -n "$A" addr add fd09::1 peer fd09::2 dev tun0 nodad
sleep 0.3
cap "$A" tun0 raw_ip.pcap 2 'udp port 9999'
inA bash -c 'echo raw4 >/dev/udp/10.9.0.2/9999; echo raw6 >/dev/udp/fd09::2/9999'
done_cap raw_ip.pcap

ls -l "$OUT"/*.pcap
