#!/usr/bin/env bash
# bench/soak.sh: a long load through rpx at 2 workers, to show that nothing
# fails and memory stays flat. wrk runs for MINUTES (default 10) with -c 50
# against a mix of paths (small, 10 KB, chunked 64 KB, a POST body every
# tenth request); rpx's VmRSS is sampled every 10 s. Prints the RSS series,
# wrk's totals and errors, and the growth from the first sample taken after
# the first minute to the last. Exit 1 on any error or a growth above 10 %.
#
# Cache mode (-C): the route is `cache { max_size 32m; ttl 1h }; proxy
# origin` and the mix, per 40 requests (each wrk thread its own counter):
#   18 GETs of a hot set of 200 keys, 1-8 KB, max-age=3600 (hits)
#   12 GETs of a key never asked before, 2-48 KB (random), max-age=3600:
#      misses that are stored, ~25 KB each, so at thousands a second the
#      store is full within seconds and evicts all the time
#    6 GETs answered with Cache-Control: no-store, 1-16 KB, among 100,000 keys
#    3 POSTs of 4 KB to /echo
#    1 POST to a hot key, which removes it from the store (the next GET
#      fetches it again)
# The bound is on memory: a first phase (-b SECONDS, default 60) runs the
# same mix through rpx without `cache` and takes its largest RSS as the
# baseline B (connection buffers, pools: what rpx holds without a store);
# then the soak, through rpx with the cache. Pass: no wrk error or non-2xx,
# rpx alive, and its RSS (each sample, and VmHWM at the end) at most B +
# 32 MB + 25 % (B + 40 MB). The first minute's samples cannot serve as the
# baseline: the store fills in its first seconds. The origin's count of
# /cache/ requests (its X-Seq) gives how many hot GETs reached it, hence a
# hit ratio for the hot set (approximate: the mix is counted by slots).
#
# usage: bench/soak.sh [-C] [-O BUILD] [-m MINUTES] [-c CONNS] [-w WORKERS] [-b SECONDS]
set -u
cd "$(dirname "$0")/.." || exit 2
O=build MINUTES=10 CONNS=50 WORKERS=2 CMODE=0 BASESECS=60
STORE_MB=32
while getopts "O:m:c:w:b:Ch" o; do
    case $o in
    O) O=$OPTARG ;; m) MINUTES=$OPTARG ;; c) CONNS=$OPTARG ;; w) WORKERS=$OPTARG ;;
    b) BASESECS=$OPTARG ;; C) CMODE=1 ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
