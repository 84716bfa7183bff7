# t_58_exhaustion.sh: running out of descriptors. With `ulimit -n 256` and
# 400 slow clients holding connections, the proxy must not spin on accept
# (bounded CPU), must not flood its log (rate-limited lines with a count of
# what was held back), and must serve again once the clients go.
#
# Two proxies: one with the default connection limit (derived from the
# descriptor limit: it stops accepting before running out), one told to
# accept more connections than it has descriptors for (so accept meets
# EMFILE and must back off rather than retry at once).

start_origin a >/dev/null
policy='
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
check "exhaustion policy compiles" build_proxy fdlimit "$policy"
check "over-limit policy compiles" build_proxy fdover "$policy
limits { connections 1000 }"

# A wrapper that starts the proxy with 256 descriptors, soft and hard.
for name in fdlimit fdover; do
    printf '#!/bin/sh\nulimit -n 256 || exit 97\nexec %q "$@"\n' "$AREA_DIR/$name" >"$AREA_DIR/$name.256"
    chmod +x "$AREA_DIR/$name.256"
done

# hold PORT N SECONDS: opens N connections to PORT, sends each half a request
# head (a slow client), keeps them SECONDS, then closes them all.
hold()
{
    python3 - "$1" "$2" "$3" <<'EOF'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
time.sleep(0.3)
for s in socks:
    try:
        s.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        pass
time.sleep(secs)
for s in socks:
    s.close()
EOF
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

hz=$(getconf CLK_TCK)
for name in fdlimit fdover; do
    p=$(start_proxy "$AREA_DIR/$name.256" -w 1)
    pid=$(proxy_pid "$name.256")
    err=$AREA_DIR/$name.256.run.err
    check_eq "$name: serves before the flood" "$(hcurl "http://127.0.0.1:$p/before")" "a GET /before"
    lines0=$(wc -l <"$err")
    hold "$p" 400 3 &
    holder=$!
    sleep 1
    t0=$(cpu_ticks "$pid")
    sleep 2
    used=$(( ($(cpu_ticks "$pid") - t0) * 1000 / hz ))
    # A spinning accept loop burns all of its 2 s; backing off costs next
    # to nothing (250 ms leaves room for a loaded machine).
    check "$name: bounded CPU while out of connections (${used} ms of CPU in 2 s)" \
        test "$used" -lt $((250 * SCALE))
    wait $holder
    lines=$(($(wc -l <"$err") - lines0))
    check "$name: bounded log while out of connections ($lines lines in 3 s)" test "$lines" -le 12
    if [ "$name" = fdover ]; then
        check "$name: the log says why accepting paused" grep -q 'accept: Too many open files' "$err"
    else
        check "$name: the log says the connection limit was reached" grep -q 'at the limit of' "$err"
    fi
    # Queued connections are accepted and closed as the clients' FINs arrive.
    ok=
    for _ in $(seq 1 $((20 * SCALE))); do
        got=$(hcurl --max-time 1 "http://127.0.0.1:$p/after" 2>/dev/null) && [ "$got" = "a GET /after" ] && {
            ok=1
            break
        }
        sleep 0.25
    done
    check "$name: serves again once the clients have gone" test -n "$ok"
    check "$name: proxy stops on SIGTERM with exit 0" stop_proxy "$name.256"
done

# Buffer memory: with `limits { memory 1m }` (32 buffers of 32 KB) and slow
# requests holding several buffers each, new connections wait in the listen
# queue until buffers come back, and then are all served.
check "memory-limit policy compiles" build_proxy memcap "$policy
limits { memory 1m }"
p=$(start_proxy memcap -w 1)
t0=$EPOCHREALTIME
pids=()
for i in $(seq 1 24); do
    hcurl --max-time $((15 * SCALE)) -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$p/slow/600" \
        >"$AREA_DIR/mem.$i" 2>"$AREA_DIR/mem.$i.err" &
    pids+=($!)
done
wait "${pids[@]}"
ms=$(ms_since "$t0")
got=$(cat "$AREA_DIR"/mem.* | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')
check_eq "memcap: 24 slow requests over 1 MB of buffers are all served" "$got" "200:24 "
check "memcap: ... in more than one round, the rest waiting for buffers (${ms} ms)" test "$ms" -ge 1150
check "memcap: the log says the memory limit was reached" grep -q 'at the limit of' "$AREA_DIR/memcap.run.err"
check "memcap: proxy stops on SIGTERM with exit 0" stop_proxy memcap

# A listener's own limit: `listen ADDRESS max_conns 2`. Two slow clients
# hold it; a third waits in the listen queue, not refused, and is served as
# soon as one of the two goes.
check "listener-limit policy compiles" build_proxy lcap '
listen :8080 max_conns 2
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy lcap -w 1)
conn_open h1 "$p"
conn_open h2 "$p"
conn_send "$h1" 'GET /held HTTP/1.1\r\n'
conn_send "$h2" 'GET /held HTTP/1.1\r\n'
sleep 0.3
got=$(hcurl -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$p/waiting" 2>/dev/null)
check_eq "lcap: a third client is not answered while two hold the listener" "$got" 000
check "lcap: the log says the listener is at its limit" grep -q 'at its limit of 2 connections' "$AREA_DIR/lcap.run.err"
# (The background client must not inherit the held sockets, or closing
# them here would not close them.)
(
    exec {h1}>&- {h2}>&-
    hcurl -o "$AREA_DIR/lcap.third" "http://127.0.0.1:$p/third" 2>/dev/null
) &
third=$!
sleep 0.3
conn_close "$h1"
wait $third
check_eq "lcap: ... and is served once one of them goes" "$(cat "$AREA_DIR/lcap.third")" "a GET /third"
conn_close "$h2"
check "lcap: proxy stops on SIGTERM with exit 0" stop_proxy lcap

# At the limit, room is made by closing connections that were answered and
# wait for another request, never one whose first request is still coming.
check "room policy compiles" build_proxy room "$policy
limits { connections 2 }"
p=$(start_proxy room -w 1)
conn_open fresh "$p"
conn_open kept "$p"
conn_send "$kept" 'GET /kept HTTP/1.1\r\nHost: x\r\n\r\n'
got=$(conn_read_response "$kept")
check_match "room: a keep-alive client is answered" "$got" 'a GET /kept$'
# The silent connection is handed to the proxy once TCP_DEFER_ACCEPT's
# second is over (until then the kernel holds it half-open, SYN-RECV).
for _ in $(seq $((50 * SCALE))); do
    [ "$(ss -tnH state syn-recv "( sport = :$p )" | wc -l)" = 0 ] && break
    sleep 0.1
done
sleep 0.2
(
    exec {fresh}>&- {kept}>&-
    hcurl -o "$AREA_DIR/room.third" "http://127.0.0.1:$p/third" 2>/dev/null
) &
third=$!
wait $third
check_eq "room: a third client gets in: room was made" "$(cat "$AREA_DIR/room.third")" "a GET /third"
timeout $((2 * SCALE)) cat <&"$kept" >"$AREA_DIR/room.kept" 2>"$AREA_DIR/room.kept.err"
rc=$?
check_eq "room: ... by closing the answered keep-alive connection (rc=$rc: $(cat "$AREA_DIR/room.kept.err"))" "$rc" 0
conn_send "$fresh" 'GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
got=$(conn_read_response "$fresh")
check_match "room: the connection whose request had not come yet was kept, and is answered" "$got" 'a GET /fresh$'
conn_close "$fresh"
conn_close "$kept"
check "room: proxy stops on SIGTERM with exit 0" stop_proxy room
