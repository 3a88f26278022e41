# tests/demo_mqtt.inc.sh — part 4 of `sudo make demo` (sourced by tests/demo.sh): remote wake
# through a real mosquitto broker (SPEC §16), from a "phone" that has no route to the router.
# shellcheck shell=bash
#
#   phone netns (nwdemoPID-phone)           cloud netns (nwdemoPID-cloud)           router netns (part 2)
#   nwdPIDp 10.80.1.2  <----- veth ----->   nwdPIDq 10.80.1.1  mosquitto :8883      nwdPIDt 10.80.2.2
#   no default route: the router            nwdPIDu 10.80.2.1  (TLS, passwords, ACL)  <- veth ->
#   is unreachable from here                                                        netwaked connects OUT
#   netwakectl remote wake nas (signed)                                             to mqtts://10.80.2.1,
#   mosquitto_sub netwaked/home/# (shown)                                           wakes the NAS (part 2's LAN)
NS_PHONE=$ID-phone NS_CLOUD=$ID-cloud
IF_PHONE=nwd$$p IF_CLOUD_P=nwd$$q IF_RTR_UP=nwd$$t IF_CLOUD_R=nwd$$u
PHONE_ADDR=10.80.1.2 CLOUD_PHONE_ADDR=10.80.1.1 RTR_UP_ADDR=10.80.2.2 CLOUD_RTR_ADDR=10.80.2.1
MQ_BASE=netwaked/home
MQ=$LAB/mq
MQ_ROUTER_PASS=router-$RANDOM$RANDOM$RANDOM
MQ_PHONE_PASS=phone-$RANDOM$RANDOM$RANDOM
MQ_SEEN=$LAB/mqtt-seen

mq_veth() {  # mq_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || die "veth $2"
    ip -n "$1" addr add "$3/24" dev "$2"
    ip -n "$4" addr add "$6/24" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}

mq_lab_up() {
    step "Lab 4: a broker \"in the cloud\" and a phone that can reach only the broker (remote wake from behind CGNAT)"
    { command -v mosquitto && command -v mosquitto_sub; } >/dev/null ||
        die "mosquitto and mosquitto-clients are not installed (sudo make demo installs them)"
    command -v openssl >/dev/null || die "openssl is not installed"
    local ns
    for ns in "$NS_PHONE" "$NS_CLOUD"; do
        ip netns add "$ns" || die "ip netns add $ns"
        NAMESPACES+=("$ns")
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    done
    mq_veth "$NS_PHONE" "$IF_PHONE" "$PHONE_ADDR" "$NS_CLOUD" "$IF_CLOUD_P" "$CLOUD_PHONE_ADDR"
    mq_veth "$NS_RTR" "$IF_RTR_UP" "$RTR_UP_ADDR" "$NS_CLOUD" "$IF_CLOUD_R" "$CLOUD_RTR_ADDR"
    note "phone $PHONE_ADDR  <-->  broker $CLOUD_PHONE_ADDR | $CLOUD_RTR_ADDR  <-->  $RTR_UP_ADDR router  ($LAN_ADDR: the NAS's LAN)"
    ip netns exec "$NS_PHONE" ping -c1 -W1 "$RTR_UP_ADDR" >/dev/null 2>&1 && die "the phone can reach the router directly"
    ip netns exec "$NS_PHONE" ping -c1 -W1 "$LAN_ADDR" >/dev/null 2>&1 && die "the phone can reach the NAS's LAN"
    note "phone -> router $RTR_UP_ADDR: $(ip netns exec "$NS_PHONE" ping -c1 -W1 "$RTR_UP_ADDR" 2>&1 | grep -m1 -o 'Network is unreachable\|100% packet loss')"

    step "Broker: mosquitto with TLS (a throw-away CA made by openssl), a password file and an ACL"
    mkdir -p "$MQ" && chmod 700 "$MQ"
    (
        cd "$MQ" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
            -subj /CN=netwaked-demo-ca -keyout ca.key -out ca.pem
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=broker \
            -keyout server.key -out server.csr
        printf 'subjectAltName=IP:%s,IP:%s\n' "$CLOUD_PHONE_ADDR" "$CLOUD_RTR_ADDR" >ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
            -extfile ext.cnf -out server.pem
        : >passwd && chmod 600 passwd
        mosquitto_passwd -b passwd router "$MQ_ROUTER_PASS" && mosquitto_passwd -b passwd phone "$MQ_PHONE_PASS"
    ) >"$LAB/openssl.log" 2>&1 || die "certificates/passwords: $(tail -3 "$LAB/openssl.log")"
    cat >"$MQ/acl" <<EOF
user router
topic readwrite $MQ_BASE/#
user phone
topic read $MQ_BASE/#
topic write $MQ_BASE/+/set
EOF
    cat >"$MQ/mosquitto.conf" <<EOF
user root
persistence false
log_dest file $MQ/broker.log
listener 8883
cafile $MQ/ca.pem
certfile $MQ/server.pem
keyfile $MQ/server.key
allow_anonymous false
password_file $MQ/passwd
acl_file $MQ/acl
EOF
    chmod 600 "$MQ/acl"
    ip netns exec "$NS_CLOUD" mosquitto -c "$MQ/mosquitto.conf" >"$MQ/broker.out" 2>&1 </dev/null &
    wait_for 5 mq_listening || die "mosquitto did not start: $(tail -3 "$MQ/broker.out" "$MQ/broker.log" 2>/dev/null)"
    sed -n '/^user router/,$p' "$MQ/acl" | sed "s/^/    ${DIM}acl: /; s/\$/${OFF}/"
    note "mosquitto listens on :8883 (TLS) in $NS_CLOUD; anonymous clients refused"
}
mq_listening() { ip netns exec "$NS_CLOUD" ss -ltn 'sport = :8883' | grep -q LISTEN; }

