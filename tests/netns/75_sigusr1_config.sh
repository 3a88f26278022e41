#!/bin/bash
# tests/netns/75_sigusr1_config.sh — SIGUSR1 logs the configuration (SPEC §6): in tuninetd mode the
# hook path, NFLOG group, pcap interface with its BPF filter, TTL, -a and the -w file; in
# configuration-file mode every sensor and every target's hook, TTL and keepalive rule.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              run 1: netwaked -n G -i ${NW_ID}r -f "udp port 9999"
#                                                     -c hook -t 77 -a -w start.pcap
#                                              run 2: netwaked -C conf.yaml (fw: NFLOG G, lan: pcap)
. "$(dirname "$0")/lib.sh"
require_root
lab_two
G=$(nflog_group)
make_hook "$NW_TMP/hook"
make_hook "$NW_TMP/hook2"

# usr1 PATTERN...: after one SIGUSR1, every PATTERN (ERE) appears in the log as a line of its own
usr1() {
    local off p
    off=$(log_size)
    kill -USR1 "$DAEMON_PID"
    wait_for 2 log_since "$off" 'status: ' || fail "SIGUSR1: no status dump"
    for p in "$@"; do
        log_since "$off" "$p" || fail "SIGUSR1: no line matching '$p'; dump: $(tail -c +"$((off + 1))" "$DAEMON_LOG")"
    done
}

start_daemon "$NS_RTR" -n "$G" -i "$RTR_IF" -f "udp port 9999" -c "$NW_TMP/hook" -t 77 -a -w "$NW_TMP/start.pcap"
usr1 "config: sensor nflog:$G: NFLOG group $G" \
    "config: sensor pcap:$RTR_IF: pcap interface $RTR_IF, BPF filter \"udp port 9999\"" \
    "config: target default: hook $NW_TMP/hook, ttl 77s,.* keepalive proto tcp tcp_flags ack \(-a\)" \
    "config: savefile \(-w\): $NW_TMP/start.pcap"
say "tuninetd mode: $(grep -c 'config: ' "$DAEMON_LOG") config lines"
stop_daemon

CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOT
# 75_sigusr1_config
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
  - name: lan
    pcap: { interface: $RTR_IF, filter: "tcp port 22" }
targets:
  - name: web
    match: [ { sensor: fw, proto: udp, dst_port: 8001 } ]
    ttl: 2m
    hook: $NW_TMP/hook
  - name: ssh
    sensors: [lan]
    match: [ { proto: tcp, dst_port: 22 } ]
    keepalive: [ { tcp_flags: ack } ]
    ttl: 30s
    hook: $NW_TMP/hook2
EOT
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
usr1 "config: sensor fw: NFLOG group $G, copy_range [0-9]+" \
    "config: sensor lan: pcap interface $RTR_IF, BPF filter \"tcp port 22\", snaplen [0-9]+" \
    "config: target web: hook $NW_TMP/hook, ttl 2m, sensors all, match sensor fw proto udp dst_port \[8001\], keepalive same as match" \
    "config: target ssh: hook $NW_TMP/hook2, ttl 30s, sensors lan, match proto tcp dst_port \[22\], keepalive tcp_flags ack$"
log_has 'config: savefile' && fail "configuration-file mode logs a -w savefile line"
say "config mode: $(grep -c 'config: ' "$DAEMON_LOG") config lines"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS"
pass
