#!/bin/bash
# tests/netns/73_knock_counters.sh — knock status counters (doc/status-json.md): sensors[].packets,
# sensors[].matched (knock steps, SPA datagrams: yes; unrelated: no), counters.rejected.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              nft: tcp dport {7000,8000}, udp dport {9000,62201}
#                                                     -> log group G prefix "knock", drop
#                                                   udp dport 5555 -> log group G prefix "noise"
#                                              netwaked -C conf.yaml: target ssh, knocks ssh-seq, ssh-spa
. "$(dirname "$0")/lib.sh"
require_root nft
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rules"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport { 7000, 8000 } log group $G prefix "knock" drop
        udp dport { 9000, 62201 } log group $G prefix "knock" drop
        udp dport 5555 log group $G prefix "noise"
    }
}
EOF
KEY=$NW_TMP/spa.key
"$NW_CTL" keygen "$KEY" >/dev/null || fail "netwakectl keygen"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 73_knock_counters
daemon:
  state_dir: ""
  control_socket: $CTL_SOCK
sensors:
  - name: knocks
    nflog: { group: $G, copy_range: 256 }
targets:
  - name: ssh
    keepalive: []
    ttl: 1m
    hook: $NW_TMP/hook
knock:
  - name: ssh-seq
    target: ssh
    sequence: [tcp/7000, tcp/8000, udp/9000]
  - name: ssh-spa
    target: ssh
    spa: { port: 62201, key_file: $KEY }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
sensor() { status_get "s['sensors'][0]['$1']"; }
packets_ge() { (($(sensor packets) >= $1)); }

say "client: udp/5555 (logged, no target or knock)"
pkt "$NS_CLI" udp "$RTR_ADDR" 5555 >/dev/null || fail "send failed"
wait_for 2 packets_ge 1 || fail "the sensor did not count the packet"
say "after noise: packets $(sensor packets), matched $(sensor matched)"
[[ $(sensor matched) == 0 ]] || fail "an unrelated packet counted as matched"

say "client: tcp/7000, tcp/8000, udp/9000 (sequence)"
for p in tcp:7000 tcp:8000 udp:9000; do
    pkt "$NS_CLI" "${p%:*}" "$RTR_ADDR" "${p#*:}" >/dev/null || fail "send failed"
done
wait_for 2 hook_has_t knock ssh 1 || fail "the sequence did not complete"
say "client: a good and a bad-HMAC SPA datagram"
out=$(ip netns exec "$NS_CLI" "$NW_CTL" knock "$RTR_ADDR" ssh --key-file "$KEY" 2>&1) || fail "netwakectl knock: $out"
wait_for 2 hook_has_t knock ssh 2 || fail "the SPA knock was not accepted"
udp_send_hex "$NS_CLI" "$RTR_ADDR" 62201 "$(spa_hex "$KEY" ssh 0 1)" || fail "send failed"
rejected_is() { [[ $(status_get 's["counters"]["rejected"]') == "$1" ]]; }
wait_for 2 rejected_is 1 || fail "counters.rejected is $(status_get 's["counters"]["rejected"]') after one bad datagram, expected 1"
wait_for 2 packets_ge 6 || fail "the sensor counted $(sensor packets) packets, expected 6"
say "after the knocks: packets $(sensor packets), matched $(sensor matched), counters $(status_get 's["counters"]')"
[[ $(sensor packets) == 6 ]] || fail "the sensor counted $(sensor packets) packets, expected 6"
(($(sensor matched) >= 4)) ||
    fail "sensors[].matched is $(sensor matched): the 3 sequence steps and the accepted SPA datagram are not counted as matched (doc/status-json.md: 'matched some target, knock or sleep proxy')"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
