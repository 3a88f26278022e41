#!/bin/bash
# tests/netns/78_reload_sensors.sh — a reload applies sensor changes (SPEC §3): under an NFLOG flood,
# a pcap sensor is added and an NFLOG one removed; the kept one loses no packet; a bad new sensor
# fails the reload and the old ones keep capturing.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 7001 -> NFLOG G  (sensor fw, kept)
#                                                             udp dport 7002 -> NFLOG G2 (sensor old, removed)
#                                              pcap on ${NW_ID}r "udp port 7003"          (sensor lan, added)
#                                              netwaked -C conf.yaml (rewritten between reloads)
. "$(dirname "$0")/lib.sh"
require_root iptables ss
lab_two
G=$(nflog_group)
G2=$((G + 1))
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 7001 -j NFLOG --nflog-group "$G" || fail "iptables"
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 7002 -j NFLOG --nflog-group "$G2" || fail "iptables"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
CONF=$NW_TMP/conf.yaml
FLOOD=4000

# write_conf SENSORS_YAML TARGETS_YAML
write_conf() {
    cat >"$CONF.new" <<EOF
# 78_reload_sensors
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
$1
defaults:
  hook: $NW_TMP/hook
targets:
  - name: keep
    match:
      - { sensor: fw, dst_port: 7001 }
    ttl: 60s
$2
EOF
    mv "$CONF.new" "$CONF"
}
# sensor_stat NAME FIELD: a counter of sensor NAME from status --json
sensor_stat() { status_get "[x['$2'] for x in s['sensors'] if x['name'] == '$1'][0]"; }
stat_is() { [[ $(sensor_stat "$1" "$2") == "$3" ]]; }
stat_over() { local v; v=$(sensor_stat "$1" "$2") && ((v > $3)); }

write_conf "  - name: old
    nflog: { group: $G2 }" "  - name: gone
    match:
      - { sensor: old, dst_port: 7002 }
    ttl: 60s"
start_conf_daemon "$NS_RTR" "$CONF" "$G" "$G2"

say "flood: $FLOOD datagrams to udp 7001 (sensor fw) while the sensors change"
background pkt "$NS_CLI" udp "$RTR_ADDR" 7001 --count "$FLOOD" --interval 0.001 >/dev/null
wait_for 5 stat_over fw packets 300 || fail "the flood does not reach sensor fw"
write_conf "  - name: lan
    pcap: { interface: $RTR_IF, filter: 'udp port 7003' }" "  - name: lan
    match:
      - { sensor: lan, dst_port: 7003 }
    ttl: 60s"
ctl_ok reload
mid=$(sensor_stat fw packets) || fail "no status after the reload"
say "reload done with $mid of $FLOOD flood packets seen by fw"
((mid < FLOOD)) || fail "the flood ended before the reload (raise FLOOD)"
log_has 'reload: sensor old closed' || fail "no 'sensor old closed' log line"
log_has 'reload: sensor lan opened' || fail "no 'sensor lan opened' log line"
nflog_bound "$NS_RTR" "$G2" && fail "NFLOG group $G2 of the removed sensor is still bound"
pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "no filtered pcap handle on $RTR_IF after the reload"
sensor_stat old packets >/dev/null && fail "the removed sensor is still in status"

wait_for 15 stat_is fw packets "$FLOOD" ||
    fail "kept sensor fw saw $(sensor_stat fw packets) of $FLOOD packets across the reload"
[[ $(sensor_stat fw drops) == 0 ]] || fail "kept sensor fw counted $(sensor_stat fw drops) NFLOG sequence gap(s)"
figure fw_packets_across_reload "$FLOOD/$FLOOD"

say "the added pcap sensor works: udp 7003 starts target lan"
pkt "$NS_CLI" udp "$RTR_ADDR" 7003 >/dev/null || fail "send failed"
wait_for 3 hook_has_t start lan 1 || fail "no start for lan through the added pcap sensor"
[[ $(status_get "t('lan')['state']") == active ]] || fail "lan is not active"

say "a reload with a bad new sensor keeps the running ones"
write_conf "  - name: lan
    pcap: { interface: $RTR_IF, filter: 'udp port 7003' }
  - name: bad
    pcap: { interface: ${NW_ID}nosuch }" "  - name: lan
    match:
      - { sensor: lan, dst_port: 7003 }
    ttl: 60s"
ctl reload && fail "a reload with a missing interface succeeded"
grep -q "sensor bad" <<<"$CTL_OUT$CTL_ERR" || fail "the reload error does not name sensor bad: $CTL_OUT $CTL_ERR"
lan0=$(sensor_stat lan packets) || fail "no status after the failed reload"
pkt "$NS_CLI" udp "$RTR_ADDR" 7001 --count 20 >/dev/null || fail "send failed"
pkt "$NS_CLI" udp "$RTR_ADDR" 7003 --count 5 >/dev/null || fail "send failed"
wait_for 3 stat_is fw packets $((FLOOD + 20)) || fail "fw stopped counting after the failed reload"
wait_for 3 stat_over lan packets $((lan0 + 4)) || fail "lan stopped counting after the failed reload"
sensor_stat bad packets >/dev/null && fail "the bad sensor appears in status"
pass
