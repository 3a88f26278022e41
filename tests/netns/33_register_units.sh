#!/bin/bash
# tests/netns/33_register_units.sh — the suspend hooks around `netwakectl register` (issue 19):
# debian/netwaked-register.service passes `systemd-analyze verify` (skipped without it) and is
# ordered before sleep.target and wanted by it; the .deb's rules ship it disabled; the
# system-sleep script registers on "pre" (a fake server in a namespace sees the payload), and
# exits 0 (suspend goes on) with a message when the server refuses, is down, or SERVER is unset.
#
#   netns $NW_ID-m: lo only; fake registration server (python3) on 127.0.0.1:$PORT
. "$(dirname "$0")/lib.sh"
require_root
UNIT=$NW_ROOT/debian/netwaked-register.service
SLEEP=$NW_ROOT/debian/netwaked-register.sleep
DEFAULTS=$NW_ROOT/debian/default/netwaked-register

# --- the unit
unit_has() { grep -Fx -- "$1" "$UNIT" >/dev/null || fail "$UNIT lacks '$1'"; }
unit_has "Before=sleep.target"
unit_has "WantedBy=sleep.target"
unit_has "EnvironmentFile=/etc/default/netwaked-register"
unit_has 'ExecStart=/usr/bin/netwakectl register $SERVER $OPTIONS'
grep -E '^(Requires|BindsTo|RequiredBy)=' "$UNIT" >/dev/null && fail "a hard dependency would make a failure block the suspend"
grep -F -- '--no-enable --no-start netwaked-register.service' "$NW_ROOT/debian/rules" >/dev/null ||
    fail "debian/rules does not ship netwaked-register.service disabled"
grep -F "debian/netwaked-register.service lib/systemd/system" "$NW_ROOT/debian/netwaked.install" >/dev/null ||
    fail "debian/netwaked.install does not install the unit"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$NW_TMP/units"
    sed -e "s|/usr/bin/netwakectl|$NW_CTL|" -e "s|/etc/default/netwaked-register|$DEFAULTS|" "$UNIT" \
        >"$NW_TMP/units/netwaked-register.service"
    out=$(systemd-analyze verify --man=no "$NW_TMP/units/netwaked-register.service" 2>&1)
    rc=$?
    ((rc == 0)) || fail "systemd-analyze verify: exit $rc: $out"
    grep -F "netwaked-register" <<<"$out" >/dev/null && fail "systemd-analyze verify complains: $out"
    say "systemd-analyze verify: clean"
else
    say "systemd-analyze not installed: unit syntax not verified"
fi

# --- the system-sleep script against a fake server
NS=$NW_ID-m
netns_add "$NS"
PORT=13717
# fake_server ANSWER: accepts one registration, saves it, answers ANSWER (printf escapes).
fake_server() {
    rm -f "$NW_TMP/got" "$NW_TMP/got.ready"
    background ip netns exec "$NS" "$PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); open(sys.argv[3] + ".ready", "w").close()
c, _ = s.accept(); c.settimeout(5); data = b""
while data.count(b"{") == 0 or data.count(b"{") != data.count(b"}"):
    b = c.recv(4096)
    if not b: break
    data += b
open(sys.argv[3], "wb").write(data); c.sendall(sys.argv[2].encode().decode("unicode_escape").encode()); c.close()' \
        "$PORT" "$1" "$NW_TMP/got" 2>"$NW_TMP/srv.err"
    wait_for 5 test -e "$NW_TMP/got.ready" || fail "fake server did not start: $(cat "$NW_TMP/srv.err")"
}
write_defaults() { printf 'SERVER="%s"\nOPTIONS="%s"\n' "$1" "--address 10.9.9.9 --ports 22 --mac 02:00:00:00:00:09 -i lo --timeout 2s" >"$NW_TMP/defaults"; }
run_sleep() {  # run_sleep ARGS: sets RC, ERR, OUT
    ip netns exec "$NS" env NETWAKECTL="$NW_CTL" NETWAKED_REGISTER_DEFAULTS="$NW_TMP/defaults" \
        "$SLEEP" "$@" >"$NW_TMP/out" 2>"$NW_TMP/err"
    RC=$? OUT=$(cat "$NW_TMP/out") ERR=$(cat "$NW_TMP/err")
}
write_defaults "127.0.0.1:$PORT"
fake_server 'OK.\x00'
run_sleep pre suspend
((RC == 0)) || fail "sleep script: exit $RC: $ERR"
wait_for 3 test -s "$NW_TMP/got" || fail "the fake server got nothing"
[[ $(cat "$NW_TMP/got") == '{"mac":"02:00:00:00:00:09",'*'"monitor":[{"ip":"10.9.9.9","port":[22]}]}' ]] ||
    fail "payload: $(cat "$NW_TMP/got")"
[[ $OUT == "registered with 127.0.0.1:$PORT (lo)" ]] || fail "sleep script printed: $OUT / $ERR"
say "pre suspend: registered ($(cat "$NW_TMP/got"))"
fake_server 'mac: 02:00:00:00:00:09 is not the registering peer'"'"'s MAC\x00'
run_sleep pre suspend
((RC == 0)) || fail "a refusal blocked the suspend: exit $RC"
[[ $ERR == *"refused the registration: mac: 02:00:00:00:00:09 is not the registering peer's MAC"*"suspending anyway"* ]] ||
    fail "refusal: $ERR"
say "refused: exit 0, message: $(head -1 <<<"$ERR")"
now_us; t0=$NOW_US
write_defaults "127.0.0.1:$((PORT + 1))"
run_sleep pre suspend
now_us
{ ((RC == 0)) && [[ $ERR == *"Connection refused"*"suspending anyway"* ]]; } || fail "server down: exit $RC: $ERR"
((NOW_US - t0 < 2500000)) || fail "server down: took $(us_to_ms $((NOW_US - t0))) ms"
write_defaults ""
run_sleep pre suspend
{ ((RC == 0)) && [[ $ERR == *"SERVER is not set"* ]]; } || fail "SERVER unset: exit $RC: $ERR"
run_sleep post suspend
{ ((RC == 0)) && [[ -z $ERR$OUT ]]; } || fail "post: exit $RC: $OUT $ERR"
say "server down, SERVER unset, post: exit 0 (suspend goes on)"
pass
