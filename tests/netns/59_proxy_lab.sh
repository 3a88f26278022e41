#!/bin/bash
# tests/netns/59_proxy_lab.sh — the sleep-proxy lab, sourced by tests/netns/4[5-9]_*.sh,
# 5[0-8]_*.sh and 9[1-3]_*.sh; run on its own it is a smoke test of the lab (namespaces, bridge,
# daemon up, nft table gone at exit).
# Creates only namespaces named $NW_ID-*; removes them (and everything in them) at exit.
#
#   proxy netns ($NW_ID-px)     sleeper netns ($NW_ID-sl)    client netns ($NW_ID-cl)
#   $PX_IF 10.77.0.2/24         $SL_IF 10.77.0.20/24         $CL_IF 10.77.0.30/24
#          fd77::2/64                  fd77::20/64                  fd77::30/64
#          02:77:00:00:00:02           02:77:00:00:00:20            02:77:00:00:00:30
#   netwaked -C $NW_TMP/conf    listener on :2222            tcpdump, pk.py
#          \                           |                           /
#           +----------- bridge br0 in switch netns ($NW_ID-sw) --+
#
# Helpers: proxy_lab, write_conf, start_proxy, pk (python packet/socket tool in a namespace),
# reg_send, held_in_nft, proxy_state NAME, cap_* (tcpdump on the proxy's port).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then NW_PROXY_LAB_SELFTEST=1; fi
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS_PX=$NW_ID-px NS_SL=$NW_ID-sl NS_CL=$NW_ID-cl NS_SW=$NW_ID-sw
PX_IF=${NW_ID}p SL_IF=${NW_ID}s CL_IF=${NW_ID}c
PX_IP=10.77.0.2 SL_IP=10.77.0.20 CL_IP=10.77.0.30
PX_IP6=fd77::2 SL_IP6=fd77::20 CL_IP6=fd77::30
PX_MAC=02:77:00:00:00:02 SL_MAC=02:77:00:00:00:20 CL_MAC=02:77:00:00:00:30
CONF=$NW_TMP/netwaked.yaml
CTL=$NW_TMP/ctl.sock
PK=$NW_TMP/pk.py
NETWAKECTL=${NETWAKECTL:-$BUILD/netwakectl}

# lab_port NS IF MAC ADDR4 ADDR6: one namespace on the bridge.
lab_port() {
    local ns=$1 ifn=$2 mac=$3 a4=$4 a6=$5 peer=${2}b
    netns_add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    ip link add "$ifn" netns "$ns" address "$mac" type veth peer name "$peer" netns "$NS_SW" || fail "veth $ifn"
    ip -n "$NS_SW" link set "$peer" master br0 up
    ip -n "$ns" addr add "$a4/24" dev "$ifn"
    ip -n "$ns" addr add "$a6/64" dev "$ifn" nodad
    ip -n "$ns" link set "$ifn" up
}

proxy_lab() {
    require_root nft
    netns_add "$NS_SW"
    ip -n "$NS_SW" link add br0 type bridge mcast_snooping 0 forward_delay 0 || fail "bridge"
    ip -n "$NS_SW" link set br0 up
    lab_port "$NS_PX" "$PX_IF" "$PX_MAC" "$PX_IP" "$PX_IP6"
    lab_port "$NS_SL" "$SL_IF" "$SL_MAC" "$SL_IP" "$SL_IP6"
    lab_port "$NS_CL" "$CL_IF" "$CL_MAC" "$CL_IP" "$CL_IP6"
    # The proxy host routes (the case where a careless proxy sends held traffic back out).
    ip netns exec "$NS_PX" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    wait_for 5 ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1 || fail "lab: client cannot reach the sleeper"
    wait_for 5 ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP6" >/dev/null 2>&1 || fail "lab: no IPv6 to the sleeper"
    ip netns exec "$NS_SL" ping -c1 -W1 "$PX_IP" >/dev/null 2>&1 || fail "lab: sleeper cannot reach the proxy"
    write_pk
}

