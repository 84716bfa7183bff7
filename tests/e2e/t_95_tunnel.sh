# t_95_tunnel.sh: Upgrade (WebSocket) tunnels, only on routes that allow them.

start_origin ws >/dev/null
check "tunnel policy compiles" build_proxy tunnel '
listen :8080
backend app { server ws 127.0.0.1:@ws@ }
route host "plain.test" { proxy app }
route default { tunnel; proxy app }'
p=$(start_proxy tunnel -w 1)

# A route with `tunnel`: the handshake goes through, the 101 comes back,
# then bytes flow both ways over the same connection (the origin echoes).
conn_open fd "$p"
conn_send "$fd" 'GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n'
head=$(conn_read_response "$fd" | tr -d '\r')
check_match "tunnel: 101 Switching Protocols relayed" "$head" '^HTTP/1\.1 101 '
check_match "tunnel: ... with the Upgrade field" "$head" $'\nUpgrade: echo'
check_match "tunnel: ... and Connection: upgrade" "$head" $'\nConnection: upgrade'
conn_send "$fd" 'hello through the tunnel\n'
IFS= read -r -t $((2 * SCALE)) line <&"$fd"
check_eq "tunnel: bytes go up and come back" "$line" "hello through the tunnel"
conn_send "$fd" 'second message\n'
IFS= read -r -t $((2 * SCALE)) line <&"$fd"
check_eq "tunnel: ... and keep going" "$line" "second message"
conn_close "$fd"

# A route without `tunnel`: Upgrade is hop-by-hop and is not forwarded, so
# the server never switches (the origin answers 426 to a request without
# Upgrade) and sees no Upgrade field.
got=$(hcurl -s -o /dev/null -w '%{http_code}' -H 'Host: plain.test' -H 'Upgrade: echo' \
    -H 'Connection: Upgrade' "http://127.0.0.1:$p/upgrade")
check_eq "no tunnel: the server got no Upgrade and did not switch (426)" "$got" 426
seen=$(hcurl -s -H 'Host: plain.test' -H 'Upgrade: echo' -H 'Connection: Upgrade' \
    "http://127.0.0.1:$p/headers" | grep -ci '^upgrade:')
check_eq "no tunnel: no Upgrade field reached the server" "$seen" 0
seen=$(hcurl -s --max-time 1 -H 'Upgrade: echo' -H 'Connection: Upgrade' \
    "http://127.0.0.1:$p/headers" | grep -ci '^upgrade:')
check_eq "tunnel route: the Upgrade field is forwarded" "$seen" 1
check "proxy 'tunnel' stops on SIGTERM with exit 0" stop_proxy tunnel

# `timeouts { tunnel }`: a tunnel idle that long is closed; the request that
# opened it had the backend timeout.
check "tunnel timeout policy compiles" build_proxy tunnel_idle '
listen :8080
backend app { server ws 127.0.0.1:@ws@ }
timeouts { backend 30s; tunnel 1s }
route default { tunnel; proxy app }'
p=$(start_proxy tunnel_idle -w 1)
conn_open fd "$p"
conn_send "$fd" 'GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n'
head=$(conn_read_response "$fd" | tr -d '\r')
check_match "tunnel timeout: the tunnel opens" "$head" '^HTTP/1\.1 101 '
conn_send "$fd" 'ping\n'
IFS= read -r -t $((2 * SCALE)) line <&"$fd"
check_eq "tunnel timeout: bytes flow" "$line" "ping"
start=$EPOCHREALTIME
got=$(timeout $((5 * SCALE)) cat <&"$fd" | wc -c)
ms=$(ms_since "$start")
check_eq "tunnel timeout: the idle tunnel is closed (end of stream)" "$got" 0
check "tunnel timeout: ... after about 1s ($ms ms), not the backend's 30s" \
    test "$ms" -ge 800 -a "$ms" -lt $((4000 * SCALE))
conn_close "$fd"
check "proxy 'tunnel_idle' stops on SIGTERM with exit 0" stop_proxy tunnel_idle