command -v wrk >/dev/null || die "wrk is missing (tools/deps.sh)"
RUN=$(mktemp -d /tmp/rpx-soak.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
start_origin

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
# The cache mix (above). setup() runs in wrk's main state, once per thread,
# and gives each thread its id, so that cold keys never repeat.
cat >"$RUN/cache.lua" <<'EOF'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
local cc = "?h=Cache-Control:max-age%3D3600&n="
local body = string.rep("x", 4096)
local n = 0
function init(args)
    math.randomseed(tid * 7919 + os.time())
end
local function hot(k)
    return "/cache/hot" .. k .. cc .. (1024 * (1 + k % 8))
end
request = function()
    n = n + 1
    local s = n % 40
    if s < 18 then
        return wrk.format("GET", hot(math.random(200)))
    elseif s < 30 then
        return wrk.format("GET", "/cache/cold-" .. tid .. "-" .. n .. cc .. math.random(2048, 49152))
    elseif s < 36 then
        return wrk.format("GET", "/cache/ns" .. math.random(100000) ..
            "?h=Cache-Control:no-store&n=" .. math.random(1024, 16384))
    elseif s < 39 then
        return wrk.format("POST", "/echo", { ["Content-Length"] = #body }, body)
    end
    return wrk.format("POST", hot(math.random(200)), { ["Content-Length"] = #body }, body)
end
EOF

# load SECONDS TAG SCRIPT: wrk -t2 for SECONDS through rpx, rpx's RSS every
# 10 s into $RUN/rss.TAG, wrk's output in $RUN/wrk.TAG.
load()
{
    local secs=$1 tag=$2 script=$3 wp t start next
    wrk -t2 -c"$CONNS" -d"${secs}s" --timeout 10s -s "$script" \
        "http://127.0.0.1:${PORT[rpx]}" >"$RUN/wrk.$tag" 2>&1 &
    wp=$!
    PIDS+=($wp)
    : >"$RUN/rss.$tag"
    start=$SECONDS next=10
    while kill -0 "$wp" 2>/dev/null; do
        sleep 1
        t=$((SECONDS - start))
        [ "$t" -ge "$next" ] || continue
        next=$((next + 10))
        kill -0 "${PID[rpx]}" 2>/dev/null || { echo "rpx died at ${t}s"; break; }
        echo "$t $(rss_kb rpx)" >>"$RUN/rss.$tag"
    done
    wait "$wp"
}

# hwm_kb: the summed VmHWM (peak RSS) of rpx's processes, in kB.
hwm_kb()
{
    local p s=0 v
    for p in $(target_pids rpx); do
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# origin_seq: the origin's count of /cache/ requests so far (this probe included).
origin_seq()
{
    curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:${PORT[origin]}/cache/probe" |
        tr -d '\r' | awk -F': *' 'tolower($1) == "x-seq" { print $2 }'
}

wrk_errors() # wrk_errors FILE: socket errors + non-2xx
{
    awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
         /Non-2xx/ { s += $NF } END { print s + 0 }' "$1"
}

secs=$((MINUTES * 60))
base=0 berr=0
if [ "$CMODE" = 1 ]; then
    command -v curl >/dev/null || die "curl is missing"
    RPX_ROUTE='proxy origin'
    start_target rpx "$WORKERS" || die "rpx did not start"
    echo "# $(date -u +%FT%TZ) baseline: wrk -t2 -c$CONNS -d${BASESECS}s through rpx -w $WORKERS without cache (cache mix)"
    load "$BASESECS" base "$RUN/cache.lua"
    base=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$RUN/rss.base")
    bh=$(hwm_kb)
    [ "$bh" -gt "$base" ] && base=$bh
    berr=$(wrk_errors "$RUN/wrk.base")
    echo "# baseline RSS (kB) every 10 s: $(awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }' "$RUN/rss.base"); VmHWM $bh"
    grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$RUN/wrk.base" | sed 's/^ */# baseline wrk: /'
    stop_target rpx
    RPX_ROUTE="cache { max_size ${STORE_MB}m; ttl 1h }; proxy origin"
    start_target rpx "$WORKERS" || die "rpx did not start"
    rest=$(rss_kb rpx)
    seq0=$(origin_seq)
    limit=$((base + STORE_MB * 1024 * 125 / 100))
    echo "# $(date -u +%FT%TZ) soak: wrk -t2 -c$CONNS -d${secs}s through rpx -w $WORKERS, route { $RPX_ROUTE }, cache mix, RSS every 10 s (at rest: $rest kB)"
    echo "# bound: baseline $base kB + ${STORE_MB} MB + 25 % = $limit kB"
    load "$secs" soak "$RUN/cache.lua"
else
    start_target rpx "$WORKERS" || die "rpx did not start"
    echo "# $(date -u +%FT%TZ) soak: wrk -t2 -c$CONNS -d${secs}s through rpx -w $WORKERS (request mix), RSS every 10 s"
    load "$secs" soak "$RUN/mix.lua"
fi
echo "# RSS (kB) every 10 s:"
awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 } END { print "" }' "$RUN/rss.soak"
grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$RUN/wrk.soak" | sed 's/^ */# wrk: /'
alive=yes
kill -0 "${PID[rpx]}" 2>/dev/null || alive=no
errors=$(wrk_errors "$RUN/wrk.soak")
# Growth: from the first sample after 60 s (pools and buffers warmed; the
# first sample for runs under 2 minutes) to the last.
from=60
[ "$MINUTES" -lt 2 ] && from=0
growth=$(awk -v f=$from '$1 >= f && !b { b = $2 } { l = $2 } END { if (b) printf "%.1f", (l - b) * 100 / b; else print "0" }' "$RUN/rss.soak")
echo "# errors: $errors; rpx alive at the end: $alive; RSS growth from the first sample at or after ${from} s to the last: ${growth}%"
if [ "$CMODE" = 1 ]; then
    peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$RUN/rss.soak")
    hwm=0
    [ "$alive" = yes ] && hwm=$(hwm_kb)
    seq1=$(origin_seq)
    # /cache/ requests the origin answered during the soak (the two probes out).
    oreq=$((seq1 - seq0 - 1))
    reqs=$(awk '/ requests in / { print $1 }' "$RUN/wrk.soak")
    awk -v r="${reqs:-0}" -v o="$oreq" 'BEGIN {
        hot = r * 18 / 40; cold = r * 12 / 40; ns = r * 6 / 40; post = r / 40
        miss = o - cold - ns - post; if (miss < 0) miss = 0
        printf "# origin: %d /cache/ requests during the soak; by the mix ~%.0f cold + %.0f no-store + %.0f POST to hot keys\n", o, cold, ns, post
        printf "# hot GETs ~%.0f, of which ~%.0f reached the origin: hot hit ratio ~%.1f%%\n", hot, miss, hot ? 100 - miss * 100 / hot : 0 }'
    verdict=PASS
    [ "$errors" = 0 ] && [ "$alive" = yes ] && [ "$peak" -le "$limit" ] && [ "$hwm" -le "$limit" ] || verdict=FAIL
    echo "# RSS: largest sample $peak kB, VmHWM $hwm kB, bound $limit kB (baseline $base kB + ${STORE_MB} MB + 25 %; baseline phase errors: $berr): $verdict"
    stop_target rpx
    [ "$verdict" = PASS ]
    exit
fi
stop_target rpx
[ "$errors" = 0 ] && [ "$alive" = yes ] && awk -v g="$growth" 'BEGIN { exit !(g <= 10) }'
