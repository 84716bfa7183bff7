# t_55_caps.sh: caps on what is open at once. `limits {
# connections_per_client N }`: an address's N+1th connection is closed at
# once, another address (127.0.0.2) is not affected, and a closed
# connection frees its place. `limit NAME = concurrent N`: requests in
# flight past N get 503 with Retry-After at once (no queue), and the count
# is given back when an exchange ends, also one whose client went away.

start_origin a >/dev/null
check "caps policy compiles" build_proxy caps '
listen :8080
backend app { server a 127.0.0.1:@a@ }
limits { connections_per_client 3 }
limit inflight = concurrent 2
limit per_ip = concurrent 1 by client.ip
route path "/inflight/" { limit inflight; strip prefix "/inflight"; proxy app }
route path "/one/" { limit per_ip; strip prefix "/one"; proxy app }
route path "/small/" { methods [GET, POST]; body_size 1k; strip prefix "/small"; proxy app }
route path "/metrics" { metrics }
route default { proxy app }'
p=$(start_proxy caps -w 2)
u="http://127.0.0.1:$p"
code() { hcurl -o /dev/null -w '%{http_code}' "$@"; }

# connections per client: three open, each in the middle of a request head
# (a connection that has sent nothing is not accepted yet: TCP_DEFER_ACCEPT),
# the fourth is closed at once
conn_open c1 "$p"
conn_open c2 "$p"
conn_open c3 "$p"
for fd in "$c1" "$c2" "$c3"; do conn_send "$fd" 'GET / HTTP/1.1\r\n'; done
sleep 0.3
check_eq "connections per client: the fourth from one address is refused" \
    "$(code "$u/x" 2>/dev/null)" "000"
check_eq "... another address is not" "$(code --interface 127.0.0.2 "$u/x")" 200
conn_close "$c1"
sleep 0.3
check_eq "... and a closed connection frees its place" "$(code "$u/x")" 200
conn_close "$c2"
conn_close "$c3"
check_match "metrics: the refusal is counted" \
    "$(hcurl "$u/metrics" | grep '^rpx_connections_refused_total{reason="per_client"}')" '} [1-9]'

# concurrent: 2 in flight; 4 at once: two wait for the server, two get 503 now
pids=()
for i in 1 2 3 4; do
    hcurl -o /dev/null -D "$AREA_DIR/in.$i" -w "%{http_code} %{time_total}\n" "$u/inflight/slow/1500" >"$AREA_DIR/in.$i.out" &
    pids+=($!)
    sleep 0.1
done
wait "${pids[@]}"
check_eq "concurrent 2: two served, two refused" \
    "$(cut -d' ' -f1 "$AREA_DIR"/in.*.out | sort | tr '\n' ' ')" "200 200 503 503 "
fast=$(awk '$1 == 503 { print $2 }' "$AREA_DIR"/in.*.out | sort -n | tail -1)
check_match "concurrent: refused at once, not queued (${fast}s)" \
    "$(awk -v s="$fast" 'BEGIN { print (s < 1.0) ? "at once" : "late" }')" '^at once$'
check_eq "concurrent: Retry-After on the refusal" \
    "$(cat "$AREA_DIR"/in.*[0-9] | tr -d '\r' | grep -c '^Retry-After: 1$')" 2
check_eq "concurrent: the counts came back when the exchanges ended" \
    "$(code "$u/inflight/x") $(code "$u/inflight/x")" "200 200"

# a client that goes away gives its place back too, when its exchange ends
# (the server's answer finds no one to take it)
hcurl -o /dev/null --max-time 0.3 "$u/one/slow/1000" 2>/dev/null
sleep 1.2
check_eq "concurrent by client.ip: the place of a client that left is free" \
    "$(code "$u/one/x")" 200
pids=()
hcurl -o /dev/null "$u/one/slow/1000" &
pids+=($!)
sleep 0.3
check_eq "concurrent by client.ip: this address has its one; another address has its own" \
    "$(code "$u/one/x") $(code --interface 127.0.0.2 "$u/one/x")" "503 200"
wait "${pids[@]}"
# methods and body_size: 405 with Allow, 413 by length and by count
hcurl -o /dev/null -D "$AREA_DIR/405.head" -X DELETE "$u/small/x"
check_eq "methods: another method gets 405 with Allow (GET brings HEAD)" \
    "$(head -n1 "$AREA_DIR/405.head" | tr -d '\r'); $(tr -d '\r' <"$AREA_DIR/405.head" | sed -n 's/^Allow: //p')" \
    "HTTP/1.1 405 Method Not Allowed; GET, POST, HEAD"
check_eq "methods: GET, HEAD and POST pass" \
    "$(code "$u/small/x") $(code -I "$u/small/x") $(code -d 'a=1' "$u/small/echo")" "200 200 200"
head -c 2000 /dev/zero | tr '\0' 'x' >"$AREA_DIR/2k"
head -c 1000 /dev/zero | tr '\0' 'x' >"$AREA_DIR/1k"
check_eq "body_size: 1,000 bytes pass; 2,000 get 413, by Content-Length or counted in chunks" \
    "$(code --data-binary @"$AREA_DIR/1k" "$u/small/echo") $(code --data-binary @"$AREA_DIR/2k" "$u/small/echo") \
$(code -H 'Transfer-Encoding: chunked' --data-binary @"$AREA_DIR/2k" "$u/small/echo")" "200 413 413"
check_eq "body_size: other routes keep the global limit (none here)" \
    "$(code --data-binary @"$AREA_DIR/2k" "$u/echo")" 200
stop_proxy caps
