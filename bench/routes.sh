#!/bin/sh
# bench/routes.sh [BUILD_DIR]: route matching cost with 1 route against
# 10,000 routes (per decision, same request paths), and how long `rpx
# build` takes for the 10,000-route policy.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
rpx=$PWD/$build/bin/rpx
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpx-routes.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen() { # N FILE
    {
        echo "listen :8080"
        echo "backend app { server a 127.0.0.1:9001 }"
        i=0
        while [ "$i" -lt "$1" ]; do
            echo "route path \"/r/$i/\" { proxy app }"
            i=$((i + 1))
        done
        echo "route default { respond 404 }"
    } >"$2"
}
gen 1 "$tmp/one.rp"
gen 10000 "$tmp/many.rp"

start=$(date +%s.%N)
"$rpx" build "$tmp/many.rp" -o "$tmp/many-proxy"
end=$(date +%s.%N)
echo "rpx build, 10000 routes: $(echo "$end - $start" | bc) s"

for n in one many; do
    "$rpx" emit "$tmp/$n.rp" -o "$tmp/$n"
    cc -std=c11 -O2 -I"$build/lib/rpx/include" bench/routes_bench.c "$tmp/$n/$n.c" \
        "$build/lib/rpx/librpx.a" $(cat "$build/lib/rpx/link.flags") -o "$tmp/$n-bench"
    printf '%s: ' "$n"
    "$tmp/$n-bench"
    # Instructions per decision under callgrind, which repeat exactly on a
    # shared machine where nanoseconds do not: the difference of two runs
    # of different lengths cancels start-up.
    if command -v valgrind >/dev/null; then
        for it in 100000 200000; do
            valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$it" "$tmp/$n-bench" "$it" \
                >/dev/null 2>&1
        done
        a=$(callgrind_annotate "$tmp/cg.100000" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        b=$(callgrind_annotate "$tmp/cg.200000" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        echo "$n: $(((b - a) / 100000)) instructions/decision (callgrind)"
    fi
done
