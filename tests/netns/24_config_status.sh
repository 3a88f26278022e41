#!/bin/bash
# tests/netns/24_config_status.sh — the control socket: `status --json` is valid JSON that follows the
# targets; `netwakectl start/stop` run hooks with NETWAKED_REASON=control; unknown targets exit 1.
#
#   client netns ($NW_ID-cli)                 router netns ($NW_ID-rtr)
#   ${NW_ID}c 10.201.0.2/24  <---- veth ---->  ${NW_ID}r 10.201.0.1/24
#                                              iptables INPUT udp dport 8001 -> NFLOG G prefix "web"
#                                                             udp dport 8002 -> NFLOG G prefix "bad"
#                                              netwaked -C conf.yaml: web (ttl 2s), bad (hook exits 7),
#                                                                     svc (ttl 30s, started by hand)
. "$(dirname "$0")/lib.sh"
require_root iptables
lab_two
G=$(nflog_group)
for p in web:8001 bad:8002; do
    ip netns exec "$NS_RTR" iptables -A INPUT -p udp --dport "${p#*:}" -j NFLOG --nflog-group "$G" \
        --nflog-prefix "${p%:*}" || fail "iptables rule"
done
make_hook "$NW_TMP/hook"
make_hook "$NW_TMP/hook7" 'exit 7'
CTL_SOCK=$NW_TMP/ctl.sock
cat >"$NW_TMP/conf.yaml" <<EOF
# 24_config_status
daemon:
  state_dir: $NW_TMP/state
  control_socket: $CTL_SOCK
sensors:
  - name: fw
    nflog: { group: $G }
defaults:
  hook: $NW_TMP/hook
targets:
  - name: web
    match: [ { prefix: web } ]
    ttl: 2s
  - name: bad
    match: [ { prefix: bad } ]
    ttl: 1s
    hook: $NW_TMP/hook7
  - name: svc
    match: [ { prefix: never-logged } ]
    ttl: 30s
EOF
start_conf_daemon "$NS_RTR" "$NW_TMP/conf.yaml" "$G"
sg() { status_get "$1" || fail "status --json failed or lacks $1: rc $CTL_RC, $CTL_OUT $CTL_ERR"; }

# --- the JSON itself
ctl_ok status --json
[[ $(wc -l <<<"$CTL_OUT") -eq 1 ]] || fail "status --json is not one line"
"$PYTHON" -m json.tool <<<"$CTL_OUT" >"$NW_TMP/status.pretty" || fail "status --json is not valid JSON: $CTL_OUT"
say "status --json is valid JSON ($(wc -c <<<"$CTL_OUT") bytes)"
[[ $(sg 's["ok"]') == true ]] || fail "ok is not true"
[[ $(sg 's["pid"]') == "$DAEMON_PID" ]] || fail "pid $(sg 's["pid"]'), expected $DAEMON_PID"
[[ $(sg '[x["name"] for x in s["targets"]]') == '["web", "bad", "svc"]' ]] || fail "targets: $(sg '[x["name"] for x in s["targets"]]')"
[[ $(sg '[(x["name"], x["kind"]) for x in s["sensors"]]') == '[["fw", "nflog"]]' ]] || fail "sensors: $CTL_OUT"
[[ $(sg 'sorted(s["counters"])') == '["dropped", "malformed", "rejected", "truncated"]' ]] || fail "counters: $CTL_OUT"
[[ $(sg 't("web")["state"]') == idle ]] || fail "web is not idle at start-up"
[[ $(sg 't("web")["remaining_s"]') == null ]] || fail "idle web has remaining_s $(sg 't("web")["remaining_s"]')"
[[ $(sg 't("web")["hook_runs"]') == 0 && $(sg 't("web")["last_exit"]') == null ]] || fail "web hook_runs/last_exit at start-up: $CTL_OUT"
[[ $(sg 't("web")["ttl_s"]') == 2* && $(sg 't("svc")["ttl_s"]') == 30* ]] || fail "ttl_s: $CTL_OUT"

