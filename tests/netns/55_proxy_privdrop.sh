#!/bin/bash
# tests/netns/55_proxy_privdrop.sh — the sleep proxy after dropping to an unprivileged user
# (daemon.user: nobody, keeping only CAP_NET_RAW/CAP_NET_ADMIN as the packaged unit does): the
# nft table is still created on takeover and removed at exit (nft gets CAP_NET_ADMIN through the
# ambient set for its own spawn only), while hooks run without any capability.
# Lab: see tests/netns/59_proxy_lab.sh.
. "$(dirname "$0")/59_proxy_lab.sh"
id nobody >/dev/null 2>&1 || skip "no user nobody"
proxy_lab
write_conf
sed -i 's|^daemon:|daemon:\n  user: nobody|' "$CONF"
make_hook "$NW_TMP/hook" 'grep -E "^Cap(Eff|Prm|Amb|Inh):" /proc/$$/status >"$D/caps.$$"'
chmod 777 "$NW_TMP"
chmod 666 "$HOOK_LOG"
start_proxy
wait_for 3 log_has "privileges: uid=65534" || fail "did not switch to nobody"
[[ $(reg_send "$NS_SL" "$(wakupator_payload)") == "b'OK.\\x00'" ]] || fail "registration"
sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep"
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft table not created as nobody: $(grep -i nft "$DAEMON_LOG")"
p=$(hook_pid asleep 1)
wait_for 2 test -s "$NW_TMP/caps.$p" || fail "hook recorded no capabilities"
if grep -vq ':[[:space:]]*0000000000000000$' "$NW_TMP/caps.$p"; then
    fail "the hook has capabilities: $(tr '\n' ' ' <"$NW_TMP/caps.$p")"
fi
say "as nobody: nft table created; hook capabilities: $(tr '\n' ' ' <"$NW_TMP/caps.$p")"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
nft_table && fail "nft table left behind by an unprivileged daemon"
pass
