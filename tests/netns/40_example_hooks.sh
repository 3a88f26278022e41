#!/bin/bash
# tests/netns/40_example_hooks.sh - the example hooks in hooks/: each run with a fake netwaked
# environment and stub commands on PATH that record their argv; webhook.py against a local HTTP server.
#
#   stubs in $NW_TMP/bin: wg-quick, ip, systemctl, sudo, docker, logger  (append "name args" to calls)
#   hooks run as: env -i PATH=stubs:... NETWAKED_*=... HOOK EVENT TARGET
#
#   webhook netns ($NW_ID-web), lo up:
#     127.0.0.1:PORT  python3 http.server (records each request; /fail -> 500, /hang -> no answer)
#     webhook.py EVENT TARGET  with NETWAKED_WEBHOOK_URL=http://127.0.0.1:PORT/...
. "$(dirname "$0")/lib.sh"

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespace for the webhook server)"
command -v "$PYTHON" >/dev/null 2>&1 || skip "missing command: python3"
HOOKS=$NW_ROOT/hooks
for h in log-event vpn-toggle systemd-unit docker-container webhook.py; do
    [[ -x $HOOKS/$h ]] || fail "hooks/$h is missing or not executable"
done

STUBS=$NW_TMP/bin
CALLS=$NW_TMP/calls
LINKS=$NW_TMP/links   # the stub wg-quick/ip pair keeps "interfaces" here
mkdir -p "$STUBS" "$LINKS"

# stub NAME [SNIPPET]: a command that records "NAME ARGS..." in $CALLS, then runs SNIPPET
# (default: exit ${STUB_RC:-0}).
stub() {
    local body=${2:-'exit ${STUB_RC:-0}'}
    cat >"$STUBS/$1" <<EOF
#!/bin/sh
# stub $1 for $SCENARIO: records its argv
printf '%s\n' "$1 \$*" >>"$CALLS"
$body
EOF
    chmod 755 "$STUBS/$1"
}
stub logger
stub systemctl
stub docker
stub sudo '[ "$1" = -n ] && shift; exec "$@"'   # "sudo -n CMD..." runs CMD (also a stub)
stub wg-quick "[ \"\${STUB_RC:-0}\" = 0 ] || exit \$STUB_RC
case \$1 in up) : >\"$LINKS/\$2\" ;; down) rm -f \"$LINKS/\$2\" ;; esac"
stub ip "[ \"\$1 \$2 \$3\" = 'link show dev' ] && [ -e \"$LINKS/\$4\" ]"

