# bench/mqtt.inc.sh — section mqtt of bench/run.sh (sourced): netwaked with an MQTT bridge to a
# loopback mosquitto in the router namespace. Measures a plain `wake` published -> magic packet
# leaving IF_R, against a publish -> mosquitto_sub receive through the same broker (same run);
# the wake event -> its message at a second mosquitto_sub (from the magic packet's kernel stamp);
# idle wake-ups with MQTT connected (keepalive 10 s) and Pss with and without the mqtt section.
# shellcheck shell=bash
MQ_IDLE_S=${BENCH_MQTT_IDLE_S:-30}

mqtt_section() {
    { command -v mosquitto && command -v mosquitto_sub; } >/dev/null || { say "  mqtt: mosquitto not installed, skipped"; return; }
    local port=$((30000 + RANDOM % 20000)) cfg=$T/mqtt.yaml cfg0=$T/nomqtt.yaml nw nw0 broker sub evsub
    say "  mqtt: broker 127.0.0.1:$port; wake published -> magic packet, $TRIES tries; idle ${MQ_IDLE_S}s"
    printf 'persistence false\nset_tcp_nodelay %s\nlistener %s 127.0.0.1\nallow_anonymous true\n' "${BENCH_MQTT_NODELAY:-true}" "$port" >"$T/mosquitto.conf"
    run_bg "$T/mosquitto.log" "$NS_R" mosquitto -c "$T/mosquitto.conf"
    broker=$BG_PID
    local i
    for ((i = 0; i < 250; i++)); do ip netns exec "$NS_R" ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.02; done
    run_bg "$T/mqsub.out" "$NS_R" stdbuf -oL mosquitto_sub -p "$port" -F '%U %p' -t bench/ref
    sub=$BG_PID
    for ((i = 0; i < 250; i++)); do
        ip netns exec "$NS_R" mosquitto_pub -p "$port" -t bench/ref -m ready 2>/dev/null
        grep -q ' ready$' "$T/mqsub.out" && break
        sleep 0.02
    done
    grep -Eq '^[0-9]+\.[0-9]+ ready$' "$T/mqsub.out" || die "mosquitto_sub -F %U: $(head -2 "$T/mqsub.out")"
    run_bg "$T/mqevt.out" "$NS_R" stdbuf -oL mosquitto_sub -p "$port" -F '%U %p' -t netwaked/bench/nas/event -t bench/evready
    evsub=$BG_PID
    for ((i = 0; i < 250; i++)); do
        ip netns exec "$NS_R" mosquitto_pub -p "$port" -t bench/evready -m ready 2>/dev/null
        grep -q ' ready$' "$T/mqevt.out" && break
        sleep 0.02
    done
    local target="  - name: nas
    match: [ { proto: tcp, dst_port: $P_NW } ]
    wol: { mac: \"02:00:00:00:00:01\", interface: $IF_R, method: [ethernet], repeat: 1, cooldown: 0s }"
    write_config "$cfg0" "$T/nomqtt.sock" "  - { name: s, nflog: { group: $((G_NW + 7)) } }" 1 "$T/hook-log.sh" "$target"
    write_config "$cfg" "$T/mqtt.sock" "  - { name: s, nflog: { group: $G_NW } }" 1 "$T/hook-log.sh" "$target"
    cat >>"$cfg" <<EOF
mqtt:
  broker: mqtt://127.0.0.1:$port
  client_id: bench
  topic: netwaked/bench
  keepalive: 10s
  homeassistant: { discovery: false }
  commands: { allow: [wake], signed: false }
EOF
    start_netwaked "$T/nomqtt.log" "$NS_R" "$NETWAKED" -C "$cfg0"
    nw0=$NW_PID
    start_netwaked "$T/mqtt.log" "$NS_R" "$NETWAKED" -C "$cfg"
    nw=$NW_PID
    wait_log "$T/mqtt.log" 'mqtt: connected' 10 || die "netwaked did not connect to the broker: $(tail -3 "$T/mqtt.log")"
    sleep 2  # let start-up settle
    local mem0 mem1
    mem0=$(mem "$nw0")
    mem1=$(mem "$nw")
    stop_pid "$nw0"
    thread_snap "$nw" >"$T/mqidle.a"
    sleep "$MQ_IDLE_S"
    thread_snap "$nw" >"$T/mqidle.b"
    local idle
    idle=$(awk 'NR == FNR { a[$1] = $3; next }
        { d = $3 - a[$1]; tot += d; per = per sprintf("%s\"%s/%s\":%d", n++ ? "," : "", $2, $1, d) }
        END { printf "\"switches\":%d,\"per_thread\":{%s}", tot, per }' "$T/mqidle.a" "$T/mqidle.b")
    local conns  # 1: the keepalive kept the session through the idle window
    conns=$("$NETWAKECTL" -s "$T/mqtt.sock" status --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["mqtt"]["connects"])')
    local j
    j=$(ip netns exec "$NS_R" "$PYTHON" "$ROOT/bench/mqtt_lat.py" --port "$port" --set-topic netwaked/bench/nas/set \
        --ref-topic bench/ref --sub-file "$T/mqsub.out" --event-file "$T/mqevt.out" --ifname "$IF_R" --tries "$TRIES" --gap-ms "${BENCH_MQTT_GAP_MS:-10}") || die "mqtt latency probe failed"
    emit "{\"kind\":\"mqtt\",\"idle_s\":$MQ_IDLE_S,\"keepalive_s\":10,\"connects\":${conns:-0},$idle,\"mem_mqtt\":{$mem1},\"mem_plain\":{$mem0},\"data\":$j}"
    stop_pid "$nw"
    stop_pid "$sub"
    stop_pid "$evsub"
    stop_pid "$broker"
}
