#!/usr/bin/env bash
# bench/flap.sh: failover under a flapping server. wrk -t1 -c50 runs for
# SECONDS (default 20) through each proxy while one origin is killed with
# kill -9 every KILL_PERIOD seconds (default 3) and restarted on the same
# port RESTART_DELAY seconds later (default 0.5). Two setups:
#   a   one server (the flapped one)
#   b   two servers, round robin; only the first is flapped, and the proxy
#       should retry idempotent requests on the other
# Proxies, one worker each, configured as an operator would for failover
# (the configurations are printed into the results file):
#   rpx      retries 2 on [connect_error, timeout, reset, 502, 503, 504]
#   nginx    proxy_next_upstream error timeout, keepalive 64 to the upstream
#   haproxy  retries 3, option redispatch, retry-on conn-failure
#            empty-response response-timeout, active checks (inter 1s fall 2
#            rise 2; -n: none)
# The same backend settings are used in both setups; only the server list
# differs. A wrk Lua script counts responses by status (200, 502, 503,
# other) and wrk's socket errors (connect/read/write/timeout). Prints
#   setup | proxy | 200s | 502 | 503 | other | socket errors | share of 200s
# where share = 200s / (responses + socket errors), and writes the table,
# the command and the configurations to bench/results/flap-DATE.txt.
#
# usage: bench/flap.sh [-O BUILD] [-d SECONDS] [-k KILL_PERIOD] [-r RESTART_DELAY]
#                      [-t PROXIES] [-s SETUPS] [-c CONNS] [-o FILE] [-n] [-K]
#   -O BUILD   build folder with bin/rpx and tests/origin       (default build)
#   -d S       seconds of wrk per proxy and setup               (default 20)
#   -k S       kill -9 the flapped origin every S seconds       (default 3)
#   -r S       restart it S seconds after the kill              (default 0.5)
#   -t LIST    proxies, comma-separated: rpx,nginx,haproxy      (default all three)
#   -s LIST    setups, comma-separated: a,b                     (default a,b)
#   -c N       wrk connections                                  (default 50)
#   -o FILE    results file         (default bench/results/flap-YYYYMMDD-HHMMSS.txt)
#   -n         HAProxy without active health checks
#   -K         keep the scratch folder (configs, logs, wrk output)
# Everything runs on 127.0.0.1 on free ports below the ephemeral range, and
# every process started (origins, restarted origins, proxies, wrk) is stopped
# by its PID at exit, also on Ctrl-C or failure.
set -u
cd "$(dirname "$0")/.." || exit 2
O=build DUR=20 KP=3 RD=0.5 TARGETS=rpx,nginx,haproxy SETUPS=a,b CONNS=50 OUT="" HACHECK=1 KEEP=0
ARGS="$*"
while getopts "O:d:k:r:t:s:c:o:nKh" o; do
    case $o in
    O) O=$OPTARG ;; d) DUR=$OPTARG ;; k) KP=$OPTARG ;; r) RD=$OPTARG ;;
    t) TARGETS=$OPTARG ;; s) SETUPS=$OPTARG ;; c) CONNS=$OPTARG ;; o) OUT=$OPTARG ;;
    n) HACHECK=0 ;; K) KEEP=1 ;;
    *) sed -n '2,37p' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
command -v wrk >/dev/null || die "wrk is missing (tools/deps.sh --bench)"
[ -x "$O/bin/rpx" ] && [ -x "$O/tests/origin" ] || die "$O/bin/rpx or $O/tests/origin is missing (make)"
[[ $DUR =~ ^[0-9]+$ ]] && [ "$DUR" -gt 0 ] || die "-d takes whole seconds"

# Seconds (may be fractional) to microseconds, and back.
to_us() { awk -v s="$1" 'BEGIN { if (s !~ /^[0-9]*\.?[0-9]+$/) exit 1; printf "%.0f", s * 1000000 }'; }
from_us() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
KP_US=$(to_us "$KP") && [ "$KP_US" -gt 0 ] || die "-k: a positive number of seconds"
RD_US=$(to_us "$RD") || die "-r: a number of seconds"
[ "$RD_US" -lt "$KP_US" ] || die "-r must be shorter than -k"

