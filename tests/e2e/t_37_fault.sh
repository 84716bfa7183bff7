# t_37_fault.sh: a server killed (kill -9) and restarted under load, twice.
# With the defaults (eject after 3 failures for 1 s, when_down queue, one
# retry on connect errors and resets) nearly every request must succeed:
# requests in flight at the kill are retried, the ones that find the server
# ejected wait in the queue, and the ejection ends with the first probe
# after the server is back, never much later (the issue's outage: 503 for
# the rest of the run after the first kill).

if ! command -v wrk >/dev/null; then
    skip "fault: kill and restart a server under load" "wrk is not installed"
    return 0
fi
start_origin a >/dev/null
check "fault policy compiles" build_proxy fault '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy fault -w 1)
d=$AREA_DIR
err=$d/fault.run.err

# log_count PATTERN: lines of the proxy's log matching PATTERN.
log_count() { grep -cE -- "$1" "$err"; }

timeout $((30 * SCALE)) wrk -t1 -c10 -d8s --timeout $((6 * SCALE))s \
    "http://127.0.0.1:$p/fault" >"$d/wrk.out" 2>&1 &
load=$!
late=()
for round in 1 2; do
    sleep 1.5
    kill -KILL "$(cat "$d/a.pid")"
    sleep 0.5
    ups=$(log_count 'app/a .*is UP')
    restart_origin a
    t_back=$EPOCHREALTIME
    # The ejection (if the kill caused one) ends at the first probe after
    # the server is back: within the probe interval (1 s here) of t_back.
    ms=
    for _ in $(seq $((40 * SCALE))); do
        if [ "$(log_count 'app/a .*is DOWN')" -ge "$round" ] && [ "$(log_count 'app/a .*is UP')" -gt "$ups" ]; then
            ms=$(ms_since "$t_back")
            break
        fi
        sleep 0.05
    done
    late+=("${ms:-never}")
done
wait $load
rc=$?
reqs=$(awk '/requests in/ { print $1 }' "$d/wrk.out")
bad=$(awk '/Non-2xx/ { print $NF }' "$d/wrk.out")
sock=$(awk -F'[ ,]+' '/Socket errors/ { print $4 + $6 + $8 + $10 }' "$d/wrk.out")
echo "# fault: ${reqs:-0} requests, ${bad:-0} non-2xx, ${sock:-0} socket errors; back in service after ${late[*]} ms"
check "fault: wrk ran through two kills (exit $rc, ${reqs:-no} requests)" test "$rc" = 0 -a "${reqs:-0}" -gt 100
share=$(awk -v r="${reqs:-0}" -v b="${bad:-0}" -v s="${sock:-0}" 'BEGIN { printf "%d", r ? 10000 * (r - b) / (r + s) : 0 }')
check "fault: at least 99 % of requests got 200 ($((share / 100)).$((share % 100)) %)" test "$share" -ge 9900
for round in 1 2; do
    ms=${late[$((round - 1))]}
    check "fault: kill $round: the server was ejected, and back in service within the probe interval of its return (${ms} ms)" \
        test "$ms" != never -a "${ms:-99999}" -le $((1000 + 700 * SCALE))
done
check_eq "fault: the proxy serves normally afterwards" "$(hcurl "http://127.0.0.1:$p/after")" "a GET /after"
check "proxy 'fault' stops on SIGTERM with exit 0" stop_proxy fault
