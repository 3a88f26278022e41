#!/bin/bash
# tests/netns/86_state_disk_full.sh — fault: the state directory's file system is full. The state
# dir is a 12 KiB tmpfs in the daemon's private mount namespace (unshare -m); once it is filled,
# state writes fail and are logged, the old state.json stays intact, no temp file is left, hooks
# still fire and the daemon keeps answering; once space is back the next write succeeds.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 8600 -> NFLOG G prefix d
#                                              unshare -m: tmpfs size=12k on $NW_TMP/state
#                                              netwaked -C conf.yaml (state_dir on that tmpfs)
. "$(dirname "$0")/lib.sh"
require_root iptables unshare nsenter
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 8600 -j NFLOG --nflog-group "$G" --nflog-prefix d ||
    fail "iptables rule"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
STATE=$NW_TMP/state
mkdir -p "$STATE"
cat >"$NW_TMP/conf.yaml" <<EOF
# 86_state_disk_full
daemon:
  control_socket: $CTL_SOCK
  state_dir: $STATE
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: d
    match: [ { prefix: d } ]
    ttl: 1h
    hook: $NW_TMP/hook
EOF
# The wrapper runs inside `ip netns exec` and execs netwaked in a private mount namespace where
# the state dir is a tiny tmpfs (it vanishes with the namespace: nothing to clean up on the host).
cat >"$NW_TMP/nw-wrap" <<EOF
#!/bin/sh
# 86_state_disk_full: netwaked with its state dir on a 12 KiB tmpfs in a private mount namespace
exec unshare -m --propagation private sh -c 'mount -t tmpfs -o size=12k,mode=0700 nw86 "\$0" && exec "\$@"' \\
    "$STATE" "$NETWAKED" "\$@"
EOF
chmod 755 "$NW_TMP/nw-wrap"
NETWAKED=$NW_TMP/nw-wrap start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
# in_ns CMD...: run CMD in the daemon's mount namespace (where the tmpfs is)
in_ns() { nsenter -t "$DAEMON_PID" -m -- "$@"; }
in_ns grep -q " $STATE tmpfs " /proc/self/mounts || fail "test bug: no tmpfs on $STATE in the daemon's namespace"
grep -q " $STATE " /proc/self/mounts && fail "test bug: the tmpfs is visible outside the daemon's namespace"
state_of() { in_ns cat "$STATE/state.json" 2>/dev/null | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
print([t for t in s["targets"] if t["name"] == "d"][0]["active"])'; }
state_is() { [[ $(state_of) == "$1" ]]; }

# --- 1: normal: a start is persisted
pkt "$NS_CLI" udp "$RTR_ADDR" 8600 >/dev/null || fail "send failed"
wait_for 3 hook_has start 1 || fail "no start"
wait_for 3 state_is True || fail "state.json does not say d is active: $(in_ns cat "$STATE/state.json")"
say "state.json written on the tmpfs ($(in_ns df -k "$STATE" | awk 'NR==2{print $3 " of " $2 " kB used"}'))"

# --- 2: fill the file system; state writes fail, hooks still fire
in_ns dd if=/dev/zero of="$STATE/fill" bs=1k count=64 2>/dev/null
in_ns df -k "$STATE" | awk 'NR==2{exit !($4 == 0)}' || fail "test bug: tmpfs not full: $(in_ns df -k "$STATE" | tail -1)"
say "tmpfs full: $(in_ns df -k "$STATE" | awk 'NR==2{print $3 " of " $2 " kB used"}')"
off=$(log_size)
ctl_ok stop d
wait_for 3 hook_has stop 1 || fail "no stop hook with a full state dir"
wait_for 3 log_since "$off" 'cannot write state: .*(No space left on device|ENOSPC)' || fail "failed state write not logged: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | tail -3)"
say "$(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -m1 -o 'cannot write state: .*')"
state_is True || fail "state.json damaged by the failed write: $(in_ns cat "$STATE/state.json" | head -c 200)"
in_ns test -e "$STATE/state.json.tmp" && fail "state.json.tmp left behind after the failed write"
for i in 2 3 4; do
    pkt "$NS_CLI" udp "$RTR_ADDR" 8600 >/dev/null || fail "send failed"
    wait_for 3 hook_has start "$i" || fail "no start #$i with a full state dir"
    ctl_ok stop d
    wait_for 3 hook_has stop "$i" || fail "no stop #$i with a full state dir"
done
n_warn=$(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -c 'cannot write state')
say "3 more start/stop cycles while full: hooks ran, $n_warn failed writes logged"
ctl_ok status
pid_alive "$DAEMON_PID" || fail "netwaked died on a full disk"
wait_for 2 hooks_settled || fail "hooks did not settle"

# --- 3: space is back: the next transition is persisted
in_ns rm -f "$STATE/fill"
off=$(log_size)
pkt "$NS_CLI" udp "$RTR_ADDR" 8600 >/dev/null || fail "send failed"
wait_for 3 hook_has start 5 || fail "no start after space came back"
wait_for 3 state_is True || fail "state not written after space came back"
ctl_ok stop d
wait_for 3 state_is False || fail "stop not persisted after space came back"
log_since "$off" 'cannot write state' && fail "state writes still fail after space came back"
say "space back: state.json follows the target again"

# --- 4: full again at exit: the daemon still exits 0 (the failure is logged)
pkt "$NS_CLI" udp "$RTR_ADDR" 8600 >/dev/null || fail "send failed"
wait_for 3 hook_has start 6 || fail "no start #6"
wait_for 3 state_is True || fail "start #6 not persisted"
in_ns dd if=/dev/zero of="$STATE/fill" bs=1k count=64 2>/dev/null
off=$(log_size)
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM with a full state dir"
log_since "$off" 'cannot write state' && say "exit with a full disk: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -m1 -o 'cannot write state: .*')"
pass
