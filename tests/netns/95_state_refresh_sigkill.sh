#!/bin/bash
# tests/netns/95_state_refresh_sigkill.sh — an active target's last_seen reaches the state file
# while its traffic flows (issue 12 item 4): SIGKILL 6 s after the start (ttl 4 s, traffic never
# paused), restart with the traffic still flowing -> no `stop`, no second `start`.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   nwpkt.py: udp 8501 every 100 ms           iptables INPUT udp dport 8501 -> NFLOG G prefix vpn
#                                              netwaked -C conf.yaml: target vpn (ttl 4s, state_dir)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 8501 -j NFLOG --nflog-group "$G" --nflog-prefix vpn ||
    fail "iptables rule"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 95_state_refresh_sigkill
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - { name: vpn, match: [ { prefix: vpn } ], ttl: 4s, hook: $NW_TMP/hook }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
# 10 datagrams a second until the end of the scenario (about 20 s; cleanup ends it)
background pkt "$NS_CLI" udp "$RTR_ADDR" 8501 --count 400 --interval 0.1 >/dev/null
wait_for 3 hook_has start 1 || fail "the traffic did not start the target"
t_start=$(hook_time start 1)
wait_for 8 past_us $((t_start + 6000000)) || fail "clock"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
say "SIGKILL 6 s after the start; state.json: $(tr -d '\n\t' <"$NW_TMP/state/state.json" | head -c 200)"

start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
log_has "vpn: restored as active" || fail "the restarted daemon did not restore vpn as active"
say "$(grep -m1 'restored as active' "$DAEMON_LOG")"
# Positive marker: the restarted daemon has counted 50 datagrams (5 s of traffic, more than the
# TTL), so any stop due to a stale last_seen has had its chance to happen.
packets() { status_get 's["sensors"][0]["packets"]'; }
seen_50() { local n; n=$(packets) && ((n >= 50)); }
wait_for 10 seen_50 || fail "the restarted daemon did not count 50 datagrams (got $(packets))"
target_is vpn active || fail "vpn is not active after the restart: $CTL_OUT"
[[ $(hook_count stop) == 0 ]] || fail "spurious stop after the restart: $(hook_seq) (NETWAKED_IDLE=$(hook_env stop 1 NETWAKED_IDLE))"
[[ $(hook_count start) == 1 ]] || fail "second start after the restart: $(hook_seq)"
log_has 'stop \(ttl' && fail "the daemon logged a ttl stop"
say "hooks: $(hook_seq); idle after restart $(status_get "t('vpn')['idle_s']") s"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
