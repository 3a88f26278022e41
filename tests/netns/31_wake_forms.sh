#!/bin/bash
# tests/netns/31_wake_forms.sh — `netwakectl wake` as etherwake and wakeonlan users type it (SPEC §7,
# issue 14.3): every MAC / SecureOn / option form sends frames byte-for-byte identical to Debian's
# etherwake (EtherType 0x0842) and wakeonlan (UDP); every subcommand's --help works with no daemon.
#
#   sender netns ($NW_ID-s)                      receiver netns ($NW_ID-r)
#   $S_IF 10.66.0.1/24  <-------- veth -------->  $R_IF 10.66.0.2/24  (tcpdump)
#   netwakectl, etherwake, wakeonlan
. "$(dirname "$0")/lib.sh"
require_root tcpdump etherwake wakeonlan
CTL=$NW_CTL
NS_S=$NW_ID-s NS_R=$NW_ID-r S_IF=${NW_ID}s R_IF=${NW_ID}r
unset NETWAKECTL_SOCKET
NOSOCK=$NW_TMP/none.sock

# --- help and version without a daemon (the socket does not exist: nothing may try it)
for cmd in status start stop wake forget reload register keygen knock help; do
    for h in -h --help; do
        out=$("$CTL" -s "$NOSOCK" "$cmd" $h 2>&1) || fail "netwakectl $cmd $h exited $?: $out"
        [[ $out == "usage: netwakectl $cmd"* ]] || fail "netwakectl $cmd $h printed: $out"
    done
    [[ $("$CTL" help "$cmd" 2>&1) == "usage: netwakectl $cmd"* ]] || fail "netwakectl help $cmd"
done
out=$("$CTL" -s "$NOSOCK" wake nas --help 2>&1) || fail "wake nas --help contacted the daemon: $out"
out=$("$CTL" -s "$NOSOCK" wake -i eth0 0:11:22:aa:bb:cc -h 2>&1) || fail "wake MAC -h: $out"
[[ $out == "usage: netwakectl wake"* ]] || fail "wake MAC -h printed: $out"
"$CTL" help frob >/dev/null 2>&1; [[ $? == 2 ]] || fail "help of an unknown command is not a usage error"
for v in -v -V --version; do
    [[ $("$CTL" $v) == "netwakectl $(cat "$NW_ROOT/VERSION")" ]] || fail "netwakectl $v"
done
say "--help on every subcommand and 'help CMD' without a daemon; -v/-V/--version"

# --- the lab
netns_add "$NS_S"
netns_add "$NS_R"
veth_pair "$NS_S" "$S_IF" "$NS_R" "$R_IF" 10.66.0.1 10.66.0.2
ip -n "$NS_S" route add default dev "$S_IF"  # 255.255.255.255 goes out here (wakeonlan's default)
ip netns exec "$NS_S" ping -c1 -W2 10.66.0.2 >/dev/null || fail "lab: no ping"

