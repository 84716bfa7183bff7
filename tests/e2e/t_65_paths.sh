# t_65_paths.sh: paths with "." or ".." segments are refused (400) before
# routing: a server resolving "/public/../admin" would otherwise serve what a
# rule on "/admin" guards. Names that merely start with dots pass.

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
check "proxy 'paths' stops on SIGTERM with exit 0" stop_proxy paths
