#!/bin/bash
# tests/package.sh - builds the .deb (make deb), lints it, installs it, runs the installed daemon
# as user netwaked with only CAP_NET_RAW+CAP_NET_ADMIN in a network namespace, then purges it.
#
#   netns $NS (lo up): iptables INPUT -i lo udp dport 9999 -j NFLOG --nflog-group G (plain rule)
#   setpriv --reuid=netwaked ... /usr/sbin/netwaked -n G -c $HOOK -t 2
#   a UDP datagram to 127.0.0.1:9999 -> "start default" -> (2 s idle) "stop default"
#
# Exit status: 0 pass, 1 fail, 77 skip (not root). Leaves nothing behind, even on failure:
# the package is purged and the namespace and temp files removed by the EXIT trap.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PKG_BUILD:-build-pkg}        # make deb's output directory (not the developer's build/)
NS=nwpkg$$
TMP=
DAEMON_PID=
INSTALLED=0

say() { printf '  %s\n' "$*"; }
fail() {
    printf 'FAIL package: %s\n' "$*"
    if [[ -n $TMP && -s $TMP/daemon.log ]]; then
        printf -- '--- daemon log\n'
        tail -n 30 "$TMP/daemon.log"
    fi
    exit 1
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    trap - EXIT INT TERM
    if [[ -n $DAEMON_PID ]]; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    if ip netns list 2>/dev/null | grep -qw "$NS"; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns exec "$NS" iptables -F 2>/dev/null
        ip netns del "$NS" 2>/dev/null
    fi
    if [[ $INSTALLED == 1 ]] && dpkg-query -W -f='${Status}' netwaked 2>/dev/null | grep -q installed; then
        DEBIAN_FRONTEND=noninteractive dpkg --purge netwaked >/dev/null 2>&1
    fi
    [[ -n $TMP ]] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

[[ $(id -u) -eq 0 ]] || { echo "SKIP package: needs root (dpkg -i, network namespaces)"; exit 77; }
cd "$ROOT" || exit 1
"$ROOT/scripts/deb-deps.sh" || fail "scripts/deb-deps.sh could not install the packaging tools"
for c in dpkg-buildpackage lintian setpriv ip iptables python3 systemd-analyze; do
    command -v "$c" >/dev/null 2>&1 || fail "missing command: $c"
done
if dpkg-query -W -f='${Status}' netwaked 2>/dev/null | grep -q "install ok installed"; then
    fail "netwaked is already installed on this machine; this test installs and purges it (dpkg --purge netwaked first)"
fi
TMP=$(mktemp -d /tmp/netwaked-package.XXXXXX) || exit 1
chmod 755 "$TMP"

# ---------------------------------------------------------------------------------------------
# build and lint
say "make deb BUILD=$BUILD"
make --no-print-directory deb BUILD="$BUILD" >"$TMP/build.log" 2>&1 || {
    tail -n 40 "$TMP/build.log"
    fail "make deb failed"
}
VERSION=$(dpkg-parsechangelog -S Version)
DEB=$ROOT/$BUILD/netwaked_${VERSION}_$(dpkg --print-architecture).deb
[[ -f $DEB ]] || fail "make deb did not produce $DEB"
say "built ${DEB#"$ROOT"/}"

lintian --info "$DEB" >"$TMP/lintian.log" 2>&1
lrc=$?
sed 's/^/    /' "$TMP/lintian.log"
grep -Eq '^[EW]: ' "$TMP/lintian.log" && fail "lintian reports errors or warnings"
((lrc == 0)) || fail "lintian failed (status $lrc)"
say "lintian: no errors, no warnings"

# ---------------------------------------------------------------------------------------------
# install
INSTALLED=1
if ! DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >"$TMP/install.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get -f install -y >>"$TMP/install.log" 2>&1 ||
        { cat "$TMP/install.log"; fail "dpkg -i / apt-get -f install failed"; }
fi
dpkg-query -W -f='${Status}' netwaked | grep -q "install ok installed" || fail "netwaked is not installed after dpkg -i"

out=$(/usr/sbin/netwaked --version) || fail "netwaked --version failed"
[[ $out == "netwaked ${VERSION%-*}" ]] || fail "netwaked --version printed '$out', expected 'netwaked ${VERSION%-*}'"
/usr/bin/netwakectl --version >/dev/null || fail "netwakectl --version failed"
/usr/sbin/netwaked --check -C /etc/netwaked/netwaked.yaml >"$TMP/check.out" 2>&1 ||
    { cat "$TMP/check.out"; fail "netwaked --check -C /etc/netwaked/netwaked.yaml failed"; }
say "installed: $out; the packaged configuration passes --check"

# Every shipped example passes --check as installed, once the secrets its header tells the user to
# create exist, on a router whose eth0 is the example's LAN (a veth in the namespace).
ip netns add "$NS" || fail "ip netns add $NS"
{ ip -n "$NS" link add eth0 type veth peer name eth0p && ip -n "$NS" link set eth0p up && ip -n "$NS" link set eth0 up &&
    ip -n "$NS" addr add 192.168.1.1/24 dev eth0 && ip -n "$NS" addr add fd00::1/64 dev eth0 nodad; } ||
    fail "dummy eth0 in $NS"
install -d -m 0750 -o netwaked -g netwaked /etc/netwaked/keys
for k in ssh mqtt; do
    /usr/bin/netwakectl keygen "/etc/netwaked/keys/$k.key" >/dev/null || fail "netwakectl keygen $k.key"
done
(umask 077 && echo example-password >/etc/netwaked/mqtt.pass)
chown netwaked:netwaked /etc/netwaked/keys/ssh.key /etc/netwaked/keys/mqtt.key /etc/netwaked/mqtt.pass
n=0
for f in /usr/share/doc/netwaked/examples/conf/*.yaml; do
    ip netns exec "$NS" /usr/sbin/netwaked --check -C "$f" >"$TMP/check.out" 2>&1 ||
        { cat "$TMP/check.out"; fail "shipped example $f fails netwaked --check"; }
    n=$((n + 1))
done
for e in knock mqtt nas-wake tuninetd vpn-on-demand wakupator; do
    [[ -f /usr/share/doc/netwaked/examples/conf/$e.yaml ]] || fail "example $e.yaml is not installed"
    grep -q "^#.*[ (]${e}[,)]" /etc/netwaked/netwaked.yaml || fail "/etc/netwaked/netwaked.yaml does not list example $e"
done
rm -rf /etc/netwaked/keys /etc/netwaked/mqtt.pass
ip netns del "$NS"
say "all $n shipped example configurations pass --check (and netwaked.yaml lists them)"

getent passwd netwaked >/dev/null || fail "no user netwaked after installation"
getent group netwaked >/dev/null || fail "no group netwaked after installation"
[[ $(getent passwd netwaked | cut -d: -f6) == /var/lib/netwaked ]] || fail "netwaked's home is not /var/lib/netwaked"
[[ $(stat -c '%U:%G %a' /var/lib/netwaked) == "netwaked:netwaked 750" ]] ||
    fail "/var/lib/netwaked is $(stat -c '%U:%G %a' /var/lib/netwaked), expected netwaked:netwaked 750"
dpkg-query -W -f='${Conffiles}\n' netwaked | grep -q '^ /etc/netwaked/netwaked.yaml ' ||
    fail "/etc/netwaked/netwaked.yaml is not a conffile"
for f in /usr/share/man/man8/netwaked.8.gz /usr/share/man/man8/netwakectl.8.gz /usr/share/man/man5/netwaked.yaml.5.gz \
    /usr/share/doc/netwaked/examples/hooks/log-event /usr/share/doc/netwaked/examples/hooks/webhook.py \
    /usr/lib/netwaked/hooks/log-event /usr/share/doc/netwaked/copyright /lib/systemd/system/netwaked.service; do
    [[ -e $f ]] || fail "$f is not installed"
done
[[ -x /usr/share/doc/netwaked/examples/hooks/log-event && -x /usr/lib/netwaked/hooks/log-event ]] ||
    fail "the example hooks are not executable"
# The machine side of registration (issue 19): the suspend unit and its defaults ship, disabled.
for f in /lib/systemd/system/netwaked-register.service /etc/default/netwaked-register; do
    [[ -e $f ]] || fail "$f is not installed"
done
[[ ! -e /etc/systemd/system/sleep.target.wants/netwaked-register.service ]] ||
    fail "netwaked-register.service is enabled by the package (it must ship disabled)"
say "user, group, state directory, conffile, man pages, examples and units are in place (netwaked-register disabled)"

systemd-analyze verify /lib/systemd/system/netwaked.service >"$TMP/verify.log" 2>&1 ||
    { cat "$TMP/verify.log"; fail "systemd-analyze verify netwaked.service"; }
score=$(systemd-analyze security --offline=true /lib/systemd/system/netwaked.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for netwaked.service: \([0-9.]*\).*/\1/p')
say "systemd-analyze verify: ok; security exposure ${score:-n/a}"
[[ -n $score ]] && printf '  figure systemd_exposure %s\n' "$score"

# ---------------------------------------------------------------------------------------------
# run the installed daemon as netwaked, capabilities as the unit grants them
G=$((1000 + RANDOM % 60000))
ip netns add "$NS" || fail "ip netns add $NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" iptables -A INPUT -i lo -p udp --dport 9999 -j NFLOG --nflog-group "$G" ||
    fail "iptables NFLOG rule"

mkdir -p "$TMP/hooks" "$TMP/out"
chown netwaked:netwaked "$TMP/out"
cat >"$TMP/hooks/hook" <<EOF
#!/bin/sh
# hook for tests/package.sh: records event, target, uid and capabilities of each run.
{ echo "\$1 \$2 uid=\$(id -un)"; grep -E '^Cap(Eff|Prm|Amb):' /proc/self/status; } >>"$TMP/out/hook.log"
EOF
chmod 755 "$TMP/hooks" "$TMP/hooks/hook"

ip netns exec "$NS" setpriv --reuid=netwaked --regid=netwaked --init-groups \
    --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin \
    --bounding-set=-all,+net_raw,+net_admin \
    /usr/sbin/netwaked -n "$G" -c "$TMP/hooks/hook" -t 2 >"$TMP/daemon.log" 2>&1 </dev/null &
DAEMON_PID=$!
# shellcheck disable=SC2016  # awk program
bound() { ip netns exec "$NS" awk -v g="$G" '$1==g && $4==2 {f=1} END{exit !f}' /proc/net/netfilter/nfnetlink_log 2>/dev/null; }
for _ in $(seq 100); do bound && break; kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DAEMON_PID" 2>/dev/null || fail "netwaked exited at start-up as user netwaked"
bound || fail "netwaked did not bind NFLOG group $G within 5 s"
say "netwaked runs as $(ps -o user= -p "$DAEMON_PID") (pid $DAEMON_PID), $(grep CapEff "/proc/$DAEMON_PID/status" | tr -s '\t' ' ')"
[[ $(ps -o user= -p "$DAEMON_PID") == netwaked ]] || fail "the daemon does not run as netwaked"

ip netns exec "$NS" python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9999))' ||
    fail "could not send the test datagram"
