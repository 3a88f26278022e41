#!/bin/bash
# tests/netns/68_mqtt_remote.sh — `netwakectl remote` end to end through a real mosquitto from a
# "phone" namespace that has no route to the router: a signed wake is accepted (exit 0, result
# and wake event printed, magic packet on the router's LAN); a wrong key and a not-allowed action
# exit 1 with the refusal printed; with wake verification, exit 0 waits for awake and
# wake_failed exits 1.
#
#   phone netns ($NW_ID-cli)  ${NW_ID}c 10.201.0.2 <-- veth --> ${NW_ID}b 10.201.0.1  broker netns ($NW_ID-brk)
#                                                                mosquitto 10.201.0.1:$MQ_PORT (TLS)
#   router netns ($NW_ID-rtr) ${NW_ID}r 10.202.0.2 <-- veth --> ${NW_ID}s 10.202.0.1  (broker netns)
#     netwaked -> mqtts://10.202.0.1; target nas wol udp to 10.203.0.255:9 on ${NW_ID}l (LAN, tcpdump)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt.inc.sh"
require_root tcpdump
NS_CLI=$NW_ID-cli NS_BRK=$NW_ID-brk NS_RTR=$NW_ID-rtr NS_LAN=$NW_ID-lan
for n in "$NS_CLI" "$NS_BRK" "$NS_RTR" "$NS_LAN"; do netns_add "$n"; done
veth_pair "$NS_CLI" "${NW_ID}c" "$NS_BRK" "${NW_ID}b" 10.201.0.2 10.201.0.1
veth_pair "$NS_RTR" "${NW_ID}r" "$NS_BRK" "${NW_ID}s" 10.202.0.2 10.202.0.1
veth_pair "$NS_RTR" "${NW_ID}l" "$NS_LAN" "${NW_ID}m" 10.203.0.1 10.203.0.2
ip netns exec "$NS_CLI" ping -c1 -W1 10.202.0.2 >/dev/null 2>&1 && fail "the phone can reach the router directly"
# The broker listens on both its addresses; its certificate names them.
mkdir -p "$MQ_DIR"
mq_ca
( cd "$MQ_DIR" && printf 'subjectAltName=IP:10.201.0.1,IP:10.202.0.1\n' >ext2.cnf &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext2.cnf -out server.pem ) >/dev/null 2>&1 ||
    fail "server certificate"
mq_start "$NS_BRK"
sed -i "s/^listener $MQ_PORT 127.0.0.1/listener $MQ_PORT/" "$MQ_DIR/mosquitto.conf"
kill -TERM "$MOSQ_PID"; wait_for 5 pid_dead "$MOSQ_PID" || fail "broker restart"
ip netns exec "$NS_BRK" mosquitto -c "$MQ_DIR/mosquitto.conf" >"$MQ_DIR/broker.out" 2>&1 &
MOSQ_PID=$!; NW_BGPIDS+=("$MOSQ_PID")
wait_for 5 mq_listening "$NS_BRK" || fail "broker did not listen on all addresses"

KEY=$NW_TMP/cmd.key
"$NW_CTL" keygen "$KEY" >/dev/null 2>&1 || fail "keygen"
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
printf '%s\n' "$MQ_OBS_PASS" >"$NW_TMP/phone.pass"
chmod 600 "$NW_TMP/mqtt.pass" "$NW_TMP/phone.pass"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: $NW_TMP/state, control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
    wol: { mac: "02:00:00:00:00:09", interface: "", method: udp, udp_to: "10.203.0.255:9", repeat: 1, cooldown: 0s }
  - name: pc        # verified: the LAN namespace answers the ARP probe for 10.203.0.2 -> awake
    match: [{ dst_port: 4243 }]
    wol: { mac: "02:00:00:00:00:0a", interface: ${NW_ID}l, method: udp, udp_to: "10.203.0.255:9", repeat: 1,
           cooldown: 0s, verify: { address: 10.203.0.2, timeout: 1s, attempts: 2 } }
  - name: gone      # verified, but nobody has 10.203.0.77 -> wake_failed
    match: [{ dst_port: 4244 }]
    wol: { mac: "02:00:00:00:00:0b", interface: ${NW_ID}l, method: udp, udp_to: "10.203.0.255:9", repeat: 1,
           cooldown: 0s, verify: { address: 10.203.0.77, timeout: 1s, attempts: 2 } }
