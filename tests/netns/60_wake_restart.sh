#!/bin/bash
# tests/netns/60_wake_restart.sh — a restart while a target is waking resumes its verification
# (SPEC §7.1): the state file holds the cycle; the new daemon sends the next attempt (2, not 1)
# and ends the same cycle with wake_failed after attempt 3.
#
#   router netns: netwaked -C conf.yaml (state_dir)      nas netns: no address, never answers
#   ${NW_ID}l 10.202.0.1/24  <-------- veth -------->    ${NW_ID}n (tcpdump here)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root
SILENT_MAC=02:00:00:00:00:5b
nas_lab
G=$(nflog_group)
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
mkdir -p "$NW_TMP/state"
conf_head "$NW_TMP/state" >"$NW_TMP/conf.yaml"
cat >>"$NW_TMP/conf.yaml" <<EOF
defaults:
  hook: $NW_TMP/hook
targets:
  - name: silent
    match: [ { dst: 10.202.0.30 } ]
    wol:
      mac: "$SILENT_MAC"
      interface: $LAN_IF
      ethernet_to: unicast
      repeat: 1
      verify: { timeout: 2s, attempts: 3 }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842" "$CAP"
ctl_ok wake silent
wait_for 2 hook_has_t wake silent 1 || fail "no wake"
[[ $(status_get 't("silent")["wake"]["state"]') == waking ]] || fail "status: $(status_get 't("silent")["wake"]')"
stop_daemon
grep -rqE '"wake_state": *"waking"' "$NW_TMP/state" || fail "state file without the wake cycle: $(cat "$NW_TMP"/state/* 2>&1 | head -c 600)"
say "restart while waking"
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
wait_for 2 log_has "silent: resuming wake verification \(attempt 1" || fail "no resume line: $(tail -5 "$DAEMON_LOG")"
[[ $(status_get 't("silent")["wake"]["state"]') == waking ]] || fail "status after restart: $(status_get 't("silent")["wake"]')"
wait_for 4 hook_has_t wake silent 2 || fail "no second attempt after the restart: hooks $(hook_seq)"
expect_env_t wake silent 2 NETWAKED_ATTEMPT 2
wait_for 4 hook_has_t wake_failed silent 1 || fail "no wake_failed: hooks $(hook_seq)"
expect_env_t wake_failed silent 1 NETWAKED_ATTEMPT 3
ncap() { [[ $(pcap_packets "$CAP") -ge $1 ]]; }
wait_for 3 ncap 3 || fail "$(pcap_packets "$CAP") magic frames across the restart, expected 3"
capture_stop
n=$(pcap_packets "$CAP")
[[ $n -eq 3 ]] || fail "$n magic frames across the restart, expected 3 (one per attempt)"
stop_daemon
pass
