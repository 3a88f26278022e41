#!/bin/bash
# tests/netns/76_savefile_whole.sh — -w keeps whole packets (SPEC §2.2): a 1400-byte start packet is
# saved whole (captured length = wire length, tcpdump reads the full UDP length), with an NFLOG
# sensor (copy range grows from 128) and with a pcap sensor (snap length grows from 256).
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              run 1: netwaked -n G -c hook -w nflog.pcap
#                                              run 2: netwaked -i ${NW_ID}r -f "udp port 9999" -c hook -w pcap.pcap
. "$(dirname "$0")/lib.sh"
require_root iptables tcpdump
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
PAYLOAD=$(printf 'x%.0s' {1..1372})   # IP packet: 20 + 8 + 1372 = 1400 bytes

# records FILE: "caplen wirelen" per packet record of a pcap savefile (microsecond, native order)
records() {
    "$PYTHON" - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
end = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack(end + "IIII", d[off:off + 16])
    print(incl, orig)
    off += 16 + incl
PY
}

n=0
for run in nflog pcap; do
    file=$NW_TMP/$run.pcap
    if [[ $run == nflog ]]; then args=(-n "$G"); min=1400; else args=(-i "$RTR_IF" -f "udp port 9999"); min=1414; fi
    start_daemon "$NS_RTR" "${args[@]}" -c "$NW_TMP/hook" -t 30 -w "$file"
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 41001 --payload "$PAYLOAD" >/dev/null || fail "send failed"
    n=$((n + 1))
    wait_for 2 hook_has start "$n" || fail "$run: no start"
    wait_for 2 capture_has "$file" '41001 > 10\.201\.0\.1\.9999: UDP, length 1372' ||
        fail "$run: savefile lacks the 1372-byte datagram: $(capture_read "$file" -nn 2>&1 | head -2)"
    read -r incl orig < <(records "$file")
    say "$run: saved $incl of $orig bytes; $(capture_read "$file" -nn | head -1)"
    ((orig >= min)) || fail "$run: wire length $orig, expected at least $min"
    ((incl == orig)) || fail "$run: the savefile kept $incl of the packet's $orig bytes"
    capture_read "$file" -nn -x | grep -q '\[|' && fail "$run: tcpdump reports a truncated packet"
    stop_daemon
    [[ $DAEMON_STATUS -eq 0 ]] || fail "$run: exit status $DAEMON_STATUS"
done
pass
