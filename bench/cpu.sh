#!/usr/bin/env bash
# bench/cpu.sh: the cost of one small proxied GET, in figures that repeat
# exactly on a shared machine, for rpx, HAProxy and nginx (one worker each,
# one process each, configured as run.sh does):
#
#   Ir/req    user-space instructions per request under valgrind's callgrind:
#             start under callgrind, WARM keep-alive requests, zero the
#             counters (callgrind_control -z), N requests on one connection
#             (h2load --h1 -c 1), dump (callgrind_control -d), Ir / 2xx count.
#   sys/req   system calls per request: natively, strace -c -f attached to the
#             proxy for the N requests (after the warm-up), calls / 2xx count.
#
# Targets (issue 4): rpx at most half of nginx's Ir/req, at most 6 sys/req.
#
# Cache mode (-C): every target keeps the responses (rpx `cache { ttl 1h }`,
# HAProxy's cache, nginx's proxy_cache, and Varnish as a fourth target; see
# lib.sh) and the path answers 1 KB with Cache-Control: max-age=3600: the
# warm-up fills the caches, the measured requests are all hits. The origin
# logs every request it gets; a target that lets one measured request through
# to the origin is reported as NOT SERVING HITS, left out of the table, and
# the script exits 1. Varnish is measured in the child its manager forks
# (cache-main, all its threads: the worker, the acceptor, expiry, the CLI
# thread answering the manager's pings every 3 s; idle, they run ~10,000
# instructions a second, against tens of millions for the requests), under
# callgrind with --trace-children=yes (without it valgrind still follows the
# fork, but the child gets no vgdb link and callgrind_control cannot reach
# it); the compiler the manager runs for the VCL runs natively. The manager
# is not counted.
#
# usage: bench/cpu.sh [-C] [-O BUILD] [-n N] [-w WARM] [-k REPEATS] [-t TARGETS] [-s PATH]
#   -C          cache mode (above)
#   -O BUILD    build folder with bin/rpx and tests/origin    (default build)
#   -n N        measured requests                              (default 20000)
#   -w N        warm-up requests                               (default 2000)
#   -k N        callgrind repeats per target                   (default 2)
#   -t LIST     targets, comma-separated   (default rpx,haproxy,nginx; -C: and varnish)
#   -s PATH     request path on the origin                     (default /bytes/6;
#               -C: '/cache/x?h=Cache-Control:max-age%3D3600&n=1024')
#   -R BODY     rpx's route body instead of "proxy origin" (-C: "cache { ttl 1h };
#               proxy origin"), e.g.
#               'set header X-A "1"; remove response header Server; proxy origin'
#   -T STMT     a top-level statement for rpx's policy, e.g.
#               'log access "/tmp/a.log" format json' (the cost of logging)
#   -H FIELD    a header field every measured request carries, e.g.
#               'Authorization: Bearer eyJ...' (the cost of auth jwt)
#   -D DIR      keep the callgrind dumps in DIR, as TARGET.REPEAT.out, to see
#               where the instructions go: callgrind_annotate DIR/rpx.1.out
# Raw results: $RUN/cpu.tsv. Everything on 127.0.0.1, stopped by PID at exit.
set -u
cd "$(dirname "$0")/.."
O=build N=20000 WARM=2000 REPEAT=2 TARGETS='' REQ='' DUMPS='' CACHE=0 FIELD=''
while getopts "O:n:w:k:t:s:D:R:T:H:Ch" o; do
    case $o in
    O) O=$OPTARG ;; n) N=$OPTARG ;; w) WARM=$OPTARG ;; k) REPEAT=$OPTARG ;;
    t) TARGETS=$OPTARG ;; s) REQ=$OPTARG ;; D) DUMPS=$OPTARG ;; R) RPX_ROUTE=$OPTARG ;; T) RPX_TOP=$OPTARG ;;
    C) CACHE=1 ;; H) FIELD=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
if [ "$CACHE" = 1 ]; then
    : "${TARGETS:=rpx,haproxy,nginx,varnish}" "${REQ:=/cache/x?h=Cache-Control:max-age%3D3600&n=1024}"
    [ -n "${RPX_ROUTE:-}" ] || RPX_ROUTE='cache { ttl 1h }; proxy origin'
else
    : "${TARGETS:=rpx,haproxy,nginx}" "${REQ:=/bytes/6}"
    case ,$TARGETS, in *,varnish,*) echo "bench: varnish is a cache: only with -C" >&2; exit 2 ;; esac
fi
# Dumps are read by function: the proxy keeps its symbols (as fast).
[ -n "$DUMPS" ] && export RPX_BUILD_FLAGS="--symbols ${RPX_BUILD_FLAGS:-}"
. bench/lib.sh
for t in valgrind callgrind_control strace h2load curl; do
    command -v $t >/dev/null || die "$t is missing (tools/deps.sh --bench)"
