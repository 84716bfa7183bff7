#!/usr/bin/env bash
# bench/compress.sh: what gzip compression costs in rpx, beside nginx's
# `gzip on` at the same zlib level, in one run. Targets (one worker, one
# process each, in front of the same origin, keep-alive on both sides):
#
#   rpx             rpx without compress: the uncompressed baseline
#   rpx-gzip        rpx, `compress gzip { types ["text/plain"]; min 256; level L }`
#   rpx-br          (only with -t) rpx, `compress br { ... }` (brotli, quality L),
#                   its requests asking for br
#   nginx-gzip      nginx, gzip on; gzip_comp_level L; gzip_types text/plain;
#                   gzip_min_length 256; gzip_http_version 1.0; gzip_proxied
#                   any; gzip_vary on; otherwise lib.sh's conf_nginx (upstream
#                   keep-alive, no access log), so proxy_buffering off: it
#                   streams as rpx does, and passes each read from the server
#                   on with a flush, which gzip turns into a Z_SYNC_FLUSH
#   nginx-gzip-buf  the same with proxy_buffering on (nginx's default, what a
#                   gzip deployment usually runs; proxy_max_temp_file_size 0)
#   nginx           (only with -t) nginx without gzip, lib.sh's conf_nginx
#
# Every request carries `Accept-Encoding: gzip`; the origin answers
# GET /bytes/N (text/plain, Content-Length; -k: /chunked/N, chunked). Before
# any load, each target's answer to each size, /bytes/N and /chunked/N, is
# checked with curl: Content-Encoding: gzip from the gzip targets and none
# from the others, and the body (through gzip -dc) must be the origin's
# bytes (`origin crc32` against `origin gen N | origin crc32`); any mismatch
# stops the run. Then, in interleaved rounds (round 1: 1k with each target,
# 10k with each target, ...; round 2: ...), wrk -t1 -cC -dS per point:
#
#   req/s       wrk's requests/s (median over rounds; min-max)
#   bytes/req   bytes the client read per response, head and chunk framing
#               included (wrk's summary.bytes / summary.requests)
#   cpu us/req  the proxy's own CPU time during the wrk run (utime + stime of
#               all its threads, from /proc, in clock ticks of 10 ms) over the
#               responses: wrk and the origin share the machine's CPUs, so
#               this is the steadier figure of what compression costs
#   rpx-gzip/this  on the nginx-gzip rows: medians of the per-round ratios
#               rpx-gzip / that row, for req/s and for cpu us/req
#
# The table goes to stdout and, with the command, versions, the body sizes
# seen by curl and the configurations, to bench/results/compress-DATE.txt.
#
# usage: bench/compress.sh [-O BUILD] [-z SIZES] [-r ROUNDS] [-d SECONDS] [-c CONNS]
#                          [-l LEVEL] [-t TARGETS] [-k] [-E VAR=VALUE] [-o FILE] [-N NOTE]
#   -O BUILD   build folder with bin/rpx and tests/origin  (default build-bench)
#   -z LIST    body sizes, comma-separated                 (default 1k,10k,100k,1m)
#   -r N       rounds                                      (default 2)
#   -d S       seconds per wrk run                         (default 3)
#   -c N       wrk connections                             (default 4)
#   -l N       zlib level for both proxies                 (default 5)
#   -t LIST    targets, comma-separated, among rpx, rpx-gzip, nginx-gzip,
#              nginx-gzip-buf, nginx       (default rpx,rpx-gzip,nginx-gzip,nginx-gzip-buf)
#   -k         measure GET /chunked/N instead of /bytes/N
#   -E VAR=VAL an environment variable for the rpx processes (repeatable),
#              e.g. -E GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824
#   -o FILE    results file  (default bench/results/compress-YYYYMMDD-HHMMSS.txt)
#   -N NOTE    a line of note for the results file (e.g. how BUILD was built)
# Defaults: 4 sizes x 4 targets x 2 rounds x 3 s, about 2 min in all.
# Everything runs on 127.0.0.1 on free ports below the ephemeral range, and
# every process started is stopped by its PID at exit, also on Ctrl-C or
# failure.
set -u
cd "$(dirname "$0")/.." || exit 2
O=build-bench SIZES=1k,10k,100k,1m ROUNDS=2 DUR=3 CONNS=4 LEVEL=5
TARGETS=rpx,rpx-gzip,nginx-gzip,nginx-gzip-buf KIND=bytes OUT="" NOTE="" RPXENV=()
ARGS=$(printf ' %q' "$@")
while getopts "O:z:r:d:c:l:t:kE:o:N:h" o; do
    case $o in
    O) O=$OPTARG ;; z) SIZES=$OPTARG ;; r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;;
    c) CONNS=$OPTARG ;; l) LEVEL=$OPTARG ;; t) TARGETS=$OPTARG ;; k) KIND=chunked ;;
    E) [[ $OPTARG == [A-Za-z_]*=* ]] || { echo "-E takes VAR=VALUE" >&2; exit 2; }; RPXENV+=("$OPTARG") ;;
    o) OUT=$OPTARG ;; N) NOTE=$OPTARG ;;
    *) sed -n '2,58p' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
