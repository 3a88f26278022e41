#!/bin/bash
# tests/netns/26_config_check.sh — `netwaked --check`: every shipped configuration passes and its
# normalized form is stable; a broken file exits 2 with every error as FILE:LINE:COL: on stderr.
#
#   empty netns ($NW_ID-chk, only lo: --check must need no interface, socket or NFLOG group)
#
# The shipped files name hooks and key files under /etc/netwaked and /usr/share/doc (absent on a
# build machine, and a missing hook is a configuration error by contract), so each file is
# checked as a copy whose `hook:` / `key_file:` values are replaced (sed) by a temp hook and a
# fresh `netwakectl keygen` key; nothing else changes, so line numbers stay the same.
. "$(dirname "$0")/lib.sh"
require_root
NS=$NW_ID-chk
netns_add "$NS"
HOOK=$NW_TMP/hook
make_hook "$HOOK"
KEY=$NW_TMP/test.key
"$NW_CTL" keygen "$KEY" >/dev/null || fail "netwakectl keygen $KEY failed"

# check FILE: runs netwaked --check -C FILE in the empty namespace; sets RC, OUT (file), ERR (file)
check() {
    OUT=$NW_TMP/out.yaml ERR=$NW_TMP/err
    timeout -k 1 10 ip netns exec "$NS" "$NETWAKED" --check -C "$1" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

n=0
for f in "$NW_ROOT"/conf/examples/*.yaml "$NW_ROOT"/conf/netwaked.yaml; do
    [[ -f $f ]] || continue
    n=$((n + 1))
    name=${f#"$NW_ROOT"/}
    copy=$NW_TMP/$(basename "$f")
    sed -E "s#^([[:space:]]*(- )?hook:[[:space:]]*)[^[:space:]\#]+#\1$HOOK#; s#^([[:space:]]*(key|password)_file:[[:space:]]*)[^[:space:]\#,}]+#\1$KEY#" \
        "$f" >"$copy"
    [[ $(wc -l <"$copy") -eq $(wc -l <"$f") ]] || fail "test bug: sed changed the line count of $name"
    check "$copy"
    [[ $RC -eq 0 ]] || fail "$name: --check exit $RC: $(cat "$ERR")"
    [[ -s $OUT ]] || fail "$name: --check printed nothing"
    # every target of the file appears in the normalized output
    while read -r t; do
        grep -Eq "^  - name: \"?$t\"?$" "$OUT" || fail "$name: target $t missing from the normalized output"
    done < <(awk '/^targets:/{s=1; next} /^[a-z]/{s=0} s && /^  - name:/{print $3}' "$copy")
    # the normalized form, checked again under the same file name, prints itself
    cp "$OUT" "$NW_TMP/first.yaml"
    cp "$OUT" "$copy"
    check "$copy"
    [[ $RC -eq 0 ]] || fail "$name: the normalized output does not pass --check (exit $RC): $(cat "$ERR")"
    diff -u "$NW_TMP/first.yaml" "$OUT" >"$NW_TMP/diff" ||
        fail "$name: normalizing twice differs: $(head -20 "$NW_TMP/diff")"
    say "ok  $name: exit 0, $(wc -l <"$OUT") normalized lines, stable"
done
((n >= 5)) || fail "found only $n shipped configurations"

# --- a missing hook is an error of the original file (what the copies above avoid)
orig_hook=$(awk '/^[[:space:]]*hook:/ {print $2; exit}' "$NW_ROOT/conf/netwaked.yaml")
check "$NW_ROOT/conf/netwaked.yaml"
if [[ -n $orig_hook && ! -e $orig_hook ]]; then
    [[ $RC -eq 2 ]] || fail "conf/netwaked.yaml with its hook $orig_hook absent: exit $RC, expected 2"
    grep -E "conf/netwaked.yaml:[0-9]+:[0-9]+: " "$ERR" | grep -F "$orig_hook" >/dev/null ||
        fail "missing hook $orig_hook not reported as FILE:LINE:COL: $(cat "$ERR")"
    say "ok  unmodified conf/netwaked.yaml without its hook: exit 2: $(head -1 "$ERR")"
fi

# --- a broken file: every error, each as FILE:LINE:COL:
B=$NW_TMP/broken.yaml
cat >"$B" <<EOF
# 26_config_check: one error per marked line
daemon:
  log_level: chatty
sensors:
  - name: fw
    nflog: { group: 70000 }
targets:
  - name: one
    match: [ { prefix: a } ]
    ttl: 10x
    hook: $HOOK
  - name: two
    colour: blue
    match: [ { dst_port: 99999 } ]
    hook: $NW_TMP/no-such-hook
    wol: { mac: "d8:cb:8a:39:be", interface: lo }
  - name: one
    match: [ { prefix: b } ]
    hook: $HOOK
EOF
# expected: line, column, a word the message must contain
expect=(
    "3:14:chatty"
    "6:21:70000"
    "10:10:10x"
    "13:5:colour"
    "14:26:99999"
    "15:11:no-such-hook"
    "16:17:d8:cb:8a:39:be"
    "17:11:one"
)
check "$B"
[[ $RC -eq 2 ]] || fail "broken file: exit $RC, expected 2 (stderr: $(cat "$ERR"))"
[[ ! -s $OUT ]] || fail "broken file: printed a configuration on stdout: $(head -3 "$OUT")"
sed 's/^/  | /' "$ERR"
for e in "${expect[@]}"; do
    l=${e%%:*} rest=${e#*:}
    c=${rest%%:*} w=${rest#*:}
    grep -F "$B:$l:" "$ERR" | grep -F -- "$w" >/dev/null || fail "no error for line $l mentioning '$w'"
    grep -F -- "$w" "$ERR" | grep -F "$B:$l:$c:" >/dev/null || fail "the error for line $l is not at column $c: $(grep -F "$B:$l:" "$ERR" | head -1)"
done
errs=$(grep -c "^$B:[0-9]*:[0-9]*: " "$ERR")
((errs >= ${#expect[@]})) || fail "only $errs FILE:LINE:COL: errors, expected ${#expect[@]}"

# --- a YAML syntax error
printf 'sensors:\n  - name: fw\n    nflog: { group: 1\ntargets: []\n' >"$NW_TMP/syntax.yaml"
check "$NW_TMP/syntax.yaml"
[[ $RC -eq 2 ]] || fail "YAML syntax error: exit $RC, expected 2"
grep -Eq "^$NW_TMP/syntax.yaml:[0-9]+:[0-9]+: " "$ERR" || fail "YAML syntax error not as FILE:LINE:COL: $(cat "$ERR")"
say "ok  syntax error: $(head -1 "$ERR")"

# --- a missing file
check "$NW_TMP/absent.yaml"
[[ $RC -eq 2 ]] || fail "missing file: exit $RC, expected 2"
grep -qF "$NW_TMP/absent.yaml" "$ERR" || fail "missing file not named: $(cat "$ERR")"
pass
