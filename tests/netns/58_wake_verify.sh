#!/bin/bash
# tests/netns/58_wake_verify.sh — wake verification (SPEC §7.1): a silent machine gets one burst per
# timeout (counted in a capture), then wake_failed; a machine that answers the ARP probe part-way is
# awake (NETWAKED_WAKE_SECONDS) and gets no further bursts; afterwards no probes while idle.
#
#   router netns: netwaked -C conf.yaml         nas netns: $NAS_MAC, no address at first
#   ${NW_ID}l 10.202.0.1/24  <------ veth ------>  ${NW_ID}n   (tcpdump here; the address
#   targets: silent (MAC 02:..:5a, 10.202.0.30)                 10.202.0.20 appears part-way)
#            nas    (MAC $NAS_MAC, 10.202.0.20)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nas_lab.inc.sh"
require_root
NAS_MAC=d8:cb:8a:39:be:b1
SILENT_MAC=02:00:00:00:00:5a
nas_lab "$NAS_MAC"
G=$(nflog_group)
make_hook "$NW_TMP/hook"
CTL_SOCK=$NW_TMP/ctl.sock
conf_head "" >"$NW_TMP/conf.yaml"
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
      verify: { timeout: 1s, attempts: 3, grace: 1s }
  - name: nas
    match: [ { prefix: nas } ]
    wol:
      mac: $NAS_MAC
      interface: $LAN_IF
      ethernet_to: unicast
      repeat: 1
      verify: { address: 10.202.0.20, timeout: 3s, attempts: 3 }
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
CAP=$NW_TMP/lan.pcap
capture_start "$NS_NAS" "$NAS_IF" "ether proto 0x0842 or arp" "$CAP"
magic_to() { capture_read "$CAP" -nn -e | grep -c "> $1, ethertype Unknown (0x0842)\|> $1, ethertype 0x0842"; }
probes_for() { capture_read "$CAP" -nn | grep -c "Request who-has $1 tell 10.202.0.1"; }
# probes_after ADDR US: probes for ADDR captured later than US (epoch microseconds)
probes_after() {
    capture_read "$CAP" -nn -tt | awk -v a="who-has $1 tell" -v t="$2" 'index($0, a) {split($1, p, "."); if (p[1] p[2] > t) n++} END{print n+0}'
}

# --- silent: 3 bursts 1 s apart, probes meanwhile, then wake_failed
ctl_ok wake silent
wait_for 6 hook_has_t wake_failed silent 1 || fail "no wake_failed for silent: hooks $(hook_seq), log: $(grep silent "$DAEMON_LOG" | tail -5)"
silent3() { [[ $(magic_to "$SILENT_MAC") -ge 3 ]]; }  # tcpdump writes in blocks: wait for them
wait_for 3 silent3 || fail "silent: $(magic_to "$SILENT_MAC") magic frames on the LAN, expected 3 (attempts: 3)"
[[ $(probes_for 10.202.0.30) -ge 3 ]] || fail "silent: $(probes_for 10.202.0.30) ARP probes for 10.202.0.30"
for i in 1 2 3; do expect_env_t wake silent "$i" NETWAKED_ATTEMPT "$i"; done
expect_env_t wake_failed silent 1 NETWAKED_ATTEMPT 3
expect_env_t wake_failed silent 1 NETWAKED_MAC "$SILENT_MAC"
[[ $(status_get 't("silent")["wake"]["state"]') == wake_failed ]] || fail "status: $(status_get 't("silent")["wake"]')"
ctl_ok status
grep -q "wake_failed (3 attempts)" <<<"$CTL_OUT" || fail "status text: $CTL_OUT"
say "silent: 3 bursts, $(probes_for 10.202.0.30) probes, then wake_failed"

# --- nas: comes up after its first burst (answers the probe) -> awake, no second burst
ctl_ok wake nas
wait_for 2 hook_has_t wake nas 1 || fail "no wake for nas"
wait_for 2 bash -c "[[ \$(tcpdump -r '$CAP' -nn 2>/dev/null | grep -c 'who-has 10.202.0.20') -ge 1 ]]" || fail "no probe for nas"
now_us; T_UP=$NOW_US
ip -n "$NS_NAS" addr add 10.202.0.20/24 dev "$NAS_IF" || fail "nas address"
wait_for 3 hook_has_t awake nas 1 || fail "nas not awake: hooks $(hook_seq); log: $(grep nas "$DAEMON_LOG" | tail -5)"
secs=$(hook_env_t awake nas 1 NETWAKED_WAKE_SECONDS)
[[ $secs =~ ^[0-9]+\.[0-9]{3}$ ]] || fail "NETWAKED_WAKE_SECONDS '$secs'"
expect_env_t awake nas 1 NETWAKED_ATTEMPT 1
figure time_to_awake_s "$secs"
[[ $(status_get 't("nas")["wake"]["state"]') == awake ]] || fail "status: $(status_get 't("nas")["wake"]')"
# past the 3 s timeout of the first burst: still one magic frame, and no probes any more
T_AWAKE=$(hook_time_t awake nas 1)
figure address_up_to_awake_hook_ms $(((T_AWAKE - T_UP) / 1000))
wait_for 5 past_us $((T_UP + 3500000))
[[ $(magic_to "$SILENT_MAC") -eq 3 ]] || fail "silent: $(magic_to "$SILENT_MAC") magic frames, expected 3"
[[ $(magic_to "$NAS_MAC") -eq 1 ]] || fail "nas: $(magic_to "$NAS_MAC") magic frames, expected 1 (awake after the first)"
[[ $(probes_after 10.202.0.20 "$T_AWAKE") -eq 0 ]] || fail "$(probes_after 10.202.0.20 "$T_AWAKE") probes for nas after awake"
# idle: the whole nas cycle above (a positive marker) ran after silent failed: not one probe for silent
[[ $(probes_after 10.202.0.30 "$(hook_time_t wake_failed silent 1)") -eq 0 ]] ||
    fail "probes for silent after wake_failed: $(probes_after 10.202.0.30 "$(hook_time_t wake_failed silent 1)")"
[[ $(hook_count_t wake nas) -eq 1 ]] || fail "nas: $(hook_count_t wake nas) wake events"
grep -q "waking -> awake after" "$DAEMON_LOG" || fail "no awake log line"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS"
pass
