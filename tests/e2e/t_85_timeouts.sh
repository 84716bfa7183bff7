# t_85_timeouts.sh: slow clients and stalled servers against the policy's
# `timeouts { }`, and the `limits { }` statuses. A slowloris client gets 408
# and is closed while others are served; a server that never answers gives
# 504; a server that answers slowly but steadily is not cut off; a client
# that stops in the middle of its body gets 408; idle keep-alive connections
# are closed. Times are checked against windows wide enough for a loaded
# machine (times SCALE under the sanitizer).

start_origin a --raw >/dev/null
# Only /stall goes to st: its connections are the stalled ones.
start_origin st >/dev/null
d=$AREA_DIR
alog=$(origin_log a)

check "timeouts policy compiles" build_proxy slow '
listen :8080
timeouts { client_header 2s; client_idle 3s; backend 1s }
backend app { server a 127.0.0.1:@a@ }
backend stalling { server st 127.0.0.1:@st@ }
route path = "/health" { respond 200 "ok" }
route path = "/stall" { proxy stalling }
route default { proxy app }'
p=$(start_proxy slow -w 1)

# ---- slowloris: 20 clients sending one header byte a second ------------------

# The writer: one byte per second to every slow connection, for at most 8 s.
slow_text='GET /slowloris HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n\r\n'
slow_fds=()
for i in $(seq 20); do
    conn_open fd "$p" && slow_fds+=("$fd")
done
t0=$EPOCHREALTIME
(
    trap '' PIPE
    for ((k = 0; k < 8; k++)); do
        for fd in "${slow_fds[@]}"; do
            printf '%b' "${slow_text:$k:1}" >&"$fd" 2>/dev/null
        done
        sleep 1
    done
) &
writer=$!
# A reader per slow connection: what comes back, and when the close comes.
for fd in "${slow_fds[@]}"; do
    (
        timeout $((8 * SCALE)) cat <&"$fd" >"$d/loris.$fd.resp"
        echo "$? $(ms_since "$t0")" >"$d/loris.$fd.end"
    ) &
