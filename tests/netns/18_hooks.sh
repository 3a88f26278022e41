#!/bin/bash
# tests/netns/18_hooks.sh — the hook contract: exact argv, stdin /dev/null, own process group, no
# leaked fds, output logged with the target name; a failing hook (exit 3) is logged and the daemon
# keeps working; a packet that arrives while the stop hook runs leads to a new start after it.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              netwaked -n G -c hook -t 1
#   hook: echoes to stdout/stderr; exits 3 while $NW_TMP/exit3 exists; sleeps 1 s on stop while
#   $NW_TMP/slowstop exists
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
HOOK=$NW_TMP/hook
make_hook "$HOOK" 'echo "hello-from-hook $1 $2"
echo "err-from-hook $1" >&2
[[ -e $D/exit3 ]] && exit 3
[[ $1 == stop && -e $D/slowstop ]] && sleep 1
exit 0'
start_daemon "$NS_RTR" -n "$G" -c "$HOOK" -t 1

# --- 1: a hook that exits 3
touch "$NW_TMP/exit3"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 1 || fail "no start"
wait_for 2 hook_ended start 1 || fail "start hook did not finish"
wait_for 2 grep -Eiq '(exit|status)[^0-9]{0,30}3([^0-9]|$)' "$DAEMON_LOG" ||
    fail "the log does not report the hook's exit status 3"
say "log: $(grep -Ei '(exit|status)[^0-9]{0,30}3([^0-9]|$)' "$DAEMON_LOG" | head -1)"

p=$(hook_pid start 1)
argv=$(sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ')
[[ $argv == "$HOOK start default " ]] || fail "argv after the interpreter is '$argv', expected '$HOOK start default'"
[[ $(cat "$NW_TMP/stdin.$p") == /dev/null ]] || fail "hook stdin is $(cat "$NW_TMP/stdin.$p"), expected /dev/null"
[[ $(cat "$NW_TMP/pgid.$p") == "$p" ]] || fail "hook pid $p runs in process group $(cat "$NW_TMP/pgid.$p"), expected its own"
# fds seen by a child of the hook: 0, 1, 2 and ls's own handle on /proc/self/fd only
while read -r fd target; do
    case $fd in 0 | 1 | 2) continue ;; esac
    [[ $target == /proc/*/fd ]] || fail "fd $fd of the daemon leaked into the hook: $fd -> $target"
done < <(awk '/->/ {for (i = 1; i <= NF; i++) if ($i == "->") print $(i - 1), $(i + 1)}' "$NW_TMP/fds.$p")
say "hook fds: $(awk '/->/ {for (i = 1; i <= NF; i++) if ($i == "->") printf "%s->%s ", $(i - 1), $(i + 1)}' "$NW_TMP/fds.$p")"
expect_clean_env start 1
wait_for 1 log_has 'default.*hello-from-hook start default' || fail "hook stdout is not logged with the target name"
wait_for 1 log_has 'default.*err-from-hook start' || fail "hook stderr is not logged with the target name"

wait_for 3 hook_has stop 1 || fail "no stop after a failing start hook"
p=$(hook_pid stop 1)
argv=$(sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ')
[[ $argv == "$HOOK stop default " ]] || fail "stop argv '$argv'"
expect_env stop 1 NETWAKED_EVENT stop
expect_env stop 1 NETWAKED_REASON ttl
expect_clean_env stop 1
wait_for 2 hooks_settled || fail "hooks did not settle"
rm -f "$NW_TMP/exit3"

# --- 2: keeps working; a packet during a slow stop hook -> start after the stop finished
touch "$NW_TMP/slowstop"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 hook_has start 2 || fail "no start after a hook had failed"
wait_for 3 hook_has stop 2 || fail "no second stop"
hook_ended stop 2 && fail "test bug: slow stop hook already finished"
say "client sends a datagram while the stop hook runs"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 3 hook_has start 3 || fail "a packet during the stop hook did not lead to a new start"
(($(hook_time start 3) >= $(hook_time stop 2 end))) || fail "the new start hook overlapped the running stop hook"
wait_for 4 hook_has stop 3 || fail "no stop after the new start"
wait_for 3 hooks_settled || fail "hooks did not settle"
[[ $(hook_seq) == "start stop start stop start stop" ]] || fail "sequence '$(hook_seq)'"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
