#!/bin/bash
# tests/netns/50_sleep_proxy.sh — the sleep proxy end to end with a Wakupator registration: the
# payload (in two segments) -> "OK.\0"; probes answered by the live sleeper's kernel (ARP and NS);
# the sleeper's link goes down -> takeover announced in two bursts; ARP and NS answered with the
# proxy's MAC; ICMP, RST, ACK, FIN and unlisted ports do not wake; no RST/ICMP/forwarded frame
# from the proxy host (which routes); a client SYN -> magic packets to the sleeper's MAC and
# broadcast, retransmissions add no cycle; the sleeper comes back -> awake with the wake cycle's
# NETWAKED_ATTEMPT / NETWAKED_WAKE_SECONDS (as a plain WoL target's), release, its own MAC
# announced on its behalf, the client's connect succeeds; the registration ends; nft table gone.
# Lab: see tests/netns/59_proxy_lab.sh (proxy, sleeper, client on one bridge; proxy forwards).
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
NO_TARGETS=1 write_conf  # no configured target at all: registered machines are the only ones
start_proxy
background pk "$NS_SL" listen 2222
cap_start main
# --- registration, in two segments
r=$(reg_send "$NS_SL" "$(wakupator_payload)" 40)
[[ $r == "b'OK.\\x00'" ]] || fail "registration answered $r, expected OK.\\0"
wait_for 3 state_is Tartiflette up || fail "registered machine not up in status: $(status_json)"
# several probe rounds (every 500 ms; 3 misses would mean asleep) answered by the live machine
probe_replies() { [[ $(cap_count main "$SL_MAC $PX_MAC arp rep sha=$SL_MAC spa=$SL_IP tha=$PX_MAC tpa=$PX_IP") -ge 4 ]]; }
wait_for 5 probe_replies || fail "the live machine did not answer 4 probes"
state_is Tartiflette up || fail "a live machine was taken over: $(proxy_state Tartiflette)"
# The live kernel answered our probes: an ARP request from our own address, an NS with a checksum it accepted.
cap_has main "$SL_MAC $PX_MAC arp rep sha=$SL_MAC spa=$SL_IP tha=$PX_MAC tpa=$PX_IP" || fail "no ARP reply to the probes"
cap_has main "$SL_MAC $PX_MAC na $SL_IP6 fe80::[0-9a-f:]+ tgt=$SL_IP6 flags=SO? ll=$SL_MAC" ||
    cap_has main "$SL_MAC $PX_MAC na $SL_IP6 .* tgt=$SL_IP6" || fail "the sleeper's kernel did not answer our NS"
say "probes answered by the live kernel (ARP reply, NA)"

# --- the sleeper goes to sleep
now_us; t_down=$NOW_US
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep after the sleeper went down"
now_us; say "asleep after $(us_to_ms $((NOW_US - t_down))) ms (3 misses at 500 ms)"
wait_for 2 state_is Tartiflette asleep || fail "status: $(proxy_state Tartiflette)"
[[ $(proxy_state Tartiflette) == "asleep $SL_IP $SL_IP6" ]] || fail "held: $(proxy_state Tartiflette)"
expect_env asleep 1 NETWAKED_REASON probe
expect_env asleep 1 NETWAKED_TARGET Tartiflette
expect_clean_env asleep 1
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft set held4 lacks $SL_IP"
wait_for 3 held_in_nft held6 "$SL_IP6" || fail "nft set held6 lacks $SL_IP6"
sleep 2.5
garp="$PX_MAC ff:ff:ff:ff:ff:ff arp req sha=$PX_MAC spa=$SL_IP tha=00:00:00:00:00:00 tpa=$SL_IP"
una="$PX_MAC 33:33:00:00:00:01 na $SL_IP6 ff02::1 tgt=$SL_IP6 flags=O ll=$PX_MAC"
[[ $(cap_count main "$garp") == 2 ]] || fail "expected 2 gratuitous ARPs, saw $(cap_count main "$garp")"
[[ $(cap_count main "$una") == 2 ]] || fail "expected 2 unsolicited NAs with Override, saw $(cap_count main "$una")"
t1=$(cap_lines main | grep -E -- "$garp" | awk 'NR==1{print $1}')
t2=$(cap_lines main | grep -E -- "$garp" | awk 'NR==2{print $1}')
say "takeover announced: 2 GARP + 2 NA(O), bursts $(us_to_ms $((t2 - t1))) ms apart"
((t2 - t1 >= 1900000 && t2 - t1 <= 2600000)) || fail "the second burst came $(us_to_ms $((t2 - t1))) ms after the first"

