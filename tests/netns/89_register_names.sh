#!/bin/bash
# tests/netns/89_register_names.sh — registration names reach root-run hooks (argv[2] and
# NETWAKED_TARGET), so only the target-name charset is accepted (issue 12 item 11): hostile names
# are refused with a message naming the field, a registration without a name is named after its
# MAC ("02-77-00-00-00-20", the name hooks then get), and a state file written before this rule
# cannot bring a hostile name back (it is renamed after the MAC at start-up).
# Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
proxy_lab
write_conf
start_proxy
NAME_MSG='name: expected 1-64 characters from A-Z a-z 0-9 _ . -, not starting with - or . (it names a target)'
DEFAULT_NAME=${SL_MAC//:/-}

for bad in '$(reboot)' '../../x' '--help' '..' 'a b' '`id`'; do
    r=$(reg_send "$NS_SL" "$(wakupator_payload "$SL_MAC" "$bad")")
    [[ $r == *"$NAME_MSG"* ]] || fail "name '$bad': answer $r"
    say "name '$bad' refused"
done
[[ -z $(proxy_state "$DEFAULT_NAME") ]] || fail "a refused registration was kept"

# No name: the MAC with dashes, which hooks get as argv[2] and NETWAKED_TARGET.
payload=$(printf '{"mac": "%s", "monitor": [{"ip": "%s", "port": [2222]}]}' "$SL_MAC" "$SL_IP")
r=$(reg_send "$NS_SL" "$payload")
[[ $r == "b'OK.\\x00'" ]] || fail "registration without a name: $r"
wait_for 3 state_is "$DEFAULT_NAME" up || fail "no registration named $DEFAULT_NAME: $(status_json)"
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep hook"
[[ $(hook_argv_t asleep "$DEFAULT_NAME" 1) == "$NW_TMP/hook asleep $DEFAULT_NAME" ]] || fail "asleep hook argv: $(hook_argv_t asleep "$DEFAULT_NAME" 1)"
expect_env_t asleep "$DEFAULT_NAME" 1 NETWAKED_TARGET "$DEFAULT_NAME"
say "unnamed registration: hooks get $DEFAULT_NAME"

# A state file from an older netwaked holding a hostile name: renamed after the MAC.
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
"$PYTHON" - "$NW_TMP/state/state.json" <<'EOF' || fail "cannot edit the state file"
import json, sys
p = sys.argv[1]
s = json.load(open(p))
assert s["registrations"], s
s["registrations"][0]["name"] = "$(reboot)"
json.dump(s, open(p, "w"))
EOF
start_proxy
wait_for 3 log_has "registration \"\\\$\\(reboot\\)\" renamed $DEFAULT_NAME" || fail "hostile name in the state file not renamed"
has_reg() { [[ -n $(proxy_state "$1") ]]; }
wait_for 3 has_reg "$DEFAULT_NAME" || fail "the restored registration is not $DEFAULT_NAME: $(status_json)"
status_json | grep -F 'reboot' >/dev/null && fail "the hostile name is in status: $(status_json)"
say "state file: \$(reboot) restored as $DEFAULT_NAME"
sleeper_up
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
