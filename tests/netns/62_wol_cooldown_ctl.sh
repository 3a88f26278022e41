#!/bin/bash
# tests/netns/62_wol_cooldown_ctl.sh — Wake-on-LAN (tcpdump as oracle): cooldown, `netwakectl wake
# TARGET`, IPv6 udp_to, a missing interface; no daemon: `netwakectl wake MAC -i IF` / `--udp`.
#
#   client netns                router netns (ip_forward=1)                          nas netns
#   ${NW_ID}c 10.201.0.2 <-veth-> ${NW_ID}r 10.201.0.1  ${NW_ID}l 10.202.0.1 <-veth-> ${NW_ID}n (no address,
#   default via 10.201.0.1                              + IPv6 link-local            MAC $NAS_MAC)
#                               FORWARD -d 10.202.0.20 tcp SYN dport 22   -> NFLOG G "nas"     tcpdump here
#                                                              dport 2299 -> NFLOG G "ghost"
#                                                              dport 2300 -> NFLOG G "other"
#                               netwaked -C conf.yaml: nas (ethernet, repeat 2, cooldown 4s, ttl 1s),
#                               nas6 (udp [ff02::1%${NW_ID}l]:9), ghost (wol interface nosuch0), other (no wol)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root iptables
lab_two
NAS_ADDR=10.202.0.20
NAS_MAC=d8:cb:8a:39:be:a1
NAS6_MAC=02:11:22:33:44:06
nas_lab "$NAS_MAC"
ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 "net.ipv6.conf.$LAN_IF.accept_dad=0" \
    "net.ipv6.conf.$LAN_IF.disable_ipv6=0" || fail "sysctl"
ip -n "$NS_CLI" route add default via "$RTR_ADDR" || fail "client default route"
ll_ready() { ip -n "$NS_RTR" -6 addr show dev "$LAN_IF" scope link | grep -v tentative | grep 'inet6 fe80' >/dev/null; }
wait_for 3 ll_ready || fail "no IPv6 link-local address on $LAN_IF"
G=$(nflog_group)
for p in nas:22 ghost:2299 other:2300; do
    ip netns exec "$NS_RTR" iptables -A FORWARD -d "$NAS_ADDR" -p tcp --syn --dport "${p#*:}" \
        -j NFLOG --nflog-group "$G" --nflog-prefix "${p%:*}" || fail "iptables rule"
done
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
defaults:
  hook: $NW_TMP/hook
  ttl: 1s
targets:
  - name: nas
    match: [ { prefix: nas } ]
    wol:
      mac: $NAS_MAC
      interface: $LAN_IF
      method: ethernet
      repeat: 2
      interval: 100ms
      cooldown: 4s
  - name: nas6
    match: [ { prefix: never-logged } ]
    wol:
      mac: "$NAS6_MAC"
      method: udp
      udp_to: "[ff02::1%$LAN_IF]:9"
      repeat: 1
  - name: ghost
    match: [ { prefix: ghost } ]
    wol:
      mac: "02:11:22:33:44:99"
      interface: nosuch0
      method: ethernet
      repeat: 1
  - name: other
    match: [ { prefix: other } ]
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or udp" "$CAP"
wakes() { status_get "t('$1')['wakes']"; }
mark() { now_us; MARKS+=("$1:$NOW_US"); }
MARKS=()

# --- 1: first start: a burst of 2 x (unicast + broadcast)
mark start1
say "client: SYN to $NAS_ADDR:22 -> nas starts, burst 1"
pkt "$NS_CLI" tcp "$NAS_ADDR" 22 >/dev/null || fail "send failed"
wait_for 2 hook_has_t wake nas 1 || fail "no wake hook for nas"
expect_env_t wake nas 1 NETWAKED_ATTEMPT 1
wait_for 3 hook_has_t stop nas 1 || fail "nas did not stop after its 1 s TTL"

