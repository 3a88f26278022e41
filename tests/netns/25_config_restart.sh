#!/bin/bash
# tests/netns/25_config_restart.sh — persistent state: a target active when netwaked exits (SIGTERM,
# SIGKILL) is active again after a restart on the same state_dir; stop runs after the rest of the TTL.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 8501 -> NFLOG G prefix "db"
#                                              netwaked -C conf.yaml (state_dir $NW_TMP/state),
#                                              stopped and started again on the same state_dir
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 8501 -j NFLOG --nflog-group "$G" --nflog-prefix db ||
    fail "iptables rule"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
TTL=3
mkdir -p "$NW_TMP/state"
cat >"$NW_TMP/conf.yaml" <<EOF
# 25_config_restart
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: db
    match: [ { prefix: db } ]
    ttl: ${TTL}s
    hook: $NW_TMP/hook
  - name: quiet
    match: [ { prefix: quiet } ]
    ttl: ${TTL}s
    hook: $NW_TMP/hook
EOF

# round N SIGNAL: traffic starts db; netwaked gets SIGNAL; a new netwaked on the same state_dir
# still has db active and runs its stop hook after the rest of the TTL.
round() {
    local n=$1 sig=$2 t_pkt t_stop rem
    start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
    t_pkt=$(pkt "$NS_CLI" udp "$RTR_ADDR" 8501 | awk '$1=="sent"{print $2}') || fail "send failed"
    wait_for 2 hook_has_t start db "$n" || fail "round $n: no start"
    [[ $sig == KILL ]] || wait_for 2 hook_ended start "$n" || fail "round $n: start hook did not end"
    say "round $n: db active; SIG$sig to netwaked"
    stop_daemon "$DAEMON_PID" 5 "$sig"
    [[ $sig != TERM || $DAEMON_STATUS -eq 0 ]] || fail "round $n: exit status $DAEMON_STATUS on SIGTERM"
    hook_has_t stop db "$n" && fail "round $n: SIG$sig ran the stop hook (the target must survive the restart)"
    start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
    [[ $(status_get 't("db")["state"]') == active ]] ||
        fail "round $n: db is not active after the restart (status: $CTL_OUT; log: $(tail -n 4 "$DAEMON_LOG" | tr '\n' '|'))"
    [[ $(status_get 't("quiet")["state"]') == idle ]] || fail "round $n: quiet is not idle after the restart"
    [[ $(status_get 't("quiet")["idle_s"]') == null ]] ||
        fail "round $n: quiet never saw a packet, but its idle_s is $(status_get 't("quiet")["idle_s"]') after the restart (expected null)"
    rem=$(status_get 't("db")["remaining_s"]')
    say "round $n: after the restart db is active, remaining_s $rem"
    "$PYTHON" -c "import sys; sys.exit(not 0 < $rem < $TTL)" || fail "round $n: remaining_s $rem is not within (0, $TTL)"
    stays_false 0.2 hook_has_t start db $((n + 1)) || fail "round $n: the restart ran a second start hook"
    wait_for $((TTL + 2)) hook_has_t stop db "$n" || fail "round $n: no stop hook after the restart"
    t_stop=$(hook_time_t stop db "$n")
    say "round $n: stop ran $(us_to_ms $((t_stop - t_pkt))) ms after the packet (ttl ${TTL} s)"
    ((t_stop - t_pkt >= TTL * 1000000 - 100000)) || fail "round $n: stop came before the TTL had passed"
    ((t_stop - t_pkt < TTL * 1000000 + 1500000)) || fail "round $n: stop came $(us_to_ms $((t_stop - t_pkt))) ms after the packet (ttl $TTL s)"
    expect_env_t stop db "$n" NETWAKED_REASON ttl
    [[ $(hook_count_t start db) -eq $n ]] || fail "round $n: $(hook_count_t start db) starts"
    wait_for 2 hooks_settled || fail "round $n: hooks did not settle"
    stop_daemon
    [[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
}

round 1 TERM
round 2 KILL
[[ $(hook_seq) == "start stop start stop" ]] || fail "hook sequence '$(hook_seq)'"
pass
