#!/bin/bash
# tests/netns/83_pcap_iface_gone.sh — fault: the pcap sensor's interface is deleted and re-created
# (three times), set down and up, and set down then deleted: logged, status shows the sensor down then up, and traffic on
# the new interface still starts the target; no fd leak; exit 0.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              netwaked -C conf.yaml: pcap on ${NW_ID}r
#                                              (filter "udp port 9999"), target p (ttl 1s)
#   the veth pair is deleted and created again with the same names and addresses
. "$(dirname "$0")/lib.sh"
require_root
lab_two
CTL_SOCK=$NW_TMP/ctl.sock
make_hook "$NW_TMP/hook"
cat >"$NW_TMP/conf.yaml" <<EOF
# 83_pcap_iface_gone
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: lan
    pcap: { interface: $RTR_IF, filter: "udp port 9999" }
targets:
  - name: p
    match: [ { proto: udp, dst_port: 9999 } ]
    ttl: 1s
    hook: $NW_TMP/hook
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml"
wait_for 5 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "pcap handle not open on $RTR_IF"
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sensor_up() { [[ $(status_get 's["sensors"][0]["up"]') == "$1" ]]; }
N=0
# traffic_starts WHAT: a datagram starts p (and it stops after its TTL)
traffic_starts() {
    N=$((N + 1))
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 >/dev/null || fail "$1: send failed"
    wait_for 3 hook_has start "$N" || fail "$1: traffic did not start the target (start #$N)"
    wait_for 4 hook_has stop "$N" || fail "$1: no stop after the TTL"
    wait_for 2 hooks_settled || fail "$1: hooks did not settle"
}
traffic_starts "before any fault"
FD0=$(fd_count "$DAEMON_PID")

for round in 1 2 3; do
    off=$(log_size)
    ip -n "$NS_RTR" link del "$RTR_IF" || fail "link del"
    wait_for 3 log_since "$off" "sensor lan: interface $RTR_IF went away" || fail "round $round: interface removal not logged"
    wait_for 3 sensor_up false || fail "round $round: status still shows the sensor up: $CTL_OUT"
    pid_alive "$DAEMON_PID" || fail "netwaked died when its interface went away"
    veth_pair "$NS_CLI" "$CLI_IF" "$NS_RTR" "$RTR_IF" "$CLI_ADDR" "$RTR_ADDR"
    wait_for 5 log_since "$off" "sensor lan: interface $RTR_IF is back" || fail "round $round: the re-created interface was not picked up"
    wait_for 3 sensor_up true || fail "round $round: status does not show the sensor up again"
    wait_for 3 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "round $round: no filtered handle on the new interface"
    ip netns exec "$NS_CLI" ping -c1 -W2 "$RTR_ADDR" >/dev/null 2>&1 || fail "lab: no route after re-creating the veth"
    traffic_starts "round $round (re-created)"
    say "round $round: deleted, re-created, traffic starts the target again"
done

# down and up (not deleted)
off=$(log_size)
ip -n "$NS_RTR" link set "$RTR_IF" down
if wait_for 3 log_since "$off" "sensor lan: interface $RTR_IF went away"; then
    say "down: $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -m1 'went away')"
fi
ip -n "$NS_RTR" link set "$RTR_IF" up
wait_for 5 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "no handle after down/up"
wait_for 5 ip netns exec "$NS_CLI" ping -c1 -W1 "$RTR_ADDR" >/dev/null 2>&1 || fail "lab: no route after down/up"
traffic_starts "after down/up"
say "down/up: traffic starts the target again"

# down, then deleted: libpcap reports (and clears) ENETDOWN while the device still exists and keeps
# the handle; the deletion then never reaches the capture socket, only RTNETLINK (RTM_DELLINK).
off=$(log_size)
ip -n "$NS_RTR" link set "$RTR_IF" down
sleep 0.3  # let the sensor consume the ENETDOWN first (the case being tested); no outcome depends on it
ip -n "$NS_RTR" link del "$RTR_IF" || fail "link del"
wait_for 3 log_since "$off" "sensor lan: interface $RTR_IF went away" || fail "down then deleted: removal not noticed"
wait_for 3 sensor_up false || fail "down then deleted: status still shows the sensor up"
veth_pair "$NS_CLI" "$CLI_IF" "$NS_RTR" "$RTR_IF" "$CLI_ADDR" "$RTR_ADDR"
wait_for 5 log_since "$off" "sensor lan: interface $RTR_IF is back" || fail "down then deleted: not picked up again"
wait_for 3 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "down then deleted: no filtered handle"
ip netns exec "$NS_CLI" ping -c1 -W2 "$RTR_ADDR" >/dev/null 2>&1 || fail "lab: no route after re-creating the veth"
traffic_starts "down then deleted, re-created"
say "down then deleted: noticed through RTNETLINK, traffic starts the target again"

wait_for 3 test "$(fd_count "$DAEMON_PID")" -le "$FD0" || fail "daemon fds: $FD0 before, $(fd_count "$DAEMON_PID") after 3 re-creations"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
