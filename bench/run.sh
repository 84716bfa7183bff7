#!/usr/bin/env bash
# bench/run.sh: requests/s and latency of rpx beside HAProxy and nginx (when
# installed: tools/deps.sh --bench) and beside the origin itself, in front of
# the same origin, with wrk, in interleaved rounds (direct rpx haproxy nginx,
# direct rpx ...), so a slow stretch of this shared machine hits every target.
#
# usage: bench/run.sh [-O BUILD] [-r ROUNDS] [-d SECONDS] [-c CONNS] [-s PATH]
#   -O BUILD   build folder with bin/rpx and tests/origin       (default build)
#   -r N       rounds                                           (default 5)
#   -d S       seconds per wrk run                              (default 5)
#   -c N       wrk connections                                  (default 50)
#   -s PATH    request path on the origin, e.g. /bytes/10k      (default /bytes/6)
#   -w N       rpx workers (HAProxy threads, nginx workers too) (default 1)
#
# Prints one row per target: median requests/s over rounds, min-max, median
# p50 and p99 latency, errors (socket errors + non-2xx), and the median of the
# per-round ratios to direct and to HAProxy. Raw rows: $RUN/results.tsv.
# Everything runs on 127.0.0.1 and is stopped by PID at exit.
set -u
cd "$(dirname "$0")/.."
O=build ROUNDS=5 DUR=5 CONNS=50 REQ=/bytes/6 WORKERS=1
while getopts "O:r:d:c:s:w:h" o; do
    case $o in
    O) O=$OPTARG ;; r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;;
    s) REQ=$OPTARG ;; w) WORKERS=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "bench: wrk is missing (tools/deps.sh)" >&2; exit 2; }
[ -x "$O/bin/rpx" ] || { echo "bench: $O/bin/rpx is missing (make)" >&2; exit 2; }

RUN=$(mktemp -d /tmp/rpx-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a port nothing listens on, from the ephemeral range
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
    done
}

wait_up() { # wait_up PORT: until something answers HTTP there (5 s at most)
    for _ in $(seq 50); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1$REQ" && return 0
        sleep 0.1
    done
    return 1
}

ORIGIN_PORT=$(free_port)
"$O/tests/origin" serve --port "$ORIGIN_PORT" --name origin 2>"$RUN/origin.log" &
PIDS+=($!)
wait_up "$ORIGIN_PORT" || { echo "bench: the origin did not start" >&2; exit 1; }

declare -A PORT
TARGETS=(direct)
PORT[direct]=$ORIGIN_PORT

# rpx, built from a policy that sends everything to the origin.
PORT[rpx]=$(free_port)
cat > "$RUN/bench.rp" <<EOF
listen 127.0.0.1:${PORT[rpx]}
backend origin { server o 127.0.0.1:$ORIGIN_PORT }
route default { proxy origin }
EOF
"$O/bin/rpx" build "$RUN/bench.rp" -o "$RUN/rpx-proxy" || exit 1
"$RUN/rpx-proxy" -q -w "$WORKERS" 2>"$RUN/rpx.log" &
PIDS+=($!)
wait_up "${PORT[rpx]}" && TARGETS+=(rpx) || echo "bench: rpx did not start" >&2

# HAProxy and nginx, configured for the same work: keep-alive on both sides.
if command -v haproxy >/dev/null; then
    PORT[haproxy]=$(free_port)
    cat > "$RUN/haproxy.cfg" <<EOF
global
    nbthread $WORKERS
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:${PORT[haproxy]}
    default_backend be
backend be
    server origin 127.0.0.1:$ORIGIN_PORT
EOF
    haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
    PIDS+=($!)
    wait_up "${PORT[haproxy]}" && TARGETS+=(haproxy)
fi
if command -v nginx >/dev/null; then
    PORT[nginx]=$(free_port)
    mkdir -p "$RUN/nginx"
    cat > "$RUN/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
pid $RUN/nginx.pid;
error_log $RUN/nginx.err warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path $RUN/nginx/body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    keepalive_requests 100000000;
    upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:${PORT[nginx]};
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
EOF
    nginx -p "$RUN/nginx" -c "$RUN/nginx.conf" >"$RUN/nginx.log" 2>&1 &
    PIDS+=($!)
    wait_up "${PORT[nginx]}" && TARGETS+=(nginx)
fi

to_us() { # wrk latency ("512.00us", "1.23ms", "2.00s") in microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        m = u == "us" ? 1 : u == "ms" ? 1000 : u == "s" ? 1000000 : 1; printf "%.0f", n * m }'
}

echo "# $(date -u +%FT%TZ) $REQ, wrk -t1 -c$CONNS -d${DUR}s, $ROUNDS rounds, $WORKERS worker(s): ${TARGETS[*]}"
printf 'round\ttarget\trps\tp50_us\tp99_us\terrors\n' > "$RUN/results.tsv"
for r in $(seq "$ROUNDS"); do
    for t in "${TARGETS[@]}"; do
        out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:${PORT[$t]}$REQ" 2>&1)
        rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
        p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
        p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
        errs=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
                    /Non-2xx/ { s += $NF } END { print s + 0 }' <<<"$out")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "${rps:-0}" "$p50" "$p99" "$errs" >> "$RUN/results.tsv"
    done
done

# Medians per target, and medians of per-round ratios.
awk -F'\t' '
NR == 1 { next }
{ rps[$2, $1] = $3; p50[$2] = p50[$2] " " $4; p99[$2] = p99[$2] " " $5; err[$2] += $6
  all[$2] = all[$2] " " $3; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } rounds[$1] = 1 }
function median(s,   a, k, i, j, t) {
    k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
function minmax(s,   a, k, i, lo, hi) {
    k = split(s, a, " "); lo = hi = a[1]
    for (i = 2; i <= k; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
    return sprintf("%.0f-%.0f", lo, hi) }
function ratio(t, base,   s, r) {
    if (!(base in seen)) return "-"
    s = ""; for (r in rounds) if (rps[base, r] > 0) s = s " " rps[t, r] / rps[base, r]
    return sprintf("%.2f", median(s)) }
END {
    printf "%-8s %9s %13s %7s %7s %6s %6s %6s\n", "target", "rps_med", "rps_range", "p50_us", "p99_us", "errors", "x_dir", "x_hap"
    for (i = 1; i <= n; i++) { t = order[i]
        printf "%-8s %9.0f %13s %7.0f %7.0f %6d %6s %6s\n", t, median(all[t]), minmax(all[t]),
            median(p50[t]), median(p99[t]), err[t], ratio(t, "direct"), ratio(t, "haproxy") }
}' "$RUN/results.tsv"
