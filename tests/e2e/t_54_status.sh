# t_54_status.sh: `status` and `status admin`. The JSON twin parses and
# its counts equal the traffic sent; the HTML page loads in a real headless
# browser (Debian's chromium) with no console message, and its numbers
# move while wrk runs (two renderings a second apart differ); a screenshot
# is kept in $E2E_BUILD/artifacts/. Admin actions drain, disable, enable
# and reweigh a server without a rebuild (the traffic that follows shows
# it), purge the cache, and are refused without `admin` or with GET. The
# route's guard decides who may look.

start_origin a >/dev/null
check "status policy compiles" build_proxy status '
listen :8080
acl local = client.ip in [127.0.0.1]
backend app { server a 127.0.0.1:@a@; server b 127.0.0.1:@a@ weight 2 }
route path "/rpx" { deny 403 unless local; status admin }
route path "/look" { status }
route path "/hidden" { deny 403 unless client.ip in [10.0.0.0/8]; status }
route path "/cache/" { cache; proxy app }
route default { proxy app }'
p=$(start_proxy status -w 2)
u="http://127.0.0.1:$p"

json() { hcurl "$u/rpx/?format=json"; }
# jq-like: python over the JSON on stdin
jpy() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
server_requests() { json | jpy "[s['requests'] for s in d['backends'][0]['servers'] if s['name'] == '$1'][0]"; }

for i in $(seq 1 30); do hcurl -o /dev/null "$u/plain/$i"; done
for i in 1 2 3; do hcurl -o /dev/null "$u/status/404"; done
json >"$AREA_DIR/status.json"
check "json: parses" python3 -m json.tool "$AREA_DIR/status.json"
check_eq "json: the policy and this process" \
    "$(jpy "d['proxy']['policy'], d['proxy']['pid'] > 0, d['proxy']['admin']" <"$AREA_DIR/status.json")" \
    "status.rp True True"
check_eq "json: requests by route equal the traffic (30 + 3 on the default route)" \
    "$(jpy "[(r['requests'], r['by_class']['2xx'], r['by_class']['4xx']) for r in d['routes'] if r['where'] == 'status.rp:9'][0]" <"$AREA_DIR/status.json")" \
    "(33, 30, 3)"
check_eq "json: ... and by server, weighted 1:2 (smooth round robin)" \
    "$(jpy "[s['requests'] for s in d['backends'][0]['servers']]" <"$AREA_DIR/status.json")" "[11, 22]"
check_eq "json: servers' state, weight and address" \
    "$(jpy "[(s['state'], s['weight']) for s in d['backends'][0]['servers']]" <"$AREA_DIR/status.json")" \
    "[('up', 1), ('up', 2)]"
check_eq "json: the listener, with this connection" \
    "$(jpy "d['listeners'][0]['address'], d['listeners'][0]['connections']" <"$AREA_DIR/status.json")" \
    "127.0.0.1:$p 1"
check_eq "json: also for Accept: application/json, never cached" \
    "$(hcurl -s -o /dev/null -D - -H 'Accept: application/json' "$u/look" | tr -d '\r' |
        grep -iE '^(content-type|cache-control):' | sort | tr '\n' ' ')" \
    "Cache-Control: no-store Content-Type: application/json "
check_eq "the page: HTML, without admin on a plain status route" \
    "$(hcurl "$u/look?format=json" | jpy "d['proxy']['admin']"), $(hcurl -D - -o /dev/null "$u/look" |
        tr -d '\r' | sed -n 's/^Content-Type: //p')" "False, text/html; charset=utf-8"
check_eq "the page: no external assets (no src= or href=)" \
    "$(hcurl "$u/look" | grep -cE '(src|href)=')" 0
check_eq "the route's guard decides who may look" \
    "$(hcurl -o /dev/null -w '%{http_code}' "$u/hidden")" 403

# admin actions
check_eq "admin: refused without \`status admin\`" \
    "$(hcurl -o /dev/null -w '%{http_code}' -X POST "$u/look/server/app/b/drain")" 403
check_eq "admin: a GET is not an action (405, Allow: POST)" \
    "$(hcurl -o /dev/null -D - "$u/rpx/server/app/b/drain" | tr -d '\r' | grep -E '^(HTTP|Allow)' | tr '\n' ' ')" \
    "HTTP/1.1 405 Method Not Allowed Allow: POST "
