#!/bin/bash
# tests/tsan.sh — ThreadSanitizer check of the sensor -> core hand-off: builds netwaked with
# SANITIZE=thread into build-tsan/, runs it in a netns (NFLOG + pcap sensors, 8 targets, ttl 1s)
# under a UDP flood while SIGHUP / SIGUSR2 (ruleset swaps) / SIGUSR1 / `netwakectl status` run,
# and fails on any "WARNING: ThreadSanitizer" in its log. Needs root. Exit 0: PASS tsan.
#
#   sudo tests/tsan.sh [SECONDS]      (default 20 s of flood; NW_TSAN_NOBUILD=1 skips the build)
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   UDP flood to ports 9000-9007               iptables INPUT udp dport 9000:9007 -> NFLOG G
#                                              netwaked -C conf.yaml: t0-t3 via NFLOG, t4-t7 via
#                                              pcap on ${NW_ID}r; hooks are a 2-line sh script
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
SECONDS_FLOOD=${1:-${NW_TSAN_SECONDS:-20}}
export BUILD=${TSAN_BUILD:-$ROOT/build-tsan}
if [[ ${NW_TSAN_NOBUILD:-} != 1 ]]; then
    echo "tsan: building netwaked with SANITIZE=thread into $BUILD"
    make --no-print-directory -j"${NW_JOBS:-2}" SANITIZE=thread BUILD="$BUILD" all >/dev/null ||
        { echo "FAIL tsan: build failed (make SANITIZE=thread BUILD=$BUILD all)"; exit 1; }
fi
# the scenario helpers (namespaces, daemon, cleanup); SCENARIO is "tsan"
. "$ROOT/tests/netns/lib.sh"
grep -aq '__tsan_init' "$NETWAKED" || fail "$NETWAKED is not a ThreadSanitizer build"
require_root iptables
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1 history_size=4}
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9000:9007 -j NFLOG --nflog-group "$G" || fail "iptables rule"
printf '#!/bin/sh\n# tsan.sh hook: does nothing\nexit 0\n' >"$NW_TMP/hook"
chmod 755 "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
# write_conf TTL: the configuration (rewritten between reloads so every SIGUSR2 swaps rulesets)
write_conf() {
    local i
    {
        cat <<EOF
# tests/tsan.sh configuration
daemon:
  control_socket: $CTL_SOCK
  state_dir: $NW_TMP/state
  pidfile: ""
sensors:
  - name: fw
    nflog: { group: $G }
  - name: lan
    pcap: { interface: $RTR_IF, filter: "udp" }
defaults:
  ttl: $1
  hook: $NW_TMP/hook
  hook_timeout: 10s
targets:
EOF
        for i in 0 1 2 3 4 5 6 7; do
            printf '  - { name: t%d, sensors: [%s], match: [ { proto: udp, dst_port: %d } ] }\n' \
                "$i" "$( ((i < 4)) && echo fw || echo lan)" $((9000 + i))
        done
    } >"$NW_TMP/conf.yaml"
}
write_conf 1s
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
wait_for 10 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" filtered || fail "pcap handle not open"

cat >"$NW_TMP/flood.py" <<'EOF'
# flood.py (tests/tsan.sh): UDP datagrams to ports 9000-9007 for SECONDS, in bursts with short
# pauses so targets keep going idle and active again (hits through the queue, not just keepalives)
import socket, sys, time, random
dst, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + secs
n = 0
r = random.Random(7)
while time.monotonic() < end:
    burst_end = time.monotonic() + r.uniform(0.05, 0.6)
    while time.monotonic() < burst_end:
        for p in range(9000, 9008):
            try:
                s.sendto(b"tsan-flood", (dst, p))
                n += 1
            except OSError:
                pass
    time.sleep(r.uniform(0.0, 1.3))
print("sent", n)
EOF
ip netns exec "$NS_CLI" "$PYTHON" "$NW_TMP/flood.py" "$RTR_ADDR" "$SECONDS_FLOOD" >"$NW_TMP/flood.out" 2>&1 &
FLOOD=$!
NW_BGPIDS+=("$FLOOD")
say "flooding for $SECONDS_FLOOD s while SIGHUP / SIGUSR2 / SIGUSR1 / status run"
i=0 reloads=0 hups=0
while pid_alive "$FLOOD"; do
    i=$((i + 1))
    if ((i % 3 == 0)); then
        kill -HUP "$DAEMON_PID"
        hups=$((hups + 1))
    fi
    if ((i % 4 == 0)); then
        write_conf "$(((i / 4) % 2 + 1))s"
        kill -USR2 "$DAEMON_PID"
        reloads=$((reloads + 1))
    fi
    ((i % 7 == 0)) && kill -USR1 "$DAEMON_PID"
    ctl status >/dev/null || say "status failed: $CTL_ERR"
    pid_alive "$DAEMON_PID" || fail "netwaked died during the flood"
    sleep 0.1
done
wait "$FLOOD"
say "flood: $(cat "$NW_TMP/flood.out"); $reloads reloads, $hups SIGHUPs, $i status requests"
ctl_ok status --json
say "status: $(status_get '[(x["name"], x["packets"], x["drops"]) for x in s["sensors"]]')"
say "log: $(grep -c ': idle -> active' "$DAEMON_LOG") starts, $(grep -c 'SIGHUP: stopping' "$DAEMON_LOG") SIGHUPs, $(grep -c '^reloaded ' "$DAEMON_LOG") reloads"
(($(grep -c ': idle -> active' "$DAEMON_LOG") > 20)) || fail "too few transitions to say anything"
stop_daemon "$DAEMON_PID" 30
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
if grep -q 'WARNING: ThreadSanitizer' "$DAEMON_LOG"; then
    grep -c 'WARNING: ThreadSanitizer' "$DAEMON_LOG" | sed 's/^/  reports: /'
    fail "ThreadSanitizer reports in the daemon log"
fi
say "no ThreadSanitizer report"
pass
