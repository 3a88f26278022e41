#!/bin/bash
# tests/netns/87_signal_storm.sh — fault: SIGHUP/SIGUSR1/SIGUSR2 storms while traffic flows and slow
# hooks run: no deadlock (the control socket answers during the storm), no crash, hooks still one
# at a time alternating start/stop, memory does not grow; SIGTERM then waits for the running hook
# and exits 0; a SIGTERM storm exits 0 at once without waiting, leaving no hook process behind.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 8700 -> NFLOG G prefix s
#                                              netwaked -C conf.yaml: target s (ttl 1s), hook
#                                              sleeps 0.2 s (or $NW_TMP/sleep seconds)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 8700 -j NFLOG --nflog-group "$G" --nflog-prefix s ||
    fail "iptables rule"
make_hook "$NW_TMP/hook" 'sleep "$(cat "$D/sleep" 2>/dev/null || echo 0.2)"'
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 87_signal_storm
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: s
    match: [ { prefix: s } ]
    ttl: 1s
    hook: $NW_TMP/hook
    hook_timeout: 30s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
rss_kb() { awk '$1=="VmRSS:"{print $2}' "/proc/$1/status" 2>/dev/null; }
if grep -aqE '__(asan|tsan)_init' "$NETWAKED"; then SAN=1; else SAN=0; fi
# warm up (first reload, first status) before measuring memory
kill -USR2 "$DAEMON_PID"; kill -USR1 "$DAEMON_PID"
wait_for 3 log_has 'reloaded' || fail "SIGUSR2 did not reload"
ctl_ok status
RSS0=$(rss_kb "$DAEMON_PID")

# --- 1: storm of HUP/USR1/USR2 for 4 s while traffic flows (a datagram every 50 ms)
background pkt "$NS_CLI" udp "$RTR_ADDR" 8700 --count 80 --interval 0.05 >/dev/null
TRAFFIC=${NW_BGPIDS[-1]}
now_us
end=$((NOW_US + 4000000))
sent=0 polls=0
sigs=(HUP USR1 USR2 HUP USR2)
while ((${EPOCHREALTIME/./} < end)); do
    for ((i = 0; i < 50; i++)); do
        kill -"${sigs[RANDOM % 5]}" "$DAEMON_PID" 2>/dev/null || fail "netwaked is gone during the storm (after $sent signals)"
    done
    sent=$((sent + 50))
    if ((sent % 1000 == 0)); then
        ctl status || fail "no status answer during the signal storm (after $sent signals): $CTL_ERR"
        polls=$((polls + 1))
    fi
done
say "storm: $sent signals in 4 s, status answered $polls times during it"
figure signals_sent "$sent"
pid_alive "$DAEMON_PID" || fail "netwaked died in the storm"
ctl_ok status
wait_for 5 pid_dead "$TRAFFIC" || fail "test bug: the traffic stream did not end"
wait_for 3 target_is s idle || fail "s did not go idle after the traffic (ttl 1s)"
wait_for 10 hooks_settled || fail "hooks did not settle after the storm: $(hook_seq | wc -w) runs"
seq=$(hook_seq)
[[ $seq =~ ^start(\ stop\ start)*\ stop$ ]] || fail "hook runs do not alternate start/stop: $(head -c 300 <<<"$seq")"
awk '$2=="begin"{ if (open) bad=1; open=1; if ($1 < last_end) bad=1 } $2=="end"{ open=0; last_end=$1 }
     END{ exit bad }' "$HOOK_LOG" || fail "hook runs overlapped"
say "hooks: $(wc -w <<<"$seq") runs, alternating, one at a time; $(grep -c 'reloaded' "$DAEMON_LOG") reloads, $(grep -c 'SIGHUP: stopping' "$DAEMON_LOG") SIGHUPs handled"
RSS1=$(rss_kb "$DAEMON_PID")
figure vmrss_growth_kb $((RSS1 - RSS0))
say "VmRSS $RSS0 kB before, $RSS1 kB after"
((SAN || RSS1 - RSS0 < 4096)) || fail "VmRSS grew by $((RSS1 - RSS0)) kB over the storm"
# still works
n=$(hook_count start)
pkt "$NS_CLI" udp "$RTR_ADDR" 8700 >/dev/null || fail "send failed"
wait_for 3 hook_has start $((n + 1)) || fail "traffic no longer starts the target after the storm"
wait_for 4 hooks_settled || fail "hooks did not settle"

# --- 2: SIGTERM while a hook runs: waits for it, exit 0
echo 1.5 >"$NW_TMP/sleep"
n=$(hook_count start)
pkt "$NS_CLI" udp "$RTR_ADDR" 8700 >/dev/null || fail "send failed"
wait_for 3 hook_has start $((n + 1)) || fail "no start"
p=$(hook_pid start $((n + 1)))
kill -TERM "$DAEMON_PID"
wait_for 5 pid_dead "$DAEMON_PID" || fail "netwaked did not exit within 5 s of SIGTERM"
hook_ended start $((n + 1)) || fail "netwaked exited before its running hook ended"
wait "$DAEMON_PID"
rc=$?
((rc == 0)) || fail "exit status $rc after SIGTERM"
say "SIGTERM: waited for the running hook (pid $p), exit 0"

# --- 3: a SIGTERM storm while a long hook runs: exit 0 at once, the hook's group is ended
echo 20 >"$NW_TMP/sleep"
rm -rf "$NW_TMP/state"   # s was active at the exit: start afresh so `start s` runs a hook
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
n=$(hook_count start)
ctl_ok start s
wait_for 3 hook_has start $((n + 1)) || fail "no start"
p=$(hook_pid start $((n + 1)))
now_us; t0=$NOW_US
# SIGTERMs every 10 ms (a burst sent at once is one pending signal: the kernel does not queue them)
for ((i = 0; i < 500; i++)); do
    kill -TERM "$DAEMON_PID" 2>/dev/null || break
    sleep 0.01
done
wait_for 8 pid_dead "$DAEMON_PID" || fail "netwaked did not exit within 8 s of a SIGTERM storm"
now_us
wait "$DAEMON_PID"
rc=$?
say "SIGTERM storm: exit $rc after $(us_to_ms $((NOW_US - t0))) ms; $(grep -m1 -o 'again: not waiting for hooks' "$DAEMON_LOG")"
((rc == 0)) || fail "exit status $rc after a SIGTERM storm"
wait_for 6 pid_dead "$p" || fail "the running hook (pid $p) survived the daemon's exit"
wait_for 2 sh -c "! pgrep -g $p >/dev/null" || fail "processes of the hook's group survived"
pass
