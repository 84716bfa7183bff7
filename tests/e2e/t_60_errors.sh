# t_60_errors.sh: what the proxy answers itself when the server fails (502)
# or the client's request is bad (400, 414, 431), and that bad requests never
# reach the server.

start_origin a >/dev/null
# A port nothing listens on: an origin's, once it is stopped.
start_origin dead >/dev/null
stop_origin dead
policy='
listen :8080
backend app { server a 127.0.0.1:@a@ }
backend gone { server dead 127.0.0.1:@dead@ }
route path "/dead/" { proxy gone }
route default { proxy app }'
check "error-handling policy compiles" build_proxy errors "$policy"
p=$(start_proxy errors -w 1)
alog=$(origin_log a)

# status URL...: the status codes curl got, one per URL, space-separated
# (000: no response). The URLs share one connection.
status()
{
    local a args=()
    for a in "$@"; do
        [[ $a == http://* ]] && args+=(-o /dev/null)
        args+=("$a")
    done
    hcurl -w '%{http_code} ' "${args[@]}" 2>/dev/null | sed 's/ $//'
}

# A server that closes without answering, or answers with something that is
# not HTTP: 502. These come first, so that each goes out on a fresh server
# connection (/drop and /garbage both close theirs).
t0=$EPOCHREALTIME
check_eq "502: server closes without a response (/drop, fresh server connection)" \
    "$(status "http://127.0.0.1:$p/drop")" 502
check "502: ... answered within 2s" test "$(ms_since "$t0")" -lt 2000
check_eq "502: server answers garbage (/garbage, fresh server connection)" \
    "$(status "http://127.0.0.1:$p/garbage")" 502
# The same on a pooled connection: the first request leaves a connection
# in the pool, /garbage goes out on it.
check_eq "502: /garbage on a reused server connection (after a 200)" \
    "$(status "http://127.0.0.1:$p/warm1" "http://127.0.0.1:$p/garbage")" "200 502"

# A server that refuses the connection: 502, at once.
t0=$EPOCHREALTIME
check_eq "502: backend with nothing listening" "$(status "http://127.0.0.1:$p/dead/x")" 502
check "502: ... answered within 2s" test "$(ms_since "$t0")" -lt 2000
check_eq "502: the proxy goes on serving other routes" "$(hcurl "http://127.0.0.1:$p/after")" "a GET /after"

# Malformed requests: 400, the connection closed (nothing after a bad head
# can be trusted), and none reaches the server.
before=$(wc -l <"$alog")
resp=$(raw_request "$p" 'GARBAGE\r\n\r\n')
rc=$?
check_match "400: a request line that is not HTTP" "$resp" '^HTTP/1\.1 400 '
check_eq "400: ... and the connection is closed" "$rc" 0
resp=$(raw_request "$p" 'POST /bad-clte HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
rc=$?
check_match "400: both Content-Length and Transfer-Encoding (smuggling risk)" "$resp" '^HTTP/1\.1 400 '
check_eq "400: ... and the connection is closed" "$rc" 0
resp=$(raw_request "$p" 'GET /bad-nohost HTTP/1.1\r\nUser-Agent: e2e\r\n\r\n')
rc=$?
check_match "400: HTTP/1.1 request without Host" "$resp" '^HTTP/1\.1 400 '
check_eq "400: ... and the connection is closed" "$rc" 0

# Oversized requests: a 20 KB header field does not fit the head limit
# (431), a 10 KB target exceeds the URI limit (414).
big=$(printf '%*s' 20480 '' | tr ' ' h)
check_eq "431: a 20 KB header field" \
    "$(status -H "X-Big: $big" "http://127.0.0.1:$p/big-header")" 431
long=$(printf '%*s' 10240 '' | tr ' ' u)
check_eq "414: a 10 KB URI" "$(status "http://127.0.0.1:$p/long-$long")" 414

after=$(wc -l <"$alog")
log_unchanged()
{
    [ "$after" = "$before" ] && return 0
    tail -n $((after - before)) "$alog" | cut -c1-200
    return 1
}
check "rejected: none of the 400/414/431 requests reached the server (log lines $before -> $after)" \
    log_unchanged
check_eq "rejected: the proxy still serves afterwards" "$(hcurl "http://127.0.0.1:$p/still")" "a GET /still"

check "proxy 'errors' stops on SIGTERM with exit 0" stop_proxy errors

# A server closing a pooled connection in answer to a request: the proxy
# replays it once on a fresh connection (the close may have been the pool's
# keep-alive race; GET is idempotent), which gets the same treatment; the
# default `retries 1 on [connect_error, reset]` sends it once more; then it
# must answer 502, not hang. Its own proxy, because a hung exchange would
# also hold up that proxy's exit.
check "retry policy compiles" build_proxy retry "$policy"
p=$(start_proxy retry -w 1)
before=$(count_lines '^a GET /drop ' "$alog")
t0=$EPOCHREALTIME
check_eq "502: /drop on a reused server connection (after a 200)" \
    "$(status --max-time $((2 * SCALE + 1)) "http://127.0.0.1:$p/warm2" "http://127.0.0.1:$p/drop")" "200 502"
check "502: ... answered within 2s" test "$(ms_since "$t0")" -lt 2000
n=$(($(count_lines '^a GET /drop ' "$alog") - before))
check "502: the origin saw /drop 1 to 3 times (a replay and one retry at most; saw $n)" test "$n" -ge 1 -a "$n" -le 3
check "proxy 'retry' stops on SIGTERM with exit 0" stop_proxy retry $((3 * SCALE))

# Lingering close: the proxy answers a request without reading its body
# (here a local answer to a POST), so it must close while the client is
# still sending. A plain close() with unread bytes makes the kernel reset the
# connection, and a reset can destroy the answer before the client reads it
# (on a real network; loopback delivers it first). The proxy shuts its side
# and goes on reading instead: the client sees an orderly end, and can keep
# writing the rest of its body without being reset.
policy='
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path "/local/" { respond 201 "made here" }
route default { proxy app }'
check "linger policy compiles" build_proxy linger "$policy"
p=$(start_proxy linger -w 1)
conn_open fd "$p"
conn_send "$fd" 'POST /local/x HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n'
got=$(conn_read_response "$fd")
check_match "linger: a local answer to a request whose body is still coming" \
    "$got" $'^HTTP/1\\.1 201 .*Connection: close.*made here$'
chunk=$(printf '%*s' 100000 '' | tr ' ' b)
# (Not conn_send: this needs the write's own status.)
write_fd() { (trap '' PIPE; printf '%s' "$2" >&"$1") 2>/dev/null; }
write_fd "$fd" "$chunk"
sleep 0.2
write_fd "$fd" "$chunk"
sent=$?
check_eq "linger: the rest of the body is read and dropped, not answered with a reset" "$sent" 0
check "linger: then the proxy closes (within 2 s of the last byte)" conn_wait_eof "$fd" $((4 * SCALE))
conn_close "$fd"

# A client that half-closes after its request (shutdown of its sending
# side, as some scripted clients do) still gets its answer: a FIN ends the
# client's requests, not its interest in the response (RFC 9112 9.6).
conn_open fd "$p"
conn_send "$fd" 'GET /slow/300 HTTP/1.1\r\nHost: x\r\n\r\n'
python3 -c 'import socket, sys; socket.socket(fileno=int(sys.argv[1])).shutdown(socket.SHUT_WR)' "$fd"
got=$(conn_read_response "$fd")
check_match "half-close: the client that sent FIN after its request gets the response" "$got" '^HTTP/1\.1 200 '
conn_close "$fd"

# A client that goes away while the server is still working: the exchange
# ends when the proxy learns of it (at the latest when the answer cannot be
# delivered), and a graceful stop is not held up by it for the server's
# whole answer time.
hcurl --max-time 0.5 "http://127.0.0.1:$p/slow/1500" >/dev/null 2>&1
sleep $((2 * SCALE))
check "client abort: the answer came and at most its connection is left, idle in the pool" \
    test "$(ss -tanH state established "( dport = :$(origin_port a) )" | wc -l)" -le 1
t0=$EPOCHREALTIME
check "client abort: the proxy stops on SIGTERM at once" stop_proxy linger $((2 * SCALE))
check "client abort: ... within 1 s" test "$(ms_since "$t0")" -lt $((1000 * SCALE))
