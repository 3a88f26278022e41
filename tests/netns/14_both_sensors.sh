#!/bin/bash
# tests/netns/14_both_sensors.sh — tuninetd mode with -n and -i together: a packet seen by either
# sensor starts the target, and both sensors must have been idle for TTL before stop.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9998 -> NFLOG group G   (NFLOG only)
#                                              pcap on ${NW_ID}r, filter "udp port 9997" (pcap only)
#                                              netwaked -n G -i ${NW_ID}r -f "udp port 9997" -c hook -t 1
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9998 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
TTL=1
start_daemon "$NS_RTR" -n "$G" -i "$RTR_IF" -f "udp port 9997" -c "$NW_TMP/hook" -t "$TTL"

NFLOG_PORT=9998 PCAP_PORT=9997
sensor_of() { [[ $1 == "$NFLOG_PORT" ]] && echo "nflog:$G" || echo "pcap:$RTR_IF"; }
n=0

# one packet to PORT starts the target, reported by the right sensor
single() {
    local port=$1 out t
    say "client sends 1 datagram to :$port (seen only by $(sensor_of "$port"))"
    out=$(pkt "$NS_CLI" udp "$RTR_ADDR" "$port") || fail "send failed"
    t=$(first_sent "$out")
    n=$((n + 1))
    wait_for 2 hook_has start "$n" || fail "a packet seen only by $(sensor_of "$port") did not start the target"
    figure "start_latency_ms_$(sensor_of "$port" | cut -d: -f1)" "$(us_to_ms $(($(hook_time start "$n") - t)))"
    expect_env start "$n" NETWAKED_SENSOR "$(sensor_of "$port")"
    expect_env start "$n" NETWAKED_DST_PORT "$port"
    wait_for $((TTL + 2)) hook_has stop "$n" || fail "no stop after a single packet to :$port"
    wait_for 2 hooks_settled || fail "hooks did not settle: $(hook_seq)"
}

# a packet to P1, then 600 ms later one to P2: stop must wait for TTL after the second
relay() {
    local p1=$1 p2=$2 out t1 t2 late
    say "client sends to :$p1 ($(sensor_of "$p1")), then 600 ms later to :$p2 ($(sensor_of "$p2"))"
    out=$(pkt "$NS_CLI" udp "$RTR_ADDR" "$p1") || fail "send failed"
    t1=$(first_sent "$out")
    n=$((n + 1))
    wait_for 2 hook_has start "$n" || fail "no start"
    wait_for 2 past_us $((t1 + 600000))
    hook_has stop "$n" && fail "stopped before the second packet (TTL is $TTL s)"
    out=$(pkt "$NS_CLI" udp "$RTR_ADDR" "$p2") || fail "send failed"
    t2=$(first_sent "$out")
    wait_for $((TTL + 2)) hook_has stop "$n" || fail "no stop after the relay"
    late=$(($(hook_time stop "$n") - t2 - TTL * 1000000))
    figure "stop_lateness_ms_${p1}_then_${p2}" "$(us_to_ms "$late")"
    ((late >= 0)) || fail "stop $(us_to_ms $((-late))) ms before TTL after the packet seen by $(sensor_of "$p2"): that sensor's traffic did not keep the target alive"
    ((late < LATE_LIMIT_US)) || fail "stop $(us_to_ms "$late") ms late"
    [[ $(hook_count start) -eq $n ]] || fail "the second packet caused another start: $(hook_seq)"
    wait_for 2 hooks_settled || fail "hooks did not settle: $(hook_seq)"
}

single "$NFLOG_PORT"
single "$PCAP_PORT"
relay "$NFLOG_PORT" "$PCAP_PORT"
relay "$PCAP_PORT" "$NFLOG_PORT"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
