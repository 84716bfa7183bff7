# t_90_http.sh: HTTP/1.1 semantics a proxy owes both sides: pipelined
# requests answered in order (20 at once, mixed with local answers, a slow
# one first, bodies and HEAD between), Expect: 100-continue answered by the
# proxy itself (and only when a body is coming), no body after HEAD, 204 and
# 304 whatever the server claims, 1xx relayed, hop-by-hop fields dropped both
# ways, and a malformed server response turned into a 502 without mixing up
# the stream: the next request on the same client connection gets its own
# answer, never the POISONED one the origin left behind the broken response.

start_origin a >/dev/null
check "http policy compiles" build_proxy http '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path = "/health" { respond 200 "ok" }
route default { proxy app }'
p=$(start_proxy http -w 1)
d=$AREA_DIR
alog=$(origin_log a)

# ---- pipelining ---------------------------------------------------------------------

# 20 requests in one write, every fifth a local answer, the last one closing.
req="" want=""
for i in $(seq 20); do
    path=/pipe$i
    [ $((i % 5)) = 0 ] && path=/health
    close=""
    [ "$i" = 20 ] && close='Connection: close\r\n'
    req+="GET $path HTTP/1.1\r\nHost: x\r\n$close\r\n"
    if [ "$path" = /health ]; then want+=" 200:ok"; else want+=" 200:a GET $path"; fi
done
raw_request "$p" "$req" >"$d/pipe20.resp"
rc=$?
check_eq "pipelining: 20 requests in one write (4 local), 20 answers in order" \
    "$(answers "$d/pipe20.resp")" "${want# }"
check_eq "pipelining: ... and Connection: close on the 20th closes" "$rc" 0

# A slow request first: the quick ones behind it wait their turn.
raw_request "$p" 'GET /slow/300 HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /quick HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/pipeslow.resp"
check_eq "pipelining: slow proxied, local, quick proxied: answered in request order" \
    "$(answers "$d/pipeslow.resp")" "200:slow 200:ok 200:a GET /quick"

# Bodies and a HEAD between pipelined requests: each body is consumed as a
# body, the HEAD answer has no body, and the framing stays in step.
raw_request "$p" 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloHEAD /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/pipebody.resp"
check_eq "pipelining: POST (length), HEAD, POST (chunked), GET stay in step" \
    "$(statuses "$d/pipebody.resp") | $(grep -ac '^5 3610a686$' "$d/pipebody.resp") $(grep -ac '^3 352441c2$' "$d/pipebody.resp") $(tail -n 1 "$d/pipebody.resp")" \
    "200 200 200 200 | 1 1 a GET /last"
check_match "pipelining: the HEAD answer has its Content-Length and no body" \
    "$(cat "$d/pipebody.resp")" $'Content-Length: 100\r\n(.*\r\n)?\r\nHTTP/1\\.1 200'

# ---- Expect: 100-continue ------------------------------------------------------------

# Raw: the proxy answers 100 before the body is sent, once, and the origin
# (which would send its own 100) never sees the Expect.
if conn_open fd "$p"; then
    conn_send "$fd" 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
    IFS= read -r -t $((2 * SCALE)) first <&"$fd"
    conn_send "$fd" 'hello'
    rest=$(conn_read_response "$fd" 2>/dev/null; conn_read_response "$fd")
    conn_close "$fd"
fi
check_eq "expect: the proxy sends 100 Continue before the body is sent" "${first:-}" $'HTTP/1.1 100 Continue\r'
check_match "expect: then the final answer, for the whole body" "${rest:-}" $'HTTP/1\\.1 200 .*\r\n\r\n5 3610a686$'
check_eq "expect: one 100 in all (the origin sent none)" "$(grep -c 'HTTP/1.1 100' <<<"$first$rest")" 1
check "expect: the Expect field was not forwarded" \
    lacks 'Expect: 100-continue' <(grep -F ' POST /echo body=5 ' "$alog")

# No body: nothing to continue, so no 100 (RFC 9110 10.1.1).
resp=$(raw_request "$p" 'GET /nobody HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n')
check_match "expect: a request without a body gets no 100, just its answer" "$resp" \
    $'^HTTP/1\\.1 200 [^\r]*\r\n.*a GET /nobody$'