# write_conf [TARGETS_YAML]: the daemon's configuration (registration on; extra targets appended;
# NO_TARGETS=1 without TARGETS_YAML: `targets: []`, registered machines only).
write_conf() {
    make_hook "$NW_TMP/hook"
    cat >"$CONF" <<EOF
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL
  pidfile: ""
sensors:
  - name: lan
    pcap: { interface: $PX_IF, filter: "udp port 9" }
defaults:
  hook: $NW_TMP/hook
$(if [[ ${NO_TARGETS:-} == 1 ]]; then echo "targets: []  # registered machines only"; else
    printf 'targets:\n  - name: dummy\n    match: [ { proto: udp, dst_port: 9 } ]\n'; fi)
${1:-}
register:
  listen: $PX_IP:13717
  interface: $PX_IF
  allow: [10.77.0.0/24]
  sleep_proxy: { probe_interval: ${PROBE:-500ms}, probe_misses: 3, shutdown_timeout: ${SHUTDOWN:-10m}, wake_attempts: ${ATTEMPTS:-3}, wake_interval: ${WAKE_INTERVAL:-5s}, keep: ${KEEP:-true} }
  wol: { interface: $PX_IF, repeat: 3, interval: 200ms }
EOF
}

# The sleeper as a config target (instead of registering).
sleeper_target_yaml() {
    cat <<EOF
  - name: nas
    wol: { mac: "$SL_MAC", interface: $PX_IF, repeat: 3, interval: 200ms, cooldown: ${COOLDOWN:-30s} }
    sleep_proxy:
      addresses: [$SL_IP, "$SL_IP6"]
      ports: [2222]
      probe_interval: ${PROBE:-500ms}
      probe_misses: 3
      wake_attempts: ${ATTEMPTS:-3}
      wake_interval: ${WAKE_INTERVAL:-5s}
      keep: ${KEEP:-true}
EOF
}

proxy_listening() { ip netns exec "$NS_PX" ss -ltn 2>/dev/null | grep "$PX_IP:13717" >/dev/null; }
start_proxy() {
    NW_NOWAIT=1 start_daemon "$NS_PX" -C "$CONF" "$@"
    wait_for 5 proxy_listening || fail "netwaked does not listen for registrations"
    wait_for 5 log_has "sleep proxy: listening on $PX_IF" || fail "no packet socket on $PX_IF"
}

# pk NS ARGS...: the python tool (see write_pk) inside NS.
pk() {
    local ns=$1
    shift
    ip netns exec "$ns" "$PYTHON" "$PK" "$@"
}

# reg_send NS PAYLOAD [SPLIT]: send a registration from NS; prints the answer (repr).
reg_send() { pk "$1" register "$PX_IP" 13717 "$2" "${3:-0}"; }
wakupator_payload() {
    printf '{"mac": "%s", "name": "%s", "monitor": [{"ip": "%s", "port": [2222]}, {"ip": "%s", "port": [2222, 22]}]}' \
        "${1:-$SL_MAC}" "${2:-Tartiflette}" "${3:-$SL_IP}" "${4:-$SL_IP6}"
}