RUN=$(mktemp -d /tmp/rpx-flap.XXXXXX)
# Stop everything by PID: bench_cleanup (lib.sh) TERMs every recorded PID,
# waits up to 5 s each and KILLs what is left. PIDS only ever holds live
# processes of ours: a killed origin is reaped and dropped at once, so a
# recycled PID is never signalled.
cleanup()
{
    bench_cleanup
    if [ "$KEEP" = 1 ]; then log "scratch kept: $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() # forget_pid PID: drop PID from PIDS
{
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# Origins: "a" (flapped) and "b" (steady), each always on its own port.
PORT[a]=$(free_port)
while PORT[b]=$(free_port); [ "${PORT[b]}" = "${PORT[a]}" ]; do :; done

start_origin_on() # start_origin_on NAME: origin NAME on PORT[NAME], no wait
{
    "$O/tests/origin" serve --port "${PORT[$1]}" --name "$1" 2>>"$RUN/origin-$1.log" &
    PID[$1]=$!
    PIDS+=($!)
}

stop_origin() # stop_origin NAME: SIGKILL (it holds no state), reap, forget
{
    local p=${PID[$1]:-}
    [ -n "$p" ] || return 0
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    forget_pid "$p"
    unset "PID[$1]"
}

# Policies and configurations per setup (servers: a; or a and b).
servers() { [ "$1" = a ] && echo a || echo a b; }

conf_rpx()
{
    local s
    {
        echo "listen 127.0.0.1:8080"
        echo "backend app {"
        for s in $(servers "$1"); do echo "    server $s 127.0.0.1:${PORT[$s]}"; done
        echo "    retries 2 on [connect_error, timeout, reset, 502, 503, 504]"
        echo "}"
        echo "timeouts { connect 2s; backend 30s }"
        echo "route default { proxy app }"
    } >"$2"
}

conf_nginx_flap()
{
    local s
    {
        nginx_preamble 1 off 4096
        cat <<EOF
    upstream app {
EOF
        # max_fails=1 fail_timeout=10s are nginx's defaults, written out; a
        # lone server is never marked down whatever they say.
        for s in $(servers "$1"); do
            echo "        server 127.0.0.1:${PORT[$s]} max_fails=1 fail_timeout=10s;"
        done
        cat <<EOF
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_send_timeout 30s;
        }
    }
}
EOF
    } >"$3"
}

conf_haproxy_flap()
{
    local s chk=""
    [ "$HACHECK" = 1 ] && chk="check "
    {
        cat <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
frontend fe
    bind 127.0.0.1:$2
    default_backend app
backend app
    balance roundrobin
    default-server ${chk}inter 1s fall 2 rise 2
EOF
        for s in $(servers "$1"); do echo "    server $s 127.0.0.1:${PORT[$s]}"; done
    } >"$3"
}

# start_proxy NAME SETUP: starts it on a free port; PORT[NAME], PID[NAME].
start_proxy()
{
    local t=$1 setup=$2
    PORT[$t]=$(free_port)
    case $t in
    rpx)
        "$RUN/rpx-$setup" -q -w 1 --listen "127.0.0.1:${PORT[$t]}" 2>"$RUN/rpx-$setup.log" &
        ;;
    nginx)
        conf_nginx_flap "$setup" "${PORT[$t]}" "$RUN/nginx-$setup.conf"
        nginx -p "$RUN/nginx" -e "$RUN/nginx.err" -c "$RUN/nginx-$setup.conf" >"$RUN/nginx-$setup.log" 2>&1 &
        ;;
    haproxy)
        conf_haproxy_flap "$setup" "${PORT[$t]}" "$RUN/haproxy-$setup.cfg"
        haproxy -db -f "$RUN/haproxy-$setup.cfg" >"$RUN/haproxy-$setup.log" 2>&1 &
        ;;
    *) die "unknown proxy $t" ;;
    esac
    PID[$t]=$!
    PIDS+=($!)
    wait_up "${PORT[$t]}" || { log "$t did not start: $(tail -n 2 "$RUN/$t-$setup.log" 2>/dev/null)"; return 1; }
}

# The wrk script: counts per status in the (one) thread, sums the threads
# and prints one line in done().
cat >"$RUN/count.lua" <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n200, n502, n503, nother = 0, 0, 0, 0 end
function response(status, headers, body)
    if status == 200 then n200 = n200 + 1
    elseif status == 502 then n502 = n502 + 1
    elseif status == 503 then n503 = n503 + 1
    else nother = nother + 1 end
end
function done(summary, latency, requests)
    local c = { 0, 0, 0, 0 }
    for _, t in ipairs(threads) do
        c[1] = c[1] + t:get("n200"); c[2] = c[2] + t:get("n502")
        c[3] = c[3] + t:get("n503"); c[4] = c[4] + t:get("nother")
    end
    local e = summary.errors
    io.write(string.format("FLAP %d %d %d %d %d %d %d %d %d\n", c[1], c[2], c[3], c[4],
        e.connect, e.read, e.write, e.timeout, summary.requests))
end
EOF

