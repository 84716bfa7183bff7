#!/usr/bin/env bash
# bench/run.sh: requests/s and latency of rpx beside HAProxy and nginx (when
# installed: tools/deps.sh --bench; and Varnish in the scenario "cache") and
# beside the origin itself, in front of the same origin, with wrk, in
# interleaved rounds (direct rpx haproxy nginx, direct rpx ...), so a slow
# stretch of this shared machine hits every target.
#
# usage: bench/run.sh [-O BUILD] [-r ROUNDS] [-d SECONDS] [-c CONNS] [-S SCENARIOS] [-s PATH] [-w N]
#   -O BUILD   build folder with bin/rpx and tests/origin       (default build)
#   -r N       rounds                                           (default 5)
#   -d S       seconds per wrk run                              (default 5)
#   -c N       wrk connections                                  (default 50)
#   -S LIST    scenarios, comma-separated, or "all"             (default small)
#   -s PATH    request path for the scenario "custom"
#   -w N       workers for every scenario but "workers2"        (default 1)
#
# Scenarios (one worker each unless said):
#   small      GET /bytes/6, keep-alive both sides
#   10k        GET /bytes/10k
#   1m         GET /bytes/1m (wrk -c 10: 50 x 1 MB in flight says little more)
#   post1m     POST of 1 MB to /echo (the origin reads it and answers 16 bytes)
#   newconn    GET /bytes/6 with Connection: close: a new connection per request
#   workers2   GET /bytes/6 at 2 workers (rpx -w 2, nbthread 2, worker_processes 2)
#   cache      cache hits: GET /cache/x?h=Cache-Control:max-age%3D3600&n=1024 (1 KB,
#              max-age=3600), every proxy caching as cpu.sh -C does (lib.sh CACHE=1:
#              rpx `cache { ttl 1h; max_size 64m }`, HAProxy's cache and nginx's
#              proxy_cache of 64 MB) and Varnish (built-in VCL, -s malloc,64m) as a
#              fifth target; one request through each fills its cache before the
#              rounds. Varnish runs a thread per connection whatever -w says: the
#              cpu_us column (below) is the fair comparison. Its own origin logs every
#              request (so "direct" here is that origin, log write included): a
#              proxy that lets one measured request through is reported as NOT
#              SERVING HITS and the script exits 1
#   custom     GET PATH (-s)
#
# Prints one row per scenario and target: median requests/s over rounds,
# min-max, median p50 and p99 latency, errors (socket errors + non-2xx), the
# median CPU time of the target's processes per request (cpu_us: utime +
# stime from /proc over the wrk run; direct: the origin's), and the median
# of the per-round ratios of requests/s to direct, HAProxy, nginx and
# Varnish. Raw rows: $RUN/results.tsv. Everything runs on 127.0.0.1 and is
# stopped by PID at exit.
set -u
cd "$(dirname "$0")/.."
O=build ROUNDS=5 DUR=5 CONNS=50 SCEN=small CUSTOM=/bytes/6 WORKERS=1
while getopts "O:r:d:c:S:s:w:h" o; do
    case $o in
    O) O=$OPTARG ;; r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;;
    S) SCEN=$OPTARG ;; s) CUSTOM=$OPTARG; SCEN=custom ;; w) WORKERS=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
