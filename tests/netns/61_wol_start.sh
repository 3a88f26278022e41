#!/bin/bash
# tests/netns/61_wol_start.sh — Wake-on-LAN on start: tcpdump on the NAS's link sees the exact magic
# packets (0x0842 unicast + broadcast, UDP, 3 copies ~200 ms apart, SecureOn); the wake hook runs.
#
#   client netns                router netns (ip_forward=1)                    nas netns ("asleep":
#   ${NW_ID}c 10.201.0.2 <-veth-> ${NW_ID}r 10.201.0.1  ${NW_ID}l 10.202.0.1 <-veth-> ${NW_ID}n  no address,
#   default via 10.201.0.1      FORWARD -d 10.202.0.20 tcp SYN dport 22   -> NFLOG G "nas"   MAC $NAS_MAC)
#                                                              dport 2222 -> NFLOG G "pw6"   tcpdump here
#                                                              dport 2223 -> NFLOG G "pw4"
#                               netwaked -C conf.yaml: nas (ethernet+udp, repeat 3, 200 ms),
#                               pw6 (ethernet broadcast, password 6 bytes), pw4 (udp :7, password 4 bytes)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root iptables
lab_two
NAS_ADDR=10.202.0.20
NAS_MAC=d8:cb:8a:39:be:a1
PW6_MAC=02:11:22:33:44:66
PW4_MAC=02:11:22:33:44:44
nas_lab "$NAS_MAC"
nas_forward
RTR_LAN_MAC=$(ip -n "$NS_RTR" -br link show "$LAN_IF" | awk '{print $3}')
G=$(nflog_group)
for p in nas:22 pw6:2222 pw4:2223; do
    ip netns exec "$NS_RTR" iptables -A FORWARD -d "$NAS_ADDR" -p tcp --syn --dport "${p#*:}" \
        -j NFLOG --nflog-group "$G" --nflog-prefix "${p%:*}" || fail "iptables rule"
done
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
defaults:
  hook: $NW_TMP/hook
  ttl: 30s
targets:
  - name: nas
    match: [ { prefix: nas } ]
    wol:
      mac: $NAS_MAC
      interface: $LAN_IF
      method: [ethernet, udp]
      udp_to: 10.202.0.255:9
      repeat: 3
      interval: 200ms
  - name: pw6
    match: [ { prefix: pw6 } ]
    wol:
      mac: "$PW6_MAC"
      interface: $LAN_IF
      method: ethernet
      ethernet_to: broadcast
      password: "00:11:22:33:44:55"
      repeat: 1
  - name: pw4
    match: [ { prefix: pw4 } ]
    wol:
      mac: "$PW4_MAC"
      method: udp
      udp_to: 10.202.0.255:7
      password: 192.168.1.1
      repeat: 2
      interval: 100ms
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or udp" "$CAP"
ncap() { [[ $(pcap_packets "$CAP") -ge $1 ]]; }

# --- nas: 3 x (0x0842 to the MAC, 0x0842 to broadcast, UDP to 10.202.0.255:9)
say "client: TCP SYN to $NAS_ADDR:22 (routed through the router)"
pkt "$NS_CLI" tcp "$NAS_ADDR" 22 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start nas 1 || fail "no start for nas"
wait_for 3 ncap 9 || fail "only $(pcap_packets "$CAP") WoL packets on the LAN, expected 9: $(capture_read "$CAP" -nn -e | head)"
stays_false 0.5 ncap 10 || fail "more than 9 WoL packets for one wake"
capture_stop
pcap_decode "$CAP" "$NAS_MAC" >"$NW_TMP/nas.txt"
sed 's/^/  | /' "$NW_TMP/nas.txt"
n_uni=$(awk -v m="$NAS_MAC" -v s="$RTR_LAN_MAC" '$2=="eth" && $3==m && $4==s && $5=="0x0842" && $6==102 && $7=="magic"' "$NW_TMP/nas.txt" | wc -l)
n_bc=$(awk -v s="$RTR_LAN_MAC" '$2=="eth" && $3=="ff:ff:ff:ff:ff:ff" && $4==s && $5=="0x0842" && $6==102 && $7=="magic"' "$NW_TMP/nas.txt" | wc -l)
n_udp=$(awk '$2=="udp" && $3=="10.202.0.1" && $4=="10.202.0.255" && $6==9 && $7==102 && $8=="magic"' "$NW_TMP/nas.txt" | wc -l)
[[ $n_uni -eq 3 && $n_bc -eq 3 && $n_udp -eq 3 ]] ||
    fail "magic packets: $n_uni to $NAS_MAC, $n_bc to broadcast, $n_udp UDP to 10.202.0.255:9 (expected 3 each, exact payload, from $RTR_LAN_MAC)"
