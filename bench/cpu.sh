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
# usage: bench/cpu.sh [-O BUILD] [-n N] [-w WARM] [-k REPEATS] [-t TARGETS] [-s PATH]
#   -O BUILD    build folder with bin/rpx and tests/origin    (default build)
#   -n N        measured requests                              (default 20000)
#   -w N        warm-up requests                               (default 2000)
#   -k N        callgrind repeats per target                   (default 2)
#   -t LIST     targets, comma-separated                       (default rpx,haproxy,nginx)
#   -s PATH     request path on the origin                     (default /bytes/6)
#   -R BODY     rpx's route body instead of "proxy origin", e.g.
#               'set header X-A "1"; remove response header Server; proxy origin'
#   -D DIR      keep the callgrind dumps in DIR, as TARGET.REPEAT.out, to see
#               where the instructions go: callgrind_annotate DIR/rpx.1.out
# Raw results: $RUN/cpu.tsv. Everything on 127.0.0.1, stopped by PID at exit.
set -u
cd "$(dirname "$0")/.."
O=build N=20000 WARM=2000 REPEAT=2 TARGETS=rpx,haproxy,nginx REQ=/bytes/6 DUMPS=
while getopts "O:n:w:k:t:s:D:R:h" o; do
    case $o in
    O) O=$OPTARG ;; n) N=$OPTARG ;; w) WARM=$OPTARG ;; k) REPEAT=$OPTARG ;;
    t) TARGETS=$OPTARG ;; s) REQ=$OPTARG ;; D) DUMPS=$OPTARG ;; R) RPX_ROUTE=$OPTARG ;;
    *) sed -n '2,28p' "$0"; exit 2 ;;
    esac
done
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
    h2load --h1 -n "$1" -c 1 -m 1 "$2" >"$RUN/h2load.log" 2>&1
    awk '/^status codes:/ { print $3 + 0 }' "$RUN/h2load.log"
}

printf 'target\tkind\trepeat\trequests\tcount\tper_req\n' >"$RUN/cpu.tsv"
for t in ${TARGETS//,/ }; do
    command -v "$t" >/dev/null || [ "$t" = rpx ] || { log "$t is not installed: skipped"; continue; }
    for k in $(seq "$REPEAT"); do
        out=$RUN/cg.$t.$k
        start_target "$t" 1 valgrind --tool=callgrind --quiet --callgrind-out-file="$out.%p" || continue
        url=http://127.0.0.1:${PORT[$t]}$REQ
        h2load_ok "$WARM" "$url" >/dev/null
        callgrind_control -z "${PID[$t]}" >/dev/null 2>&1 || die "callgrind_control -z failed for $t"
        ok=$(h2load_ok "$N" "$url")
        callgrind_control -d "${PID[$t]}" >/dev/null 2>&1 || die "callgrind_control -d failed for $t"
        pid=${PID[$t]}
        stop_target "$t"
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
    strace -f -c -o "$RUN/strace.$t" -p "${PID[$t]}" 2>/dev/null &
    sp=$!
    sleep 1
    ok=$(h2load_ok "$N" "$url")
    kill -INT "$sp"
    wait "$sp"
    stop_target "$t"
    calls=$(awk '$NF == "total" { print ($4 ~ /^[0-9]+$/) ? $4 : $3 }' "$RUN/strace.$t")
    printf '%s\tsyscalls\t1\t%s\t%s\t%s\n' "$t" "$ok" "$calls" \
        "$(awk -v c="${calls:-0}" -v n="${ok:-0}" 'BEGIN { printf "%.2f", n ? c / n : 0 }')" >>"$RUN/cpu.tsv"
    log "$t: $calls syscalls for $ok requests"
    grep -E '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+' "$RUN/strace.$t" | sort -k4 -rn | head -n 6 |
        awk -v n="$ok" '{ printf "#   %-14s %.2f/req\n", $NF, $4 / n }' >&2
done

echo "# $(date -u +%FT%TZ) GET $REQ, h2load --h1 -c 1: $WARM warm-up, $N measured, 1 worker each"
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
