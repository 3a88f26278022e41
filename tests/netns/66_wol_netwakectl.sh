#!/bin/bash
# tests/netns/66_wol_netwakectl.sh — Wake-on-LAN sent by netwakectl without a daemon (ethernet and
# UDP), exact frames checked on the wire; tests/cross.sh runs it with the arm64 netwakectl under qemu.
#
#   router netns                                   nas netns ("asleep": no address, MAC $NAS_MAC)
#   ${NW_ID}l 10.202.0.1/24  <------ veth ------>  ${NW_ID}n   tcpdump here
#   netwakectl wake MAC -i ${NW_ID}l ; netwakectl wake MAC --udp 10.202.0.255:9
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root
NAS_MAC=d8:cb:8a:39:be:a3
nas_lab "$NAS_MAC"
LAN_MAC=$(ip -n "$NS_RTR" -br link show "$LAN_IF" | awk '{print $3}')
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or udp" "$CAP"
ncap() { [[ $(pcap_packets "$CAP") -ge $1 ]]; }

out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake "$NAS_MAC" -i "$LAN_IF" 2>&1) || fail "netwakectl wake MAC -i: $out"
say "netwakectl wake $NAS_MAC -i $LAN_IF: $out"
wait_for 3 ncap 2 || fail "$(pcap_packets "$CAP") of 2 magic frames (unicast, broadcast) on the LAN"
out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake "$NAS_MAC" --udp 10.202.0.255:9 2>&1) || fail "netwakectl wake MAC --udp: $out"
say "netwakectl wake $NAS_MAC --udp 10.202.0.255:9: $out"
wait_for 3 ncap 3 || fail "no magic UDP datagram on the LAN"
out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake 02:zz:00:00:00:01 -i "$LAN_IF" 2>&1) && fail "a bad MAC was accepted: $out"
stays_false 0.3 ncap 4 || fail "more than 3 magic packets"
capture_stop
pcap_decode "$CAP" "$NAS_MAC" >"$NW_TMP/all.txt"
sed 's/^/  | /' "$NW_TMP/all.txt"
awk -v m="$NAS_MAC" -v s="$LAN_MAC" '$2=="eth" && $3==m && $4==s && $5=="0x0842" && $6==102 && $7=="magic"' "$NW_TMP/all.txt" | grep . >/dev/null ||
    fail "no 102-byte 0x0842 magic frame to $NAS_MAC from $LAN_MAC"
awk -v s="$LAN_MAC" '$2=="eth" && $3=="ff:ff:ff:ff:ff:ff" && $4==s && $5=="0x0842" && $6==102 && $7=="magic"' "$NW_TMP/all.txt" | grep . >/dev/null ||
    fail "no 102-byte broadcast magic frame from $LAN_MAC"
awk '$2=="udp" && $3=="10.202.0.1" && $4=="10.202.0.255" && $6==9 && $7==102 && $8=="magic"' "$NW_TMP/all.txt" | grep . >/dev/null ||
    fail "no 102-byte magic UDP datagram to 10.202.0.255:9"
pass
