# t_52_process.sh: the process among others. A second copy started on the
# same address refuses to start (SO_REUSEPORT would have split the traffic
# between the two without a word); SIGHUP is reported and ignored; log lines
# say when.

start_origin a >/dev/null
check "process policy compiles" build_proxy procs '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy procs -w 1)
out=$(timeout $((5 * SCALE)) "$AREA_DIR/procs" -w 1 --listen "127.0.0.1:$p" 2>&1)
rc=$?
check "second copy: refuses to start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check_match "second copy: says why" "$out" "another process listens there"
check_eq "second copy: the first still serves" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/bytes/1")" 200
kill -HUP "$(proxy_pid procs)"
sleep 0.3
check_eq "SIGHUP: the proxy goes on" "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/bytes/1")" 200
check_match "SIGHUP: and says it has nothing to reload" "$(cat "$AREA_DIR/procs.run.err")" \
    'SIGHUP: the policy is compiled into this binary'
check_match "log lines start with an RFC 3339 time in UTC" \
    "$(grep SIGHUP "$AREA_DIR/procs.run.err" | head -n 1)" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z rpx\[[0-9]+\]: warning: '
check "proxy 'procs' stops on SIGTERM with exit 0" stop_proxy procs
