#!/usr/bin/env bash
# bench/idle.sh: memory with many idle keep-alive clients. For rpx, HAProxy
# and nginx (one worker each, configured as run.sh does): RSS at rest, then
# bench/idleconn opens N connections (default 10,000), each does one small
# GET and stays open and idle; the proxy's VmRSS (all its processes) is read
# once all are answered and again after HOLD/2 s. Target (issue 4): rpx at
# most HAProxy's.
#
# usage: bench/idle.sh [-O BUILD] [-n CONNS] [-H HOLD] [-t TARGETS]
#   -O BUILD   build folder                        (default build)
#   -n N       idle client connections             (default 10000)
#   -H S       seconds the connections stay idle   (default 10)
#   -t LIST    targets                             (default rpx,haproxy,nginx)
# The open-files limit must allow N descriptors in both the client and the
# proxy (this script raises the soft limit to the hard one).
set -u
cd "$(dirname "$0")/.."
O=build CONNS=10000 HOLD=10 TARGETS=rpx,haproxy,nginx
while getopts "O:n:H:t:h" o; do
    case $o in
    O) O=$OPTARG ;; n) CONNS=$OPTARG ;; H) HOLD=$OPTARG ;; t) TARGETS=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((CONNS + 200)) ] || die "ulimit -n $(ulimit -n) is too low for $CONNS connections"
RUN=$(mktemp -d /tmp/rpx-idle.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
cc -O2 -o "$RUN/idleconn" bench/idleconn.c || die "cannot build idleconn"
start_origin

echo "# $(date -u +%FT%TZ) $CONNS idle keep-alive clients (one GET each), 1 worker each; RSS in kB"
printf '%-8s %10s %12s %12s %10s %s\n' target rss_rest rss_loaded rss_later kB/conn note
for t in ${TARGETS//,/ }; do
    command -v "$t" >/dev/null || [ "$t" = rpx ] || { log "$t is not installed: skipped"; continue; }
    start_target "$t" 1 || continue
    rest=$(rss_kb "$t")
    "$RUN/idleconn" "${PORT[$t]}" "$CONNS" "$HOLD" >"$RUN/idle.$t.out" 2>&1 &
    ic=$!
    PIDS+=($ic)
    for _ in $(seq 600); do
        grep -q '^ready' "$RUN/idle.$t.out" && break
        kill -0 "$ic" 2>/dev/null || break
        sleep 0.1
    done
    note=""
    if grep -q '^ready' "$RUN/idle.$t.out"; then
        sleep 1
        loaded=$(rss_kb "$t")
        sleep $((HOLD / 2))
        later=$(rss_kb "$t")
    else
        loaded=- later=-
        note="idleconn failed: $(tail -n 1 "$RUN/idle.$t.out")"
    fi
    wait "$ic" || note="${note:-some connections were closed: $(grep closed "$RUN/idle.$t.out")}"
    per=$(awk -v a="$later" -v b="$rest" -v n="$CONNS" 'BEGIN { if (a ~ /^[0-9]+$/) printf "%.2f", (a - b) / n; else print "-" }')
    printf '%-8s %10s %12s %12s %10s %s\n' "$t" "$rest" "$loaded" "$later" "$per" "$note"
    stop_target "$t"
done
