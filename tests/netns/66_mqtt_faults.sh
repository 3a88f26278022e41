#!/bin/bash
# tests/netns/66_mqtt_faults.sh — the MQTT bridge when things go wrong: a group/world-readable
# password file is refused (--check and start-up, file:line:col, password not printed); a broker
# signed by another CA is never trusted; a broker down at start-up and a broker restart are
# retried with backoff while the daemon keeps working, and the retained state is republished; a
# certificate for another name is refused, accepted with tls_insecure (warned at every connect).
#
#   router netns ($NW_ID-rtr), all on loopback:
#     mosquitto 127.0.0.1:$MQ_PORT (TLS) <--- netwaked -C conf.yaml   <--- mosquitto_sub (observer)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt.inc.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
mq_ca
G=$(nflog_group)
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
chmod 644 "$NW_TMP/mqtt.pass"
CTL_SOCK=$NW_TMP/ctl.sock
conf() {  # conf CA_FILE [tls_insecure]
    cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: "", control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: nas
    match: [{ dst_port: 4242 }]
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $1
  tls_insecure: ${2:-false}
  topic: netwaked/r1
EOF
}
conf "$MQ_DIR/ca.pem"

# 1. World-readable password file: refused with its position; the password is never printed.
out=$("$NETWAKED" --check -C "$NW_TMP/conf.yaml" 2>&1)
rc=$?
((rc == 2)) || fail "--check with a 0644 password file: exit $rc, expected 2 ($out)"
grep -E "conf.yaml:11:18: mqtt.password_file: .* is readable by group or others \(mode 0644\)" <<<"$out" >/dev/null ||
    fail "no positioned error for the 0644 password file: $out"
grep -F -- "$MQ_PASS" <<<"$out" >/dev/null && fail "--check printed the password"
chmod 600 "$NW_TMP/mqtt.pass"
out=$("$NETWAKED" --check -C "$NW_TMP/conf.yaml" 2>&1) || fail "--check after chmod 600: $out"
grep -F "broker: \"mqtts://localhost:$MQ_PORT\"" <<<"$out" >/dev/null || fail "--check does not print the broker: $out"
grep -F -- "$MQ_PASS" <<<"$out" >/dev/null && fail "--check printed the password"
say "0644 password file refused at 11:18; --check prints the section without the password"

OBS=$NW_TMP/obs.txt
# 2. Broker down at start-up: the daemon runs (control socket answers) and keeps retrying.
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 5 log_has 'mqtt: cannot reach localhost:[0-9]+: .*retrying in 1 s' || fail "no retry logged while the broker is down"
wait_for 5 log_has 'retrying in 2 s' || fail "no backoff (2 s) logged"
ctl_ok status
grep -E '^mqtt: mqtts://localhost:[0-9]+ DISCONNECTED as r1 ' <<<"$CTL_OUT" >/dev/null || fail "status does not show the bridge down: $CTL_OUT"
[[ $(status_get "[s['mqtt']['connected'], s['mqtt']['connects']]") == "[false, 0]" ]] ||
    fail "status --json while the broker is down: $(status_get "s['mqtt']")"
mq_start "$NS"
mq_sub "$NS" "$OBS" 'netwaked/r1/#'
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' || fail "not online after the broker came up: $(cat "$OBS")"
wait_for 5 mq_seen "$OBS" '^[01] netwaked/r1/nas/state ' || fail "state not published after connect"
[[ $(status_get "[s['mqtt']['connected'], s['mqtt']['connects']]") == "[true, 1]" ]] ||
    fail "status --json after connect: $(status_get "s['mqtt']")"
say "broker down at start-up: retried with backoff, online once it came up"

# 3. Broker restart (no persistence: retained messages are lost): status and state republished.
off=$(log_size)
kill -TERM "$MOSQ_PID"
wait_for 5 pid_dead "$MOSQ_PID" || fail "mosquitto did not stop"
wait_for 5 log_since "$off" 'mqtt: disconnected from' || fail "disconnection not logged"
mq_start "$NS"
LATE=$NW_TMP/late.txt
wait_for 15 log_since "$off" 'mqtt: connected to' || fail "no reconnect"
mq_sub "$NS" "$LATE" 'netwaked/r1/#'
wait_for 15 mq_seen "$LATE" '^[01] netwaked/r1/nas/state ' || fail "state not republished after the broker restart: $(cat "$LATE")"
wait_for 5 mq_seen "$LATE" '^[01] netwaked/r1/status online$' || fail "status not republished after the broker restart"
log_has "$MQ_PASS" && fail "the MQTT password appears in the daemon log"
stop_daemon
say "broker restart: reconnected, status and state republished"

# 4. A broker whose certificate another CA signed is never trusted.
conf "$MQ_DIR/other-ca.pem"
WRONG=$NW_TMP/wrong.txt
mq_sub "$NS" "$WRONG" 'netwaked/r1/status'
wait_for 5 mq_seen "$WRONG" 'offline' || fail "no offline status before the wrong-CA run: $(cat "$WRONG")"
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 log_has 'mqtt: cannot reach localhost:[0-9]+: A TLS error occurred.*retrying in 2 s' || fail "no TLS failure (with backoff) logged with a wrong CA"
mq_seen "$WRONG" 'online' && fail "connected although the broker's CA is not the configured one"
log_has 'mqtt: connected' && fail "connected with the wrong CA"
say "wrong CA: $(grep -m1 -o 'cannot reach.*' "$DAEMON_LOG")"
stop_daemon

# 5. The right CA but a certificate for another name: refused (hostname checked); with
# tls_insecure: true accepted, with a warning at every connect (the reconnect after a broker
# restart included).
(cd "$MQ_DIR" && openssl req -newkey rsa:2048 -nodes -subj /CN=elsewhere.example -keyout server.key -out other.csr &&
    openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.pem) >>"$NW_TMP/openssl.log" 2>&1 ||
    fail "openssl: $(tail -3 "$NW_TMP/openssl.log")"
kill -TERM "$MOSQ_PID"
wait_for 5 pid_dead "$MOSQ_PID" || fail "mosquitto did not stop"
mq_start "$NS"
conf "$MQ_DIR/ca.pem"
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 log_has 'mqtt: cannot reach localhost:[0-9]+: A TLS error occurred.*retrying in 2 s' || fail "a certificate for another name was not refused"
log_has 'mqtt: connected' && fail "connected to a broker whose certificate names another host"
stop_daemon
conf "$MQ_DIR/ca.pem" true
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
wait_for 10 log_has 'mqtt: connected to' || fail "tls_insecure: true did not connect"
log_has 'mqtt: tls_insecure: connected to localhost without checking' || fail "no tls_insecure warning at connect"
kill -TERM "$MOSQ_PID"
wait_for 5 pid_dead "$MOSQ_PID" || fail "mosquitto did not stop"
mq_start "$NS"
wait_for 15 eval '(($(grep -c "mqtt: connected to" "$DAEMON_LOG") >= 2))' || fail "no reconnect after the broker restart"
(($(grep -c 'mqtt: tls_insecure: connected' "$DAEMON_LOG") == 2)) || fail "tls_insecure warnings: $(grep -c 'tls_insecure' "$DAEMON_LOG") for 2 connects"
say "certificate for another name refused; tls_insecure connects and warns at each of 2 connects"
pass
