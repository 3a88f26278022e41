# tests/netns/nflog_basic.inc.sh — the body shared by 10_nflog_plain (iptables NFLOG rule) and
# 11_nflog_nft (nft "log group" rule): start latency, hook argv/env, stop after TTL. Sourced.
# shellcheck shell=bash
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              INPUT udp dport 9999 -> NFLOG group G (plain rule,
#                                              kernel-default threshold/flush)
#                                              netwaked -n G -c hook -t 2
#
# The client sends two UDP datagrams to 10.201.0.1:9999, 1 s apart: the first must run
# "hook start default" within 100 ms, the second keeps the target alive, and "stop default"
# must run no sooner than TTL after the second and less than 500 ms late.

nflog_basic_scenario() {
    local kind=$1 G TTL=2 out t1 t2 ts lat stop_t late
    require_root
    [[ $kind == nft ]] && { command -v nft >/dev/null || skip "nft not installed"; }
    [[ $kind == iptables ]] && { command -v iptables >/dev/null || skip "iptables not installed"; }
    lab_two
    G=$(nflog_group)
    if [[ $kind == iptables ]]; then
        ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group "$G" ||
            fail "iptables NFLOG rule"
        say "router: iptables -A INPUT -p udp --dport 9999 -j NFLOG --nflog-group $G"
    else
        ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft log rule"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 9999 log group $G
    }
}
EOF
        say "router: nft rule 'udp dport 9999 log group $G'"
    fi

    make_hook "$NW_TMP/hook"
    FOO=bar LANG=C.UTF-8 TZ=UTC start_daemon "$NS_RTR" -n "$G" -c "$NW_TMP/hook" -t "$TTL"
    tr '\0' '\n' <"/proc/$DAEMON_PID/environ" | grep -x 'FOO=bar' >/dev/null || fail "test bug: FOO=bar did not reach the daemon"

    say "client sends 2 UDP datagrams to $RTR_ADDR:9999, 1 s apart"
    out=$(pkt "$NS_CLI" udp "$RTR_ADDR" 9999 --sport 40123 --count 2 --interval 1) || fail "send failed"
    t1=$(first_sent "$out")
    t2=$(last_sent "$out")
    wait_for 2 hook_has start 1 || fail "no start hook within 2 s of the packet"
    ts=$(hook_time start 1)
    lat=$((ts - t1))
    figure start_latency_ms "$(us_to_ms "$lat")"
    ((lat >= 0)) || fail "start hook ran before the packet was sent ($(us_to_ms "$lat") ms)"
    ((lat < 100000)) || fail "start hook ran $(us_to_ms "$lat") ms after the packet (limit 100 ms)"

    # argv and environment of the start hook
    local p
    p=$(hook_pid start 1)
    [[ $(sed -n '2,$p' "$NW_TMP/argv.$p" | tr '\n' ' ') == "$NW_TMP/hook start default " ]] ||
        fail "start hook argv: $(tr '\n' ' ' <"$NW_TMP/argv.$p")"
    expect_env start 1 NETWAKED_EVENT start
    expect_env start 1 NETWAKED_TARGET default
    expect_env start 1 NETWAKED_REASON traffic
    expect_env start 1 NETWAKED_SRC "$CLI_ADDR"
    expect_env start 1 NETWAKED_DST "$RTR_ADDR"
    expect_env start 1 NETWAKED_SRC_PORT 40123
    expect_env start 1 NETWAKED_DST_PORT 9999
    expect_env start 1 NETWAKED_PROTO udp
    # no rule compares interfaces, so the sensor resolves the name only for the Hit
    expect_env start 1 NETWAKED_IN_IFACE "${NW_ID}r"
    [[ $(hook_env start 1 NETWAKED_SENSOR) != "<unset>" ]] || fail "start: NETWAKED_SENSOR unset"
    say "start sensor: $(hook_env start 1 NETWAKED_SENSOR)"
    [[ $(hook_env start 1 FOO) == "<unset>" ]] || fail "start: FOO from the daemon's environment leaked"
    expect_env start 1 LANG C.UTF-8
    expect_env start 1 TZ UTC
    expect_clean_env start 1

    # stop: not before last packet + TTL, and promptly after
    wait_for $((TTL + 3)) hook_has stop 1 || fail "no stop hook within TTL+3 s"
    stop_t=$(hook_time stop 1)
    late=$((stop_t - t2 - TTL * 1000000))
    figure stop_lateness_ms "$(us_to_ms "$late")"
    ((late >= 0)) || fail "stop ran $(us_to_ms $((-late))) ms BEFORE last packet + TTL"
    ((late < LATE_LIMIT_US)) || fail "stop ran $(us_to_ms "$late") ms after last packet + TTL (limit $((LATE_LIMIT_US / 1000)) ms)"
    expect_env stop 1 NETWAKED_EVENT stop
    expect_env stop 1 NETWAKED_TARGET default
    expect_env stop 1 NETWAKED_REASON ttl
    [[ $(hook_env stop 1 NETWAKED_IDLE) =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
        fail "stop: NETWAKED_IDLE is '$(hook_env stop 1 NETWAKED_IDLE)'"
    expect_clean_env stop 1
    [[ $(hook_seq) == "start stop" ]] || fail "hook sequence '$(hook_seq)', expected 'start stop'"

    # log: one event line naming target and event, then the packet summary
    log_has 'default.*start|start.*default' || fail "log has no start line naming the target"
    log_has "$CLI_ADDR" || fail "log has no packet summary with the client address"
    log_has 'default.*stop|stop.*default' || fail "log has no stop line naming the target"
    stop_daemon
    [[ $DAEMON_STATUS -eq 0 ]] || fail "netwaked exited with status $DAEMON_STATUS on SIGTERM"
    pass
}
