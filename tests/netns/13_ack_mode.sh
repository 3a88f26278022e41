#!/bin/bash
# tests/netns/13_ack_mode.sh — tuninetd -a: any packet starts the target, but only TCP packets
# with ACK keep it alive: a stream of SYN-only segments does not delay stop; ACK segments do.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   nwpkt.py tcp (raw socket,                  INPUT tcp dport 8080 -> NFLOG group G
#   chosen flags) -> 10.201.0.1:8080           netwaked -n G -c hook -t 1 -a
#                                              tcpdump -i ${NW_ID}r tcp dst port 8080 (oracle for flags)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p tcp --dport 8080 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
TTL=1
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t "$TTL" -a
capture_start "$NS_RTR" "$RTR_IF" "tcp dst port 8080" "$NW_TMP/wire.pcap"

# --- A: SYN-only segments every 100 ms for 2 s: they start the target but do not keep it alive
say "client sends 21 SYN-only segments to $RTR_ADDR:8080, 100 ms apart"
out=$(pkt "$NS_CLI" tcp "$RTR_ADDR" 8080 --flags S --sport 40001 --count 21 --interval 0.1) || fail "send failed"
s_first=$(first_sent "$out")
s_last=$(last_sent "$out")
wait_for 3 hook_has start 1 || fail "SYN segments did not start the target"
wait_for 3 hook_has stop 1 || fail "no stop although only SYN segments arrived (they must not keep it alive)"
stop1=$(hook_time stop 1)
figure syn_stream_stop_after_first_syn_ms "$(us_to_ms $((stop1 - s_first)))"
((stop1 - s_first >= TTL * 1000000)) || fail "stop ran before TTL after the first SYN"
((stop1 < s_last)) || fail "the SYN stream kept the target alive until its end (stop $(us_to_ms $((stop1 - s_last))) ms after the last SYN)"
((stop1 - s_first < TTL * 1000000 + LATE_LIMIT_US)) || fail "stop ran $(us_to_ms $((stop1 - s_first - TTL * 1000000))) ms late"
# Later SYNs start it again (any packet starts); wait until it is idle again.
wait_for 1 past_us $((s_last + 200000))
wait_for 4 hooks_settled ||
    fail "target did not settle after the SYN stream: $(hook_seq)"
say "events during the SYN stream: $(hook_seq)"
na=$(hook_count start)

# --- B: ACK segments every 200 ms for 2 s keep it alive; stop TTL after the last one
say "client sends 11 ACK segments to $RTR_ADDR:8080, 200 ms apart"
out=$(pkt "$NS_CLI" tcp "$RTR_ADDR" 8080 --flags A --sport 40002 --count 11 --interval 0.2) || fail "send failed"
a_first=$(first_sent "$out")
a_last=$(last_sent "$out")
wait_for 3 hook_has stop $((na + 1)) || fail "no stop after the ACK stream"
[[ $(hook_count start) -eq $((na + 1)) ]] || fail "ACK stream: $(($(hook_count start) - na)) starts, expected 1 ($(hook_seq))"
startb=$(hook_time start $((na + 1)))
((startb >= a_first)) || fail "test bug: start before the ACK stream"
stopb=$(hook_time stop $((na + 1)))
late=$((stopb - a_last - TTL * 1000000))
figure ack_stream_stop_lateness_ms "$(us_to_ms "$late")"
((late >= 0)) || fail "ACK segments did not keep the target alive: stop $(us_to_ms $((-late))) ms before last ACK + TTL"
((late < LATE_LIMIT_US)) || fail "stop ran $(us_to_ms "$late") ms after last ACK + TTL"

# --- the wire: what we sent really had those flags
capture_stop
nsyn=$(capture_read "$NW_TMP/wire.pcap" -nn | grep -c '40001 > .*Flags \[S\]')
nack=$(capture_read "$NW_TMP/wire.pcap" -nn | grep -c '40002 > .*Flags \[\.\]')
[[ $nsyn -eq 21 && $nack -eq 11 ]] || fail "test bug: on the wire $nsyn SYN (want 21), $nack ACK (want 11)"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
