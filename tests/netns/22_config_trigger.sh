#!/bin/bash
# tests/netns/22_config_trigger.sh — configuration-file mode, `trigger: {packets: 3, within: 2s}`: two
# packets start nothing, a third within 2 s does; packets spread wider than the window start nothing.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 6000 -> NFLOG G prefix "damp"
#                                              netwaked -C conf.yaml: target "damped" (ttl 1s)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 6000 -j NFLOG --nflog-group "$G" --nflog-prefix damp ||
    fail "iptables rule"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 22_config_trigger: three packets within 2 s start the target
daemon:
  state_dir: ""
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: damped
    match:
      - prefix: damp
    trigger: { packets: 3, within: 2s }
    ttl: 1s
    hook: $NW_TMP/hook
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
seen_ge() { [[ $(status_get 's["sensors"][0]["packets"]') -ge $1 ]]; }
send() { pkt "$NS_CLI" udp "$RTR_ADDR" 6000 --sport "$1" | awk '$1=="sent"{print $2}'; }

# --- 1: two packets: nothing; the third within the window: start
say "client: 2 datagrams"
t1=$(send 42001) || fail "send failed"
send 42002 >/dev/null || fail "send failed"
wait_for 2 seen_ge 2 || fail "the sensor did not see 2 packets (status: $CTL_OUT)"
stays_false 0.8 hook_has start 1 || fail "2 packets started the target (trigger needs 3)"
target_is damped idle || fail "status after 2 packets: $(status_get 't("damped")["state"]')"
say "client: a 3rd datagram $(us_to_ms $((${EPOCHREALTIME/./} - t1))) ms after the 1st"
send 42003 >/dev/null || fail "send failed"
wait_for 2 hook_has start 1 || fail "the 3rd packet within 2 s did not start the target"
expect_env start 1 NETWAKED_TARGET damped
expect_env start 1 NETWAKED_REASON traffic
say "start saw NETWAKED_SRC_PORT=$(hook_env start 1 NETWAKED_SRC_PORT)"
wait_for 3 hook_has stop 1 || fail "no stop 1 s after the start"
wait_for 2 hooks_settled || fail "hooks did not settle"

# --- 2: packets spread wider than the window
say "client: 2 datagrams, then one 2.3 s later (outside the 2 s window)"
t1=$(send 42011) || fail "send failed"
send 42012 >/dev/null || fail "send failed"
wait_for 3 past_us $((t1 + 2300000))
t3=$(send 42013) || fail "send failed"
stays_false 0.5 hook_has start 2 || fail "3 packets spread over 2.3 s started the target (window 2 s)"
say "client: one more (2 inside the window now)"
send 42014 >/dev/null || fail "send failed"
stays_false 0.5 hook_has start 2 || fail "only 2 packets inside the 2 s window started the target"
say "client: one more (3 inside the window)"
t5=$(send 42015) || fail "send failed"
((t5 - t3 < 1900000)) || fail "test bug: the last 3 packets took $(us_to_ms $((t5 - t3))) ms (must fit in 2 s)"
wait_for 2 hook_has start 2 || fail "3 packets inside the 2 s window did not start the target"
wait_for 3 hook_has stop 2 || fail "no second stop"
wait_for 2 hooks_settled || fail "hooks did not settle"
[[ $(hook_seq) == "start stop start stop" ]] || fail "hook sequence '$(hook_seq)'"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
