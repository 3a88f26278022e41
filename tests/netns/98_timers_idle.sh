#!/bin/bash
# tests/netns/98_timers_idle.sh — every component arms its timeouts on the loop's one timer
# queue and cancels them when done (issue 18 item 2): after a hook run, status requests and a
# silent control client, an idle daemon (its target active, TTL 600 s away) wakes up no thread.
#
#   router netns ($NW_ID-rtr, lo only): netwaked -C conf (NFLOG group G, control socket in
#   $NW_TMP, target nas with a hook) <-- unix socket --> netwakectl, a silent python client
. "$(dirname "$0")/lib.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
make_hook "$NW_TMP/hook" 'echo "hook $1 says hello"'
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: "", control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    hook: $NW_TMP/hook
    ttl: 600
EOF
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
ctl_ok start nas
wait_for 5 hook_ended start 1 || fail "start hook did not finish"
wait_for 5 log_has 'nas: hook start: hook start says hello' || fail "hook output not logged"
# A client that connects and closes without a request, then two status requests.
ip netns exec "$NS" python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.close()" "$CTL_SOCK" ||
    fail "silent control client could not connect"
ctl_ok status
ctl_ok status
target_is nas active || fail "nas is not active: $(status_get "t('nas')")"
# Every hook, output pipe and control client is gone (the last status reply proves the daemon
# served the silent client before it): nothing may be left armed but the TTL 600 s away.
switches() { awk '/ctxt_switches/ {n += $2} END {print n + 0}' /proc/"$DAEMON_PID"/task/*/status; }
s1=$(switches)
t=$((${EPOCHREALTIME/./} + 2500000))
wait_for 4 past_us "$t"
s2=$(switches)
((s2 - s1 <= 1)) || fail "idle after a hook and control requests: $((s2 - s1)) wake-ups in 2.5 s"
figure idle_wakeups_2500ms "$((s2 - s1))"
pass
