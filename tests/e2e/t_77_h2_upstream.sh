# t_77_h2_upstream.sh: HTTP/2 to servers (`server NAME ADDR h2`), against
# h2_server.py (frames by hand, with a gRPC-like service). Requests from
# HTTP/1.1 and HTTP/2 clients go on as streams, many on one connection per
# worker; bodies both ways within the server's and the client's windows;
# trailers both ways; gRPC unary, client, server and bidirectional
# streaming calls and a trailers-only error; a server that never answers
# (504, its stream cancelled); a server that goes away and comes back.

TLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)

# h2_origin NAME [CERT KEY [ALPN]]: h2_server.py, its port in NAME.port.
h2_origin()
{
    local base=$AREA_DIR/$1 name=$1
    shift
    rm -f "$base.port"
    : >"$base.log"
    spawn "$base" python3 "$here/h2_server.py" "$base.port" "$base.log" "$name" "$@" || return 1
    wait_file "$base.port" "$T_SHORT"
}
raw() { timeout $((30 * SCALE)) python3 "$here/h2_raw.py" "$@" 2>&1; }
h2curl() { curl -sS --max-time "$T_SHORT" --http2-prior-knowledge "$@"; }

h2_origin g
check "h2 upstream policy compiles" build_proxy h2up '
listen :8080 h2c
timeouts { backend 2s }
backend grpc { server g 127.0.0.1:@g@ h2 }
route default { proxy grpc }'
p=$(start_proxy h2up -w 1)
u="http://127.0.0.1:$p"

check_eq "h2 upstream: an HTTP/1.1 client's request reaches the server over HTTP/2" \
    "$(hcurl "$u/hello")" "g GET /hello body=0 te=trailers"
check_eq "h2 upstream: ... an HTTP/2 client's too" "$(h2curl "$u/hello2")" "g GET /hello2 body=0 te=trailers"
check_eq "h2 upstream: a response without a length goes to HTTP/1.1 chunked" \
    "$(hcurl -D - -o /dev/null "$u/x" | tr -d '\r' | grep -i '^transfer-encoding:')" \
    "Transfer-Encoding: chunked"
check_eq "h2 upstream: a response with a length keeps it" \
    "$(hcurl -D - -o /dev/null "$u/len/x" | tr -d '\r' | grep -i '^content-length:')" \
    "Content-Length: 13"
"$ORIGIN" gen 1m >"$AREA_DIR/up.bin"
check_eq "h2 upstream: a 1 MB upload with a length arrives whole" \
    "$(hcurl --data-binary @"$AREA_DIR/up.bin" "$u/up")" "g POST /up body=1048576 te=trailers"
check_eq "h2 upstream: ... a chunked one too" \
    "$(hcurl -H 'Transfer-Encoding: chunked' --data-binary @"$AREA_DIR/up.bin" "$u/up2")" \
    "g POST /up2 body=1048576 te=trailers"
want=$("$ORIGIN" gen 3m | "$ORIGIN" crc32)
check_eq "h2 upstream: 3 MB from the server, within its windows, to an HTTP/1.1 client" \
    "$(hcurl "$u/bytes/3145728" | "$ORIGIN" crc32)" "$want"
check_eq "h2 upstream: ... to an HTTP/2 client" \
    "$(h2curl "$u/bytes/3145728" | "$ORIGIN" crc32)" "$want"
check_match "h2 upstream: the server's trailing HEADERS reach an HTTP/1.1 client as trailers" \
    "$(hcurl --raw "$u/trailers" | tr -d '\r')" $'\nx-checksum: abc'
check_match "h2 upstream: ... and an HTTP/2 client as trailing HEADERS" \
    "$(nghttp -v "$u/trailers" 2>&1 | tr -cd '[:print:]\n' | grep -a 'x-checksum')" 'recv \(stream_id=[0-9]+\) x-checksum: abc'

# gRPC through the proxy: HTTP/2 on both sides, trailers both ways.
check_eq "grpc: a unary call (two messages back, status in the trailers)" \
    "$(raw "$p" grpc /grpc.Echo/Unary hello world)" "msg hello
msg world
grpc-status 0 OK"
check_eq "grpc: bidirectional streaming: each message comes back before the next goes" \
    "$(raw "$p" grpc-bidi /grpc.Echo/Bidi one two three)" "echo one
echo two
echo three
grpc-status 0 OK"
check_eq "grpc: server streaming" "$(raw "$p" grpc /grpc.Echo/ServerStream x)" "msg part 0
msg part 1
msg part 2
grpc-status 0 OK"
check_eq "grpc: a trailers-only error stays one HEADERS with its status" \
    "$(raw "$p" grpc /grpc.Echo/Fail x)" "grpc-status 13 boom trailers-only"