for t in wrk curl gzip; do command -v $t >/dev/null || die "$t is missing (tools/deps.sh --bench)"; done
[ -x "$O/bin/rpx" ] && [ -x "$O/tests/origin" ] || die "$O/bin/rpx or $O/tests/origin is missing (make O=$O)"
[[ $LEVEL =~ ^[1-9]$ ]] || die "-l takes a zlib level, 1 to 9"
for n in ROUNDS DUR CONNS; do [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number"; done
for t in ${TARGETS//,/ }; do
    case $t in
    rpx | rpx-gzip | rpx-br) ;;
    nginx | nginx-gzip | nginx-gzip-buf) command -v nginx >/dev/null || die "nginx is missing (tools/deps.sh --bench)" ;;
    *) die "unknown target $t (rpx, rpx-gzip, rpx-br, nginx-gzip, nginx-gzip-buf, nginx)" ;;
    esac
done
RUN=$(mktemp -d /tmp/rpx-compress.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
ORIGIN=$O/tests/origin
HZ=$(getconf CLK_TCK)

# bytes SIZE: SIZE (with k, m, g: 1024-based) in bytes.
bytes()
{
    local n=${1%[kmgKMG]} m=1
    [[ $n =~ ^[0-9]+$ ]] || die "bad size $1"
    case $1 in *[kK]) m=1024 ;; *[mM]) m=1048576 ;; *[gG]) m=1073741824 ;; esac
    echo $((n * m))
}
for s in ${SIZES//,/ }; do bytes "$s" >/dev/null; done

start_origin

# rpx-gzip: the one-route policy of lib.sh with the compress step.
cat >"$RUN/compress.rp" <<EOF
listen 127.0.0.1:8080
backend origin { server o 127.0.0.1:${PORT[origin]} }
route default {
    compress gzip { types ["text/plain"]; min 256; level $LEVEL }
    proxy origin
}
EOF
if [[ ,$TARGETS, == *,rpx-gzip,* ]]; then
    "$O/bin/rpx" build "$RUN/compress.rp" -o "$RUN/rpx-gzip-proxy" >"$RUN/rpx-gzip-build.log" 2>&1 ||
        die "rpx build failed: $(tail -n 3 "$RUN/rpx-gzip-build.log")"
fi
# rpx-br: the same with brotli.
sed 's/compress gzip/compress br/' "$RUN/compress.rp" >"$RUN/compress-br.rp"
if [[ ,$TARGETS, == *,rpx-br,* ]]; then
    "$O/bin/rpx" build "$RUN/compress-br.rp" -o "$RUN/rpx-br-proxy" >"$RUN/rpx-br-build.log" 2>&1 ||
        die "rpx build failed: $(tail -n 3 "$RUN/rpx-br-build.log")"
fi

# nginx-gzip: lib.sh's conf_nginx (one process) plus gzip.
conf_nginx_gzip() # PORT FILE on|off (proxy_buffering)
{
    {
        # Two of these may run at once: a pid file each.
        nginx_preamble 1 off 4096 | sed "s|^pid .*|pid ${2%.conf}.pid;|"
        cat <<EOF
    gzip on;
    gzip_comp_level $LEVEL;
    gzip_types text/plain;
    gzip_min_length 256;
    gzip_http_version 1.0;
    gzip_proxied any;
    gzip_vary on;
    upstream origin { server 127.0.0.1:${PORT[origin]}; keepalive 64; }
    server {
        listen 127.0.0.1:$1;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering $3;
            proxy_max_temp_file_size 0;
            proxy_request_buffering off;
            client_max_body_size 0;
        }
    }
}
EOF
    } >"$2"
}

