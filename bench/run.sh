#!/bin/bash
# bench/run.sh — what `make bench` runs: a throw-away lab of network namespaces in which netwaked is
# measured side by side with minimal reference receivers; prints a table, writes bench/results.json.
#
#   gen netns (ID-g)                           rtr netns (ID-r)
#   IDg 10.251.0.2  <------- veth ------->  IDr 10.251.0.1
#   pktgen (AF_PACKET, CPU 0 [+1]), lat       netwaked | ref_nflog | ref_pcap (CPU 1 when measuring CPU)
#                                             filter INPUT:  udp/tcp dport 5001 -j NFLOG group GNW  (netwaked)
#                                                            udp/tcp dport 5002 -j NFLOG group GREF (reference)
#                                                            then DROP (plain rules: kernel batching defaults)
#                                             raw PREROUTING: udp dport 6000,19999-29999 -j NFLOG group GTP; DROP
#                                                             udp dport 6001 -j NFLOG group GTP prefix nwbpfx
#   idle netns ID-i1: NFLOG-only netwaked, 100 targets     idle netns ID-i2: pcap (on a veth) + NFLOG, 100 targets
#
# Sections (BENCH_ONLY=regex selects): latency wol stop throughput scale instr mem idle mqtt
# (mqtt: bench/mqtt.inc.sh; BENCH_MQTT_IDLE_S [30] its idle window, BENCH_MQTT_NODELAY [true] the broker's set_tcp_nodelay)
# Environment (defaults in brackets):
#   BUILD [build]            where netwaked, netwakectl and bench/ tools are
#   BENCH_IDLE_S [60]        idle wake-up window (runs in parallel with the other sections)
#   BENCH_TRIES [100]        tries per latency series (plus 3 warm-up tries)
#   BENCH_STOP_TRIES [15]    stop-lateness tries per sensor (each takes TTL 1 s + ~0.2 s)
#   BENCH_DUR [3]            seconds per throughput point
#   BENCH_REPS [3]           repetitions of every throughput / scaling point (interleaved)
#   BENCH_RATES ["10000 100000 300000"]   offered rates (pps) for the throughput section
#   BENCH_PCAP_BUFFER [unset]  pcap buffer (bytes) for netwaked and ref_pcap in the throughput section
#                            (unset: both use 4 MiB, netwaked's default pcap.buffer_size)
#   BENCH_SCALE_RATE [100000] rate for the targets-scaling section
#   BENCH_SCALE_TARGETS ["1 100 10000"]
#   BENCH_NICE [-10]         nice value for the whole run (other jobs on a shared box run niced)
#   BENCH_SCHED ["cfs rt"]   scheduling classes for the latency/wol/stop sections (see main below)
#   BENCH_SPLIT [200000]     offered rates above this use two senders (one per CPU)
#   BENCH_OUT [bench/results.json]   BENCH_KEEP=1 keeps the raw files in /tmp/nwbench.*
#   TUNINETD [unset]         path to a tuninetd binary the user built from its public source (never
#                            vendored): the instr section also measures it (-n GROUP -c HOOK -t TTL),
#                            with its memory at rest next to netwaked's in tuninetd mode
# Takes ~6.5 minutes with the defaults (the instr section needs valgrind, else it is skipped).
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
NETWAKED=$BUILD/netwaked
NETWAKECTL=$BUILD/netwakectl
TOOLS=$BUILD/bench
IDLE_S=${BENCH_IDLE_S:-60}
TRIES=${BENCH_TRIES:-100}
STOP_TRIES=${BENCH_STOP_TRIES:-15}
DUR=${BENCH_DUR:-3}
REPS=${BENCH_REPS:-3}
RATES=${BENCH_RATES:-10000 100000 300000}
SCALE_RATE=${BENCH_SCALE_RATE:-100000}
SCALE_TARGETS=${BENCH_SCALE_TARGETS:-1 100 10000}
NICE=${BENCH_NICE:--10}
ONLY=${BENCH_ONLY:-}
PCAP_BUF=${BENCH_PCAP_BUFFER:-}
SCHEDS=${BENCH_SCHED:-cfs rt}
SCHED=cfs
OUT=${BENCH_OUT:-$ROOT/bench/results.json}
if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }
want() { [[ -z $ONLY || $1 =~ $ONLY ]]; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, NFLOG, AF_PACKET)"
for c in ip iptables taskset chrt renice "$PYTHON"; do command -v "$c" >/dev/null || die "missing command: $c"; done
for f in "$NETWAKED" "$NETWAKECTL" "$TOOLS/pktgen" "$TOOLS/lat" "$TOOLS/ref_nflog" "$TOOLS/ref_pcap"; do
    [[ -x $f ]] || die "missing $f (run: make bench)"
done
[[ $NICE != 0 ]] && renice -n "$NICE" -p $$ >/dev/null

