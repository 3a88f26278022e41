#!/bin/bash
# tests/netns/47_proxy_wake_cooldown.sh — wol.cooldown holds for sleep-proxy wakes (issue 12
# item 7): a SYN storm with a fresh 5-tuple every ~0.1 s to a sleeping machine that never wakes
# (keep: true, one attempt a cycle) gives at most one wake cycle (one burst, one `wake` hook) per
# cooldown, and traffic during the cooldown still wakes it when the cooldown ends.
# Oracles: the hook log and the magic packets in a tcpdump capture on the proxy's port.
# Lab: see tests/netns/59_proxy_lab.sh; the sleeper is a configured target "nas".
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
COOLDOWN_US=3000000
write_conf "$(cat <<EOF
  - name: nas
    wol: { mac: "$SL_MAC", interface: $PX_IF, repeat: 2, interval: 200ms, cooldown: 3s }
    sleep_proxy: { addresses: [$SL_IP], ports: [2222], probe_interval: 500ms, probe_misses: 3, wake_attempts: 1, wake_interval: 1s, keep: true }
EOF
)"
start_proxy
sleeper_down
wait_for 6 hook_has asleep 1 || fail "not asleep"
wait_for 3 state_is nas "asleep $SL_IP" || fail "not proxying: $(proxy_state nas)"
cap_start main

# --- the storm: 7.5 s of SYNs from new source ports
now_us; t0=$NOW_US
end=$((t0 + 7500000))
sp=44000
while ! past_us "$end"; do
    pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" $((sp++)) 2222 S >/dev/null
done
syns=$((sp - 44000))
# A cycle deferred by the cooldown starts at most COOLDOWN after the previous one, and its burst
# takes 200 ms: by then every burst the storm can cause is on the wire.
now_us; wait_for 5 past_us $((NOW_US + COOLDOWN_US + 500000)) || fail "clock"
wait_for 3 hooks_settled || fail "hooks still running"
capture_stop

n=$(hook_count wake)
magic=$(cap_count main "wol target=$SL_MAC")
say "$syns SYNs over 7.5 s -> $n wake hooks, $magic magic packets"
figure storm_wake_cycles "$n"
# Bursts on the wire (copies 200 ms apart; a new burst: > 0.5 s after the last copy) at least one
# cooldown apart (20 ms for the first copy's send); wake hooks likewise (hook start jitter: 250 ms).
gaps=$(cap_lines main | awk -v w="wol target=$SL_MAC" 'index($0, w) {if (l && $1 - l > 500000) {printf "%d ", $1 - s; s = $1} if (!l) s = $1; l = $1}')
say "gaps between bursts on the wire (us): $gaps"
for g in $gaps; do
    ((g >= COOLDOWN_US - 20000)) || fail "two bursts $(us_to_ms "$g") ms apart (cooldown 3 s); gaps: $gaps"
done
hgaps=$(awk '$2=="begin" && $3=="wake" {if (p) printf "%d ", $1 - p; p = $1}' "$HOOK_LOG")
say "gaps between wake hooks (us): $hgaps"
for g in $hgaps; do
    ((g >= COOLDOWN_US - 250000)) || fail "two wake hooks $(us_to_ms "$g") ms apart (cooldown 3 s); gaps: $hgaps"
done
((n >= 2)) || fail "traffic during the cooldown did not wake the machine when it ended ($n wake hooks)"
((n <= 4)) || fail "$n wake cycles in $(us_to_ms $((end - t0))) ms with cooldown 3 s"
((magic == n * 4)) || fail "expected $n bursts x 2 copies x 2 (unicast + broadcast) = $((n * 4)) magic packets, saw $magic"
log_has "nas: wake deferred by wol.cooldown" || fail "no log line for a deferred wake"
log_has "nas: proxy asleep -> waking \(traffic: after the cooldown: TCP $CL_IP:" || fail "no deferred wake in the log"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
