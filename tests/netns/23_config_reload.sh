#!/bin/bash
# tests/netns/23_config_reload.sh — reload (SIGUSR2, netwakectl reload): a broken file keeps the old
# config, errors as FILE:LINE:COL:; a good one adds a target, changes a TTL, keeps active state.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 7001 -> NFLOG G prefix "keep"
#                                                             udp dport 7002 -> NFLOG G prefix "other"
#                                                             udp dport 7003 -> NFLOG G prefix "fresh"
#                                                             udp dport 7004 -> NFLOG G prefix "third"
#                                              netwaked -C conf.yaml (rewritten between reloads)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
for p in keep:7001 other:7002 fresh:7003 third:7004; do
    ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport "${p#*:}" -j NFLOG --nflog-group "$G" \
        --nflog-prefix "${p%:*}" || fail "iptables rule"
done
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
CONF=$NW_TMP/conf.yaml

# write_conf KEEP_TTL EXTRA_TARGETS_YAML: the configuration with target keep (and other)
write_conf() {
    cat >"$CONF.new" <<EOF
# 23_config_reload
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
defaults:
  hook: $NW_TMP/hook
targets:
  - name: keep
    match:
      - prefix: keep
    ttl: $1
  - name: other
    match:
      - prefix: other
    ttl: 1s
$2
EOF
    mv "$CONF.new" "$CONF"  # atomic: the daemon never reads a half-written file
}
send() { pkt "$NS_CLI" udp "$RTR_ADDR" "$1" | awk '$1=="sent"{print $2}'; }

write_conf 4s ""
start_conf_daemon "$NS_RTR" "$CONF" "$G"

say "client: udp 7001 -> keep starts (ttl 4s)"
send 7001 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start keep 1 || fail "no start for keep"

# --- 1: SIGUSR2 with a broken file
write_conf 4s "  - name: fresh
    match:
      - prefix: fresh
    ttl: 5x
    bogus: 1"
L_TTL=$(grep -n '^    ttl: 5x$' "$CONF" | cut -d: -f1)
L_BOGUS=$(grep -n '^    bogus: 1$' "$CONF" | cut -d: -f1)
off=$(log_size)
say "SIGUSR2 with a broken file (ttl: 5x on line $L_TTL, unknown key on line $L_BOGUS)"
kill -USR2 "$DAEMON_PID"
wait_for 3 log_since "$off" "$CONF:$L_BOGUS:5: " || fail "the log does not report $CONF:$L_BOGUS:5: (unknown key)"
wait_for 1 log_since "$off" "$CONF:$L_TTL:10: .*5x" || fail "the log does not report $CONF:$L_TTL:10: quoting \"5x\""
say "log: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -F "$CONF:" | head -2 | tr '\n' '|')"
pid_alive "$DAEMON_PID" || fail "netwaked died on a broken reload"
target_is keep active || fail "keep is not active after a failed reload: $CTL_OUT"
[[ $(status_get '[x["name"] for x in s["targets"]]') == '["keep", "other"]' ]] ||
    fail "targets after a failed reload: $(status_get '[x["name"] for x in s["targets"]]')"
say "client: udp 7002 -> 'other' (old configuration) still starts"
send 7002 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start other 1 || fail "the old configuration stopped working after a failed reload"
send 7003 >/dev/null || fail "send failed"
stays_false 0.3 hook_has_t start fresh 1 || fail "the broken file's target 'fresh' ran"

# --- 2: SIGUSR2 with a good file: keep's TTL 4s -> 2s, new target fresh
t_keep=$(send 7001) || fail "send failed"
write_conf 2s "  - name: fresh
    match:
      - prefix: fresh
    ttl: 1s"
off=$(log_size)
say "SIGUSR2 with a good file (keep ttl 2s, new target fresh)"
kill -USR2 "$DAEMON_PID"
keep_ttl_2() { [[ $(status_get 't("keep")["ttl_s"]') == 2* ]]; }
wait_for 3 keep_ttl_2 ||
    fail "keep's TTL did not change to 2 s after the reload (status: $CTL_OUT; log: $(tail -n 3 "$DAEMON_LOG" | tr '\n' '|'))"
say "log: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -i reload | head -1)"
target_is keep active || fail "keep lost its active state in the reload"
say "client: udp 7003 -> the new target 'fresh' starts"
send 7003 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start fresh 1 || fail "the new target did not start after the reload"
expect_env_t start fresh 1 NETWAKED_PREFIX fresh
wait_for 4 hook_has_t stop keep 1 || fail "keep did not stop within the new 2 s TTL (+2 s)"
late=$(($(hook_time_t stop keep 1) - t_keep))
say "keep stopped $(us_to_ms "$late") ms after its last packet (old ttl 4 s, new 2 s)"
((late < 3500000)) || fail "keep stopped $(us_to_ms "$late") ms after its last packet: the new 2 s TTL was not applied"
[[ $(hook_count_t start keep) -eq 1 ]] || fail "keep started $(hook_count_t start keep) times (reload must not restart it)"

# --- 3: netwakectl reload: broken file -> exit 1, good file -> exit 0 and a new target
write_conf 2s "  - name: third
    match: [ { prefix: third, proto: tcpx } ]"
L=$(grep -n 'tcpx' "$CONF" | cut -d: -f1)
ctl reload
say "netwakectl reload (broken): exit $CTL_RC: $(head -3 <<<"$CTL_ERR$CTL_OUT" | tr '\n' '|')"
[[ $CTL_RC -eq 1 ]] || fail "netwakectl reload with a broken file: exit $CTL_RC, expected 1"
grep -q "$CONF:$L:[0-9]*: .*tcpx" <<<"$CTL_ERR" || fail "netwakectl does not show the $CONF:$L:COL: error for proto: tcpx: $CTL_ERR"
[[ $(status_get '[x["name"] for x in s["targets"]]') == '["keep", "other", "fresh"]' ]] ||
    fail "targets after a failed netwakectl reload: $CTL_OUT"
write_conf 2s "  - name: third
    match: [ { prefix: third, proto: udp } ]
    ttl: 1s"
ctl_ok reload
say "netwakectl reload (good): $CTL_OUT"
[[ $(status_get '[x["name"] for x in s["targets"]]') == '["keep", "other", "third"]' ]] ||
    fail "targets after netwakectl reload: $CTL_OUT"
send 7004 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start third 1 || fail "the target added by netwakectl reload did not start"
send 7003 >/dev/null || fail "send failed"
stays_false 0.3 hook_has_t start fresh 2 || fail "the removed target 'fresh' started again"
pid_alive "$DAEMON_PID" || fail "netwaked died"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
