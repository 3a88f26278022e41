#!/bin/bash
# tests/netns/81_hook_faults.sh — fault: hooks that misbehave. Exits non-zero; forks 1,000 children
# and exits; closes its stdout early and keeps running; floods its output; deletes itself while
# running (the next run cannot execute). Each time: logged, next event runs in order, no fd/zombie
# leak, the daemon keeps working and exits 0.
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (NFLOG group G as its sensor; events come
#   from `netwakectl start/stop f`); the hook's behaviour is chosen by $NW_TMP/mode
. "$(dirname "$0")/lib.sh"
require_root
NS_RTR=$NW_ID-rtr
netns_add "$NS_RTR"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
HOOK_BODY='m=$(cat "$D/mode" 2>/dev/null)
case $m.$1 in
  exit7.*) echo "failing on purpose"; exit 7 ;;
  fork.start) for i in $(seq 1000); do sleep 4 & done; echo "forked 1000"; exit 0 ;;
  close.start) echo "before-close"; exec >&- 2>&-; sleep 0.7; exit 0 ;;
  flood.start) head -c 300000 /dev/zero | tr "\0" x; echo; for i in $(seq 3000); do echo "flood line $i of 3000"; done; exit 0 ;;
  delete.start) rm -f "$0"; sleep 0.5; exit 0 ;;
esac'
make_hook "$NW_TMP/hook" "$HOOK_BODY"
cat >"$NW_TMP/conf.yaml" <<EOF
# 81_hook_faults
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: f
    match: [ { prefix: f } ]
    ttl: 1h
    hook: $NW_TMP/hook
    hook_timeout: 20s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb() { awk '$1=="VmRSS:"{print $2}' "/proc/$1/status"; }