# flap_run SETUP PROXY: fresh origins, the proxy, wrk in the background and
# the kill/restart schedule in the foreground (so every PID stays in this
# shell). Appends a row to $RUN/rows.tsv.
flap_run()
{
    local setup=$1 t=$2 s wp t0 k=1 at now kills=0 bad=0 line
    for s in $(servers "$setup"); do stop_origin "$s"; start_origin_on "$s"; done
    for s in $(servers "$setup"); do wait_up "${PORT[$s]}" || die "origin $s did not start"; done
    start_proxy "$t" "$setup" || { printf '%s\t%s\tFAILED\n' "$setup" "$t" >>"$RUN/rows.tsv"; stop_target "$t"; return; }
    log "$(date -u +%TZ) setup $setup, $t: wrk -t1 -c$CONNS -d${DUR}s, kill -9 origin a every ${KP}s, restart after ${RD}s"
    wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 5s -s "$RUN/count.lua" \
        "http://127.0.0.1:${PORT[$t]}/bytes/6" >"$RUN/wrk-$setup-$t.out" 2>&1 &
    wp=$!
    PIDS+=($wp)
    t0=$(now_us)
    while :; do
        at=$((t0 + k * KP_US))
        [ "$at" -lt $((t0 + DUR * 1000000)) ] || break
        now=$(now_us)
        [ "$at" -le "$now" ] || sleep "$(from_us $((at - now)))"
        kill -0 "$wp" 2>/dev/null || break
        # The origin must have come back from the last restart.
        kill -0 "${PID[a]}" 2>/dev/null || bad=$((bad + 1))
        stop_origin a
        kills=$((kills + 1))
        sleep "$RD"
        start_origin_on a
        k=$((k + 1))
    done
    wait "$wp"
    forget_pid "$wp"
    sleep 0.2
    kill -0 "${PID[a]}" 2>/dev/null || bad=$((bad + 1))
    [ "$bad" = 0 ] || log "WARNING: origin a failed to restart $bad time(s): $(tail -n 2 "$RUN/origin-a.log")"
    kill -0 "${PID[$t]}" 2>/dev/null || log "WARNING: $t died during the run"
    stop_target "$t"
    line=$(grep '^FLAP ' "$RUN/wrk-$setup-$t.out")
    [ -n "$line" ] || { log "no counts from wrk: $(tail -n 3 "$RUN/wrk-$setup-$t.out")"; line="FLAP - - - - - - - - -"; }
    printf '%s\t%s\t%s\t%s\t%s\n' "$setup" "$t" "${line#FLAP }" "$kills" "$bad" >>"$RUN/rows.tsv"
}

# Build the rpx proxies once, before any load (the build tree may change
# under a concurrent make).
for setup in ${SETUPS//,/ }; do
    case $setup in a | b) ;; *) die "unknown setup $setup (a or b)" ;; esac
    [[ ,$TARGETS, == *,rpx,* ]] || continue
    conf_rpx "$setup" "$RUN/flap-$setup.rp"
    "$O/bin/rpx" build "$RUN/flap-$setup.rp" -o "$RUN/rpx-$setup" >"$RUN/rpx-build.log" 2>&1 ||
        die "rpx build failed: $(tail -n 3 "$RUN/rpx-build.log")"
done
for t in ${TARGETS//,/ }; do
    case $t in
    rpx) ;;
    nginx | haproxy) command -v "$t" >/dev/null || die "$t is missing (tools/deps.sh --bench)" ;;
    *) die "unknown proxy $t (rpx, nginx or haproxy)" ;;
    esac
done

STARTED=$(date -u +%FT%TZ)
: >"$RUN/rows.tsv"
for setup in ${SETUPS//,/ }; do
    for t in ${TARGETS//,/ }; do flap_run "$setup" "$t"; done
done
for s in a b; do stop_origin "$s"; done

# The table.
table()
{
    awk -F'\t' '
    function n(x) { return x == "-" ? 0 : x }
    BEGIN {
        print "| setup | proxy | 200s | 502 | 503 | other | socket errors (connect/read/write/timeout) | share of 200s |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- |"
    }
    $3 == "FAILED" { printf "| %s | %s | did not start | | | | | |\n", $1, $2; next }
    {
        split($3, f, " ")
        se = n(f[5]) + n(f[6]) + n(f[7]) + n(f[8]); all = n(f[9]) + se
        name = $1 == "a" ? "a: one server" : "b: two servers, retries"
        printf "| %s | %s | %d | %d | %d | %d | %d (%d/%d/%d/%d) | %s |\n", name, $2, n(f[1]), n(f[2]),
            n(f[3]), n(f[4]), se, n(f[5]), n(f[6]), n(f[7]), n(f[8]),
            (all > 0 ? sprintf("%.2f %%", 100 * n(f[1]) / all) : "-")
    }' "$RUN/rows.tsv"
}

[ -n "$OUT" ] || { mkdir -p bench/results && OUT=bench/results/flap-$(date -u +%Y%m%d-%H%M%S).txt; }
{
    echo "# bench/flap.sh $ARGS"
    echo "# started $STARTED, ended $(date -u +%FT%TZ); $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- runtime compiler 2>/dev/null || echo ' + uncommitted runtime/compiler changes')"
    echo "# wrk -t1 -c$CONNS -d${DUR}s --timeout 5s GET /bytes/6; origin a: kill -9 every ${KP}s, restarted ${RD}s later on the same port"
    echo "# $(haproxy -v 2>/dev/null | head -n 1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    awk -F'\t' '{ printf "# %s %s: %s kills, %s failed restarts\n", $1, $2, $4 + 0, $5 + 0 }' "$RUN/rows.tsv"
    echo
    table
    echo
    echo "## Configurations (setup b; setup a has server a only)"
    for f in "$RUN/flap-b.rp" "$RUN/nginx-b.conf" "$RUN/haproxy-b.cfg"; do
        [ -f "$f" ] || continue
        echo
        echo "### ${f##*/}"
        sed 's/^/    /' "$f"
    done
} >"$OUT"
table
log "results: $OUT"
