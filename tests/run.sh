#!/bin/bash
# tests/run.sh — what `make test` runs: unit tests, fuzz-corpus replays and netns scenarios.
# Prints PASS/FAIL/SKIP per test; the last line is always "N passed, M failed".
#
#   tests/run.sh [--only REGEX] [--verbose] [--list]
#     --only REGEX  run only tests whose name matches (unit_tests, fuzz_<x>, 10_nflog_plain, ...)
#     --verbose     print every scenario's full output, not only on failure
#   Environment: BUILD (default build), NW_TEST_TIMEOUT (per scenario, default 120 s),
#                NW_FUZZ_TIMEOUT (per corpus replay, default 60 s), NW_LATE_LIMIT_MS (default 500),
#                NW_KEEP=1 (keep each scenario's temp dir).
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD
TIMEOUT=${NW_TEST_TIMEOUT:-120}
FUZZ_TIMEOUT=${NW_FUZZ_TIMEOUT:-60}
ONLY=''
VERBOSE=0
LIST=0

usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; }
while (($#)); do
    case $1 in
        --only) ONLY=${2:?--only needs a pattern}; shift ;;
        --only=*) ONLY=${1#--only=} ;;
        -v | --verbose) VERBOSE=1 ;;
        --list) LIST=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [[ -t 1 ]]; then
    C_OK=$'\e[32m' C_BAD=$'\e[31m' C_SKIP=$'\e[33m' C_OFF=$'\e[0m'
else
    C_OK='' C_BAD='' C_SKIP='' C_OFF=''
fi

passed=0 failed=0 skipped=0
failed_names=()
OUT=$(mktemp -d /tmp/netwaked-run.XXXXXX) || exit 1
trap 'rm -rf "$OUT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

selected() { [[ -z $ONLY || $1 =~ $ONLY ]]; }
t_start() { T0=${EPOCHREALTIME/./}; }
t_elapsed() {
    local d=$((${EPOCHREALTIME/./} - T0))
    printf '%d.%d s' $((d / 1000000)) $((d / 100000 % 10))
}
ok() { printf '%sPASS%s %s\n' "$C_OK" "$C_OFF" "$*"; }
bad() {
    printf '%sFAIL%s %s\n' "$C_BAD" "$C_OFF" "$1"
    failed_names+=("${1%% *}")
}
tail_of() { tail -n 30 "$1" | sed 's/^/    | /'; }

# --- (a) unit tests: every doctest test case counts -----------------------------------------
run_unit() {
    local bin=$BUILD/unit_tests log=$OUT/unit.log rc line P F S
    selected unit_tests || return 0
    ((LIST)) && { echo unit_tests; return 0; }
    if [[ ! -x $bin ]]; then
        bad "unit_tests (not built: $bin)"
        failed=$((failed + 1))
        return 0
    fi
    t_start
    timeout -k 5 300 "$bin" --reporters=console --no-colors=true >"$log" 2>&1 </dev/null
    rc=$?
    line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
    if [[ $line =~ test\ cases:\ *([0-9]+)\ *\|\ *([0-9]+)\ passed\ *\|\ *([0-9]+)\ failed(\ *\|\ *([0-9]+)\ skipped)? ]]; then
        P=${BASH_REMATCH[2]} F=${BASH_REMATCH[3]} S=${BASH_REMATCH[5]:-0}
    else
        P=0 F=0 S=0
    fi
    passed=$((passed + P))
    skipped=$((skipped + S))
    if ((F > 0)); then
        failed=$((failed + F))
        bad "unit_tests ($F of $((P + F)) test cases failed, $(t_elapsed))"
        awk '/^TEST CASE:/ {tc=$0; shown=0; next}
             / ERROR: | FATAL ERROR: |^  values:/ {if (!shown && tc != "") print tc; shown=1; print; next}
             /^\[doctest\] (test cases|assertions):/ {print}' "$log" | head -n 40 | sed 's/^/    | /'
    elif ((rc != 0)) || [[ -z $line ]]; then
        failed=$((failed + 1))
        bad "unit_tests (exit status $rc, no clean doctest summary)"
        tail_of "$log"
    else
        ok "unit_tests ($P test cases, $(t_elapsed))"
    fi
}

