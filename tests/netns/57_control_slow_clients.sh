#!/bin/bash
# tests/netns/57_control_slow_clients.sh — slow clients cannot hold the control socket (issue 12
# item 9): 48 clients dribbling one byte every 2 s (and reconnecting when dropped) while
# `netwakectl status` must still answer every time; then a client that never stops sending
# but never finishes its request is dropped at the 10 s total deadline.
#
#   router netns ($NW_ID-rtr, lo only): netwaked -C conf (NFLOG group G, control socket in
#   $NW_TMP) <-- unix socket --> dribble.py (48 connections) and netwakectl
. "$(dirname "$0")/lib.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
daemon:
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: web
    match: [ { prefix: web } ]
EOF
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"

# dribble.py SOCKET N INTERVAL SECONDS: N connections, each sending one space every INTERVAL s
# (never a newline); a dropped one reconnects 0.2 s later. Writes "closes=N" to SOCKET.progress
# as the daemon drops them, and at the end one line per close: lifetime and the daemon's reply.
cat >"$NW_TMP/dribble.py" <<'EOF'
import selectors, socket, sys, time
path, n, ivl, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sel, conns, closes = selectors.DefaultSelector(), [], []
def open_conn(c):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    c.update(sock=s, t0=time.monotonic(), next=time.monotonic(), got=b"")
    sel.register(s, selectors.EVENT_READ, c)
for _ in range(n):
    c = {"retry": 0}
    conns.append(c)
    open_conn(c)
end = time.monotonic() + dur
while time.monotonic() < end:
    for key, _ in sel.select(0.05):
        c = key.data
        try:
            b = c["sock"].recv(4096)
        except OSError:
            b = b""
        if b:
            c["got"] += b; continue
        closes.append("%.2f %s" % (time.monotonic() - c["t0"], c["got"].decode(errors="replace").strip()))
        sel.unregister(c["sock"]); c["sock"].close(); c["sock"] = None
        c["retry"] = time.monotonic() + 0.2
        open(path + ".progress", "w").write("closes=%d\n" % len(closes))
    now = time.monotonic()
    for c in conns:
        if c["sock"] is None:
            if now >= c["retry"]: open_conn(c)
        elif now >= c["next"]:
            try: c["sock"].send(b" ")
            except OSError: pass
            c["next"] = now + ivl
print("\n".join(closes))
EOF
dribble() { ip netns exec "$NS" "$PYTHON" "$NW_TMP/dribble.py" "$CTL_SOCK" "$@"; }
closes_at_least() { [[ -s $CTL_SOCK.progress ]] && (($(sed -n 's/closes=//p' "$CTL_SOCK.progress") >= $1)); }

# --- 48 dribbling clients for 8 s: status must answer 5 times out of 5
background dribble 48 2 8 >"$NW_TMP/flood.out"
# Proof the daemon is full: it has already turned away (busy or dropped) 16 connections.
wait_for 5 closes_at_least 16 || fail "the dribbling clients never filled the control socket"
ok=0
for i in 1 2 3 4 5; do
    now_us; t0=$NOW_US
    if ctl status; then
        now_us
        ((NOW_US - t0 < 2000000)) || fail "status $i took $(us_to_ms $((NOW_US - t0))) ms"
        ok=$((ok + 1))
        say "status $i answered in $(us_to_ms $((NOW_US - t0))) ms"
    else
        say "status $i: exit $CTL_RC: $CTL_ERR"
    fi
    wait_for 2 past_us $((t0 + 1000000))
done
say "status answered $ok/5 times with 48 dribbling clients"
((ok == 5)) || fail "netwakectl status answered only $ok/5 times"
wait_for 10 test -s "$NW_TMP/flood.out" || fail "the dribbling clients did not finish"
grep -q 'busy: dropped to make room' "$NW_TMP/flood.out" || fail "no client was dropped to make room: $(head -3 "$NW_TMP/flood.out")"

# --- one client that sends a byte every second (never idle 5 s) is dropped after 10 s in all
rm -f "$CTL_SOCK.progress"
background dribble 1 1 14 >"$NW_TMP/one.out"
wait_for 13 closes_at_least 1 || fail "a client sending one byte a second was not dropped within 13 s"
wait_for 5 test -s "$NW_TMP/one.out" || fail "the dribbling client did not finish"
read -r life reply <<<"$(head -1 "$NW_TMP/one.out")"
say "dribbling client dropped after $life s: $reply"
[[ $reply == *'timeout: no complete request within 10 s'* ]] || fail "reply: $reply"
awk -v t="$life" 'BEGIN { exit !(t >= 9.5 && t < 11.5) }' || fail "dropped after $life s, expected 10 s"
ctl_ok status
pid_alive "$DAEMON_PID" || fail "daemon died"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
