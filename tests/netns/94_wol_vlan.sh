#!/bin/bash
# tests/netns/94_wol_vlan.sh — cross-VLAN wake (issue 14 item 4): wol.interface is an 802.1Q VLAN
# device and udp_to the directed broadcast of the VLAN's subnet; the trunk carries tagged magic
# frames (VLAN 10, 0x0842 and UDP, 102 bytes), and verification works through the VLAN device.
# Skipped where the kernel has no 802.1Q support (no 8021q module).
#
#   router netns                                   nas netns
#   ${NW_ID}t (trunk, no address) <---- veth ----> ${NW_ID}u (trunk; tcpdump -e here)
#   ${NW_ID}t.10 10.210.0.1/24 (vlan 10)           ${NW_ID}u.10 (vlan 10, MAC $NAS_MAC;
#   netwaked: wol.interface ${NW_ID}t.10                   10.210.0.20 appears after the burst)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root
NS_RTR=$NW_ID-rtr
NS_NAS=$NW_ID-nas
T=${NW_ID}t
U=${NW_ID}u
NAS_MAC=d8:cb:8a:39:be:c1
netns_add "$NS_RTR"
netns_add "$NS_NAS"
veth_pair "$NS_RTR" "$T" "$NS_NAS" "$U"
ip -n "$NS_RTR" link add link "$T" name "$T.10" type vlan id 10 2>/dev/null ||
    skip "no 802.1Q VLAN support in this kernel (8021q module missing)"
ip -n "$NS_NAS" link add link "$U" name "$U.10" type vlan id 10 || fail "vlan on the nas side"
ip -n "$NS_NAS" link set "$U.10" address "$NAS_MAC" || fail "set NAS MAC"
ip -n "$NS_RTR" addr add 10.210.0.1/24 dev "$T.10"
ip -n "$NS_RTR" link set "$T.10" up
ip -n "$NS_NAS" link set "$U.10" up
G=$(nflog_group)
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
defaults:
  hook: $NW_TMP/hook
targets:
  - name: nas
    match: [ { dst: 10.210.0.20 } ]
    wol:
      mac: $NAS_MAC
      interface: $T.10
      method: [ethernet, udp]
      ethernet_to: unicast
      udp_to: 10.210.0.255:9
      repeat: 1
      verify: { timeout: 5s, attempts: 2 }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/trunk.pcap
capture_start "$NS_NAS" "$U" "" "$CAP"
ctl_ok wake nas
wait_for 3 capture_has "$CAP" "vlan 10.*0x0842" || fail "no tagged 0x0842 frame on the trunk: $(capture_read "$CAP" -nn -e | head -5)"
wait_for 3 capture_has "$CAP" "vlan 10.*10.210.0.1.[0-9]+ > 10.210.0.255.9: UDP, length 102" ||
    fail "no tagged UDP magic packet to 10.210.0.255:9: $(capture_read "$CAP" -nn -e | head -5)"
wait_for 3 capture_has "$CAP" "vlan 10.*who-has 10.210.0.20" || fail "no tagged ARP probe"
ip -n "$NS_NAS" addr add 10.210.0.20/24 dev "$U.10" || fail "nas address"
wait_for 4 hook_has_t awake nas 1 || fail "not awake through the VLAN: $(grep nas "$DAEMON_LOG" | tail -3)"
capture_stop
pcap_decode "$CAP" "$NAS_MAC" >"$NW_TMP/d.txt"
sed 's/^/  | /' "$NW_TMP/d.txt"
grep -q "magic" "$NW_TMP/d.txt" || fail "payload is not the exact magic packet"
say "awake after $(hook_env_t awake nas 1 NETWAKED_WAKE_SECONDS) s through VLAN 10"
stop_daemon
pass
