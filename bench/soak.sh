#!/usr/bin/env bash
# bench/soak.sh: a long load through rpx at 2 workers, to show that nothing
# fails and memory stays flat. wrk runs for MINUTES (default 10) with -c 50
# against a mix of paths (small, 10 KB, chunked 64 KB, a POST body every
# tenth request); rpx's VmRSS is sampled every 10 s. Prints the RSS series,
# wrk's totals and errors, and the growth from the first sample taken after
# the first minute to the last. Exit 1 on any error or a growth above 10 %.
#
# usage: bench/soak.sh [-O BUILD] [-m MINUTES] [-c CONNS] [-w WORKERS]
set -u
cd "$(dirname "$0")/.."
O=build MINUTES=10 CONNS=50 WORKERS=2
while getopts "O:m:c:w:h" o; do
    case $o in
    O) O=$OPTARG ;; m) MINUTES=$OPTARG ;; c) CONNS=$OPTARG ;; w) WORKERS=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
command -v wrk >/dev/null || die "wrk is missing (tools/deps.sh)"
RUN=$(mktemp -d /tmp/rpx-soak.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
start_origin
start_target rpx "$WORKERS" || die "rpx did not start"

# A request mix: most small, some larger, some chunked, some with a body.
cat >"$RUN/mix.lua" <<'EOF'
local paths = { "/bytes/6", "/bytes/6", "/bytes/6", "/bytes/10k", "/chunked/65536",
                "/bytes/6", "/bytes/1k", "/status/204", "/bytes/6" }
local body = string.rep("x", 4096)
local n = 0
request = function()
    n = n + 1
    if n % 10 == 0 then
        return wrk.format("POST", "/echo", { ["Content-Length"] = #body }, body)
    end
    return wrk.format("GET", paths[n % #paths + 1])
end
EOF
secs=$((MINUTES * 60))
echo "# $(date -u +%FT%TZ) soak: wrk -t2 -c$CONNS -d${secs}s through rpx -w $WORKERS (request mix), RSS every 10 s"
wrk -t2 -c"$CONNS" -d"${secs}s" --timeout 10s -s "$RUN/mix.lua" \
    "http://127.0.0.1:${PORT[rpx]}" >"$RUN/wrk.out" 2>&1 &
wp=$!
PIDS+=($wp)
: >"$RUN/rss"
start=$SECONDS next=10
while kill -0 "$wp" 2>/dev/null; do
    sleep 1
    t=$((SECONDS - start))
    [ "$t" -ge "$next" ] || continue
    next=$((next + 10))
    kill -0 "${PID[rpx]}" 2>/dev/null || { echo "rpx died at ${t}s"; break; }
    echo "$t $(rss_kb rpx)" >>"$RUN/rss"
done
wait "$wp"
echo "# RSS (kB) every 10 s:"
awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 } END { print "" }' "$RUN/rss"
grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$RUN/wrk.out" | sed 's/^ */# wrk: /'
alive=yes
kill -0 "${PID[rpx]}" 2>/dev/null || alive=no
errors=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
              /Non-2xx/ { s += $NF } END { print s + 0 }' "$RUN/wrk.out")
# Growth: from the first sample after 60 s (pools and buffers warmed; the
# first sample for runs under 2 minutes) to the last.
from=60
[ "$MINUTES" -lt 2 ] && from=0
growth=$(awk -v f=$from '$1 >= f && !b { b = $2 } { l = $2 } END { if (b) printf "%.1f", (l - b) * 100 / b; else print "0" }' "$RUN/rss")
echo "# errors: $errors; rpx alive at the end: $alive; RSS growth from the first sample at or after ${from} s to the last: ${growth}%"
stop_target rpx
[ "$errors" = 0 ] && [ "$alive" = yes ] && awk -v g="$growth" 'BEGIN { exit !(g <= 10) }'
