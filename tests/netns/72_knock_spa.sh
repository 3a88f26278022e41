#!/bin/bash
# tests/netns/72_knock_spa.sh — authenticated knocks: netwakectl keygen/knock start the target once;
# replayed, stale and bad-HMAC datagrams are rejected and logged; the replay cache survives a restart.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   tcpdump "udp dst port 62201" here          nft: udp dport 62201 -> log group G prefix "spa", drop
#   netwakectl knock / python3 datagrams       netwaked -C conf.yaml: target ssh (ttl 1s), knock ssh-spa
#                                              (key $NW_TMP/spa.key, state_dir $NW_TMP/state)
. "$(dirname "$0")/lib.sh"
require_root nft
lab_two
G=$(nflog_group)
PORT=62201
ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rules"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport $PORT log group $G prefix "spa" drop
    }
}
EOF
KEY=$NW_TMP/spa.key
out=$("$NW_CTL" keygen "$KEY" 2>&1) || fail "netwakectl keygen: $out"
say "netwakectl keygen: $out"
[[ $(stat -c %a "$KEY") == 600 ]] || fail "key file mode $(stat -c %a "$KEY"), expected 600"
klen=$("$PYTHON" -c 'import base64,sys; print(len(base64.b64decode(open(sys.argv[1]).read().strip(), validate=True)))' "$KEY") ||
    fail "the key file is not one line of base64"
((klen >= 32)) || fail "key of $klen bytes, expected at least 32"
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
mkdir -p "$NW_TMP/state"
cat >"$NW_TMP/conf.yaml" <<EOF
# 72_knock_spa
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: knocks
    nflog: { group: $G, copy_range: 256 }
targets:
  - name: ssh
    keepalive: []
    ttl: 1s
    hook: $NW_TMP/hook
knock:
  - name: ssh-spa
    target: ssh
    spa: { port: $PORT, key_file: $KEY, window: 60s }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
rejected() { status_get 's["counters"]["rejected"]'; }
rejected_is() { [[ $(rejected) == "$1" ]]; }
send_hex() { udp_send_hex "$NS_CLI" "$RTR_ADDR" "$PORT" "$1" || fail "send failed"; }
# expect_reject WHAT N WORD: a "knock rejected from <client>: ...WORD..." line after log offset
# $off, no new knock, and counters.rejected reaches N
expect_reject() {
    wait_for 2 log_since "$off" "knock rejected from $CLI_ADDR: .*$3" || fail "$1: no 'knock rejected from $CLI_ADDR: ...$3...' in the log"
    say "$1 -> $(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -m1 'knock rejected')"
    wait_for 1 rejected_is "$2" || fail "$1: counters.rejected is $(rejected), expected $2"
    stays_false 0.3 hook_has_t knock ssh $((KNOCKS + 1)) || fail "$1 was accepted"
}
KNOCKS=0

# --- 1: netwakectl knock -> one start
CAP=$NW_TMP/client.pcap
capture_start "$NS_CLI" "$CLI_IF" "udp dst port $PORT" "$CAP"
out=$(ip netns exec "$NS_CLI" "$NW_CTL" knock "$RTR_ADDR" ssh --key-file "$KEY" 2>&1) || fail "netwakectl knock: $out"
say "netwakectl knock: $out"
wait_for 2 hook_has_t knock ssh 1 || fail "netwakectl knock was not accepted"
KNOCKS=1
wait_for 2 hook_has_t start ssh 1 || fail "the knock did not start the target"
expect_env_t knock ssh 1 NETWAKED_SRC "$CLI_ADDR"
expect_env_t start ssh 1 NETWAKED_REASON knock
log_has "ssh.*knock.*$CLI_ADDR" || fail "no log line for the knock from $CLI_ADDR"
[[ $(rejected) == 0 ]] || fail "counters.rejected is $(rejected) after a good knock"
ncap() { [[ $(pcap_packets "$CAP") -ge 1 ]]; }
wait_for 3 ncap || fail "tcpdump did not capture the knock datagram"
capture_stop
D1=$(pcap_udp_payload "$CAP" "$PORT") || fail "no UDP payload in the capture"
say "captured datagram: ${#D1} hex digits (version ${D1:0:2}, $(((${#D1} / 2) - 57)) bytes of target name)"
[[ ${D1:0:2} == 01 && $((${#D1} / 2)) -eq $((1 + 8 + 16 + 3 + 32)) ]] || fail "unexpected datagram layout: $D1"
wait_for 3 hook_has_t stop ssh 1 || fail "no stop after the 1 s TTL"

# --- 2: replay, stale, bad HMAC
# (netwaked treats the same datagram from the same source within 2 s of accepting it as one
# packet seen twice — e.g. by two sensors — and ignores it silently: replay after that)
wait_for 3 past_us $(($(hook_time_t knock ssh 1) + 2200000))
off=$(log_size); send_hex "$D1"; expect_reject "replay of the captured datagram" 1 replay
off=$(log_size); send_hex "$(spa_hex "$KEY" ssh 600)"; expect_reject "datagram 10 minutes old" 2 stale
off=$(log_size); send_hex "$(spa_hex "$KEY" ssh 0 1)"; expect_reject "bad HMAC" 3 HMAC
# the same builder with a fresh timestamp and a good HMAC is accepted (so the rejections above
# are about age and HMAC, not the builder)
D2=$(spa_hex "$KEY" ssh 0)
send_hex "$D2"
wait_for 2 hook_has_t knock ssh 2 || fail "a fresh python3-built datagram was not accepted"
KNOCKS=2
wait_for 2 hook_has_t start ssh 2 || fail "the second knock did not start the target"
wait_for 3 hook_has_t stop ssh 2 || fail "no second stop"

# --- 3: the replay cache survives a restart
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
say "netwaked restarted on the same state_dir"
off=$(log_size); send_hex "$D1"; expect_reject "replay of the netwakectl datagram after the restart" 1 replay
off=$(log_size); send_hex "$D2"; expect_reject "replay of the python3 datagram after the restart" 2 replay
wait_for 2 hooks_settled || fail "hooks did not settle"
[[ $(hook_seq) == "knock start stop knock start stop" ]] || fail "hook sequence '$(hook_seq)'"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"

# --- 4: a key file readable by others is refused
chmod 644 "$KEY"
ip netns exec "$NS_RTR" "$NETWAKED" --check -C "$NW_TMP/conf.yaml" >/dev/null 2>"$NW_TMP/check.err"
rc=$?
[[ $rc -eq 2 ]] || fail "--check with a world-readable key: exit $rc, expected 2"
grep -q "$NW_TMP/conf.yaml:[0-9]*:[0-9]*: .*key_file" "$NW_TMP/check.err" || fail "no FILE:LINE:COL: key_file error: $(cat "$NW_TMP/check.err")"
say "world-readable key: $(head -1 "$NW_TMP/check.err")"
pass
