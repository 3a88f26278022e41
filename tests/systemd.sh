#!/bin/bash
# tests/systemd.sh - checks the .deb on a real systemd: boots a minimal Debian bookworm container
# (debootstrap + systemd-nspawn) and verifies the packaging acceptance in it:
#   `apt install ./netwaked_*.deb` gives a service that starts (Type=notify reaches "active"),
#   runs as user netwaked with exactly CAP_NET_RAW+CAP_NET_ADMIN, reloads with
#   `systemctl reload`, logs to the journal (SIGUSR1 status too), sees NFLOG traffic, and is
#   fully removed by `apt purge`.
#
# NOT part of `make test`: it needs root, systemd-nspawn, the Debian package mirror of
# /etc/apt/sources.list* (debootstrap, once) and several minutes. Run it by hand:
#   sudo tests/systemd.sh            (DEB=path/to/netwaked_*.deb to skip the build check)
#
# Idempotent: the rootfs (NW_ROOTFS, default /var/tmp/nw-nspawn-root) is created once and
# reused; the container boots with --volatile=overlay, so the package installed in it never
# reaches the rootfs. The container has its own network namespace (--private-network) and
# nothing else's interfaces or namespaces are touched. The EXIT trap stops the container.
# Prints PASS/FAIL lines and finally "PASS systemd" or "FAIL systemd".
# Exit status: 0 pass, 1 fail, 77 skip (not root).
# shellcheck disable=SC2015,SC2016  # pass/fail always succeed; the sh -c scripts run in the container
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROOTFS=${NW_ROOTFS:-/var/tmp/nw-nspawn-root}
BUILD=${PKG_BUILD:-build-pkg}        # make deb's output directory (as tests/package.sh)
MACHINE=nwsd$$
TMP=
NSPAWN_PID=
LEADER=
FAILS=0
T0=$SECONDS

pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; FAILS=$((FAILS + 1)); }
info() { printf '  %s\n' "$*"; }
indent() { sed 's/^/    | /'; }
fatal() {
    printf 'FAIL %s\n' "$*"
    if [[ -n $TMP && -s $TMP/console.log ]]; then
        printf -- '--- container console (last 30 lines)\n'
        tail -n 30 "$TMP/console.log" | indent
    fi
    printf 'FAIL systemd (%ss)\n' "$((SECONDS - T0))"
    exit 1
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    trap - EXIT INT TERM
    if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        # SIGTERM makes systemd-nspawn ask the container's systemd for an orderly poweroff.
        kill -TERM "$NSPAWN_PID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    [[ -n $TMP ]] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

[[ $(id -u) -eq 0 ]] || { echo "SKIP systemd: needs root (debootstrap, systemd-nspawn)"; exit 77; }
cd "$ROOT" || exit 1
TMP=$(mktemp -d /var/tmp/nw-systemd.XXXXXX) || exit 1
chmod 0755 "$TMP"

# --- host tools --------------------------------------------------------------------------------
need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
if ((${#need[@]})); then
    info "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
        >"$TMP/apt-host.log" 2>&1 || { tail -n 20 "$TMP/apt-host.log"; fatal "apt-get install ${need[*]}"; }
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || fatal "overlayfs unavailable (needed for --volatile=overlay)"

# --- the package ---------------------------------------------------------------------------------
# Rebuilt unless the newest .deb is newer than the last commit and every packaged source file.
newest_src=$(git log -1 --format=%ct 2>/dev/null || echo 0)
while IFS= read -r -d '' f; do
    [[ -e $f ]] || continue
    m=$(stat -c %Y "$f"); ((m > newest_src)) && newest_src=$m
done < <(git ls-files -z -- src tools conf hooks examples man debian Makefile VERSION 2>/dev/null)
DEB=${DEB:-}
if [[ -z $DEB ]]; then
    for f in "$BUILD"/netwaked_*_*.deb ../netwaked_*_*.deb; do
        [[ -e $f ]] || continue
        [[ -z $DEB || $f -nt $DEB ]] && DEB=$f
    done
    if [[ -z $DEB ]] || (($(stat -c %Y "$DEB") < newest_src)); then
        info "building the package: nice -n 10 make deb BUILD=$BUILD"
        t=$SECONDS
        nice -n 10 make deb BUILD="$BUILD" >"$TMP/deb.log" 2>&1 ||
            { tail -n 30 "$TMP/deb.log"; fatal "make deb"; }
        DEB=
        for f in "$BUILD"/netwaked_*_*.deb; do [[ -z $DEB || $f -nt $DEB ]] && DEB=$f; done
        info "make deb: $((SECONDS - t))s"
    fi
fi
[[ -f $DEB ]] || fatal "no package ($DEB)"
DEB=$(realpath "$DEB")
info "package: $DEB ($(date -r "$DEB" '+%F %T'))"
mkdir -p "$TMP/share"
cp "$DEB" "$TMP/share/" && chmod 0644 "$TMP/share/"*.deb
DEBNAME=$(basename "$DEB")

# --- the rootfs (once) ---------------------------------------------------------------------------
mirror=$(grep -hsE '^[[:space:]]*(URIs:|deb[[:space:]])' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            /etc/apt/sources.list.d/*.sources | grep -oE 'https?://[^ ]+' | grep -v -- '-security' |
         grep -E '/debian/?$' | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
if [[ ! -e $ROOTFS/.nw-ready ]]; then
    info "debootstrap bookworm $ROOTFS from $mirror (once; a few minutes)"
    t=$SECONDS
    rm -rf "$ROOTFS.tmp"
    # minbase plus what the checks use; not procps or adduser: the package's Depends bring them.
    nice -n 10 debootstrap --variant=minbase \
        --include=systemd,systemd-sysv,dbus,iproute2,iptables,nftables,libcap2-bin,python3 \
        bookworm "$ROOTFS.tmp" "$mirror" >"$TMP/debootstrap.log" 2>&1 ||
        { tail -n 20 "$TMP/debootstrap.log"; rm -rf "$ROOTFS.tmp"; fatal "debootstrap"; }
    rm -rf "$ROOTFS"
    mv "$ROOTFS.tmp" "$ROOTFS" && touch "$ROOTFS/.nw-ready" || fatal "mv $ROOTFS.tmp $ROOTFS"
    info "debootstrap: $((SECONDS - t))s"
fi
[[ -x $ROOTFS/lib/systemd/systemd ]] || fatal "$ROOTFS has no systemd (remove it to re-create)"
[[ -e $ROOTFS/etc/machine-id ]] || : >"$ROOTFS/etc/machine-id"
echo nw-systemd-test >"$ROOTFS/etc/hostname"   # debootstrap copied the host's name

# The booted container has no network (--private-network), so the package's Depends and
# Recommends must already be in the rootfs: install what is missing once, from the mirror, in a
# non-booted container that shares the host's network (no interface is created or changed).
missing=()
while IFS= read -r rel; do
    [[ -z $rel ]] && continue
    ok=0 first=
    IFS='|' read -r -a alts <<<"$rel"
    for a in "${alts[@]}"; do
        p=$(sed -E 's/\(.*\)//; s/\[.*\]//; s/:any//; s/[[:space:]]//g' <<<"$a")
        [[ -z $first ]] && first=$p
        dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed' && ok=1
    done
    ((ok)) || missing+=("$first")
done < <({ dpkg-deb -f "$DEB" Depends; echo ,; dpkg-deb -f "$DEB" Recommends; } | tr ',' '\n')
if ((${#missing[@]})); then
    info "installing the package's dependencies into the rootfs: ${missing[*]}"
    systemd-nspawn -q --register=no --keep-unit -D "$ROOTFS" -E DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get update && apt-get install -y --no-install-recommends ${missing[*]} && apt-get clean" \
        >"$TMP/deps.log" 2>&1 || { tail -n 20 "$TMP/deps.log"; fatal "installing ${missing[*]} into $ROOTFS"; }
fi

# --- boot ------------------------------------------------------------------------------------------
info "booting: systemd-nspawn -b -D $ROOTFS -M $MACHINE --private-network --volatile=overlay"
systemd-nspawn -q -b -D "$ROOTFS" -M "$MACHINE" --register=no --keep-unit --private-network --volatile=overlay \
    --bind-ro="$TMP/share:/srv/nw" </dev/null >"$TMP/console.log" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1 is the nspawn process's child whose NSpid ends in 1.
for _ in $(seq 1 100); do
    kill -0 "$NSPAWN_PID" 2>/dev/null || fatal "systemd-nspawn exited"
    for p in $(ps -o pid= --ppid "$NSPAWN_PID"); do
        if awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$p/status" 2>/dev/null; then LEADER=$p; break; fi
    done
    [[ -n $LEADER ]] && break
    sleep 0.2
done
[[ -n $LEADER ]] || fatal "no container init process"

# c CMD...: runs CMD inside the container (all its namespaces and its root).
c() {
    nsenter --target "$LEADER" --mount --uts --ipc --net --pid --cgroup --root --wd -- \
        /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 DEBIAN_FRONTEND=noninteractive "$@"
}

t=$SECONDS
state=
while ((SECONDS - t < 180)); do
    kill -0 "$NSPAWN_PID" 2>/dev/null || fatal "systemd-nspawn exited during boot"
    # Fails until the container's systemd listens on its private socket; then waits for boot.
    state=$(c timeout 120 systemctl is-system-running --wait 2>/dev/null)
    case $state in initializing | starting | offline | '') sleep 0.5 ;; *) break ;; esac
done
case $state in
    running) pass "boot: is-system-running=$state ($((SECONDS - t))s)" ;;
    degraded)
        pass "boot: is-system-running=$state ($((SECONDS - t))s); failed units:"
        c systemctl --failed --no-legend | indent ;;
    *) fatal "boot: is-system-running=${state:-timeout}" ;;
esac
info "container: $(c sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), systemd $(c systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), kernel $(uname -r)"

# --- install ---------------------------------------------------------------------------------------
if c apt-get install -y "/srv/nw/$DEBNAME" >"$TMP/install.log" 2>&1; then
    pass "install: apt-get install -y ./$DEBNAME"
    grep -E '^(Setting up|Created symlink|Unpacking) ' "$TMP/install.log" | indent
else
    tail -n 30 "$TMP/install.log" | indent
    fatal "install: apt-get install -y ./$DEBNAME"
fi

# --- started, Type=notify ------------------------------------------------------------------------
for _ in $(seq 1 60); do
    st=$(c systemctl is-active netwaked 2>/dev/null)
    [[ $st == activating ]] || break
    sleep 0.5
done
show=$(c systemctl show netwaked -p Type -p ActiveState -p SubState -p Result -p MainPID -p NRestarts \
    -p StatusText -p UnitFileState -p ExecMainStatus -p InactiveExitTimestampMonotonic \
    -p ActiveEnterTimestampMonotonic)
prop() { sed -n "s/^$1=//p" <<<"$show"; }
startms=$((($(prop ActiveEnterTimestampMonotonic) - $(prop InactiveExitTimestampMonotonic)) / 1000))
if [[ $st == active && $(prop Type) == notify && $(prop SubState) == running && $(prop NRestarts) == 0 ]]; then
    pass "start: systemctl is-active netwaked = active (Type=notify: READY=1 after ${startms} ms, no restart)"
else
    fail "start: is-active=$st"
    c journalctl -u netwaked --no-pager -n 30 | indent
fi
indent <<<"$show"
[[ $(prop UnitFileState) == enabled ]] && pass "enabled: UnitFileState=enabled" ||
    fail "enabled: UnitFileState=$(prop UnitFileState)"
c systemctl status netwaked --no-pager -n 0 2>&1 | indent

PID=$(prop MainPID)
[[ -n $PID && $PID != 0 ]] || fatal "no MainPID"

# --- unprivileged, two capabilities -------------------------------------------------------------
user=$(c ps -o user= -p "$PID" | tr -d ' ')
[[ $user == netwaked ]] && pass "user: ps -o user= -p $PID = $user" || fail "user: ps -o user= -p $PID = '$user'"
c ps -o pid,user,group,comm,args -p "$PID" | indent
status=$(c cat "/proc/$PID/status")
grep -E '^(Uid|Gid|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' <<<"$status" | indent
# systemd grants the two through AmbientCapabilities; the daemon then clears its ambient set
# (src/sys/privdrop.cc) so that hooks do not inherit them across execve.
capok=1
for f in CapEff:3000 CapPrm:3000 CapBnd:3000 CapAmb:0; do
    v=$(sed -n "s/^${f%%:*}:[[:space:]]*//p" <<<"$status")
    want=$(printf '%016x' "0x${f#*:}")
    [[ $v == "$want" ]] || { capok=0; info "${f%%:*}=$v (want $want)"; }
done
if ((capok)); then
    pass "caps: CapEff=CapPrm=CapBnd=0x3000 (cap_net_admin,cap_net_raw), CapAmb=0 (cleared by the daemon)"
else
    fail "caps"
fi
decoded=$(c capsh --decode="$(sed -n 's/^CapEff:[[:space:]]*//p' <<<"$status")" 2>/dev/null)
[[ -n $decoded ]] && info "capsh --decode: $decoded"
nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' <<<"$status")
sec=$(sed -n 's/^Seccomp:[[:space:]]*//p' <<<"$status")
[[ $nnp == 1 && $sec == 2 ]] && pass "sandbox: NoNewPrivs=1 Seccomp=2 (filter)" || fail "sandbox: NoNewPrivs=$nnp Seccomp=$sec"

# --- journal --------------------------------------------------------------------------------------
cursor() { c journalctl -n 0 --show-cursor -q 2>/dev/null | sed -n 's/^-- cursor: //p'; }
# wait_log CURSOR PATTERN: waits (10 s) for PATTERN in the unit's journal after CURSOR.
wait_log() {
    local out
    for _ in $(seq 1 40); do
        out=$(c journalctl -u netwaked --no-pager -q -o short-precise ${1:+--after-cursor="$1"})
        grep -qE "$2" <<<"$out" && { grep -E "$2" <<<"$out"; return 0; }
        sleep 0.25
    done
    printf '%s\n' "$out" | tail -n 20
    return 1
}
if out=$(wait_log "" 'netwaked\[[0-9]+\]: netwaked .* running'); then
    pass "journal: journalctl -u netwaked has the daemon's own log: $(tail -n 1 <<<"$out" | cut -d' ' -f4-)"
    c journalctl -u netwaked --no-pager -q -o short-precise | head -n 15 | indent
else
    fail "journal: nothing from netwaked in journalctl -u netwaked"
fi

# --- reload ---------------------------------------------------------------------------------------
cur=$(cursor)
if c timeout 30 systemctl reload netwaked; then
    if out=$(wait_log "$cur" 'reloaded '); then
        pass "reload: systemctl reload netwaked -> journal: $(tail -n 1 <<<"$out" | cut -d' ' -f4-)"
    else
        fail "reload: no 'reloaded' line in the journal"; indent <<<"$out"
    fi
else
    fail "reload: systemctl reload netwaked failed"
fi
pid2=$(c systemctl show netwaked -p MainPID --value)
st=$(c systemctl is-active netwaked)
[[ $pid2 == "$PID" && $st == active ]] && pass "reload: same MainPID $PID, still active" ||
    fail "reload: MainPID $PID -> $pid2, is-active=$st"
# The <N> prefixes under JOURNAL_STREAM: the reload line is a notice (priority 5), not "<5>..." text.
if c journalctl -u netwaked -p notice --no-pager -q | grep -q 'reloaded ' &&
   ! c journalctl -u netwaked --no-pager -q -o cat | grep -q '^<[0-9]>'; then
    pass "journal: priorities parsed (reload line at notice, no raw <N> prefixes)"
else
    fail "journal: priorities (reload line not at notice, or raw <N> prefixes)"
fi

# --- SIGUSR1 status -------------------------------------------------------------------------------
cur=$(cursor)
if c systemctl kill --kill-who=main -s SIGUSR1 netwaked && out=$(wait_log "$cur" 'status \(SIGUSR1\)'); then
    pass "SIGUSR1: systemctl kill -s SIGUSR1 -> journal: $(tail -n 1 <<<"$out" | cut -d' ' -f4-)"
    sleep 0.5
    c journalctl -u netwaked --no-pager -q -o cat --after-cursor="$cur" | head -n 25 | indent
else
    fail "SIGUSR1: no 'status (SIGUSR1)' line in the journal"
fi

# --- the packaged configuration works: NFLOG group 1 traffic runs the example hook ----------------
cur=$(cursor)
since=$(date +%s)
if c iptables -I OUTPUT -o lo -p udp --dport 9999 -j NFLOG --nflog-group 1 --nflog-prefix example; then
    c bash -c 'echo hello >/dev/udp/127.0.0.1/9999' 2>/dev/null
    if out=$(wait_log "$cur" 'example: hook start exited with status 0'); then
        pass "traffic: NFLOG group 1 prefix example -> $(tail -n 1 <<<"$out" | cut -d' ' -f5-)"
        c journalctl -u netwaked --no-pager -q -o cat --after-cursor="$cur" | indent
    else
        fail "traffic: no 'example: hook start exited with status 0' after a datagram to NFLOG group 1"
        indent <<<"$out"
    fi
    # The hook's own line (logger -t netwaked-event): looked up by tag, because journald tags a
    # syslog datagram with the sender's unit only while the sender still exists, and logger is
    # often gone by then, so `journalctl -u netwaked` shows this line only some of the time.
    # (--since, not --after-cursor: journalctl 252 -t with --after-cursor finds nothing here.)
    hook=
    for _ in $(seq 1 20); do
        hook=$(c journalctl -t netwaked-event --since "@$((since - 1))" --no-pager -q -o cat | grep 'start example')
        [[ -n $hook ]] && break
        sleep 0.25
    done
    if [[ -n $hook ]]; then
        pass "hook: log-event logged to the journal (journalctl -t netwaked-event): $hook"
    else
        fail "hook: no 'start example' from log-event in journalctl -t netwaked-event"
    fi
    c iptables -D OUTPUT -o lo -p udp --dport 9999 -j NFLOG --nflog-group 1 --nflog-prefix example
else
    fail "traffic: iptables NFLOG rule in the container"
fi

# --- control socket -------------------------------------------------------------------------------
if out=$(c timeout 10 netwakectl status 2>&1); then
    pass "netwakectl status (control socket /run/netwaked/control.sock)"
    head -n 8 <<<"$out" | indent
else
    fail "netwakectl status"; indent <<<"$out"
fi

# --- systemd-analyze security --------------------------------------------------------------------
sec_out=$(c systemd-analyze security netwaked --no-pager 2>&1)
score=$(sed -n 's/.*Overall exposure level for netwaked.service: \([0-9.]*\).*/\1/p' <<<"$sec_out")
if [[ -n $score ]]; then
    pass "systemd-analyze security netwaked: $(grep 'Overall exposure' <<<"$sec_out" | sed 's/^→ *//')"
    grep -E '^✗' <<<"$sec_out" | indent
else
    fail "systemd-analyze security netwaked"; tail -n 5 <<<"$sec_out" | indent
fi

# --- stop -----------------------------------------------------------------------------------------
t=$SECONDS
if c timeout 100 systemctl stop netwaked; then
    res=$(c systemctl show netwaked -p Result --value)
    [[ $res == success ]] && pass "stop: systemctl stop netwaked ($((SECONDS - t))s, Result=$res)" ||
        fail "stop: Result=$res"
else
    fail "stop: systemctl stop netwaked"
fi
# Started again, so that the purge below has to stop a running service itself (prerm).
if c timeout 60 systemctl start netwaked && [[ $(c systemctl is-active netwaked) == active ]]; then
    pass "start again: systemctl start netwaked -> active (purged below while running)"
else
    fail "start again: systemctl start netwaked"
fi

# --- purge ----------------------------------------------------------------------------------------
if c apt-get purge -y netwaked >"$TMP/purge.log" 2>&1; then
    pass "purge: apt-get purge -y netwaked"
    grep -E '^(Removing|Purging)' "$TMP/purge.log" | indent
else
    tail -n 20 "$TMP/purge.log" | indent
    fail "purge: apt-get purge -y netwaked"
fi
left=$(c sh -c '
    getent passwd netwaked; getent group netwaked
    for p in /etc/netwaked /var/lib/netwaked /run/netwaked /lib/systemd/system/netwaked.service \
             /usr/lib/systemd/system/netwaked.service /etc/systemd/system/multi-user.target.wants/netwaked.service \
             /usr/sbin/netwaked /usr/bin/netwakectl /usr/lib/netwaked /usr/share/doc/netwaked; do
        [ -e "$p" ] || [ -L "$p" ] && echo "left: $p"
    done
    ls /var/lib/systemd/deb-systemd-helper-enabled/ /var/lib/systemd/deb-systemd-helper-masked/ 2>/dev/null | grep netwaked
    dpkg-query -W -f="\${db:Status-Abbrev}\n" netwaked 2>/dev/null | grep -v "^un" | sed "s/^/dpkg: /"
    ps -eo user=,comm= | grep -E "netwaked" | sed "s/^/process: /"
    systemctl list-unit-files --no-legend netwaked.service
    systemctl list-units --all --no-legend netwaked.service | grep -v "not-found"
    true')
if [[ -z $left ]]; then
    pass "purge: no user/group, /etc/netwaked, /var/lib/netwaked, /run/netwaked, unit file or process left"
else
    fail "purge: left behind:"; indent <<<"$left"
fi

# --- result ---------------------------------------------------------------------------------------
if ((FAILS == 0)); then
    printf 'PASS systemd (%ss)\n' "$((SECONDS - T0))"
    exit 0
fi
printf 'FAIL systemd (%d check(s) failed, %ss)\n' "$FAILS" "$((SECONDS - T0))"
exit 1