done
[ -x "$O/bin/rpx" ] || die "$O/bin/rpx is missing (make)"
RUN=$(mktemp -d /tmp/rpx-cpu.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM

start_origin

# h2load_ok N URL: N keep-alive requests on one connection; prints the 2xx count.
h2load_ok()
{
    h2load --h1 -n "$1" -c 1 -m 1 ${FIELD:+-H "$FIELD"} "$2" >"$RUN/h2load.log" 2>&1
    awk '/^status codes:/ { print $3 + 0 }' "$RUN/h2load.log"
}

# work_pid NAME: the process that serves the requests: varnishd's child
# (its manager only starts and pings it), the started PID for the others.
work_pid()
{
    if [ "$1" = varnish ]; then pgrep -P "${PID[$1]}" | head -n 1; else echo "${PID[$1]}"; fi
}

# origin_reqs: how many requests the origin has had (-C only; else 0).
origin_reqs()
{
    if [ "$CACHE" = 1 ]; then wc -l <"$RUN/origin.req"; else echo 0; fi
}

# hits NAME BEFORE: -C only: fails, loudly, if requests reached the origin
# since it had BEFORE, i.e. if NAME did not answer them all from its cache.
NOTHITS=
hits()
{
    local n=$(($(origin_reqs) - $2))
    [ "$n" -eq 0 ] && return 0
    echo "bench: $1 IS NOT SERVING HITS: $n measured requests reached the origin" >&2
    NOTHITS="$NOTHITS $1"
    return 1
}

printf 'target\tkind\trepeat\trequests\tcount\tper_req\n' >"$RUN/cpu.tsv"
for t in ${TARGETS//,/ }; do
    bin=$t
    [ "$t" = varnish ] && bin=varnishd
    command -v "$bin" >/dev/null || [ "$t" = rpx ] || { log "$t is not installed: skipped"; continue; }
    for k in $(seq "$REPEAT"); do
        out=$RUN/cg.$t.$k
        cg=(valgrind --tool=callgrind --quiet --callgrind-out-file="$out.%p")
        [ "$t" = varnish ] && cg+=(--trace-children=yes --trace-children-skip='/bin/*,/usr/bin/*,/usr/lib/*')
        start_target "$t" 1 "${cg[@]}" || continue
        url=http://127.0.0.1:${PORT[$t]}$REQ
        pid=$(work_pid "$t")
        h2load_ok "$WARM" "$url" >/dev/null
        callgrind_control -z "$pid" >/dev/null 2>&1 || die "callgrind_control -z failed for $t"
        before=$(origin_reqs)
        ok=$(h2load_ok "$N" "$url")
        callgrind_control -d "$pid" >/dev/null 2>&1 || die "callgrind_control -d failed for $t"
        stop_target "$t"
        hits "$t" "$before" || continue 2
        ir=$(awk '/^summary:/ { print $2 }' "$out.$pid.1" 2>/dev/null)
        if [ -z "$ir" ] || [ "${ok:-0}" -eq 0 ]; then
            log "$t #$k: no callgrind dump or no 2xx ($ok)"
            continue
        fi
        printf '%s\tIr\t%s\t%s\t%s\t%s\n' "$t" "$k" "$ok" "$ir" $((ir / ok)) >>"$RUN/cpu.tsv"
        [ -n "$DUMPS" ] && mkdir -p "$DUMPS" && cp "$out.$pid.1" "$DUMPS/$t.$k.out"
        log "$t #$k: $ok requests, $ir Ir, $((ir / ok)) Ir/request"
    done
    start_target "$t" 1 || continue
    url=http://127.0.0.1:${PORT[$t]}$REQ
    h2load_ok "$WARM" "$url" >/dev/null
    strace -f -c -o "$RUN/strace.$t" -p "$(work_pid "$t")" 2>/dev/null &
    sp=$!
    sleep 1
    before=$(origin_reqs)
    ok=$(h2load_ok "$N" "$url")
    kill -INT "$sp"
    wait "$sp"
    stop_target "$t"
    hits "$t" "$before" || continue
    calls=$(awk '$NF == "total" { print ($4 ~ /^[0-9]+$/) ? $4 : $3 }' "$RUN/strace.$t")
    printf '%s\tsyscalls\t1\t%s\t%s\t%s\n' "$t" "$ok" "$calls" \
        "$(awk -v c="${calls:-0}" -v n="${ok:-0}" 'BEGIN { printf "%.2f", n ? c / n : 0 }')" >>"$RUN/cpu.tsv"
    log "$t: $calls syscalls for $ok requests"
    grep -E '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+' "$RUN/strace.$t" | sort -k4 -rn | head -n 6 |
        awk -v n="$ok" '{ printf "#   %-14s %.2f/req\n", $NF, $4 / n }' >&2
done

echo "# $(date -u +%FT%TZ) GET $REQ, h2load --h1 -c 1: $WARM warm-up, $N measured, 1 worker each"
[ "$CACHE" = 1 ] && echo "# -C: cached, every measured request a hit (none reached the origin); rpx: $RPX_ROUTE"
awk -F'\t' '
NR == 1 { next }
$2 == "Ir" { ir[$1] = ir[$1] (ir[$1] == "" ? "" : " ") $6; if (!($1 in seen)) { seen[$1]; o[++n] = $1 } }
$2 == "syscalls" { sc[$1] = $6; if (!($1 in seen)) { seen[$1]; o[++n] = $1 } }
END {
    printf "%-8s %-22s %8s %12s\n", "target", "Ir/req (each repeat)", "sys/req", "Ir_x_nginx"
    split(ir["nginx"], g, " ")
    for (i = 1; i <= n; i++) { t = o[i]; split(ir[t], a, " ")
        printf "%-8s %-22s %8s %12s\n", t, ir[t], (t in sc) ? sc[t] : "-",
            (g[1] > 0 && a[1] > 0) ? sprintf("%.2f", a[1] / g[1]) : "-" }
}' "$RUN/cpu.tsv"
if [ -n "$NOTHITS" ]; then
    echo "bench: NOT SERVING HITS, left out above:$NOTHITS" >&2
    exit 1
fi