check_eq "admin: drain a server" "$(hcurl -X POST "$u/rpx/server/app/b/drain")" "server app/b is draining"
before=$(server_requests b)
for i in $(seq 1 10); do hcurl -o /dev/null "$u/plain/d$i"; done
check_eq "admin: ... it gets no new requests" "$(server_requests b)" "$before"
check_eq "admin: ... and says so" "$(json | jpy "d['backends'][0]['servers'][1]['state']")" drain
check_eq "admin: disable the other" "$(hcurl -X POST "$u/rpx/server/app/a/disable")" "server app/a is disabled"
# with every server out a request waits in the backend's queue, as when all
# are down; enabling one lets it through
hcurl -o "$AREA_DIR/queued.out" -w '%{http_code}' "$u/plain/queued" >"$AREA_DIR/queued.code" &
queued=$!
sleep 0.5
check "admin: with both out, a request waits" kill -0 "$queued"
check_eq "admin: enable one" "$(hcurl -X POST "$u/rpx/server/app/a/enable")" "server app/a is ready"
wait "$queued"
check_eq "admin: ... and the waiting request goes to it" "$(cat "$AREA_DIR/queued.code")" 200
hcurl -o /dev/null -X POST "$u/rpx/server/app/b/enable"
check_eq "admin: weight 0..256 only" \
    "$(hcurl -o /dev/null -w '%{http_code}' -X POST "$u/rpx/server/app/a/weight/300")" 400
check_eq "admin: set a weight" "$(hcurl -X POST "$u/rpx/server/app/a/weight/3")" "server app/a weight 3"
a0=$(server_requests a) b0=$(server_requests b)
for i in $(seq 1 50); do hcurl -o /dev/null "$u/plain/w$i"; done
check_eq "admin: ... traffic follows the new weights (3:2 of 50)" \
    "$(($(server_requests a) - a0)):$(($(server_requests b) - b0))" "30:20"
check_eq "admin: an unknown server is a 404" \
    "$(hcurl -o /dev/null -w '%{http_code}' -X POST "$u/rpx/server/app/zz/drain")" 404
hcurl -o /dev/null "$u/cache/s?h=Cache-Control:max-age%3D60"
hcurl -o /dev/null "$u/cache/t?h=Cache-Control:max-age%3D60"
check_eq "admin: purge the cache" "$(hcurl -X POST "$u/rpx/cache/purge")" "purged 2"
check_eq "admin: ... it is empty" "$(json | jpy "d['cache']['objects']")" 0

# the page in a real browser, under load
if ! command -v chromium >/dev/null; then
    skip "status page in chromium" "chromium is not installed (tools/deps.sh installs it)"
else
    browse()
    {
        timeout $((40 * SCALE)) chromium --headless=new --no-sandbox --disable-gpu \
            --user-data-dir="$AREA_DIR/chromium" --enable-logging=stderr --v=0 \
            --virtual-time-budget=2500 "$@" 2>>"$AREA_DIR/chromium.err"
    }
    shown() { sed -n "s/.*id=\"$2\">\([^<]*\)<.*/\1/p" "$1" | head -n 1; }
    wrk -t1 -c4 -d$((6 * SCALE))s "$u/plain/load" >/dev/null 2>&1 &
    wrk_pid=$!
    sleep 1
    browse --dump-dom "$u/rpx/" >"$AREA_DIR/page1.html"
    sleep 1
    browse --dump-dom "$u/rpx/" >"$AREA_DIR/page2.html"
    mkdir -p "$E2E_BUILD/artifacts"
    browse --window-size=1280,900 --screenshot="$E2E_BUILD/artifacts/status.png" "$u/rpx/" >/dev/null
    wait "$wrk_pid"
    n1=$(shown "$AREA_DIR/page1.html" total-requests)
    n2=$(shown "$AREA_DIR/page2.html" total-requests)
    check "chromium: the page rendered the JSON ($n1 requests)" \
        bash -c "[[ '$n1' =~ ^[0-9]+$ ]] && [ '$n1' -gt 100 ]"
    check "chromium: its numbers move while traffic runs ($n1 -> $n2)" \
        bash -c "[[ '$n2' =~ ^[0-9]+$ ]] && [ '$n2' -gt '$n1' ]"
    check_match "chromium: it shows each server with its state" \
        "$(tr -d '\n' <"$AREA_DIR/page2.html")" 'data-server="app/b".*<span class="st up">up</span>'
    check_eq "chromium: no console message (errors, warnings, logs)" \
        "$(grep -c 'CONSOLE' "$AREA_DIR/chromium.err")" 0
    grep 'CONSOLE' "$AREA_DIR/chromium.err" | head -n 3 | sed 's/^/# /'
    check "chromium: a screenshot is kept ($E2E_BUILD/artifacts/status.png)" \
        test -s "$E2E_BUILD/artifacts/status.png"
fi
check "proxy 'status' stops on SIGTERM with exit 0" stop_proxy status
