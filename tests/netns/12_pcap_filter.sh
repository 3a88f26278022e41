#!/bin/bash
# tests/netns/12_pcap_filter.sh — tuninetd mode with a pcap sensor and a BPF filter: traffic the
# filter rejects (udp 9998) must not start the target; traffic it accepts (udp 9999) must.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              netwaked -i ${NW_ID}r -f "udp port 9999" -c hook -t 2
#                                              tcpdump -i ${NW_ID}r udp (oracle: packets were on the wire)
. "$(dirname "$0")/lib.sh"
require_root
lab_two
make_hook "$NW_TMP/hook"
start_daemon "$NS_RTR" -i "$RTR_IF" -f "udp port 9999" -c "$NW_TMP/hook" -t 2
capture_start "$NS_RTR" "$RTR_IF" "udp" "$NW_TMP/wire.pcap"

say "client sends 3 UDP datagrams to $RTR_ADDR:9998 (filtered out)"
pkt "$NS_CLI" udp "$RTR_ADDR" 9998 --sport 40998 --count 3 --interval 0.05 >/dev/null || fail "send failed"
wait_for 2 capture_has "$NW_TMP/wire.pcap" '40998 > 10\.201\.0\.1\.9998' ||
    fail "test bug: the 9998 datagrams are not on the wire"
stays_false 0.7 hook_has start 1 || fail "a datagram to port 9998 started the target (filter ignored)"

say "client sends 1 UDP datagram to $RTR_ADDR:9999"
out=$(pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 40999) || fail "send failed"
t1=$(first_sent "$out")
wait_for 2 hook_has start 1 || fail "no start within 2 s of a datagram to port 9999"
figure start_latency_ms "$(us_to_ms $(($(hook_time start 1) - t1)))"
expect_env start 1 NETWAKED_SENSOR "pcap:$RTR_IF"
expect_env start 1 NETWAKED_PROTO udp
expect_env start 1 NETWAKED_SRC "$CLI_ADDR"
expect_env start 1 NETWAKED_DST_PORT 9999
expect_env start 1 NETWAKED_SRC_PORT 40999
expect_clean_env start 1

wait_for 4 hook_has stop 1 || fail "no stop within TTL+2 s"
late=$(($(hook_time stop 1) - t1 - 2000000))
figure stop_lateness_ms "$(us_to_ms "$late")"
((late >= 0)) || fail "stop ran before TTL had passed"
[[ $(hook_seq) == "start stop" ]] || fail "hook sequence '$(hook_seq)', expected 'start stop'"
capture_stop
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
