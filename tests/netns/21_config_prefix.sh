#!/bin/bash
# tests/netns/21_config_prefix.sh — configuration-file mode: two targets on one NFLOG group told apart
# by the iptables/nft log prefix; only the right hook runs, with NETWAKED_TARGET and NETWAKED_PREFIX.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables: udp dport 5001 -> NFLOG G prefix "alpha"
#                                              nft:      udp dport 5002 -> log group G prefix "beta"
#                                              iptables: udp dport 5003 -> NFLOG G prefix "alphax"
#                                              iptables: udp dport 5004 -> NFLOG G (no prefix)
#                                              netwaked -C conf.yaml: targets alpha (hook-a), beta (hook-b)
. "$(dirname "$0")/lib.sh"
require_root iptables nft
lab_two
G=$(nflog_group)
ipt() { ip netns exec "$NS_RTR" iptables "$@" || fail "iptables $*"; }
ipt -A INPUT -p udp --dport 5001 -j NFLOG --nflog-group "$G" --nflog-prefix alpha
ipt -A INPUT -p udp --dport 5003 -j NFLOG --nflog-group "$G" --nflog-prefix alphax
ipt -A INPUT -p udp --dport 5004 -j NFLOG --nflog-group "$G"
ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rule"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 5002 log group $G prefix "beta"
    }
}
EOF

make_hook "$NW_TMP/hook-a"
make_hook "$NW_TMP/hook-b"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 21_config_prefix: two targets on one NFLOG group, told apart by prefix
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
defaults:
  ttl: 1s
targets:
  - name: alpha
    match:
      - prefix: alpha
    hook: $NW_TMP/hook-a
  - name: beta
    match:
      - { prefix: beta, proto: udp, dst_port: 5002 }
    hook: $NW_TMP/hook-b
EOF
mkdir -p "$NW_TMP/state"
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"

# --- 1: near-miss prefix and no prefix start nothing
say "client: udp 5003 (prefix alphax) and 5004 (no prefix)"
pkt "$NS_CLI" udp "$RTR_ADDR" 5003 >/dev/null || fail "send failed"
pkt "$NS_CLI" udp "$RTR_ADDR" 5004 >/dev/null || fail "send failed"
# the sensor saw both (so silence below means "no match", not "not delivered")
seen_ge() { [[ $(status_get 'sum(x["packets"] for x in s["sensors"])') -ge $1 ]]; }
wait_for 3 seen_ge 2 ||
    fail "the sensor did not count the 2 logged packets (status: $CTL_OUT)"
stays_false 0.5 hook_has start 1 || fail "a packet with prefix 'alphax' or none started a target: $(hook_seq)"

# --- 2: iptables prefix "alpha" -> only alpha
say "client: udp 5001 (iptables prefix alpha)"
pkt "$NS_CLI" udp "$RTR_ADDR" 5001 --sport 41001 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start alpha 1 || fail "no start for alpha"
[[ $(hook_argv_t start alpha 1) == "$NW_TMP/hook-a start alpha" ]] || fail "alpha start argv: $(hook_argv_t start alpha 1)"
expect_env_t start alpha 1 NETWAKED_TARGET alpha
expect_env_t start alpha 1 NETWAKED_PREFIX alpha
expect_env_t start alpha 1 NETWAKED_EVENT start
expect_env_t start alpha 1 NETWAKED_REASON traffic
expect_env_t start alpha 1 NETWAKED_SENSOR fw
expect_env_t start alpha 1 NETWAKED_SRC "$CLI_ADDR"
expect_env_t start alpha 1 NETWAKED_SRC_PORT 41001
expect_env_t start alpha 1 NETWAKED_DST_PORT 5001
expect_clean_env start 1
stays_false 0.3 hook_has_t start beta 1 || fail "a packet with prefix alpha started beta"
wait_for 3 hook_has_t stop alpha 1 || fail "no stop for alpha after its 1 s TTL"
expect_env_t stop alpha 1 NETWAKED_TARGET alpha
expect_env_t stop alpha 1 NETWAKED_REASON ttl

# --- 3: nft prefix "beta" -> only beta
say "client: udp 5002 (nft log prefix beta)"
pkt "$NS_CLI" udp "$RTR_ADDR" 5002 --sport 41002 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start beta 1 || fail "no start for beta"
[[ $(hook_argv_t start beta 1) == "$NW_TMP/hook-b start beta" ]] || fail "beta start argv: $(hook_argv_t start beta 1)"
expect_env_t start beta 1 NETWAKED_TARGET beta
expect_env_t start beta 1 NETWAKED_PREFIX beta
expect_env_t start beta 1 NETWAKED_PROTO udp
expect_env_t start beta 1 NETWAKED_DST_PORT 5002
stays_false 0.3 hook_has_t start alpha 2 || fail "a packet with prefix beta started alpha"
wait_for 3 hook_has_t stop beta 1 || fail "no stop for beta"
wait_for 2 hooks_settled || fail "hooks did not settle"
[[ $(hook_seq) == "start stop start stop" ]] || fail "hook sequence '$(hook_seq)'"
[[ $(hook_count_t start alpha) -eq 1 && $(hook_count_t start beta) -eq 1 ]] ||
    fail "starts: alpha $(hook_count_t start alpha), beta $(hook_count_t start beta); expected 1 each"
log_has 'alpha.*start|start.*alpha' || fail "no start line for alpha in the log"
log_has 'beta.*start|start.*beta' || fail "no start line for beta in the log"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