# zombie_children PID: how many zombies PID has not reaped
zombie_children() {
    local c n=0 st
    # shellcheck disable=SC2013  # the files hold space-separated pids
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        read -r st <"/proc/$c/stat" 2>/dev/null || continue
        st=${st##*) }
        [[ ${st%% *} == Z ]] && n=$((n + 1))
    done
    echo "$n"
}
ctl_ok status
FD0=$(fd_count "$DAEMON_PID")
say "daemon fds at start: $FD0, VmRSS $(rss_kb "$DAEMON_PID") kB"
N=0
# cycle MODE: start + stop with the hook in MODE; waits for both hooks to have begun
cycle() {
    echo "$1" >"$NW_TMP/mode"
    N=$((N + 1))
    ctl_ok start f
    wait_for 5 hook_has start "$N" || fail "$1: no start hook #$N"
    ctl_ok stop f
    wait_for 8 hook_has stop "$N" || fail "$1: no stop hook #$N after the start"
}

# --- exit 7
off=$(log_size)
cycle exit7
wait_for 3 log_since "$off" 'f: hook start exited with status 7 after' || fail "exit status 7 not logged"
wait_for 3 log_since "$off" 'f: hook stop exited with status 7 after' || fail "exit status 7 of stop not logged"
log_since "$off" 'f: hook start: failing on purpose' || fail "hook output not logged"
[[ $(status_get "t('f')['last_exit']") == 7 ]] || fail "status last_exit $(status_get "t('f')['last_exit']"), expected 7"
say "exit 7: logged, status last_exit 7, next event ran"

# --- 1,000 children left behind, holding the output pipe
off=$(log_size)
cycle fork
p=$(hook_pid start "$N")
wait_for 3 log_since "$off" 'f: hook start: forked 1000' || fail "output of the forking hook not logged"
ts=$(hook_time stop "$N")
te=$(awk -v p="$p" '$2=="end" && $5==p {print $1}' "$HOOK_LOG")
[[ -n $te ]] || fail "the forking hook has no end record"
((ts >= te)) || fail "stop began before the forking start hook exited"
# The job ends when the main process exits, not when its 1,000 children do (they live 4 s).
((ts - te < 1500000)) || fail "stop began $(us_to_ms $((ts - te))) ms after the forking hook exited (its children held it up?)"
say "stop ran $(us_to_ms $((ts - te))) ms after the forking hook exited; $(pgrep -g "$p" | wc -l) children still in its group"
wait_for 10 sh -c "! pgrep -g $p >/dev/null" || fail "the forked children never went away"
[[ $(zombie_children "$DAEMON_PID") == 0 ]] || fail "the daemon has $(zombie_children "$DAEMON_PID") zombie children"
wait_for 3 hooks_settled || fail "hooks did not settle"

# --- stdout closed early, the hook keeps running
off=$(log_size)
cycle close
p=$(hook_pid start "$N")
te=$(awk -v p="$p" '$2=="end" && $5==p {print $1}' "$HOOK_LOG")
[[ -n $te ]] || fail "the hook that closed its stdout has no end record"
(($(hook_time stop "$N") >= te)) || fail "stop began while the start hook that closed its stdout still ran"
log_since "$off" 'f: hook start: before-close' || fail "output before the close not logged"
wait_for 3 log_since "$off" 'f: hook start exited with status 0' || fail "exit of the hook that closed stdout not logged"
say "stdout closed early: the job still ended only when the hook exited"

# --- output flood: caps per line and per run
off=$(log_size)
cycle flood
wait_for 5 log_since "$off" 'f: hook start: .*more bytes of output not logged' || fail "no 'output not logged' line"
say "flood: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -Eo '[0-9]+ more bytes of output not logged.*' | head -1)"
# hook bytes logged (each line without its "f: hook start: " prefix, plus its newline)
logged=$(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -v 'more bytes of output not logged' |
    awk 'index($0, "f: hook start: ") == 1 { n += length($0) - 15 + 1 } END { print n + 0 }')
say "logged $logged bytes of ~360 kB of hook output"
((logged <= 65536 + 64)) || fail "$logged bytes of one run's output were logged (cap 64 KiB a run)"
longest=$(tail -c +"$((off + 1))" "$DAEMON_LOG" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
((longest <= 4096 + 200)) || fail "a logged line is $longest bytes long (cap 4096)"
wait_for 3 hooks_settled || fail "hooks did not settle"

# --- the hook deletes itself while running; the next run cannot execute
off=$(log_size)
echo delete >"$NW_TMP/mode"
N=$((N + 1))
ctl_ok start f
wait_for 5 hook_has start "$N" || fail "delete: no start"
wait_for 3 log_since "$off" 'f: hook start exited with status 0' || fail "the self-deleting hook did not finish cleanly"
[[ ! -e $NW_TMP/hook ]] || fail "test bug: hook still there"
ctl_ok stop f
wait_for 3 log_since "$off" 'f: hook stop: cannot execute' || fail "a missing hook is not logged as 'cannot execute'"
say "$(grep -Eo 'f: hook stop: cannot execute.*' "$DAEMON_LOG" | tail -n1)"
[[ $(status_get "t('f')['last_exit']") == 127 ]] || fail "last_exit $(status_get "t('f')['last_exit']"), expected 127"
[[ $(status_get "t('f')['state']") == idle ]] || fail "target not idle after its stop hook failed to execute"
make_hook "$NW_TMP/hook" "$HOOK_BODY"
echo ok >"$NW_TMP/mode"
ctl_ok start f
wait_for 3 hook_has start $((N + 1)) || fail "no start once the hook is back"
ctl_ok stop f
wait_for 3 hook_has stop "$N" || fail "no stop once the hook is back"
all_ended() { awk '$2=="begin"{b++} $2=="end"{e++} END{exit !(b==e)}' "$HOOK_LOG"; }
wait_for 3 all_ended || fail "hooks did not all end: $(hook_seq)"
[[ $(hook_seq) == "start stop start stop start stop start stop start start stop" ]] || fail "sequence $(hook_seq)"

# --- nothing leaked
wait_for 3 test "$(fd_count "$DAEMON_PID")" -le "$FD0" || fail "daemon fds: $FD0 at start, $(fd_count "$DAEMON_PID") now"
say "daemon fds at the end: $(fd_count "$DAEMON_PID"), VmRSS $(rss_kb "$DAEMON_PID") kB"
figure vmrss_kb "$(rss_kb "$DAEMON_PID")"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