has() { grep -q "$1" "$TMP/out/hook.log" 2>/dev/null; }
for _ in $(seq 100); do has "^start default" && break; sleep 0.05; done
has "^start default uid=netwaked" || fail "the hook did not run 'start default' as netwaked within 5 s"
for _ in $(seq 120); do has "^stop default" && break; sleep 0.05; done
has "^stop default uid=netwaked" || fail "the hook did not run 'stop default' within TTL + 4 s"
if ! grep -q '^CapEff:' "$TMP/out/hook.log" ||
    grep -Eq '^Cap(Eff|Prm|Amb):[[:space:]]*0*[1-9a-f]' "$TMP/out/hook.log"; then
    fail "hooks run with capabilities: $(grep Cap "$TMP/out/hook.log" | tr '\n' ' ')"
fi
say "hook ran start and stop as netwaked, without capabilities"

kill -TERM "$DAEMON_PID"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "netwaked did not exit within 5 s of SIGTERM"
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
((rc == 0)) || fail "netwaked exited with status $rc on SIGTERM"

# ---------------------------------------------------------------------------------------------
# purge
DEBIAN_FRONTEND=noninteractive apt-get purge -y netwaked >"$TMP/purge.log" 2>&1 ||
    { cat "$TMP/purge.log"; fail "apt-get purge netwaked failed"; }
INSTALLED=0
for f in /usr/sbin/netwaked /usr/bin/netwakectl /etc/netwaked /var/lib/netwaked /usr/share/doc/netwaked \
    /lib/systemd/system/netwaked.service /etc/systemd/system/multi-user.target.wants/netwaked.service; do
    [[ -e $f ]] && fail "$f is still there after purge"
done
getent passwd netwaked >/dev/null && fail "user netwaked is still there after purge"
getent group netwaked >/dev/null && fail "group netwaked is still there after purge"
say "purged: files, state directory, user and group are gone"

echo "PASS package"
exit 0
