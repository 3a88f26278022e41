#!/bin/bash
# tests/demo.sh — `sudo make demo`: runs netwaked on a throw-away lab of network namespaces and
# shows its events as they happen. Builds nothing (make does), needs no terminal, ends by itself.
#
#   client netns (nwdemoPID-client)            router netns (nwdemoPID-router)
#   nwdPIDc 10.77.0.2/24  <----- veth ----->  nwdPIDr 10.77.0.1/24
#                                             plain NFLOG rules (group 7): udp dport 51820, tcp dport 8080
#                                             netwaked -n 7 -c demo-hook -t 3
#
# Each step is a function; STEPS lists them in order (later features add steps: WoL NAS, sleep
# proxy, knocks). Exit status 0 only if every expected event was seen.
# shellcheck disable=SC2317  # the steps are called through the STEPS array
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
NETWAKED=${NETWAKED:-$BUILD/netwaked}
TTL=${DEMO_TTL:-3}
GROUP=7
ID=nwdemo$$
NS_CLI=$ID-client
NS_RTR=$ID-router
IF_CLI=nwd$$c
IF_RTR=nwd$$r
CLI_ADDR=10.77.0.2
RTR_ADDR=10.77.0.1
LAB=$(mktemp -d /tmp/netwaked-demo.XXXXXX) || exit 1
chmod 755 "$LAB"
EVENTS=$LAB/events
DISPLAY_FILE=$LAB/hook-output
: >"$EVENTS"
: >"$DISPLAY_FILE"
SHOWN=0
DAEMON_PID=''
NAMESPACES=()

if [[ -t 1 && -z ${NO_COLOR:-} ]] || [[ -n ${FORCE_COLOR:-} ]]; then
    B=$'\e[1m' DIM=$'\e[2m' CYAN=$'\e[36m' RED=$'\e[31m' OFF=$'\e[0m' COLOR=1
else
    B='' DIM='' CYAN='' RED='' OFF='' COLOR=0
fi

step() { printf '\n%s==> %s%s\n' "$B$CYAN" "$*" "$OFF"; }
note() { printf '    %s\n' "$*"; }
die() {
    printf '%sdemo failed: %s%s\n' "$RED" "$*" "$OFF"
    if [[ -s $LAB/netwaked.log ]]; then
        echo "--- netwaked log (tail)"
        tail -n 15 "$LAB/netwaked.log"
    fi
    exit 1
}

# wait_for TIMEOUT_S cmd...: poll every 20 ms until cmd succeeds, or fail after the deadline.
wait_for() {
    local t=$1 end
    end=$((${EPOCHREALTIME/./} + ${t%.*} * 1000000))
    shift
    until "$@"; do
        ((${EPOCHREALTIME/./} > end)) && return 1
        sleep 0.02
    done
}
events_count() { awk -v e="$1" '$2==e {n++} END{print n+0}' "$EVENTS"; }
has_event() { [[ $(events_count "$1") -ge $2 ]]; }
event_time() { awk -v e="$1" -v n="$2" '$2==e && ++c==n {print $1; exit}' "$EVENTS"; }
ms_since() { local d=$(($1 - $2)); printf '%d.%d' $((d / 1000)) $((d / 100 % 10)); }
past_us() { ((${EPOCHREALTIME/./} > $1)); }
alive() { [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; }

cleanup() {
    local p ns
    trap - EXIT INT TERM
    if alive; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait_for 3 eval '! alive' || kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    for ns in "${NAMESPACES[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    wait 2>/dev/null
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$LAB"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# steps

check_prereqs() {
    [[ $(id -u) -eq 0 ]] || die "needs root for network namespaces: sudo make demo"
    [[ -x $NETWAKED ]] || die "no binary at $NETWAKED: run make first"
    command -v ip >/dev/null || die "ip (iproute2) is not installed"
}

lab_up() {
    step "Lab: a client and a router in their own network namespaces, joined by a veth pair"
    local ns
    for ns in "$NS_CLI" "$NS_RTR"; do
        ip netns add "$ns" || die "ip netns add $ns"
        NAMESPACES+=("$ns")
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    done
    ip link add "$IF_CLI" netns "$NS_CLI" type veth peer name "$IF_RTR" netns "$NS_RTR" || die "veth"
    ip -n "$NS_CLI" addr add "$CLI_ADDR/24" dev "$IF_CLI"
    ip -n "$NS_RTR" addr add "$RTR_ADDR/24" dev "$IF_RTR"
    ip -n "$NS_CLI" link set "$IF_CLI" up
    ip -n "$NS_RTR" link set "$IF_RTR" up
    note "client $CLI_ADDR ($NS_CLI)  <-- veth -->  router $RTR_ADDR ($NS_RTR)"
    ip netns exec "$NS_CLI" ping -c1 -W2 "$RTR_ADDR" >/dev/null 2>&1 || die "client cannot reach the router"

    step "Router: plain NFLOG rules (no threshold) send UDP 51820 and TCP 8080 to log group $GROUP"
    if command -v iptables >/dev/null; then
        ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 51820 -j NFLOG --nflog-group "$GROUP" || die "iptables"
        ip netns exec "$NS_RTR" iptables -A INPUT -p tcp --dport 8080 -j NFLOG --nflog-group "$GROUP" || die "iptables"
        note "iptables -A INPUT -p udp --dport 51820 -j NFLOG --nflog-group $GROUP"
        note "iptables -A INPUT -p tcp --dport 8080  -j NFLOG --nflog-group $GROUP"
    else
        ip netns exec "$NS_RTR" nft -f - <<EOF || die "nft"
table inet demo {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 51820 log group $GROUP
        tcp dport 8080 log group $GROUP
    }
}
EOF
        note "nft: udp dport 51820 log group $GROUP; tcp dport 8080 log group $GROUP"
    fi
}

hook_up() {
    step "Hook: a small script that prints each event in color (netwaked runs it as: hook start|stop default)"
    # The hook cannot share our stdout safely (it may be a file), so it writes its colored line
    # to $DISPLAY_FILE and the demo shows new lines as each event is seen.
    cat >"$LAB/demo-hook" <<EOF
#!/bin/sh
# demo hook generated by tests/demo.sh: prints the event in color and records it.
now=\$(date +%s%6N)
case "\$1" in start) c='1;32' ;; stop) c='1;33' ;; *) c='1;35' ;; esac
what="\$1 \$2"
[ "\$1" = start ] && what="\$what  \${NETWAKED_PROTO:-?} \${NETWAKED_SRC:-?}:\${NETWAKED_SRC_PORT:-} -> \${NETWAKED_DST:-?}:\${NETWAKED_DST_PORT:-}  (sensor \${NETWAKED_SENSOR:-?})"
[ "\$1" = stop ] && what="\$what  (reason \${NETWAKED_REASON:-?}, idle \${NETWAKED_IDLE:-?} s)"
if [ $COLOR = 1 ]; then
    printf '    \033[%sm*** hook: %s\033[0m\n' "\$c" "\$what" >>$DISPLAY_FILE
