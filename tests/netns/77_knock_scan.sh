#!/bin/bash
# tests/netns/77_knock_scan.sh — SPEC §10: an ascending SYN scan (nmap -sS -r -p 6990-9010) never
# completes the knock tcp/7000, tcp/8000, tcp/9000, with a pcap sensor and with an NFLOG sensor
# that see the ports in between; the knock itself still works afterwards (positive control).
#
#   client netns ($NW_ID-cli)                  router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24 <---- veth ----> ${NW_ID}r 10.201.0.1/24 (no listeners: RSTs)
#   nmap -sS -r -p 6990-9010                   run 1: netwaked, pcap sensor on ${NW_ID}r ("tcp")
#                                              run 2: netwaked, NFLOG sensor; nft logs SYNs to
#                                                     6990-9010 to group G (and accepts them)
. "$(dirname "$0")/lib.sh"
require_root nft nmap
lab_two
G=$(nflog_group)
ip netns exec "$NS_RTR" nft -f - <<NFT || fail "nft rules"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 6990-9010 tcp flags & (syn|ack) == syn log group $G prefix "scan"
    }
}
NFT
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
PORTS=$((9010 - 6990 + 1))

# write_conf SENSOR-YAML: the knock configuration with that one sensor.
write_conf() {
    cat >"$NW_TMP/conf.yaml" <<CONF
# 77_knock_scan
daemon:
  state_dir: ""
  control_socket: $CTL_SOCK
sensors:
  - name: s
    $1
targets:
  - name: ssh
    keepalive: []
    ttl: 60s
    hook: $NW_TMP/hook
knock:
  - name: ssh-seq
    target: ssh
    sequence: [tcp/7000, tcp/8000, tcp/9000]
    timeout: 30s
CONF
}
seen() { status_get 's["sensors"][0]["packets"]'; }
seen_ge() { (($(seen) >= $1)); }
syn() { pkt "$NS_CLI" tcp "$RTR_ADDR" "$1" --flags S >/dev/null || fail "send failed"; }

# scan_then_knock LABEL N: nmap's scan must not complete the knock; a knock sent after it must
# (the N-th knock hook of this scenario) — the positive marker that the scan was processed.
scan_then_knock() {
    say "$1: nmap -sS -r -p 6990-9010 $RTR_ADDR"
    ip netns exec "$NS_CLI" nmap -n -Pn -sS -r --max-retries 0 -p 6990-9010 "$RTR_ADDR" >"$NW_TMP/nmap.out" 2>&1 ||
        { cat "$NW_TMP/nmap.out"; fail "nmap failed"; }
    grep -q 'closed' "$NW_TMP/nmap.out" || { cat "$NW_TMP/nmap.out"; fail "nmap did not scan the router"; }
    wait_for 5 seen_ge "$PORTS" || fail "$1: the sensor saw $(seen) packets, expected $PORTS or more"
    local n s
    s=$(seen)
    say "$1: the sensor saw $s packets of the scan"
    syn 7000; syn 8000; syn 9000
    wait_for 5 seen_ge $((s + 3)) || fail "$1: the sensor did not see the knock"
    wait_for 3 hook_has_t knock ssh "$2" || fail "$1: the knock sent after the scan did not complete"
    n=$(grep -c 'knock ssh-seq (sequence) completed' "$DAEMON_LOG")
    ((n == 1)) || fail "$1: $n knock completions logged: the scan completed the sequence"
    expect_env_t knock ssh "$2" NETWAKED_SRC "$CLI_ADDR"
}

# --- 1: pcap sensor (sees every TCP packet to the router)
write_conf "pcap: { interface: $RTR_IF, filter: \"tcp\" }"
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml"
wait_for 5 pcap_open "$NS_RTR" "$DAEMON_PID" "$RTR_IF" || fail "pcap sensor not open"
scan_then_knock pcap 1
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM (pcap)"

# --- 2: NFLOG sensor (the firewall logs SYNs to the whole range)
write_conf "nflog: { group: $G }"
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
scan_then_knock nflog 2
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM (nflog)"
pass