# --- 2: second start within the 4 s cooldown: hooks run, no burst
mark start2
off=$(log_size)
say "client: SYN again, $(us_to_ms $((NOW_US - $(hook_time_t wake nas 1)))) ms after the burst (cooldown 4 s)"
pkt "$NS_CLI" tcp "$NAS_ADDR" 22 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start nas 2 || fail "no second start for nas"
wait_for 2 log_since "$off" "nas.*(cooldown|suppress)" || fail "the log does not say the wake was suppressed by the cooldown"
say "log: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -E 'cooldown|suppress' | head -1)"
stays_false 0.5 hook_has_t wake nas 2 || fail "a wake hook ran within the cooldown"
[[ $(wakes nas) == 1 ]] || fail "status wakes $(wakes nas) after a start within the cooldown, expected 1"

# --- 3: netwakectl wake nas: a burst right away, cooldown or not
mark ctlwake
ctl_ok wake nas
say "netwakectl wake nas: $CTL_OUT"
wait_for 1 hook_has_t wake nas 2 || fail "netwakectl wake nas ran no wake hook"
expect_env_t wake nas 2 NETWAKED_REASON control
expect_env_t wake nas 2 NETWAKED_MAC "$NAS_MAC"
[[ $(wakes nas) == 2 ]] || fail "status wakes $(wakes nas) after netwakectl wake, expected 2"
# the burst's second copy leaves 100 ms after the first: let it out before the next phase's mark
t_ctl=${MARKS[-1]#*:}
wait_for 2 past_us $((t_ctl + 400000))
ctl wake other
[[ $CTL_RC -eq 1 ]] || fail "netwakectl wake on a target without wol: exit $CTL_RC, expected 1"
say "netwakectl wake other (no wol) -> exit 1: $CTL_ERR"

# --- 4: IPv6 udp_to [ff02::1%IF]:9
mark ipv6
ctl_ok wake nas6
say "netwakectl wake nas6: $CTL_OUT"
wait_for 1 hook_has_t wake nas6 1 || fail "no wake hook for nas6"

# --- 5: a wol interface that does not exist
mark ghost
off=$(log_size)
say "client: SYN to $NAS_ADDR:2299 -> ghost (wol interface nosuch0)"
pkt "$NS_CLI" tcp "$NAS_ADDR" 2299 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start ghost 1 || fail "ghost did not start"
wait_for 2 log_since "$off" "ghost.*nosuch0" || fail "no log line naming ghost and the missing interface nosuch0"
say "log: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep nosuch0 | head -1)"
pid_alive "$DAEMON_PID" || fail "netwaked died on a missing wol interface"
stays_false 0.2 hook_has_t wake ghost 1 ||
    say "note: the wake hook ran for ghost although no magic packet went out (status wakes $(wakes ghost))"
ctl_ok status --json
pkt "$NS_CLI" tcp "$NAS_ADDR" 2300 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start other 1 || fail "another target did not start after the wol failure"
mark end
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"

# --- 6: no daemon: netwakectl wake MAC -i IF / --udp
CTL_SOCK=
mark local_eth
out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake "$NAS_MAC" -i "$LAN_IF" 2>&1) || fail "netwakectl wake MAC -i: $out"
say "netwakectl wake $NAS_MAC -i $LAN_IF: $out"
mark local_udp
out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake "$NAS_MAC" --udp 10.202.0.255:9 2>&1) || fail "netwakectl wake MAC --udp: $out"
say "netwakectl wake $NAS_MAC --udp 10.202.0.255:9: $out"
mark local_udp6
out=$(ip netns exec "$NS_RTR" "$NW_CTL" wake "$NAS_MAC" --udp "[ff02::1%$LAN_IF]:9" 2>&1) ||
    fail "netwakectl wake MAC --udp [ff02::1%IF]:9: $out"