# Unique names for this run; everything created below is removed by cleanup().
ID="nwb$$"
NS_G=$ID-g NS_R=$ID-r NS_I1=$ID-i1 NS_I2=$ID-i2
IF_G=${ID}g IF_R=${ID}r
A_G=10.251.0.2 A_R=10.251.0.1
P_NW=5001 P_REF=5002 P_TP=6000 P_PFX=6001 P_MISS=19999 P_SCALE=20000
G_NW=$((1000 + RANDOM % 20000)) G_REF=$((21000 + RANDOM % 20000)) G_TP=$((41000 + RANDOM % 20000))
T=$(mktemp -d "${TMPDIR:-/tmp}/nwbench.XXXXXX") || exit 1
chmod 755 "$T"
RAW=$T/raw.jsonl
: >"$RAW"
PIDS=()
NETNS=()
NCPU=$(nproc)
if ((NCPU >= 2)); then CPU_RX=(taskset -c 1); else CPU_RX=(); fi

cleanup() {
    local p ns
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for ns in "${NETNS[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    wait 2>/dev/null
    for ns in "${NETNS[@]}"; do
        ip netns exec "$ns" iptables -F 2>/dev/null
        ip netns exec "$ns" iptables -t raw -F 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [[ ${BENCH_KEEP:-} == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# lab

netns_add() {
    ip netns add "$1" || die "ip netns add $1"
    NETNS+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
}

lab() {
    netns_add "$NS_G"
    netns_add "$NS_R"
    ip link add "$IF_G" netns "$NS_G" type veth peer name "$IF_R" netns "$NS_R" || die "veth"
    ip -n "$NS_G" addr add "$A_G/24" dev "$IF_G"
    ip -n "$NS_R" addr add "$A_R/24" dev "$IF_R"
    ip -n "$NS_G" link set "$IF_G" up
    ip -n "$NS_R" link set "$IF_R" up
    ip netns exec "$NS_G" ping -c1 -W2 "$A_R" >/dev/null 2>&1 || die "lab: no connectivity"
    local r=(ip netns exec "$NS_R" iptables)
    "${r[@]}" -A INPUT -p udp --dport $P_NW -j NFLOG --nflog-group $G_NW || die "iptables NFLOG (xt_NFLOG missing?)"
    "${r[@]}" -A INPUT -p tcp --dport $P_NW --syn -j NFLOG --nflog-group $G_NW
    "${r[@]}" -A INPUT -p udp --dport $P_REF -j NFLOG --nflog-group $G_REF
    "${r[@]}" -A INPUT -p tcp --dport $P_REF --syn -j NFLOG --nflog-group $G_REF
    "${r[@]}" -A INPUT -p udp -m multiport --dports $P_NW,$P_REF -j DROP
    "${r[@]}" -A INPUT -p tcp -m multiport --dports $P_NW,$P_REF -j DROP
    # Throughput traffic is logged and dropped before routing, so one sender core can offer more.
    # P_PFX is logged with a prefix (prefix-routed targets, instr section).
    "${r[@]}" -t raw -A PREROUTING -p udp --dport $P_PFX -j NFLOG --nflog-group $G_TP --nflog-prefix nwbpfx
    "${r[@]}" -t raw -A PREROUTING -p udp -m multiport --dports $P_TP,$P_MISS:29999 -j NFLOG --nflog-group $G_TP
    "${r[@]}" -t raw -A PREROUTING -p udp -m multiport --dports $P_TP,$P_PFX,$P_MISS:29999 -j DROP
    MAC_R=$(ip -n "$NS_R" -br link show "$IF_R" | awk '{print $3}')
    mkfifo "$T/fifo"
    # Keeps the FIFO open for the whole run so a hook never blocks on open() between probes.
    (exec sleep 1000000) 9<>"$T/fifo" &
    PIDS+=($!)
    cat >"$T/hook.sh" <<EOF
#!/bin/sh
# bench hook (generated by bench/run.sh): its first line tells the latency probe it is running.
echo "\$1 \$2" >$T/fifo
EOF
    cat >"$T/hook-log.sh" <<EOF
#!/bin/sh
# bench hook (generated by bench/run.sh): records events for the throughput sections.
echo "\$1 \$2" >>$T/events.log
EOF
    chmod 755 "$T/hook.sh" "$T/hook-log.sh"
    : >"$T/events.log"
}

# ---------------------------------------------------------------------------------------------
# processes and counters

# run_bg LOG NS cmd...: start cmd inside NS in the background; sets BG_PID.
run_bg() {
    local log=$1 ns=$2
    shift 2
    : >"$log"  # truncate here: the child's redirection races with wait_log
    ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    PIDS+=("$BG_PID")
}
# wait_log FILE REGEX [TIMEOUT_S]
wait_log() {
    local i
    for ((i = 0; i < ${3:-10} * 50; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}
stop_pid() {
    kill -TERM "$1" 2>/dev/null
    local i
    for ((i = 0; i < 250; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.02; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
# start_netwaked LOG NS args...: runs netwaked and waits for "running"; sets NW_PID, NW_START_MS.
start_netwaked() {
    local log=$1 ns=$2 t0
    shift 2
    t0=${EPOCHREALTIME/./}
    run_bg "$log" "$ns" "$@"
    NW_PID=$BG_PID
    wait_log "$log" 'running:' 60 || { tail -5 "$log" >&2; die "netwaked did not start ($*)"; }
    NW_START_MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
}
# start_ref LOG NS args...: a reference receiver; waits for "listening"; sets REF_PID.
start_ref() {
    local log=$1 ns=$2
    shift 2
    : >"$log"
    : >"$log.err"
    ip netns exec "$ns" "$@" >"$log" 2>"$log.err" </dev/null &
    REF_PID=$!
    PIDS+=("$REF_PID")
    wait_log "$log.err" 'listening' 10 || { cat "$log.err" >&2; die "reference receiver did not start"; }
}

# cpu PID: "<ns on CPU, all threads (schedstat)> <utime+stime ticks (stat)>"
cpu() {
    local f ns=0 a line rest
    for f in /proc/"$1"/task/*/schedstat; do
        read -r a _ <"$f" 2>/dev/null && ns=$((ns + a))
    done
    read -r line <"/proc/$1/stat"
    rest=${line##*) }
    read -r -a a <<<"$rest"
    echo "$ns $((a[11] + a[12]))"
}
# ctxt PID: voluntary + involuntary context switches summed over every thread.
ctxt() {
    awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n + 0}' /proc/"$1"/task/*/status 2>/dev/null
}
# thread_snap PID: "<tid> <comm> <context switches>" per thread.
thread_snap() {
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" "$(awk '/ctxt_switches/ {n += $2} END {print n + 0}' "$t/status")"
    done
}
vmhwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# mem PID: JSON fields of the process's memory now (KiB): peak, resident, anonymous, proportional.
mem() {
    local hwm rss anon pss
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$1/status")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status")
    anon=$(awk '/^RssAnon/ {print $2}' "/proc/$1/status")
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)
    echo "\"vmhwm_kb\":${hwm:-0},\"vmrss_kb\":${rss:-0},\"rss_anon_kb\":${anon:-0},\"pss_kb\":${pss:-0}"
}
# nw_counters SOCK: "<packets> <drops>" of the daemon's first sensor.
nw_counters() {
    "$NETWAKECTL" -s "$1" status --json |
        "$PYTHON" -c 'import json,sys; s=json.load(sys.stdin)["sensors"][0]; print(s["packets"], s["drops"])'
}
# ref_counters PID LOG: "<packets> <lost>" (ref_nflog: sequence gaps; ref_pcap: kernel drops).
ref_counters() {
    local n i
    n=$(wc -l <"$2")
    kill -USR1 "$1"
    for ((i = 0; i < 250; i++)); do (($(wc -l <"$2") > n)) && break; sleep 0.01; done
    tail -1 "$2" | "$PYTHON" -c 'import json,sys; s=json.loads(sys.stdin.read()); print(s["packets"], s.get("lost", s.get("drops", 0)))'
}
# pktgen RATE PORT[-PORT] SECONDS: offered load from the gen namespace; prints "sent achieved_pps".
# One sender on CPU 0; rates above BENCH_SPLIT (default 200000) are split over two senders (CPU 0
# and CPU 1): one core cannot offer more than ~200-250 kpps once NFLOG logging runs in its softirq.
pktgen() {
    local n=1 i out=$T/pktgen.out pids=()
    ((NCPU >= 2 && $1 > ${BENCH_SPLIT:-200000})) && n=2
    for ((i = 0; i < n; i++)); do
        ip netns exec "$NS_G" taskset -c $((i % NCPU)) "$TOOLS/pktgen" --raw "$IF_G" --src "$A_G" --dst "$A_R" \
            --dst-mac "$MAC_R" --rate $(($1 / n)) --port "$2" --duration "$3" >"$out.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    cat "$out".[0-9] | sed -n 's/.*sent=\([0-9]*\).*rate_pps=\([0-9]*\).*/\1 \2/p' |
        awk '{s += $1; r += $2} END {print s + 0, r + 0}'
    rm -f "$out".[0-9]
}

emit() { printf '%s\n' "$1" >>"$RAW"; }

# measure_point KIND LABELJSON PID COUNTERFN RATE PORT SETTLE: one CPU window around pktgen.
# COUNTERFN prints "<packets> <lost>" cumulatively; it is read outside the CPU window.
measure_point() {
    local kind=$1 label=$2 pid=$3 counter=$4 rate=$5 port=$6 settle=$7
    local c0 c1 k0 k1 s sent ach p0 l0 p1 l1 x0
    read -r p0 l0 <<<"$($counter)"
    x0=$(ctxt "$pid")
    read -r c0 k0 <<<"$(cpu "$pid")"
    read -r sent ach <<<"$(pktgen "$rate" "$port" "$DUR")"
    sleep 0.3
    read -r c1 k1 <<<"$(cpu "$pid")"
    s=$(($(ctxt "$pid") - x0))
    sleep "$settle"
    read -r p1 l1 <<<"$($counter)"
    emit "{\"kind\":\"$kind\",$label,\"rate\":$rate,\"sent\":${sent:-0},\"achieved_pps\":${ach:-0},\"cpu_ns\":$((c1 - c0)),\"cpu_ticks\":$((k1 - k0)),\"switches\":$s,\"rx_packets\":$((p1 - p0)),\"lost\":$((l1 - l0))}"
    say "    $kind $label rate=$rate sent=${sent:-0} (${ach:-0} pps) rx=$((p1 - p0)) lost=$((l1 - l0)) cpu=$(((c1 - c0) / 1000000)) ms"
}

# A config-mode file: SENSOR_YAML, N targets (udp dst ports P_SCALE..), control socket.
write_config() {
    local file=$1 sock=$2 sensor=$3 n=$4 hook=$5 extra=${6:-}
    {
        echo "# generated by bench/run.sh"
        echo "daemon: { state_dir: \"\", control_socket: $sock, log_level: notice }"
        echo "sensors:"
        echo "$sensor"
        echo "defaults: { hook: $hook, ttl: 1h }"
        echo "targets:"
        if [[ -n $extra ]]; then
            echo "$extra"
        else
            awk -v n="$n" -v p="$P_SCALE" 'BEGIN { for (i = 0; i < n; i++) printf "  - { name: t%d, match: [ { proto: udp, dst_port: %d } ] }\n", i, p + i }'
        fi
    } >"$file"
}

# ---------------------------------------------------------------------------------------------
# sections

# Idle wake-ups: two daemons in their own namespaces, untouched by the rest of the run. The
# namespaces are made by the main shell (so cleanup sees them); the rest runs in the background.
idle_lab() {
    netns_add "$NS_I1"
    netns_add "$NS_I2"
    ip -n "$NS_I2" link add ${ID}ia type veth peer name ${ID}ib || die "veth in $NS_I2"
    ip -n "$NS_I2" link set ${ID}ia up
    ip -n "$NS_I2" link set ${ID}ib up
}
idle_section() {
    local cfg1=$T/idle1.yaml cfg2=$T/idle2.yaml p1 p2
    write_config "$cfg1" "$T/idle1.sock" "  - { name: nf, nflog: { group: 1 } }" 100 "$T/hook-log.sh"
    write_config "$cfg2" "$T/idle2.sock" "  - { name: nf, nflog: { group: 1 } }
  - { name: pc, pcap: { interface: ${ID}ia, filter: \"udp\" } }" 100 "$T/hook-log.sh"
    start_netwaked "$T/idle1.log" "$NS_I1" "$NETWAKED" -C "$cfg1"
    p1=$NW_PID
    start_netwaked "$T/idle2.log" "$NS_I2" "$NETWAKED" -C "$cfg2"
    p2=$NW_PID
    sleep 2  # let start-up settle
    thread_snap "$p1" >"$T/idle1.a"
    thread_snap "$p2" >"$T/idle2.a"
    sleep "$IDLE_S"
    thread_snap "$p1" >"$T/idle1.b"
    thread_snap "$p2" >"$T/idle2.b"
    local i cfgname
    for i in 1 2; do
        [[ $i == 1 ]] && cfgname="nflog, 100 targets" || cfgname="nflog + pcap, 100 targets"
        local pid
        [[ $i == 1 ]] && pid=$p1 || pid=$p2
        emit "$(awk -v cfg="$cfgname" -v s="$IDLE_S" -v hwm="$(vmhwm "$pid")" '
            NR == FNR { a[$1] = $3; next }
            { d = $3 - a[$1]; tot += d; n++; per = per sprintf("%s\"%s/%s\":%d", n > 1 ? "," : "", $2, $1, d) }
            END { printf "{\"kind\":\"idle\",\"config\":\"%s\",\"seconds\":%s,\"switches\":%d,\"threads\":%d,\"vmhwm_kb\":%d,\"per_thread\":{%s}}", cfg, s, tot, n, hwm, per }
        ' "$T/idle$i.a" "$T/idle$i.b")"
    done
    stop_pid "$p1"
    stop_pid "$p2"
}

latency_section() {
    local sensor=$1 nw ref
    say "  start latency ($sensor, $SCHED): $TRIES tries, each: hook alone, reference receiver, netwaked"
    if [[ $sensor == nflog ]]; then
        start_netwaked "$T/lat-$sensor.log" "$NS_R" "$NETWAKED" -n $G_NW -c "$T/hook.sh" -t 600
        nw=$NW_PID
        start_ref "$T/lat-ref-$sensor.out" "$NS_R" "$TOOLS/ref_nflog" --group $G_REF --qthresh 1 --notify "$T/fifo"
    else
        start_netwaked "$T/lat-$sensor.log" "$NS_R" "$NETWAKED" -i "$IF_R" -f "udp dst port $P_NW" -c "$T/hook.sh" -t 600
        nw=$NW_PID
        start_ref "$T/lat-ref-$sensor.out" "$NS_R" "$TOOLS/ref_pcap" --if "$IF_R" --filter "udp dst port $P_REF" --notify "$T/fifo"
    fi
    ref=$REF_PID
    local j
    j=$(ip netns exec "$NS_G" "$TOOLS/lat" start --fifo "$T/fifo" --hook "$T/hook.sh" --dst "$A_R" --port $P_NW \
        --ref-port $P_REF --pid "$nw" --tries "$TRIES" --samples | tail -1)
    emit "{\"kind\":\"latency\",\"sched\":\"$SCHED\",\"sensor\":\"$sensor\",\"data\":$j}"
    stop_pid "$ref"
    stop_pid "$nw"
}

wol_section() {
    local sensor=$1 cfg nw ref sensor_yaml
    cfg=$T/wol-$sensor.yaml
    say "  packet → magic packet ($sensor, $SCHED): $TRIES tries, reference receiver then netwaked"
    if [[ $sensor == nflog ]]; then
        sensor_yaml="  - { name: s, nflog: { group: $G_NW } }"
    else
        sensor_yaml="  - { name: s, pcap: { interface: $IF_R, filter: \"tcp dst port $P_NW\" } }"
    fi
    write_config "$cfg" "$T/wol-$sensor.sock" "$sensor_yaml" 1 "$T/hook.sh" "  - name: nas
    match: [ { proto: tcp, dst_port: $P_NW, tcp_flags: \"syn,!ack\" } ]
    wol: { mac: \"02:00:00:00:00:01\", interface: $IF_R, method: [ethernet], repeat: 1, cooldown: 0s }"
    start_netwaked "$T/wol-$sensor.log" "$NS_R" "$NETWAKED" -C "$cfg"
    nw=$NW_PID
    if [[ $sensor == nflog ]]; then
        start_ref "$T/wol-ref-$sensor.out" "$NS_R" "$TOOLS/ref_nflog" --group $G_REF --qthresh 1 --wol-if "$IF_R"
    else
        start_ref "$T/wol-ref-$sensor.out" "$NS_R" "$TOOLS/ref_pcap" --if "$IF_R" --filter "tcp dst port $P_REF" --wol-if "$IF_R"
    fi
    ref=$REF_PID
    local j
    j=$(ip netns exec "$NS_G" "$TOOLS/lat" wol --fifo "$T/fifo" --if "$IF_G" --dst "$A_R" --port $P_NW \
        --ref-port $P_REF --pid "$nw" --tries "$TRIES" --samples | tail -1)
    emit "{\"kind\":\"wol\",\"sched\":\"$SCHED\",\"sensor\":\"$sensor\",\"data\":$j}"
    stop_pid "$ref"
    stop_pid "$nw"
}

stop_section() {
    local sensor=$1 nw
    say "  stop lateness ($sensor, $SCHED): $STOP_TRIES tries of 3 packets 50 ms apart, TTL 1 s"
    if [[ $sensor == nflog ]]; then
        start_netwaked "$T/stop-$sensor.log" "$NS_R" "$NETWAKED" -n $G_NW -c "$T/hook.sh" -t 1
    else
        start_netwaked "$T/stop-$sensor.log" "$NS_R" "$NETWAKED" -i "$IF_R" -f "udp dst port $P_NW" -c "$T/hook.sh" -t 1
    fi
    nw=$NW_PID
    local j
    j=$(ip netns exec "$NS_G" "$TOOLS/lat" stop --fifo "$T/fifo" --dst "$A_R" --port $P_NW --ttl-ms 1000 \
        --pkts 3 --pkt-gap-ms 50 --tries "$STOP_TRIES" --warmup 1 --gap-ms 50 --samples | tail -1)
    emit "{\"kind\":\"stop\",\"sched\":\"$SCHED\",\"sensor\":\"$sensor\",\"data\":$j}"
    stop_pid "$nw"
}

# Throughput: CPU per packet and loss at each offered rate, netwaked and the reference.
throughput_section() {
    local rep sensor rx rate cfg sock settle
    for ((rep = 1; rep <= REPS; rep++)); do
        for sensor in nflog pcap; do
            [[ $sensor == pcap ]] && settle=1.1 || settle=0  # netwaked publishes pcap drops once a second
            for rx in ref netwaked; do
                say "  throughput rep $rep/$REPS: $sensor, $rx"
                if [[ $rx == ref && $sensor == nflog ]]; then
                    start_ref "$T/tp.out" "$NS_R" "${CPU_RX[@]}" "$TOOLS/ref_nflog" --group $G_TP --qthresh 64 \
                        --timeout 1 --nlbufsiz 24576
                elif [[ $rx == ref ]]; then
                    start_ref "$T/tp.out" "$NS_R" "${CPU_RX[@]}" "$TOOLS/ref_pcap" --if "$IF_R" --filter "udp dst port $P_TP" \
                        ${PCAP_BUF:+--buffer "$PCAP_BUF"}
                else
                    cfg=$T/tp-$sensor.yaml sock=$T/tp-$sensor.sock
                    if [[ $sensor == nflog ]]; then
                        write_config "$cfg" "$sock" "  - { name: s, nflog: { group: $G_TP } }" 0 "$T/hook-log.sh" \
                            "  - { name: t, match: [ { proto: udp, dst_port: $P_TP } ] }"
                    else
                        write_config "$cfg" "$sock" "  - { name: s, pcap: { interface: $IF_R, filter: \"udp dst port $P_TP\"${PCAP_BUF:+, buffer_size: $PCAP_BUF} } }" \
                            0 "$T/hook-log.sh" "  - { name: t, match: [ { proto: udp, dst_port: $P_TP } ] }"
                    fi
                    start_netwaked "$T/tp-$sensor.log" "$NS_R" "${CPU_RX[@]}" "$NETWAKED" -C "$cfg"
                fi
                local pid counter
                if [[ $rx == ref ]]; then
                    pid=$REF_PID
                    counter="ref_counters $pid $T/tp.out"
                else
                    pid=$NW_PID
                    counter="nw_counters $sock"
                fi
                for rate in $RATES; do
                    measure_point tp "\"sensor\":\"$sensor\",\"rx\":\"$rx\",\"rep\":$rep" "$pid" "$counter" "$rate" $P_TP $settle
                done
                emit "{\"kind\":\"rss_rx\",\"sensor\":\"$sensor\",\"rx\":\"$rx\",\"rep\":$rep,$(mem "$pid")}"
                stop_pid "$pid"
            done
        done
    done
}

# Cost per packet with N targets: hot path (an ACTIVE target's port) and packets matching nothing.
scale_section() {
    local rep n cfg sock hot
    for ((rep = 1; rep <= REPS; rep++)); do
        say "  targets scaling rep $rep/$REPS: reference"
        start_ref "$T/sc.out" "$NS_R" "${CPU_RX[@]}" "$TOOLS/ref_nflog" --group $G_TP --qthresh 64 --timeout 1 --nlbufsiz 24576
        measure_point scale "\"targets\":0,\"rx\":\"ref\",\"traffic\":\"hot\",\"rep\":$rep" "$REF_PID" \
            "ref_counters $REF_PID $T/sc.out" "$SCALE_RATE" $((P_SCALE)) 0
        stop_pid "$REF_PID"
        for n in $SCALE_TARGETS; do
            say "  targets scaling rep $rep/$REPS: $n targets"
            cfg=$T/sc-$n.yaml sock=$T/sc-$n.sock
            [[ -f $cfg ]] || write_config "$cfg" "$sock" "  - { name: s, nflog: { group: $G_TP } }" "$n" "$T/hook-log.sh"
            start_netwaked "$T/sc-$n.log" "$NS_R" "${CPU_RX[@]}" "$NETWAKED" -C "$cfg"
            local pid=$NW_PID startup=$NW_START_MS rss0
            rss0=$(vmhwm "$pid")
            hot=$((P_SCALE + n - 1))
            # Make the last target active (the worst place for a scan), then measure.
            pktgen 10 $hot 0.3 >/dev/null
            wait_log "$T/events.log" "^start t$((n - 1))\$" 5 || say "    (target t$((n - 1)) did not start)"
            measure_point scale "\"targets\":$n,\"rx\":\"netwaked\",\"traffic\":\"hot\",\"rep\":$rep" "$pid" "nw_counters $sock" "$SCALE_RATE" $hot 0
            measure_point scale "\"targets\":$n,\"rx\":\"netwaked\",\"traffic\":\"miss\",\"rep\":$rep" "$pid" "nw_counters $sock" "$SCALE_RATE" $P_MISS 0
            emit "{\"kind\":\"rss\",\"targets\":$n,\"rep\":$rep,\"startup_ms\":$startup,\"vmhwm_start_kb\":$rss0,$(mem "$pid")}"
            stop_pid "$pid"
            : >"$T/events.log"
        done
    done
}

# User-space instructions per packet (valgrind callgrind: deterministic, immune to the machine's
# load): netwaked with 1 and 10,000 targets (address/port rules) and with 1 prefix-routed target
# ("pfx") on the hot path and for packets matching nothing, and the reference receiver. Each
# phase: zero the counters, send 10,000 packets, dump.
instr_section() {
    { command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; } || {
        say "  instructions per packet: skipped (valgrind not installed)"
        return 0
    }
    local n cfg sock pid hot phase port f ir p0 p1 pk out=$T/cg
    for n in ref 1 10000 pfx; do
        say "  instructions per packet (callgrind): ${n} $([[ $n == ref ]] && echo receiver || echo targets)"
        if [[ $n == ref ]]; then
            run_bg "$T/cg-ref.log" "$NS_R" valgrind --tool=callgrind --callgrind-out-file="$out.ref.%p" \
                "$TOOLS/ref_nflog" --group $G_TP --qthresh 64 --timeout 1 --nlbufsiz 24576
            wait_log "$T/cg-ref.log" 'listening' 60 || die "ref_nflog under valgrind did not start"
            pid=$BG_PID
        else
            cfg=$T/sc-$n.yaml sock=$T/sc-$n.sock
            if [[ $n == pfx ]]; then
                write_config "$cfg" "$sock" "  - { name: s, nflog: { group: $G_TP } }" 1 "$T/hook-log.sh" \
                    "  - { name: t0, match: [ { prefix: nwbpfx } ] }"
                hot=$P_PFX
            else
                [[ -f $cfg ]] || write_config "$cfg" "$sock" "  - { name: s, nflog: { group: $G_TP } }" "$n" "$T/hook-log.sh"
                hot=$((P_SCALE + n - 1))
            fi
            start_netwaked "$T/cg-$n.log" "$NS_R" valgrind --tool=callgrind --callgrind-out-file="$out.$n.%p" "$NETWAKED" -C "$cfg"
            pid=$NW_PID
            local last=t0
            [[ $n == pfx ]] || last=t$((n - 1))
            pktgen 10 $hot 0.3 >/dev/null
            wait_log "$T/events.log" "^start $last\$" 10 || say "    (target $last did not start)"
        fi
        sleep 1
        local vpid=$pid  # ip netns exec and the valgrind launcher both exec: same pid
        for phase in hot miss; do
            [[ $n == ref && $phase == miss ]] && continue
            if [[ $n == ref ]]; then port=$P_SCALE; elif [[ $phase == hot ]]; then port=$hot; else port=$P_MISS; fi
            if [[ $n == ref ]]; then p0=$(ref_counters "$pid" "$T/cg-ref.log" | cut -d' ' -f1); else p0=$(nw_counters "$sock" | cut -d' ' -f1); fi
            callgrind_control -z "$vpid" >/dev/null 2>&1
            pktgen 5000 "$port" 2 >/dev/null
            sleep 0.5
            callgrind_control -d "$vpid" >/dev/null 2>&1
            if [[ $n == ref ]]; then p1=$(ref_counters "$pid" "$T/cg-ref.log" | cut -d' ' -f1); else p1=$(nw_counters "$sock" | cut -d' ' -f1); fi
            pk=$((p1 - p0))
            # shellcheck disable=SC2012  # callgrind names its dumps <out>.<pid>.<n>: no odd characters
            f=$(ls -t "$out.$n.$vpid".[0-9]* 2>/dev/null | head -1)
            ir=$(awk '/^summary:/ {print $2}' "$f" 2>/dev/null)
            emit "{\"kind\":\"instr\",\"targets\":\"$n\",\"traffic\":\"$phase\",\"packets\":$pk,\"instructions\":${ir:-0}}"
            say "    $phase: $pk packets, ${ir:-?} instructions"
        done
        stop_pid "$pid"
        : >"$T/events.log"
    done
    [[ -n ${TUNINETD:-} ]] && instr_tuninetd
}

# Memory at rest (issue 16 item 3): netwaked in tuninetd mode, and with 1 and 10,000 `udp dst_port`
# targets on NFLOG, each read after its first target started (the load's heap is trimmed by then).
mem_section() {
    local who cfg
    for who in tuninetd 1 10000; do
        say "  memory at rest: $([[ $who == tuninetd ]] && echo "tuninetd mode (-n GROUP)" || echo "$who target(s)")"
        if [[ $who == tuninetd ]]; then
            start_netwaked "$T/mem-$who.log" "$NS_R" "$NETWAKED" -n $G_TP -c "$T/hook-log.sh" -t 3600
            pktgen 10 $P_TP 0.3 >/dev/null
        else
            cfg=$T/sc-$who.yaml
            [[ -f $cfg ]] || write_config "$cfg" "$T/sc-$who.sock" "  - { name: s, nflog: { group: $G_TP } }" "$who" "$T/hook-log.sh"
            start_netwaked "$T/mem-$who.log" "$NS_R" "$NETWAKED" -C "$cfg"
            pktgen 10 $P_SCALE 0.3 >/dev/null
        fi
        wait_log "$T/events.log" '^start ' 10 || say "    (no target started)"
        emit "{\"kind\":\"mem\",\"who\":\"$who\",$(mem "$NW_PID")}"
        stop_pid "$NW_PID"
        : >"$T/events.log"
    done
}

# The predecessor under the same load (TUNINETD=path): user-space instructions per packet (packets
# counted by the sender: 5 kpps is loss-free for both) and memory at rest, beside netwaked in
# tuninetd mode with the same arguments.
instr_tuninetd() {
    local who bin pid f ir sent out=$T/cg
    [[ -x $TUNINETD ]] || { say "  TUNINETD=$TUNINETD is not executable: skipped"; return 0; }
    for who in tuninetd netwaked; do
        [[ $who == tuninetd ]] && bin=$TUNINETD || bin=$NETWAKED
        run_bg "$T/rest-$who.log" "$NS_R" "$bin" -n $G_TP -c "$T/hook-log.sh" -t 3600
        pid=$BG_PID
        sleep 2  # no readiness line common to both programs
        pktgen 10 $P_TP 0.3 >/dev/null
        emit "{\"kind\":\"mem_rest\",\"who\":\"$who\",$(mem "$pid")}"
        stop_pid "$pid"
        say "  instructions per packet (callgrind): $who -n $G_TP"
        run_bg "$T/cg-$who.log" "$NS_R" valgrind --tool=callgrind --callgrind-out-file="$out.$who.%p" \
            "$bin" -n $G_TP -c "$T/hook-log.sh" -t 3600
        pid=$BG_PID
        sleep 3  # no readiness line common to both programs; valgrind start-up takes ~1-2 s
        pktgen 10 $P_TP 0.3 >/dev/null
        sleep 1
        callgrind_control -z "$pid" >/dev/null 2>&1
        sent=$(pktgen 5000 $P_TP 2 | cut -d' ' -f1)
        sleep 0.5
        callgrind_control -d "$pid" >/dev/null 2>&1
        # shellcheck disable=SC2012  # callgrind names its dumps <out>.<pid>.<n>: no odd characters
        f=$(ls -t "$out.$who.$pid".[0-9]* 2>/dev/null | head -1)
        ir=$(awk '/^summary:/ {print $2}' "$f" 2>/dev/null)
        emit "{\"kind\":\"instr\",\"targets\":\"$who-mode\",\"traffic\":\"hot\",\"packets\":${sent:-0},\"instructions\":${ir:-0}}"
        say "    hot: ${sent:-?} packets sent, ${ir:-?} instructions"
        stop_pid "$pid"
    done
}

. "$ROOT/bench/mqtt.inc.sh"

# ---------------------------------------------------------------------------------------------
# main

T0=${EPOCHREALTIME/./}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "netwaked bench: $NCPU CPUs, $(uname -r), nice $NICE, tries $TRIES, ${DUR}s x $REPS reps, idle ${IDLE_S}s"
lab
IDLE_PID=
if want idle; then
    say "  idle wake-ups: ${IDLE_S}s in the background (namespaces $NS_I1, $NS_I2)"
    idle_lab
    idle_section &
    IDLE_PID=$!
fi
# The latency sections run once per scheduling class in BENCH_SCHED: "cfs" (normal, at
# BENCH_NICE) and "rt" (SCHED_RR 1 for everything they start; hooks inherit it), where a
# freshly spawned hook preempts other tenants' CPU hogs at once: a quiet machine's figures.
for SCHED in $SCHEDS; do
    if [[ $SCHED == rt ]]; then chrt -r -p 1 $$ >/dev/null || continue; fi
    if want latency; then latency_section nflog; latency_section pcap; fi
    if want wol; then wol_section nflog; wol_section pcap; fi
    if want stop; then stop_section nflog; stop_section pcap; fi
    [[ $SCHED == rt ]] && chrt -o -p 0 $$ >/dev/null
done
if want throughput; then throughput_section; fi
if want scale; then scale_section; fi
if want instr; then instr_section; fi
if want mem; then mem_section; fi
if want mqtt; then mqtt_section; fi
if [[ -n $IDLE_PID ]]; then
    say "  waiting for the idle window to end"
    wait "$IDLE_PID"
fi

ELAPSED=$(((${EPOCHREALTIME/./} - T0) / 1000000))
{
    printf '{"date":"%s","nproc":%s,"cpu":"%s","kernel":"%s","load_before":"%s","load_after":"%s",' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NCPU" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
        "$(uname -r)" "$LOAD0" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '"netwaked":"%s","elapsed_s":%s,"settings":{"tries":%s,"stop_tries":%s,"dur_s":%s,"reps":%s,"idle_s":%s,"nice":%s,"rates":"%s","scale_rate":%s}}\n' \
        "$("$NETWAKED" --version 2>/dev/null | head -1)" "$ELAPSED" "$TRIES" "$STOP_TRIES" "$DUR" "$REPS" "$IDLE_S" "$NICE" "$RATES" "$SCALE_RATE"
} >"$T/machine.json"
"$PYTHON" "$ROOT/bench/report.py" "$T/machine.json" "$RAW" "$OUT"
