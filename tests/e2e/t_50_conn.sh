# t_50_conn.sh: client connection handling: pipelining, HTTP/1.0 with and
# without keep-alive, Expect: 100-continue, and stopping on SIGTERM.

start_origin a >/dev/null
policy='
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path = "/health" { respond 200 "ok" }
route default { proxy app }'
check "connection-handling policy compiles" build_proxy conn "$policy"
p=$(start_proxy conn -w 1)
d=$AREA_DIR

# Pipelining: three requests in one write get three responses, in order,
# and the last one's Connection: close ends the connection.
raw_request "$p" 'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/pipe.resp"
rc=$?
check_eq "pipelining: 3 proxied requests in one write, 3 responses in order" \
    "$(answers "$d/pipe.resp")" "200:a GET /p1 200:a GET /p2 200:a GET /p3"
check_eq "pipelining: Connection: close on the last one closes the connection" "$rc" 0

# Pipelining across kinds of route: a local answer between two proxied ones
# keeps its place.
raw_request "$p" 'GET /m1 HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /m3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/mixed.resp"
check_eq "pipelining: proxied, local, proxied answers stay in order" \
    "$(answers "$d/mixed.resp")" "200:a GET /m1 200:ok 200:a GET /m3"

# HTTP/1.0 without keep-alive: a response, then the proxy closes.
t0=$EPOCHREALTIME
raw_request "$p" 'GET /ten HTTP/1.0\r\n\r\n' >"$d/ten.resp"
rc=$?
check_match "http/1.0: a request without keep-alive is answered" "$(cat "$d/ten.resp")" $'^HTTP/1\\.[01] 200 .*\r\n\r\na GET /ten$'
check_eq "http/1.0: ... and the connection closes right after" "$rc" 0
check "http/1.0: ... within 2s" test "$(ms_since "$t0")" -lt 2000

# An HTTP/1.0 client cannot read chunked framing: a response the origin
# would send chunked reaches it as plain bytes, ended by the close.
raw_request "$p" 'GET /chunked/100000 HTTP/1.0\r\n\r\n' >"$d/ten-chunked.resp"
rc=$?
split_response "$d/ten-chunked.resp"
check_eq "http/1.0: a body chunked at the origin arrives unchunked and whole" \
    "$("$ORIGIN" crc32 <"$d/ten-chunked.resp.body")" "$(gen_crc 100000)"
check_eq "http/1.0: ... without Transfer-Encoding, and the connection closes" \
    "$(header transfer-encoding "$d/ten-chunked.resp.head") rc=$rc" " rc=0"

# HTTP/1.0 with Connection: keep-alive: the connection stays open for a
# second request (proxied, then local).
if conn_open fd "$p"; then
    conn_send "$fd" 'GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
    r1=$(conn_read_response "$fd")
    conn_send "$fd" 'GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
    r2=$(conn_read_response "$fd")
    conn_send "$fd" 'GET /k3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
    r3=$(conn_read_response "$fd")
    conn_close "$fd"
fi
check_match "http/1.0 keep-alive: first response says Connection: keep-alive" "${r1:-}" $'Connection: keep-alive\r\n.*a GET /k1$'
check_match "http/1.0 keep-alive: a second (local) request on the same connection" "${r2:-}" $'^HTTP/1\\.[01] 200 .*Connection: keep-alive\r\n(.*\r\n)?\r\nok$'
check_match "http/1.0 keep-alive: a third (proxied) request on the same connection" "${r3:-}" $'^HTTP/1\\.[01] 200 .*a GET /k3$'

# Expect: 100-continue (curl sends it for bodies over 1 MB and then waits
# up to 1 s for the go-ahead): the proxy answers 100 at once, so the upload
# takes far less than curl's 1 s wait, and arrives whole.
"$ORIGIN" gen 2m >"$d/2m.bin"
t0=$EPOCHREALTIME
got=$(hcurl -D "$d/expect.head" --data-binary @"$d/2m.bin" "http://127.0.0.1:$p/echo")
ms=$(ms_since "$t0")
check_eq "expect: 2 MB POST with Expect: 100-continue arrives whole" "$got" "$(gen_crc 2m)"
check "expect: the client got 100 Continue" grep -q '^HTTP/1.1 100 ' "$d/expect.head"
check "expect: completed in ${ms} ms, under 1 s (no wait for the expect timeout)" test "$ms" -lt 1000

check "proxy 'conn' stops on SIGTERM with exit 0" stop_proxy conn

# SIGTERM with idle keep-alive clients: the proxy closes them and exits 0
# at once (it does not wait out their idle timeout).
check "drain policy compiles" build_proxy drain "$policy"
p=$(start_proxy drain -w 1)
fds=()
for i in 1 2 3; do
    conn_open fd "$p" || continue
    fds+=("$fd")
    conn_send "$fd" "GET /idle$i HTTP/1.1\r\nHost: x\r\n\r\n"
    conn_read_response "$fd" >/dev/null
done
check_eq "sigterm: 3 keep-alive clients connected and answered" "${#fds[@]}" 3
t0=$EPOCHREALTIME
check "sigterm: proxy with idle keep-alive clients exits 0" stop_proxy drain
ms=$(ms_since "$t0")
check "sigterm: ... in ${ms} ms, under $((2 * SCALE)) s" test "$ms" -lt $((2000 * SCALE))
closed=0
for fd in "${fds[@]}"; do
    conn_wait_eof "$fd" 2 && closed=$((closed + 1))
    conn_close "$fd"
done
check_eq "sigterm: the idle clients see their connections closed" "$closed" 3

# SIGTERM with a request in flight: the response still arrives whole (then
# the proxy exits).
p=$(start_proxy drain -w 1)
hcurl -D "$d/slow.head" "http://127.0.0.1:$p/slow/700" >"$d/slow.body" 2>&1 &
slow_job=$!
for ((i = 0; i < 100; i++)); do
    grep -q ' /slow/700 ' "$(origin_log a)" && break
    sleep 0.02
done
# The origin logs before it sleeps: the request is in flight now.
check "sigterm: in-flight request under way" grep -q ' /slow/700 ' "$(origin_log a)"
check "sigterm: proxy with a request in flight exits 0" stop_proxy drain
wait "$slow_job"
check_eq "sigterm: the in-flight request still got its answer" \
    "$(head -n 1 "$d/slow.head" | tr -d '\r') $(cat "$d/slow.body")" "HTTP/1.1 200 OK slow"
