#!/bin/bash
# tests/netns/84_nflog_group_faults.sh — fault: the NFLOG group is already bound when a second
# netwaked starts (clear error naming the group, exit 1, both modes) and that attempt does not
# disturb the first daemon's binding; the firewall rule is removed (nothing arrives) and re-added,
# then replaced by an nft rule: the running daemon keeps working throughout.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 9999 -> NFLOG group G
#                                              netwaked A: -n G -c hook -t 1 (keeps running)
#                                              netwaked B: -n G ... / -C conf.yaml (must fail)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
RULE=(INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G")
ip netns exec "$NS_RTR" iptables -A "${RULE[@]}" || fail "iptables rule"
make_hook "$NW_TMP/hook"
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 1
A_PID=$DAEMON_PID
A_LOG=$DAEMON_LOG
N=0
starts_now() {
    N=$((N + 1))
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "send failed"
    wait_for 3 hook_has start "$N" || fail "$1: a datagram did not start the target"
    wait_for 4 hook_has stop "$N" || fail "$1: no stop after the TTL"
    wait_for 2 hooks_settled || fail "$1: hooks did not settle"
}
starts_now "daemon A"

# --- a second daemon on the same group: clear error, exit 1 (tuninetd mode, then config mode)
cat >"$NW_TMP/conf.yaml" <<EOF
# 84_nflog_group_faults: daemon B
daemon:
  control_socket: $NW_TMP/ctl-b.sock
  state_dir: $NW_TMP/state-b
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
targets:
  - name: b
    match: [ { proto: udp } ]
    hook: $NW_TMP/hook
EOF
for args in "-n $G -c $NW_TMP/hook -t 1" "-C $NW_TMP/conf.yaml"; do
    # shellcheck disable=SC2086  # word list on purpose
    NW_NOWAIT=1 start_daemon "$NS_RTR" $args
    wait_for 5 pid_dead "$DAEMON_PID" || fail "netwaked B ($args) kept running on a group that is bound elsewhere"
    wait "$DAEMON_PID"
    rc=$?
    say "B ($args): exit $rc: $(grep -m1 -i "group $G" "$DAEMON_LOG")"
    ((rc == 1)) || fail "netwaked B ($args) exited $rc, expected 1"
    grep -Eq "NFLOG group $G" "$DAEMON_LOG" || fail "B's error does not name NFLOG group $G: $(tail -n 3 "$DAEMON_LOG")"
    grep -Eiq "bound|in use|busy|another|listener" "$DAEMON_LOG" || fail "B's error does not say the group is taken: $(tail -n 3 "$DAEMON_LOG")"
    [[ ! -S $NW_TMP/ctl-b.sock ]] || fail "B left its control socket behind"
done
DAEMON_PID=$A_PID DAEMON_LOG=$A_LOG
pid_alive "$A_PID" || fail "daemon A died"
nflog_bound "$NS_RTR" "$G" || fail "group $G is no longer bound after B's attempts"
starts_now "daemon A after B's failed attempts"
say "B failed cleanly; A still receives"

# --- the rule goes away: nothing arrives, nothing breaks; it comes back: traffic counts again
ip netns exec "$NS_RTR" iptables -D "${RULE[@]}" || fail "iptables -D"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --count 3 --interval 0.1 >/dev/null || fail "send failed"
stays_false 1.5 hook_has start $((N + 1)) || fail "a start without any NFLOG rule"
pid_alive "$A_PID" || fail "daemon A died while its rule was gone"
ip netns exec "$NS_RTR" iptables -A "${RULE[@]}" || fail "iptables -A again"
starts_now "rule re-added"
say "rule removed: no start; rule re-added: start"

# --- replaced by an nft rule on the same group
if command -v nft >/dev/null; then
    ip netns exec "$NS_RTR" iptables -D "${RULE[@]}"
    ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rule"
table inet nw84 {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 9999 log group $G
    }
}
EOF
    starts_now "nft rule"
    ip netns exec "$NS_RTR" nft delete table inet nw84
    say "nft rule on the same group: start"
fi
stop_daemon "$A_PID"
[[ $DAEMON_STATUS -eq 0 ]] || fail "daemon A exit status $DAEMON_STATUS on SIGTERM"
pass