# Many requests, one connection per worker.
got=$(h2load -n 2000 -c 10 -m 10 "$u/load" 2>&1 | grep -E '^requests:')
check_match "h2 upstream: h2load, 2000 requests, all answered" "$got" '2000 succeeded, 0 failed'
check_eq "h2 upstream: ... multiplexed on one connection to the server (one worker)" \
    "$(grep -c '^conn ' "$AREA_DIR/g.log")" 1
check_eq "h2 upstream: ... as streams" "$(grep -c '^stream GET /load' "$AREA_DIR/g.log")" 2000

# A server that never answers: 504 after the backend timeout, its stream cancelled.
check_eq "h2 upstream: a server that never answers: 504" \
    "$(hcurl -o /dev/null -w '%{http_code}' "$u/grpc.Echo/Hang")" 504
sleep 0.3
check_match "h2 upstream: ... and its stream is reset (CANCEL)" "$(cat "$AREA_DIR/g.log")" $'\nrst [0-9]+'
check_eq "grpc: a call's grpc-timeout (300 ms) ends it before the backend timeout (2 s)" \
    "$(raw "$p" grpc-deadline /grpc.Echo/Hang 300m $((1 * SCALE)).5)" "status 504 in time"
check_eq "h2 upstream: the connection serves on" "$(hcurl "$u/after")" "g GET /after body=0 te=trailers"

# The server goes away: 502; back on its port: served on a new connection.
port=$(cat "$AREA_DIR/g.port")
kill_pids 5 "$(cat "$AREA_DIR/g.pid")"
check_eq "h2 upstream: the server gone: 502" "$(hcurl -o /dev/null -w '%{http_code}' "$u/gone")" 502
spawn "$AREA_DIR/g2" python3 -c "
import sys, socket, runpy
sys.argv = ['h2_server.py', '$AREA_DIR/g2.port', '$AREA_DIR/g2.log', 'g2']
real = socket.socket.bind
socket.socket.bind = lambda self, a: real(self, ('127.0.0.1', $port))
runpy.run_path('$here/h2_server.py', run_name='__main__')"
wait_file "$AREA_DIR/g2.port" "$T_SHORT"
ok=""
for _ in $(seq 20); do
    [ "$(hcurl "$u/back" 2>/dev/null)" = "g2 GET /back body=0 te=trailers" ] && ok=1 && break
    sleep 0.2
done
check "h2 upstream: the server back: served on a new connection" test -n "$ok"
# A graceful stop: a gRPC stream under way finishes on its connection.
raw "$p" grpc /grpc.Echo/ServerStream x >"$AREA_DIR/drain.grpc" &
call=$!
for _ in $(seq 50); do
    grep -q 'ServerStream' "$AREA_DIR/g2.log" 2>/dev/null && break
    sleep 0.1
done
stop_proxy h2up
wait "$call"
check_eq "h2 upstream: a graceful stop lets a gRPC stream under way finish" \
    "$(cat "$AREA_DIR/drain.grpc")" "msg part 0
msg part 1
msg part 2
grpc-status 0 OK"

# Over TLS: ALPN h2, the server's certificate verified.
h2_origin gt "$TLS/a.pem" "$TLS/a.key"
h2_origin gh1 "$TLS/a.pem" "$TLS/a.key" http/1.1
check "h2 over tls to servers policy compiles" build_proxy h2tls "
listen :8080 h2c
backend grpc { server g 127.0.0.1:@gt@ h2 tls { ca \"$TLS/ca.pem\"; sni \"a.test\" } }
backend wrongca { server g 127.0.0.1:@gt@ h2 tls { ca \"$TLS/a.pem\"; sni \"a.test\" } }
backend noh2 { server g 127.0.0.1:@gh1@ h2 tls { ca \"$TLS/ca.pem\"; sni \"a.test\" } }
route path \"/wrongca/\" { proxy wrongca }
route path \"/noh2/\" { proxy noh2 }
route default { proxy grpc }"
p=$(start_proxy h2tls -w 1)
u="http://127.0.0.1:$p"
check_eq "h2 tls upstream: a request goes over TLS with ALPN h2" "$(hcurl "$u/tls")" "gt GET /tls body=0 te=trailers"
check_eq "h2 tls upstream: gRPC over it" "$(raw "$p" grpc /grpc.Echo/Unary over-tls)" \
    "$(printf 'msg over-tls\ngrpc-status 0 OK')"
check_eq "h2 tls upstream: a certificate the CA did not sign: 502" \
    "$(hcurl -o /dev/null -w '%{http_code}' "$u/wrongca/x")" 502
check_match "h2 tls upstream: ... with the reason logged" "$(cat "$AREA_DIR/h2tls.run.err")" \
    'server g: TLS handshake failed: .*certificate'
check_eq "h2 tls upstream: a server that will not agree to h2: 502" \
    "$(hcurl -o /dev/null -w '%{http_code}' "$u/noh2/x")" 502
check_match "h2 tls upstream: ... with the reason logged" "$(cat "$AREA_DIR/h2tls.run.err")" \
    'did not agree to HTTP/2'
stop_proxy h2tls

