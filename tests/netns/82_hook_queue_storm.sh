#!/bin/bash
# tests/netns/82_hook_queue_storm.sh — fault: 10,000 start/stop events for one target while its hook
# is slow (control-socket storm). Every request is answered; hooks run one at a time, in event
# order, alternating start/stop; the coalescing rule of src/action/hooks.h holds exactly (each
# pending start cancelled by a later stop, neither runs); the backlog is gone a few hook runs
# after the storm; VmRSS stays bounded; then a random-order storm ends in the state last asked for.
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (NFLOG sensor, state_dir, control socket);
#   target q, hook sleeps 0.2 s per run. The storm client talks to the socket directly (Python).
. "$(dirname "$0")/lib.sh"
require_root
NS_RTR=$NW_ID-rtr
netns_add "$NS_RTR"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
HOOK_S=0.2
make_hook "$NW_TMP/hook" "sleep $HOOK_S"
cat >"$NW_TMP/conf.yaml" <<EOF
# 82_hook_queue_storm
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: q
    match: [ { prefix: q } ]
    ttl: 1h
    hook: $NW_TMP/hook
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"

# RSS bound: 20 MB for a normal build; sanitizer builds need far more (NW_RSS_LIMIT_KB overrides).
if grep -aqE '__(asan|tsan)_init' "$NETWAKED"; then RSS_LIMIT=${NW_RSS_LIMIT_KB:-400000}; else RSS_LIMIT=${NW_RSS_LIMIT_KB:-20480}; fi
rss_kb() { awk '$1=="VmRSS:"{print $2}' "/proc/$1/status" 2>/dev/null; }
# rss_watch PID FILE: writes the highest VmRSS seen (kB) to FILE every 20 ms until PID exits
rss_watch() {
    local m=0 r
    while pid_alive "$1"; do
        r=$(rss_kb "$1")
        [[ -n $r ]] && ((r > m)) && { m=$r; echo "$m" >"$2"; }
        sleep 0.02
    done
}
say "VmRSS before the storm: $(rss_kb "$DAEMON_PID") kB (limit $RSS_LIMIT kB)"
background rss_watch "$DAEMON_PID" "$NW_TMP/rss.max"

# storm SEQ-FILE: one connection per request; prints "ok N bad M seconds S"
cat >"$NW_TMP/storm.py" <<'EOF'
# storm client for 82_hook_queue_storm: one control-socket request per connection
import json, socket, sys, time
path, seqf = sys.argv[1], sys.argv[2]
ok = bad = 0
t0 = time.monotonic()
for cmd in open(seqf).read().split():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(json.dumps({"cmd": cmd, "target": "q"}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    try:
        ok += json.loads(buf)["ok"] is True
    except Exception:
        bad += 1
print("ok", ok, "bad", bad, "seconds", "%.2f" % (time.monotonic() - t0))
EOF

# --- 1: 10,000 strictly alternating requests: start stop start stop ...
"$PYTHON" -c 'print("start stop " * 5000)' >"$NW_TMP/seq1"
res=$("$PYTHON" "$NW_TMP/storm.py" "$CTL_SOCK" "$NW_TMP/seq1") || fail "storm client failed: $res"
now_us; t_end=$NOW_US
read -r _ ok _ bad _ secs <<<"$res"
say "storm 1: $res"
figure storm_requests_per_s "$("$PYTHON" -c "print(round(10000 / max($secs, 0.001)))")"
((ok == 10000 && bad == 0)) || fail "storm 1: $ok of 10000 requests answered ok ($bad bad)"
pid_alive "$DAEMON_PID" || fail "netwaked died during the storm"
# The backlog must be gone within a few hook runs of the storm's end (the queue is bounded).
wait_for 5 hooks_settled || fail "hooks did not settle within 5 s of the storm: $(hook_seq | wc -w) runs so far"
now_us
settle_ms=$(((NOW_US - t_end) / 1000))
figure settle_after_storm_ms "$settle_ms"
seq1=$(hook_seq)
runs=$(wc -w <<<"$seq1")
starts=$(hook_count start)
stops=$(hook_count stop)
cancelled=$(grep -c 'q: pending hook start cancelled by a stop (neither ran)' "$DAEMON_LOG")
say "storm 1: $runs hook runs ($starts start, $stops stop), $cancelled start/stop pairs cancelled, settled $settle_ms ms after"
[[ $seq1 =~ ^start(\ stop\ start)*\ stop$ ]] || fail "hook runs do not alternate start/stop: $(head -c 200 <<<"$seq1")"
((starts + cancelled == 5000)) || fail "coalescing: $starts starts ran + $cancelled cancelled != 5000 start events"
((stops + cancelled == 5000)) || fail "coalescing: $stops stops ran + $cancelled cancelled != 5000 stop events"
# one at a time, in order: each run begins after the previous one ended
awk '$2=="begin"{ if (open) bad=1; open=1; if ($1 < last_end) bad=1 } $2=="end"{ open=0; last_end=$1 }
     END{ exit bad }' "$HOOK_LOG" || fail "hook runs overlapped"
[[ $(status_get "t('q')['state']") == idle ]] || fail "q is not idle after a storm ending in stop"
"$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$NW_TMP/state/state.json" || fail "state.json is not valid JSON"

# --- 2: 3,000 requests in random order (fixed seed); the last one decides the final state
"$PYTHON" -c '
import random
r = random.Random(82)
seq = [r.choice(["start", "stop"]) for _ in range(2999)] + ["start"]
print(" ".join(seq))' >"$NW_TMP/seq2"
: >"$HOOK_LOG"
res=$("$PYTHON" "$NW_TMP/storm.py" "$CTL_SOCK" "$NW_TMP/seq2") || fail "storm client failed: $res"
say "storm 2 (random order, ends with start): $res"
read -r _ ok _ bad _ secs <<<"$res"
((ok == 3000 && bad == 0)) || fail "storm 2: $ok of 3000 answered ok"
all_ended() { awk '$2=="begin"{b++} $2=="end"{e++} END{exit !(b==e && b>0)}' "$HOOK_LOG"; }
# quiet: every run has ended and none begins for 3 hook durations (queued runs follow at once)
quiet() {
    local n
    all_ended || return 1
    n=$(wc -l <"$HOOK_LOG")
    sleep 0.6
    [[ $(wc -l <"$HOOK_LOG") == "$n" ]]
}
wait_for 8 quiet || fail "hooks did not settle after storm 2"
seq2=$(hook_seq)
say "storm 2: $(wc -w <<<"$seq2") hook runs"
[[ $seq2 =~ ^start(\ stop\ start)*$ ]] || fail "storm 2 hook runs do not alternate start/stop ending in start: $(head -c 200 <<<"$seq2")"
[[ $(status_get "t('q')['state']") == active ]] || fail "q is not active after a storm ending in start"

max=$(cat "$NW_TMP/rss.max" 2>/dev/null || echo 0)
figure vmrss_max_kb "$max"
say "VmRSS: max $max kB during the storms, $(rss_kb "$DAEMON_PID") kB now"
((max > 0 && max < RSS_LIMIT)) || fail "VmRSS reached $max kB (limit $RSS_LIMIT kB)"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
