# t_68_headers.sh: header actions. `set`, `add` and `remove` on the request
# to the server (with request values put in) and on the response to the
# client, top level first, then the route's; the backend's identity hidden.

start_origin a >/dev/null
check "header actions policy compiles" build_proxy headers '
listen :8080
backend app { server a 127.0.0.1:@a@ }
remove response header Server X-Powered-By
set response header X-Frame-Options "DENY"
route path "/headers" {
    set header X-Client "${client.ip}"
    add header X-Seen "${req.method} ${req.uri} ua=${req.header[\"User-Agent\"]} c=${req.cookie[\"sid\"]} q=${req.query}"
    add header X-Seen "second"
    set header Host "internal.test"
    remove header Cookie
    set header X-Replaced "new"
    proxy app
}
route path "/raw/" {
    set response header X-Frame-Options "SAMEORIGIN"
    add response header X-Added "one"
    add response header X-Added "two"
    proxy app
}
route default { proxy app }'
p=$(start_proxy headers -w 1)
head=$(hcurl -A 'probe/1.0' -H 'Cookie: sid=abc; x=1' -H 'X-Replaced: old' -H 'X-Replaced: older' \
    "http://127.0.0.1:$p/headers?a=1&b=2" | tr -d '\r')
check_eq "request: set with client.ip" "$(grep '^X-Client:' <<<"$head")" "X-Client: 127.0.0.1"
check_eq "request: add, with request values put in, twice in order" \
    "$(grep '^X-Seen:' <<<"$head")" \
    $'X-Seen: GET /headers?a=1&b=2 ua=probe/1.0 c=abc q=a=1&b=2\nX-Seen: second'
check_eq "request: set Host replaces the request's" "$(grep -i '^host:' <<<"$head")" "Host: internal.test"
check_eq "request: remove drops every field of the name" "$(grep -ci '^cookie:' <<<"$head")" 0
check_eq "request: set replaces every field of the name" "$(grep -i '^x-replaced:' <<<"$head")" \
    "X-Replaced: new"
check_match "request: other fields pass" "$head" $'\nUser-Agent: probe/1.0'

resp=$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/raw/server" | tr -d '\r')
check_eq "response: Server and X-Powered-By removed (top level)" \
    "$(grep -ciE '^(server|x-powered-by):' <<<"$resp")" 0
check_eq "response: the route's set wins over the top level's" \
    "$(grep -i '^x-frame-options:' <<<"$resp")" "X-Frame-Options: SAMEORIGIN"
check_eq "response: add twice, in order" "$(grep '^X-Added:' <<<"$resp")" $'X-Added: one\nX-Added: two'
check_match "response: other fields pass" "$resp" $'\nX-Kept: yes'
check_match "response: Date is still there" "$resp" $'\nDate: '
resp=$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/bytes/10" | tr -d '\r')
check_eq "response: top-level actions apply on every proxying route" \
    "$(grep -i '^x-frame-options:' <<<"$resp")" "X-Frame-Options: DENY"
check "proxy 'headers' stops on SIGTERM with exit 0" stop_proxy headers