# byte-level check of one frame with tcpdump's own hex dump: 6 x ff then 16 x the MAC
hex=$(capture_read "$CAP" -nn -e -xx -c 1 | awk '/0x[0-9a-f]+:/{for (i = 2; i <= NF; i++) printf "%s", $i}')
want=ffffffffffff$(printf '%.0s'"${NAS_MAC//:/}" {1..16})
[[ $hex == *"0842$want" ]] || fail "first frame bytes: $hex"
say "frame bytes (tcpdump -xx): ${hex:0:40}... ($((${#hex} / 2)) bytes)"
# spacing ~200 ms (loose: 150-400 ms)
gaps() { awk -v sel="$1" '$0 ~ sel {if (p) printf "%d ", ($1 - p) / 1000; p = $1}' "$NW_TMP/nas.txt"; }
for sel in " eth $NAS_MAC " " eth ff:ff:ff:ff:ff:ff " " udp "; do
    g=$(gaps "$sel")
    say "gaps (ms) of${sel% }: $g"
    for x in $g; do ((x >= 150 && x <= 400)) || fail "magic packets${sel% } $x ms apart (interval 200 ms, accepted 150-400)"; done
    [[ $(wc -w <<<"$g") -eq 2 ]] || fail "expected 2 gaps for${sel% }, got '$g'"
done
wait_for 2 hook_has_t wake nas 1 || fail "no wake hook for nas"
expect_env_t wake nas 1 NETWAKED_EVENT wake
expect_env_t wake nas 1 NETWAKED_MAC "$NAS_MAC"
expect_env_t wake nas 1 NETWAKED_ATTEMPT 1
[[ $(awk '$2=="begin" && $4=="nas" {printf "%s ", $3}' "$HOOK_LOG") == "start wake " ]] ||
    fail "hooks for nas: $(awk '$2=="begin" && $4=="nas" {printf "%s ", $3}' "$HOOK_LOG"), expected 'start wake'"
[[ $(status_get 't("nas")["wakes"]') == 1 ]] || fail "status wakes for nas: $(status_get 't("nas")["wakes"]')"
log_has "nas.*wake" || fail "no wake line in the log"

# --- pw6: one broadcast frame, payload magic + 6-byte password (108 bytes)
CAP=$NW_TMP/pw6.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or udp" "$CAP"
say "client: TCP SYN to $NAS_ADDR:2222 (target pw6)"
pkt "$NS_CLI" tcp "$NAS_ADDR" 2222 >/dev/null || fail "send failed"
wait_for 3 ncap 1 || fail "no magic packet for pw6"
stays_false 0.4 ncap 2 || fail "pw6 (repeat 1, ethernet_to broadcast) sent more than one packet"
capture_stop
pcap_decode "$CAP" "$PW6_MAC" 00:11:22:33:44:55 >"$NW_TMP/pw6.txt"
sed 's/^/  | /' "$NW_TMP/pw6.txt"
awk '$2=="eth" && $3=="ff:ff:ff:ff:ff:ff" && $5=="0x0842" && $6==108 && $7=="magic"' "$NW_TMP/pw6.txt" | grep . >/dev/null ||
    fail "pw6: not a 108-byte broadcast magic frame ending in the password"
expect_env_t wake pw6 1 NETWAKED_MAC "$PW6_MAC"

# --- pw4: two UDP datagrams to :7, payload magic + 4-byte password (106 bytes)
CAP=$NW_TMP/pw4.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or udp" "$CAP"
say "client: TCP SYN to $NAS_ADDR:2223 (target pw4)"
pkt "$NS_CLI" tcp "$NAS_ADDR" 2223 >/dev/null || fail "send failed"
wait_for 3 ncap 2 || fail "pw4: $(pcap_packets "$CAP") of 2 datagrams"
stays_false 0.4 ncap 3 || fail "pw4 (repeat 2, udp) sent more than 2 packets"
capture_stop
pcap_decode "$CAP" "$PW4_MAC" 192.168.1.1 >"$NW_TMP/pw4.txt"
sed 's/^/  | /' "$NW_TMP/pw4.txt"
[[ $(awk '$2=="udp" && $4=="10.202.0.255" && $6==7 && $7==106 && $8=="magic"' "$NW_TMP/pw4.txt" | wc -l) -eq 2 ]] ||
    fail "pw4: expected 2 UDP datagrams to 10.202.0.255:7 of 106 bytes (magic + c0a80101)"
expect_env_t wake pw4 1 NETWAKED_ATTEMPT 1
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
