#!/bin/bash
# tests/netns/52_proxy_register_bad.sh — registrations the daemon must refuse, each with a one-line
# message ending in a NUL byte (as Wakupator's) and without affecting anything else: invalid JSON, {}, 1 MiB, a MAC that is not the
# peer's own, the host's own address, off-link, multicast and broadcast addresses, an address
# held for another MAC, a peer outside register.allow; a silent connection does not delay
# another registration; hundreds of connect-and-close connections leave no descriptor behind.
# Wakupator's "port": [] is accepted: the address is held and answered for, and nothing sent to
# it wakes the machine.
# Lab: see tests/netns/59_proxy_lab.sh (+ 10.78.0.0/24 on the proxy and client, outside allow).
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
ip -n "$NS_PX" addr add 10.78.0.2/24 dev "$PX_IF"
ip -n "$NS_CL" addr add 10.78.0.30/24 dev "$CL_IF"
write_conf
start_proxy
PID=$DAEMON_PID

# expect_refusal NS PAYLOAD REGEX: the answer is one line matching REGEX (not OK.) and a NUL byte.
expect_refusal() {
    local got
    got=$(reg_send "$1" "$2")
    [[ $got =~ $3 ]] || fail "payload ${2:0:80}: answer $got, expected /$3/"
    [[ $got == *'\x00'[\'\"] && ${got%????[\'\"]} != *'\x00'* && $got != *'\n'* ]] ||
        fail "answer is not one line and a NUL: $got"
    say "refused: ${got:0:110}"
}
expect_refusal "$NS_SL" '{"mac": nope}' "^b'invalid JSON: "
expect_refusal "$NS_SL" '{}' "^b'mac: missing"
expect_refusal "$NS_SL" '{"mac":"02:77:00:00:00:20","monitor":[{"ip":"10.77.0.20","port":[70000]}]}' \
    "monitor\[0\]\.port\[0\]: 70000 is not a port \(1-65535\)"
big=$(pk "$NS_SL" bigreg "$PX_IP" 13717 1048576)
[[ $big == "b'payload too large (more than 65536 bytes)\\x00'" ]] || fail "1 MiB payload: $big"
say "refused: $big"
expect_refusal "$NS_CL" "$(wakupator_payload "$SL_MAC" pc "$CL_IP" fd77::31)" \
    "mac: $SL_MAC is not the registering peer's MAC \($CL_IP is at $CL_MAC\)"
expect_refusal "$NS_SL" "$(wakupator_payload "$SL_MAC" pc "$PX_IP" "$SL_IP6")" "monitor\[0\]\.ip: $PX_IP belongs to this host"
expect_refusal "$NS_SL" "$(wakupator_payload "$SL_MAC" pc 10.99.0.5 "$SL_IP6")" "monitor\[0\]\.ip: 10.99.0.5 is not on-link on $PX_IF"
expect_refusal "$NS_SL" "$(wakupator_payload "$SL_MAC" pc 224.0.0.251 "$SL_IP6")" "monitor\[0\]\.ip: 224.0.0.251 is a multicast address"
expect_refusal "$NS_SL" "$(wakupator_payload "$SL_MAC" pc 10.77.0.255 "$SL_IP6")" "is the broadcast address of its /24"
expect_refusal "$NS_SL" "$(wakupator_payload "$SL_MAC" pc "$SL_IP" ff02::1)" "monitor\[1\]\.ip: ff02::1 is a multicast address"
r=$(pk "$NS_CL" register "$PX_IP" 13717 "$(wakupator_payload "$CL_MAC" pc 10.77.0.31 fd77::31)" 0 10.78.0.30)
[[ $r == *"peer 10.78.0.30 may not register (not in register.allow)\\x00"* ]] || fail "peer outside allow: $r"
say "refused: $r"
# held for another MAC
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "a good registration was refused"
expect_refusal "$NS_CL" "$(wakupator_payload "$CL_MAC" pc "$CL_IP" "$SL_IP6")" \
    "monitor\[1\]\.ip: $SL_IP6 is held for another MAC \($SL_MAC, \"Tartiflette\"\)"
[[ $(status_json | grep -o '"name":"[^"]*"' | tr '\n' ' ') == *'"Tartiflette"'* ]] || fail "status: $(status_json)"
status_json | grep '"name":"pc"' >/dev/null && fail "a refused registration appears in status"

# --- a silent peer does not delay another registration; it is closed after 5 s
background pk "$NS_CL" silent "$PX_IP" 13717 9 >"$NW_TMP/silent.out"
sleep 0.3
now_us; t0=$NOW_US
r=$(reg_send "$NS_CL" "$(wakupator_payload "$CL_MAC" client "$CL_IP" fd77::30)")
now_us
[[ $r == "b'OK.\\x00'" ]] || fail "registration during a silent connection: $r"
((NOW_US - t0 < 1000000)) || fail "registration took $(us_to_ms $((NOW_US - t0))) ms while a peer was silent"
figure register_during_silent_ms "$(us_to_ms $((NOW_US - t0)))"
wait_for 8 grep -q closed "$NW_TMP/silent.out" || fail "silent peer: $(cat "$NW_TMP/silent.out")"
grep -Eq "closed after [45]\.[0-9] s: b'timeout: nothing received within 5 s\\\\x00'" "$NW_TMP/silent.out" ||
    fail "silent peer: $(cat "$NW_TMP/silent.out")"
say "silent peer: $(cat "$NW_TMP/silent.out")"

# --- connect-and-close storms leave no descriptor behind
fds0=$(fd_count "$PID")
pk "$NS_CL" storm "$PX_IP" 13717 400 >/dev/null || fail "storm client failed"
pk "$NS_SL" storm "$PX_IP" 13717 400 >/dev/null || fail "storm client failed"
sleep 1
fds1=$(fd_count "$PID")
say "fds before/after 800 connect-and-close connections: $fds0 / $fds1"
((fds1 <= fds0)) || fail "fd count grew from $fds0 to $fds1"
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "the server stopped working after the storm"
pid_alive "$PID" || fail "daemon died"
# netwakectl forget drops a registration; an unknown name is an error
"$NETWAKECTL" -s "$CTL" forget nosuch >/dev/null 2>&1 && fail "forget of an unknown registration succeeded"
"$NETWAKECTL" -s "$CTL" forget client >/dev/null || fail "forget client failed"
status_json | grep '"name":"client"' >/dev/null && fail "forgotten registration still in status"
log_has 'client: no longer proxied \(forgotten' || fail "forget not logged"
# --- "port": [] (Wakupator accepts it): held and answered for, but wakes nothing. The SYN to
# the other address, sent after the ones to the port-less address, is the marker that the
# daemon has processed them all (one socket, frames in order).
r=$(reg_send "$NS_SL" "$(printf '{"mac": "%s", "name": "Tartiflette", "monitor": [{"ip": "%s", "port": []}, {"ip": "%s", "port": [2222]}]}' \
    "$SL_MAC" "$SL_IP" "$SL_IP6")")
[[ $r == "b'OK.\\x00'" ]] || fail "\"port\": [] refused: $r"
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep after the port-less registration"
wait_for 3 state_is Tartiflette "asleep $SL_IP $SL_IP6" || fail "not holding both: $(proxy_state Tartiflette)"
ip -n "$NS_CL" neigh flush all
ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1
ip -n "$NS_CL" neigh show "$SL_IP" | grep "$PX_MAC" >/dev/null || fail "the port-less address is not answered for"
for port in 22 2222 65535; do
    pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 40000 "$port" S >/dev/null
    pk "$NS_CL" frame "$CL_IF" udp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 40000 "$port" >/dev/null
done
pk "$NS_CL" frame "$CL_IF" tcp6 "$CL_MAC" "$PX_MAC" "$CL_IP6" "$SL_IP6" 40001 2222 S >/dev/null
wait_for 3 hook_has wake 1 || fail "no wake from the SYN to the port listed"
expect_env wake 1 NETWAKED_DST "$SL_IP6"
[[ $(hook_count wake) == 1 ]] || fail "traffic to the port-less address woke the machine"
say "\"port\": []: $SL_IP held and answered for, 6 SYN/UDP to it woke nothing"
sleeper_up

rejected=$(status_json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["rejected"])')
((rejected >= 10)) || fail "status counters.rejected = $rejected"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
