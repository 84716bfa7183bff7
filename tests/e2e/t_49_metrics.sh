# t_49_metrics.sh: `metrics`: the Prometheus text exposition parses with a
# strict reader (prom_check.py) and its counters equal the traffic sent, by
# route, status class and server; health and the cache show; who may read
# it is the policy's to say.

start_origin a >/dev/null
check "metrics policy compiles" build_proxy metrics '
listen :8080
backend app { server a 127.0.0.1:@a@; server dead 127.0.0.1:1 backup }
route path "/metrics" { deny 403 unless client.ip in [127.0.0.1]; metrics }
route path "/cache/" { cache; proxy app }
route path "/gone" { deny 410 }
route default { proxy app }'
p=$(start_proxy metrics -w 2)
u="http://127.0.0.1:$p"

for i in $(seq 1 25); do hcurl -o /dev/null "$u/plain/$i"; done
# two, not three: three 5xx in a row would eject the server (passive health)
for i in $(seq 1 2); do hcurl -o /dev/null "$u/status/503"; done
for i in $(seq 1 7); do hcurl -o /dev/null "$u/gone"; done
for i in $(seq 1 4); do hcurl -o /dev/null "$u/cache/m?h=Cache-Control:max-age%3D60"; done
hcurl -o /dev/null "$u/nothing-here" -X BREW # any method is proxied
hcurl -o "$SCRATCH/metrics.txt" "$u/metrics"
check "metrics: the exposition parses (a strict text-format reader)" \
    python3 "$here/prom_check.py" "$SCRATCH/metrics.txt"
python3 "$here/prom_check.py" "$SCRATCH/metrics.txt" >"$SCRATCH/samples" 2>&1
val() { grep -F -- "$1" "$SCRATCH/samples" | awk '{ print $NF }'; }
check_eq "metrics: requests by route and status class (the default route, 2xx)" \
    "$(val 'rpx_requests_total{code="2xx",route="metrics.rp:')" "$(printf '4\n26')"
check_eq "metrics: ... 5xx from the server" "$(val 'rpx_requests_total{code="5xx"')" 2
check_eq "metrics: ... 4xx the proxy answered itself" "$(val 'rpx_requests_total{code="4xx"')" 7
check_eq "metrics: answers relayed from the server, by class" \
    "$(val 'rpx_server_responses_total{backend="app",code="2xx",server="a"}') $(val 'rpx_server_responses_total{backend="app",code="5xx",server="a"}')" \
    "27 2"
check_eq "metrics: the cache: one miss, three hits, one object" \
    "$(val 'rpx_cache_lookups_total{result="miss"}') $(val 'rpx_cache_lookups_total{result="hit"}') $(val 'rpx_cache_objects{}')" \
    "1 3 1"
check_eq "metrics: the latency histogram counts every request" \
    "$(val 'rpx_request_duration_seconds_count{}')" 39
check_eq "metrics: a server that answers is up" "$(val 'rpx_server_up{backend="app",server="a"}')" 1
check_eq "metrics: no server changed state, nothing waits, no TLS here" \
    "$(val 'rpx_server_transitions_total{backend="app",server="a"}') $(val 'rpx_backend_queue_length{backend="app"}') $(val 'rpx_tls_handshakes_total{result="ok"}')" \
    "0 0 0"
# the server stops answering: three failures in a row eject it, a change
# of state the counter shows
stop_origin a
for i in 1 2 3; do hcurl -o /dev/null "$u/plain/down$i"; done
hcurl -o "$SCRATCH/metrics2.txt" "$u/metrics"
check "metrics: ... the second exposition parses too" python3 "$here/prom_check.py" "$SCRATCH/metrics2.txt"
check_eq "metrics: an ejected server is down, after one transition" \
    "$(grep -E '^rpx_server_(up|transitions_total)\{backend="app",server="a"\}' "$SCRATCH/metrics2.txt" | awk '{ print $2 }' | tr '\n' ' ')" \
    "0 1 "
check_match "metrics: the build and the policy's hash" "$(val 'rpx_build_info{')" '^1$'
check_match "metrics: ... with the hash --version shows" "$(grep -o 'policy_hash="[^"]*"' "$SCRATCH/metrics.txt")" \
    "$("$AREA_DIR/metrics" --version | sed -n 's/.*\(sha256:[0-9a-f]*\).*/\1/p')"
check_eq "metrics: another address may not read them" \
    "$(hcurl -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$u/metrics")" 403
check "proxy 'metrics' stops" stop_proxy metrics
