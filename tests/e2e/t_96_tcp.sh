# t_96_tcp.sh: layer 4, `listen ADDR tcp proxy BACKEND`: each connection's
# bytes go to a server of the backend as they are, both ways, until either
# side closes; no HTTP is read or written.

start_origin a >/dev/null
tcp_server echo echo
check "tcp policy compiles" build_proxy tcp "
listen :8080
listen :8081 tcp proxy echo
listen :8082 tcp proxy web
listen :8083 tcp proxy dead
backend echo { server e 127.0.0.1:$(cat "$AREA_DIR/echo.port") }
backend web { server a 127.0.0.1:@a@ }
backend dead { server d 127.0.0.1:1 }
route default { proxy web }"
# The first listener is start_proxy's (ephemeral); the tcp ones get free
# ports picked here, in the policy's order (--listen keeps options by position).
read -r p_echo p_web p_dead < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
p_http=$(start_proxy tcp -w 1 --listen "127.0.0.1:$p_echo" --listen "127.0.0.1:$p_web" \
    --listen "127.0.0.1:$p_dead")
check "tcp: the proxy is up" test -n "$p_http"
got=$(python3 - "$p_echo" <<'PY'
import hashlib, os, socket, sys
data = os.urandom(1 << 20)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(data)
got = b""
while len(got) < len(data):
    d = s.recv(65536)
    if not d:
        break
    got += d
print("same" if got == data else "differ %d" % len(got))
PY
)
check_eq "tcp: 1 MB of random bytes goes and comes back unchanged" "$got" same
head=$(raw_request "$p_web" 'GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | tr -d '\r')
check_match "tcp: an HTTP request goes as bytes" "$head" '^HTTP/1.1 200 '
check_eq "tcp: nothing is added (no Via, no X-Forwarded-For)" \
    "$(grep -ciE '^(via|x-forwarded-for):' <<<"$head")" 0
got=$(raw_request "$p_dead" 'hello' 2>/dev/null | head -c 100)
check_eq "tcp: a dead backend closes the connection, no HTTP answer" "$got" ""
check_eq "tcp: the HTTP listener beside them works" "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p_http/bytes/1")" 200
check "proxy 'tcp' stops on SIGTERM with exit 0" stop_proxy tcp

# Half-close: a client that shuts its side after sending still gets
# everything the server answers (the server's side is shut after the bytes).
check "half-close policy compiles" build_proxy tcphalf "
listen :8080 tcp proxy echo
backend echo { server e 127.0.0.1:$(cat "$AREA_DIR/echo.port") }"
p=$(start_proxy tcphalf -w 1)
got=$(python3 - "$p" <<'PY'
import os, socket, sys
data = os.urandom(300000)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
print("same" if got == data else "differ %d" % len(got))
PY
)
check_eq "tcp half-close: all the echoes come back after the client's FIN" "$got" same
check "proxy 'tcphalf' stops on SIGTERM with exit 0" stop_proxy tcphalf

# `timeouts { tunnel }`: an idle stream is closed after it; requests keep the
# backend timeout.
tcp_server echo2 echo
check "tunnel timeout policy compiles" build_proxy tcp_idle "
listen :8080
listen :8081 tcp proxy echo
backend echo { server e 127.0.0.1:$(cat "$AREA_DIR/echo2.port") }
backend web { server a 127.0.0.1:@a@ }
timeouts { backend 30s; tunnel 1s }
route default { proxy web }"
p_idle=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
p_http=$(start_proxy tcp_idle -w 1 --listen "127.0.0.1:$p_idle")
got=$(python3 - "$p_idle" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"x")
assert s.recv(1) == b"x"
t = time.monotonic()
b = s.recv(1)  # nothing more comes: the proxy closes the idle stream
print("closed after %.1f s" % (time.monotonic() - t) if b == b"" else "got bytes")
PY
)
check_match "tunnel timeout: an idle layer 4 stream is closed after 1s" "$got" '^closed after (0\.9|1\.[0-9]|2\.[0-9]) s$'
got=$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p_http/slow/1500")
check_eq "tunnel timeout: a request slower than it still gets its answer (backend 30s)" "$got" 200
check "proxy 'tcp_idle' stops on SIGTERM with exit 0" stop_proxy tcp_idle
