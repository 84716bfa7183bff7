# t_70_load.sh: 50 concurrent keep-alive clients for 3 seconds (wrk): every
# response a 2xx, no socket error, and the proxy stops cleanly afterwards.

if ! command -v wrk >/dev/null; then
    skip "load: wrk -t1 -c50 -d3s through the proxy: no errors" "wrk is not installed"
else
    start_origin a >/dev/null
    start_origin b >/dev/null
    check "load policy compiles" build_proxy load '
listen :8080
backend app {
    server a 127.0.0.1:@a@
    server b 127.0.0.1:@b@
}
route path = "/health" { respond 200 "ok" }
route default { proxy app }'
    p=$(start_proxy load -w 2)
    d=$AREA_DIR

    # wrk prints "Non-2xx or 3xx responses: N" and "Socket errors: ..." only
    # when there were some.
    timeout $((20 * SCALE)) wrk -t1 -c50 -d3s --timeout $((5 * SCALE))s \
        "http://127.0.0.1:$p/load" >"$d/wrk.out" 2>&1
    rc=$?
    reqs=$(awk '/requests in/ { print $1 }' "$d/wrk.out")
    check "load: wrk ran (exit $rc, ${reqs:-no} requests)" test "$rc" = 0 -a "${reqs:-0}" -gt 0
    check "load: no non-2xx responses" lacks "Non-2xx" "$d/wrk.out"
    check "load: no socket errors (connect, read, write, timeout)" lacks "Socket errors" "$d/wrk.out"
    echo "# wrk: $(grep -E 'Requests/sec|requests in' "$d/wrk.out" | tr -s ' ' | tr '\n' ' ')"

    # The same against a local answer: the proxy alone.
    timeout $((20 * SCALE)) wrk -t1 -c50 -d2s --timeout $((5 * SCALE))s \
        "http://127.0.0.1:$p/health" >"$d/wrk2.out" 2>&1
    rc=$?
    reqs=$(awk '/requests in/ { print $1 }' "$d/wrk2.out")
    check "load: local answers: wrk ran (exit $rc, ${reqs:-no} requests)" test "$rc" = 0 -a "${reqs:-0}" -gt 0
    check "load: local answers: no non-2xx, no socket errors" lacks "Non-2xx|Socket errors" "$d/wrk2.out"

    # Still healthy after the load.
    check_match "load: the proxy still answers afterwards" "$(hcurl "http://127.0.0.1:$p/after")" '^[ab] GET /after$'
    check "proxy 'load' stops on SIGTERM with exit 0" stop_proxy load
fi
