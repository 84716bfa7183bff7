# t_63_shared_limits.sh: `limit ... shared redis IP:PORT` with a real
# redis-server on loopback. Two proxies (two processes, 2 workers each)
# share a limit of 50/s: under wrk on both at once, together they pass
# the fleet-wide rate within 10 % (alone, each would pass it). With
# redis-server stopped, an `on_error closed` limit refuses (503) and an
# open one limits each proxy alone; when it comes back, they sync again.

if ! command -v redis-server >/dev/null || ! command -v wrk >/dev/null; then
    skip "shared limits: redis-server and wrk are needed" "not installed"
    return 0 2>/dev/null || exit 0
fi
rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_redis()
{
    spawn "$AREA_DIR/redis" redis-server --port "$rport" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$AREA_DIR"
    for _ in $(seq 50); do
        redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    return 1
}
check "redis-server starts" start_redis

start_origin a >/dev/null
check "shared limits policy compiles" build_proxy shared "
listen :8080
backend app { server a 127.0.0.1:@a@ }
limit fleet  = rate 50/s burst 10 by client.ip shared redis 127.0.0.1:$rport
limit strict = rate 1000/s by client.ip shared redis 127.0.0.1:$rport on_error closed
route path \"/fleet/\" { limit fleet; proxy app }
route path \"/strict/\" { limit strict; proxy app }
route default { proxy app }"
p1=$(start_proxy shared -w 2)
cp "$AREA_DIR/shared" "$AREA_DIR/shared2"
p2=$(start_proxy shared2 -w 2)
sleep 0.5 # both reach Redis

# both proxies at once, 4 s: the fleet passes 10 + 50/s, not twice that
timeout $((20 * SCALE)) wrk -t1 -c4 -d4s "http://127.0.0.1:$p1/fleet/" >"$AREA_DIR/wrk1.out" 2>&1 &
w1=$!
timeout $((20 * SCALE)) wrk -t1 -c4 -d4s "http://127.0.0.1:$p2/fleet/" >"$AREA_DIR/wrk2.out" 2>&1 &
w2=$!
wait "$w1" "$w2"
passed() {
    local total refused
    total=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1")
    refused=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$1")
    echo $((total - ${refused:-0}))
}
secs=$(sed -n 's/^ *[0-9]* requests in \([0-9.]*\)s.*/\1/p' "$AREA_DIR/wrk1.out")
a=$(passed "$AREA_DIR/wrk1.out")
b=$(passed "$AREA_DIR/wrk2.out")
verdict=$(awk -v n=$((a + b)) -v s="$secs" 'BEGIN { want = 10 + 50 * s; d = (n - want) / want;
    if (d < 0) d = -d; printf "%s want %.0f got %d (%.1f%%)", (d <= 0.10) ? "within" : "off", want, n, d * 100 }')
check_match "fleet: two proxies pass 50/s together ($a + $b in ${secs}s): $verdict" "$verdict" '^within '
check_match "fleet: the counts are in Redis" "$(redis-cli -p "$rport" --scan --pattern 'rpx:fleet:*' | head -n1)" '^rpx:fleet:'

# Redis stops: closed refuses, open limits alone
kill "$(cat "$AREA_DIR/redis.pid")"
wait_gone "$(cat "$AREA_DIR/redis.pid")"
sleep 1.5
check_eq "redis down: on_error closed refuses with 503" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/strict/x")" 503
check_eq "redis down: on_error open still serves (each proxy alone)" \
    "$(sleep 0.5; hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/fleet/x")" 200
check "redis-server starts again" start_redis
sleep 2.5 # reconnected within a second or two
check_eq "redis back: the closed limit serves again" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p2/strict/x")" 200
stop_proxy shared
stop_proxy shared2
kill "$(cat "$AREA_DIR/redis.pid")" 2>/dev/null