# --- (b) fuzz harnesses replayed over their seed corpora: one test each ----------------------
run_fuzz() {
    local bin name corpus log rc r c
    for bin in "$BUILD"/replay/fuzz_*; do
        [[ -x $bin ]] || continue
        name=${bin##*/}
        selected "$name" || continue
        ((LIST)) && { echo "$name"; continue; }
        corpus=''
        for c in "tests/fuzz/corpus/${name#fuzz_}" "tests/fuzz/corpus/$name"; do
            [[ -d $c ]] && { corpus=$c; break; }
        done
        if [[ -z $corpus ]]; then
            bad "$name (no seed corpus in tests/fuzz/corpus/${name#fuzz_}/)"
            failed=$((failed + 1))
            continue
        fi
        log=$OUT/$name.log
        t_start
        timeout -k 5 "$FUZZ_TIMEOUT" "$bin" "$corpus" >"$log" 2>&1 </dev/null
        rc=$?
        if ((rc == 0)); then
            ok "$name ($(grep -m1 -o 'replayed [0-9]* inputs' "$log" || echo replayed), $(t_elapsed))"
            passed=$((passed + 1))
        elif ((rc == 124 || rc == 137)); then
            bad "$name (timed out after $FUZZ_TIMEOUT s over $corpus)"
            # name the inputs that hang (each gets 5 s)
            for c in "$corpus"/*; do
                timeout -k 1 5 "$bin" "$c" >/dev/null 2>&1 </dev/null
                r=$?
                ((r == 124 || r == 137)) && echo "    | hangs: $c"
            done
            failed=$((failed + 1))
        else
            bad "$name (exit status $rc over $corpus)"
            tail_of "$log"
            failed=$((failed + 1))
        fi
    done
}

# --- (c) network-namespace scenarios: one test each ------------------------------------------
run_netns() {
    local f name log rc figs
    if [[ $(id -u) -ne 0 ]] && ((!LIST)); then
        echo "note: not root: network-namespace scenarios will be skipped (run: sudo make test)"
    fi
    for f in tests/netns/[0-9]*.sh; do
        [[ -f $f ]] || continue
        name=$(basename "$f" .sh)
        selected "$name" || continue
        ((LIST)) && { echo "$name"; continue; }
        log=$OUT/$name.log
        t_start
        timeout -k 5 "$TIMEOUT" bash "$f" >"$log" 2>&1 </dev/null
        rc=$?
        figs=$(awk '$1=="figure"{printf " %s=%s", $2, $3}' "$log")
        if ((rc == 0)); then
            ok "$name ($(t_elapsed))${figs:+ ${figs# }}"
            passed=$((passed + 1))
            ((VERBOSE)) && sed 's/^/    | /' "$log"
        elif ((rc == 77)); then
            printf '%sSKIP%s %s (%s)\n' "$C_SKIP" "$C_OFF" "$name" "$(grep -m1 '^SKIP' "$log" | sed 's/^SKIP [^:]*: //')"
            skipped=$((skipped + 1))
        else
            if ((rc == 124 || rc == 137)); then
                bad "$name (timed out after $TIMEOUT s)"
            else
                bad "$name (exit status $rc, $(t_elapsed))"
            fi
            tail_of "$log"
            failed=$((failed + 1))
        fi
    done
    if [[ $(id -u) -eq 0 ]] && ((!LIST)) && ip netns list 2>/dev/null | grep -Eq '^nw[0-9]+-'; then
        echo "note: test namespaces still present (leftovers or a concurrent run): $(ip netns list | grep -Eo '^nw[0-9]+-[a-z]+' | tr '\n' ' ')"
    fi
}

run_unit
run_fuzz
run_netns
((LIST)) && exit 0

if ((${#failed_names[@]})); then
    echo "failed: ${failed_names[*]}"
fi
((skipped)) && echo "$skipped skipped"
echo "$passed passed, $failed failed"
((failed == 0))
