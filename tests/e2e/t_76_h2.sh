# t_76_h2.sh: HTTP/2 to clients. h2c with prior knowledge beside HTTP/1.1
# on one listener, h2 by ALPN over TLS; many streams on one connection to
# different backends; bodies both ways in every framing, a slow reader on
# one stream beside a fast one; every phase of an exchange (limits, methods,
# compression, header actions, local answers, the access log) as over
# HTTP/1.1; requests HTTP/1.1 could read otherwise refused before any
# server sees them (RFC 9113 8.2); the known attacks (rapid reset,
# CONTINUATION and SETTINGS/PING floods, HPACK bombs, zero windows, stream
# ids going back) answered with a GOAWAY or a reset while other clients are
# served; RFC 9113's connection rules; a graceful GOAWAY under load with no
# failed stream. Clients: curl, nghttp, h2load and h2_raw.py (frames by
# hand).

TLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)
raw() { timeout $((30 * SCALE)) python3 "$here/h2_raw.py" "$@" 2>&1; }
h2curl() { curl -sS --max-time "$T_SHORT" --http2-prior-knowledge "$@"; }

start_origin a >/dev/null
start_origin b >/dev/null
check "h2c policy compiles" build_proxy h2 '
listen :8080 h2c
timeouts { backend 3s; client_header 2s; client_idle 3s }
backend a { server a 127.0.0.1:@a@ }
backend b { server b 127.0.0.1:@b@ }
limit three = rate 1/m burst 3 by client.ip
log access "'"$AREA_DIR"'/access.log" format json
set response header X-Edge "rpx"
route path "/b/" { strip prefix "/b"; proxy b }
route path "/three/" { limit three; proxy a }
route path "/ro/" { methods [GET]; proxy a }
route path "/gz/" { compress gzip { types ["text/plain"]; min 1 }; strip prefix "/gz"; proxy a }
route path "/local" { respond 200 "local answer" }
route path "/deny" { deny 403 }
route path "/metrics" { metrics }
route default { proxy a }'
p=$(start_proxy h2 -w 2)
u="http://127.0.0.1:$p"

check_eq "h2c: curl with prior knowledge speaks HTTP/2" \
    "$(h2curl -o /dev/null -w '%{http_version} %{http_code}' "$u/x")" "2 200"
check_eq "h2c: ... and gets the server's answer" "$(h2curl "$u/x")" "a GET /x"
check_eq "h2c: HTTP/1.1 on the same listener still works" \
    "$(hcurl -o /dev/null -w '%{http_version} %{http_code}' "$u/x")" "1.1 200"
check_eq "h2c: a local answer over HTTP/2" "$(h2curl "$u/local")" "local answer"
check_eq "h2c: deny over HTTP/2" "$(h2curl -o /dev/null -w '%{http_code}' "$u/deny")" 403
head=$(h2curl -D - -o /dev/null "$u/x" | tr -d '\r')
check_match "h2c: response header actions apply" "$head" $'\nx-edge: rpx'
check_match "h2c: field names are lower case, no connection-specific fields" "$head" $'\nx-origin: a'
check_eq "h2c: no Connection field in an HTTP/2 response" \
    "$(printf '%s\n' "$head" | grep -ci '^connection:' || true)" 0

# Many streams on one connection, to different backends.
got=$(raw "$p" get /one /b/two /local /bytes/100000 /chunked/70000 /close/5000)
check_eq "h2c: six streams on one connection, three backends' answers" "$got" \
    "status 200 len 11
status 200 len 11
status 200 len 12
status 200 len 100000
status 200 len 70000
status 200 len 5000"
check_match "h2c: backend b got its stream (prefix stripped)" "$(cat "$(origin_log b)")" "GET /two"
got=$(nghttp -n -s "$u/n1" "$u/b/n2" 2>&1 | grep -c '^ *[0-9].*/n[12]$' || true)
check_eq "h2c: nghttp fetches two paths over one connection" "$got" 2

# Bodies both ways, in every framing.
want=$("$ORIGIN" gen 4m | "$ORIGIN" crc32)
check_eq "h2c: 4 MB with Content-Length comes whole" \
    "$(h2curl "$u/bytes/4m" | "$ORIGIN" crc32)" "$want"
check_eq "h2c: 4 MB chunked from the server comes whole (framing dropped)" \
    "$(h2curl "$u/chunked/4m" | "$ORIGIN" crc32)" "$want"
check_eq "h2c: 4 MB delimited by the server's close comes whole" \
    "$(h2curl "$u/close/4m" | "$ORIGIN" crc32)" "$want"
"$ORIGIN" gen 3m >"$AREA_DIR/up.bin"
check_eq "h2c: a 3 MB upload with a length reaches the server whole" \
    "$(h2curl --data-binary @"$AREA_DIR/up.bin" "$u/echo")" "$("$ORIGIN" crc32 <"$AREA_DIR/up.bin")"
