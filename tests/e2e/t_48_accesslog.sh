# t_48_accesslog.sh: `log access`: a line per exchange, matching what the
# clients saw (count and statuses), in JSON that parses and in the combined
# format; SIGUSR1 reopens the file after it was moved; a log that takes
# nothing (a pipe nobody reads) never holds a request up.

start_origin a >/dev/null
check "json access log policy compiles" build_proxy logjson '
listen :8080
log access "'"$AREA_DIR"'/access.log" format json
backend app { server a 127.0.0.1:@a@ }
route path "/cache/" { cache { status_header X-Cache }; proxy app }
route path "/local" { respond 201 "made here" }
route path "/missing" { deny 404 }
route default { proxy app }'
p=$(start_proxy logjson -w 2)
u="http://127.0.0.1:$p"
alog=$AREA_DIR/access.log

# The clients' view: one status per request, in order of sending.
{
    hcurl -o /dev/null -w '%{http_code}\n' "$u/plain?q=1" -A 'agent "with" quotes' -e 'http://ref/'
    hcurl -o /dev/null -w '%{http_code}\n' "$u/local"
    hcurl -o /dev/null -w '%{http_code}\n' "$u/missing"
    hcurl -o /dev/null -w '%{http_code}\n' "$u/cache/x?h=Cache-Control:max-age%3D60"
    hcurl -o /dev/null -w '%{http_code}\n' "$u/cache/x?h=Cache-Control:max-age%3D60"
    hcurl -o /dev/null -w '%{http_code}\n' -X POST -d 'body' "$u/echo"
    for i in $(seq 1 20); do
        hcurl -o /dev/null -w '%{http_code}\n' "$u/bytes/$i"
    done
} >"$SCRATCH/seen"
raw_request "$p" $'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n' >/dev/null
echo 400 >>"$SCRATCH/seen"
# lines reach the file within a second (the workers' sweep)
for _ in $(seq 30); do
    [ "$(wc -l <"$alog" 2>/dev/null)" -ge "$(wc -l <"$SCRATCH/seen")" ] && break
    sleep 0.1
done
check_eq "access log: a line per exchange" "$(wc -l <"$alog")" "$(wc -l <"$SCRATCH/seen")"
check "access log: every line is a JSON object" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and "status" in o and "time" in o, line
' "$alog"
check_eq "access log: the statuses are the ones the clients saw" \
    "$(python3 -c 'import json,sys; print(" ".join(sorted(str(json.loads(l)["status"]) for l in open(sys.argv[1]))))' "$alog")" \
    "$(sort "$SCRATCH/seen" | tr '\n' ' ' | sed 's/ $//')"
line=$(grep '"uri":"/plain?q=1"' "$alog")
check_match "access log: method, uri, host, protocol" "$line" \
    '"method":"GET","uri":"/plain\?q=1","host":"127.0.0.1:[0-9]+","protocol":"HTTP/1.1"'
check_match "access log: quotes in a field are escaped" "$line" '"user_agent":"agent \\"with\\" quotes"'
check_match "access log: referer" "$line" '"referer":"http://ref/"'
check_match "access log: route, backend, server, attempts" "$line" \
    '"route":"logjson.rp:[0-9]+","backend":"app","server":"a","attempts":1'
check_match "access log: times" "$line" '"duration_ms":[0-9.]+,"connect_ms":[0-9.]+,"first_byte_ms":[0-9.]+'
check_match "access log: the cache's verdict" "$(grep -c '"cache":"HIT"' "$alog") $(grep -c '"cache":"MISS"' "$alog")" '^1 1$'
check_match "access log: a local answer has no backend" "$(grep '"uri":"/local"' "$alog")" \
    '"status":201.*"backend":null'
check_match "access log: a malformed request is logged with its 400" \
    "$(grep '"status":400' "$alog")" '"method":null'
check_match "access log: the time is RFC 3339 UTC" "$line" \
    '^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"'

# logrotate: the file is moved, SIGUSR1, and new lines go to a new file
mv "$alog" "$alog.1"
kill -USR1 "$(proxy_pid logjson)"
sleep 0.3
hcurl -o /dev/null "$u/after-rotate"
for _ in $(seq 30); do
    [ -s "$alog" ] && break
    sleep 0.1
done
check_match "access log: after SIGUSR1 the new file gets the new lines" \
    "$(cat "$alog" 2>/dev/null)" '"uri":"/after-rotate"'
check "access log: ... and the moved one none of them" \
    bash -c "! grep -q after-rotate '$alog.1'"
check "proxy 'logjson' stops" stop_proxy logjson