# --- traffic: active, then idle with hook_runs/last_exit
say "client: udp 8001 (web), udp 8002 (bad)"
pkt "$NS_CLI" udp "$RTR_ADDR" 8001 >/dev/null || fail "send failed"
pkt "$NS_CLI" udp "$RTR_ADDR" 8002 >/dev/null || fail "send failed"
wait_for 2 hook_has_t start web 1 || fail "no start for web"
wait_for 2 hook_has_t start bad 1 || fail "no start for bad"
[[ $(sg 't("web")["state"]') == active ]] || fail "web is not active after traffic (and before its 2 s TTL)"
r=$(sg 't("web")["remaining_s"]')
"$PYTHON" -c "import sys; sys.exit(not 0 < $r <= 2.0)" || fail "active web: remaining_s $r (ttl 2 s)"
[[ $(sg 't("web")["idle_s"]') != null ]] || fail "active web: idle_s is null"
(($(sg 's["sensors"][0]["packets"]') >= 2)) || fail "sensor packets $(sg 's["sensors"][0]["packets"]') < 2"
say "active: $(sg 't("web")')"
wait_for 4 hook_has_t stop web 1 || fail "no stop for web"
wait_for 3 hook_has_t stop bad 1 || fail "no stop for bad"
wait_for 2 hooks_settled || fail "hooks did not settle"
web_done() { [[ $(status_get 't("web")["hook_runs"]') == 2 && $(status_get 't("bad")["last_exit"]') == 7 ]]; }
wait_for 2 web_done || fail "after start+stop: web hook_runs $(sg 't("web")["hook_runs"]') (want 2), bad last_exit $(sg 't("bad")["last_exit"]') (want 7)"
[[ $(sg 't("web")["state"]') == idle ]] || fail "web is not idle after its stop"
[[ $(sg 't("web")["last_exit"]') == 0 ]] || fail "web last_exit $(sg 't("web")["last_exit"]'), expected 0"
[[ $(sg 't("web")["remaining_s"]') == null ]] || fail "idle web has remaining_s"
say "idle:   $(sg 't("web")')"
say "failing hook: $(sg 't("bad")')"
ctl_ok status
say "text status: $(grep -E '^ *(web|bad|svc) ' <<<"$CTL_OUT" | tr -s ' ' | tr '\n' '|')"
for n in web bad svc fw; do grep -qw "$n" <<<"$CTL_OUT" || fail "text status does not mention $n: $CTL_OUT"; done

# --- netwakectl start / stop
ctl_ok start svc
say "netwakectl start svc: $CTL_OUT"
wait_for 2 hook_has_t start svc 1 || fail "netwakectl start svc ran no start hook"
expect_env_t start svc 1 NETWAKED_REASON control
expect_env_t start svc 1 NETWAKED_EVENT start
expect_env_t start svc 1 NETWAKED_TARGET svc
[[ $(hook_env_t start svc 1 NETWAKED_SRC) == "<unset>" ]] || fail "control start has NETWAKED_SRC set (no packet)"
[[ $(sg 't("svc")["state"]') == active ]] || fail "svc is not active after netwakectl start"
ctl_ok stop svc
say "netwakectl stop svc: $CTL_OUT"
wait_for 2 hook_has_t stop svc 1 || fail "netwakectl stop svc ran no stop hook"
expect_env_t stop svc 1 NETWAKED_REASON control
[[ $(sg 't("svc")["state"]') == idle ]] || fail "svc is not idle after netwakectl stop"

# --- unknown target
for c in start stop; do
    ctl "$c" nosuch
    [[ $CTL_RC -eq 1 ]] || fail "netwakectl $c nosuch: exit $CTL_RC, expected 1"
    grep -q nosuch <<<"$CTL_ERR" || fail "netwakectl $c nosuch: the message does not name the target: '$CTL_ERR'"
    say "netwakectl $c nosuch -> exit 1: $CTL_ERR"
done
wait_for 2 hooks_settled || fail "hooks did not settle"
# --- internal counters (issue 18): hooks and commands in --json and the text status
[[ $(sg 's["internals"]["hooks"]["spawned"]') -ge 5 ]] || fail "internals.hooks.spawned: $(sg 's["internals"]')"
[[ $(sg 's["internals"]["commands"]["done"]') == 2 && $(sg 's["internals"]["commands"]["failed"]') == 2 ]] ||
    fail "internals.commands: $(sg 's["internals"]["commands"]')"
ctl_ok status
grep -Eq "^  hooks: .*spawned [1-9]" <<<"$CTL_OUT" || fail "text status lacks the hooks counters: $CTL_OUT"
say "internals: $(sg 's["internals"]["hooks"]')"
[[ $(hook_count_t start svc) -eq 1 ]] || fail "svc started $(hook_count_t start svc) times"
stop_daemon
[[ $DAEMON_STATUS -eq 0 ]] || fail "exit status $DAEMON_STATUS on SIGTERM"
pass
