# t_56_limits.sh: rate limits (`limit NAME = rate N/UNIT burst B by KEY`).
# A burst passes and the next request gets 429 with Retry-After and the
# RateLimit fields; the rate holds within 5 % under wrk with 2 workers
# (the keys are shared by the workers); keys apart are counted apart (a
# header's value, the route) and a request without the key's value is not
# counted; an `errors ... ban` limit refuses an address for a while once it
# has made too many 4xx answers; `delay` spaces requests out at the rate instead of refusing
# them, and refuses past its burst; local answers are limited too; the
# metrics count what was refused.

start_origin a >/dev/null
check "limits policy compiles" build_proxy limits '
listen :8080
backend app { server a 127.0.0.1:@a@ }
limit three   = rate 1/m burst 3 by client.ip
limit fast    = rate 200/s burst 20 by client.ip
limit per_key = rate 1/h burst 2 by req.header["X-Api-Key"]
limit routes  = rate 1/h burst 1 by [client.ip, route]
limit paced   = rate 2/s burst 3 by client.ip
limit abusers = errors 5/m ban 2s by client.ip
route path "/three/" { limit three; proxy app }
route path "/fast/" { limit fast; proxy app }
route path "/key/" { limit per_key; proxy app }
route path "/r1/" { limit routes; respond 200 "r1" }
route path "/r2/" { limit routes; respond 200 "r2" }
route path "/paced/" { limit paced delay; proxy app }
route path "/b/" { limit abusers; strip prefix "/b"; proxy app }
route path "/metrics" { metrics }
route path "/rpx" { status }
route default { proxy app }'
p=$(start_proxy limits -w 2)
u="http://127.0.0.1:$p"
code() { hcurl -o /dev/null -w '%{http_code}' "$@"; }

codes=""
for i in 1 2 3 4 5; do codes="$codes $(code "$u/three/$i")"; done
check_eq "a burst of 3 passes, the 4th and 5th get 429" "$codes" " 200 200 200 429 429"
hcurl -D "$AREA_DIR/429.head" -o "$AREA_DIR/429.body" "$u/three/x"
h429=$(tr -d '\r' <"$AREA_DIR/429.head")
check_match "429: Retry-After in whole seconds (the next token is a minute away)" \
    "$(sed -n 's/^Retry-After: //p' <<<"$h429")" '^(59|60)$'
check_eq "429: RateLimit-Policy names the limit, its quota and window" \
    "$(sed -n 's/^RateLimit-Policy: //p' <<<"$h429")" '"three";q=1;w=60'
check_match "429: RateLimit says none remain and when" \
    "$(sed -n 's/^RateLimit: //p' <<<"$h429")" '^"three";r=0;t=(59|60)$'
check_eq "429: the body says why" "$(cat "$AREA_DIR/429.body")" "too many requests"
check_eq "other routes are not limited by it" "$(code "$u/other")" 200
before=$(grep -c 'GET /three/' "$(origin_log a)")
check_eq "refused requests never reached the server" "$before" 3

# the header's value is the key; a request without it is not counted
check_eq "per key: A's two pass, A's third is refused, B still passes, none without the header" \
    "$(code -H 'X-Api-Key: A' "$u/key/1") $(code -H 'X-Api-Key: A' "$u/key/2") \
$(code -H 'X-Api-Key: A' "$u/key/3") $(code -H 'X-Api-Key: B' "$u/key/4") \
$(code "$u/key/5") $(code "$u/key/6") $(code "$u/key/7")" "200 200 429 200 200 200 200"

# by [client.ip, route]: each route counts apart; local answers are limited
check_eq "by route: each route has its own count, local answers included" \
    "$(code "$u/r1/") $(code "$u/r2/") $(code "$u/r1/") $(code "$u/r2/")" "200 200 429 429"

# delay: 2/s, burst 3: six at once; the first goes at once, the next three
# wait 500, 1000 and 1500 ms, the last two are over the burst (2/s, not more:
# six curls started on a loaded machine may take a few hundred ms, and a
# token that came meanwhile would let a fifth pass)
t0=$EPOCHREALTIME
pids=()
for i in 1 2 3 4 5 6; do
    hcurl -o /dev/null -w "%{http_code} %{time_total}\n" "$u/paced/$i" >"$AREA_DIR/paced.$i" &
    pids+=($!)