# start NAME: starts a target on a free port (PORT[NAME], PID[NAME]).
start()
{
    local t=$1
    case $t in
    rpx) start_target rpx 1 env "${RPXENV[@]}" || die "rpx did not start"; return ;;
    nginx) start_target nginx 1 || die "nginx did not start"; return ;;
    rpx-gzip | rpx-br)
        PORT[$t]=$(free_port)
        env "${RPXENV[@]}" "$RUN/$t-proxy" -q -w 1 --listen "127.0.0.1:${PORT[$t]}" 2>"$RUN/$t.log" &
        ;;
    nginx-gzip | nginx-gzip-buf)
        PORT[$t]=$(free_port)
        conf_nginx_gzip "${PORT[$t]}" "$RUN/$t.conf" "$([ "$t" = nginx-gzip ] && echo off || echo on)"
        nginx -p "$RUN/nginx" -e "$RUN/nginx.err" -c "$RUN/$t.conf" >"$RUN/$t.log" 2>&1 &
        ;;
    esac
    PID[$t]=$!
    PIDS+=($!)
    wait_up "${PORT[$t]}" || die "$t did not start: $(tail -n 2 "$RUN/$t.log" 2>/dev/null)"
}

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

# check TARGET PATH N: the answer to GET PATH is 200, gzip-coded exactly when
# TARGET compresses, and its body, inflated, is the origin's N bytes.
check()
{
    local t=$1 path=$2 n=$3 h=$RUN/check.head b=$RUN/check.body ce want got
    local code
    code=$(curl -s --max-time 10 -H 'Accept-Encoding: gzip' -D "$h" -o "$b" -w '%{http_code}' \
        "http://127.0.0.1:${PORT[$t]}$path") || die "$t $path: curl failed"
    [ "$code" = 200 ] || die "$t $path: status $code"
    ce=$(tr -d '\r' <"$h" | awk -F': *' 'tolower($1) == "content-encoding" { print tolower($2) }')
    want=$("$ORIGIN" gen "$n" | "$ORIGIN" crc32)
    case $t in
    rpx-br)
        code=$(curl -s --max-time 10 -H 'Accept-Encoding: br' -D "$h" -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:${PORT[$t]}$path")
        ce=$(tr -d '\r' <"$h" | awk -F': *' 'tolower($1) == "content-encoding" { print tolower($2) }')
        [ "$ce" = br ] || die "$t $path: Content-Encoding '${ce:-none}', not br"
        curl -s --max-time 10 -H 'Accept-Encoding: br' -o "$b" "http://127.0.0.1:${PORT[$t]}$path"
        got=$(curl -s --max-time 10 --compressed -H 'Accept-Encoding: br' \
            "http://127.0.0.1:${PORT[$t]}$path" | "$ORIGIN" crc32)
        ;;
    *-gzip | *-gzip-buf)
        [ "$ce" = gzip ] || die "$t $path: Content-Encoding '${ce:-none}', not gzip: $(tr -d '\r' <"$h" | tr '\n' '|')"
        got=$(set -o pipefail; gzip -dc <"$b" | "$ORIGIN" crc32) || die "$t $path: the body does not inflate"
        ;;
    *)
        [ -z "$ce" ] || die "$t $path: Content-Encoding '$ce' from a target that does not compress"
        got=$("$ORIGIN" crc32 <"$b")
        ;;
    esac
    [ "$got" = "$want" ] || die "$t $path: body $got, origin's $want"
    printf '%s %s %s\n' "$t" "$path" "$(stat -c %s "$b")" >>"$RUN/checks.txt"
}