check_eq "h2c: an upload without a length goes on chunked, whole" \
    "$(raw "$p" upload /echo 300000)" "$("$ORIGIN" gen 300000 | "$ORIGIN" crc32)"
check_eq "h2c: a slow reader's stream does not hold up another's on the connection" \
    "$(raw "$p" slow-reader /bytes/20m /bytes/300000)" "small 200 300000"
head=$(h2curl -I "$u/bytes/100" | tr -d '\r')
check_match "h2c: HEAD keeps the length and has no body" "$head" $'\ncontent-length: 100'
check_eq "h2c: 204 has no body" "$(h2curl -o /dev/null -w '%{http_code} %{size_download}' "$u/status/204")" "204 0"
check_eq "h2c: interim 1xx responses, then the final one" \
    "$(h2curl -w ' %{http_code}' "$u/raw/1xx")" "1xx 200"
check_match "h2c: a chunked response's trailer section becomes trailing HEADERS" \
    "$(nghttp -v "$u/chunked/100" 2>&1 | tr -cd '[:print:]\n' | grep -a 'x-origin-trailer')" 'recv \(stream_id=[0-9]+\) x-origin-trailer: done'
check_eq "h2c: a server's hop-by-hop fields are dropped" \
    "$(h2curl -D - -o /dev/null "$u/raw/hop" | tr -d '\r' | grep -ci '^\(keep-alive\|upgrade\|proxy-connection\|x-hop-named\|connection\):' || true)" 0

# Every phase as over HTTP/1.1.
codes=""
for i in 1 2 3 4; do codes="$codes $(h2curl -o /dev/null -w '%{http_code}' "$u/three/$i")"; done
check_eq "h2c: a rate limit counts HTTP/2 requests (the 4th gets 429)" "$codes" " 200 200 200 429"
check_eq "h2c: methods [GET] answers POST 405" \
    "$(h2curl -o /dev/null -w '%{http_code}' -d x "$u/ro/x")" 405
check_eq "h2c: compression over HTTP/2" \
    "$(h2curl -H 'Accept-Encoding: gzip' -D - -o /dev/null "$u/gz/bytes/5000" | tr -d '\r' | grep -i '^content-encoding:')" \
    "content-encoding: gzip"
check_eq "h2c: ... and the body decodes whole" \
    "$(h2curl --compressed "$u/gz/bytes/5000" | "$ORIGIN" crc32)" "$("$ORIGIN" gen 5000 | "$ORIGIN" crc32)"
check_match "h2c: the access log says HTTP/2.0" "$(cat "$AREA_DIR/access.log")" '"protocol":"HTTP/2.0"'
srv=$(cat "$(origin_log a)")
check_match "h2c: the server gets X-Forwarded-For" "$srv" 'X-Forwarded-For: 127.0.0.1'
check_match "h2c: ... and a Via naming HTTP/2 as the protocol received" "$srv" 'GET /x HTTP/1.1.*Via: 2 rpx'

# Requests HTTP/1.1 could read otherwise: refused, never sent on.
for case in transfer-encoding connection keep-alive upgrade te-gzip uppercase crlf-value \
    lf-value nul-value space-name colon-name space-path path-space no-path no-method dup-path \
    pseudo-after unknown-pseudo host-differs authority-space method-space empty-path \
    length-short length-long length-head; do
    got=$(raw "$p" smuggle "$case")
    check_match "h2c smuggling: $case is refused" "$got" '^(rst PROTOCOL_ERROR|status 400|goaway PROTOCOL_ERROR)$'
done
check "h2c smuggling: no refused request reached server a" lacks smuggled "$(origin_log a)"
check "h2c smuggling: ... nor server b" lacks smuggled "$(origin_log b)"

# The attacks: the attacker is stopped, the others are served.
before=$(grep -c 'GET /slow/200' "$(origin_log a)" || true)
got=$(raw "$p" rapid-reset 20000)
check_match "h2c: rapid reset (CVE-2023-44487) ends in a GOAWAY" "$got" '^goaway (ENHANCE_YOUR_CALM|INTERNAL_ERROR|PROTOCOL_ERROR) after'
sleep 0.5
after=$(grep -c 'GET /slow/200' "$(origin_log a)" || true)
check "h2c: ... and few of its cancelled streams reached a server ($((after - before)))" \
    test $((after - before)) -lt 200