done
wait "${pids[@]}"
ms=$(ms_since "$t0")
check_eq "delay: four pass (one at once, three waiting), two are refused" \
    "$(cut -d' ' -f1 "$AREA_DIR"/paced.* | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" \
    "200:4 429:2 "
slowest=$(awk '$1 == 200 { print $2 }' "$AREA_DIR"/paced.* | sort -n | tail -1)
check_match "delay: the last to pass waited its turn (about 1500 ms; took ${slowest}s)" \
    "$(awk -v s="$slowest" 'BEGIN { print (s >= 1.25) ? "waited" : "early" }')" '^waited$'
check_match "delay: ... and not much longer (all six in ${ms} ms)" \
    "$(( ms < 4000 * SCALE ))" '^1$'

# the rate itself, with two workers sharing the keys: wrk for 4 s, 200/s
# after a burst of 20
if command -v wrk >/dev/null; then
    timeout $((20 * SCALE)) wrk -t2 -c8 -d4s "$u/fast/" >"$AREA_DIR/wrk.out" 2>&1
    total=$(sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)s.*/\1/p' "$AREA_DIR/wrk.out")
    secs=$(sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)s.*/\2/p' "$AREA_DIR/wrk.out")
    refused=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$AREA_DIR/wrk.out")
    passed=$((total - ${refused:-0}))
    verdict=$(awk -v n="$passed" -v s="$secs" 'BEGIN {
        want = 20 + 200 * s; d = (n - want) / want; if (d < 0) d = -d;
        printf "%s want %.0f got %d (%.1f%%)", (d <= 0.05) ? "within" : "off", want, n, d * 100 }')
    check_match "rate: 200/s over ${secs}s with 2 workers and $total requests: $verdict" \
        "$verdict" '^within '
    # wrk does not count the answers in flight when it stops: up to one a
    # connection more
    counted=$(hcurl "$u/metrics" |
        sed -n 's/^rpx_limit_requests_total{limit="fast",result="rejected"} //p')
    check_eq "metrics: the refusals, by limit ($counted counted, wrk saw $refused)" \
        "$(( counted >= refused && counted <= refused + 8 ))" 1
else
    skip "rate: 200/s within 5 % under wrk" "wrk is not installed"
fi
check_match "metrics: delayed requests are counted" \
    "$(hcurl "$u/metrics" | grep '^rpx_limit_requests_total{limit="paced",result="delayed"}')" \
    '} 3$'
# errors ... ban: the sixth 404 in a minute bans the address for 2 s
codes=""
for i in 1 2 3 4 5 6 7; do codes="$codes $(code "$u/b/status/404")"; done
check_eq "errors: five 404s are five; the sixth bans; then 429" "$codes" " 404 404 404 404 404 404 429"
hcurl -D "$AREA_DIR/ban.head" -o /dev/null "$u/b/fine"
check_match "errors: while banned, good requests too get 429, with Retry-After" \
    "$(head -n1 "$AREA_DIR/ban.head" | tr -d '\r') $(tr -d '\r' <"$AREA_DIR/ban.head" | sed -n 's/^Retry-After: //p')" \
    '^HTTP/1.1 429 Too Many Requests [12]$'
check_eq "errors: another address is not banned" "$(code --interface 127.0.0.2 "$u/b/fine")" 200
check_eq "errors: banned requests never reached the server" \
    "$(grep -c 'GET /fine ' "$(origin_log a)")" 1
sleep 2.2
check_eq "errors: the ban ends" "$(code "$u/b/fine")" 200
check_match "metrics: the ban is counted" \
    "$(hcurl "$u/metrics" | grep '^rpx_limit_bans_total{limit="abusers"}')" '} 1$'
check_eq "status page: each limit with its kind and what it did" \
    "$(hcurl "$u/rpx?format=json" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join("%s:%s:%s" % (l["name"], l["kind"], "yes" if l["rejected"] + l["delayed"] + l["bans"] > 0 else "no") for l in d["limits"]))')" \
    "three:rate:yes fast:rate:yes per_key:rate:yes routes:rate:yes paced:rate:yes abusers:errors:yes"
stop_proxy limits