# --- ARP and NS answered with the proxy's MAC; ICMP is not answered and does not wake
ip -n "$NS_CL" neigh flush all
ip netns exec "$NS_CL" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1 && fail "someone answered a ping for the sleeping machine"
ip netns exec "$NS_CL" ping -6 -c1 -W1 "$SL_IP6" >/dev/null 2>&1 && fail "someone answered a ping6 for the sleeping machine"
cap_has main "$PX_MAC $CL_MAC arp rep sha=$PX_MAC spa=$SL_IP tha=$CL_MAC tpa=$CL_IP" || fail "ARP request not answered"
cap_has main "$PX_MAC $CL_MAC na $SL_IP6 $CL_IP6 tgt=$SL_IP6 flags=SO ll=$PX_MAC" || fail "NS not answered (S|O, our MAC)"
ip -n "$NS_CL" neigh show "$SL_IP" | grep "$PX_MAC" >/dev/null || fail "client's ARP cache: $(ip -n "$NS_CL" neigh show "$SL_IP")"
say "client resolves $SL_IP and $SL_IP6 to the proxy's MAC"

# --- not wake-worthy: RST, ACK, FIN, SYN+ACK, ICMP, SYN to a port not listed, UDP to a port not listed
for fl in R A FA SA; do pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 40000 2222 "$fl" >/dev/null; done
pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 40000 23 S >/dev/null
pk "$NS_CL" frame "$CL_IF" tcp6 "$CL_MAC" "$PX_MAC" "$CL_IP6" "$SL_IP6" 40000 23 S >/dev/null
pk "$NS_CL" frame "$CL_IF" udp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 40000 5353 >/dev/null
pk "$NS_CL" frame "$CL_IF" icmp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" >/dev/null
sleep 1
[[ $(hook_count wake) == 0 ]] || fail "woken by traffic that is not wake-worthy"
cap_has main "wol target" && fail "magic packets for traffic that is not wake-worthy"
state_is Tartiflette asleep || fail "state $(proxy_state Tartiflette)"
# The host neither answered (RST/ICMP) nor forwarded (it routes!) anything for the held addresses.
cap_lines main | grep -E "^[0-9]+ $PX_MAC .* (tcp4|tcp6|icmp4|icmp6|udp4|ip4|ip6) " | grep -vE "13717|icmp6 fe80|ff02::" >"$NW_TMP/own.txt"
[[ ! -s $NW_TMP/own.txt ]] || fail "the proxy host sent IP traffic for held addresses: $(head -3 "$NW_TMP/own.txt")"
say "no RST, ICMP or forwarded frame from the proxy host"

