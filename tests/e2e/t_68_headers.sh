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

# req.id: made once per request, the same on both sides; a trusted peer's
# X-Request-Id is kept, anyone else's replaced.
check "request id policy compiles" build_proxy reqid '
listen :8080
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [10.0.0.0/8] }
set header X-Request-Id "${req.id}"
set response header X-Request-Id "${req.id}"
route default { proxy app }'
p=$(start_proxy reqid -w 2)
out=$(hcurl -D - -H 'X-Request-Id: spoofed' "http://127.0.0.1:$p/headers" | tr -d '\r')
sent=$(grep -m1 '^X-Request-Id:' <<<"$out" | tail -n 1)
check_match "req.id: the client gets an id made here" "$sent" '^X-Request-Id: [0-9a-f]{24}$'
check_eq "req.id: the server got the same one, not the client's" \
    "$(grep '^X-Request-Id:' <<<"$out" | sort -u | wc -l)" 1
ids=$(for i in 1 2 3 4 5 6; do hcurl -D - -o /dev/null "http://127.0.0.1:$p/x"; done | tr -d '\r' |
    awk '/^X-Request-Id:/ { print $2 }' | sort -u | wc -l)
check_eq "req.id: six requests, six ids (two workers)" "$ids" 6
check "proxy 'reqid' stops on SIGTERM with exit 0" stop_proxy reqid
check "trusted request id policy compiles" build_proxy reqid_trusted '
listen :8080
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [127.0.0.0/8] }
set header X-Request-Id "${req.id}"
route default { proxy app }'
p=$(start_proxy reqid_trusted -w 1)
got=$(hcurl -H 'X-Request-Id: edge-4f2a.9' "http://127.0.0.1:$p/headers" | tr -d '\r' | grep '^X-Request-Id:')
check_eq "req.id: a trusted peer's X-Request-Id is kept" "$got" "X-Request-Id: edge-4f2a.9"
got=$(hcurl -H 'X-Request-Id: bad id with spaces' "http://127.0.0.1:$p/headers" | tr -d '\r' |
    grep '^X-Request-Id:')
check_match "req.id: ... unless it is not a plain token" "$got" '^X-Request-Id: [0-9a-f]{24}$'
check "proxy 'reqid_trusted' stops on SIGTERM with exit 0" stop_proxy reqid_trusted

# Via: the proxy's name, or none.
check "via policy compiles" build_proxy via_named '
listen :8080
backend app { server a 127.0.0.1:@a@ }
via "edge"
route default { proxy app }'
p=$(start_proxy via_named -w 1)
out=$(hcurl -D - "http://127.0.0.1:$p/headers" | tr -d '\r')
check_eq "via: the server and the client see the name given" "$(grep '^Via:' <<<"$out" | sort -u)" \
    "Via: 1.1 edge"
check "proxy 'via_named' stops on SIGTERM with exit 0" stop_proxy via_named
check "via off policy compiles" build_proxy via_off '
listen :8080
backend app { server a 127.0.0.1:@a@ }
via off
route default { proxy app }'
p=$(start_proxy via_off -w 1)
out=$(hcurl -D - "http://127.0.0.1:$p/headers" | tr -d '\r')
check_eq "via off: no Via either way" "$(grep -c '^Via:' <<<"$out")" 0
check_eq "via off: the response still ends its head and carries its body" \
    "$(hcurl "http://127.0.0.1:$p/bytes/5" | wc -c)" 5
check "proxy 'via_off' stops on SIGTERM with exit 0" stop_proxy via_off

# std/security: one import hides the backends and hardens every answer.
check "std/security policy compiles" build_proxy stdsec '
import "std/security"
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy stdsec -w 1)
resp=$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/raw/server" | tr -d '\r')
check_eq "std/security: Server and X-Powered-By removed" \
    "$(grep -ciE '^(server|x-powered-by):' <<<"$resp")" 0
check_match "std/security: nosniff" "$resp" $'\nX-Content-Type-Options: nosniff'
check_eq "std/security: X-Frame-Options replaced" "$(grep -i '^x-frame-options:' <<<"$resp")" \
    "X-Frame-Options: SAMEORIGIN"
