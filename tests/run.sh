#!/usr/bin/env bash
# run.sh BUILD_DIR [SUITE...]: runs the test suites (unit, golden, layers,
# manpages, e2e, chaos, fuzz by default) and ends with one line summing them: "N passed,
# N failed".
# Each suite prints its own lines and ends with its own "N passed, N failed".
set -u
O=${1:-build}
shift || true
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit golden layers manpages e2e chaos fuzz)

total_pass=0 total_fail=0 status=0
for s in "${suites[@]}"; do
    echo "== $s"
    case $s in
    unit) cmd=("$O/tests/unit") ;;
    golden) cmd=(tests/golden.sh "$O") ;;
    layers) cmd=(tests/layers.py "$O") ;;
    manpages) cmd=(tests/manpages.sh "$O") ;;
    e2e) cmd=(tests/e2e/run.sh "$O") ;;
    chaos) cmd=(tests/chaos.sh "$O") ;;
    fuzz) cmd=(tests/fuzz.sh "$O") ;;
    *) echo "run.sh: unknown suite '$s'" >&2; exit 2 ;;
    esac
    out=$(mktemp)
    "${cmd[@]}" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$line" ]; then
        echo "run.sh: suite $s printed no summary (exit $rc): counted as one failure"
        total_fail=$((total_fail + 1))
        status=1
        continue
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed*}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "run.sh: suite $s exited $rc with no failed test: counted as one failure"
        total_fail=$((total_fail + 1))
    fi
    [ "$rc" -ne 0 ] && status=1
done
echo "$total_pass passed, $total_fail failed"
exit $status
