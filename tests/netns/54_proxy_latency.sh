#!/bin/bash
# tests/netns/54_proxy_latency.sh — measures, with tcpdump timestamps on the proxy's port as the
# oracle: wake latency (client SYN on the wire -> first magic packet on the wire; p50/p99 over
# 12 wakes), and the time from the sleeper's first frame after "boot" (link up) to the client's
# successful TCP connect (3 tries; bounded by the client's SYN retransmission timer).
# Lab: see tests/netns/59_proxy_lab.sh; the sleeper is a configured target (probes every 200 ms).
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
PROBE=200ms ATTEMPTS=1 WAKE_INTERVAL=30s write_conf "$(PROBE=200ms ATTEMPTS=1 WAKE_INTERVAL=30s sleeper_target_yaml)"
start_proxy
background pk "$NS_SL" listen 2222
cap_start main
sleeper_down
N=12
for ((i = 1; i <= N; i++)); do
    wait_for 5 state_is nas asleep || fail "round $i: not asleep: $(proxy_state nas)"
    pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" $((42000 + i)) 2222 S >/dev/null
    wait_for 3 hook_has wake "$i" || fail "round $i: no wake"
    # "the machine is back": one frame from its MAC (the real one is still down)
    pk "$NS_CL" frame "$CL_IF" garp "$SL_MAC" "$SL_IP" >/dev/null
    wait_for 3 hook_has awake "$i" || fail "round $i: not released"
done
sleep 0.3
cap_lines main | awk -v s="$CL_MAC $PX_MAC tcp4" -v w="wol target=$SL_MAC" '
    index($0, s) && /:2222 flags=S$/ { syn = $1; next }
    index($0, w) && syn { print $1 - syn; syn = 0 }' | sort -n >"$NW_TMP/lat.txt"
n=$(wc -l <"$NW_TMP/lat.txt")
((n == N)) || fail "matched $n SYN/magic pairs, expected $N"
p50=$(awk -v n="$n" 'NR == int((n + 1) / 2) {print}' "$NW_TMP/lat.txt")
p99=$(awk -v n="$n" 'NR == int((n * 99 + 99) / 100) {print}' "$NW_TMP/lat.txt")
say "wake latency (us, sorted): $(tr '\n' ' ' <"$NW_TMP/lat.txt")"
figure wake_latency_p50_ms "$(us_to_ms "$p50")"
figure wake_latency_p99_ms "$(us_to_ms "$p99")"

# --- the real sleeper: link up -> first frame -> client connected
: >"$NW_TMP/boot.txt"
for ((j = 1; j <= 3; j++)); do
    a=$(hook_count awake)
    w=$(hook_count wake)
    wait_for 5 state_is nas asleep || fail "boot $j: not asleep"
    pk "$NS_CL" connect "$SL_IP" 2222 30 >"$NW_TMP/connect.$j" &
    cpid=$!
    wait_for 3 hook_has wake $((w + 1)) || fail "boot $j: no wake"
    sleep 0.$((RANDOM % 9 + 1))  # the machine boots
    now_us; t_up=$NOW_US
    sleeper_up
    wait_for 5 hook_has awake $((a + 1)) || fail "boot $j: not released"
    wait "$cpid"
    grep -q connected "$NW_TMP/connect.$j" || fail "boot $j: $(cat "$NW_TMP/connect.$j")"
    sleep 0.2
    first=$(cap_lines main | awk -v m="$SL_MAC" -v t="$t_up" '!f && $1 > t && $2 == m {print $1; f = 1}')
    conn=$(awk '$1=="connected"{print $2}' "$NW_TMP/connect.$j")
    echo $((conn - first)) >>"$NW_TMP/boot.txt"
    sleeper_down
done
say "first frame -> connected (us): $(tr '\n' ' ' <"$NW_TMP/boot.txt")"
figure boot_to_connect_median_ms "$(us_to_ms "$(sort -n "$NW_TMP/boot.txt" | awk 'NR==2')")"
figure boot_to_connect_max_ms "$(us_to_ms "$(sort -n "$NW_TMP/boot.txt" | tail -1)")"
stop_daemon
capture_stop
pass
