#!/bin/bash
# tests/netns/96_spa_replay_crash.sh — an SPA nonce is durable before the knock is acted on
# (issue 12 item 6): with fsync slowed to 400 ms (slow flash, strace fault injection), the knock
# hook finds the nonce already in the replay cache and SIGKILLs the daemon; after a restart the
# same datagram is refused as a replay.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#   python3: one SPA datagram, sent twice      nft: udp dport 62201 -> log group G prefix "spa", drop
#                                              strace (fsync/fdatasync +400 ms) netwaked -C conf.yaml:
#                                              target ssh, knock ssh-spa, state_dir $NW_TMP/state
. "$(dirname "$0")/lib.sh"
require_root nft strace
lab_two
G=$(nflog_group)
PORT=62201
ip netns exec "$NS_RTR" nft -f - <<EOF || fail "nft rules"
table inet nwtest {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport $PORT log group $G prefix "spa" drop
    }
}
EOF
KEY=$NW_TMP/spa.key
"$NW_CTL" keygen "$KEY" >/dev/null 2>&1 || fail "netwakectl keygen"
STATE=$NW_TMP/state
# The knock hook (first run only): is the nonce in the replay cache files yet? Then SIGKILL the
# daemon (its parent) at once, as a crash right after the hook started.
make_hook "$NW_TMP/hook" "
if [[ \$1 == knock && ! -e \$D/killed ]]; then
    touch \$D/killed
    if cat $STATE/replay.json $STATE/replay.log 2>/dev/null | grep -q \"\$(cat \$D/nonce)\"; then
        echo present >\$D/durable
    else
        echo absent >\$D/durable
    fi
    kill -KILL \$PPID
fi"
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 96_spa_replay_crash
daemon:
  state_dir: $STATE
  control_socket: $CTL_SOCK
  pidfile: ""
sensors:
  - name: knocks
    nflog: { group: $G, copy_range: 256 }
targets:
  - { name: ssh, keepalive: [], ttl: 30s, hook: $NW_TMP/hook }
knock:
  - name: ssh-spa
    target: ssh
    spa: { port: $PORT, key_file: $KEY, window: 60s }
EOF
# The daemon's main (core) thread under strace: every fsync/fdatasync waits 400 ms first.
cat >"$NW_TMP/slowsync" <<EOF
#!/bin/bash
# 96_spa_replay_crash: netwaked with fsync and fdatasync delayed by 400 ms (slow flash)
exec strace -qq -o /dev/null -e trace=fsync,fdatasync -e inject=fsync,fdatasync:delay_enter=400000 -- "$NETWAKED" "\$@"
EOF
chmod 755 "$NW_TMP/slowsync"
NETWAKED=$NW_TMP/slowsync start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
DG=$(spa_hex "$KEY" ssh) || fail "spa_hex"
echo "${DG:18:32}" >"$NW_TMP/nonce"
say "nonce ${DG:18:32}"
udp_send_hex "$NS_CLI" "$RTR_ADDR" "$PORT" "$DG" || fail "send failed"
wait_for 5 test -s "$NW_TMP/durable" || fail "the knock hook did not run"
wait_for 5 pid_dead "$DAEMON_PID" || fail "the hook did not kill the daemon"
wait "$DAEMON_PID" 2>/dev/null
say "when the knock hook began, the nonce was $(cat "$NW_TMP/durable") in the replay cache; daemon killed"

start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
off=$(log_size)
udp_send_hex "$NS_CLI" "$RTR_ADDR" "$PORT" "$DG" || fail "send failed"
# Positive marker either way: a rejection line, or a second knock hook run.
replayed() { log_since "$off" "knock rejected from $CLI_ADDR: .*replayed datagram"; }
decided() { replayed || hook_has knock 2; }
wait_for 5 decided || fail "the restarted daemon neither rejected nor accepted the datagram"
hook_has knock 2 && fail "the datagram was accepted again after the crash: $(hook_seq) (nonce $(cat "$NW_TMP/durable") when the first knock hook began)"
[[ $(cat "$NW_TMP/durable") == present ]] || fail "the knock was acted on before its nonce was on disk"
replayed || fail "no 'replayed datagram' rejection"
say "$(tail -c +"$((off + 1))" "$DAEMON_LOG" | grep -m1 'knock rejected')"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
