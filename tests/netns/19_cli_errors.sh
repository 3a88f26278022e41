#!/bin/bash
# tests/netns/19_cli_errors.sh — tuninetd command-line errors exit 2 with a message naming the flag
# and the bad value; -h/--help and -v/--version exit 0. No namespaces, no traffic, no root needed:
# every command line here is invalid, so netwaked must refuse it before opening anything.
#
#   (no topology: runs netwaked directly, each under `timeout 5`)
. "$(dirname "$0")/lib.sh"
[[ -x $NETWAKED ]] || fail "no daemon binary at $NETWAKED (run make first)"
HOOK=$NW_TMP/hook
make_hook "$HOOK"
printf '#!/bin/sh\nexit 0\n' >"$NW_TMP/noexec"
chmod 644 "$NW_TMP/noexec"
VERSION=$(cat "$NW_ROOT/VERSION" 2>/dev/null)

# run ARGS...: sets RC, OUT, ERR
run() {
    timeout -k 1 5 "$NETWAKED" "$@" >"$NW_TMP/out" 2>"$NW_TMP/err" </dev/null
    RC=$?
    OUT=$(cat "$NW_TMP/out")
    ERR=$(cat "$NW_TMP/err")
}

# bad "WHAT" "MUST-MENTION..." -- ARGS...: exit 2, each word of MUST-MENTION on stderr
bad() {
    local what=$1 words=() w
    shift
    while [[ $1 != -- ]]; do words+=("$1"); shift; done
    shift
    run "$@"
    [[ $RC -ne 124 && $RC -ne 137 ]] || fail "$what: netwaked $* did not exit (it ran)"
    [[ $RC -eq 2 ]] || fail "$what: netwaked $* exited $RC, expected 2 (stderr: $ERR)"
    [[ -n $ERR ]] || fail "$what: netwaked $* printed nothing on stderr"
    for w in "${words[@]}"; do
        grep -qF -- "$w" <<<"$ERR" || fail "$what: stderr of 'netwaked $*' does not mention '$w': $ERR"
    done
    printf '  ok  %-22s -> exit 2: %s\n' "$what" "$(head -1 <<<"$ERR")"
}

bad "ttl not a number"  -t abc -- -n 5 -c "$HOOK" -t abc
bad "negative ttl"      -t -5 -- -n 5 -c "$HOOK" -t -5
bad "group too large"   -n 99999 -- -n 99999 -c "$HOOK"
bad "group not a number" -n x -- -n x -c "$HOOK"
bad "missing -c"        -c -- -n 5
bad "missing -c (pcap)" -c -- -i lo
bad "hook missing"      /nonexistent -- -n 5 -c /nonexistent
bad "hook not executable" "$NW_TMP/noexec" -- -n 5 -c "$NW_TMP/noexec"
bad "-f without -i"     -f -- -n 5 -c "$HOOK" -f "udp port 9999"
bad "unknown flag"      Z -- -n 5 -c "$HOOK" -Z
bad "unknown long flag" --bogus -- -n 5 -c "$HOOK" --bogus
bad "-t without value"  -t -- -n 5 -c "$HOOK" -t

for h in -h --help; do
    run "$h"
    [[ $RC -eq 0 ]] || fail "netwaked $h exited $RC"
    grep -qi usage <<<"$OUT" || fail "netwaked $h: no usage on stdout (stdout: $OUT)"
    for w in -i -n -c -t -a -f -w -d; do
        grep -qF -- "$w" <<<"$OUT" || fail "netwaked $h: usage does not mention $w"
    done
    printf '  ok  %-22s -> exit 0, usage on stdout\n' "$h"
done
for v in -v --version; do
    run "$v"
    [[ $RC -eq 0 ]] || fail "netwaked $v exited $RC"
    [[ -z $VERSION ]] || grep -qF -- "$VERSION" <<<"$OUT" || fail "netwaked $v: '$OUT' does not contain $VERSION"
    printf '  ok  %-22s -> exit 0: %s\n' "$v" "$OUT"
done
pass