# --- a client connects: wake
background pk "$NS_CL" connect "$SL_IP" 2222 30 >"$NW_TMP/connect.out"
wait_for 3 hook_has wake 1 || fail "no wake after a SYN"
expect_env wake 1 NETWAKED_MAC "$SL_MAC"
expect_env wake 1 NETWAKED_ATTEMPT 1
expect_env wake 1 NETWAKED_REASON traffic
expect_env wake 1 NETWAKED_DST_PORT 2222
expect_env wake 1 NETWAKED_SRC "$CL_IP"
expect_clean_env wake 1
wait_for 2 state_is Tartiflette waking || fail "state $(proxy_state Tartiflette)"
sleep 3.5  # the client's kernel retransmits its SYN at +1 s and +3 s
syns=$(cap_count main "$CL_MAC $PX_MAC tcp4 $CL_IP:[0-9]+ $SL_IP:2222 flags=S$")
((syns >= 2)) || fail "expected SYN retransmissions, saw $syns SYN(s)"
[[ $(hook_count wake) == 1 ]] || fail "retransmitted SYNs started $(hook_count wake) wake cycles"
uni=$(cap_count main "$PX_MAC $SL_MAC wol target=$SL_MAC")
bc=$(cap_count main "$PX_MAC ff:ff:ff:ff:ff:ff wol target=$SL_MAC")
((uni == 3 && bc == 3)) || fail "expected 3 magic packets unicast + 3 broadcast, saw $uni + $bc"
say "$syns SYNs -> one wake: $uni unicast + $bc broadcast magic packets"

# --- the sleeper comes back
sleeper_up
wait_for 5 hook_has awake 1 || fail "no awake after the sleeper came back"
expect_env awake 1 NETWAKED_REASON probe
expect_env awake 1 NETWAKED_MAC "$SL_MAC"
expect_env awake 1 NETWAKED_ATTEMPT 1
ws=$(hook_env awake 1 NETWAKED_WAKE_SECONDS)
[[ $ws =~ ^[0-9]+\.[0-9]{3}$ ]] || fail "awake: NETWAKED_WAKE_SECONDS is '$ws'"
wait_for 15 grep -q connected "$NW_TMP/connect.out" || fail "client connect: $(cat "$NW_TMP/connect.out")"
sleep 0.5
cap_has main "$PX_MAC ff:ff:ff:ff:ff:ff arp req sha=$SL_MAC spa=$SL_IP tha=00:00:00:00:00:00 tpa=$SL_IP" ||
    fail "no gratuitous ARP on the sleeper's behalf"
cap_has main "$PX_MAC 33:33:00:00:00:01 na $SL_IP6 ff02::1 tgt=$SL_IP6 flags=O ll=$SL_MAC" ||
    fail "no unsolicited NA on the sleeper's behalf"
first=$(cap_lines main | awk -v m="$SL_MAC" -v t="$t2" '!f && $1 > t && $2 == m {print $1; f = 1}')
conn=$(awk '$1=="connected"{print $2}' "$NW_TMP/connect.out")
figure boot_to_connect_ms "$(us_to_ms $((conn - first)))"
# NETWAKED_WAKE_SECONDS: first magic packet -> first frame of the sleeper, as the capture saw them.
wol1=$(cap_lines main | awk -v m="wol target=$SL_MAC" 'index($0, m) {print $1; exit}')
d_ms=$(((first - wol1) / 1000)) ws_ms=$((10#${ws/./}))
((ws_ms - d_ms <= 300 && d_ms - ws_ms <= 300)) || fail "NETWAKED_WAKE_SECONDS=$ws, the capture says $d_ms ms"
figure wake_seconds "$ws"
say "first frame of the sleeper -> client connected: $(us_to_ms $((conn - first))) ms"
wait_for 3 bash -c "! '$NETWAKECTL' -s '$CTL' status --json | grep Tartiflette >/dev/null" ||
    fail "the registration outlived its sleep: $(proxy_state Tartiflette)"
wait_for 3 bash -c "! ip netns exec $NS_PX nft list table inet netwaked >/dev/null 2>&1" ||
    fail "nft table still present with nothing held"
# After the release nothing answers for the sleeper but the sleeper.
n=$(cap_count main "$PX_MAC .* arp rep sha=$PX_MAC spa=$SL_IP")
ip -n "$NS_CL" neigh flush all
ip netns exec "$NS_CL" ping -c1 -W2 "$SL_IP" >/dev/null 2>&1 || fail "sleeper unreachable after the release"
[[ $(cap_count main "$PX_MAC .* arp rep sha=$PX_MAC spa=$SL_IP") == "$n" ]] || fail "proxy still answers after release"

stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
nft_table && fail "nft table left behind"
pass
