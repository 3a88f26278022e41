#!/bin/bash
# tests/netns/79_lazy_libraries.sh — libcrypto, libssl, libmosquitto and libpcap are loaded only when
# the configuration needs them (issue 16 item 3), and a missing one is named at --check, start, reload.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   nwpkt.py UDP to :9999                      iptables INPUT udp dport 9999 -> NFLOG group G
#                                              1. netwaked -n G: none of the four mapped; SPA, MQTT, -i map theirs
#                                              2. the same in a mount namespace where the four files
#                                                 are /dev/null: tuninetd mode still works; SPA, MQTT
#                                                 and pcap configurations fail naming the soname
. "$(dirname "$0")/lib.sh"
require_root iptables unshare
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" || fail "iptables NFLOG rule"
make_hook "$NW_TMP/hook"
LAZY=(libcrypto.so.3 libssl.so.3 libmosquitto.so.1 libpcap.so.0.8)

# mapped PID SONAME-PREFIX: PID has a file of that library mapped.
mapped() { grep -q "/${2%%.so*}\.so" "/proc/$1/maps"; }
# knock_and_start: a packet from the client runs the start hook (proves the sensor path ran).
knock_and_start() {
    pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --count 1 >/dev/null || fail "send failed"
    wait_for 3 hook_has start "$1" || fail "no start hook after the packet ($2)"
}

# --- 1: tuninetd mode maps none of the four; SPA, MQTT and pcap map theirs
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 60
knock_and_start 1 "tuninetd mode"
for l in "${LAZY[@]}"; do
    ! mapped "$DAEMON_PID" "$l" || fail "tuninetd mode (-n $G) has $l mapped: $(grep -o "/[^ ]*${l%%.so*}[^ ]*" "/proc/$DAEMON_PID/maps" | sort -u | head -1)"
done
say "tuninetd mode: none of ${LAZY[*]} mapped; RssAnon $(awk '/^RssAnon/ {print $2, $3}' "/proc/$DAEMON_PID/status")"
stop_daemon

KEY=$NW_TMP/spa.key
out=$("$NW_CTL" keygen "$KEY" 2>&1) || fail "netwakectl keygen: $out"
CTL_SOCK=$NW_TMP/ctl.sock
# conf FILE EXTRA: a configuration with one NFLOG sensor and one target, plus the YAML in EXTRA.
conf() {
    cat >"$1" <<EOC
daemon: { control_socket: $CTL_SOCK }
sensors:
  - { name: n, nflog: { group: $G } }
targets:
  - { name: t, ttl: 60s, hook: $NW_TMP/hook, match: [ { proto: udp, dst_port: 9999 } ] }
$2
EOC
}
conf "$NW_TMP/plain.yaml" ""
conf "$NW_TMP/spa.yaml" "knock:
  - { name: door, target: t, spa: { port: 62201, key_file: $KEY } }"
conf "$NW_TMP/mqtt.yaml" "mqtt: { broker: 'mqtt://127.0.0.1:1', topic: nwtest }"
for c in spa:libcrypto.so.3 mqtt:libmosquitto.so.1; do
    start_conf_daemon "$NS_RTR" "$NW_TMP/${c%%:*}.yaml" "$G"
    mapped "$DAEMON_PID" "${c#*:}" || fail "${c%%:*} configuration: ${c#*:} not mapped"
    say "${c%%:*} configuration: ${c#*:} mapped"
    stop_daemon
done
start_daemon "$NS_RTR" -i "$RTR_IF" -c "$NW_TMP/hook" -t 60
mapped "$DAEMON_PID" libpcap.so.0.8 || fail "-i $RTR_IF: libpcap not mapped"
stop_daemon

# --- 2: the four libraries unreadable (a private mount namespace binds /dev/null over each file)
HIDE=$NW_TMP/hidden-netwaked
{
    echo '#!/bin/sh'
    echo '# runs netwaked with the optional libraries replaced by /dev/null, in a private mount namespace'
    printf 'exec unshare -m --propagation private sh -c '\''for f in'
    for l in "${LAZY[@]}"; do
        p=$(ldconfig -p | awk -v l="$l" '$1 == l {print $NF; exit}')
        [[ -n $p ]] || fail "test bug: ldconfig does not know $l"
        printf ' %s' "$(readlink -f "$p")"
    done
    printf '; do mount --bind /dev/null "$f" || exit 99; done; exec "$0" "$@"'\'' %q "$@"\n' "$NETWAKED"
} >"$HIDE"
chmod 755 "$HIDE"
REAL=$NETWAKED
NETWAKED=$HIDE
: >"$HOOK_LOG"
CTL_SOCK=
start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t 60
knock_and_start 1 "tuninetd mode without the four libraries"
say "tuninetd mode runs without ${LAZY[*]}"
stop_daemon
# expect_missing WHAT SONAME ARGS...: netwaked ARGS exits 1 naming SONAME.
expect_missing() {
    local what=$1 so=$2 rc
    shift 2
    out=$(cd "$NW_TMP" && timeout -k 1 10 ip netns exec "$NS_RTR" "$HIDE" "$@" 2>&1)
    rc=$?
    [[ $rc == 1 ]] || fail "$what without $so: exit $rc, expected 1 (output: $out)"
    grep -q "needs $so: cannot load $so" <<<"$out" || fail "$what without $so: no 'needs $so' message: $out"
    say "$what: $(head -1 <<<"$out")"
}
expect_missing "--check of an SPA knock" libcrypto.so.3 --check -C "$NW_TMP/spa.yaml"
expect_missing "--check of an mqtt section" libmosquitto.so.1 --check -C "$NW_TMP/mqtt.yaml"
expect_missing "-i $RTR_IF" libpcap.so.0.8 -i "$RTR_IF" -c "$NW_TMP/hook"
expect_missing "a pcap sensor" libpcap.so.0.8 --check -C <(printf 'sensors:\n  - { pcap: { interface: lo, filter: "udp" } }\ntargets:\n  - { name: t, hook: %s, match: [ { proto: udp } ] }\n' "$NW_TMP/hook")

# A reload to a configuration with an SPA knock fails, names libcrypto, keeps the running one.
CTL_SOCK=$NW_TMP/ctl.sock
cp "$NW_TMP/plain.yaml" "$NW_TMP/run.yaml"
start_conf_daemon "$NS_RTR" "$NW_TMP/run.yaml" "$G"
cp "$NW_TMP/spa.yaml" "$NW_TMP/run.yaml"
! ctl reload || fail "reload to an SPA configuration without libcrypto succeeded"
grep -q 'needs libcrypto.so.3' <<<"$CTL_OUT$CTL_ERR" || fail "reload: no 'needs libcrypto.so.3' in: $CTL_OUT $CTL_ERR"
say "reload: $CTL_ERR"
knock_and_start 1 "the running configuration after the failed reload"
stop_daemon
NETWAKED=$REAL
pass
