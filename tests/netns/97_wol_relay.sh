#!/bin/bash
# tests/netns/97_wol_relay.sh — the Wake-on-WAN relay (SPEC §7.2): magic packets from "the internet"
# seen by an NFLOG sensor become FRESH wakes on the LAN (exactly 108/106/102 bytes, never the
# sender's bytes); unknown MAC, wrong or missing password and over-rate packets are counted in
# status and logged with their source, and nothing of them reaches the LAN.
#
#   wan netns (internet)                 router netns (netwaked)                    nas netns
#   ${NW_ID}c 10.201.0.2 <--- veth ---> ${NW_ID}r 10.201.0.1   ${NW_ID}l 10.202.0.1 <-> ${NW_ID}n
#                                        INPUT -i ${NW_ID}r udp dport 7,9 -> NFLOG G     (tcpdump)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root iptables
lab_two
NAS_MAC=d8:cb:8a:39:be:d1
PC4_MAC=02:11:22:33:44:d4
PC_MAC=02:11:22:33:44:d0
nas_lab
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -i "$RTR_IF" -p udp -m multiport --dports 7,9 -j NFLOG --nflog-group "$G" ||
    fail "iptables rule"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" wan >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
defaults:
  hook: $NW_TMP/hook
targets:
  - name: nas
    match: [ { prefix: never } ]
    wol: { mac: $NAS_MAC, interface: $LAN_IF, method: [ethernet, udp], ethernet_to: unicast,
           udp_to: "10.202.0.255:9", password: "00:11:22:33:44:55", repeat: 1, verify: false }
  - name: pc4
    match: [ { prefix: never } ]
    wol: { mac: "$PC4_MAC", interface: $LAN_IF, ethernet_to: unicast, password: 10.11.12.13, repeat: 1, verify: false }
  - name: pc
    match: [ { prefix: never } ]
    wol: { mac: "$PC_MAC", interface: $LAN_IF, ethernet_to: unicast, repeat: 1, verify: false }
wol_relay:
  - sensors: [wan]
    ports: [9]
    allow: [nas, pc4]
    password: required
    rate: 1/1m
  - ports: [7]
    allow: [pc]
    password: none
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "" "$CAP"
magic_hex() {  # MAC [PASSWORD-HEX [TRAILING-HEX]]
    local m=${1//:/}
    printf 'ffffffffffff'
    printf "$m%.0s" {1..16}
    printf '%s%s' "${2:-}" "${3:-}"
}
relay() { status_get "s['relay']['$1']"; }
send() { udp_send_hex "$NS_CLI" "$RTR_ADDR" "$1" "$2" || fail "send"; }

# accepted: nas with its 6-byte password; pc4 with its 4-byte password and trailing junk; pc on :7
send 9 "$(magic_hex "$NAS_MAC" 001122334455)"
wait_for 3 hook_has_t wake nas 1 || fail "relay did not wake nas: $(tail -5 "$DAEMON_LOG")"
expect_env_t wake nas 1 NETWAKED_ORIGIN relay
expect_env_t wake nas 1 NETWAKED_SRC "$CLI_ADDR"
# The accepted packet is a command on the one command path (issue 18): its one log line.
log_has "command wake nas \(relay $CLI_ADDR\): magic packets sent for nas" || fail "the relay's wake is not a command: $(tail -5 "$DAEMON_LOG")"
send 9 "$(magic_hex "$PC4_MAC" 0a0b0c0d deadbeefcafe)"
wait_for 3 hook_has_t wake pc4 1 || fail "relay did not wake pc4"
send 7 "$(magic_hex "$PC_MAC")"
wait_for 3 hook_has_t wake pc 1 || fail "relay did not wake pc (port 7, password none)"
# rejected: over the rate, unknown MAC, wrong and missing password, not magic
send 9 "$(magic_hex "$NAS_MAC" 001122334455)"
send 9 "$(magic_hex 02:de:ad:be:ef:01)"
send 9 "$(magic_hex "$PC4_MAC" 0a0b0c0e)"
send 9 "$(magic_hex "$NAS_MAC")"
send 9 "00$(magic_hex "$NAS_MAC" 001122334455)"
rejected_all() { [[ $(relay over_rate) == 1 && $(relay unknown_mac) == 1 && $(relay bad_password) == 2 && $(relay not_magic) == 1 ]]; }
wait_for 5 rejected_all || fail "relay counters: $(status_get "s['relay']")"
[[ $(relay accepted) == 3 ]] || fail "accepted: $(relay accepted)"
say "relay counters: $(status_get "s['relay']")"
figure relay_rejected "$(status_get "s['counters']['rejected']")"
ctl_ok status
grep -q "wol_relay: accepted 3, rejected: not magic 1, unknown MAC 1, bad password 2, over rate 1" <<<"$CTL_OUT" ||
    fail "status text: $CTL_OUT"
log_has "wol_relay rejected from $CLI_ADDR: magic packet for 02:de:ad:be:ef:01" || fail "no rejection log line with the source"
[[ $(hook_count wake) -eq 3 ]] || fail "$(hook_count wake) wakes, expected 3"
ncap() { [[ $(pcap_packets "$CAP") -ge $1 ]]; }
wait_for 5 ncap 4 || fail "only $(pcap_packets "$CAP") frames on the LAN, expected 4 (tcpdump delivers in blocks)"
capture_stop
pcap_decode "$CAP" "$NAS_MAC" 001122334455 >"$NW_TMP/nas.txt"
pcap_decode "$CAP" "$PC4_MAC" 0a0b0c0d >"$NW_TMP/pc4.txt"
pcap_decode "$CAP" "$PC_MAC" >"$NW_TMP/pc.txt"
sed 's/^/  | /' "$NW_TMP/nas.txt" "$NW_TMP/pc4.txt" "$NW_TMP/pc.txt"
[[ $(awk -v m="$NAS_MAC" '$2=="eth" && $3==m && $5=="0x0842" && $6==108 && $7=="magic"' "$NW_TMP/nas.txt" | wc -l) -eq 1 ]] ||
    fail "nas: expected one fresh 108-byte 0x0842 frame"
[[ $(awk '$2=="udp" && $3=="10.202.0.1" && $4=="10.202.0.255" && $6==9 && $7==108 && $8=="magic"' "$NW_TMP/nas.txt" | wc -l) -eq 1 ]] ||
    fail "nas: expected one fresh 108-byte UDP datagram to 10.202.0.255:9"
[[ $(awk -v m="$PC4_MAC" '$2=="eth" && $3==m && $5=="0x0842" && $6==106 && $7=="magic"' "$NW_TMP/pc4.txt" | wc -l) -eq 1 ]] ||
    fail "pc4: expected one 106-byte frame (the sender's trailing bytes dropped)"
[[ $(awk -v m="$PC_MAC" '$2=="eth" && $3==m && $5=="0x0842" && $6==102 && $7=="magic"' "$NW_TMP/pc.txt" | wc -l) -eq 1 ]] ||
    fail "pc: expected one 102-byte frame"
n=$(capture_read "$CAP" -nn -e | grep -c "0x0842\|UDP")
[[ $n -eq 4 ]] || fail "$n magic frames/datagrams on the LAN, expected 4: $(capture_read "$CAP" -nn -e)"
! capture_read "$CAP" -nn -xx | tr -d ' \n' | grep -q "deadbeefcafe\|02deadbeef01\|0a0b0c0e" || fail "the sender's bytes reached the LAN"
stop_daemon
pass
