# tests/netns/lib.sh — helpers sourced by every netns scenario: unique namespaces and veths,
# the daemon under test, tcpdump captures, recording hooks, polling with deadlines, pass/fail.
# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the scenarios

set -u -o pipefail

SCENARIO=$(basename "$0" .sh)
NW_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NW_ROOT=$(cd "$NW_HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$NW_ROOT/$BUILD ;; esac
NETWAKED=${NETWAKED:-$BUILD/netwaked}
case $NETWAKED in /*) ;; *) NETWAKED=$PWD/$NETWAKED ;; esac
if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
NWPKT=$NW_HERE/nwpkt.py

# How late a hook may begin after the moment its event became due (stop: last packet + TTL).
# The contract's own limit is 100 ms for the transition; the hook's exec adds more on a loaded
# machine. NW_LATE_LIMIT_MS overrides (e.g. on a slow CI runner).
LATE_LIMIT_US=$((${NW_LATE_LIMIT_MS:-500} * 1000))

# Unique per run: namespaces, veths and the temp dir all carry this prefix.
NW_ID="nw$$"
NW_TMP=$(mktemp -d "/tmp/netwaked-$SCENARIO.XXXXXX") || exit 1
chmod 755 "$NW_TMP"
HOOK_LOG=$NW_TMP/hook.log    # written by hooks made with make_hook
: >"$HOOK_LOG"

NW_NETNS=()        # namespaces we created
NW_DAEMONS=()      # daemon pids we started
NW_DAEMON_LOGS=()  # their logs, for fail()
NW_CAPTURES=()     # tcpdump pids
NW_BGPIDS=()       # other background helpers (packet streams)
DAEMON_PID=
DAEMON_LOG=
DAEMON_STATUS=
CAP_PID=

# ---------------------------------------------------------------------------------------------
# output and verdicts

say() { printf '  %s\n' "$*"; }
# Record a measured figure in the output ("figure start_latency_ms 12.3").
figure() { printf '  figure %s %s\n' "$1" "$2"; }

fail() {
    printf 'FAIL %s: %s\n' "$SCENARIO" "$*"
    local l
    for l in "${NW_DAEMON_LOGS[@]}"; do
        [[ -s $l ]] || continue
        printf -- '--- tail of %s\n' "${l##*/}"
        tail -n 25 "$l"
    done
    if [[ -s $HOOK_LOG ]]; then
        printf -- '--- hook log (us event target pid)\n'
        tail -n 15 "$HOOK_LOG"
    fi
    exit 1
}
pass() { printf 'PASS %s\n' "$SCENARIO"; exit 0; }
skip() { printf 'SKIP %s: %s\n' "$SCENARIO" "$*"; exit 77; }