say "netwakectl wake $NAS_MAC --udp [ff02::1%$LAN_IF]:9: $out"
mark finished
# expected packets in total: 4 + 0 + 4 + 1 (v6) + 0 + 2 + 1 + 1
ncap() { [[ $(pcap_packets "$CAP") -ge $1 ]]; }
wait_for 3 ncap 13 || fail "$(pcap_packets "$CAP") magic packets captured in all, expected 13"
stays_false 0.3 ncap 14 || fail "more than 13 magic packets captured"
capture_stop
LAN_MAC=$(ip -n "$NS_RTR" -br link show "$LAN_IF" | awk '{print $3}')
pcap_decode "$CAP" "$NAS_MAC" >"$NW_TMP/all.txt"
pcap_decode "$CAP" "$NAS6_MAC" >"$NW_TMP/all6.txt"

# count PHASE SELECTOR [FILE]: packets between the marks PHASE and the next one matching the awk SELECTOR
count() {
    local i from='' to=''
    for ((i = 0; i < ${#MARKS[@]}; i++)); do
        if [[ ${MARKS[i]%%:*} == "$1" ]]; then from=${MARKS[i]#*:}; to=${MARKS[i + 1]#*:}; fi
    done
    awk -v a="$from" -v b="$to" "\$1 >= a && \$1 < b && ($2)" "${3:-$NW_TMP/all.txt}" | wc -l
}
ETH_U='$2=="eth" && $3=="'$NAS_MAC'" && $4=="'$LAN_MAC'" && $5=="0x0842" && $7=="magic"'
ETH_B='$2=="eth" && $3=="ff:ff:ff:ff:ff:ff" && $4=="'$LAN_MAC'" && $5=="0x0842" && $7=="magic"'
ANY='1'
sed 's/^/  | /' "$NW_TMP/all.txt"
check() {  # check PHASE SELECTOR WANT WHAT [FILE]
    local n
    n=$(count "$1" "$2" "${5:-}")
    [[ $n -eq $3 ]] || fail "$4: $n packets, expected $3"
    say "ok  $4: $n"
}
check start1 "$ETH_U" 2 "first start: 0x0842 frames to $NAS_MAC"
check start1 "$ETH_B" 2 "first start: 0x0842 frames to broadcast"
check start2 "$ANY" 0 "second start within the cooldown: packets"
check ctlwake "$ETH_U" 2 "netwakectl wake nas: frames to $NAS_MAC"
check ctlwake "$ETH_B" 2 "netwakectl wake nas: frames to broadcast"
check ipv6 '$2=="udp" && $4=="ff02::1" && $6==9 && $7==102 && $8=="magic"' 1 "nas6: UDP to [ff02::1]:9 with $NAS6_MAC" "$NW_TMP/all6.txt"
check ghost "$ANY" 0 "ghost (missing interface): packets"
check local_eth "$ETH_U" 1 "netwakectl wake MAC -i (no daemon): frames to $NAS_MAC"
check local_eth "$ETH_B" 1 "netwakectl wake MAC -i (no daemon): frames to broadcast"
check local_eth "$ANY" 2 "netwakectl wake MAC -i (no daemon): all packets"
check local_udp '$2=="udp" && $4=="10.202.0.255" && $6==9 && $8=="magic"' 1 "netwakectl wake MAC --udp (no daemon): datagrams"
check local_udp "$ANY" 1 "netwakectl wake MAC --udp (no daemon): all packets"
check local_udp6 '$2=="udp" && $4=="ff02::1" && $6==9 && $8=="magic"' 1 "netwakectl wake MAC --udp [ff02::1%IF]:9: datagrams"
gap=$(awk -v m="$NAS_MAC" '$2=="eth" && $3==m {print $1}' "$NW_TMP/all.txt" | head -2 | awk 'NR==1{a=$1} NR==2{print int(($1-a)/1000)}')
((gap >= 70 && gap <= 300)) || fail "first burst: the 2 copies were $gap ms apart (interval 100 ms)"
pass