# ---- combined -------------------------------------------------------------------------------
check "combined access log policy compiles" build_proxy logcomb '
listen :8080
log access "'"$AREA_DIR"'/combined.log"
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy logcomb -w 1)
hcurl -o /dev/null -A 'Mozilla/5.0' -e 'http://example.com/' "http://127.0.0.1:$p/c?x=1"
check "proxy 'logcomb' stops" stop_proxy logcomb
check_match "access log: the combined format" "$(cat "$AREA_DIR/combined.log")" \
    '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET /c\?x=1 HTTP/1\.1" 200 [0-9]+ "http://example\.com/" "Mozilla/5\.0"$'

# ---- a log that takes nothing ------------------------------------------------------------------
fifo=$AREA_DIR/stalled.log
mkfifo "$fifo"
exec {hold}<>"$fifo" # a reader that never reads: writes block once the pipe is full
check "stalled access log policy compiles" build_proxy logstall '
listen :8080
log access "'"$AREA_DIR"'/stalled.log" format json
backend app { server a 127.0.0.1:@a@ }
route default { respond 200 "ok" }'
p=$(start_proxy logstall -w 2)
# wrk for 4 s: tens of thousands of lines, far more than the pipe (64 KB)
# and the writer's queue (8 MB) take
wrk -t2 -c4 -d4s "http://127.0.0.1:$p/stall-test" >"$SCRATCH/stall.wrk" 2>&1
n=$(awk '/requests in/ { print $1 }' "$SCRATCH/stall.wrk")
check "access log: $n requests in 4 s with the log's pipe full, every one answered 200" \
    bash -c "[ '${n:-0}' -gt 1000 ] && ! grep -qE 'Non-2xx|Socket errors' '$SCRATCH/stall.wrk'"
cat "$fifo" >/dev/null &
drain=$!
check "proxy 'logstall' stops once the pipe is read" stop_proxy logstall
kill "$drain" 2>/dev/null
exec {hold}<&-
check_match "access log: the lines the pipe could not take were counted" \
    "$(cat "$AREA_DIR/logstall.run.err")" 'access log: [0-9]+ lines dropped'

# ---- filters: only some statuses, a sample ----------------------------------------------------
check "filtered access log policy compiles" build_proxy logfilter '
listen :8080
log access "'"$AREA_DIR"'/errors.log" format json status 400..599
backend app { server a 127.0.0.1:@a@ }
route path "/status/401" { log off; proxy app }
route default { proxy app }'
p=$(start_proxy logfilter -w 2)
for i in $(seq 1 10); do hcurl -o /dev/null "http://127.0.0.1:$p/bytes/$i"; done
hcurl -o /dev/null "http://127.0.0.1:$p/status/401" # a route with \`log off\`
for s in 404 500 503 201 418; do hcurl -o /dev/null "http://127.0.0.1:$p/status/$s"; done
check "proxy 'logfilter' stops" stop_proxy logfilter
# (two workers: lines of different workers may come in either order)
check_eq "status 400..599: only those exchanges are logged (but for the route with log off)" \
    "$(python3 -c '
import json, sys
print(" ".join(sorted(str(json.loads(l)["status"]) for l in open(sys.argv[1]))))' "$AREA_DIR/errors.log")" \
    "404 418 500 503"

check "custom log format policy compiles" build_proxy logcustom '
listen :8080
log access "'"$AREA_DIR"'/custom.log" format "${client} ${method} ${uri} -> ${status} ${backend}/${server} ${duration_ms}ms ua=${user_agent} $$"
backend app { server a 127.0.0.1:@a@ }
route path "/local" { respond 200 "here" }
route default { proxy app }'
p=$(start_proxy logcustom -w 1)
hcurl -o /dev/null -A 'say "hi"' "http://127.0.0.1:$p/bytes/3?x=1"
hcurl -o /dev/null "http://127.0.0.1:$p/local"
check "proxy 'logcustom' stops" stop_proxy logcustom
check_match "custom format: its text as written, the fields in place, strings escaped" \
    "$(head -n 1 "$AREA_DIR/custom.log")" \
    '^127\.0\.0\.1 GET /bytes/3\?x=1 -> 200 app/a [0-9]+\.[0-9]{3}ms ua=say \\x22hi\\x22 \$$'
check_match "custom format: what did not happen is -" "$(sed -n 2p "$AREA_DIR/custom.log")" \
    '^127\.0\.0\.1 GET /local -> 200 -/- [0-9.]+ms ua=curl/[^ ]+ \$$'

check "sampled access log policy compiles" build_proxy logsample '
listen :8080
log access "'"$AREA_DIR"'/sample.log" sample 10%
route default { respond 200 "ok" }'
p=$(start_proxy logsample -w 2)
wrk -t2 -c4 -d2s "http://127.0.0.1:$p/s" >"$SCRATCH/sample.wrk" 2>&1
check "proxy 'logsample' stops" stop_proxy logsample
n=$(awk '/requests in/ { print $1 }' "$SCRATCH/sample.wrk")
lines=$(wc -l <"$AREA_DIR/sample.log")
# binomial(n, 0.1): 7% to 13% is more than 5 standard deviations away for
# any n above 2,000
check "sample 10%: $lines lines for $n requests (7% to 13%)" \
    bash -c "[ '${n:-0}' -gt 2000 ] && [ $((lines * 100)) -ge $((n * 7)) ] && [ $((lines * 100)) -le $((n * 13)) ]"

