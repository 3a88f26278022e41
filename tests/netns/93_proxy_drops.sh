#!/bin/bash
# tests/netns/93_proxy_drops.sh — frames the kernel drops on the sleep proxy's packet socket
# (its receive queue full) are read with PACKET_STATISTICS and counted in `netwakectl status`
# (counters.dropped), so a lost probe answer is visible (issue 12: a probe round whose answers may
# have been dropped is not silence; the decision itself is unit-tested in proxy_drops.cc).
# Netwaked is stopped (SIGSTOP) while the client floods ARP, so its queue overflows.
# Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NO_TARGETS=1 write_conf
start_proxy
dropped() { status_json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["counters"]["dropped"])'; }
[[ $(dropped) == 0 ]] || fail "dropped is $(dropped) before the flood"

kill -STOP "$DAEMON_PID"
ip netns exec "$NS_CL" "$PYTHON" - "$CL_IF" "$CL_MAC" <<'PY' || { kill -CONT "$DAEMON_PID"; fail "flood"; }
# 4000 broadcast ARP requests (the proxy's filter always passes ARP) for an unused address.
import socket, struct, sys
ifn, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifn, 0))
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton("10.77.0.30"), b"\0" * 6,
                  socket.inet_aton("10.77.0.99"))
f = b"\xff" * 6 + mac + b"\x08\x06" + arp
for _ in range(4000):
    s.send(f)
PY
kill -CONT "$DAEMON_PID"
nonzero() { local d; d=$(dropped); [[ -n $d && $d -gt 0 ]]; }
wait_for 5 nonzero || fail "status shows no drops after the flood (counters.dropped = $(dropped))"
figure proxy_dropped "$(dropped)"
"$NETWAKECTL" -s "$CTL" status | grep -E "^counters: .*dropped [1-9]" >/dev/null || fail "netwakectl status: no dropped count"
pid_alive "$DAEMON_PID" || fail "netwaked died"
stop_daemon
pass