status_json() { "$NETWAKECTL" -s "$CTL" status --json 2>/dev/null; }
# proxy_state NAME: the sleep-proxy state of NAME in `netwakectl status --json` ("" if none).
proxy_state() {
    status_json | "$PYTHON" -c '
import json, sys
st = json.load(sys.stdin)
for t in st.get("targets", []):
    if t["name"] == sys.argv[1] and t.get("proxy"):
        print(t["proxy"]["state"], " ".join(t["proxy"]["addresses"]))' "$1"
}
state_is() { [[ $(proxy_state "$1") == "$2"* ]]; }
held_in_nft() { ip netns exec "$NS_PX" nft list set inet netwaked "$1" 2>/dev/null | grep -- "$2" >/dev/null; }  # not -q: pipefail + SIGPIPE
nft_table() { ip netns exec "$NS_PX" nft list table inet netwaked >/dev/null 2>&1; }
sleeper_down() { ip -n "$NS_SL" link set "$SL_IF" down; }
sleeper_up() { ip -n "$NS_SL" link set "$SL_IF" up; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# write_pk: tests' packet and socket tool (raw Ethernet frames via AF_PACKET; TCP clients).
write_pk() {
    cat >"$PK" <<'EOF'
# pk.py — test helper for the sleep-proxy scenarios: crafted Ethernet frames (AF_PACKET) and
# TCP registration/connection clients. Prints "sent <unix-us>" / results on stdout.
import socket, struct, sys, time

def now_us(): return time.time_ns() // 1000
def mac(s): return bytes.fromhex(s.replace(":", ""))
def a4(s): return socket.inet_aton(s)
def a6(s): return socket.inet_pton(socket.AF_INET6, s)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
FL = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
def tcp(src, dst, sp, dp, flags, pseudo):
    bits = sum(FL[c] for c in flags)
    h = struct.pack("!HHIIBBHHH", sp, dp, 1000, 1 if bits & 16 else 0, 5 << 4, bits, 64240, 0, 0)
    c = csum(pseudo(len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]
def ip4(src, dst, proto, l4, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(l4), 1, 0x4000, 64, proto, 0, a4(src), a4(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4
def p4(src, dst, proto): return lambda n: a4(src) + a4(dst) + struct.pack("!BBH", 0, proto, n)
def p6(src, dst, proto): return lambda n: a6(src) + a6(dst) + struct.pack("!IBBBB", n, 0, 0, 0, proto)
def ip6(src, dst, nh, payload, hop=255): return struct.pack("!IHBB", 0x60000000, len(payload), nh, hop) + a6(src) + a6(dst) + payload
def eth(d, s, t, p): return mac(d) + mac(s) + struct.pack("!H", t) + p
def send(ifn, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifn, 0))
    print("sent", now_us(), flush=True)
    s.send(frame)

def frame(kind, a):
    if kind in ("tcp4", "tcp4opt"):   # SRCMAC DSTMAC SRC DST SPORT DPORT FLAGS
        sm, dm, s, d, sp, dp, fl = a
        opts = b"\x01\x01\x01\x00" if kind == "tcp4opt" else b""
        return eth(dm, sm, 0x0800, ip4(s, d, 6, tcp(s, d, int(sp), int(dp), fl, p4(s, d, 6)), opts))
    if kind in ("tcp6", "tcp6ext"):   # same; tcp6ext adds hop-by-hop + destination options headers
        sm, dm, s, d, sp, dp, fl = a
        seg = tcp(s, d, int(sp), int(dp), fl, p6(s, d, 6))
        if kind == "tcp6":
            return eth(dm, sm, 0x86dd, ip6(s, d, 6, seg, 64))
        ext = struct.pack("!BB6s", 60, 0, b"\x01\x04\0\0\0\0") + struct.pack("!BB6s", 6, 0, b"\x01\x04\0\0\0\0")
        return eth(dm, sm, 0x86dd, ip6(s, d, 0, ext + seg, 64))
    if kind == "udp4":                # SRCMAC DSTMAC SRC DST SPORT DPORT
        sm, dm, s, d, sp, dp = a
        u = struct.pack("!HHHH", int(sp), int(dp), 10, 0) + b"nw"
        u = u[:6] + struct.pack("!H", csum(p4(s, d, 17)(len(u)) + u)) + u[8:]
        return eth(dm, sm, 0x0800, ip4(s, d, 17, u))
    if kind == "icmp4":               # SRCMAC DSTMAC SRC DST
        sm, dm, s, d = a
        i = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"nw"
        i = i[:2] + struct.pack("!H", csum(i)) + i[4:]
        return eth(dm, sm, 0x0800, ip4(s, d, 1, i))
    if kind in ("arpprobe", "arpreq", "garp"):  # SRCMAC TARGET [SENDER]
        sm, t = a[0], a[1]
        spa = {"arpprobe": "0.0.0.0", "garp": t}.get(kind, a[2] if len(a) > 2 else "0.0.0.0")
        return eth("ff:ff:ff:ff:ff:ff", sm, 0x0806,
                   struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(sm), a4(spa), b"\0" * 6, a4(t)))
    if kind == "dadns":               # SRCMAC TARGET
        sm, t = a
        tb = a6(t)
        grp = "ff02::1:ff%02x:%02x%02x" % (tb[13], tb[14], tb[15])
        icmp = struct.pack("!BBHI", 135, 0, 0, 0) + tb
        icmp = icmp[:2] + struct.pack("!H", csum(p6("::", grp, 58)(len(icmp)) + icmp)) + icmp[4:]
        return eth("33:33:ff:%02x:%02x:%02x" % (tb[13], tb[14], tb[15]), sm, 0x86dd, ip6("::", grp, 58, icmp))
    raise SystemExit("unknown frame kind " + kind)

def register(host, port, payload, split, src=None):
    c = socket.create_connection((host, int(port)), timeout=10, source_address=(src, 0) if src else None)
    data = payload.encode()
    split = int(split)
    if split and split < len(data):
        c.sendall(data[:split]); time.sleep(0.3); c.sendall(data[split:])
    else:
        c.sendall(data)
    out = b""
    try:
        while True:
            b = c.recv(4096)
            if not b: break
            out += b
    except (ConnectionResetError, socket.timeout) as e:
        out += ("<%s>" % type(e).__name__).encode()
    print(repr(out))

def mstr(b): return ":".join("%02x" % x for x in b)
def decode(f):
    """One line per frame: src dst kind fields (the oracle's vocabulary in the scenarios)."""
    if len(f) < 14: return None
    d, s, t, p = mstr(f[0:6]), mstr(f[6:12]), struct.unpack("!H", f[12:14])[0], f[14:]
    head = "%s %s " % (s, d)
    if t == 0x0806 and len(p) >= 28:
        op, sha, spa, tha, tpa = struct.unpack("!6xH6s4s6s4s", p[:28])
        return head + "arp %s sha=%s spa=%s tha=%s tpa=%s" % ({1: "req", 2: "rep"}.get(op, op), mstr(sha),
            socket.inet_ntoa(spa), mstr(tha), socket.inet_ntoa(tpa))
    if t == 0x0842 and len(p) >= 102 and p[:6] == b"\xff" * 6:
        return head + "wol target=%s" % mstr(p[6:12])
    if t == 0x0800 and len(p) >= 20:
        ihl, proto = (p[0] & 15) * 4, p[9]
        src, dst, l4 = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20]), p[ihl:]
        if proto == 6 and len(l4) >= 14:
            fl = "".join(c for c, b in zip("FSRPA", (1, 2, 4, 8, 16)) if l4[13] & b)
            return head + "tcp4 %s:%d %s:%d flags=%s" % (src, *struct.unpack("!H", l4[0:2]), dst, *struct.unpack("!H", l4[2:4]), fl)
        if proto == 17 and len(l4) >= 8:
            dp = struct.unpack("!H", l4[2:4])[0]
            if len(l4) >= 8 + 102 and l4[8:14] == b"\xff" * 6:
                return head + "wol target=%s udp %s" % (mstr(l4[14:20]), dst)
            return head + "udp4 %s %s:%d" % (src, dst, dp)
        if proto == 1 and l4:
            return head + "icmp4 %s %s type=%d" % (src, dst, l4[0])
        return head + "ip4 %s %s proto=%d" % (src, dst, proto)
    if t == 0x86dd and len(p) >= 40:
        nh, src, dst, q = p[6], socket.inet_ntop(socket.AF_INET6, p[8:24]), socket.inet_ntop(socket.AF_INET6, p[24:40]), p[40:]
        while nh in (0, 43, 60) and len(q) >= 8:
            nh, q = q[0], q[(q[1] + 1) * 8:]
        if nh == 58 and len(q) >= 4:
            ty = q[0]
            if ty in (135, 136) and len(q) >= 24:
                tgt = socket.inet_ntop(socket.AF_INET6, q[8:24])
                ll = "-"
                o = q[24:]
                while len(o) >= 8 and o[1]:
                    if o[0] in (1, 2): ll = mstr(o[2:8])
                    o = o[o[1] * 8:]
                if ty == 135:
                    return head + "ns %s %s tgt=%s ll=%s" % (src, dst, tgt, ll)
                fl = "".join(c for c, b in zip("RSO", (0x80, 0x40, 0x20)) if q[4] & b) or "-"
                return head + "na %s %s tgt=%s flags=%s ll=%s" % (src, dst, tgt, fl, ll)
            return head + "icmp6 %s %s type=%d" % (src, dst, ty)
        if nh == 6 and len(q) >= 14:
            fl = "".join(c for c, b in zip("FSRPA", (1, 2, 4, 8, 16)) if q[13] & b)
            return head + "tcp6 [%s]:%d [%s]:%d flags=%s" % (src, *struct.unpack("!H", q[0:2]), dst, *struct.unpack("!H", q[2:4]), fl)
        return head + "ip6 %s %s nh=%d" % (src, dst, nh)
    return head + "ethertype=0x%04x" % t

def pcap_lines(path):
    data = open(path, "rb").read()
    if len(data) < 24: return
    swap = data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    fmt = "<IIII" if swap else ">IIII"
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(fmt, data[off:off + 16])
        f = data[off + 16:off + 16 + incl]
        off += 16 + incl
        line = decode(f)
        if line: print(sec * 1000000 + (frac // 1000 if nano else frac), line)

def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "pcap":                 # FILE: decode a capture, one line per frame
        pcap_lines(a[0])
    elif cmd == "frame":                # IF KIND ARGS... [COUNT INTERVAL] via env-free args
        send(a[0], frame(a[1], a[2:]))
    elif cmd == "register":           # HOST PORT PAYLOAD SPLIT [SOURCE]
        register(*a)
    elif cmd == "bigreg":             # HOST PORT BYTES: a payload that never ends
        c = socket.create_connection((a[0], int(a[1])), timeout=10)
        try:
            c.sendall(b'{"mac":"' + b"a" * int(a[2]))
        except OSError:
            pass
        out = b""
        try:
            while True:
                b = c.recv(4096)
                if not b: break
                out += b
        except OSError as e:
            out += ("<%s>" % type(e).__name__).encode()
        print(repr(out))
    elif cmd == "silent":             # HOST PORT SECONDS: connect, say nothing
        c = socket.create_connection((a[0], int(a[1])), timeout=30)
        t0 = time.time()
        c.settimeout(float(a[2]))
        try:
            b = c.recv(4096)
            print("closed after %.1f s: %r" % (time.time() - t0, b))
        except socket.timeout:
            print("still open after %s s" % a[2])
    elif cmd == "storm":              # HOST PORT N: connect and close N times
        for i in range(int(a[2])):
            c = socket.create_connection((a[0], int(a[1])), timeout=5)
            if i % 2: c.send(b'{"ma')
            c.close()
        print("storm done")
    elif cmd == "connect":            # HOST PORT TIMEOUT: one TCP connect, timed
        fam = socket.AF_INET6 if ":" in a[0] else socket.AF_INET
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.settimeout(float(a[2]))
        t0 = now_us()
        print("start", t0, flush=True)
        try:
            c.connect((a[0], int(a[1])))
            print("connected", now_us(), flush=True)
        except OSError as e:
            print("failed", now_us(), type(e).__name__, flush=True)
    elif cmd == "listen":             # PORT: accept forever (v4 and v6)
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", int(a[0])))
        s.listen(16)
        while True:
            c, _ = s.accept()
            c.close()
    else:
        raise SystemExit("unknown command " + cmd)

main()
EOF
}

# Captures on the proxy's own port (in the proxy namespace): what it sends and receives.
# (like lib.sh's capture_start, plus --immediate-mode: frames are readable at once, not after
# libpcap's 1 s block timeout, so checks made while the capture runs see everything so far)
cap_start() {
    local file=$NW_TMP/$1.pcap
    # shellcheck disable=SC2086  # the filter is a word list on purpose
    ip netns exec "$NS_PX" tcpdump -i "$PX_IF" --immediate-mode -U -nn -s 262144 -w "$file" ${2:-} \
        2>"$file.err" </dev/null &
    CAP_PID=$!
    NW_CAPTURES+=("$CAP_PID")
    wait_for 5 grep -q "listening on" "$file.err" || fail "tcpdump did not start: $(cat "$file.err")"
}
# cap_lines NAME: "<us> <src-mac> <dst-mac> <kind> <fields>" per frame (pk.py pcap).
cap_lines() { "$PYTHON" "$PK" pcap "$NW_TMP/$1.pcap"; }
# cap_count NAME REGEX: frames of the capture whose line matches.
cap_count() { cap_lines "$1" | grep -Ec -- "$2" || true; }
cap_has() { cap_lines "$1" | grep -E -- "$2" >/dev/null; }  # not -q: pipefail

if [[ ${NW_PROXY_LAB_SELFTEST:-} == 1 ]]; then
    proxy_lab
    write_conf
    start_proxy
    say "lab up; netwaked pid $DAEMON_PID"
    [[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "a plain registration failed"
    wait_for 3 state_is Tartiflette up || fail "registered machine not in status: $(status_json)"
    stop_daemon
    ((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
    nft_table && fail "the nft table is still there after exit"
    pass
fi
