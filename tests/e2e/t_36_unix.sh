# t_36_unix.sh: servers reached over unix sockets.

sock=$AREA_DIR/u.sock
spawn "$AREA_DIR/u" "$ORIGIN" serve --unix "$sock" --name u --log "$AREA_DIR/u.log"
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
check "unix policy compiles" build_proxy unix "
listen :8080
backend app {
    server u unix:$sock
    health get \"/\" every 200ms timeout 150ms rise 1 fall 1
}
route default { proxy app }"
p=$(start_proxy unix -w 1)
check_eq "unix: a request reaches the server on its socket" "$(hcurl "http://127.0.0.1:$p/over-unix")" "u GET /over-unix"
check_eq "unix: a body goes through" "$(hcurl --data-binary 'hello' "http://127.0.0.1:$p/echo")" "5 3610a686"
sleep 0.5
check "unix: the health check passes (no DOWN logged)" test -z "$(grep -h 'is DOWN' "$AREA_DIR"/unix.run.err)"
# ... and the checks really go over the socket: with the server gone, it is
# marked down.
stop_origin u
for _ in $(seq $((20 * SCALE))); do grep -q 'app/u .*is DOWN' "$AREA_DIR/unix.run.err" && break; sleep 0.1; done
check "unix: a server that went away is marked down by the checks" \
    grep -q 'app/u .*is DOWN' "$AREA_DIR/unix.run.err"
check "proxy 'unix' stops on SIGTERM with exit 0" stop_proxy unix
