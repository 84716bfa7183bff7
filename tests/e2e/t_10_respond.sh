# t_10_respond.sh: routing and local answers (`respond`), and 404 when no
# route matches.

start_origin a >/dev/null

check "policy with respond and proxy routes compiles" build_proxy local '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path = "/health" { respond 200 "ok" }
route path "/local/" { respond 201 "made here" }
route default { proxy app }'
check "policy without a default route compiles" build_proxy nodefault '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path = "/health" { respond 200 "ok" }
route path "/api/" { proxy app }'

px=$(start_proxy local -w 1)
pn=$(start_proxy nodefault -w 1)
d=$AREA_DIR

# `respond 200 "ok"` answers with that status, that body and a matching
# Content-Length, without asking the backend.
hcurl -o "$d/r1.body" -D "$d/r1.head" -w '%{http_code}' "http://127.0.0.1:$px/health" >"$d/r1.code"
check_eq "respond: GET /health gives 200" "$(cat "$d/r1.code")" 200
check_eq "respond: body is the policy's string" "$(cat "$d/r1.body")" "ok"
check_eq "respond: Content-Length matches the body" "$(header content-length "$d/r1.head")" 2

# A prefix route: any path under /local/ gets the local answer.
got=$(hcurl -w ' %{http_code}' "http://127.0.0.1:$px/local/deeper/x?q=1")
check_eq "respond: prefix route /local/ answers 201 'made here'" "$got" "made here 201"

# An exact route (path = "/health") does not take longer paths: /health/x
# falls through to the default route and reaches the backend.
got=$(hcurl "http://127.0.0.1:$px/health/x")
check_eq "routing: exact route does not match /health/x (proxied instead)" "$got" "a GET /health/x"

# Nothing answered locally reached the origin.
check_eq "routing: local answers never reach the backend" \
    "$(count_lines '^a [A-Z]+ (/health|/local/[^ ]*) body=' "$(origin_log a)")" 0

# HEAD on a respond route: the same head (Content-Length of the GET body)
# and no body bytes at all. The connection is closed by the request, so
# whatever follows the head would show up.
raw_request "$px" 'HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$d/head.resp"
split_response "$d/head.resp"
check_match "respond: HEAD gives 200" "$(head -n 1 "$d/head.resp.head")" $'^HTTP/1.1 200 '
check_eq "respond: HEAD keeps the GET's Content-Length" "$(header content-length "$d/head.resp.head")" 2
check_eq "respond: HEAD response has no body bytes" "$(wc -c <"$d/head.resp.body")" 0

# No route matches and there is no default route: 404, and the backend
# never hears of it.
got=$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pn/nowhere")
check_eq "routing: no matching route gives 404" "$got" 404
got=$(hcurl "http://127.0.0.1:$pn/api/v1")
check_eq "routing: the prefix route of the same policy still proxies" "$got" "a GET /api/v1"
check_eq "routing: the 404 did not reach the backend" "$(count_lines ' /nowhere ' "$(origin_log a)")" 0

check "proxy 'local' stops on SIGTERM with exit 0" stop_proxy local
check "proxy 'nodefault' stops on SIGTERM with exit 0" stop_proxy nodefault

# The host the proxy matches is the one `rpx test` and `rpx explain` see: an
# IPv6 literal with a port keeps its brackets (tests/golden/host_ipv6.rp
# passes its tests against the same rule).
check "ipv6-host policy compiles" build_proxy v6host "$(cat "$here/../golden/host_ipv6.rp")"
p=$(start_proxy v6host -w 1)
got=$(hcurl -H 'Host: [::1]:8080' "http://127.0.0.1:$p/x")
check_eq "routing: Host [::1]:8080 matches req.host == \"[::1]\", as in the policy's tests" "$got" "v6 loopback"
check "proxy 'v6host' stops on SIGTERM with exit 0" stop_proxy v6host

# The table of host forms in tests/golden/host_forms.rp, which `rpx test`
# and `rpx explain` check in the golden suite, through the proxy itself.
forms=$here/../golden/host_forms.rp
check "host-forms policy compiles" build_proxy hostforms "$(cat "$forms")"
p=$(start_proxy hostforms -w 1)
while IFS=$'\t' read -r host want; do
    got=$(hcurl -o /dev/null -w '%{redirect_url}' -H "Host: $host" "http://127.0.0.1:$p/")
    check_eq "host forms: Host: $host is seen as the policy's tests say" "$got" "$want"
done < <(awk -F'"' '/header "Host: / { h = substr($4, 7) } /expect location/ { print h "\t" $2 }' "$forms")
check "proxy 'hostforms' stops on SIGTERM with exit 0" stop_proxy hostforms

