#!/bin/bash
# tests/demo.sh — `sudo make demo`: runs netwaked on a throw-away lab of network namespaces and
# shows its events as they happen. Builds nothing (make does), needs no terminal, ends by itself.
#
#   client netns (nwdemoPID-client)            router netns (nwdemoPID-router)              nas netns (nwdemoPID-nas)
#   nwdPIDc 10.77.0.2/24  <----- veth ----->  nwdPIDr 10.77.0.1/24                        "asleep": no address,
#   default via 10.77.0.1                     nwdPIDl 10.78.0.1/24  <----- veth ----->    nwdPIDn  MAC d8:cb:8a:39:be:a1
#                                             plain NFLOG rules (group 7): udp dport 51820,     tcpdump here decodes
#                                               tcp dport 8080                                  the magic packets
#                                             netwaked -n 7 -c demo-hook -t 3        (part 1: tuninetd mode)
#                                             NFLOG group 8: SYN to 10.78.0.20:22 (prefix "nas"),
#                                               udp dport 62201 (prefix "spa", dropped)
#                                             netwaked -C demo.yaml                  (part 2: target nas with
#                                               wol verified by ARP probes, authenticated knock "nas-spa")
#
# Part 3 (sleep proxy): proxy, sleeper and client namespaces on a bridge (switch namespace); the
# sleeper registers with `netwakectl register` (Wakupator's payload), sleeps (link down), netwaked
# holds its address, wakes it on a client's SYN to :2222 and releases it when it answers again.
#
# Part 4 (tests/demo_mqtt.inc.sh): a mosquitto broker "in the cloud"; the router's netwaked connects
# out to it, a phone with no route to the router publishes a signed wake (netwakectl remote) and
# watches the router's messages with mosquitto_sub; the NAS of part 2 gets its magic packets.
#
# Each step is a function; STEPS lists them in order (later features add steps, e.g. the sleep
# proxy). Exit status 0 only if every expected event was seen.
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
NETWAKECTL=${NETWAKECTL:-$BUILD/netwakectl}
if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
# part 2: the sleeping NAS
NS_NAS=$ID-nas
IF_LAN=nwd$$l
IF_NAS=nwd$$n
LAN_ADDR=10.78.0.1
NAS_ADDR=10.78.0.20
NAS_MAC=d8:cb:8a:39:be:a1
NAS_GROUP=8
SPA_PORT=62201
NAS_TTL=${DEMO_NAS_TTL:-3}
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
# events_count_t EVENT TARGET / has_event_t EVENT TARGET N / event_time_t EVENT TARGET N
events_count_t() { awk -v e="$1" -v t="$2" '$2==e && $3==t {n++} END{print n+0}' "$EVENTS"; }
has_event_t() { [[ $(events_count_t "$1" "$2") -ge $3 ]]; }
event_time_t() { awk -v e="$1" -v t="$2" -v n="$3" '$2==e && $3==t && ++c==n {print $1; exit}' "$EVENTS"; }
has_event() { [[ $(events_count "$1") -ge $2 ]]; }
event_time() { awk -v e="$1" -v n="$2" '$2==e && ++c==n {print $1; exit}' "$EVENTS"; }
ms_since() { local d=$(($1 - $2)); printf '%d.%d' $((d / 1000)) $((d / 100 % 10)); }
past_us() { ((${EPOCHREALTIME/./} > $1)); }
alive() { [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; }
# launch_daemon NS READY_FN FAILURE ARGS...: runs netwaked ARGS in NS in the background (its log
# dimmed on the terminal and in $LAB/netwaked.log), sets DAEMON_PID, waits for READY_FN.
launch_daemon() {
    local ns=$1 ready=$2 failure=$3
    shift 3
    ip netns exec "$ns" "$NETWAKED" "$@" \
        > >(tee "$LAB/netwaked.log" | sed -u "s/^/    ${DIM}netwaked | /; s/\$/${OFF}/") 2>&1 </dev/null &
    DAEMON_PID=$!
    wait_for 5 "$ready" || { alive || die "netwaked exited"; die "$failure"; }
}

cleanup() {
    local p ns
    trap - EXIT INT TERM
    if alive; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait_for 3 eval '! alive' || kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    [[ -n ${WAKER_PID:-} ]] && kill -KILL "$WAKER_PID" 2>/dev/null
    [[ -n ${NAS_WAKER_PID:-} ]] && kill -KILL "$NAS_WAKER_PID" 2>/dev/null
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
    [[ -x $NETWAKECTL ]] || die "no binary at $NETWAKECTL: run make first"
    command -v ip >/dev/null || die "ip (iproute2) is not installed"
    command -v tcpdump >/dev/null || die "tcpdump is not installed (sudo make demo installs it)"
    command -v "$PYTHON" >/dev/null || die "python3 is not installed"
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
    step "Hook: a small script that prints each event in color (netwaked runs it as: hook EVENT TARGET)"
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
[ "\$1" = start ] && [ "\${NETWAKED_REASON:-}" != traffic ] && what="\$what  (reason \${NETWAKED_REASON:-?})"
[ "\$1" = wake ] && what="\$what  magic packets for \${NETWAKED_MAC:-?} (attempt \${NETWAKED_ATTEMPT:-?}, reason \${NETWAKED_REASON:-?})"
[ "\$1" = awake ] && [ -n "\${NETWAKED_WAKE_SECONDS:-}" ] && what="\$what  after \$NETWAKED_WAKE_SECONDS s (attempt \${NETWAKED_ATTEMPT:-?})"
[ "\$1" = awake ] && [ -z "\${NETWAKED_WAKE_SECONDS:-}" ] && what="\$what  (reason \${NETWAKED_REASON:-?})"
[ "\$1" = wake_failed ] && what="\$what  no sign of life after \${NETWAKED_ATTEMPT:-?} attempt(s)"
[ "\$1" = knock ] && what="\$what  \${NETWAKED_KNOCK:-knock} from \${NETWAKED_SRC:-?}"
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
    launch_daemon "$NS_RTR" nflog_ready "netwaked did not bind NFLOG group $GROUP" \
        -n "$GROUP" -c "$LAB/demo-hook" -t "$TTL"
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

# ---------------------------------------------------------------------------------------------
# part 2: a sleeping NAS, Wake-on-LAN and an authenticated knock (configuration-file mode)

nas_lab_up() {
    step "Lab: a sleeping NAS ($NAS_MAC, $NAS_ADDR) on the router's second LAN; it has no address: it is asleep"
    ip netns add "$NS_NAS" || die "ip netns add $NS_NAS"
    NAMESPACES+=("$NS_NAS")
    ip -n "$NS_NAS" link set lo up
    ip netns exec "$NS_NAS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    ip link add "$IF_LAN" netns "$NS_RTR" type veth peer name "$IF_NAS" netns "$NS_NAS" || die "veth"
    ip -n "$NS_NAS" link set "$IF_NAS" address "$NAS_MAC" || die "NAS MAC"
    ip -n "$NS_RTR" addr add "$LAN_ADDR/24" dev "$IF_LAN"
    ip -n "$NS_RTR" link set "$IF_LAN" up
    ip -n "$NS_NAS" link set "$IF_NAS" up
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 || die "ip_forward"
    ip -n "$NS_CLI" route add default via "$RTR_ADDR" || die "client route"
    note "router $LAN_ADDR ($IF_LAN)  <-- veth -->  NAS $NAS_MAC ($NS_NAS), no IP address"

    step "Router: NFLOG group $NAS_GROUP gets SSH connection attempts to the NAS (prefix nas) and knocks to UDP $SPA_PORT (prefix spa, then dropped)"
    if command -v iptables >/dev/null; then
        ip netns exec "$NS_RTR" iptables -A FORWARD -d "$NAS_ADDR" -p tcp --syn --dport 22 \
            -j NFLOG --nflog-group "$NAS_GROUP" --nflog-prefix nas || die "iptables"
        ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport "$SPA_PORT" \
            -j NFLOG --nflog-group "$NAS_GROUP" --nflog-prefix spa || die "iptables"
        ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport "$SPA_PORT" -j DROP || die "iptables"
        note "iptables -A FORWARD -d $NAS_ADDR -p tcp --syn --dport 22 -j NFLOG --nflog-group $NAS_GROUP --nflog-prefix nas"
        note "iptables -A INPUT -p udp --dport $SPA_PORT -j NFLOG --nflog-group $NAS_GROUP --nflog-prefix spa; ... -j DROP"
    else
        ip netns exec "$NS_RTR" nft -f - <<EOF || die "nft"
table inet demo_nas {
    chain fwd {
        type filter hook forward priority 0; policy accept;
        ip daddr $NAS_ADDR tcp dport 22 tcp flags & (syn|ack) == syn log group $NAS_GROUP prefix "nas"
    }
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport $SPA_PORT log group $NAS_GROUP prefix "spa" drop
    }
}
EOF
        note "nft: ip daddr $NAS_ADDR tcp dport 22 syn -> log group $NAS_GROUP prefix nas; udp dport $SPA_PORT -> log group $NAS_GROUP prefix spa, drop"
    fi
}

conf_daemon_up() {
    step "A knock key, shared by the router and the client: netwakectl keygen"
    "$NETWAKECTL" keygen "$LAB/nas.key" | sed 's/^/    /' || die "netwakectl keygen"
    cat >"$LAB/demo.yaml" <<EOF
# demo.yaml — written by tests/demo.sh
daemon:
  state_dir: $LAB/state
  control_socket: $LAB/control.sock
sensors:
  - name: fw
    nflog: { group: $NAS_GROUP, copy_range: 256 }
defaults:
  hook: $LAB/demo-hook
targets:
  - name: nas
    match: [ { prefix: nas } ]
    ttl: ${NAS_TTL}s
    wol:
      mac: $NAS_MAC
      interface: $IF_LAN
      method: [ethernet, udp]
      udp_to: 10.78.0.255:9
      repeat: 2
      interval: 300ms
      cooldown: 1s
      verify: { address: $NAS_ADDR, timeout: 1s, attempts: 2 }
knock:
  - name: nas-spa
    target: nas
    spa: { port: $SPA_PORT, key_file: $LAB/nas.key }
EOF
    mkdir -p "$LAB/state"
    step "Router: netwaked -C demo.yaml   (configuration-file mode; the part that matters:)"
    sed -n '/^targets:/,$p' "$LAB/demo.yaml" | sed "s/^/    ${DIM}/; s/\$/${OFF}/"
    "$NETWAKED" --check -C "$LAB/demo.yaml" >/dev/null || die "netwaked --check refused demo.yaml"
    launch_daemon "$NS_RTR" conf_ready "netwaked did not come up" -C "$LAB/demo.yaml"
    note "netwaked (pid $DAEMON_PID) listens on NFLOG group $NAS_GROUP; control socket $LAB/control.sock"
}
conf_ready() {
    alive && ip netns exec "$NS_RTR" cat /proc/net/netfilter/nfnetlink_log 2>/dev/null |
        awk -v g="$NAS_GROUP" '$1==g {f=1} END{exit !f}' &&
        "$NETWAKECTL" -s "$LAB/control.sock" status >/dev/null 2>&1
}

# capture_magic NAME: tcpdump on the NAS's link, into $LAB/NAME.pcap
capture_magic() {
    CAP_FILE=$LAB/$1.pcap
    : >"$CAP_FILE.err"
    ip netns exec "$NS_NAS" tcpdump -i "$IF_NAS" --immediate-mode -U -nn -w "$CAP_FILE" \
        'ether proto 0x0842 or udp port 9' 2>"$CAP_FILE.err" </dev/null &
    CAP_PID=$!
    wait_for 5 grep -q "listening on" "$CAP_FILE.err" || die "tcpdump did not start: $(cat "$CAP_FILE.err")"
}
cap_packets() { [[ $(tcpdump -r "$CAP_FILE" -nn 2>/dev/null | grep -c '^[^[:space:]]') -ge $1 ]]; }
# show_magic N: wait for N packets in the capture, stop tcpdump, print them decoded; fails
# unless each is a magic packet for the NAS
show_magic() {
    wait_for 3 cap_packets "$1" || die "expected $1 magic packets on the NAS's link, tcpdump saw fewer"
    kill -INT "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
    local link="the NAS's link ($IF_NAS)"
    note "tcpdump on ${MAGIC_LINK:-$link} saw:"
    "$PYTHON" - "$CAP_FILE" "${MAGIC_MAC:-$NAS_MAC}" <<'EOF' || die "not every packet was a magic packet for ${MAGIC_MAC:-the NAS}"
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
e = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, t0, ok = 24, None, True
fmt_mac = lambda b: ":".join("%02x" % x for x in b)
def magic(p):
    good = len(p) >= 102 and p[:6] == b"\xff" * 6 and p[6:102] == mac * 16
    reps = sum(1 for i in range(6, len(p) - 5, 6) if p[i:i + 6] == mac)
    return good, reps
while off + 16 <= len(data):
    sec, us, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    t = sec * 1000000 + us
    t0 = t if t0 is None else t0
    et = struct.unpack("!H", pkt[12:14])[0]
    if et == 0x0842:
        good, reps = magic(pkt[14:])
        what = "magic packet to %s: EtherType 0x0842, %d bytes, 6 x ff + MAC repeated %dx" % (fmt_mac(pkt[0:6]), len(pkt) - 14, reps)
    elif et == 0x0800 and pkt[23] == 17:
        ip = pkt[14:]
        udp = ip[(ip[0] & 15) * 4:]
        pl = udp[8:struct.unpack("!H", udp[4:6])[0]]
        good, reps = magic(pl)
        what = "magic packet to %s:%d (UDP broadcast), %d bytes, 6 x ff + MAC repeated %dx" % (
            socket.inet_ntoa(ip[16:20]), struct.unpack("!H", udp[2:4])[0], len(pl), reps)
    else:
        good, what = False, "EtherType 0x%04x (not a magic packet)" % et
    ok = ok and good and reps == 16
    print("    %s+%4d ms  %s%s" % ("", (t - t0) // 1000, what, "" if good else "  <-- NOT a valid magic packet"))
sys.exit(0 if ok else 1)
EOF
}

# expect_t EVENT TARGET N TIMEOUT SINCE_US: like expect, for one target
expect_t() {
    wait_for "$4" has_event_t "$1" "$2" "$3" || die "no '$1 $2' event within $4 s"
    show_hook_output
    note "-> '$1 $2' ran $(ms_since "$(event_time_t "$1" "$2" "$3")" "$5") ms after the packet"
}

nas_traffic_wakes() {
    step "Client opens SSH to the NAS ($NAS_ADDR:22); the router logs the SYN, netwaked wakes the NAS"
    capture_magic traffic
    send_from_client "timeout 0.5 bash -c 'exec 3<>/dev/tcp/$NAS_ADDR/22' 2>/dev/null"
    local t=$SENT_US
    note "no answer yet: the NAS is asleep"
    expect_t start nas 1 3 "$t"
    expect_t wake nas 1 3 "$t"
    show_magic 6
    step "The NAS does not wake (think: Wake-on-LAN off in its BIOS): netwaked probes $NAS_ADDR with ARP, sends a second burst after 1 s, then gives up"
    expect_t wake nas 2 4 "$t"
    expect_t wake_failed nas 1 4 "$t"
}

# nas_waker: the NAS boots when a magic packet reaches it (its address comes up, so it
# answers netwaked's ARP probe); runs in the background during the knock step
nas_waker() {
    exec ip netns exec "$NS_NAS" sh -c "tcpdump -i '$IF_NAS' --immediate-mode -c 1 -nn 'ether proto 0x0842' >/dev/null 2>'$LAB/nas-waker.err' &&
        ip addr add '$NAS_ADDR/24' dev '$IF_NAS'"
}

nas_knock_wakes() {
    step "The NAS target goes idle after $NAS_TTL s without traffic"
    expect_t stop nas 1 $((NAS_TTL + 3)) "$(event_time_t start nas 1)"
    step "Client knocks: netwakectl knock $RTR_ADDR nas --key-file nas.key  (one signed UDP datagram; the router drops it, netwaked reads it from NFLOG)"
    capture_magic knock
    : >"$LAB/nas-waker.err"
    nas_waker &
    NAS_WAKER_PID=$!
    wait_for 5 grep -q "listening on" "$LAB/nas-waker.err" || die "the NAS's waker did not start"
    send_from_client "'$NETWAKECTL' knock $RTR_ADDR nas --key-file '$LAB/nas.key' >/dev/null"
    local t=$SENT_US
    expect_t knock nas 1 3 "$t"
    expect_t start nas 2 3 "$t"
    expect_t wake nas 3 3 "$t"
    show_magic 6
    step "This time the NAS wakes on the magic packet (its address comes up): netwaked's ARP probe is answered"
    expect_t awake nas 1 5 "$t"
    step "netwakectl status (over the control socket)"
    "$NETWAKECTL" -s "$LAB/control.sock" status | sed 's/^/    /' || die "netwakectl status failed"
}

STEPS=(check_prereqs lab_up hook_up daemon_up udp_wakes tcp_wakes daemon_down
    nas_lab_up conf_daemon_up nas_traffic_wakes nas_knock_wakes daemon_down)

# ---------------------------------------------------------------------------------------------
# part 3: the sleep proxy (SPEC §8) with a Wakupator-compatible registration (SPEC §9)
# (topology and configuration from tests/netns/59_proxy_lab.sh and 50_sleep_proxy.sh)
NS_SW=$ID-sw NS_PX=$ID-px NS_SL=$ID-sl NS_PC=$ID-pc
PX_IF=nwd$$P SL_IF=nwd$$S PC_IF=nwd$$C
PX_IP=10.79.0.2 SL_IP=10.79.0.20 PC_IP=10.79.0.30
PX_MAC=02:79:00:00:00:02 SL_MAC=02:79:00:00:00:20 PC_MAC=02:79:00:00:00:30
REG_PORT=13717
WAKER_PID=''

sp_port() {
    local ns=$1 ifn=$2 mac=$3 a4=$4
    ip netns add "$ns" || die "ip netns add $ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    ip link add "$ifn" netns "$ns" address "$mac" type veth peer name "${ifn}b" netns "$NS_SW" || die "veth $ifn"
    ip -n "$NS_SW" link set "${ifn}b" master br0 up
    ip -n "$ns" addr add "$a4/24" dev "$ifn"
    ip -n "$ns" link set "$ifn" up
}

sp_lab_up() {
    step "Lab 3: a proxy, a sleeper and a client on one switch (a bridge in its own namespace)"
    command -v nft >/dev/null || die "nft is not installed (the sleep proxy holds addresses with nftables)"
    ip netns add "$NS_SW" || die "ip netns add $NS_SW"
    NAMESPACES+=("$NS_SW")
    ip -n "$NS_SW" link add br0 type bridge mcast_snooping 0 forward_delay 0 || die "bridge"
    ip -n "$NS_SW" link set br0 up
    sp_port "$NS_PX" "$PX_IF" "$PX_MAC" "$PX_IP"
    sp_port "$NS_SL" "$SL_IF" "$SL_MAC" "$SL_IP"
    sp_port "$NS_PC" "$PC_IF" "$PC_MAC" "$PC_IP"
    wait_for 5 ip netns exec "$NS_PC" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1 || die "lab: client cannot reach the sleeper"
    note "proxy $PX_IP ($PX_MAC)   sleeper $SL_IP ($SL_MAC)   client $PC_IP ($PC_MAC)"
}

sp_daemon_up() {
    cat >"$LAB/proxy.yaml" <<EOF
# proxy.yaml — written by tests/demo.sh
daemon:
  state_dir: $LAB/px-state
  control_socket: $LAB/px.sock
  pidfile: ""
sensors:
  - name: lan
    pcap: { interface: $PX_IF, filter: "udp port 7" }
defaults:
  hook: $LAB/demo-hook
targets:
  - name: dummy
    match: [ { proto: udp, dst_port: 7 } ]
register:
  listen: $PX_IP:$REG_PORT
  interface: $PX_IF
  allow: [10.79.0.0/24]
  sleep_proxy: { probe_interval: 500ms, probe_misses: 3, shutdown_timeout: 10m, wake_attempts: 3, wake_interval: 5s, keep: true }
  wol: { interface: $PX_IF, repeat: 3, interval: 200ms }
EOF
    mkdir -p "$LAB/px-state"
    step "Proxy: netwaked -C proxy.yaml   (registrations on $PX_IP:$REG_PORT; the part that matters:)"
    sed -n '/^register:/,$p' "$LAB/proxy.yaml" | sed "s/^/    ${DIM}/; s/\$/${OFF}/"
    "$NETWAKED" --check -C "$LAB/proxy.yaml" >/dev/null || die "netwaked --check refused proxy.yaml"
    launch_daemon "$NS_PX" sp_ready "netwaked does not listen for registrations" -C "$LAB/proxy.yaml"
    note "netwaked (pid $DAEMON_PID) listens for registrations on $PX_IP:$REG_PORT"
}
sp_ready() {
    alive && ip netns exec "$NS_PX" ss -ltn 2>/dev/null | grep "$PX_IP:$REG_PORT" >/dev/null &&
        grep -q "sleep proxy: listening on $PX_IF" "$LAB/netwaked.log"
}
sp_state() {
    "$NETWAKECTL" -s "$LAB/px.sock" status --json 2>/dev/null | "$PYTHON" -c '
import json, sys
for t in json.load(sys.stdin).get("targets", []):
    if t["name"] == "sleeper" and t.get("proxy"):
        print(t["proxy"]["state"], " ".join(t["proxy"]["addresses"]))'
}
sp_state_is() { [[ $(sp_state) == "$1"* ]]; }

sp_register() {
    local reg=("$NETWAKECTL" register "$PX_IP:$REG_PORT" --name sleeper --ports 2222 --timeout 5s) out
    step "Sleeper registers itself before it sleeps: netwakectl register $PX_IP:$REG_PORT --name sleeper --ports 2222"
    out=$(ip netns exec "$NS_SL" "${reg[@]}" --dry-run) || die "netwakectl register --dry-run failed"
    note "payload (MAC and addresses found on $SL_IF, the interface routing to the proxy): $out"
    out=$(ip netns exec "$NS_SL" "${reg[@]}" 2>&1) || die "registration failed: $out"
    note "$out   (exit 0: the proxy answered OK.)"
    wait_for 3 sp_state_is up || die "sleeper not in status: $(sp_state)"
    note "netwakectl status: sleeper $(sp_state)   (awake: it answers the proxy's ARP probes)"
}

# sp_waker: the sleeper's "wake-on-LAN hardware": once the wake event is seen, link up and
# start the service on :2222 (a tiny accept loop).
sp_waker() {
    wait_for 30 has_event_t wake sleeper 1 || exit 0
    sleep 0.5
    ip -n "$NS_SL" link set "$SL_IF" up
    exec ip netns exec "$NS_SL" "$PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2222)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"hello from the sleeper\n"); c.close()' >/dev/null 2>&1
}

sp_sleep() {
    step "Sleeper goes to sleep (link down); the proxy's probes go unanswered"
    local t=${EPOCHREALTIME/./}
    ip -n "$NS_SL" link set "$SL_IF" down
    expect_t asleep sleeper 1 6 "$t"
    note "(3 missed probes at 500 ms; -> is time since the link went down)"
    wait_for 3 sp_state_is asleep || die "status: $(sp_state)"
    note "netwakectl status: sleeper $(sp_state)"
    step "Client asks who has $SL_IP: the proxy answers with its own MAC ($PX_MAC)"
    ip -n "$NS_PC" neigh flush all
    ip netns exec "$NS_PC" ping -c1 -W1 "$SL_IP" >/dev/null 2>&1
    wait_for 2 bash -c "ip -n '$NS_PC' neigh show '$SL_IP' | grep '$PX_MAC' >/dev/null" ||
        die "client's ARP cache: $(ip -n "$NS_PC" neigh show "$SL_IP")"
    note "client: ip neigh show $SL_IP -> $(ip -n "$NS_PC" neigh show "$SL_IP")"
}

sp_wake() {
    step "Client connects to $SL_IP:2222 (retrying for up to 20 s): its SYN reaches the proxy, netwaked wakes the sleeper"
    sp_waker &
    WAKER_PID=$!
    disown "$WAKER_PID"
    CAP_FILE=$LAB/proxy-wol.pcap
    : >"$CAP_FILE.err"
    ip netns exec "$NS_PX" tcpdump -i "$PX_IF" --immediate-mode -U -nn -w "$CAP_FILE" \
        'ether proto 0x0842 or udp port 9' 2>"$CAP_FILE.err" </dev/null &
    CAP_PID=$!
    wait_for 5 grep -q "listening on" "$CAP_FILE.err" || die "tcpdump did not start: $(cat "$CAP_FILE.err")"
    ip netns exec "$NS_PC" "$PYTHON" -c '
import socket, sys, time
end, n = time.time() + 20, 0
while time.time() < end:
    n += 1
    try:
        c = socket.create_connection((sys.argv[1], 2222), timeout=2)
        print("connected after %d attempt(s): %s" % (n, c.recv(100).decode().strip()), flush=True)
        sys.exit(0)
    except OSError as e:
        time.sleep(0.3)
print("failed after %d attempts" % n, flush=True)' "$SL_IP" >"$LAB/connect.out" 2>&1 &
    local cpid=$! t=${EPOCHREALTIME/./}
    expect_t wake sleeper 1 5 "$t"
    MAGIC_MAC=$SL_MAC MAGIC_LINK="the proxy's port ($PX_IF)" show_magic 6
    step "Sleeper wakes on the magic packet: link up, service on :2222; netwaked's probe is answered again"
    expect_t awake sleeper 1 10 "$t"
    wait "$cpid"
    grep -q connected "$LAB/connect.out" || die "client: $(cat "$LAB/connect.out")"
    step "Client: $(cat "$LAB/connect.out")"
}

STEPS+=(sp_lab_up sp_daemon_up sp_register sp_sleep sp_wake daemon_down)

# part 4: remote wake through an MQTT broker (SPEC §16); adds its steps
. "$ROOT/tests/demo_mqtt.inc.sh"

for s in "${STEPS[@]}"; do "$s"; done
printf '\n%sdemo OK:%s events seen: %s\n' "$B" "$OFF" "$(awk '{printf "%s%s", s, $2; s=", "}' "$EVENTS")"
exit 0