resp=$(raw_request "$p" 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
check_match "expect: Content-Length: 0 gets no 100" "$resp" $'^HTTP/1\\.1 200 [^\r]*\r\n.*0 00000000$'
# HTTP/1.0 clients do not know 100.
resp=$(raw_request "$p" 'POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello')
check_match "expect: an HTTP/1.0 client gets no 100" "$resp" $'^HTTP/1\\.[01] 200 [^\r]*\r\n.*5 3610a686$'

# curl waits up to --expect100-timeout for the 100: the proxy's comes at once.
t0=$EPOCHREALTIME
got=$(printf 'hello' | hcurl -H 'Expect: 100-continue' --expect100-timeout 3 --data-binary @- \
    -D "$d/curl100.head" "http://127.0.0.1:$p/echo")
ms=$(ms_since "$t0")
check_eq "expect: curl with a small body and Expect gets its answer" "$got" "5 3610a686"
check "expect: ... after a 100 from the proxy, in ${ms} ms (not curl's 3 s wait)" \
    test "$(grep -c '^HTTP/1.1 100' "$d/curl100.head")" = 1 -a "$ms" -lt 1500

# ---- no body after HEAD, 204, 304 ---------------------------------------------------------

# The origin sends 9 bytes (POISONED) after each of these heads. They are no
# body of theirs: the client must not get them, now or as its next answer.
for ep in 204body 304body; do
    hcurl -D "$d/$ep.head" -o "$d/$ep.body" -w '%{http_code} %{size_download}|' \
        "http://127.0.0.1:$p/raw/$ep" -o /dev/null "http://127.0.0.1:$p/after-$ep" >"$d/$ep.codes"
    check_eq "no body: /raw/$ep: no body bytes, then the next request gets its own answer" \
        "$(cat "$d/$ep.codes") $(cat "$d/$ep.body" 2>/dev/null)" "${ep:0:3} 0|200 $((14 + ${#ep}))| "
done
raw_request "$p" 'HEAD /raw/headbody HTTP/1.1\r\nHost: x\r\n\r\nGET /after-head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/headbody.resp"
check_eq "no body: HEAD answered with Content-Length: 9 and 9 stray bytes: no body, next answer intact" \
    "$(statuses "$d/headbody.resp") $(grep -ac POISONED "$d/headbody.resp") $(tail -n 1 "$d/headbody.resp")" \
    "200 200 0 a GET /after-head"
for ep in 204 304; do
    raw_request "$p" "GET /status/$ep HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >"$d/s$ep.resp"
    split_response "$d/s$ep.resp"
    check_eq "no body: a $ep from the origin arrives with no body bytes" \
        "$(statuses "$d/s$ep.resp") $(wc -c <"$d/s$ep.resp.body")" "$ep 0"
    check "no body: ... and no Content-Length or Transfer-Encoding added" \
        lacks '^(Content-Length|Transfer-Encoding):' <(tr -d '\r' <"$d/s$ep.resp.head")
done

# ---- 1xx ----------------------------------------------------------------------------------

resp=$(raw_request "$p" 'GET /raw/1xx HTTP/1.1\r\nHost: x\r\n\r\nGET /after-1xx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
printf '%s' "$resp" >"$d/1xx.resp"
check_eq "1xx: 100, 102 and 103 relayed before the final 200, then the next answer" \
    "$(statuses "$d/1xx.resp")" "100 102 103 200 200"
check_match "1xx: the 103 keeps its Link field" "$resp" $'103 [^\r]*\r\n(.*\r\n)?Link: </a.css>; rel=preload\r\n'
resp=$(raw_request "$p" 'GET /raw/1xx HTTP/1.0\r\n\r\n')
printf '%s' "$resp" >"$d/1xx10.resp"
check_eq "1xx: an HTTP/1.0 client gets no interim response" "$(statuses "$d/1xx10.resp")" 200

# ---- hop-by-hop fields ----------------------------------------------------------------

# Request side: the origin echoes the head it received.
echoed=""
if conn_open fd "$p"; then
    conn_send "$fd" 'GET /headers HTTP/1.1\r\nHost: x\r\nConnection: X-Named, keep-alive\r\nConnection: X-Named-Too\r\nX-Named: 1\r\nX-Named-Too: 2\r\nKeep-Alive: timeout=300\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\nX-Keep: yes\r\n\r\n'
    conn_read_response "$fd" >"$d/hop.resp"
    conn_close "$fd"
    split_response "$d/hop.resp"
    echoed=$(tr -d '\r' <"$d/hop.resp.body")
fi
check_match "hop-by-hop: the origin echoed the request head" "$echoed" '^GET /headers HTTP/1\.1'
for f in Connection X-Named X-Named-Too Keep-Alive TE Upgrade Proxy-Connection Proxy-Authorization; do
    check "hop-by-hop: request field $f is not forwarded" lacks "^$f:" <(printf '%s\n' "$echoed")
done
check "hop-by-hop: the end-to-end X-Keep is forwarded" grep -q '^X-Keep: yes$' <(printf '%s\n' "$echoed")
check "hop-by-hop: Via: 1.1 rpx is added to the request" grep -q '^Via: 1.1 rpx$' <(printf '%s\n' "$echoed")

# Response side.
hcurl -D "$d/hopresp.head" -o "$d/hopresp.body" "http://127.0.0.1:$p/raw/hop"
for f in X-Hop-Named Keep-Alive Proxy-Connection Upgrade; do
    check "hop-by-hop: response field $f is not relayed" lacks "^$f:" <(tr -d '\r' <"$d/hopresp.head")
done
check "hop-by-hop: the server's Connection options are not relayed" \
    lacks '^Connection:.*(X-Hop-Named|keep-alive)' <(tr -d '\r' <"$d/hopresp.head")
check_eq "hop-by-hop: the end-to-end response field and the body pass" \
    "$(header x-end-to-end "$d/hopresp.head") $(cat "$d/hopresp.body")" "kept hop"
check_eq "hop-by-hop: Via: 1.1 rpx is added to the response" "$(header via "$d/hopresp.head")" "1.1 rpx"

# ---- malformed server responses ----------------------------------------------------------

for ep in badstatus badversion clte dupcl badcl badchunk obsfold barelf spacecolon; do
    got=$(hcurl -w '|%{http_code}|%{num_connects}\n' "http://127.0.0.1:$p/raw/$ep" \
        "http://127.0.0.1:$p/after-$ep" 2>&1 | tr '\n' ' ')
    check_match "malformed response /raw/$ep: 502, then the next request gets its own answer" \
        "$got" "^[^|]*\\|502\\|1 a GET /after-$ep \\|200\\|[01] \$"
    check_match "malformed response /raw/$ep: ... on the same client connection" "$got" '\|0 $'
done
check_eq "malformed responses: POISONED never reached a client" "$(grep -rl POISONED "$d" | grep -v '\.log$' | wc -l)" 0

# ---- Date -------------------------------------------------------------------------------

# Every response carries one Date (RFC 9110 6.6.1): the proxy's own, the
# server's, or, when the server sent none, the proxy's.
imf='^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$'
for path in /health /relayed /raw/dated; do
    f=$d/date${path//\//_}
    hcurl -D "$f.head" -o /dev/null "http://127.0.0.1:$p$path"
    tr -d '\r' <"$f.head" | grep '^Date:' >"$f.lines"
    check_eq "date: $path carries exactly one Date" "$(wc -l <"$f.lines")" 1
    check "date: ... in IMF-fixdate form ($(cat "$f.lines"))" grep -qE "$imf" "$f.lines"
done
check_eq "date: the server's own Date is passed on unchanged" \
    "$(cat "$d/date_raw_dated.lines")" "Date: Sun, 06 Nov 1994 08:49:37 GMT"

# ---- Content-Length where no body can be ----------------------------------------------------

check "no body: the 204 that claimed Content-Length: 9 is relayed without it" \
    lacks '^Content-Length:' <(tr -d '\r' <"$d/204body.head" | sed '/^$/q')
raw_request "$p" 'GET /raw/103cl HTTP/1.1\r\nHost: x\r\n\r\nGET /after-103 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/103cl.resp"
check_eq "1xx: a 103 with Content-Length is relayed, then the 200 and the next answer" \
    "$(statuses "$d/103cl.resp")" "103 200 200"
check "1xx: ... the 103 without its Content-Length" \
    lacks 'Content-Length: 7' <(tr -d '\r' <"$d/103cl.resp")

# ---- trailers -------------------------------------------------------------------------------

# Fields that frame, route or authenticate a message may not come as
# trailers (RFC 9110 6.5.1): a next hop that merged them would read them as
# if they were in the head.
raw_request "$p" 'GET /raw/trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\nGET /after-trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/trailers.resp"
tr -d '\r' <"$d/trailers.resp" >"$d/trailers.txt"
check_eq "trailers: the chunked response and the next answer arrive" "$(statuses "$d/trailers.resp")" "200 200"
check "trailers: an allowed trailer field (X-Checksum) is relayed" grep -q '^X-Checksum: abc$' "$d/trailers.txt"
for f in 'Content-Length: 99' 'Host: evil' 'Set-Cookie: s=1' 'Transfer-Encoding: gzip'; do
    check "trailers: response trailer '$f' is not relayed" lacks "^$f\$" "$d/trailers.txt"
done
check_eq "trailers: the next answer is intact" "$(tail -n 1 "$d/trailers.txt")" "a GET /after-trailers"

start_origin r --raw >/dev/null
check "trailer policy compiles" build_proxy trailers '
listen :8080
backend app { server r 127.0.0.1:@r@ }
route default { proxy app }'
p2=$(start_proxy trailers -w 1)
raw_request "$p2" 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 9\r\nHost: evil\r\nContent-Length: 40\r\nAuthorization: Basic eA==\r\n\r\n' >"$d/reqtrailers.resp"
check_eq "trailers: a chunked request with trailers is answered" "$(statuses "$d/reqtrailers.resp")" 200
rawlog=$AREA_DIR/r.raw
check "trailers: an allowed request trailer (X-Sum) reaches the server" grep -q 'X-Sum: 9' "$rawlog"
for f in 'Host: evil' 'Content-Length: 40' 'Authorization: Basic'; do
    check "trailers: request trailer '$f' does not reach the server" lacks "$f" "$rawlog"
done

# ---- Connection naming framing fields ----------------------------------------------------

echo_head() { raw_request "$p2" "$1" | tr -d '\r'; }
got=$(echo_head 'GET /headers HTTP/1.1\r\nHost: named.example\r\nConnection: Host, Content-Length, Transfer-Encoding, close\r\n\r\n')
check "connection: 'Connection: Host' does not take Host away from the server's request" \
    grep -q '^Host: named.example$' <(printf '%s\n' "$got")
got=$(echo_head 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: Content-Length, close\r\n\r\nhello')
check_match "connection: 'Connection: Content-Length' keeps the body framed (5 bytes echoed)" "$got" $'\n5 [0-9a-f]+$'
got=$(echo_head 'GET /headers HTTP/1.0\r\n\r\n')
check "connection: an HTTP/1.0 request without Host gets one towards the server" \
    grep -q '^Host: app$' <(printf '%s\n' "$got")

# ---- TRACE, OPTIONS and Max-Forwards ----------------------------------------------------

before=$(wc -l <"$AREA_DIR/r.log")
got=$(echo_head 'TRACE / HTTP/1.1\r\nHost: x\r\nCookie: secret=1\r\nConnection: close\r\n\r\n')
check_match "trace: TRACE is refused (405) unless a route names it" "$got" '^HTTP/1\.1 405 '
check_match "trace: ... with Allow" "$got" $'\nAllow: [A-Z, ]*GET'
got=$(echo_head 'OPTIONS /x HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n')
check_match "max-forwards: OPTIONS with Max-Forwards: 0 is answered by the proxy (200)" "$got" '^HTTP/1\.1 200 '
check_match "max-forwards: ... with Allow" "$got" $'\nAllow: '
check_eq "max-forwards: neither reached the server" "$(wc -l <"$AREA_DIR/r.log")" "$before"
echo_head 'OPTIONS /mf HTTP/1.1\r\nHost: x\r\nMax-Forwards: 3\r\nConnection: close\r\n\r\n' >/dev/null
check "max-forwards: Max-Forwards: 3 reaches the server as 2" grep -q 'Max-Forwards: 2' "$rawlog"
check "proxy 'trailers' stops on SIGTERM with exit 0" stop_proxy trailers

check "trace policy compiles" build_proxy trace '
listen :8080
backend app { server r 127.0.0.1:@r@ }
route method [TRACE] { proxy app }
route default { proxy app }'
p3=$(start_proxy trace -w 1)
got=$(raw_request "$p3" 'TRACE /t HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nCookie: secret=1\r\nX-Mine: yes\r\nConnection: close\r\n\r\n' | tr -d '\r')
check_match "trace: allowed by a route, TRACE with Max-Forwards: 0 is echoed by the proxy" \
    "$got" $'^HTTP/1\\.1 200 .*\nContent-Type: message/http\n.*\n\nTRACE /t HTTP/1\\.1\n'
check_match "trace: ... with the request's fields" "$got" $'\nX-Mine: yes\n'
check "trace: ... but not its cookies" lacks 'secret' <(printf '%s\n' "$got")
got=$(raw_request "$p3" 'TRACE /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | tr -d '\r')
check_match "trace: allowed, TRACE without Max-Forwards goes to the server" "$got" '^HTTP/1\.1 [0-9]+ '
check "trace: ... and reached it" grep -q '^r TRACE /t ' "$AREA_DIR/r.log"
check "proxy 'trace' stops on SIGTERM with exit 0" stop_proxy trace

check_eq "http: the proxy still serves afterwards" "$(hcurl "http://127.0.0.1:$p/still")" "a GET /still"
check "proxy 'http' stops on SIGTERM with exit 0" stop_proxy http
