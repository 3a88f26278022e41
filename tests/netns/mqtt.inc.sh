# tests/netns/mqtt.inc.sh — helpers for the MQTT scenarios (65_–69_): a throw-away CA and server
# certificate (openssl), a real mosquitto broker with a password file and an ACL inside a test
# namespace, and mosquitto_sub/mosquitto_pub wrappers. Sourced after lib.sh.
# shellcheck shell=bash

if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null; then skip "mosquitto/mosquitto-clients not installed"; fi
MQ_DIR=$NW_TMP/mq
MQ_PORT=$((20000 + RANDOM % 20000))
MQ_PASS=router-secret-$RANDOM$RANDOM   # netwaked's broker password (must never reach its log)
MQ_OBS_PASS=observer-$RANDOM
MOSQ_PID=

# mq_ca: CA + server certificate for "localhost" in $MQ_DIR (ca.pem, server.pem, server.key),
# and an unrelated CA (other-ca.pem) for the wrong-CA check.
mq_ca() {
    mkdir -p "$MQ_DIR"
    (
        cd "$MQ_DIR" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nw-test-ca -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nw-other-ca -keyout other-ca.key -out other-ca.pem
    ) >"$NW_TMP/openssl.log" 2>&1 || fail "openssl: $(tail -3 "$NW_TMP/openssl.log")"
}

# mq_start NS: mosquitto on 127.0.0.1:$MQ_PORT (TLS), users router + observer, ACL for base netwaked/r1.
mq_start() {
    local ns=$1
    [[ -f $MQ_DIR/ca.pem ]] || mq_ca
    : >"$MQ_DIR/passwd"
    mosquitto_passwd -b "$MQ_DIR/passwd" router "$MQ_PASS" >/dev/null 2>&1 || fail "mosquitto_passwd"
    mosquitto_passwd -b "$MQ_DIR/passwd" observer "$MQ_OBS_PASS" >/dev/null 2>&1 || fail "mosquitto_passwd"
    cat >"$MQ_DIR/acl" <<EOF
user router
topic readwrite netwaked/r1/#
topic readwrite homeassistant/#
user observer
topic readwrite #
EOF
    cat >"$MQ_DIR/mosquitto.conf" <<EOF
user root
persistence false
log_dest file $MQ_DIR/broker.log
listener $MQ_PORT 127.0.0.1
cafile $MQ_DIR/ca.pem
certfile $MQ_DIR/server.pem
keyfile $MQ_DIR/server.key
allow_anonymous false
password_file $MQ_DIR/passwd
acl_file $MQ_DIR/acl
EOF
    chmod 600 "$MQ_DIR/passwd" "$MQ_DIR/acl"
    ip netns exec "$ns" mosquitto -c "$MQ_DIR/mosquitto.conf" >"$MQ_DIR/broker.out" 2>&1 &
    MOSQ_PID=$!
    NW_BGPIDS+=("$MOSQ_PID")
    wait_for 5 mq_listening "$ns" || fail "mosquitto did not listen on $MQ_PORT: $(cat "$MQ_DIR/broker.out" "$MQ_DIR/broker.log" 2>/dev/null | tail -5)"
}
mq_listening() { ip netns exec "$1" ss -ltn "sport = :$MQ_PORT" | grep LISTEN >/dev/null; }

# mq_sub NS FILE TOPIC...: background observer writing "<retain> <topic> <payload>" lines to FILE;
# returns once it is subscribed (it has received a marker message published after its start).
mq_sub() {
    local ns=$1 file=$2 mark=nwtest/ready/$RANDOM
    shift 2
    local t args=(-t "$mark")
    for t in "$@"; do args+=(-t "$t"); done
    : >"$file"
    ip netns exec "$ns" stdbuf -oL mosquitto_sub -h localhost -p "$MQ_PORT" --cafile "$MQ_DIR/ca.pem" \
        -u observer -P "$MQ_OBS_PASS" -F '%r %t %p' "${args[@]}" >"$file" 2>&1 &
    NW_BGPIDS+=("$!")
    wait_for 5 _mq_ping "$ns" "$mark" "$file" || fail "mosquitto_sub did not subscribe: $(cat "$file")"
}
_mq_ping() { mq_pub "$1" "$2" ready; mq_seen "$3" "^0 $2 ready\$"; }
# mq_pub NS TOPIC PAYLOAD [extra mosquitto_pub args]: one QoS 1 message as the observer.
mq_pub() {
    local ns=$1 topic=$2 payload=$3
    shift 3
    ip netns exec "$ns" mosquitto_pub -h localhost -p "$MQ_PORT" --cafile "$MQ_DIR/ca.pem" -u observer \
        -P "$MQ_OBS_PASS" -q 1 -t "$topic" -m "$payload" "$@" || fail "mosquitto_pub $topic"
}
# mq_seen FILE REGEX [N]: at least N (default 1) lines of FILE match REGEX.
mq_seen() { [[ $(grep -Ec -- "$2" "$1") -ge ${3:-1} ]]; }
# mq_signed KEYFILE BASE TARGET ACTION [TS] [NONCE]: a signed command payload (SPEC §16) made
# with Python's hmac module (independent of netwaked's code).
mq_signed() {
    "$PYTHON" - "$@" <<'EOF'
import base64, hashlib, hmac, json, os, sys, time
key = base64.b64decode(open(sys.argv[1]).read().strip())
base, target, action = sys.argv[2:5]
ts = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else int(time.time())
nonce = sys.argv[6] if len(sys.argv) > 6 else os.urandom(16).hex()
msg = "netwaked-cmd-1\n%s\n%s\n%s\n%d\n%s" % (base, target, action, ts, nonce)
mac = hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()
print(json.dumps({"action": action, "ts": ts, "nonce": nonce, "hmac": mac}))
EOF
}
