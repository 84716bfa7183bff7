# t_65_paths.sh: one path, one meaning. Paths with "." or ".." segments are
# refused (400) before routing: a server resolving "/public/../admin" would
# otherwise serve what a rule on "/admin" guards. Names that merely start
# with dots pass. Escapes of unreserved characters are decoded and "//"
# merged before routing, and the server gets the path the routes saw; an
# encoded '/', '\' or NUL is refused.

start_origin a >/dev/null
check "paths policy compiles" build_proxy paths '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path "/admin/" { respond 403 "no" }
route default { proxy app }'
p=$(start_proxy paths -w 1)
log=$(origin_log a)

# status PATH: the status of a raw GET of PATH, exactly as written.
status()
{
    raw_request "$p" "GET $1 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" |
        head -n 1 | awk '{ print $2 }'
}
for path in /public/../admin/x /public/%2e%2e/admin/x /public/%2E%2e/admin/x /a/./b /a/%2e/b \
    /a/.. /a/. /.. '/a/..?q=1'; do
    check_eq "dot segment refused: $path" "$(status "$path")" 400
done
for path in /a/..b /a/.well-known/x /a/b.. /a/...; do
    check_eq "not a dot segment: $path" "$(status "$path")" 200
done
check_eq "only the 4 ordinary paths reached the server" "$(wc -l <"$log")" 4

# A deny guard on /admin/ holds whatever way the path is written.
for path in /admin/x /%61dmin/x /%61%64%6D%69%6E/x //admin//x /admin//x '/%2561dmin/x'; do
    want=403
    [ "$path" = /%2561dmin/x ] && want=200 # "%2561" is "%61" literally: another path
    check_eq "normalized before routing: $path" "$(status "$path")" "$want"
done
check_eq "case is kept: /ADMIN/x is another path" "$(status /ADMIN/x)" 200
for path in /admin%2Fx /admin%2fx /a%5Cb /a%00b /a%zzb /a%4 /a%; do
    check_eq "refused: $path" "$(status "$path")" 400
done
check_eq "an escaped dot segment is one: /admin/%2E/x" "$(status /admin/%2E/x)" 400

# target PATH: what the server received as the request target.
target()
{
    raw_request "$p" "GET $1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" |
        tail -n 1 | awk '{ print $3 }'
}
check_eq "the server gets the normalized path" "$(target '/%7Euser//a%2d%5Fb')" "/~user/a-_b"
check_eq "... other escapes kept, hex in upper case" "$(target '/x%3fy%2a')" "/x%3Fy%2A"
check_eq "... the query as it came" "$(target '/a//b?x=%61&y=//')" "/a/b?x=%61&y=//"
check_eq "... an ordinary path untouched" "$(target '/plain/path?q')" "/plain/path?q"
check "proxy 'paths' stops on SIGTERM with exit 0" stop_proxy paths

# The table of path forms in tests/golden/path_forms.rp, which `rpx test`
# and `rpx explain` check in the golden suite, through the proxy itself.
forms=$here/../golden/path_forms.rp
check "path-forms policy compiles" build_proxy pathforms "$(cat "$forms")"
p=$(start_proxy pathforms -w 1)
while IFS=$'\t' read -r path want; do
    got=$(raw_request "$p" "GET $path HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" |
        tr -d '\r' | awk '/^HTTP/ { s = $2 } /^Location: / { l = $2 } END { print (s == 400 ? "400" : l) }')
    check_eq "path forms: $path is seen as the policy's tests say" "$got" "$want"
done < <(awk -F'"' '/request GET/ { p = $2 } /expect location/ { print p "\t" $2 } /expect status 400/ { print p "\t400" }' "$forms")
check "proxy 'pathforms' stops on SIGTERM with exit 0" stop_proxy pathforms

# strip prefix and rewrite path: the path the server gets; routes matched
# the request's own, header values before the rewrite see that one too.
check "rewrite policy compiles" build_proxy rewrites '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path "/api/" {
    set header X-Original-Uri "${req.uri}"
    strip prefix "/api"
    proxy app
}
route path "/bare" { strip prefix "/bare"; proxy app }
route path ~ "^/old/([a-z]+)/(.*)$" { rewrite path "^/old/([a-z]+)/(.*)$" "/new/$2/$1"; proxy app }
route path "/keep/" { rewrite path "^/nomatch" "/x"; proxy app }
route path "/e" { rewrite path "^/e/?([a-z]*)(.*)$" "$1/to$2"; proxy app }
route default { proxy app }'
p=$(start_proxy rewrites -w 1)
target() { raw_request "$p" "GET $1 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" | tail -n 1 | awk '{ print $3 }'; }
check_eq "strip prefix: /api/users?id=1 reaches the server as /users?id=1" "$(target '/api/users?id=1')" "/users?id=1"
check_eq "strip prefix: the whole path stripped leaves /" "$(target /bare)" "/"
check_eq "strip prefix: applied to the normalized path" "$(target '/api//%75sers')" "/users"
check_eq "rewrite path: groups in the replacement" "$(target '/old/abc/x/y?q=1')" "/new/x/y/abc?q=1"
check_eq "rewrite path: no match, no change" "$(target /keep/z)" "/keep/z"
check_eq "rewrite path: a result without a leading / gets one" "$(target /e/ab/c)" "/ab/to/c"
check_eq "rewrite path: ... and one with it (an empty first group) gets no second" \
    "$(target /e/)" "/to"
got=$(hcurl "http://127.0.0.1:$p/api/headers" | tr -d '\r' | grep '^X-Original-Uri:')
check_eq "strip prefix: header values before it see the request's path" "$got" "X-Original-Uri: /api/headers"
check "proxy 'rewrites' stops on SIGTERM with exit 0" stop_proxy rewrites

# upstream_path original: routes see the normalized path, the server gets
# the path as it came (a rewrite's result still goes).
check "upstream_path policy compiles" build_proxy origpath '
listen :8080
backend app { server a 127.0.0.1:@a@ }
upstream_path original
route path "/admin/" { respond 403 "no" }
route path "/api/" { strip prefix "/api"; proxy app }
route default { proxy app }'
p=$(start_proxy origpath -w 1)
target() { raw_request "$p" "GET $1 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" | tail -n 1 | awk '{ print $3 }'; }
check_eq "upstream_path original: the server gets the path as it came" \
    "$(target '/%7Euser//a%2d?q=%61')" "/%7Euser//a%2d?q=%61"
check_eq "upstream_path original: routes still see it normalized" \
    "$(raw_request "$p" 'GET /%61dmin/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | head -n 1 | awk '{ print $2 }')" 403
check_eq "upstream_path original: a rewrite's result still goes" "$(target '/api//v1')" "/v1"
check_eq "upstream_path original: refused paths are still refused" \
    "$(raw_request "$p" 'GET /a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | head -n 1 | awk '{ print $2 }')" 400
check "proxy 'origpath' stops on SIGTERM with exit 0" stop_proxy origpath