[ "$SCEN" = all ] && SCEN=small,10k,1m,post1m,newconn,workers2,cache
CACHE_PATH='/cache/x?h=Cache-Control:max-age%3D3600&n=1024'
. bench/lib.sh
command -v wrk >/dev/null || die "wrk is missing (tools/deps.sh)"
[ -x "$O/bin/rpx" ] || die "$O/bin/rpx is missing (make)"
RUN=$(mktemp -d /tmp/rpx-bench.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
CACHE=0
start_origin
PLAIN_ORIGIN=${PORT[origin]} PLAIN_ORIGIN_PID=${PID[origin]} CACHE_ORIGIN=
NOTHITS=
HZ=$(getconf CLK_TCK)

# cpu_ticks NAME: utime + stime of the target's processes, in clock ticks.
cpu_ticks()
{
    local p s=0 v
    for p in $(target_pids "$1"); do
        # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# origin_reqs: the requests the cache scenario's origin has had (its log).
origin_reqs()
{
    if [ "$CACHE" = 1 ]; then wc -l <"$RUN/origin.req"; else echo 0; fi
}

# wrk scripts for the scenarios that need one.
head -c 1048576 /dev/zero | tr '\0' x >"$RUN/1m.body"
cat >"$RUN/post1m.lua" <<EOF
local f = io.open("$RUN/1m.body", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
cat >"$RUN/newconn.lua" <<'EOF'
wrk.headers["Connection"] = "close"
EOF

to_us() { # wrk latency ("512.00us", "1.23ms", "2.00s") in microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        m = u == "us" ? 1 : u == "ms" ? 1000 : u == "s" ? 1000000 : 1; printf "%.0f", n * m }'
}

printf 'scenario\tround\ttarget\trps\tp50_us\tp99_us\terrors\tcpu_us\n' >"$RUN/results.tsv"
for s in ${SCEN//,/ }; do
    path=/bytes/6 script=() conns=$CONNS w=$WORKERS proxies=(rpx haproxy nginx)
    CACHE=0 RPX_ROUTE='proxy origin'
    case $s in
    small) ;;
    10k) path=/bytes/10k ;;
    1m) path=/bytes/1m conns=10 ;;
    post1m) path=/echo script=(-s "$RUN/post1m.lua") conns=10 ;;
    newconn) script=(-s "$RUN/newconn.lua") ;;
    workers2) w=2 ;;
    cache)
        path=$CACHE_PATH proxies=(rpx haproxy nginx varnish)
        CACHE=1 RPX_ROUTE='cache { ttl 1h; max_size 64m }; proxy origin'
        ;;
    custom) path=$CUSTOM ;;
    *) die "unknown scenario $s" ;;
    esac
    # The cache scenario has an origin of its own that logs every request
    # (lib.sh, CACHE=1), so that the others keep an origin without the log.
    if [ "$CACHE" = 1 ]; then
        if [ -z "$CACHE_ORIGIN" ]; then
            start_origin
            CACHE_ORIGIN=${PORT[origin]} CACHE_ORIGIN_PID=${PID[origin]}
        fi
        PORT[origin]=$CACHE_ORIGIN PID[origin]=$CACHE_ORIGIN_PID
    else
        PORT[origin]=$PLAIN_ORIGIN PID[origin]=$PLAIN_ORIGIN_PID
    fi
    targets=(direct)
    PORT[direct]=${PORT[origin]} PID[direct]=${PID[origin]}
    for t in "${proxies[@]}"; do
        bin=$t
        [ "$t" = varnish ] && bin=varnishd
        command -v "$bin" >/dev/null || [ "$t" = rpx ] || { log "$t is not installed: skipped"; continue; }
        start_target "$t" "$w" && targets+=("$t")
    done
    if [ "$CACHE" = 1 ]; then
        # Fill each cache with one request; the next must not reach the origin.
        for t in "${targets[@]:1}"; do
            code=$(curl -s -o "$RUN/fill.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[$t]}$path")
            if [ "$code" != 200 ] || [ "$(stat -c %s "$RUN/fill.body")" != 1024 ]; then
                die "$t: $path answered $code with $(stat -c %s "$RUN/fill.body") bytes"
            fi
            before=$(origin_reqs)
            curl -s -o /dev/null --max-time 5 "http://127.0.0.1:${PORT[$t]}$path"
            [ "$(origin_reqs)" = "$before" ] || log "WARNING: $t: the second request reached the origin"
        done
    fi
    echo "# $(date -u +%FT%TZ) $s: ${script[*]:+${script[*]##*/} }$path, wrk -t1 -c$conns -d${DUR}s, $ROUNDS rounds, $w worker(s): ${targets[*]}" >&2
    declare -A missed=()
    for r in $(seq "$ROUNDS"); do
        for t in "${targets[@]}"; do
            before=$(origin_reqs)
            c0=$(cpu_ticks "$t")
            out=$(wrk -t1 -c"$conns" -d"${DUR}s" --timeout 10s --latency "${script[@]}" \
                "http://127.0.0.1:${PORT[$t]}$path" 2>&1)
            c1=$(cpu_ticks "$t")
            [ "$t" = direct ] || missed[$t]=$((${missed[$t]:-0} + $(origin_reqs) - before))
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
            n=$(awk '/ requests in / { print $1 }' <<<"$out")
            p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
            p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
            errs=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
                        /Non-2xx/ { s += $NF } END { print s + 0 }' <<<"$out")
            cpu=$(awk -v c=$((c1 - c0)) -v n="${n:-0}" -v hz="$HZ" 'BEGIN { printf "%.1f", n ? c * 1000000 / hz / n : 0 }')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$t" "${rps:-0}" "$p50" "$p99" "$errs" "$cpu" \
                >>"$RUN/results.tsv"
        done
    done
    if [ "$CACHE" = 1 ]; then
        for t in "${targets[@]:1}"; do
            if [ "${missed[$t]:-0}" = 0 ]; then
                log "$s: $t: no measured request reached the origin"
            else
                echo "bench: $t IS NOT SERVING HITS: ${missed[$t]} measured requests reached the origin" >&2
                NOTHITS="$NOTHITS $t"
            fi
        done
    fi
    unset missed
    for t in "${proxies[@]}"; do stop_target "$t"; done
