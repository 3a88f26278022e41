#!/bin/bash
# tests/netns/27_state_min_active.sh — the state file's ttl_deadline_wall_ms honours min_active
# (issue 18: it was last_seen + ttl, ignoring min_active): a target with ttl 2s and min_active 1h,
# started by netwakectl, is saved with its stop due about an hour after its start, as status says.
#
#   router netns ($NW_ID-rtr): netwaked -C conf.yaml (state_dir $NW_TMP/state, NFLOG group G,
#   no traffic at all); netwakectl on the control socket
. "$(dirname "$0")/lib.sh"
require_root
NS=$NW_ID-rtr
netns_add "$NS"
G=$(nflog_group)
CTL_SOCK=$NW_TMP/ctl.sock
mkdir -p "$NW_TMP/state"
cat >"$NW_TMP/conf.yaml" <<EOF
daemon: { state_dir: $NW_TMP/state, control_socket: $CTL_SOCK }
sensors:
  - nflog: { group: $G }
targets:
  - name: db
    match: [ { dst_port: 8501 } ]
    ttl: 2s
    min_active: 1h
EOF
start_conf_daemon "$NS" "$NW_TMP/conf.yaml" "$G"
ctl_ok start db
# deadline_gap: ttl_deadline_wall_ms - active_since_wall_ms of db in the state file ("" if not saved active)
deadline_gap() {
    "$PYTHON" -c '
import json, sys
for t in json.load(open(sys.argv[1])).get("targets", []):
    if t.get("name") == "db" and t.get("active"):
        print(t["ttl_deadline_wall_ms"] - t["active_since_wall_ms"])' "$NW_TMP/state/state.json" 2>/dev/null
}
saved_active() { [[ -n $(deadline_gap) ]]; }
wait_for 5 saved_active || fail "db not saved as active: $(cat "$NW_TMP/state/state.json" 2>&1)"
gap=$(deadline_gap)
say "saved: stop due $gap ms after the start (ttl 2s, min_active 1h)"
((gap >= 3600000 - 1000 && gap <= 3600000 + 1000)) || fail "ttl_deadline_wall_ms is $gap ms after the start, not 1 h"
rem=$(status_get "t('db')['remaining_s']") || fail "status"
"$PYTHON" -c 'import sys; sys.exit(not 3590 <= float(sys.argv[1]) <= 3600)' "$rem" || fail "status remaining_s $rem"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
