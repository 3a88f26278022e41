#!/bin/bash
# tests/netns/20_nflog_busy.sh — a second netwaked on an NFLOG group that is already bound must exit
# non-zero saying the group is in use, and the first one must keep working.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              netwaked #1 -n G -c hook   (keeps the group)
#                                              netwaked #2 -n G -c hook   (must fail)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 1
FIRST=$DAEMON_PID

say "second netwaked -n $G"
timeout -k 1 10 ip netns exec "$NS_RTR" "$NETWAKED" -n "$G" -c "$NW_TMP/hook" -t 1 \
    >"$NW_TMP/second.out" 2>"$NW_TMP/second.err" </dev/null
rc=$?
((rc != 124 && rc != 137)) || fail "the second netwaked kept running on a group that was already bound"
((rc != 0)) || fail "the second netwaked exited 0"
grep -Eiq 'in use|already|busy|bound' "$NW_TMP/second.err" ||
    fail "the second netwaked's message does not say the group is in use: $(cat "$NW_TMP/second.err")"
grep -q -- "$G" "$NW_TMP/second.err" || fail "the message does not name group $G: $(cat "$NW_TMP/second.err")"
say "second: exit $rc: $(grep -Ei 'in use|already|busy|bound' "$NW_TMP/second.err" | head -1)"

pid_alive "$FIRST" || fail "the first netwaked died"
nflog_bound "$NS_RTR" "$G" || fail "group $G is no longer bound"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 1 || fail "the first netwaked no longer reacts to traffic"
wait_for 3 hook_has stop 1 || fail "the first netwaked did not stop after TTL"
stop_daemon "$FIRST"
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
