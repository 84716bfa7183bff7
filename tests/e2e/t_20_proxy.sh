# t_20_proxy.sh: proxying one exchange right (heads, bodies in every
# framing), and reusing connections on both sides.

pa=$(start_origin a)
check "single-server proxy policy compiles" build_proxy single '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy single -w 1)
d=$AREA_DIR
alog=$(origin_log a)

# A proxied GET comes back with the origin's status and body.
hcurl -D "$d/get.head" -o "$d/get.body" -w '%{http_code}' "http://127.0.0.1:$p/hello?x=1" >"$d/get.code"
check_eq "proxy: GET /hello?x=1 gives 200" "$(cat "$d/get.code")" 200
check_eq "proxy: the body is the origin's, target with query intact" "$(cat "$d/get.body")" "a GET /hello?x=1"

# The response says it went through the proxy (RFC 9110 Via).
check_eq "proxy: response carries Via: 1.1 rpx" "$(header via "$d/get.head")" "1.1 rpx"

# End-to-end response fields pass unchanged.
check_eq "proxy: the origin's X-Origin field passes" "$(header x-origin "$d/get.head")" a

# The request the origin got carries Via as well.
check_match "proxy: the origin's request carries Via: 1.1 rpx" \
    "$(grep -F ' /hello?x=1 ' "$alog")" 'Via: 1\.1 rpx\\r\\n'

# HEAD through the proxy: the origin's Content-Length, and the proxy does not
# wait for (or invent) a body.
t0=$EPOCHREALTIME
raw_request "$p" 'HEAD /bytes/1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/head.resp"
rc=$?
split_response "$d/head.resp"
check_eq "proxy: HEAD keeps the origin's Content-Length: 1000" "$(header content-length "$d/head.resp.head")" 1000
check_eq "proxy: HEAD response has no body and the connection closes (rc 0)" \
    "$(wc -c <"$d/head.resp.body") rc=$rc" "0 rc=0"
check "proxy: HEAD answered within 2s" test "$(ms_since "$t0")" -lt 2000

# A request body with Content-Length reaches the origin whole (the origin
# answers /echo with the length and CRC-32 of what it read).
"$ORIGIN" gen 200k >"$d/post.bin"
want=$("$ORIGIN" crc32 <"$d/post.bin")
got=$(hcurl --data-binary @"$d/post.bin" "http://127.0.0.1:$p/echo")
check_eq "proxy: POST 200 KB with Content-Length arrives whole (len crc)" "$got" "$want"

# A chunked request body (curl -T - reads a pipe of unknown length) arrives
# whole, and is still chunked when it reaches the origin.
got=$("$ORIGIN" gen 300k | hcurl -T - "http://127.0.0.1:$p/echo")
check_eq "proxy: chunked upload of 300 KB arrives whole (len crc)" "$got" "$(gen_crc 300k)"
check_match "proxy: the origin got the upload chunked" \
    "$(grep '^a PUT /echo body=307200 ' "$alog")" 'Transfer-Encoding: chunked'

# A chunked response body arrives whole, with its trailer.
hcurl -D "$d/chunked.head" "http://127.0.0.1:$p/chunked/1m" | "$ORIGIN" crc32 >"$d/chunked.crc"
check_eq "proxy: chunked response of 1 MB arrives whole (len crc)" "$(cat "$d/chunked.crc")" "$(gen_crc 1m)"
check_eq "proxy: chunked response stays chunked" "$(header transfer-encoding "$d/chunked.head")" chunked
check "proxy: the chunked trailer reaches the client" grep -q '^X-Origin-Trailer: done' "$d/chunked.head"

# A body delimited by the origin closing its connection arrives whole, and
# the client's connection is closed after it (that is the only end marker).
raw_request "$p" 'GET /close/300000 HTTP/1.1\r\nHost: x\r\n\r\n' >"$d/close.resp"
rc=$?
split_response "$d/close.resp"
check_eq "proxy: close-delimited body of 300000 bytes arrives whole" \
    "$("$ORIGIN" crc32 <"$d/close.resp.body")" "$(gen_crc 300000)"
check_eq "proxy: the client connection closes after a close-delimited body" "$rc" 0
check_eq "proxy: ... and the response says Connection: close" "$(header connection "$d/close.resp.head")" close

