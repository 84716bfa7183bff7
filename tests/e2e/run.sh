#!/usr/bin/env bash
# run.sh BUILD_DIR: the end-to-end tests. Builds proxies from small policies
# with BUILD_DIR/bin/rpx, puts them in front of BUILD_DIR/tests/origin on
# ephemeral ports of 127.0.0.1, and talks to them with curl, wrk and raw
# sockets (bash /dev/tcp). Prints "ok N - ..." / "not ok N - ..." per check
# and ends with "N passed, N failed"; exits 1 on any failure.
#
# E2E_ONLY=PATTERN runs only the areas whose name matches the glob PATTERN
# (e.g. E2E_ONLY='t_8*'), for working on one area.
# E2E_KEEP=1 keeps the scratch folder (logs, policies, origin logs).
#
# Each t_*.sh is one area, run in name order; it starts its own origins and
# proxies (lib.sh stops leftovers) and reads only what lib.sh provides.
set -u

build=${1:?usage: tests/e2e/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# BUILD_DIR is taken from the current directory, else from the repository's.
if [ -d "$build" ]; then
    E2E_BUILD=$(cd "$build" && pwd)
elif [ -d "$here/../../$build" ]; then
    E2E_BUILD=$(cd "$here/../../$build" && pwd)
else
    echo "run.sh: no build directory '$build'" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
for f in bin/rpx tests/origin lib/rpx/librpx.a; do
    if [ ! -x "$E2E_BUILD/$f" ] && [ ! -f "$E2E_BUILD/$f" ]; then
        echo "run.sh: $E2E_BUILD/$f is missing: run make first" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
for tool in curl ss timeout; do
    if ! command -v "$tool" >/dev/null; then
        echo "run.sh: $tool is needed" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

# shellcheck source=lib.sh
. "$here/lib.sh"

suite_start=$EPOCHREALTIME
[ "$E2E_ASAN" = 1 ] && echo "# sanitized build: timeouts x$SCALE, memory bound $((HWM_LIMIT_KB / 1024)) MB"
for t in "$here"/t_*.sh; do
    # shellcheck disable=SC2053 # a glob on purpose
    [[ $(basename "$t" .sh) == ${E2E_ONLY:-*} ]] || continue
    area_begin "$(basename "$t" .sh)"
    # A subshell, so that an area that stops early (set -u, a typo) costs one
    # failure and not the rest of the suite; the counters come back through
    # a file. In the background, so that a signal to this shell is handled
    # at once (wait returns; the EXIT trap stops the area and its children).
    (
        # shellcheck disable=SC1090
        . "$t"
    ) &
    echo $! >"$SCRATCH/area.pid"
    wait $!
    rc=$?
    rm -f "$SCRATCH/area.pid"
    load_counts
    area_end
    if [ $rc -ne 0 ]; then
        fail "$(basename "$t") ran to its end" "it stopped early with exit status $rc"
    fi
done

# A proxy may have died or reported into its stderr without a check seeing
# it; this one looks at every proxy that ran.
no_sanitizer_reports()
{
    local f status=0
    for f in "$SCRATCH"/*/*.run.err; do
        [ -f "$f" ] || continue
        if sanitizer_report "$f" >"$SCRATCH/report" 2>&1; then
            echo "${f#"$SCRATCH"/}:"
            cat "$SCRATCH/report"
            status=1
        fi
    done
    return $status
}
check "no proxy's stderr holds a sanitizer report" no_sanitizer_reports
for f in "$SCRATCH"/*/*.err; do
    case $f in *.run.err) continue ;; esac
    if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$f" 2>/dev/null; then
        echo "# note: origin ${f#"$SCRATCH"/} has a sanitizer report (origin, not proxy)"
    fi
done

echo "# e2e time: $(elapsed "$suite_start")s"
summary