# wrk script: one line with the exact totals (wrk's own "read" is rounded).
cat >"$RUN/sum.lua" <<'EOF'
wrk.headers["Accept-Encoding"] = "gzip"
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("SUM %d %d %d %d\n", summary.requests, summary.bytes,
        e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
sed 's/= "gzip"/= "br"/' "$RUN/sum.lua" >"$RUN/sum-br.lua"

STARTED=$(date -u +%FT%TZ) LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for t in ${TARGETS//,/ }; do start "$t"; done
: >"$RUN/checks.txt"
for t in ${TARGETS//,/ }; do
    for s in ${SIZES//,/ }; do
        n=$(bytes "$s")
        check "$t" "/bytes/$n" "$n"
        check "$t" "/chunked/$n" "$n"
    done
done
log "checked: every target answers every size (/bytes and /chunked) with the origin's bytes, gzip-coded by the gzip targets"

printf 'size\tround\ttarget\trps\tbytes_req\tcpu_us_req\terrors\n' >"$RUN/results.tsv"
for r in $(seq "$ROUNDS"); do
    for s in ${SIZES//,/ }; do
        n=$(bytes "$s")
        for t in ${TARGETS//,/ }; do
            c0=$(cpu_ticks "$t")
            script=$RUN/sum.lua
            [ "$t" = rpx-br ] && script=$RUN/sum-br.lua
            out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 10s -s "$script" \
                "http://127.0.0.1:${PORT[$t]}/$KIND/$n" 2>&1)
            c1=$(cpu_ticks "$t")
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
            read -r reqs rbytes serr nerr < <(awk '$1 == "SUM" { print $2, $3, $4, $5 }' <<<"$out")
            [ -n "${reqs:-}" ] && [ "$reqs" -gt 0 ] || die "$t $s: no requests: $(tail -n 3 <<<"$out")"
            [ $((serr + nerr)) = 0 ] || log "WARNING: $t $s round $r: $serr socket errors, $nerr non-2xx"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$t" "$rps" \
                "$(awk -v b="$rbytes" -v n="$reqs" 'BEGIN { printf "%.0f", b / n }')" \
                "$(awk -v c=$((c1 - c0)) -v n="$reqs" -v hz="$HZ" 'BEGIN { printf "%.1f", c * 1000000 / hz / n }')" \
                $((serr + nerr)) >>"$RUN/results.tsv"
            log "$(date -u +%TZ) round $r, $s, $t: $rps req/s"
        done
    done
done
for t in ${TARGETS//,/ }; do kill -0 "${PID[$t]}" 2>/dev/null || log "WARNING: $t died during the run"; done

# The table: medians per size and target; on the nginx gzip rows, rpx-gzip / that row as
# medians of per-round ratios.
table()
{
    awk -F'\t' '
    NR == 1 { next }
    { k = $1 SUBSEP $3; rps[$1, $3, $2] = $4; cpu[$1, $3, $2] = $6; rounds[$1, $2] = 1
      all[k] = all[k] " " $4; b[k] = b[k] " " $5; c[k] = c[k] " " $6; err[k] += $7
      if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
    function median(s,   a, m, i, j, t) {
        m = split(s, a, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
    function range(s,   a, m, i, lo, hi) {
        m = split(s, a, " "); lo = hi = a[1]
        for (i = 2; i <= m; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
        return sprintf("%.0f-%.0f", lo, hi) }
    function ratio(v, s, t,   q, x, p, r) {
        if (!((s SUBSEP "rpx-gzip") in seen)) return "-"
        q = ""; for (x in rounds) { split(x, p, SUBSEP); if (p[1] != s) continue; r = p[2]
            if (v[s, t, r] > 0) q = q " " v[s, "rpx-gzip", r] / v[s, t, r] }
        return q == "" ? "-" : sprintf("%.2f", median(q)) }
    BEGIN {
        print "| size | target | req/s | req/s range | bytes/req | cpu us/req | errors | req/s rpx-gzip/this | cpu rpx-gzip/this |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    }
    END {
        for (i = 1; i <= n; i++) { split(order[i], kk, SUBSEP); s = kk[1]; t = kk[2]
            g = t ~ /^nginx-gzip/
            printf "| %s | %s | %.0f | %s | %.0f | %.1f | %d | %s | %s |\n", s, t, median(all[order[i]]),
                range(all[order[i]]), median(b[order[i]]), median(c[order[i]]), err[order[i]],
                g ? ratio(rps, s, t) : "", g ? ratio(cpu, s, t) : "" }
    }' "$RUN/results.tsv"
}

[ -n "$OUT" ] || { mkdir -p bench/results && OUT=bench/results/compress-$(date -u +%Y%m%d-%H%M%S).txt; }
{
    echo "# bench/compress.sh$ARGS"
    echo "# started $STARTED, ended $(date -u +%FT%TZ); $(git rev-parse --short HEAD 2>/dev/null); build $O; $(nproc) CPUs, load average at the start $LOAD"
    [ -z "$NOTE" ] || echo "# $NOTE"
    echo "# wrk -t1 -c$CONNS -d${DUR}s GET /$KIND/N with Accept-Encoding: gzip, $ROUNDS rounds interleaved; zlib level $LEVEL; one worker each"
    [ "${#RPXENV[@]}" = 0 ] || echo "# rpx environment: ${RPXENV[*]}"
    echo "# $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), zlib $(dpkg-query -W -f='${Version}' zlib1g 2>/dev/null)"
    echo "# body bytes as checked with curl (target path bytes):"
    sed 's/^/#   /' "$RUN/checks.txt"
    echo
    table
    echo
    echo "## Configurations"
    for f in "$RUN/compress.rp" "$RUN/nginx-gzip.conf" "$RUN/nginx-gzip-buf.conf"; do
        [ -f "$f" ] || continue
        echo
        echo "### ${f##*/}"
        sed 's/^/    /' "$f"
    done
} >"$OUT"
table
log "results: $OUT"