# An interim 103 from the origin is relayed to an HTTP/1.1 client before
# the final response.
resp=$(raw_request "$p" 'GET /status/103 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check_match "proxy: a 1xx interim response is relayed, then the final 200" \
    "$resp" $'^HTTP/1.1 103 [^\r]*\r\n.*\r\n\r\nHTTP/1.1 200 .*\r\n\r\nstatus 103\n?$'

# A 204 has no body whatever its fields: the proxy must not wait for one,
# and the next request on the connection is answered.
resp=$(hcurl -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$p/status/204" "http://127.0.0.1:$p/after204" -o /dev/null)
check_eq "proxy: 204 (no body) then another request on the same connection" "$resp" "204 200 "

# Client keep-alive: five requests on one curl command use one connection,
# and all five reach the origin.
conns=$(hcurl -o /dev/null -w '%{num_connects}\n' "http://127.0.0.1:$p/ka/[1-5]" | awk '{ s += $1 } END { print s }')
check_eq "keep-alive: 5 requests, 1 client connection" "$conns" 1
check_eq "keep-alive: the origin logged the 5 requests" "$(count_lines '^a GET /ka/[1-5] ' "$alog")" 5

# Server keep-alive: 30 requests on 30 client connections (Connection:
# close) go to the origin over pooled connections: at most 2 new ones are
# opened, where 30 would mean none was reused. Closed connections stay
# visible to ss (TIME-WAIT), so the count covers all that were opened.
before=$(backend_conns "$pa")
conns=$(hcurl -o /dev/null -H 'Connection: close' -w '%{num_connects}\n' "http://127.0.0.1:$p/reuse/[1-30]" |
    awk '{ s += $1 } END { print s }')
check_eq "upstream reuse: the client side used 30 connections" "$conns" 30
check_eq "upstream reuse: the origin logged the 30 requests" "$(count_lines '^a GET /reuse/[0-9]+ ' "$alog")" 30
n=$(backend_conns "$pa")
check "upstream reuse: 30 requests opened at most 2 server connections (ss: $before before, $n after)" \
    test $((n - before)) -le 2

check "proxy 'single' stops on SIGTERM with exit 0" stop_proxy single

# ---- the exchange record ---------------------------------------------------------------
# Every exchange ends in one place with a record (status, route, backend,
# server, attempts, bytes, times, how it ended) that logs and metrics read;
# with -v the proxy prints it.
start_origin gone >/dev/null
stop_origin gone
check "record policy compiles" build_proxy record '
listen :8080
backend app { server a 127.0.0.1:@a@ }
backend flaky {
    server gone 127.0.0.1:@gone@
    server a 127.0.0.1:@a@
    balance first
}
route path = "/local" { respond 201 "made here" }
route path "/flaky/" { proxy flaky }
route default { proxy app }'
p=$(start_proxy record -w 1 -v)
err=$AREA_DIR/record.run.err
hcurl -o /dev/null "http://127.0.0.1:$p/rec?x=1"
hcurl -o /dev/null "http://127.0.0.1:$p/local"
hcurl -o /dev/null --data-binary 'twelve bytes' "http://127.0.0.1:$p/flaky/x"
conn_open fd "$p"
conn_send "$fd" 'GET /cut HTTP/1.1\r\nHost: x\r\n'
sleep 0.2
conn_close "$fd"
sleep 0.3
grep 'debug: exchange: ' "$err" >"$AREA_DIR/records"
check_match "record: a proxied GET: status, route, backend, server, one attempt, done" \
    "$(sed -n 1p "$AREA_DIR/records")" 'exchange: 200 route 3 backend app server a attempts 1 in [0-9]+ out [0-9]+ .*: done$'
check_match "record: a local answer: its status and route, no backend" \
    "$(sed -n 2p "$AREA_DIR/records")" 'exchange: 201 route 1 backend - server - attempts 0 .*: done$'
check_match "record: a POST retried past a dead server: two attempts, the server that answered" \
    "$(sed -n 3p "$AREA_DIR/records")" 'exchange: 200 route 2 backend flaky server a attempts 2 in [0-9]+ '
in3=$(sed -n 3p "$AREA_DIR/records" | sed -E 's/.* in ([0-9]+) .*/\1/')
check "record: ... the bytes in count the head and the 12-byte body ($in3)" test "$in3" -gt 100
check_match "record: a client gone in the middle of a head" \
    "$(sed -n 4p "$AREA_DIR/records")" 'exchange: 0 route -1 .*: closed during the request head$'
check "proxy 'record' stops on SIGTERM with exit 0" stop_proxy record