done

# Medians per scenario and target, and medians of per-round ratios.
awk -F'\t' '
NR == 1 { next }
{ k = $1 SUBSEP $3; rps[$1, $3, $2] = $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
  err[k] += $7; cpu[k] = cpu[k] " " $8; all[k] = all[k] " " $4; rounds[$1, $2] = 1
  if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
function median(s,   a, m, i, j, t) {
    m = split(s, a, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
function minmax(s,   a, m, i, lo, hi) {
    m = split(s, a, " "); lo = hi = a[1]
    for (i = 2; i <= m; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
    return sprintf("%.0f-%.0f", lo, hi) }
function ratio(s, t, base,   q, r, x, parts) {
    if (!((s SUBSEP base) in seen)) return "-"
    q = ""; for (x in rounds) { split(x, parts, SUBSEP); if (parts[1] != s) continue; r = parts[2]
        if (rps[s, base, r] > 0) q = q " " rps[s, t, r] / rps[s, base, r] }
    return sprintf("%.2f", median(q)) }
END {
    printf "%-9s %-8s %9s %13s %7s %7s %6s %7s %6s %6s %6s %6s\n", "scenario", "target", "rps_med",
        "rps_range", "p50_us", "p99_us", "errors", "cpu_us", "x_dir", "x_hap", "x_ngx", "x_var"
    for (i = 1; i <= n; i++) { split(order[i], kk, SUBSEP); s = kk[1]; t = kk[2]
        printf "%-9s %-8s %9.0f %13s %7.0f %7.0f %6d %7.1f %6s %6s %6s %6s\n", s, t, median(all[order[i]]),
            minmax(all[order[i]]), median(p50[order[i]]), median(p99[order[i]]), err[order[i]],
            median(cpu[order[i]]), ratio(s, t, "direct"), ratio(s, t, "haproxy"), ratio(s, t, "nginx"),
            ratio(s, t, "varnish") }
}' "$RUN/results.tsv"
if [ -n "$NOTHITS" ]; then
    echo "bench: NOT SERVING HITS:$NOTHITS" >&2
    exit 1
fi
