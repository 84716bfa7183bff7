#!/usr/bin/env bash
# fuzz.sh BUILD_DIR: the fuzz suite. Builds the libFuzzer targets over the
# parsers that face the network (fuzz/README.md) and runs each for a bounded
# time, so every `make test` fuzzes the current code a little:
#
#   RPX_FUZZ_SECONDS=N         seconds per target (default 20)
#   RPX_FUZZ_TARGETS="a b"     targets to run (default: request response chunked identity cache frontend diff auth h2body)
#
# Prints "ok N - ..." / "not ok N - ..." per check and ends with "N passed,
# N failed"; exits 1 on any failure. A target that crashes, leaks, hangs or
# breaks an invariant fails, and the reproducer it saved is named in the
# output, with the command that replays it. The suite is skipped (reported,
# not failed) only when clang or its fuzzer runtime (libclang-rt-14-dev,
# which tools/deps.sh installs) is not installed at all.
set -u
build=${1:?usage: tests/fuzz.sh BUILD_DIR}
cd "$(dirname "$0")/.."
seconds=${RPX_FUZZ_SECONDS:-20}
read -r -a targets <<<"${RPX_FUZZ_TARGETS:-request response chunked identity cache frontend diff auth h2body}"
CLANG=${CLANG:-clang}
export CLANG

# shellcheck source=tests/tap.sh
. tests/tap.sh # (the repository root is the working directory)

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" = 0 ]; then
    not_ok "RPX_FUZZ_SECONDS is a number of seconds" "got '$seconds'"
    finish
fi

# Can clang link a fuzzer? If not, skip only when the runtime is missing.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d[0] & n; }' \
    >"$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >"$probe/log" 2>&1; then
    missing=
    if ! command -v "$CLANG" >/dev/null; then
        missing="$CLANG is not installed"
    else
        rt=$("$CLANG" -print-file-name="libclang_rt.fuzzer-$(uname -m).a")
        rt2=$("$CLANG" -print-runtime-dir)/libclang_rt.fuzzer.a
        [ -f "$rt" ] || [ -f "$rt2" ] || missing="no libFuzzer runtime ($rt)"
    fi
    if [ -n "$missing" ]; then
        for t in "${targets[@]}"; do
            ok "fuzz $t # SKIP $missing: run tools/deps.sh"
        done
        finish
    fi
    mapfile -t lines < <(tail -n 5 "$probe/log")
    not_ok "clang links a libFuzzer program (its runtime is installed)" "${lines[@]}"
    finish
fi

if fuzz/build.sh "$build" "${targets[@]}" >"$probe/build.log" 2>&1; then
    ok "fuzz targets build: ${targets[*]}"
else
    mapfile -t lines < <(tail -n 15 "$probe/build.log")
    not_ok "fuzz targets build: ${targets[*]}" "${lines[@]}"
    finish
fi

for t in "${targets[@]}"; do
    out=$(fuzz/run.sh -n -b "$build" "$t" "$seconds")
    rc=$?
    head=$(head -n 1 <<<"$out")
    if [ "$rc" = 0 ]; then
        ok "fuzz $head"
    else
        mapfile -t lines < <(tail -n +2 <<<"$out")
        not_ok "fuzz $head" "${lines[@]}"
    fi
done
finish
