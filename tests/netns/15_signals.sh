#!/bin/bash
# tests/netns/15_signals.sh — SIGHUP stops an active target at once (reason "signal"), also while
# a slow start hook runs; SIGUSR1 dumps the target state to the log; SIGTERM/SIGINT exit 0 after
# the running hook has finished.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              netwaked -n G -c hook -t 30   (hook sleeps 1 s on
#                                              start while $NW_TMP/slow exists)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook" '[[ $1 == start && -e $D/slow ]] && sleep 1'
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 30

# status_line OFFSET STATE: a log line after OFFSET names 'default' and STATE and is no transition
status_line() {
    tail -c +"$(($1 + 1))" "$DAEMON_LOG" | grep -v -- '->' | grep -E "default.*\\b$2\\b|\\b$2\\b.*default" >/dev/null
}
# usr1_dump STATE: SIGUSR1 makes the daemon log the target and STATE
usr1_dump() {
    local off
    off=$(log_size)
    kill -USR1 "$DAEMON_PID"
    wait_for 1 log_since "$off" 'default' || fail "SIGUSR1: no status naming target 'default' in the log within 1 s"
    # one line naming the target and its state (transition lines "a -> b" do not count)
    wait_for 0.5 status_line "$off" "$1" || fail "SIGUSR1: no status line saying target 'default' is $1"
    say "SIGUSR1 dump names 'default' and '$1'"
}

# --- a: SIGHUP stops an active target now
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 1 || fail "no start"
wait_for 2 hook_ended start 1 || fail "start hook did not finish"
usr1_dump active
now_us
t_hup=$NOW_US
kill -HUP "$DAEMON_PID"
wait_for 1 hook_has stop 1 || fail "SIGHUP did not stop the active target within 1 s (TTL is 30 s)"
figure sighup_to_stop_ms "$(us_to_ms $(($(hook_time stop 1) - t_hup)))"
expect_env stop 1 NETWAKED_REASON signal
expect_env stop 1 NETWAKED_TARGET default
wait_for 2 hook_ended stop 1 || fail "stop hook did not finish"
usr1_dump idle
kill -HUP "$DAEMON_PID"
stays_false 0.3 hook_has stop 2 || fail "SIGHUP with no active target ran a stop hook"

# --- b: SIGHUP while the start hook still runs: no deadlock, stop runs after start finished
touch "$NW_TMP/slow"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 2 || fail "no second start"
usr1_dump active
kill -HUP "$DAEMON_PID"
# the target goes idle at once; its stop hook waits for the running start hook
usr1_dump idle
hook_ended start 2 && fail "test bug: the slow start hook finished too early"
say "daemon handled SIGHUP and SIGUSR1 while the start hook was still running"
wait_for 3 hook_has stop 2 || fail "SIGHUP during a running start hook never led to a stop"
hook_ended start 2 || fail "stop hook began while the start hook was still running"
(($(hook_time stop 2) >= $(hook_time start 2 end))) || fail "stop hook began before the start hook ended"
expect_env stop 2 NETWAKED_REASON signal
wait_for 2 hooks_settled || fail "hooks did not settle: $(hook_seq)"
[[ $(hook_seq) == "start stop start stop" ]] || fail "sequence '$(hook_seq)'"

# --- c: SIGTERM while a hook runs: wait for it, exit 0
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 3 || fail "no third start"
hook_ended start 3 && fail "test bug: slow hook already finished"
kill -TERM "$DAEMON_PID"
wait_for 5 pid_dead "$DAEMON_PID" || fail "netwaked did not exit within 5 s of SIGTERM"
hook_ended start 3 || fail "netwaked exited before the running start hook had finished"
wait "$DAEMON_PID"
DAEMON_STATUS=$?
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS after SIGTERM (expected 0)"
say "SIGTERM: waited for the running hook, exit status 0"

# --- d: SIGINT exits cleanly too
rm -f "$NW_TMP/slow"
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 30
stop_daemon "$DAEMON_PID" 5 INT
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS after SIGINT (expected 0)"
pass