done
# Meanwhile other clients are served at once.
served=0 slowest=0
for i in $(seq 6); do
    t1=$EPOCHREALTIME
    [ "$(hcurl "http://127.0.0.1:$p/other$i")" = "a GET /other$i" ] && served=$((served + 1))
    ms=$(ms_since "$t1")
    [ "$ms" -gt "$slowest" ] && slowest=$ms
    sleep 0.4
done
check_eq "slowloris: 6 other clients served while 20 slow ones trickle" "$served" 6
check "slowloris: ... each within 1 s (slowest ${slowest} ms)" test "$slowest" -lt $((1000 * SCALE))
for ((i = 0; i < 100 * SCALE; i++)); do
    [ "$(ls "$d"/loris.*.end 2>/dev/null | wc -l)" -ge ${#slow_fds[@]} ] && break
    sleep 0.1
done
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
n408=0 closed=0 times=()
for fd in "${slow_fds[@]}"; do
    [ "$(statuses "$d/loris.$fd.resp")" = 408 ] && n408=$((n408 + 1))
    read -r rc ms <"$d/loris.$fd.end" 2>/dev/null || rc=x ms=0
    [ "$rc" = 0 ] && closed=$((closed + 1)) && times+=("$ms")
    conn_close "$fd"
done
check_eq "slowloris: all 20 slow clients got 408 (client_header 2s)" "$n408" 20
check_eq "slowloris: ... and were closed" "$closed" 20
sorted=$(printf '%s\n' "${times[@]:-0}" | sort -n)
first=$(head -n 1 <<<"$sorted") last=$(tail -n 1 <<<"$sorted")
check "slowloris: closed 1.9-$((4 * SCALE)) s after connecting (${first}-${last} ms)" \
    test "$first" -ge 1900 -a "$last" -le $((4000 * SCALE))
check_eq "slowloris: none of it reached the backend" "$(count_lines slowloris "$alog")" 0

# A connection that sends nothing at all is closed by the same timeout.
if conn_open fd "$p"; then
    t0=$EPOCHREALTIME
    conn_wait_eof "$fd" $((6 * SCALE))
    rc=$?
    ms=$(ms_since "$t0")
    conn_close "$fd"
fi
check "silent connection: closed after client_header 2s (rc $rc, ${ms} ms)" \
    test "$rc" = 0 -a "$ms" -ge 1900 -a "$ms" -le $((4000 * SCALE))

# ---- client_idle ----------------------------------------------------------------

if conn_open fd "$p"; then
    conn_send "$fd" 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n'
    r=$(conn_read_response "$fd")
    t0=$EPOCHREALTIME
    conn_wait_eof "$fd" $((8 * SCALE))
    rc=$?
    ms=$(ms_since "$t0")
    conn_close "$fd"
fi
check_match "client_idle: a keep-alive request is answered" "${r:-}" 'a GET /idle$'
check "client_idle: the idle connection is closed after client_idle 3s (rc $rc, ${ms} ms)" \
    test "$rc" = 0 -a "$ms" -ge 2900 -a "$ms" -le $((5000 * SCALE))

# ---- backend timeout ------------------------------------------------------------

t0=$EPOCHREALTIME
got=$(hcurl -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$p/stall" -o /dev/null \
    "http://127.0.0.1:$p/after-stall" | sed 's/ $//')
ms=$(ms_since "$t0")
check_eq "backend stall: 504, then the next request on the connection is served" "$got" "504 200"
check "backend stall: the 504 came after backend 1s (${ms} ms)" \
    test "$ms" -ge 950 -a "$ms" -le $((3000 * SCALE))
sleep 0.2
check_eq "backend stall: the proxy closed its connection to the stalled server" \
    "$(ss -tanH state established "( dport = :$(origin_port st) )" | wc -l)" 0

# Slow but steady: a byte every 250 ms for 2 s never leaves the server silent
# for 1 s, so the response is not cut off.
got=$(hcurl -w ' %{http_code} %{size_download}' -o /dev/null "http://127.0.0.1:$p/slowbody/8")
check_eq "backend slow body: 8 bytes over 2 s with backend 1s arrive whole" "$got" " 200 8"

check "proxy 'slow' stops on SIGTERM with exit 0" stop_proxy slow

# ---- client_body: a client that stops in the middle of its body -----------------

check "body-timeout policy compiles" build_proxy body '
listen :8080
timeouts { client_body 1s; backend 20s }
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy body -w 1)
midbody()
{
    local fd t0
    conn_open fd "$p" || return 1
    t0=$EPOCHREALTIME
    conn_send "$fd" "$1"
    timeout $((4 * SCALE)) cat <&"$fd" >"$d/midbody.resp"
    echo "$? $(ms_since "$t0")"
    conn_close "$fd"
}
# Head and part of the body in one write, then nothing.
read -r rc ms < <(midbody 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789')
check_eq "client stops mid-body: 408 and closed" "$(statuses "$d/midbody.resp") rc=$rc" "408 rc=0"
check "client stops mid-body: after client_body 1s, not backend 20s (${ms} ms)" \
    test "$ms" -ge 950 -a "$ms" -le $((3000 * SCALE))
check_eq "client stops mid-body: the origin never got a complete body" \
    "$(grep -F ' /echo ' "$alog" | grep -vc ' body=ERR ')" 0
# The same with a chunked body stopped inside a chunk.
read -r rc ms < <(midbody 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n0123456789')
check_eq "client stops mid-chunk: 408 and closed" "$(statuses "$d/midbody.resp") rc=$rc" "408 rc=0"
check "client stops mid-chunk: after client_body 1s (${ms} ms)" \
    test "$ms" -ge 950 -a "$ms" -le $((3000 * SCALE))
# Head, then part of the body in a later write, then nothing.
midbody2()
{
    local fd t0
    conn_open fd "$p" || return 1
    t0=$EPOCHREALTIME
    conn_send "$fd" 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n'
    sleep 0.2
    conn_send "$fd" '0123456789'
    timeout $((4 * SCALE)) cat <&"$fd" >"$d/midbody.resp"
    echo "$? $(ms_since "$t0")"
    conn_close "$fd"
}
read -r rc ms < <(midbody2)
check_eq "client stops mid-body (body in a later write): 408 and closed" \
    "$(statuses "$d/midbody.resp") rc=$rc" "408 rc=0"
check "client stops mid-body (body in a later write): after client_body 1s (${ms} ms)" \
    test "$ms" -ge 1150 -a "$ms" -le $((3000 * SCALE))
check "proxy 'body' stops on SIGTERM with exit 0" stop_proxy body

# ---- limits { } --------------------------------------------------------------------

check "limits policy compiles" build_proxy limits '
listen :8080
limits { header_size 1k; header_count 10; uri_length 100; body_size 1k }
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy limits -w 1)
lines=$(wc -l <"$alog")
long=$(printf '%*s' 150 '' | tr ' ' u)
check_eq "limits: a 150-byte target over uri_length 100 gets 414" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/$long")" 414
check_eq "limits: a 2 KB head over header_size 1k gets 431" \
    "$(hcurl -o /dev/null -w '%{http_code}' -H "X-Big: $(printf '%*s' 2000 '' | tr ' ' h)" "http://127.0.0.1:$p/big")" 431
hdrs=()
for i in $(seq 12); do hdrs+=(-H "X-H$i: v"); done
check_eq "limits: 15 fields over header_count 10 gets 431" \
    "$(hcurl -o /dev/null -w '%{http_code}' "${hdrs[@]}" "http://127.0.0.1:$p/many")" 431
check_eq "limits: a 2000-byte Content-Length over body_size 1k gets 413" \
    "$(hcurl -o /dev/null -w '%{http_code}' --data-binary "$(printf '%*s' 2000 '' | tr ' ' b)" "http://127.0.0.1:$p/echo")" 413
check_eq "limits: none of the refused requests reached the backend" \
    "$(tail -n +"$((lines + 1))" "$alog" | grep -vc ' body=ERR ')" 0
got=$(printf '%*s' 3000 '' | tr ' ' c | hcurl -w ' %{http_code}' -T - "http://127.0.0.1:$p/echo")
check_match "limits: a 3000-byte chunked body over body_size 1k gets 413" "$got" ' 413$'
check_eq "limits: ... and never reached the backend as a complete request" \
    "$(grep -F ' /echo ' "$alog" | grep -c ' body=3000 ')" 0
check_eq "limits: a 1000-byte body is under the limit and arrives" \
    "$(printf '%*s' 1000 '' | hcurl --data-binary @- "http://127.0.0.1:$p/echo" | cut -d' ' -f1)" 1000
check "proxy 'limits' stops on SIGTERM with exit 0" stop_proxy limits
