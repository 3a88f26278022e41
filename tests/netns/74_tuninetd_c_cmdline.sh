#!/bin/bash
# tests/netns/74_tuninetd_c_cmdline.sh — tuninetd's -c command lines (SPEC §2.2): "-c 'HOOK ARGS'"
# and "-c '/bin/sh SCRIPT'" run through /bin/sh with <event> default appended; the hook sees the
# §5 environment only (plus the PWD=/ that /bin/sh exports), in /; a missing program is refused
# naming the flag and the path.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              run 1: netwaked -n G -c "./hook --vpn wg0" -t 1
#                                              run 2: netwaked -n G -c "/bin/sh $NW_TMP/toggle.sh"
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"   # records "$1 $2" as event and target: here "--vpn wg0"

# --- a missing program in a command line: refused, naming -c and the path
out=$("$NETWAKED" -n "$G" -c "$NW_TMP/nosuch --vpn wg0" 2>&1) && fail "a missing program was accepted"
[[ $out == *"-c"*"$NW_TMP/nosuch"*"No such file"* ]] || fail "error does not name -c and the path: $out"
say "missing program: $out"

# --- 1: a relative hook with arguments (start-up cwd is $NW_TMP; hooks run in /)
start_daemon "$NS_RTR" -n "$G" -c "./hook --vpn wg0" -t 1
wait_for 2 log_has "default: -c is a command line; the hook runs as /bin/sh -c '$NW_TMP/hook --vpn wg0 \"\\\$@\"' netwaked <event> default" ||
    fail "no start-up line saying how the -c command line runs"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 grep -q ' end --vpn wg0 ' "$HOOK_LOG" || fail "no start"
p=$(awk '$2=="begin" {print $5; exit}' "$HOOK_LOG")
argv=$(sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ')
[[ $argv == "$NW_TMP/hook --vpn wg0 start default " ]] || fail "argv '$argv', expected '$NW_TMP/hook --vpn wg0 start default'"
say "hook argv: $argv"
grep -qx 'NETWAKED_EVENT=start' "$NW_TMP/env.$p" || fail "hook env lacks NETWAKED_EVENT=start"
grep -qx 'NETWAKED_TARGET=default' "$NW_TMP/env.$p" || fail "hook env lacks NETWAKED_TARGET=default"
bad=$(grep -Ev '^(NETWAKED_[A-Z_]+=.+|PATH=.*|LANG=.*|TZ=.*|PWD=/)$' "$NW_TMP/env.$p")
[[ -z $bad ]] || fail "unexpected variables in the hook's environment: $bad"
wait_for 3 log_has 'hook stop exited' || fail "no stop"
p=$(awk '$2=="begin" {n++; if (n == 2) print $5}' "$HOOK_LOG")
argv=$(sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ')
[[ $argv == "$NW_TMP/hook --vpn wg0 stop default " ]] || fail "stop argv '$argv'"
stop_daemon

# --- 2: "/bin/sh script" with a script that is not executable (as tuninetd's README shows)
cat >"$NW_TMP/toggle.sh" <<EOT
# toggle.sh — POSIX test script for $SCENARIO: records its arguments, cwd and environment.
echo "\$1 \$2 \$#" >>"$NW_TMP/toggle.log"
pwd >"$NW_TMP/toggle.cwd"
tr '\\0' '\\n' </proc/\$\$/environ >"$NW_TMP/toggle.env.\$1"
EOT
chmod 644 "$NW_TMP/toggle.sh"
start_daemon "$NS_RTR" -n "$G" -c "/bin/sh $NW_TMP/toggle.sh" -t 1
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
wait_for 2 grep -q '^start default 2$' "$NW_TMP/toggle.log" 2>/dev/null ||
    fail "toggle.sh did not run with 'start default': $(cat "$NW_TMP/toggle.log" 2>&1)"
wait_for 3 grep -q '^stop default 2$' "$NW_TMP/toggle.log" || fail "toggle.sh got no 'stop default'"
[[ $(cat "$NW_TMP/toggle.cwd") == / ]] || fail "toggle.sh ran in $(cat "$NW_TMP/toggle.cwd"), expected /"
grep -qx 'NETWAKED_EVENT=stop' "$NW_TMP/toggle.env.stop" || fail "toggle.sh env lacks NETWAKED_EVENT=stop"
bad=$(grep -Ev '^(NETWAKED_[A-Z_]+=.+|PATH=.*|LANG=.*|TZ=.*|PWD=/)$' "$NW_TMP/toggle.env.start")
[[ -z $bad ]] || fail "unexpected variables in toggle.sh's environment: $bad"
say "toggle.sh: $(tr '\n' ';' <"$NW_TMP/toggle.log")"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS"
pass
