# t_69_proxyproto.sh: the PROXY protocol, v1 and v2, in (listeners that say
# `proxy_protocol`, from trusted peers only) and out (servers that say
# `proxy_protocol v1|v2`, each connection opening with the client's address).

start_origin a >/dev/null
check "proxy protocol (in) policy compiles" build_proxy pp_in '
listen :8080 proxy_protocol
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [127.0.0.0/8] }
route path "/headers" { proxy app }
route if client.ip in [203.0.113.0/24] { respond 200 "office" }
route default { respond 200 "elsewhere" }'
p=$(start_proxy pp_in -w 1)
req='GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
got=$(raw_request "$p" "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\\r\\n$req" | tr -d '\r')
check_match "pp in: v1: the server sees the client the header names" "$got" \
    $'\nX-Forwarded-For: 203.0.113.7'
got=$(raw_request "$p" "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\\r\\nGET /x HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" | tail -n 1)
check_eq "pp in: v1: routes see it as client.ip" "$got" office
v2='\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x09\x0a\x00\x00\x01\x9c\x40\x00\x50'
got=$(raw_request "$p" "$v2$req" | tr -d '\r')
check_match "pp in: v2: the server sees 203.0.113.9" "$got" $'\nX-Forwarded-For: 203.0.113.9'
local2='\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00'
got=$(raw_request "$p" "$local2$req" | tr -d '\r')
check_match "pp in: v2 LOCAL: the connection's own address stands" "$got" $'\nX-Forwarded-For: 127.0.0.1'
got=$(raw_request "$p" "PROXY UNKNOWN\\r\\n$req" | tr -d '\r')
check_match "pp in: v1 UNKNOWN: the connection's own address stands" "$got" $'\nX-Forwarded-For: 127.0.0.1'
got=$(raw_request "$p" "$req" 2>/dev/null | head -c 100)
check_eq "pp in: a request without a PROXY header is refused (closed, no answer)" "$got" ""
got=$(raw_request "$p" "PROXY TCP4 203.0.113.7 10.0.0.1 99999 80\\r\\n$req" 2>/dev/null | head -c 100)
check_eq "pp in: a malformed header is refused" "$got" ""
check "proxy 'pp_in' stops on SIGTERM with exit 0" stop_proxy pp_in

check "proxy protocol then h2c policy compiles" build_proxy pp_h2c '
listen :8080 proxy_protocol h2c
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [127.0.0.0/8] }
route path "/headers" { proxy app }
route if client.ip in [203.0.113.0/24] { respond 200 "office" }
route default { respond 200 "elsewhere" }'
p=$(start_proxy pp_h2c -w 1)
got=$(timeout $((20 * SCALE)) python3 "$here/h2_raw.py" "$p" proxied "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80" /x 2>&1)
check_eq "pp in, then h2c: the PROXY header's client is client.ip over HTTP/2" "$got" "status 200
office"
got=$(timeout $((20 * SCALE)) python3 "$here/h2_raw.py" "$p" proxied "PROXY TCP4 203.0.113.8 10.0.0.1 5555 80" /headers 2>&1 | tr -d '\r')
check_match "pp in, then h2c: ... and the server sees it" "$got" $'\nX-Forwarded-For: 203.0.113.8'
got=$(raw_request "$p" "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\\r\\nGET /x HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" | tail -n 1)
check_eq "pp in, then HTTP/1.1 on the h2c listener: routed as before" "$got" office
check "proxy 'pp_h2c' stops on SIGTERM with exit 0" stop_proxy pp_h2c

check "proxy protocol from an untrusted peer policy compiles" build_proxy pp_untrusted '
listen :8080 proxy_protocol
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [10.0.0.0/8] }
route default { proxy app }'
p=$(start_proxy pp_untrusted -w 1)
got=$(raw_request "$p" "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\\r\\n$req" 2>/dev/null | head -c 100)
check_eq "pp in: a peer not trusted may not send one (closed)" "$got" ""
check "proxy 'pp_untrusted' stops on SIGTERM with exit 0" stop_proxy pp_untrusted

# ---- out: a server that reads a PROXY header, then answers with what it read ----------
tcp_server ppv1 proxy-header
tcp_server ppv2 proxy-header
check "proxy protocol (out) policy compiles" build_proxy pp_out "
listen :8080
backend one { server s 127.0.0.1:$(cat "$AREA_DIR/ppv1.port") proxy_protocol v1 }
backend two { server s 127.0.0.1:$(cat "$AREA_DIR/ppv2.port") proxy_protocol v2 }
route path \"/one\" { proxy one }
route default { proxy two }"
p=$(start_proxy pp_out -w 1)
got=$(hcurl "http://127.0.0.1:$p/one")
check_match "pp out: v1 names the client and the address it reached" "$got" \
    "^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 [0-9]+ $p\$"
got=$(hcurl "http://127.0.0.1:$p/two")
check_match "pp out: v2 names the client" "$got" '^v2 127\.0\.0\.1:[0-9]+$'
got=$(hcurl "http://127.0.0.1:$p/two" "http://127.0.0.1:$p/two")
check_eq "pp out: each request of a kept-alive client gets a connection with its header" \
    "$(grep -c '^v2 127' <<<"$got")" 2
check "proxy 'pp_out' stops on SIGTERM with exit 0" stop_proxy pp_out

# ---- in, before layer 4 and before TLS ---------------------------------------------------
tcp_server ppl4 proxy-header
check "proxy protocol before layer 4 policy compiles" build_proxy pp_l4 "
listen :8080 proxy_protocol tcp proxy l4
forwarded { trusted [127.0.0.0/8] }
backend l4 { server s 127.0.0.1:$(cat "$AREA_DIR/ppl4.port") proxy_protocol v1 }"
p=$(start_proxy pp_l4 -w 1)
got=$(raw_request "$p" 'PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nhello\r\n\r\n' | tail -n 1)
check_match "pp in, layer 4: the server is told the client the header named" "$got" \
    '^PROXY TCP4 203\.0\.113\.7 '
check "proxy 'pp_l4' stops on SIGTERM with exit 0" stop_proxy pp_l4

TLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)
check "proxy protocol before TLS policy compiles" build_proxy pp_tls "
listen :8443 proxy_protocol tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\" }
forwarded { trusted [127.0.0.0/8] }
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }"
p=$(start_proxy pp_tls -w 1)
got=$(python3 - "$p" "$TLS/ca.pem" <<'PY' | tr -d '\r'
import socket, ssl, sys
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
raw.sendall(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n")
s = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(raw, server_hostname="a.test")
s.sendall(b"GET /headers HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("latin-1"))
PY
)
check_match "pp in, then TLS: the server sees the client the header named" "$got" \
    $'\nX-Forwarded-For: 203.0.113.7'
check_match "pp in, then TLS: and that it came over https" "$got" $'\nX-Forwarded-Proto: https'
check "proxy 'pp_tls' stops on SIGTERM with exit 0" stop_proxy pp_tls
