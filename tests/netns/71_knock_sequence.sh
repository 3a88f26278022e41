#!/bin/bash
# tests/netns/71_knock_sequence.sh — sequence knocks (nft logs and drops the knock ports): the right
# sequence starts the target (NETWAKED_SRC = client); wrong order, too slow, wrong flags; IPv6.
#
#   client netns ($NW_ID-cli)                            router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24, fd00:201::2/64 <-- veth --> ${NW_ID}r 10.201.0.1/24, fd00:201::1/64
#                                                        nft: tcp dport {7000,8000}, udp dport 9000
#                                                             -> log group G prefix "knock", drop
#                                                        netwaked -C conf.yaml: target ssh (no match
#                                                        rules, ttl 1s), knock ssh-seq
. "$(dirname "$0")/lib.sh"
require_root nft
lab_two
for ns in "$NS_CLI" "$NS_RTR"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 || fail "enable IPv6"
done
ip netns exec "$NS_CLI" sysctl -qw "net.ipv6.conf.$CLI_IF.disable_ipv6=0"
ip netns exec "$NS_RTR" sysctl -qw "net.ipv6.conf.$RTR_IF.disable_ipv6=0"
ip -n "$NS_CLI" addr add fd00:201::2/64 dev "$CLI_IF" nodad || fail "client IPv6 address"
ip -n "$NS_RTR" addr add fd00:201::1/64 dev "$RTR_IF" nodad || fail "router IPv6 address"
ip netns exec "$NS_CLI" ping -6 -c1 -W2 fd00:201::1 >/dev/null 2>&1 || fail "no IPv6 between client and router"
G=$(nflog_group)
ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rules"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport { 7000, 8000 } log group $G prefix "knock" drop
        udp dport 9000 log group $G prefix "knock" drop
    }
}
EOF
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 71_knock_sequence
daemon:
  state_dir: ""
  control_socket: $CTL_SOCK
sensors:
  - name: knocks
    nflog: { group: $G }
targets:
  - name: ssh
    keepalive: []
    ttl: 1s
    hook: $NW_TMP/hook
knock:
  - name: ssh-seq
    target: ssh
    sequence: [tcp/7000, tcp/8000, udp/9000]
    timeout: 1s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
tcp4() { pkt "$NS_CLI" tcp "$RTR_ADDR" "$1" --flags "${2:-S}" >/dev/null || fail "send failed"; }
udp4() { pkt "$NS_CLI" udp "$RTR_ADDR" "$1" >/dev/null || fail "send failed"; }
seen_ge() { (($(status_get 's["sensors"][0]["packets"]') >= $1)); }
SEEN=0
# all_seen N: wait until the sensor has seen N more packets (so "nothing happened" means something)
all_seen() {
    SEEN=$((SEEN + $1))
    wait_for 2 seen_ge "$SEEN" || fail "the sensor saw $(status_get 's["sensors"][0]["packets"]') packets, expected $SEEN"
}

# --- 1: the right sequence
say "client: tcp/7000, tcp/8000, udp/9000"
tcp4 7000; tcp4 8000; udp4 9000
all_seen 3
wait_for 2 hook_has_t knock ssh 1 || fail "the sequence did not complete"
wait_for 2 hook_has_t start ssh 1 || fail "the knock did not start the target"
expect_env_t knock ssh 1 NETWAKED_EVENT knock
expect_env_t knock ssh 1 NETWAKED_SRC "$CLI_ADDR"
expect_env_t knock ssh 1 NETWAKED_REASON knock
expect_env_t start ssh 1 NETWAKED_REASON knock
expect_env_t start ssh 1 NETWAKED_SRC "$CLI_ADDR"
# The completed knock is a command on the one command path (issue 18): its one log line.
log_has "command start ssh \(knock $CLI_ADDR\): ssh started" || fail "the knock's start is not a command: $(grep -F ssh "$DAEMON_LOG" | tail -5)"
say "hooks: $(hook_seq); log: $(grep -m1 'knock' "$DAEMON_LOG")"
wait_for 3 hook_has_t stop ssh 1 || fail "no stop after the 1 s TTL"

# --- 2: wrong order
say "client: tcp/8000, tcp/7000, udp/9000 (wrong order)"
tcp4 8000; tcp4 7000; udp4 9000
all_seen 3
stays_false 0.5 hook_has_t knock ssh 2 || fail "a sequence in the wrong order completed"

# --- 3: too slow (timeout 1 s, 1.5 s between steps)
say "client: tcp/7000, 1.5 s, tcp/8000, 1.5 s, udp/9000 (timeout 1 s)"
now_us; t=$NOW_US
tcp4 7000
wait_for 2 past_us $((t + 1500000)); tcp4 8000
wait_for 2 past_us $((t + 3000000)); udp4 9000
all_seen 3
stays_false 0.5 hook_has_t knock ssh 2 || fail "a sequence slower than its timeout completed"

# --- 4: a packet with other TCP flags in between is ignored (no reset)
say "client: tcp/7000 SYN, tcp/8000 ACK (ignored), tcp/8000 SYN, udp/9000"
tcp4 7000; tcp4 8000 A; tcp4 8000; udp4 9000
all_seen 4
wait_for 2 hook_has_t knock ssh 2 || fail "a packet with non-matching TCP flags reset the sequence"
wait_for 3 hook_has_t stop ssh 2 || fail "no second stop"

# --- 5: IPv6
say "client: the sequence over IPv6 from fd00:201::2"
ip netns exec "$NS_CLI" "$PYTHON" - <<'PYEOF' || fail "IPv6 knock send failed"
import socket
dst = "fd00:201::1"
for port in (7000, 8000):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((dst, port))       # sends the SYN; closing in SYN-SENT sends nothing more
    s.close()
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"knock", (dst, 9000))
PYEOF
all_seen 3
wait_for 2 hook_has_t knock ssh 3 || fail "the IPv6 sequence did not complete"
expect_env_t knock ssh 3 NETWAKED_SRC fd00:201::2
wait_for 2 hook_has_t start ssh 3 || fail "the IPv6 knock did not start the target"
wait_for 3 hook_has_t stop ssh 3 || fail "no third stop"
wait_for 2 hooks_settled || fail "hooks did not settle"
[[ $(hook_seq) == "knock start stop knock start stop knock start stop" ]] || fail "hook sequence '$(hook_seq)'"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