# ---- syslog: the local daemon's socket, and a collector over UDP --------------------------------
# syslog_receiver KIND ADDRESS OUT: datagrams, one per line, for 60 s at most
syslog_receiver()
{
    timeout $((60 * SCALE)) python3 -c '
import socket, sys
kind, where, out = sys.argv[1:4]
if kind == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(where)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    open(where, "w").write(str(s.getsockname()[1]))
with open(out, "a") as f:
    while True:
        f.write(s.recv(65536).decode("utf-8", "replace").replace("\n", "\\n") + "\n")
        f.flush()
' "$@" &
    echo $! >>"$SCRATCH/pids"
}
syslog_receiver unix "$AREA_DIR/syslog.sock" "$AREA_DIR/syslog.unix"
syslog_receiver udp "$AREA_DIR/syslog.port" "$AREA_DIR/syslog.udp"
wait_file "$AREA_DIR/syslog.sock" "$T_SHORT"
wait_file "$AREA_DIR/syslog.port" "$T_SHORT"
check "syslog access log policy compiles" build_proxy logsyslog '
listen :8080
log access syslog unix:'"$AREA_DIR"'/syslog.sock format json
route default { respond 200 "ok" }'
check "syslog over UDP policy compiles" build_proxy logudp '
listen :8080
log access syslog 127.0.0.1:'"$(cat "$AREA_DIR/syslog.port")"' facility daemon
route default { respond 200 "ok" }'
p=$(start_proxy logsyslog -w 2)
q=$(start_proxy logudp -w 1)
for i in $(seq 1 12); do
    hcurl -o /dev/null "http://127.0.0.1:$p/s$i"
    hcurl -o /dev/null "http://127.0.0.1:$q/u$i"
done
for _ in $(seq 30); do
    [ "$(wc -l <"$AREA_DIR/syslog.unix")" -ge 12 ] && [ "$(wc -l <"$AREA_DIR/syslog.udp")" -ge 12 ] && break
    sleep 0.1
done
check_eq "syslog: a message per exchange, to the local socket and over UDP" \
    "$(wc -l <"$AREA_DIR/syslog.unix") $(wc -l <"$AREA_DIR/syslog.udp")" "12 12"
check_match "syslog: local0.info, the time, rpx[PID], then the JSON line" \
    "$(head -n 1 "$AREA_DIR/syslog.unix")" \
    "^<134>[A-Z][a-z]{2} [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} rpx\\[$(proxy_pid logsyslog)\\]: \\{\"time\":\".*\"end\":\"done\"\\}$"
check_match "syslog over UDP: daemon.info, with the host name, in the combined format" \
    "$(head -n 1 "$AREA_DIR/syslog.udp")" \
    "^<30>[A-Z][a-z]{2} [ 123][0-9] [0-9:]{8} $(hostname) rpx\\[$(proxy_pid logudp)\\]: 127\\.0\\.0\\.1 - - \\[.*\\] \"GET /u1 HTTP/1\\.1\" 200 "
check "proxy 'logsyslog' stops" stop_proxy logsyslog
check "proxy 'logudp' stops" stop_proxy logudp

# ---- stdout ----------------------------------------------------------------------------------
# (spawn sends a proxy's stdout to /dev/null: this one is started by hand)
check "stdout access log policy compiles" build_proxy logstdout '
listen :8080
log access stdout format "${method} ${uri} ${status}"
route default { respond 200 "ok" }'
"$AREA_DIR/logstdout" -w 1 --listen 127.0.0.1:0 --port-file "$AREA_DIR/logstdout.port" -q \
    >"$AREA_DIR/stdout.log" 2>>"$AREA_DIR/logstdout.err" </dev/null &
stdout_pid=$!
echo "$stdout_pid" >>"$SCRATCH/pids"
wait_file "$AREA_DIR/logstdout.port" "$T_SHORT"
for i in 1 2 3; do hcurl -o /dev/null "http://127.0.0.1:$(cat "$AREA_DIR/logstdout.port")/out/$i"; done
kill -TERM "$stdout_pid"
wait_gone "$stdout_pid" || kill -KILL "$stdout_pid" 2>/dev/null # (then the check fails)
wait "$stdout_pid" 2>/dev/null
check_eq "stdout: a line per exchange on the standard output, written by exit" \
    "$(cat "$AREA_DIR/stdout.log")" "$(printf 'GET /out/1 200\nGET /out/2 200\nGET /out/3 200')"