check_eq "h2c: another client is served meanwhile" "$(h2curl "$u/x")" "a GET /x"
# (100,000 frames are 5 MB, more than the sockets' buffers hold: a
# client that sent them all was never cut off.)
got=$(raw "$p" continuation 100000)
check_match "h2c: a CONTINUATION flood (CVE-2024-28182) is cut off" "$got" '^(goaway [A-Z_]*|closed) after'
check "h2c: ... long before its end (${got##* })" test "${got##* }" -lt 100000
check_match "h2c: a SETTINGS flood that never reads the ACKs is closed" \
    "$(raw "$p" flood settings 200000)" '^(goaway [A-Z_]*|closed) after'
check_match "h2c: a PING flood that never reads the answers is closed" \
    "$(raw "$p" flood ping 200000)" '^(goaway [A-Z_]*|closed) after'
check_eq "h2c: an HPACK bomb (a 4 KB field referenced 1000 times) gets 431, the connection lives" \
    "$(raw "$p" hpack-bomb 1000)" "status 200
status 431
status 200"
check_eq "h2c: a head of 12 KB of fields passes" "$(raw "$p" big-head 12)" "status 200 len 16"
check_eq "h2c: a head over the limit (40 KB of fields) gets 431" "$(raw "$p" big-head 40 | cut -d' ' -f1-2)" "status 431"
check_match "h2c: a client that never opens its window has its stream reset" \
    "$(raw "$p" zero-window /bytes/1000000 $((8 * SCALE)))" '^rst INTERNAL_ERROR$'
check_match "h2c: an idle connection gets a GOAWAY (NO_ERROR) after timeouts { client_idle }" \
    "$(raw "$p" idle $((9 * SCALE)))" '^goaway NO_ERROR after [3-6]s$'
got=$(raw "$p" slow-head $((8 * SCALE)))
check_match "h2c: a head that never ends is closed after timeouts { client_header } ($got)" \
    "$got" '^(closed|goaway [A-Z_]+) after [2-9]\.'
check_eq "h2c: the highest stream id works" "$(raw "$p" conformance max-stream-id | head -n 1)" "status 200"
check_eq "h2c: ... and a stream id after it (going back) is a connection error" \
    "$(raw "$p" conformance max-stream-id | tail -n 1)" "goaway PROTOCOL_ERROR"
check_eq "h2c: the others are still served" "$(h2curl "$u/y")" "a GET /y"

metric() { hcurl "$u/metrics" | sed -n "s/^$1 //p"; }
check "h2c metrics: HTTP/2 connections counted ($(metric rpx_http2_connections_total))" \
    test "$(metric rpx_http2_connections_total)" -gt 10
check "h2c metrics: streams counted ($(metric rpx_http2_streams_total))" \
    test "$(metric rpx_http2_streams_total)" -gt 100
check "h2c metrics: the rapid reset's cancelled streams counted ($(metric rpx_http2_streams_reset_total))" \
    test "$(metric rpx_http2_streams_reset_total)" -gt 100
check "h2c metrics: connections ended by an error counted ($(metric rpx_http2_connection_errors_total))" \
    test "$(metric rpx_http2_connection_errors_total)" -ge 2

# RFC 9113's connection rules.
check_eq "h2 rules: PING is answered with its payload" "$(raw "$p" conformance ping)" "pong rpx-ping"
check_eq "h2 rules: an unknown frame type is ignored" "$(raw "$p" conformance unknown-frame)" "status 200 len 21"
for rule in "data-stream0 PROTOCOL_ERROR" "headers-stream0 PROTOCOL_ERROR" \
    "window-zero PROTOCOL_ERROR" "even-stream PROTOCOL_ERROR" "frame-too-big FRAME_SIZE_ERROR" \
    "stream-id-back PROTOCOL_ERROR" "settings-bad-window FLOW_CONTROL_ERROR" \
    "settings-bad-frame-size PROTOCOL_ERROR" "window-overflow FLOW_CONTROL_ERROR"; do
    set -- $rule
    check_eq "h2 rules: $1 is a connection error ($2)" "$(raw "$p" conformance "$1")" "goaway $2"
done
# Each a stream error or a connection error of the code RFC 9113 names.
for rule in "second-headers-no-end PROTOCOL_ERROR" "data-idle PROTOCOL_ERROR" \
    "data-half-closed STREAM_CLOSED" "rst-idle PROTOCOL_ERROR" \
    "continuation-other-stream PROTOCOL_ERROR" "continuation-after-end PROTOCOL_ERROR" \
    "push-promise PROTOCOL_ERROR" "settings-ack-payload FRAME_SIZE_ERROR" \
    "settings-stream PROTOCOL_ERROR" "settings-length FRAME_SIZE_ERROR" \
    "settings-push-2 PROTOCOL_ERROR" "ping-stream PROTOCOL_ERROR" "ping-length FRAME_SIZE_ERROR" \
    "goaway-stream PROTOCOL_ERROR" "rst-length FRAME_SIZE_ERROR" "window-length FRAME_SIZE_ERROR" \
    "data-padding PROTOCOL_ERROR" "headers-self-dependency PROTOCOL_ERROR" \
    "priority-self PROTOCOL_ERROR" "hpack-bad-index COMPRESSION_ERROR" \
    "headers-after-rst STREAM_CLOSED"; do
    set -- $rule
    check_match "h2 rules: $1 is an error ($2)" "$(raw "$p" conformance "$1")" "^(rst|goaway) $2\$"
