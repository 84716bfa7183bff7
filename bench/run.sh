#!/usr/bin/env bash
# bench/run.sh: requests/s and latency of rpx beside HAProxy and nginx (when
# installed: tools/deps.sh --bench) and beside the origin itself, in front of
# the same origin, with wrk, in interleaved rounds (direct rpx haproxy nginx,
# direct rpx ...), so a slow stretch of this shared machine hits every target.
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
#   custom     GET PATH (-s)
#
# Prints one row per scenario and target: median requests/s over rounds,
# min-max, median p50 and p99 latency, errors (socket errors + non-2xx), and
# the median of the per-round ratios to direct and to HAProxy. Raw rows:
# $RUN/results.tsv (printed at the end with -v). Everything runs on
# 127.0.0.1 and is stopped by PID at exit.
set -u
cd "$(dirname "$0")/.."
O=build ROUNDS=5 DUR=5 CONNS=50 SCEN=small CUSTOM=/bytes/6 WORKERS=1
while getopts "O:r:d:c:S:s:w:h" o; do
    case $o in
    O) O=$OPTARG ;; r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;;
    S) SCEN=$OPTARG ;; s) CUSTOM=$OPTARG; SCEN=custom ;; w) WORKERS=$OPTARG ;;
    *) sed -n '2,28p' "$0"; exit 2 ;;
    esac
done
[ "$SCEN" = all ] && SCEN=small,10k,1m,post1m,newconn,workers2
. bench/lib.sh
command -v wrk >/dev/null || die "wrk is missing (tools/deps.sh)"
[ -x "$O/bin/rpx" ] || die "$O/bin/rpx is missing (make)"
RUN=$(mktemp -d /tmp/rpx-bench.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
start_origin

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

printf 'scenario\tround\ttarget\trps\tp50_us\tp99_us\terrors\n' >"$RUN/results.tsv"
for s in ${SCEN//,/ }; do
    path=/bytes/6 script=() conns=$CONNS w=$WORKERS
    case $s in
    small) ;;
    10k) path=/bytes/10k ;;
    1m) path=/bytes/1m conns=10 ;;
    post1m) path=/echo script=(-s "$RUN/post1m.lua") conns=10 ;;
    newconn) script=(-s "$RUN/newconn.lua") ;;
    workers2) w=2 ;;
    custom) path=$CUSTOM ;;
    *) die "unknown scenario $s" ;;
    esac
    targets=(direct)
    PORT[direct]=${PORT[origin]}
    for t in rpx haproxy nginx; do
        command -v "$t" >/dev/null || [ "$t" = rpx ] || continue
        start_target "$t" "$w" && targets+=("$t")
    done
    echo "# $(date -u +%FT%TZ) $s: ${script[*]:+${script[*]##*/} }$path, wrk -t1 -c$conns -d${DUR}s, $ROUNDS rounds, $w worker(s): ${targets[*]}" >&2
    for r in $(seq "$ROUNDS"); do
        for t in "${targets[@]}"; do
            out=$(wrk -t1 -c"$conns" -d"${DUR}s" --timeout 10s --latency "${script[@]}" \
                "http://127.0.0.1:${PORT[$t]}$path" 2>&1)
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
            p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
            p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
            errs=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
                        /Non-2xx/ { s += $NF } END { print s + 0 }' <<<"$out")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$t" "${rps:-0}" "$p50" "$p99" "$errs" >>"$RUN/results.tsv"
        done
    done
    for t in rpx haproxy nginx; do stop_target "$t"; done
done

# Medians per scenario and target, and medians of per-round ratios.
awk -F'\t' '
NR == 1 { next }
{ k = $1 SUBSEP $3; rps[$1, $3, $2] = $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
  err[k] += $7; all[k] = all[k] " " $4; rounds[$1, $2] = 1
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
    printf "%-9s %-8s %9s %13s %7s %7s %6s %6s %6s\n", "scenario", "target", "rps_med", "rps_range",
        "p50_us", "p99_us", "errors", "x_dir", "x_hap"
    for (i = 1; i <= n; i++) { split(order[i], kk, SUBSEP); s = kk[1]; t = kk[2]
        printf "%-9s %-8s %9.0f %13s %7.0f %7.0f %6d %6s %6s\n", s, t, median(all[order[i]]),
            minmax(all[order[i]]), median(p50[order[i]]), median(p99[order[i]]), err[order[i]],
            ratio(s, t, "direct"), ratio(s, t, "haproxy") }
}' "$RUN/results.tsv"
