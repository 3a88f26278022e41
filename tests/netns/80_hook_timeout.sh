#!/bin/bash
# tests/netns/80_hook_timeout.sh — fault: a hook that hangs. hook_timeout 1s: the group gets SIGTERM
# (logged); a hook that ignores SIGTERM gets SIGKILL 5 s later, with its children; the event queued
# behind it still runs; the daemon stays responsive throughout and exits 0.
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (NFLOG group G, no traffic needed;
#   events come from `netwakectl start/stop` on the control socket)
#   hook: on start, while $NW_TMP/hang_term exists: sleeps (obeys SIGTERM); while
#   $NW_TMP/hang_ignore exists: ignores SIGTERM, and so does the child it leaves in its group
. "$(dirname "$0")/lib.sh"
require_root
NS_RTR=$NW_ID-rtr
netns_add "$NS_RTR"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
make_hook "$NW_TMP/hook" 'if [[ $1 == start && -e $D/hang_term ]]; then
  sleep 30 & echo $! >"$D/child.$$"; wait
fi
if [[ $1 == start && -e $D/hang_ignore ]]; then
  trap "" TERM
  sleep 30 & echo $! >"$D/child.$$"
  while :; do sleep 0.1; done
fi'
cat >"$NW_TMP/conf.yaml" <<EOF
# 80_hook_timeout
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: slow
    match: [ { prefix: slow } ]
    ttl: 1h
    hook: $NW_TMP/hook
    hook_timeout: 1s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"

# log_since_n OFFSET REGEX: the pattern appears in the log after OFFSET
child_of() { cat "$NW_TMP/child.$1" 2>/dev/null; }

# --- 1: a hook that sleeps past its timeout and obeys SIGTERM
touch "$NW_TMP/hang_term"
off=$(log_size)
ctl_ok start slow
wait_for 2 hook_has start 1 || fail "no start hook"
p1=$(hook_pid start 1)
wait_for 3 log_since "$off" 'slow: hook start timed out after 1 ?s, sending SIGTERM to its process group' ||
    fail "no timeout line in the log"
wait_for 3 log_since "$off" 'slow: hook start killed by signal 15 after' || fail "no 'killed by signal 15' line"
ms=$(grep -Eo 'slow: hook start killed by signal 15 after [0-9]+ ms' "$DAEMON_LOG" | tail -n1 | grep -Eo '[0-9]+ ms')
say "hook obeying SIGTERM: $(grep -Eo 'killed by signal 15 after [0-9]+ ms' "$DAEMON_LOG" | tail -n1)"
((${ms% ms} >= 900 && ${ms% ms} < 3000)) || fail "the hook ran $ms (timeout 1 s)"
wait_for 2 pid_dead "$p1" || fail "hook $p1 still alive after SIGTERM"
c1=$(child_of "$p1")
[[ -n $c1 ]] || fail "test bug: no child recorded"
wait_for 2 pid_dead "$c1" || fail "the hook's child $c1 survived the SIGTERM to the group"
[[ $(status_get "t('slow')['last_exit']") == -15 ]] || fail "status last_exit $(status_get "t('slow')['last_exit']"), expected -15"
rm -f "$NW_TMP/hang_term"
ctl_ok stop slow
wait_for 3 hook_ended stop 1 || fail "the next event (stop) did not run after the timed-out hook"
say "next event ran: $(hook_seq)"

# --- 2: a hook that ignores SIGTERM (and its child too): SIGKILL of the group 5 s later
touch "$NW_TMP/hang_ignore"
off=$(log_size)
now_us; t0=$NOW_US
ctl_ok start slow
wait_for 2 hook_has start 2 || fail "no second start hook"
p2=$(hook_pid start 2)
wait_for 2 test -s "$NW_TMP/child.$p2" || fail "test bug: no child recorded"
c2=$(child_of "$p2")
ctl_ok stop slow    # queued behind the hanging start
wait_for 3 log_since "$off" 'slow: hook start timed out after 1 ?s, sending SIGTERM' || fail "no timeout line"
# the daemon answers while its hook hangs
ctl_ok status
pid_alive "$p2" || fail "a hook that ignores SIGTERM died at the SIGTERM"
stays_false 3 pid_dead "$p2" || fail "the hook was killed earlier than 5 s after the SIGTERM"
wait_for 4 log_since "$off" 'slow: hook start killed by signal 9 after' || fail "no 'killed by signal 9' line (SIGKILL 5 s after SIGTERM)"
now_us; t_kill=$NOW_US
say "$(grep -Eo 'slow: hook start killed by signal 9 after [0-9]+ ms' "$DAEMON_LOG" | tail -n1)"
ms=$(grep -Eo 'slow: hook start killed by signal 9 after [0-9]+ ms' "$DAEMON_LOG" | tail -n1 | grep -Eo '[0-9]+ ms')
((${ms% ms} >= 5800 && ${ms% ms} < 9000)) || fail "SIGKILL after $ms, expected ~6000 ms (1 s timeout + 5 s grace)"
wait_for 2 pid_dead "$p2" || fail "hook $p2 alive after SIGKILL"
wait_for 2 pid_dead "$c2" || fail "child $c2 of the hook survived the SIGKILL of the group"
wait_for 3 hook_has stop 2 || fail "the stop queued behind the hanging hook never ran"
(($(hook_time stop 2) >= $(hook_time start 2))) || fail "stop began before the killed start"
wait_for 3 hook_ended stop 2 || fail "stop hook did not finish"
figure sigkill_after_start_ms "$(us_to_ms $((t_kill - t0)))"
[[ $(hook_seq) == "start stop start stop" ]] || fail "sequence '$(hook_seq)'"
[[ $(status_get "t('slow')['last_exit']") == 0 ]] || fail "last_exit after the stop hook: $(status_get "t('slow')['last_exit']")"
[[ $(status_get "t('slow')['hook_runs']") == 4 ]] || fail "hook_runs $(status_get "t('slow')['hook_runs']"), expected 4"
rm -f "$NW_TMP/hang_ignore"

# --- 3: still works
ctl_ok start slow
wait_for 3 hook_has start 3 || fail "a normal start after the faults did not run"
wait_for 3 log_has 'slow: hook start exited with status 0' || fail "the normal start hook did not finish"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