# run_hook HOOK EVENT TARGET [VAR=value...]: run HOOK like netwaked does (clean environment),
# stdout+stderr to $OUT, exit status in $RC.
OUT=$NW_TMP/out
run_hook() {
    local hook=$1 event=$2 target=$3
    shift 3
    : >"$CALLS"
    env -i PATH="$STUBS:/usr/bin:/bin" LANG=C.UTF-8 \
        NETWAKED_EVENT="$event" NETWAKED_TARGET="$target" "$@" \
        "$HOOKS/$hook" "$event" "$target" >"$OUT" 2>&1 </dev/null
    RC=$?
}
# expect_calls "line1" "line2"...: the stubs were called exactly so (none: no arguments).
expect_calls() {
    local want got
    want=$(printf '%s\n' "$@")
    [[ $# -eq 0 ]] && want=
    got=$(cat "$CALLS")
    [[ $got == "$want" ]] || fail "$WHAT: calls were [$(tr '\n' ';' <"$CALLS")], expected [$(printf '%s;' "$@")]"
}
expect_rc() { [[ $RC -eq $1 ]] || fail "$WHAT: exit status $RC, expected $1 (output: $(head -c 300 "$OUT"))"; }

# ---------------------------------------------------------------------------------------------
# log-event
WHAT="log-event start"
run_hook log-event start vpn NETWAKED_REASON=traffic NETWAKED_SENSOR=wan NETWAKED_PROTO=udp \
    NETWAKED_SRC=10.0.0.5 NETWAKED_SRC_PORT=40000 NETWAKED_DST=10.8.0.1 NETWAKED_DST_PORT=51820
expect_rc 0
expect_calls "logger -t netwaked-event -p daemon.notice -- start vpn reason=traffic sensor=wan proto=udp src=10.0.0.5 src_port=40000 dst=10.8.0.1 dst_port=51820"
WHAT="log-event wake"
run_hook log-event wake nas NETWAKED_REASON=traffic NETWAKED_MAC=d8:cb:8a:39:be:a1 NETWAKED_ATTEMPT=2
expect_rc 0
expect_calls "logger -t netwaked-event -p daemon.notice -- wake nas reason=traffic mac=d8:cb:8a:39:be:a1 attempt=2"
WHAT="log-event without logger"
: >"$CALLS"
env -i PATH=/nonexistent NETWAKED_EVENT=stop NETWAKED_TARGET=vpn NETWAKED_REASON=ttl NETWAKED_IDLE=600 \
    /bin/sh "$HOOKS/log-event" stop vpn >"$OUT" 2>&1 </dev/null
RC=$?
expect_rc 0
[[ $(cat "$OUT") == "stop vpn reason=ttl idle=600" ]] || fail "$WHAT: printed '$(cat "$OUT")'"
WHAT="log-event with a failing logger"
STUB_RC=1 run_hook log-event stop vpn NETWAKED_REASON=signal STUB_RC=1
expect_rc 0
[[ $(cat "$OUT") == "stop vpn reason=signal" ]] || fail "$WHAT: printed '$(cat "$OUT")'"
say "log-event: logger line and stdout fallback ok"

# ---------------------------------------------------------------------------------------------
# vpn-toggle
WHAT="vpn-toggle wireguard start"
run_hook vpn-toggle start default VPN_NAME=nwtest0
expect_rc 0
expect_calls "ip link show dev nwtest0" "wg-quick up nwtest0"
WHAT="vpn-toggle wireguard start again (already up)"
run_hook vpn-toggle start default VPN_NAME=nwtest0
expect_rc 0
expect_calls "ip link show dev nwtest0"
WHAT="vpn-toggle wireguard wake (ignored)"
run_hook vpn-toggle wake default VPN_NAME=nwtest0
expect_rc 0
expect_calls
WHAT="vpn-toggle wireguard stop"
run_hook vpn-toggle stop default VPN_NAME=nwtest0 NETWAKED_REASON=ttl NETWAKED_IDLE=600
expect_rc 0
expect_calls "ip link show dev nwtest0" "wg-quick down nwtest0"
WHAT="vpn-toggle wireguard stop again (already down)"
run_hook vpn-toggle stop default VPN_NAME=nwtest0
expect_rc 0
expect_calls "ip link show dev nwtest0"
WHAT="vpn-toggle wg-quick failure"
run_hook vpn-toggle start default VPN_NAME=nwtest1 STUB_RC=1
[[ $RC -ne 0 ]] || fail "$WHAT: exit status 0 although wg-quick failed"
WHAT="vpn-toggle wireguard-systemd"
run_hook vpn-toggle start default VPN_KIND=wireguard-systemd VPN_NAME=wg7
expect_rc 0
expect_calls "systemctl start wg-quick@wg7.service"
run_hook vpn-toggle stop default VPN_KIND=wireguard-systemd VPN_NAME=wg7
expect_calls "systemctl stop wg-quick@wg7.service"
WHAT="vpn-toggle openvpn"
run_hook vpn-toggle start office VPN_KIND=openvpn VPN_NAME=office
expect_rc 0
expect_calls "systemctl start openvpn-client@office.service"
run_hook vpn-toggle stop office VPN_KIND=openvpn VPN_NAME=office
expect_calls "systemctl stop openvpn-client@office.service"
WHAT="vpn-toggle openvpn through sudo, own unit"
run_hook vpn-toggle start office VPN_KIND=openvpn VPN_UNIT=openvpn@office.service SYSTEMCTL="sudo -n systemctl"
expect_rc 0
expect_calls "sudo -n systemctl start openvpn@office.service" "systemctl start openvpn@office.service"
WHAT="vpn-toggle unknown kind"
run_hook vpn-toggle start default VPN_KIND=ipsec
expect_rc 2
expect_calls
say "vpn-toggle: wg-quick (idempotent), wg-quick@ and openvpn-client@ units ok"

# ---------------------------------------------------------------------------------------------
# systemd-unit
WHAT="systemd-unit start"
run_hook systemd-unit start game UNIT=minecraft.service
expect_rc 0
expect_calls "systemctl start minecraft.service"
WHAT="systemd-unit stop"
run_hook systemd-unit stop game UNIT=minecraft.service NETWAKED_REASON=ttl
expect_rc 0
expect_calls "systemctl stop minecraft.service"
WHAT="systemd-unit knock (ignored)"
run_hook systemd-unit knock game UNIT=minecraft.service
expect_rc 0
expect_calls
WHAT="systemd-unit via sudo"
run_hook systemd-unit start game UNIT=minecraft.service SYSTEMCTL="sudo -n systemctl"
expect_rc 0
expect_calls "sudo -n systemctl start minecraft.service" "systemctl start minecraft.service"
WHAT="systemd-unit failing systemctl"
run_hook systemd-unit start game UNIT=minecraft.service STUB_RC=1
expect_rc 1
WHAT="systemd-unit without UNIT"
run_hook systemd-unit start game
expect_rc 2
expect_calls
grep -q "set UNIT" "$OUT" || fail "$WHAT: no hint to set UNIT: $(cat "$OUT")"
say "systemd-unit: start/stop/ignore/sudo/errors ok"

# ---------------------------------------------------------------------------------------------
# docker-container
WHAT="docker-container start"
run_hook docker-container start web CONTAINER=nextcloud
expect_rc 0
expect_calls "docker start nextcloud"
WHAT="docker-container stop"
run_hook docker-container stop web CONTAINER=nextcloud STOP_TIMEOUT=30
expect_rc 0
expect_calls "docker stop --time 30 nextcloud"
WHAT="docker-container asleep (ignored)"
run_hook docker-container asleep web CONTAINER=nextcloud
expect_rc 0
expect_calls
WHAT="docker-container without CONTAINER"
run_hook docker-container stop web
expect_rc 2
expect_calls
say "docker-container: start/stop/ignore/errors ok"

# ---------------------------------------------------------------------------------------------
# webhook.py against a local HTTP server in a private namespace
NS=$NW_ID-web
netns_add "$NS"
REQS=$NW_TMP/requests
mkdir -p "$REQS"
cat >"$NW_TMP/server.py" <<'EOF'
# HTTP server for 40_example_hooks.sh: saves each POST as requests/N.json (method, path,
# headers, body); /fail answers 500, /hang never answers. Prints its port on the first line.
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

out = sys.argv[1]
count = [0]
lock = threading.Lock()

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with lock:
            count[0] += 1
            path = os.path.join(out, "%d.json" % count[0])
        with open(path, "w") as f:
            json.dump({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}, f)
        if self.path == "/hang":
            time.sleep(5)
            return
        code = 500 if self.path == "/fail" else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF
ip netns exec "$NS" "$PYTHON" "$NW_TMP/server.py" "$REQS" >"$NW_TMP/server.port" 2>"$NW_TMP/server.err" &
NW_BGPIDS+=("$!")
wait_for 5 test -s "$NW_TMP/server.port" || fail "HTTP server did not start: $(cat "$NW_TMP/server.err")"
PORT=$(head -n1 "$NW_TMP/server.port")
URL=http://127.0.0.1:$PORT

# run_web EVENT TARGET [VAR=value...]: webhook.py inside the namespace, like run_hook.
run_web() {
    local event=$1 target=$2
    shift 2
    ip netns exec "$NS" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
        NETWAKED_EVENT="$event" NETWAKED_TARGET="$target" "$@" \
        "$HOOKS/webhook.py" "$event" "$target" >"$OUT" 2>&1 </dev/null
    RC=$?
}
nreq() { find "$REQS" -name '*.json' | wc -l; }
# req_field N EXPR: a Python expression over r (the request) and b (the parsed JSON body).
req_field() {
    "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); b=json.loads(r["body"]); print(eval(sys.argv[2]))' \
        "$REQS/$1.json" "$2"
}

WHAT="webhook.py without a URL"
run_web start vpn
expect_rc 0
[[ $(nreq) -eq 0 ]] || fail "$WHAT: sent a request"

WHAT="webhook.py start"
run_web start vpn NETWAKED_WEBHOOK_URL="$URL/hook" NETWAKED_WEBHOOK_TOKEN=s3cret NETWAKED_REASON=traffic \
    NETWAKED_SRC=10.0.0.5 NETWAKED_DST_PORT=51820 NETWAKED_PROTO=udp
expect_rc 0
[[ $(nreq) -eq 1 ]] || fail "$WHAT: $(nreq) requests recorded, expected 1"
[[ $(req_field 1 'r["path"]') == /hook ]] || fail "$WHAT: path $(req_field 1 'r["path"]')"
[[ $(req_field 1 'r["headers"].get("Content-Type")') == application/json ]] || fail "$WHAT: wrong Content-Type"
[[ $(req_field 1 'r["headers"].get("Authorization")') == "Bearer s3cret" ]] || fail "$WHAT: no bearer token"
got=$(req_field 1 '" ".join(str(b.get(k)) for k in ("event","target","reason","src","dst_port","proto"))')
[[ $got == "start vpn traffic 10.0.0.5 51820 udp" ]] || fail "$WHAT: body fields '$got'"
[[ $(req_field 1 '"webhook_url" in b or "webhook_token" in b') == False ]] || fail "$WHAT: settings leaked into the body"
[[ $(req_field 1 'bool(b.get("time")) and bool(b.get("host"))') == True ]] || fail "$WHAT: no time/host"

WHAT="webhook.py HTTP 500"
run_web stop vpn NETWAKED_WEBHOOK_URL="$URL/fail" NETWAKED_REASON=ttl
[[ $RC -eq 1 ]] || fail "$WHAT: exit status $RC, expected 1"
grep -q 500 "$OUT" || fail "$WHAT: error does not name the status: $(cat "$OUT")"

WHAT="webhook.py connection refused"
run_web stop vpn NETWAKED_WEBHOOK_URL="http://127.0.0.1:1/x"
[[ $RC -eq 1 ]] || fail "$WHAT: exit status $RC, expected 1"

WHAT="webhook.py bad scheme"
run_web stop vpn NETWAKED_WEBHOOK_URL="file:///etc/passwd"
expect_rc 2

WHAT="webhook.py timeout"
t0=${EPOCHREALTIME/./}
run_web stop vpn NETWAKED_WEBHOOK_URL="$URL/hang" NETWAKED_WEBHOOK_TIMEOUT=1
t1=${EPOCHREALTIME/./}
[[ $RC -eq 1 ]] || fail "$WHAT: exit status $RC, expected 1"
(((t1 - t0) < 4000000)) || fail "$WHAT: took $(us_to_ms $((t1 - t0))) ms with a 1 s timeout"
figure webhook_timeout_ms "$(us_to_ms $((t1 - t0)))"
"$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import importlib.util as u; s=u.spec_from_file_location("w", sys.argv[1]+"/webhook.py"); m=u.module_from_spec(s); s.loader.exec_module(m); sys.exit(0 if m.TIMEOUT_S == 10.0 else 1)' "$HOOKS" ||
    fail "webhook.py: default timeout is not 10 s"
say "webhook.py: POST JSON, 500, refused, bad scheme, timeout ok"

pass