else
    printf '    *** hook: %s\n' "\$what" >>$DISPLAY_FILE
fi
echo "\$now \$1 \$2" >>$EVENTS
EOF
    chmod 755 "$LAB/demo-hook"
    note "$LAB/demo-hook"
}

daemon_up() {
    step "Router: netwaked -n $GROUP -c demo-hook -t $TTL   (tuninetd-compatible, foreground; its log is shown dimmed)"
    ip netns exec "$NS_RTR" "$NETWAKED" -n "$GROUP" -c "$LAB/demo-hook" -t "$TTL" \
        > >(tee "$LAB/netwaked.log" | sed -u "s/^/    ${DIM}netwaked | /; s/\$/${OFF}/") 2>&1 </dev/null &
    DAEMON_PID=$!
    wait_for 5 nflog_ready || { alive || die "netwaked exited"; die "netwaked did not bind NFLOG group $GROUP"; }
    note "netwaked (pid $DAEMON_PID) listens on NFLOG group $GROUP"
}
nflog_ready() {
    alive && ip netns exec "$NS_RTR" cat /proc/net/netfilter/nfnetlink_log 2>/dev/null | awk -v g="$GROUP" '$1==g {f=1} END{exit !f}'
}

# show_hook_output: print the lines the hook wrote since the last call
show_hook_output() {
    local n
    n=$(wc -l <"$DISPLAY_FILE")
    ((n > SHOWN)) && tail -n +"$((SHOWN + 1))" "$DISPLAY_FILE" | head -n "$((n - SHOWN))"
    SHOWN=$n
}

# send_from_client CMD: run a bash command in the client namespace; sets SENT_US to the time
# just before it sends
send_from_client() {
    SENT_US=$(ip netns exec "$NS_CLI" bash -c "echo \${EPOCHREALTIME/./}; $1" 2>/dev/null | head -n 1)
}

# expect EVENT N TIMEOUT SINCE_US: wait for the Nth EVENT, say how long after SINCE it came
expect() {
    wait_for "$3" has_event "$1" "$2" || die "no '$1' event within $3 s"
    show_hook_output
    note "-> '$1' ran $(ms_since "$(event_time "$1" "$2")" "$4") ms after the packet"
}

udp_wakes() {
    step "Client sends one UDP datagram to $RTR_ADDR:51820 (think: a WireGuard handshake)"
    send_from_client "echo hello >/dev/udp/$RTR_ADDR/51820"
    local t=$SENT_US
    expect start 1 3 "$t"
    step "Client stays silent: after $TTL s without traffic netwaked runs 'stop'"
    expect stop 1 $((TTL + 3)) "$t"
}

tcp_wakes() {
    step "Client connects to $RTR_ADDR:8080 over TCP (nothing listens there: the SYN alone is enough)"
    send_from_client "timeout 2 bash -c 'exec 3<>/dev/tcp/$RTR_ADDR/8080'"
    local t=$SENT_US
    note "connection refused by the router, as expected"
    expect start 2 3 "$t"
    step "Client sends UDP again 1 s later: the target is already active, so no new 'start', only a longer life"
    wait_for 2 past_us $((t + 1000000))
    send_from_client "echo again >/dev/udp/$RTR_ADDR/51820"
    local t2=$SENT_US
    step "Waiting for 'stop', $TTL s after the last packet"
    expect stop 2 $((TTL + 3)) "$t2"
    [[ $(events_count start) -eq 2 ]] || die "expected exactly 2 starts, saw $(events_count start)"
}

daemon_down() {
    step "SIGTERM: netwaked exits cleanly"
    kill -TERM "$DAEMON_PID"
    wait_for 5 eval '! alive' || die "netwaked did not exit"
    wait "$DAEMON_PID"
    local rc=$?
    [[ $rc -eq 0 ]] || die "netwaked exited with status $rc"
    DAEMON_PID=''
}

STEPS=(check_prereqs lab_up hook_up daemon_up udp_wakes tcp_wakes daemon_down)

for s in "${STEPS[@]}"; do "$s"; done
printf '\n%sdemo OK:%s events seen: %s\n' "$B" "$OFF" "$(awk '{printf "%s%s", s, $2; s=", "}' "$EVENTS")"
exit 0
