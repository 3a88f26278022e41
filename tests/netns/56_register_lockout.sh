#!/bin/bash
# tests/netns/56_register_lockout.sh — slow and unwelcome peers cannot lock machines out of
# registering (issue 12 item 1): peers outside register.allow are closed at accept, IPv6 peers
# count per /64, the oldest unfinished connection makes room, and a dribbling peer is cut off
# by the byte rate long before 30 s; legitimate registrations are answered OK.\0 at once.
# Lab: see tests/netns/59_proxy_lab.sh; the registration server listens on [::]:13717 and
# allows 10.77.0.0/24 and fd77::/64. The client namespace gets extra source addresses:
#
#   client netns ($NW_ID-cl)                                 proxy netns ($NW_ID-px)
#   10.78.0.31-34   outside allow, 16 connections each  --\
#   10.77.0.41-46   inside allow, 8 each (1 byte / 2 s)  ---+--> netwaked [::]:13717
#   fd77::101-104   inside allow, one /64, 4 each        --/     (+ 10.78.0.2/24 for the replies)
#   sleeper netns: 10.77.0.20 / fd77::20 registers six times meanwhile (v4 and v6 in turn)
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
ip -n "$NS_PX" addr add 10.78.0.2/24 dev "$PX_IF"
for i in 31 32 33 34; do ip -n "$NS_CL" addr add "10.78.0.$i/24" dev "$CL_IF"; done
for i in 41 42 43 44 45 46; do ip -n "$NS_CL" addr add "10.77.0.$i/24" dev "$CL_IF"; done
for i in 101 102 103 104; do ip -n "$NS_CL" addr add "fd77::$i/64" dev "$CL_IF" nodad; done
write_conf
sed -i -e "s|listen: $PX_IP:13717|listen: \"[::]:13717\"|" -e 's|allow: \[10.77.0.0/24\]|allow: [10.77.0.0/24, "fd77::/64"]|' "$CONF"
grep -q 'fd77::/64' "$CONF" || fail "conf edit"
NW_NOWAIT=1 start_daemon "$NS_PX" -C "$CONF"
wait_for 5 log_has "register: listening on" || fail "netwaked does not listen for registrations"
wait_for 5 log_has "sleep proxy: listening on $PX_IF" || fail "no packet socket on $PX_IF"

# dribble.py SECONDS CLASS... (CLASS = name:per_source:interval_s:src,src,...): holds connections
# to the registration port from each source, sends one space (valid before a JSON object) every
# interval, reconnects 0.2 s after the server closes one; at the end prints per class how many
# connections the server closed, why (the first word of its message) and their lifetimes.
cat >"$NW_TMP/dribble.py" <<'EOF'
import errno, json, selectors, socket, sys, time
dur = float(sys.argv[1]); host4, host6, port = "10.77.0.2", "fd77::2", 13717
sel = selectors.DefaultSelector()
stats, conns = {}, []
def open_conn(c):
    fam = socket.AF_INET6 if ":" in c["src"] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((c["src"], 0))
    s.connect_ex((host6 if fam == socket.AF_INET6 else host4, port))
    c.update(sock=s, t0=time.monotonic(), next=time.monotonic(), up=False, got=b"")
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    stats[c["cls"]]["connects"] += 1
def closed(c, why):
    st = stats[c["cls"]]
    st["closes"] += 1
    st["lifetimes"].append(round(time.monotonic() - c["t0"], 2))
    st["why"][why] = st["why"].get(why, 0) + 1
    sel.unregister(c["sock"]); c["sock"].close(); c["sock"] = None
    c["retry"] = time.monotonic() + 0.2
for spec in sys.argv[2:]:
    name, per, ivl, srcs = spec.split(":", 3)
    stats[name] = {"connects": 0, "closes": 0, "lifetimes": [], "why": {}}
    for src in srcs.split(","):
        for _ in range(int(per)):
            conns.append({"cls": name, "src": src, "ivl": float(ivl), "sock": None, "retry": 0})