require_root() {
    [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
    local c
    for c in ip tcpdump "$PYTHON" "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "missing command: $c"
    done
    [[ -x $NETWAKED ]] || fail "no daemon binary at $NETWAKED (run make first)"
}

# ---------------------------------------------------------------------------------------------
# time and polling

# Microseconds since the epoch, without forking: "now_us" sets NOW_US.
now_us() { NOW_US=${EPOCHREALTIME/./}; }
# "1.5" -> 1500000
sec_to_us() {
    local s=$1 i f
    i=${s%%.*}
    if [[ $s == *.* ]]; then f=${s#*.}000000; f=${f:0:6}; else f=000000; fi
    echo $((10#${i:-0} * 1000000 + 10#$f))
}
# "1234567" (us) -> "1234.567" (ms)
us_to_ms() {
    local v=$1 sign=
    ((v < 0)) && { sign=-; v=$((-v)); }
    printf '%s%d.%03d' "$sign" $((v / 1000)) $((v % 1000))
}

# wait_for TIMEOUT_S cmd...: poll cmd every 20 ms until it succeeds (0) or the deadline (1).
wait_for() {
    local end
    end=$(($(sec_to_us "$1") + ${EPOCHREALTIME/./}))
    shift
    while ! "$@"; do
        ((${EPOCHREALTIME/./} > end)) && return 1
        sleep 0.02
    done
    return 0
}
# stays_false TIMEOUT_S cmd...: 0 if cmd never succeeds during TIMEOUT_S, 1 as soon as it does.
stays_false() {
    local end
    end=$(($(sec_to_us "$1") + ${EPOCHREALTIME/./}))
    shift
    while ((${EPOCHREALTIME/./} <= end)); do
        "$@" && return 1
        sleep 0.02
    done
    "$@" && return 1
    return 0
}

# past_us T: the clock has passed T (us). "wait_for 2 past_us $((t + 200000))" waits until t+200 ms.
past_us() { ((${EPOCHREALTIME/./} > $1)); }

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local st
    [[ -r /proc/$1/stat ]] || return 1
    read -r st <"/proc/$1/stat" 2>/dev/null || return 1
    st=${st##*) }
    [[ ${st%% *} != Z ]]
}
pid_dead() { ! pid_alive "$1"; }

# ---------------------------------------------------------------------------------------------
# namespaces and links

# netns_add NAME: a fresh namespace with lo up and IPv6 off (no autoconf chatter on the links).
netns_add() {
    ip netns add "$1" || fail "ip netns add $1"
    NW_NETNS+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
}

# veth_pair NS1 IF1 NS2 IF2 [ADDR1 [ADDR2]]: a veth between two namespaces (addresses default /24).
veth_pair() {
    local ns1=$1 if1=$2 ns2=$3 if2=$4 a1=${5:-} a2=${6:-}
    ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" || fail "veth $if1/$if2"
    [[ -n $a1 ]] && { [[ $a1 == */* ]] || a1=$a1/24; ip -n "$ns1" addr add "$a1" dev "$if1"; }
    [[ -n $a2 ]] && { [[ $a2 == */* ]] || a2=$a2/24; ip -n "$ns2" addr add "$a2" dev "$if2"; }
    ip -n "$ns1" link set "$if1" up || fail "link up $if1"
    ip -n "$ns2" link set "$if2" up || fail "link up $if2"
}

# The usual two-namespace lab:  CLI (CLI_IF CLI_ADDR) <-- veth --> RTR (RTR_IF RTR_ADDR)
lab_two() {
    NS_CLI=$NW_ID-cli
    NS_RTR=$NW_ID-rtr
    CLI_IF=${NW_ID}c
    RTR_IF=${NW_ID}r
    CLI_ADDR=10.201.0.2
    RTR_ADDR=10.201.0.1
    netns_add "$NS_CLI"
    netns_add "$NS_RTR"
    veth_pair "$NS_CLI" "$CLI_IF" "$NS_RTR" "$RTR_IF" "$CLI_ADDR" "$RTR_ADDR"
    # Resolve ARP now so the first test packet is not delayed by it.
    ip netns exec "$NS_CLI" ping -c1 -W2 "$RTR_ADDR" >/dev/null 2>&1 || fail "lab: client cannot reach router"
}

# A random NFLOG group for this run (groups are per namespace anyway).
nflog_group() { echo $((1000 + RANDOM % 60000)); }

# ---------------------------------------------------------------------------------------------
# packets (tests/netns/nwpkt.py prints "sent <us>" per packet)

# pkt NS nwpkt-args...: run nwpkt.py inside NS; prints its output.
pkt() {
    local ns=$1
    shift
    ip netns exec "$ns" "$PYTHON" "$NWPKT" "$@"
}
# The send time (us) of the first / last packet in a nwpkt output.
first_sent() { awk '$1=="sent"{print $2; exit}' <<<"$1"; }
last_sent() { awk '$1=="sent"{t=$2} END{print t}' <<<"$1"; }

# ---------------------------------------------------------------------------------------------
# the daemon

# Arguments of the last start_daemon, to find which sensors to wait for.
_sensor_args() {
    NW_ARG_N='' NW_ARG_I='' NW_ARG_F=''
    while (($#)); do
        case $1 in
            -n) NW_ARG_N=${2:-}; shift ;;
            -i) NW_ARG_I=${2:-}; shift ;;
            -f) NW_ARG_F=${2:-}; shift ;;
            -c | -t | -w | --pidfile | -C) shift ;;
        esac
        shift
    done
}

# nflog_bound NS GROUP: the group is bound with packet copy mode (the daemon configured it).
nflog_bound() {
    ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_log 2>/dev/null |
        awk -v g="$2" '$1==g && $4==2 {f=1} END{exit !f}'
}
# pcap_open NS PID IF [filtered]: PID has a packet socket on IF (and a real BPF filter on it).
pcap_open() {
    ip netns exec "$1" ss -0 -b -p -a 2>/dev/null | awk -v pid="pid=$2," -v ifn="*:$3" -v wantf="${4:-}" '
        /^p_/ { cur = (index($0, pid) && index($0, ifn " ")) ; if (cur && !wantf) ok=1; next }
        cur && /bpf filter \(/ { n=$0; sub(/.*bpf filter \(/, "", n); sub(/\).*/, "", n); if (n+0 > 1) ok=1 }
        END { exit !ok }'
}
sensors_ready() {
    local ns=$1 pid=$2
    pid_alive "$pid" || return 1
    if [[ -n $NW_ARG_N ]]; then nflog_bound "$ns" "$NW_ARG_N" || return 1; fi
    if [[ -n $NW_ARG_I ]]; then pcap_open "$ns" "$pid" "$NW_ARG_I" "$NW_ARG_F" || return 1; fi
    return 0
}

# start_daemon NS netwaked-args...: runs netwaked in the foreground inside NS (in the background
# of this script, cwd $NW_TMP), stderr+stdout to a log; waits until its sensors are open.
# Extra environment: VAR=value start_daemon ... ; NW_NOWAIT=1 skips the readiness wait.
start_daemon() {
    local ns=$1
    shift
    DAEMON_LOG=$NW_TMP/daemon${#NW_DAEMONS[@]}.log
    (cd "$NW_TMP" && exec ip netns exec "$ns" "$NETWAKED" "$@") >"$DAEMON_LOG" 2>&1 </dev/null &
    DAEMON_PID=$!
    NW_DAEMONS+=("$DAEMON_PID")
    NW_DAEMON_LOGS+=("$DAEMON_LOG")
    say "netwaked $(printf '%q ' "$@")(pid $DAEMON_PID, in $ns)"
    [[ ${NW_NOWAIT:-} == 1 ]] && return 0
    _sensor_args "$@"
    if ! wait_for 5 sensors_ready "$ns" "$DAEMON_PID"; then
        pid_alive "$DAEMON_PID" || fail "netwaked exited during start-up"
        fail "netwaked's sensors did not open within 5 s"
    fi
}

# stop_daemon [PID [TIMEOUT_S [SIGNAL]]]: signal the daemon, wait for it to exit; sets DAEMON_STATUS.
stop_daemon() {
    local pid=${1:-$DAEMON_PID} t=${2:-5} sig=${3:-TERM}
    kill -"$sig" "$pid" 2>/dev/null
    if ! wait_for "$t" pid_dead "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        fail "netwaked (pid $pid) did not exit within ${t} s of SIG$sig"
    fi
    wait "$pid" 2>/dev/null
    DAEMON_STATUS=$?
    sanitizer_clean || fail "sanitizer report in a daemon log (SANITIZE build)"
}

# log_has PATTERN [LOG]: extended regex in the daemon log.
log_has() { grep -Eq -- "$1" "${2:-$DAEMON_LOG}"; }
# log_since OFFSET PATTERN [LOG]: the pattern appears after byte OFFSET (see log_size).
log_size() { stat -c %s "${1:-$DAEMON_LOG}"; }
log_since() { tail -c +"$(($1 + 1))" "${3:-$DAEMON_LOG}" | grep -E -- "$2" >/dev/null; }  # not -q: with pipefail, an early exit can SIGPIPE the writer

# ---------------------------------------------------------------------------------------------
# hooks

# make_hook PATH [SNIPPET]: a bash hook that records each run in $HOOK_LOG as
#   "<us> begin <event> <target> <pid>" ... "<us> end <event> <target> <pid>"
# and saves its exact environment (env.<pid>), argv (argv.<pid>), fds (fds.<pid>), stdin
# (stdin.<pid>) and process group (pgid.<pid>) in $NW_TMP. SNIPPET runs between begin and
# end (it sees $1 $2 and D=$NW_TMP) and may `exit N`.
make_hook() {
    local path=$1 snippet=${2:-}
    cat >"$path" <<EOF
#!/bin/bash
# test hook generated by tests/netns/lib.sh for $SCENARIO: records its invocation.
t0=\${EPOCHREALTIME/./}
D=$NW_TMP
tr '\\0' '\\n' </proc/\$\$/environ >"\$D/env.\$\$"
tr '\\0' '\\n' </proc/\$\$/cmdline >"\$D/argv.\$\$"
ls -l /proc/self/fd >"\$D/fds.\$\$" 2>&1
readlink /proc/\$\$/fd/0 >"\$D/stdin.\$\$"
read -r st </proc/\$\$/stat; st=\${st##*) }; f=(\$st); echo "\${f[2]}" >"\$D/pgid.\$\$"
echo "\$\$" >>"\$D/hook.pids"
echo "\$t0 begin \$1 \$2 \$\$" >>"\$D/hook.log"
trap 'echo "\${EPOCHREALTIME/./} end \$1 \$2 \$\$" >>"\$D/hook.log"' EXIT
$snippet
exit 0
EOF
    chmod 755 "$path"
}

# hook_count EVENT: how many times the hook began EVENT.
hook_count() { awk -v e="$1" '$2=="begin" && $3==e {n++} END{print n+0}' "$HOOK_LOG"; }
# hook_ended EVENT N: the Nth run of EVENT has finished.
hook_ended() { [[ $(awk -v e="$1" '$2=="end" && $3==e {n++} END{print n+0}' "$HOOK_LOG") -ge $2 ]]; }
# hook_has EVENT N: at least N runs of EVENT have begun.
hook_has() { [[ $(hook_count "$1") -ge $2 ]]; }
# hooks_settled: every hook run has ended and there were as many stops as starts.
hooks_settled() {
    awk '$2=="begin"{b++; if ($3=="start") s++; if ($3=="stop") t++} $2=="end"{e++}
         END{exit !(b==e && s==t)}' "$HOOK_LOG"
}
# hook_seq: the events in order of beginning, e.g. "start stop start".
hook_seq() { awk '$2=="begin"{printf "%s%s", s, $3; s=" "} END{print ""}' "$HOOK_LOG"; }
# hook_time EVENT N [begin|end]: the time (us) of the Nth begin/end of EVENT.
hook_time() {
    awk -v e="$1" -v n="$2" -v w="${3:-begin}" '$2==w && $3==e && ++c==n {print $1; exit}' "$HOOK_LOG"
}
# hook_pid EVENT N: the pid of the Nth run of EVENT (keys the env./argv./fds. files).
hook_pid() { awk -v e="$1" -v n="$2" '$2=="begin" && $3==e && ++c==n {print $5; exit}' "$HOOK_LOG"; }
# hook_env EVENT N VAR: the value of VAR in that run's environment ("<unset>" if absent).
hook_env() {
    local p
    p=$(hook_pid "$1" "$2")
    [[ -n $p && -f $NW_TMP/env.$p ]] || { echo "<no run>"; return; }
    awk -v v="$3" 'index($0, v "=") == 1 {print substr($0, length(v) + 2); f=1; exit} END{if (!f) print "<unset>"}' \
        "$NW_TMP/env.$p"
}
# expect_env EVENT N VAR VALUE: fail unless the run's VAR equals VALUE.
expect_env() {
    local got
    got=$(hook_env "$1" "$2" "$3")
    [[ $got == "$4" ]] || fail "$1 #$2: $3 is '$got', expected '$4'"
}
# expect_clean_env EVENT N: only NETWAKED_* (none empty) plus PATH, LANG, TZ reach the hook.
expect_clean_env() {
    local p line
    p=$(hook_pid "$1" "$2")
    [[ -f $NW_TMP/env.$p ]] || fail "$1 #$2: no environment recorded"
    while IFS= read -r line; do
        case $line in
            NETWAKED_*=) fail "$1 #$2: empty variable in hook env: $line (must be absent)" ;;
            NETWAKED_*=* | PATH=* | LANG=* | TZ=*) ;;
            *) fail "$1 #$2: unexpected variable in hook env: $line" ;;
        esac
    done <"$NW_TMP/env.$p"
}

# ---------------------------------------------------------------------------------------------
# captures (tcpdump is the oracle for what was on the wire)

# capture_start NS IFACE FILTER FILE: tcpdump -U -w FILE; returns once it is listening.
capture_start() {
    local ns=$1 ifc=$2 filter=$3 file=$4
    # shellcheck disable=SC2086  # the filter is a word list on purpose
    ip netns exec "$ns" tcpdump -i "$ifc" -U -nn -s 262144 -w "$file" $filter 2>"$file.err" </dev/null &
    CAP_PID=$!
    NW_CAPTURES+=("$CAP_PID")
    wait_for 5 grep -q "listening on" "$file.err" || fail "tcpdump did not start: $(cat "$file.err")"
}
# capture_stop [PID]: stop tcpdump (flushes the file).
capture_stop() {
    local pid=${1:-$CAP_PID}
    kill -INT "$pid" 2>/dev/null
    wait_for 5 pid_dead "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
# capture_read FILE [tcpdump args]: decode a capture (default -nn -e -xx).
capture_read() {
    local f=$1
    shift
    if (($#)); then tcpdump -r "$f" "$@" 2>/dev/null; else tcpdump -r "$f" -nn -e -xx 2>/dev/null; fi
}
# capture_has FILE REGEX: a packet line of "tcpdump -r FILE -nn" matches REGEX.
capture_has() { capture_read "$1" -nn | grep -E -- "$2" >/dev/null; }  # not -q: with pipefail, an early exit can SIGPIPE the writer
# capture_count FILE: packets in the file.
capture_count() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }

# ---------------------------------------------------------------------------------------------
# cleanup: everything above registers what it creates

# background cmd...: a background helper (e.g. a packet stream), killed at cleanup.
background() {
    "$@" &
    NW_BGPIDS+=("$!")
}

cleanup() {
    local p ns rc=$?
    trap - EXIT INT TERM
    for p in "${NW_DAEMONS[@]}"; do pid_alive "$p" && kill -TERM "$p" 2>/dev/null; done
    for p in "${NW_DAEMONS[@]}"; do
        wait_for 3 pid_dead "$p" || kill -KILL "$p" 2>/dev/null
    done
    for p in "${NW_CAPTURES[@]}" "${NW_BGPIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    # Hooks run in their own process groups: end any that are still running.
    if [[ -f $NW_TMP/hook.pids ]]; then
        while read -r p; do
            pid_alive "$p" && kill -KILL -- "-$p" "$p" 2>/dev/null
        done <"$NW_TMP/hook.pids"
    fi
    for ns in "${NW_NETNS[@]}"; do
        # anything still running inside a namespace we created is ours (daemons after -d)
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    wait 2>/dev/null
    # A sanitizer report from any daemon of this scenario fails it, whatever the verdict was.
    if ((rc == 0 || rc == 77)) && ! sanitizer_clean; then
        printf 'FAIL %s: sanitizer report in a daemon log\n' "$SCENARIO"
        rc=1
    fi
    for ns in "${NW_NETNS[@]}"; do
        ip netns exec "$ns" iptables -F 2>/dev/null
        ip netns exec "$ns" nft flush ruleset 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [[ ${NW_KEEP:-} == 1 ]]; then
        echo "  (kept $NW_TMP)"
    else
        rm -rf "$NW_TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# =============================================================================================
# Appended for the configuration-file, Wake-on-LAN and knock scenarios (2x, 6x, 7x) and the demo.
# Nothing above changes behaviour; these only add helpers.

NW_CTL=${NETWAKECTL:-$BUILD/netwakectl}
case $NW_CTL in /*) ;; *) NW_CTL=$PWD/$NW_CTL ;; esac
CTL_SOCK=   # control socket of the daemon under test (set by the scenario, used by ctl/status_*)

# ---------------------------------------------------------------------------------------------
# configuration-file mode

# conf_ready NS PID [GROUP...]: the daemon is alive, every NFLOG GROUP is bound in NS and (when
# CTL_SOCK is set) the control socket answers a status request.
conf_ready() {
    local ns=$1 pid=$2 g
    shift 2
    pid_alive "$pid" || return 1
    for g in "$@"; do nflog_bound "$ns" "$g" || return 1; done
    [[ -z $CTL_SOCK ]] || timeout -k 1 3 "$NW_CTL" -s "$CTL_SOCK" status >/dev/null 2>&1
}

# start_conf_daemon NS CONFIG [GROUP...]: netwaked -C CONFIG in the foreground inside NS (log,
# pid and bookkeeping as start_daemon); returns once conf_ready holds (5 s deadline).
# Extra daemon flags: NW_DAEMON_FLAGS="-D" start_conf_daemon ...
start_conf_daemon() {
    local ns=$1 conf=$2
    shift 2
    # shellcheck disable=SC2086  # flags are a word list on purpose
    NW_NOWAIT=1 start_daemon "$ns" -C "$conf" ${NW_DAEMON_FLAGS:-}
    if ! wait_for 5 conf_ready "$ns" "$DAEMON_PID" "$@"; then
        pid_alive "$DAEMON_PID" || fail "netwaked -C $conf exited during start-up"
        fail "netwaked -C $conf: sensors/control socket not ready within 5 s"
    fi
}

# ctl ARGS...: netwakectl -s $CTL_SOCK ARGS (15 s limit); sets CTL_RC, CTL_OUT, CTL_ERR.
ctl() {
    local o=$NW_TMP/ctl.out e=$NW_TMP/ctl.err
    timeout -k 1 15 "$NW_CTL" ${CTL_SOCK:+-s "$CTL_SOCK"} "$@" >"$o" 2>"$e" </dev/null
    CTL_RC=$?
    CTL_OUT=$(cat "$o")
    CTL_ERR=$(cat "$e")
    return "$CTL_RC"
}
# ctl_ok ARGS...: ctl, and fail the scenario unless it exits 0.
ctl_ok() { ctl "$@" || fail "netwakectl $*: exit $CTL_RC (stdout: $CTL_OUT) (stderr: $CTL_ERR)"; }

# status_get EXPR: fetch `status --json` and print the Python expression EXPR evaluated with
# s = the parsed reply and t(NAME) = that target's object (strings raw, others as JSON; "null"
# for None). Exit 1 if the status cannot be fetched or parsed, or EXPR raises.
status_get() {
    ctl status --json || return 1
    "$PYTHON" -c '
import json, sys
s = json.loads(sys.argv[1])
def t(name):
    for x in s["targets"]:
        if x["name"] == name:
            return x
    raise KeyError(name)
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$CTL_OUT" "$1" 2>/dev/null
}
# target_is NAME STATE: the status reports target NAME in STATE (idle/active).
target_is() { [[ $(status_get "t('$1')['state']") == "$2" ]]; }

# ---------------------------------------------------------------------------------------------
# hooks of several targets (make_hook records "<us> begin <event> <target> <pid>")

# hook_count_t EVENT TARGET / hook_has_t EVENT TARGET N / hook_pid_t EVENT TARGET N
hook_count_t() { awk -v e="$1" -v t="$2" '$2=="begin" && $3==e && $4==t {n++} END{print n+0}' "$HOOK_LOG"; }
hook_has_t() { [[ $(hook_count_t "$1" "$2") -ge $3 ]]; }
hook_pid_t() { awk -v e="$1" -v t="$2" -v n="$3" '$2=="begin" && $3==e && $4==t && ++c==n {print $5; exit}' "$HOOK_LOG"; }
hook_time_t() { awk -v e="$1" -v t="$2" -v n="$3" '$2=="begin" && $3==e && $4==t && ++c==n {print $1; exit}' "$HOOK_LOG"; }
# hook_env_t EVENT TARGET N VAR: VAR in that run's environment ("<unset>" if absent).
hook_env_t() {
    local p
    p=$(hook_pid_t "$1" "$2" "$3")
    [[ -n $p && -f $NW_TMP/env.$p ]] || { echo "<no run>"; return; }
    awk -v v="$4" 'index($0, v "=") == 1 {print substr($0, length(v) + 2); f=1; exit} END{if (!f) print "<unset>"}' \
        "$NW_TMP/env.$p"
}
# expect_env_t EVENT TARGET N VAR VALUE
expect_env_t() {
    local got
    got=$(hook_env_t "$1" "$2" "$3" "$4")
    [[ $got == "$5" ]] || fail "$1 $2 #$3: $4 is '$got', expected '$5'"
}
# hook_argv_t EVENT TARGET N: that run's argv after the interpreter, space-separated.
hook_argv_t() {
    local p
    p=$(hook_pid_t "$1" "$2" "$3")
    [[ -n $p && -f $NW_TMP/argv.$p ]] || { echo "<no run>"; return; }
    sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ' | sed 's/ $//'
}

# ---------------------------------------------------------------------------------------------
# Wake-on-LAN and knock packets

# pcap_decode FILE [MAC [PASSWORD]]: one line per packet of a pcap (Ethernet link type) file:
#   <ts_us> eth <dst-mac> <src-mac> <ethertype> <payload-len> <magic>      non-IP frames
#   <ts_us> udp <src> <dst> <sport> <dport> <payload-len> <magic>          UDP over IPv4/IPv6
#   <ts_us> tcp <src> <dst> <sport> <dport> <flags-hex> -                  TCP
#   <ts_us> ip  <src> <dst> <proto> - - -                                  anything else
# <magic> is "magic" when the payload is exactly 6 x ff + 16 x MAC (+ PASSWORD bytes), "-"
# when no MAC was given, else "other". A 0x0842 payload shorter than the minimum frame is
# padded: the magic check looks at the payload's first 102 (+password) bytes and reports the
# padding as "magic+pad<N>".
pcap_decode() {
    "$PYTHON" - "$@" <<'PYEOF'
import socket, struct, sys
path = sys.argv[1]
mac = bytes.fromhex(sys.argv[2].replace(":", "")) if len(sys.argv) > 2 and sys.argv[2] else None
pw = b""
if len(sys.argv) > 3 and sys.argv[3]:
    p = sys.argv[3]
    pw = bytes(int(x) for x in p.split(".")) if "." in p else bytes.fromhex(p.replace(":", "").replace("-", ""))
want = b"\xff" * 6 + mac * 16 + pw if mac else None
def magic(payload, padded):
    if want is None:
        return "-"
    if payload == want:
        return "magic"
    if padded and payload[:len(want)] == want and not payload[len(want):].strip(b"\0"):
        return "magic+pad%d" % (len(payload) - len(want))
    return "other"
def macs(b):
    return ":".join("%02x" % x for x in b)
data = open(path, "rb").read()
m = struct.unpack("<I", data[:4])[0]
if m in (0xa1b2c3d4, 0xa1b23c4d):
    e, nano = "<", m == 0xa1b23c4d
else:
    e, nano = ">", struct.unpack(">I", data[:4])[0] == 0xa1b23c4d
off = 24
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ts = sec * 1000000 + (frac // 1000 if nano else frac)
    if len(pkt) < 14:
        continue
    et = struct.unpack("!H", pkt[12:14])[0]
    body = pkt[14:]
    if et == 0x8100 and len(body) >= 4:
        et = struct.unpack("!H", body[2:4])[0]
        body = body[4:]
    l4 = None
    if et == 0x0800 and len(body) >= 20:
        ihl = (body[0] & 15) * 4
        tot = struct.unpack("!H", body[2:4])[0]
        proto, src, dst = body[9], socket.inet_ntop(socket.AF_INET, body[12:16]), socket.inet_ntop(socket.AF_INET, body[16:20])
        l4 = body[ihl:tot]
    elif et == 0x86dd and len(body) >= 40:
        plen = struct.unpack("!H", body[4:6])[0]
        proto, src, dst = body[6], socket.inet_ntop(socket.AF_INET6, body[8:24]), socket.inet_ntop(socket.AF_INET6, body[24:40])
        l4 = body[40:40 + plen]
    if l4 is None:
        print(ts, "eth", macs(pkt[0:6]), macs(pkt[6:12]), "0x%04x" % et, len(body), magic(body, True))
    elif proto == 17 and len(l4) >= 8:
        sp, dp, ulen = struct.unpack("!HHH", l4[:6])
        pl = l4[8:ulen]
        print(ts, "udp", src, dst, sp, dp, len(pl), magic(pl, False))
    elif proto == 6 and len(l4) >= 20:
        sp, dp = struct.unpack("!HH", l4[:4])
        print(ts, "tcp", src, dst, sp, dp, "0x%02x" % l4[13], "-")
    else:
        print(ts, "ip", src, dst, proto, "-", "-", "-")
PYEOF
}

# pcap_udp_payload FILE DPORT [N]: the hex payload of the Nth (default 1st) UDP datagram to DPORT.
pcap_udp_payload() {
    "$PYTHON" - "$1" "$2" "${3:-1}" <<'PYEOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
port, want = int(sys.argv[2]), int(sys.argv[3])
e = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, n = 24, 0
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    et, body = struct.unpack("!H", pkt[12:14])[0], pkt[14:]
    if et == 0x0800:
        proto, l4 = body[9], body[(body[0] & 15) * 4:struct.unpack("!H", body[2:4])[0]]
    elif et == 0x86dd:
        proto, l4 = body[6], body[40:40 + struct.unpack("!H", body[4:6])[0]]
    else:
        continue
    if proto == 17 and len(l4) >= 8 and struct.unpack("!H", l4[2:4])[0] == port:
        n += 1
        if n == want:
            print(l4[8:struct.unpack("!H", l4[4:6])[0]].hex())
            sys.exit(0)
sys.exit(1)
PYEOF
}

# udp_send_hex NS HOST PORT HEX: send one UDP datagram with payload HEX from inside NS.
udp_send_hex() {
    ip netns exec "$1" "$PYTHON" -c '
import socket, sys
host, port, payload = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
socket.socket(fam, socket.SOCK_DGRAM).sendto(payload, (host, port))' "$2" "$3" "$4"
}

# spa_hex KEYFILE TARGET [AGE_S [BADMAC]]: hex of an SPA datagram (SPEC §10) for TARGET, signed
# with the key in KEYFILE, its timestamp AGE_S seconds in the past (default 0); BADMAC=1 flips
# one bit of the HMAC. Built independently of netwakectl, with the Python standard library.
spa_hex() {
    "$PYTHON" - "$1" "$2" "${3:-0}" "${4:-0}" <<'PYEOF'
import base64, hashlib, hmac, os, struct, sys, time
key = base64.b64decode(open(sys.argv[1], "rb").read().strip(), validate=True)
body = struct.pack(">BQ", 1, int(time.time()) - int(sys.argv[3])) + os.urandom(16) + sys.argv[2].encode()
mac = bytearray(hmac.new(key, body, hashlib.sha256).digest())
if sys.argv[4] == "1":
    mac[5] ^= 0x01
print((body + bytes(mac)).hex())
PYEOF
}

# ---------------------------------------------------------------------------------------------
# sanitizers (make test SANITIZE=address,undefined; tests/tsan.sh): a report in any daemon log
# fails the scenario (stop_daemon checks at once; cleanup checks every log at the end).

NW_SAN_RE='ERROR: (Address|Leak|Memory)Sanitizer|WARNING: ThreadSanitizer|ThreadSanitizer: |runtime error: |SUMMARY: UndefinedBehaviorSanitizer'
# sanitizer_clean [LOG...]: 0 if no log (default: every daemon log so far) holds a sanitizer
# report; else prints the first report (40 lines) of each such log and returns 1.
sanitizer_clean() {
    local l bad=0
    (($#)) || set -- "${NW_DAEMON_LOGS[@]}"
    for l in "$@"; do
        [[ -s $l ]] || continue
        grep -Eq -- "$NW_SAN_RE" "$l" || continue
        bad=1
        printf -- '--- sanitizer report in %s\n' "${l##*/}"
        grep -E -m1 -A40 -- "$NW_SAN_RE" "$l"
    done
    return "$bad"
}

# pcap_packets FILE: packets in a capture. (capture_count counts tcpdump's output lines, and
# tcpdump adds hex-dump lines for frames it cannot decode, such as EtherType 0x0842.)
pcap_packets() { tcpdump -r "$1" -nn 2>/dev/null | grep -c '^[^[:space:]]'; }