# frames FILE: one line per frame: 0x0842 frames as full hex; UDP/IPv4 as "udp DST:PORT PAYLOADHEX".
frames() {
    "$PYTHON" - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 24
while off + 16 <= len(d):
    incl = struct.unpack('<I', d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    et = struct.unpack('!H', f[12:14])[0]
    if et == 0x0842:
        print('eth', f.hex())
    elif et == 0x0800 and f[23] == 17:
        ihl = (f[14] & 15) * 4
        u = f[14 + ihl:]
        print('udp %s:%d %s' % ('.'.join(map(str, f[30:34])), struct.unpack('!H', u[2:4])[0], u[8:].hex()))
PY
}
nframes_ge() { (($(frames "$CAP" | wc -l) >= $1)); }
# run_pair NAME 'NETWAKECTL ARGS' 'REFERENCE COMMANDS' N: netwakectl's N frames, then the
# reference's N frames (one capture for the whole run), compared one by one.
CAP=$NW_TMP/cap.pcap
SEEN=0
capture_start "$NS_R" "$R_IF" "ether proto 0x0842 or udp" "$CAP"
run_pair() {
    local name=$1 ours=$2 ref=$3 n=$4 out i
    # shellcheck disable=SC2086
    out=$(ip netns exec "$NS_S" "$CTL" wake $ours 2>&1) || fail "$name: netwakectl wake $ours: $out"
    wait_for 3 nframes_ge $((SEEN + n)) || fail "$name: netwakectl sent $(($(frames "$CAP" | wc -l) - SEEN)) frame(s), expected $n"
    ip netns exec "$NS_S" bash -c "$ref" >/dev/null 2>&1 || fail "$name: reference '$ref' failed"
    wait_for 3 nframes_ge $((SEEN + 2 * n)) || fail "$name: the reference sent too few frames"
    mapfile -t F < <(frames "$CAP" | tail -n +$((SEEN + 1)))
    ((${#F[@]} == 2 * n)) || fail "$name: ${#F[@]} frames captured, expected $((2 * n))"
    for ((i = 0; i < n; i++)); do
        [[ ${F[i]} == "${F[i + n]}" ]] || fail "$name: frame $((i + 1)) differs
  netwakectl wake $ours: ${F[i]}
  $ref: ${F[i + n]}"
    done
    SEEN=$((SEEN + 2 * n))
    printf '  ok  %-58s == %s\n' "wake $ours" "$ref"
}

M=00:11:22:aa:bb:cc
E="etherwake -i $S_IF"
# Ethernet forms: netwakectl sends to the MAC and to broadcast; etherwake, then etherwake -b.
run_pair "before" "-i $S_IF 0:11:22:aa:bb:cc" "$E 0:11:22:aa:bb:cc; $E -b 0:11:22:aa:bb:cc" 2
run_pair "after" "00-11-22-aa-bb-cc -i $S_IF" "$E $M; $E -b $M" 2
run_pair "--opt=value, bare MAC" "--interface=$S_IF 001122aabbcc" "$E $M; $E -b $M" 2
run_pair "-iIF, dotted MAC" "-i$S_IF 0011.22aa.bbcc" "$E $M; $E -b $M" 2
run_pair "SecureOn 6 bytes" "-i $S_IF -p 01:02:03:04:05:06 $M" "$E -p 01:02:03:04:05:06 $M; $E -b -p 01:02:03:04:05:06 $M" 2
run_pair "SecureOn 4 hex bytes" "$M -i $S_IF --password 0a:0b:0c:0d" "$E -p 0a:0b:0c:0d $M; $E -b -p 0a:0b:0c:0d $M" 2
run_pair "SecureOn dotted quad" "$M --password=192.168.1.1 -i $S_IF" "$E -p 192.168.1.1 $M; $E -b -p 192.168.1.1 $M" 2
run_pair "-b" "-b -i $S_IF 0:11:22:aa:bb:cc" "$E -b $M" 1
# UDP forms: wakeonlan (no SecureOn there).
run_pair "UDP default 255.255.255.255:9" "0:11:22:aa:bb:cc" "wakeonlan 0:11:22:aa:bb:cc" 1
run_pair "UDP directed broadcast" "--udp 10.66.0.255 001122aabbcc" "wakeonlan -i 10.66.0.255 $M" 1
run_pair "UDP unicast, --udp=" "--udp=10.66.0.2:7 00-11-22-aa-bb-cc" "wakeonlan -i 10.66.0.2 -p 7 $M" 1
say "every form: frames identical to etherwake's / wakeonlan's"

# --- bad forms are usage errors (exit 2) with a message naming the problem
for args in "-i $S_IF 0:11:22:aa:bb" "-i $S_IF $M -p secret" "$M --udp" "$M --repeat=0" "-i $S_IF $M extra"; do
    # shellcheck disable=SC2086
    ip netns exec "$NS_S" "$CTL" wake $args >/dev/null 2>"$NW_TMP/err"
    rc=$?
    ((rc == 2)) || fail "wake $args: exit $rc, expected 2 ($(cat "$NW_TMP/err"))"
    [[ -s $NW_TMP/err ]] || fail "wake $args: no message"
done
say "bad forms: exit 2 with a message"
pass
