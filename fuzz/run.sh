#!/usr/bin/env bash
# fuzz/run.sh [-b BUILD_DIR] [-n] TARGET|all [SECONDS] [-- LIBFUZZER_OPTION...]
#
# Builds (fuzz/build.sh; -n: use what is built) and runs a libFuzzer target
# for SECONDS (default 60); "all" runs request, response and chunked one
# after the other, SECONDS each; frontend (the compiler) is run by name.
#
#   fuzz/run.sh all 600              ten minutes per HTTP/1 target
#   fuzz/run.sh chunked 60 -- -jobs=2 -workers=2
#
# Each target grows its working corpus in BUILD_DIR/fuzz/corpus/TARGET (kept
# between runs, seeded from the committed fuzz/corpus/TARGET) and writes
# crashes to BUILD_DIR/fuzz/artifacts/TARGET/; libFuzzer's full output goes to
# BUILD_DIR/fuzz/logs/TARGET.log. Prints one line per target: executions,
# exec/s, coverage (cov: edges, ft: features) and corpus size; on a crash,
# the reproducer and the command that replays it. Exits 1 if any target
# found something, 2 on a usage or build error.
set -u
build=build
no_build=0
while [ $# -gt 0 ]; do
    case $1 in
    -b) build=$2; shift 2 ;;
    -n) no_build=1; shift ;;
    *) break ;;
    esac
done
what=${1:-}
seconds=${2:-60}
shift 2 2>/dev/null || shift $#
[ "${1:-}" = -- ] && shift
if [ -z "$what" ] || ! [[ $seconds =~ ^[0-9]+$ ]]; then
    sed -n '2,3p' "$0" | sed 's/^# //' >&2
    exit 2
fi
cd "$(dirname "$0")/.."

if [ "$what" = all ]; then
    targets=(request response chunked)
else
    targets=("$what")
fi
if [ "$no_build" = 0 ]; then
    fuzz/build.sh "$build" "${targets[@]}" >/dev/null || exit 2
fi

status=0
for t in "${targets[@]}"; do
    bin=$build/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is not built" >&2
        exit 2
    fi
    work=$build/fuzz/corpus/$t
    arts=$build/fuzz/artifacts/$t
    log=$build/fuzz/logs/$t.log
    mkdir -p "$work" "$arts" "$(dirname "$log")"
    seeds=()
    [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
    case $t in
    request | response) dict=(-dict=fuzz/http1.dict) ;;
    chunked) dict=(-dict=fuzz/chunked.dict) ;;
    cache) dict=(-dict=fuzz/cache.dict) ;;
    *) dict=() ;;
    esac
    # Heads and chunk lines are limited to 16 KB and 4 KB: 8 KB inputs reach
    # both the chunked line limit and the parsers' small fuzzed limits.
    "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$arts/" "${dict[@]}" "$@" \
        "$work" "${seeds[@]}" >"$log" 2>&1
    rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    summary="$t: ${seconds}s, ${execs:-?} execs, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    if [ "$rc" = 0 ]; then
        echo "$summary"
        continue
    fi
    status=1
    echo "$summary: FAILED (libFuzzer exit $rc)"
    grep -E 'invariant violated|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log" |
        head -n 5 | sed 's/^/  /'
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$repro" ]; then
        echo "  reproducer: $repro"
        echo "  replay:     $bin $repro"
    fi
    echo "  log:        $log"
done
exit $status