end = time.monotonic() + dur
for c in conns: open_conn(c)
while time.monotonic() < end:
    for key, ev in sel.select(0.05):
        c = key.data
        if not c["up"] and ev & selectors.EVENT_WRITE:
            if c["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                closed(c, "connect-failed"); continue
            c["up"] = True
            sel.modify(c["sock"], selectors.EVENT_READ, c)
        if ev & selectors.EVENT_READ:
            try:
                b = c["sock"].recv(4096)
            except OSError:
                b = None
            if b:
                c["got"] += b; continue
            msg = c["got"].decode(errors="replace")
            closed(c, msg.split(" ")[0].rstrip(":") if msg else "reset")
    now = time.monotonic()
    for c in conns:
        if c["sock"] is None:
            if now >= c["retry"]: open_conn(c)
        elif c["up"] and now >= c["next"]:
            try: c["sock"].send(b" ")
            except OSError: pass
            c["next"] = now + c["ivl"]
for st in stats.values():
    lt = st.pop("lifetimes")
    st["life_min"], st["life_max"] = (min(lt), max(lt)) if lt else (None, None)
print(json.dumps(stats))
EOF
out=$NW_TMP/dribble.json
background ip netns exec "$NS_CL" "$PYTHON" "$NW_TMP/dribble.py" 12 \
    outside:16:2:10.78.0.31,10.78.0.32,10.78.0.33,10.78.0.34 \
    inside4:8:2:10.77.0.41,10.77.0.42,10.77.0.43,10.77.0.44,10.77.0.45,10.77.0.46 \
    inside6:4:2:fd77::101,fd77::102,fd77::103,fd77::104 >"$out"
rejected() { status_json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["rejected"])' 2>/dev/null || echo 0; }
# Proof the daemon is under the flood: it has turned away at least 64 connections (the
# outside peers' first round alone) before the legitimate registrations start.
rejected_64() { (($(rejected) >= 64)); }
wait_for 6 rejected_64 || fail "the flood did not reach the daemon (rejected=$(rejected))"
say "under flood: $(rejected) connections turned away so far"

worst=0
for i in 1 2 3 4 5 6; do
    if ((i % 2)); then host=$PX_IP; else host=$PX_IP6; fi
    now_us; t0=$NOW_US
    r=$(pk "$NS_SL" register "$host" 13717 "$(wakupator_payload)" 0)
    now_us; dt=$((NOW_US - t0))
    [[ $r == "b'OK.\\x00'" ]] || fail "registration $i (to $host) during the flood: answer $r"
    ((dt < 1000000)) || fail "registration $i took $(us_to_ms "$dt") ms"
    ((dt > worst)) && worst=$dt
    say "registration $i via $host: OK in $(us_to_ms "$dt") ms"
    wait_for 2 past_us $((t0 + 1000000))
done
figure register_under_flood_worst_ms "$(us_to_ms "$worst")"

wait_for 15 test -s "$out" || fail "the dribbling clients did not report"
say "dribblers: $(cat "$out")"
"$PYTHON" - "$out" <<'EOF' || fail "connection handling under the flood (above)"
import json, sys
st = json.load(open(sys.argv[1]))
bad = []
o, i4, i6 = st["outside"], st["inside4"], st["inside6"]
# outside allow: closed at accept with the reason, never held
if o["why"].get("peer", 0) < 64: bad.append("outside peers not refused at accept: %s" % o["why"])
if o["life_max"] >= 0.5: bad.append("an outside peer was held %.2f s" % o["life_max"])
# inside allow, one byte every 2 s: cut off by the byte rate, well before 30 s
if i4["why"].get("timeout", 0) < 40: bad.append("dribblers not cut off by the byte rate: %s" % i4["why"])
if i4["life_max"] is None or i4["life_max"] > 8: bad.append("a dribbler was held %s s" % i4["life_max"])
# 16 connections from one /64 hold 8 slots: the oldest make room for the newest
if i6["why"].get("busy", 0) < 8: bad.append("one /64 was not counted as one peer: %s" % i6["why"])
if bad: print("\n".join(bad)); sys.exit(1)
EOF
pid_alive "$DAEMON_PID" || fail "daemon died"
wait_for 3 state_is Tartiflette up || fail "registered machine not in status: $(status_json)"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
