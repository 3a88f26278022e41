#!/bin/bash
# tests/netns/30_netwakectl_offline.sh — netwakectl without a daemon: "not running" exits 1, bad
# usage exits 2, --help/--version exit 0; then against a fake control server (python3): the
# request lines it sends, the status table, and ok:false replies. No namespaces, no root needed.
#
#   (no topology: netwakectl <-- unix socket in $NW_TMP --> fake server (python3))
. "$(dirname "$0")/lib.sh"
CTL=${NETWAKECTL:-$BUILD/netwakectl}
[[ -x $CTL ]] || fail "no client binary at $CTL (run make first)"
VERSION=$(cat "$NW_ROOT/VERSION" 2>/dev/null)
unset NETWAKECTL_SOCKET

# run ARGS...: sets RC, OUT, ERR
run() {
    timeout -k 1 15 "$CTL" "$@" >"$NW_TMP/out" 2>"$NW_TMP/err" </dev/null
    RC=$?
    OUT=$(cat "$NW_TMP/out")
    ERR=$(cat "$NW_TMP/err")
}
expect_rc() {  # expect_rc WANT WHAT
    [[ $RC -eq $1 ]] || fail "$2: exit $RC, expected $1 (stdout: $OUT) (stderr: $ERR)"
    printf '  ok  %-34s -> exit %s%s\n' "$2" "$RC" "${ERR:+: $(head -1 <<<"$ERR")}"
}

# --- help and version
run --version
expect_rc 0 "--version"
[[ $OUT == "netwakectl $VERSION" ]] || fail "--version printed '$OUT', expected 'netwakectl $VERSION'"
run -V
expect_rc 0 "-V"
run --help
expect_rc 0 "--help"
for w in usage: status start stop wake forget reload keygen knock --socket; do
    grep -qF -- "$w" <<<"$OUT" || fail "--help does not mention $w"
done
run help
expect_rc 0 "help"

# --- no daemon
NOSOCK=$NW_TMP/none/control.sock
run -s "$NOSOCK" status
expect_rc 1 "status, no socket"
[[ $ERR == "netwakectl: netwaked is not running (no control socket at $NOSOCK)" ]] ||
    fail "unexpected message without a daemon: $ERR"
[[ -z $OUT ]] || fail "printed on stdout without a daemon: $OUT"
NETWAKECTL_SOCKET=$NOSOCK run stop vpn
expect_rc 1 "stop via \$NETWAKECTL_SOCKET"
grep -qF "no control socket at $NOSOCK" <<<"$ERR" || fail "NETWAKECTL_SOCKET not used: $ERR"
run --socket="$NOSOCK" reload
expect_rc 1 "--socket=PATH reload"
if [[ ! -e /run/netwaked/control.sock ]]; then
    run status --json
    expect_rc 1 "default socket path"
    grep -qF "no control socket at /run/netwaked/control.sock" <<<"$ERR" || fail "default path: $ERR"
fi

# A stale socket (bound, nobody listening: a crashed daemon) is "not running" too.
STALE=$NW_TMP/stale.sock
if "$PYTHON" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$STALE" 2>/dev/null; then
    run -s "$STALE" status
    expect_rc 1 "stale socket"
    [[ $ERR == "netwakectl: netwaked is not running (no control socket at $STALE)" ]] || fail "stale: $ERR"
fi

# --- usage errors: exit 2 before touching any socket
for args in "" "frob" "--bogus status" "-s" "start" "start a b" "stop 'a b'" "wake" "forget" \
    "reload now" "status --bogus" "start $(printf 'x%.0s' {1..65})" "wake nas -i eth0"; do
    eval "run -s \"\$NOSOCK\" $args"
    expect_rc 2 "usage: '${args:0:30}'"
    [[ -n $ERR ]] || fail "usage error '$args' printed nothing on stderr"
done

# --- against a fake server
{ [[ -n ${PYTHON:-} ]] && command -v "$PYTHON" >/dev/null; } || pass
SOCK=$NW_TMP/run/control.sock
mkdir -p "$NW_TMP/run"
cat >"$NW_TMP/fake.py" <<'EOF'
import json, socket, sys
path, log = sys.argv[1], sys.argv[2]
status = {"ok": True, "version": "9.9.9", "pid": 4242, "uptime_s": 3725,
          "sensors": [{"name": "wan", "kind": "nflog", "packets": 1234, "matched": 7, "drops": 0,
                       "truncated": 0, "malformed": 1, "queue_full": 0, "up": True}],
          "targets": [{"name": "vpn", "state": "active", "idle_s": 12.5, "ttl_s": 900,
                       "remaining_s": 887.5, "hook_runs": 3, "last_exit": 0, "wakes": 0, "proxy": None},
                      {"name": "nas", "state": "idle", "idle_s": None, "ttl_s": 1800, "remaining_s": None,
                       "hook_runs": 0, "last_exit": None, "wakes": 2,
                       "proxy": {"state": "asleep", "addresses": ["192.168.1.20", "2001:db8::20"]}}],
          "counters": {"malformed": 1, "truncated": 0, "rejected": 2, "dropped": 0}}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    data = b""
    while not data.endswith(b"\n"):
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    with open(log, "ab") as f:
        f.write(data)
    req = json.loads(data)
    arg = req.get("target", req.get("name", ""))
    if req["cmd"] == "status":
        rep = status
    elif arg == "vpx":
        rep = {"ok": False, "error": "no such target: vpx"}
    else:
        rep = {"ok": True, "message": "%s %s: done" % (req["cmd"], arg)}
    c.sendall((json.dumps(rep) + "\n").encode())
    c.close()
EOF
"$PYTHON" "$NW_TMP/fake.py" "$SOCK" "$NW_TMP/requests" &
NW_BGPIDS+=($!)
wait_for 5 test -S "$SOCK" || fail "fake server did not start"

run -s "$SOCK" status
expect_rc 0 "status (table)"
for w in "netwaked 9.9.9, pid 4242, up 1h02m" SENSOR wan nflog 1234 TARGET "vpn" "active" "12s ago" \
    "14m47s" never "asleep 192.168.1.20, 2001:db8::20" "counters: malformed 1, truncated 0, rejected 2"; do
    grep -qF -- "$w" <<<"$OUT" || fail "status table lacks '$w':"$'\n'"$OUT"
done
run -s "$SOCK" status --json
expect_rc 0 "status --json"
"$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["targets"][1]["name"]=="nas"' <<<"$OUT" ||
    fail "status --json is not the reply: $OUT"
run -s "$SOCK" start vpn
expect_rc 0 "start vpn"
[[ $OUT == "start vpn: done" ]] || fail "start printed '$OUT'"
run -s "$SOCK" stop vpx
expect_rc 1 "stop vpx (ok:false)"
[[ $ERR == "netwakectl: no such target: vpx" ]] || fail "ok:false printed '$ERR'"
run -s "$SOCK" forget "My PC"
expect_rc 0 "forget 'My PC'"
run -s "$SOCK" wake nas
expect_rc 0 "wake nas"
run -s "$SOCK" reload
expect_rc 0 "reload"

want='{"cmd":"status"}
{"cmd":"status"}
{"cmd":"start","target":"vpn"}
{"cmd":"stop","target":"vpx"}
{"cmd":"forget","name":"My PC"}
{"cmd":"wake","target":"nas"}
{"cmd":"reload"}'
[[ $(cat "$NW_TMP/requests") == "$want" ]] || fail "request lines differ:"$'\n'"$(cat "$NW_TMP/requests")"
pass