done
check_match "h2 rules: a bad preface closes the connection" "$(raw "$p" conformance bad-preface)" '^(closed|goaway PROTOCOL_ERROR)$'
stop_proxy h2

# TLS: h2 by ALPN, by default.
check "h2 over tls policy compiles" build_proxy h2tls "
listen :8443 tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\" }
backend a { server a 127.0.0.1:@a@ }
route path \"/sni\" if tls.sni == \"a.test\" { respond 200 \"sni a.test\" }
route default { proxy a }"
p=$(start_proxy h2tls -w 2)
tcurl() { curl -sS --max-time "$T_SHORT" --cacert "$TLS/ca.pem" --resolve "a.test:$p:127.0.0.1" "https://a.test:$p$1" "${@:2}"; }
check_eq "h2 tls: ALPN picks h2 by default" "$(tcurl /x -o /dev/null -w '%{http_version} %{http_code}')" "2 200"
check_eq "h2 tls: tls.* values reach the streams' exchanges" "$(tcurl /sni)" "sni a.test"
check_eq "h2 tls: a client that offers only http/1.1 gets it" \
    "$(tcurl /x --http1.1 -o /dev/null -w '%{http_version}')" "1.1"
check_eq "h2 tls: 4 MB comes whole" "$(tcurl /bytes/4m | "$ORIGIN" crc32)" "$want"
got=$(h2load -n 2000 -c 4 -m 10 "https://127.0.0.1:$p/h2load" 2>&1 | grep -E '^(requests|status codes):')
check_match "h2 tls: h2load, 2000 requests on 4 connections, all answered" "$got" \
    'requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed'
stop_proxy h2tls

check "a listener with alpn http/1.1 compiles" build_proxy h1tls "
listen :8443 tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\"
    alpn http/1.1 }
backend a { server a 127.0.0.1:@a@ }
route default { proxy a }"
p=$(start_proxy h1tls)
check_eq "h2 tls: alpn http/1.1 keeps HTTP/2 off" "$(tcurl /x -o /dev/null -w '%{http_version}')" "1.1"
stop_proxy h1tls

# A graceful GOAWAY under load: an upgrade drains the old process while a
# client keeps 10 streams in flight on each of 8 connections. A GOAWAY
# notice comes first, the last stream id once a PING has come back: no
# stream the old process took is lost, those it did not take go again.
# (h2load fails a connection's remaining requests at any GOAWAY, so the
# load comes from h2_raw.py, which treats it as RFC 9113 6.8 says.)
check "h2 drain policy compiles" build_proxy h2d '
listen :8080 h2c
limits { http2_streams 64; http2_window 128k; http2_frame 32k; header_size 8k }
backend a { server a 127.0.0.1:@a@ }
route default { proxy a }'
ctl=$AREA_DIR/h2d.ctl
p=$(start_proxy h2d -w 2 --control "$ctl")
pid1=$(proxy_pid h2d)
u="http://127.0.0.1:$p"
check_eq "h2 settings: the policy's limits are the SETTINGS clients get" "$(raw "$p" settings)" \
    "max_concurrent_streams=64 initial_window_size=131072 max_header_list_size=8192 max_frame_size=32768 enable_push=0"
raw "$p" load $((4 * SCALE)) 8 /drain >"$AREA_DIR/drain.out" &
load=$!
sleep $((1 * SCALE))
spawn "$AREA_DIR/h2d2" "$AREA_DIR/h2d" -w 2 -q --listen "127.0.0.1:$p" \
    --port-file "$AREA_DIR/h2d2.port" --upgrade-from "$ctl"
wait_file "$AREA_DIR/h2d2.port" "$T_SHORT"
check "h2 drain: the old process exits after its drain" wait_gone "$pid1"
wait "$load"
got=$(cat "$AREA_DIR/drain.out")
check_match "h2 drain: streams across the upgrade: none failed" "$got" '^ok [0-9]+ failed 0 '
check_match "h2 drain: ... the old process said GOAWAY on every connection" "$got" 'goaways (1[6-9]|[2-9][0-9])$'
check_eq "h2 drain: the new process serves" "$(h2curl "$u/after")" "a GET /after"
kill_pids 5 "$(cat "$AREA_DIR/h2d2.pid")"