mq_daemon_up() {
    step "Router: netwaked -C remote.yaml   (the NAS of part 2, and an mqtt section: it connects out to the broker)"
    printf '%s\n' "$MQ_ROUTER_PASS" >"$MQ/router.pass"
    printf '%s\n' "$MQ_PHONE_PASS" >"$MQ/phone.pass"
    chmod 600 "$MQ/router.pass" "$MQ/phone.pass"
    "$NETWAKECTL" keygen "$MQ/cmd.key" >/dev/null || die "netwakectl keygen"
    cat >"$LAB/remote.yaml" <<EOF
# remote.yaml — written by tests/demo.sh
daemon:
  state_dir: $LAB/mq-state
  control_socket: $LAB/mq.sock
sensors:
  - name: fw
    nflog: { group: $NAS_GROUP, copy_range: 256 }
defaults:
  hook: $LAB/demo-hook
targets:
  - name: nas
    match: [ { prefix: nas } ]
    ttl: ${NAS_TTL}s
    wol: { mac: $NAS_MAC, interface: $IF_LAN, method: [ethernet, udp], udp_to: 10.78.0.255:9, repeat: 2, interval: 300ms, cooldown: 1s }
mqtt:
  broker: mqtts://$CLOUD_RTR_ADDR:8883
  client_id: home-router
  username: router
  password_file: $MQ/router.pass
  ca_file: $MQ/ca.pem
  topic: $MQ_BASE
  homeassistant: { discovery: false }
  commands: { allow: [wake], signed: true, key_file: $MQ/cmd.key }
EOF
    mkdir -p "$LAB/mq-state"
    sed -n '/^mqtt:/,$p' "$LAB/remote.yaml" | sed "s/^/    ${DIM}/; s/\$/${OFF}/"
    "$NETWAKED" --check -C "$LAB/remote.yaml" >/dev/null || die "netwaked --check refused remote.yaml"
    step "Phone: mosquitto_sub -t '$MQ_BASE/#' shows what the router publishes, as it arrives"
    ip netns exec "$NS_PHONE" stdbuf -oL mosquitto_sub -h "$CLOUD_PHONE_ADDR" -p 8883 --cafile "$MQ/ca.pem" \
        -u phone -P "$MQ_PHONE_PASS" -v -t "$MQ_BASE/#" </dev/null 2>&1 |
        tee "$MQ_SEEN" | sed -u "s/^/    ${CYAN}mqtt | /; s/\$/${OFF}/" &
    : >"$LAB/netwaked.log"
    launch_daemon "$NS_RTR" mq_ready "netwaked did not connect to the broker" -C "$LAB/remote.yaml"
    wait_for 5 grep -q "^$MQ_BASE/status online" "$MQ_SEEN" || die "no retained 'online' at the phone"
    wait_for 5 grep -q "^$MQ_BASE/nas/state " "$MQ_SEEN" || die "no retained state of nas at the phone"
    note "netwaked (pid $DAEMON_PID) is connected; the phone sees its retained status and the NAS's state"
}
mq_ready() { alive && grep -q 'mqtt: connected' "$LAB/netwaked.log"; }

mq_remote_wake() {
    step "Phone: netwakectl remote wake nas --key-file cmd.key   (one HMAC-signed command, through the broker)"
    capture_magic remote
    local t=${EPOCHREALTIME/./} rc=0 n0
    n0=$(events_count_t wake nas)  # part 2 woke it already
    ip netns exec "$NS_PHONE" "$NETWAKECTL" remote wake nas --broker "mqtts://$CLOUD_PHONE_ADDR:8883" \
        --topic "$MQ_BASE" --username phone --password-file "$MQ/phone.pass" --ca-file "$MQ/ca.pem" \
        --key-file "$MQ/cmd.key" --wait 10s >"$LAB/remote.out" 2>&1 || rc=$?
    sed "s/^/    netwakectl remote | /" "$LAB/remote.out"
    [[ $rc -eq 0 ]] || die "netwakectl remote exited with status $rc"
    expect_t wake nas $((n0 + 1)) 3 "$t"
    show_magic 6
    wait_for 3 grep -q "^$MQ_BASE/nas/result .*\"result\":\"ok\"" "$MQ_SEEN" || die "the phone's observer saw no ok result"
    wait_for 3 grep -q "^$MQ_BASE/nas/event .*\"event\":\"wake\"" "$MQ_SEEN" || die "the phone's observer saw no wake event"
    step "Phone replays the same signed message (an attacker with broker access could): refused"
    local cmd
    cmd=$(grep -m1 "^$MQ_BASE/nas/set " "$MQ_SEEN" | cut -d' ' -f2-)
    [[ -n $cmd ]] || die "the signed command was not seen at the observer"
    ip netns exec "$NS_PHONE" mosquitto_pub -h "$CLOUD_PHONE_ADDR" -p 8883 --cafile "$MQ/ca.pem" -u phone \
        -P "$MQ_PHONE_PASS" -q 1 -t "$MQ_BASE/nas/set" -m "$cmd" || die "mosquitto_pub"
    wait_for 3 grep -q "^$MQ_BASE/nas/result .*\"result\":\"refused\"" "$MQ_SEEN" || die "the replay was not refused"
    note "-> $(grep -m1 "^$MQ_BASE/nas/result .*refused" "$MQ_SEEN")"
    [[ $(events_count_t wake nas) -eq $((n0 + 1)) ]] || die "the replay woke the NAS"
    grep -qF "$MQ_ROUTER_PASS" "$LAB/netwaked.log" && die "the broker password reached netwaked's log"
}

STEPS+=(mq_lab_up mq_daemon_up mq_remote_wake daemon_down)
