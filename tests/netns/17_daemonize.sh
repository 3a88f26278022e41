#!/bin/bash
# tests/netns/17_daemonize.sh — tuninetd -d: returns once the sensors are open, writes the
# pidfile, keeps running detached (cwd /, stdio /dev/null) and reacts to traffic; relative -c and
# -w paths still work; a bad filter fails with pcap's message before daemonizing.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G
#                                              (cd $NW_TMP; netwaked -d --pidfile nw.pid -n G
#                                                -i ${NW_ID}r -f "udp port 9997" -c ./hook -w ./out.pcap -t 1)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables rule"
make_hook "$NW_TMP/hook"
PIDFILE=$NW_TMP/nw.pid
NETWAKED_REAL=$(readlink -f "$NETWAKED")

# netwaked_in_ns: pids of netwaked processes in the router namespace
netwaked_in_ns() {
    local p
    for p in $(ip netns pids "$NS_RTR"); do
        [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$NETWAKED_REAL" ]] && echo "$p"
    done
}

say "(cd \$tmp && netwaked -d --pidfile $PIDFILE -n $G -i $RTR_IF -f 'udp port 9997' -c ./hook -w ./out.pcap -t 1)"
(cd "$NW_TMP" && exec timeout 10 ip netns exec "$NS_RTR" "$NETWAKED" -d --pidfile "$PIDFILE" -n "$G" \
    -i "$RTR_IF" -f "udp port 9997" -c ./hook -w ./out.pcap -t 1) >"$NW_TMP/d.out" 2>"$NW_TMP/d.err" </dev/null
rc=$?
[[ $rc -eq 0 ]] || fail "netwaked -d exited $rc: $(cat "$NW_TMP/d.err")"
# checked at once, without waiting: -d returns only after the sensors are open
[[ -s $PIDFILE ]] || fail "no pidfile at $PIDFILE when -d returned"
read -r DPID <"$PIDFILE"
[[ $DPID =~ ^[0-9]+$ ]] || fail "pidfile content '$DPID'"
NW_DAEMONS+=("$DPID")
pid_alive "$DPID" || fail "pid $DPID from the pidfile is not running"
[[ $(readlink "/proc/$DPID/exe") == "$NETWAKED_REAL" ]] || fail "pid $DPID is not netwaked"
nflog_bound "$NS_RTR" "$G" || fail "NFLOG group $G not bound when -d returned"
pcap_open "$NS_RTR" "$DPID" "$RTR_IF" filtered || fail "pcap sensor (with filter) not open when -d returned"
say "daemonized as pid $DPID; sensors were open when the parent returned"

[[ $(readlink "/proc/$DPID/cwd") == / ]] || fail "daemon cwd is $(readlink "/proc/$DPID/cwd"), expected /"
for fd in 0 1 2; do
    [[ $(readlink "/proc/$DPID/fd/$fd") == /dev/null ]] || fail "daemon fd $fd is $(readlink "/proc/$DPID/fd/$fd"), expected /dev/null"
done
[[ $(ps -o sid= -p "$DPID" | tr -d ' ') != $(ps -o sid= -p $$ | tr -d ' ') ]] || fail "daemon is still in our session"

say "client sends a datagram to $RTR_ADDR:9999"
pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 41717 >/dev/null || fail "send failed"
wait_for 2 hook_has start 1 || fail "daemonized netwaked did not run ./hook on traffic"
wait_for 2 capture_has "$NW_TMP/out.pcap" '10\.201\.0\.2\.41717 > 10\.201\.0\.1\.9999' ||
    fail "./out.pcap (relative -w) does not hold the start packet"
wait_for 3 hook_has stop 1 || fail "no stop after TTL"
pid_alive "$DPID" || fail "daemon died"

say "bad filter: netwaked -d -i $RTR_IF -f 'udp port' -c ./hook"
(cd "$NW_TMP" && exec timeout 10 ip netns exec "$NS_RTR" "$NETWAKED" -d --pidfile "$NW_TMP/bad.pid" \
    -i "$RTR_IF" -f "udp port" -c ./hook) >"$NW_TMP/b.out" 2>"$NW_TMP/b.err" </dev/null
rc=$?
((rc != 0 && rc != 124)) || fail "netwaked -d with a bad filter: exit status $rc (expected a quick failure)"
grep -qi 'syntax error' "$NW_TMP/b.err" || fail "stderr lacks pcap's message: $(cat "$NW_TMP/b.err")"
grep -q 'udp port' "$NW_TMP/b.err" || say "note: stderr does not quote the filter"
say "bad filter: exit $rc, stderr: $(head -1 "$NW_TMP/b.err")"
[[ -e $NW_TMP/bad.pid ]] && fail "a pidfile was written for the failed start"
[[ $(netwaked_in_ns | wc -l) -eq 1 ]] || fail "netwaked processes in the namespace: $(netwaked_in_ns | tr '\n' ' ')"

kill -TERM "$DPID"
wait_for 5 pid_dead "$DPID" || fail "daemon did not exit within 5 s of SIGTERM"
[[ -e $PIDFILE ]] && say "note: pidfile left behind after exit"
pass
