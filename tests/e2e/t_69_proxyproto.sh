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
pp_server()
{
    python3 - "$AREA_DIR/$1.port" <<'PY' 2>"$AREA_DIR/$1.err" &
import socket, sys, os
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
tmp = sys.argv[1] + ".tmp"
open(tmp, "w").write("%d\n" % s.getsockname()[1])
os.rename(tmp, sys.argv[1])
s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data[16:] if data.startswith(b"\r\n\r\n") else b"\r\n\r\n" not in data:
            d = c.recv(4096)
            if not d:
                break
            data += d
        if data.startswith(b"PROXY "):
            hdr = data.split(b"\r\n", 1)[0].decode()
        elif data.startswith(b"\r\n\r\n\x00\r\nQUIT\n"):
            n = 16 + (data[14] << 8 | data[15])
            b = data[16:n]
            if data[13] == 0x11:
                hdr = "v2 %s:%d" % (socket.inet_ntoa(b[0:4]), b[8] << 8 | b[9])
            else:
                hdr = "v2 cmd=%x fam=%x" % (data[12], data[13])
        else:
            hdr = "none"
        body = (hdr + "\n").encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    c.close()
PY
    echo $! >>"$SCRATCH/pids"
    wait_file "$AREA_DIR/$1.port" 10
}
pp_server ppv1
pp_server ppv2
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