mqtt:
  broker: mqtts://10.202.0.1:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
  commands: { allow: [wake], signed: true, key_file: $KEY }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
wait_for 10 log_has 'mqtt: connected' || fail "daemon did not connect to the broker"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_LAN" "${NW_ID}m" "udp port 9" "$CAP"
remote() {
    ip netns exec "$NS_CLI" "$NW_CTL" remote "$@" --broker "mqtts://10.201.0.1:$MQ_PORT" --topic netwaked/r1 \
        --username observer --password-file "$NW_TMP/phone.pass" --ca-file "$MQ_DIR/ca.pem" --wait 10s \
        >"$NW_TMP/remote.out" 2>&1
}
remote wake nas --key-file "$KEY" || fail "netwakectl remote wake: exit $? ($(cat "$NW_TMP/remote.out"))"
grep -E '^result: .*"result":"ok"' "$NW_TMP/remote.out" >/dev/null || fail "no ok result printed: $(cat "$NW_TMP/remote.out")"
grep -E '^event: .*"event":"wake"' "$NW_TMP/remote.out" >/dev/null || fail "no wake event printed: $(cat "$NW_TMP/remote.out")"
wait_for 5 capture_has "$CAP" 'UDP' || fail "no magic packet on the LAN"
say "signed remote wake from the phone: $(grep -c . "$NW_TMP/remote.out") lines printed, magic packet on the LAN"
"$NW_CTL" keygen "$NW_TMP/other.key" >/dev/null 2>&1
remote wake nas --key-file "$NW_TMP/other.key" && fail "a wrong key: exit 0"
grep -F '"why":"bad HMAC"' "$NW_TMP/remote.out" >/dev/null || fail "bad HMAC refusal not printed: $(cat "$NW_TMP/remote.out")"
remote stop nas --key-file "$KEY" && fail "a not-allowed action: exit 0"
grep -F '"why":"action not allowed"' "$NW_TMP/remote.out" >/dev/null || fail "not-allowed refusal not printed"
say "wrong key and not-allowed action: exit 1, refusal printed"
# With wake verification (SPEC §16): exit 0 only after `awake`; `wake_failed` is exit 1.
remote wake pc --key-file "$KEY" || fail "remote wake of a verified target that wakes: exit $? ($(cat "$NW_TMP/remote.out"))"
grep -E '^event: .*"event":"awake"' "$NW_TMP/remote.out" >/dev/null || fail "exit 0 before awake: $(cat "$NW_TMP/remote.out")"
remote wake gone --key-file "$KEY" && fail "remote wake of a verified target that never answers: exit 0"
grep -E '^event: .*"event":"wake_failed"' "$NW_TMP/remote.out" >/dev/null || fail "no wake_failed printed: $(cat "$NW_TMP/remote.out")"
say "verified targets: exit 0 after awake, exit 1 after wake_failed"
# The retained states keep the wake state across a reload (SPEC §3) and are republished with it
# on each (re)connect (SPEC §16): a reload, then the broker restarts without persistence (its
# retained messages are gone) and the router reconnects.
OFF=$(log_size)
kill -USR2 "$DAEMON_PID"
wait_for 5 log_since "$OFF" 'reloaded ' || fail "no reload"
OFF=$(log_size)
kill -TERM "$MOSQ_PID"; wait_for 5 pid_dead "$MOSQ_PID" || fail "broker stop"
ip netns exec "$NS_BRK" mosquitto -c "$MQ_DIR/mosquitto.conf" >"$MQ_DIR/broker2.out" 2>&1 &
MOSQ_PID=$!; NW_BGPIDS+=("$MOSQ_PID")
wait_for 5 mq_listening "$NS_BRK" || fail "broker restart"
wait_for 20 log_since "$OFF" 'mqtt: connected' || fail "the router did not reconnect"
LATE=$NW_TMP/late.txt
mq_sub "$NS_BRK" "$LATE" 'netwaked/r1/gone/state' 'netwaked/r1/pc/state'
wait_for 5 mq_seen "$LATE" '^1 netwaked/r1/gone/state \{.*"state":"wake_failed"' || fail "republished gone: $(cat "$LATE")"
wait_for 5 mq_seen "$LATE" '^1 netwaked/r1/pc/state \{.*"state":"awake"' || fail "republished pc: $(cat "$LATE")"
say "after a reconnect the retained states say awake / wake_failed"
pass
