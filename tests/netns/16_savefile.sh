#!/bin/bash
# tests/netns/16_savefile.sh — tuninetd -w: the packet that caused each start is appended to a pcap
# savefile that tcpdump reads back (right addresses and ports); keepalive packets are not saved.
# Checked once with an NFLOG sensor and once with a pcap sensor.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              run 1: netwaked -n G -c hook -t 1 -w nflog.pcap
#                                              run 2: netwaked -i ${NW_ID}r -f "udp port 9999" -c hook -t 1 -w pcap.pcap
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
n=0

# savefile_run NAME SENSOR-ARGS...: two starts (sport 41001, 41002) and one keepalive (41003)
savefile_run() {
    local name=$1 file=$NW_TMP/$1.pcap
    shift
    start_daemon "$NS_RTR" "$@" -c "$NW_TMP/hook" -t 1 -w "$file"
    say "$name: client sends from :41001 (start), then from :41003 while active (keepalive)"
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 41001 >/dev/null || fail "send failed"
    n=$((n + 1))
    wait_for 2 hook_has start "$n" || fail "$name: no start"
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 41003 >/dev/null || fail "send failed"
    wait_for 2 capture_has "$file" "10\\.201\\.0\\.2\\.41001 > 10\\.201\\.0\\.1\\.9999: UDP" ||
        fail "$name: savefile does not hold the triggering packet: $(capture_read "$file" -nn 2>&1 | head -3)"
    wait_for 3 hook_has stop "$n" || fail "$name: no stop"
    wait_for 2 hooks_settled || fail "hooks did not settle"
    say "$name: client sends from :41002 (second start)"
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 41002 >/dev/null || fail "send failed"
    n=$((n + 1))
    wait_for 2 hook_has start "$n" || fail "$name: no second start"
    wait_for 2 capture_has "$file" "10\\.201\\.0\\.2\\.41002 > 10\\.201\\.0\\.1\\.9999: UDP" ||
        fail "$name: the second start's packet was not appended"
    stop_daemon
    [[ $DAEMON_STATUS -eq 0 ]] || fail "$name: exit status $DAEMON_STATUS on SIGTERM"
    capture_has "$file" '\.41003 > ' && fail "$name: a keepalive packet (no start) was saved"
    [[ $(capture_count "$file") -eq 2 ]] || fail "$name: savefile holds $(capture_count "$file") packets, expected 2"
    say "$name: $(tcpdump -r "$file" 2>&1 >/dev/null | head -1)"
    capture_read "$file" -nn | sed 's/^/    /'
    wait_for 2 hooks_settled
}

savefile_run nflog -n "$G"
savefile_run pcap -i "$RTR_IF" -f "udp port 9999"
# not in the contract, only reported: does the pcap sensor's savefile keep the Ethernet header?
cli_mac=$(ip -n "$NS_CLI" -br link show "$CLI_IF" | awk '{print $3}')
if capture_read "$NW_TMP/pcap.pcap" -nn -e | grep -i "$cli_mac" >/dev/null; then
    say "pcap savefile keeps link-layer headers (client MAC $cli_mac)"
else
    say "note: pcap savefile has no link-layer header (client MAC $cli_mac absent)"
fi
pass