check_eq "std/security: its route still refuses dot files" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/.git/config")" 404
check "proxy 'stdsec' stops on SIGTERM with exit 0" stop_proxy stdsec

# A backend's header actions: between the top level's and the route's, for
# the backend the request goes to.
check "backend header actions policy compiles" build_proxy bhdrs '
listen :8080
backend one { server a 127.0.0.1:@a@; set header X-Backend "one"; set response header X-Where "one" }
backend two { server a 127.0.0.1:@a@; set header X-Backend "two" }
set header X-Layer "top"
route path "/headers" {
    proxy two if req.header["X-Pick"] == "two"
    set header X-Layer "route"
    proxy one
}
route default { proxy one }'
p=$(start_proxy bhdrs -w 1)
head=$(hcurl "http://127.0.0.1:$p/headers" | tr -d '\r')
check_eq "backend actions: the chosen backend's" "$(grep '^X-Backend:' <<<"$head")" "X-Backend: one"
check_eq "backend actions: the route's set comes after the top level's" \
    "$(grep '^X-Layer:' <<<"$head")" "X-Layer: route"
head=$(hcurl -H 'X-Pick: two' "http://127.0.0.1:$p/headers" | tr -d '\r')
check_eq "backend actions: another backend, its own" "$(grep '^X-Backend:' <<<"$head")" "X-Backend: two"
resp=$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/bytes/1" | tr -d '\r')
check_match "backend actions: on the response too" "$resp" $'\nX-Where: one'
check "proxy 'bhdrs' stops on SIGTERM with exit 0" stop_proxy bhdrs

# The proxy's own answers take the response header actions too: a route's
# respond and redirect, its 404 of no route, its 400s.
check "local answers header actions policy compiles" build_proxy localhdrs '
listen :8080
set response header X-Frame-Options "DENY"
set response header X-Request-Id "${req.id}"
route path "/hello" { set response header X-Hello "yes"; respond 200 "hi" }
route path "/moved" { redirect 301 "/hello" }'
p=$(start_proxy localhdrs -w 1)
resp=$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/hello" | tr -d '\r')
check_match "local answer: the route's response action" "$resp" $'\nX-Hello: yes'
check_match "local answer: ... and the top level's" "$resp" $'\nX-Frame-Options: DENY'
check_match "local answer: ... with req.id" "$resp" $'\nX-Request-Id: [0-9a-f]{24}'
check_match "redirect: the top level's actions" \
    "$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/moved" | tr -d '\r')" $'\nX-Frame-Options: DENY'
check_match "404 of no route: the top level's actions" \
    "$(hcurl -D - -o /dev/null "http://127.0.0.1:$p/nothing" | tr -d '\r')" $'\nX-Frame-Options: DENY'
got=$(raw_request "$p" 'GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n' | tr -d '\r')
check_match "400 for a refused path: the top level's actions" "$got" $'\nX-Frame-Options: DENY'
check "proxy 'localhdrs' stops on SIGTERM with exit 0" stop_proxy localhdrs

# Which backend and server: ${backend.name} both ways, ${server.name} on the answer.
start_origin b >/dev/null
check "backend and server names policy compiles" build_proxy names '
listen :8080
backend app {
    server first 127.0.0.1:@a@
    server second 127.0.0.1:@b@
    set response header X-Served-By "${server.name}@${backend.name}"
}
route default { set header X-Backend "${backend.name}"; proxy app }'
p=$(start_proxy names -w 1)
got=$(for _ in 1 2; do hcurl -D - "http://127.0.0.1:$p/headers" | tr -d '\r' | grep -E '^(X-Served-By|X-Backend):|^[ab] '; done | sort | paste -sd ' ')
check_match "names: the answer says which server of which backend" "$got" \
    'X-Served-By: first@app.*X-Served-By: second@app'
check_match "names: the server is told its backend" "$(hcurl "http://127.0.0.1:$p/headers" | tr -d '\r')" \
    $'\nX-Backend: app'
check "proxy 'names' stops on SIGTERM with exit 0" stop_proxy names