# Redirects keep the request's query unless the location places it, has
# its own, or ends in '?' (tests/golden/forwarded.rp has the table for
# `rpx test`; here the proxy itself).
check "redirect policy compiles" build_proxy redirects '
listen :8080
route path "/old/" { redirect 301 "/new/" }
route path "/uri/" { redirect 302 "https://${req.host}${req.uri}" }
route path "/drop/" { redirect 302 "/dropped?" }
route path "/own/" { redirect 302 "/own2?v=2" }
route path ~ "^/re/(.*)$" { redirect 308 "/to/$1" }
route default { respond 404 }'
p=$(start_proxy redirects -w 1)
loc() { hcurl -o /dev/null -w '%{redirect_url}' -H 'Host: site.test' "http://127.0.0.1:$p$1"; }
check_eq "redirect: the query goes on" "$(loc '/old/a?page=2&q=x')" "http://127.0.0.1:$p/new/?page=2&q=x"
check_eq "redirect: no query, none added" "$(loc /old/a)" "http://127.0.0.1:$p/new/"
check_eq "redirect: \${req.uri} is the path and the query" "$(loc '/uri/a?b=1')" "https://site.test/uri/a?b=1"
check_eq "redirect: a trailing ? drops the query" "$(loc '/drop/a?b=1')" "http://127.0.0.1:$p/dropped"
check_eq "redirect: a location with its own query keeps it alone" "$(loc '/own/a?b=1')" \
    "http://127.0.0.1:$p/own2?v=2"
check_eq "redirect: a regex capture and the query" "$(loc '/re/x/y?z=1')" "http://127.0.0.1:$p/to/x/y?z=1"
check "proxy 'redirects' stops on SIGTERM with exit 0" stop_proxy redirects

# Bodies from files, read when the policy compiles, and the proxy's own
# error pages: the built proxy needs no file, and its content type follows
# the extension.
mkdir -p "$AREA_DIR/pages"
printf '<h1>down for maintenance</h1>\n' >"$AREA_DIR/pages/maint.html"
printf '{"error":"gone"}' >"$AREA_DIR/pages/gone.json"
printf '<h1>oops, our fault</h1>\n' >"$AREA_DIR/pages/5xx.html"
check "file bodies policy compiles" build_proxy filebodies '
listen :8080
backend dead { server d 127.0.0.1:1 }
error 502 503 504 file "pages/5xx.html"
error 404 "nothing here\n"
route path "/maint" { respond 503 file "pages/maint.html" }
route path "/gone" { deny 410 file "pages/gone.json" }
route path "/dead" { proxy dead }'
rm -rf "$AREA_DIR/pages"
p=$(start_proxy filebodies -w 1)
out=$(hcurl -D - "http://127.0.0.1:$p/maint" | tr -d '\r')
check_match "respond file: the file's body" "$out" '<h1>down for maintenance</h1>'
check_match "respond file: text/html from .html" "$out" $'\nContent-Type: text/html; charset=utf-8'
check_match "respond file: its status" "$out" '^HTTP/1.1 503 '
out=$(hcurl -D - "http://127.0.0.1:$p/gone" | tr -d '\r')
check_match "deny file: application/json from .json" "$out" $'\nContent-Type: application/json'
check_match "deny file: the body" "$out" '\{"error":"gone"\}$'
out=$(hcurl -D - "http://127.0.0.1:$p/dead" | tr -d '\r')
check_match "error page: a dead backend's 502 gets the page" "$out" '<h1>oops, our fault</h1>'
check_match "error page: ... with its status" "$out" '^HTTP/1.1 502 '
out=$(hcurl -D - "http://127.0.0.1:$p/nowhere" | tr -d '\r')
check_match "error page: text for the proxy's 404" "$out" $'\n\nnothing here$'
out=$(raw_request "$p" 'GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n' | tr -d '\r' | head -n 1)
check_match "error page: a status without a page keeps its reason" "$out" '^HTTP/1.1 400 '
check "proxy 'filebodies' stops on SIGTERM with exit 0" stop_proxy filebodies

# intercept: a backend's own error pages do not reach clients.
start_origin icpt >/dev/null
check "intercept policy compiles" build_proxy intercept '
listen :8080
backend app { server a 127.0.0.1:@icpt@; intercept 5xx }
backend app4 { server a 127.0.0.1:@icpt@; intercept 4xx 5xx }
error 500 "sorry, something broke\n"
route path "/four/" { rewrite path "^/four(/.*)$" "$1"; proxy app4 }
route default { proxy app }'
p=$(start_proxy intercept -w 1)
out=$(hcurl -D - "http://127.0.0.1:$p/status/500" | tr -d '\r')
check_match "intercept: a server's 500 is replaced by the page" "$out" $'\n\nsorry, something broke$'
check_match "intercept: ... with the server's status" "$out" '^HTTP/1.1 500 '
out=$(hcurl -D - "http://127.0.0.1:$p/status/503" | tr -d '\r')
check "intercept: a 503 without a page gets the reason, not the server's body" \
    bash -c "! grep -q 'status 503' <<<'$out' && grep -q '^HTTP/1.1 503 ' <<<'$out'"
check_match "intercept 5xx: a 404 is relayed as it came" "$(hcurl "http://127.0.0.1:$p/status/404")" 'status 404'
check "intercept 4xx: a 404 is replaced" \
    bash -c "! hcurl 'http://127.0.0.1:$p/four/status/404' | grep -q 'status 404'"
check_eq "intercept: a 200 is relayed" "$(hcurl "http://127.0.0.1:$p/bytes/3" | wc -c)" 3
check_eq "intercept: the server connection's state is clean for the next request" \
    "$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/status/500" "http://127.0.0.1:$p/status/200" | tail -c 3)" 200
check "proxy 'intercept' stops on SIGTERM with exit 0" stop_proxy intercept
