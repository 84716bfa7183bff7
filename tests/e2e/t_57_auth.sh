# t_57_auth.sh: `auth basic "realm" file "users"` (RFC 7617) with bcrypt,
# sha512crypt and yescrypt hashes. Missing, wrong, unknown, malformed and
# other-scheme credentials get 401 with WWW-Authenticate and never reach
# the server; good ones pass without their Authorization (unless
# forward_credentials); local answers (status) are guarded too; the log
# names the user and the reason, never the password; SIGHUP reloads the
# users; a verified credential is remembered, so a slow hash is paid once
# per worker, not per request.

users="$AREA_DIR/users.htpasswd"
cp "$(dirname "${BASH_SOURCE[0]}")/../auth/users.htpasswd" "$users"
# a deliberately slow bcrypt (cost 12, about a quarter second)
python3 -W ignore -c 'import crypt; print("slow:" + crypt.crypt("slowpw", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**12)))' >>"$users"
start_origin a >/dev/null
check "auth policy compiles" build_proxy auth "
listen :8080
backend app { server a 127.0.0.1:@a@ }
log access \"$AREA_DIR/access.log\" format json
route path \"/admin/\" { auth basic \"Admin area\" file \"$users\"; strip prefix \"/admin\"; proxy app }
route path \"/sso/\" { auth basic \"SSO\" file \"$users\" forward_credentials; strip prefix \"/sso\"; proxy app }
route path \"/rpx\" { auth basic \"Ops\" file \"$users\"; status }
route default { proxy app }"
p=$(start_proxy auth -w 2)
u="http://127.0.0.1:$p"
code() { hcurl -o /dev/null -w '%{http_code}' "$@"; }
basic() { printf 'Authorization: Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }

hcurl -D "$AREA_DIR/401.head" -o "$AREA_DIR/401.body" "$u/admin/headers"
check_eq "no credentials: 401 with the realm" \
    "$(head -n1 "$AREA_DIR/401.head" | tr -d '\r'); $(tr -d '\r' <"$AREA_DIR/401.head" | sed -n 's/^WWW-Authenticate: //p')" \
    'HTTP/1.1 401 Unauthorized; Basic realm="Admin area", charset="UTF-8"'
check_eq "bcrypt, sha512crypt and yescrypt users pass" \
    "$(code -u alice:wonderland "$u/admin/headers") $(code -u bob:builder "$u/admin/headers") $(code -u carol:c4r0l "$u/admin/headers")" \
    "200 200 200"
check_eq "wrong password, unknown user, malformed, another scheme, empty password: 401" \
    "$(code -u alice:wrong "$u/admin/x") $(code -u mallory:wonderland "$u/admin/x") \
$(code -H 'Authorization: Basic !!notbase64' "$u/admin/x") $(code -H 'Authorization: Bearer abc' "$u/admin/x") \
$(code -u alice: "$u/admin/x")" "401 401 401 401 401"
check_eq "the scheme's case does not matter" \
    "$(code -H "$(basic alice:wonderland | sed 's/Basic/bASIC/')" "$u/admin/headers")" 200
check_eq "refused requests never reached the server" \
    "$(grep -c 'GET /x ' "$(origin_log a)")" 0
check_eq "the server does not get the credentials" \
    "$(hcurl -u alice:wonderland "$u/admin/headers" | grep -ci '^authorization:')" 0
check_eq "... unless forward_credentials" \
    "$(hcurl -u alice:wonderland "$u/sso/headers" | tr -d '\r' | grep -i '^authorization:')" \
    "$(basic alice:wonderland)"
check_eq "a local answer is guarded too (status)" \
    "$(code "$u/rpx") $(code -u bob:builder "$u/rpx?format=json")" "401 200"
check_eq "a route without auth is open" "$(code "$u/plain")" 200

# a slow hash is paid once per worker: 20 requests well under 20 hashes
t0=$EPOCHREALTIME
for i in $(seq 1 20); do code -u slow:slowpw "$u/admin/headers" >>"$AREA_DIR/slow.codes"; echo >>"$AREA_DIR/slow.codes"; done
ms=$(ms_since "$t0")
check_eq "slow hash: all 20 pass" "$(grep -c 200 "$AREA_DIR/slow.codes")" 20
check_match "slow hash: remembered (20 requests in ${ms} ms; one hash is ~250 ms)" \
    "$(( ms < 2500 * SCALE ))" '^1$'

sleep 1.2 # the log writer flushes every second
log="$AREA_DIR/access.log"
check_match "the log names the user" "$(grep -c '"user":"alice"' "$log")" '^[1-9]'
check_match "the log says why a request was refused" \
    "$(grep '"status":401' "$log" | grep -c '"end":"auth: wrong password"')" '^[1-9]'
check_eq "the log never holds a password" "$(grep -c 'wonderland\|builder' "$log")" 0

# SIGHUP: a new user, and one taken away (whose credentials were remembered)
python3 -W ignore -c 'import crypt; print("dave:" + crypt.crypt("d4ve", crypt.mksalt(crypt.METHOD_SHA256)))' >>"$users"
sed -i '/^alice:/d' "$users"
kill -HUP "$(proxy_pid auth)"
sleep 0.5
check_eq "after SIGHUP: the new user passes, the removed one does not" \
    "$(code -u dave:d4ve "$u/admin/headers") $(code -u alice:wonderland "$u/admin/headers")" "200 401"
stop_proxy auth

# auth request: forward authentication to a server of a backend
python3 "$(dirname "${BASH_SOURCE[0]}")/auth_server.py" "$AREA_DIR/authsrv.port" "$AREA_DIR/authsrv.log" \
    2>"$AREA_DIR/authsrv.err" &
authsrv=$!
echo "$authsrv" >>"$SCRATCH/pids"
wait_file "$AREA_DIR/authsrv.port" 10
ap=$(cat "$AREA_DIR/authsrv.port")
check "auth request policy compiles" build_proxy authreq "
listen :8080
backend app { server a 127.0.0.1:@a@ }
backend authn { server s 127.0.0.1:$ap }
timeouts { backend 5s }
route path \"/api/\" { auth request authn \"/check\" copy [X-User, X-Groups]; strip prefix \"/api\"; proxy app }
route path \"/page\" { auth request authn \"/check?from=page\"; respond 200 \"page\" }
route default { proxy app }"
p=$(start_proxy authreq -w 2)
u="http://127.0.0.1:$p"
hdrs=$(hcurl -H 'Authorization: Bearer good' -H 'X-User: mallory' "$u/api/headers" | tr -d '\r')
check_eq "auth request: a 2xx lets it through, with the fields it names (the client's own dropped)" \
    "$(grep -iE '^x-(user|groups|other):' <<<"$hdrs" | sort | tr '\n' ' ')" "X-Groups: admins X-User: alice "
check_match "auth request: the authentication server saw the original method and URI" \
    "$(tail -n1 "$AREA_DIR/authsrv.log")" '^GET /check GET /api/headers$'
hcurl -D "$AREA_DIR/ar401.head" -o /dev/null "$u/api/headers"
check_eq "auth request: its 401 goes to the client with its WWW-Authenticate" \
    "$(head -n1 "$AREA_DIR/ar401.head" | tr -d '\r'); $(tr -d '\r' <"$AREA_DIR/ar401.head" | sed -n 's/^WWW-Authenticate: //p')" \
    'HTTP/1.1 401 Unauthorized; Bearer realm="api"'
check_eq "auth request: 403 goes to the client, anything else is a 500" \
    "$(code -H 'Authorization: Bearer forbidden' "$u/api/x") $(code -H 'Authorization: Bearer broken' "$u/api/x")" \
    "403 500"
check_eq "auth request: refused requests never reached the server" \
    "$(grep -c 'GET /x ' "$(origin_log a)")" 0
check_eq "auth request: guards a local answer too, with the path as written" \
    "$(code "$u/page") $(code -H 'Authorization: Bearer good' "$u/page") $(tail -n1 "$AREA_DIR/authsrv.log" | cut -d' ' -f2)" \
    "401 200 /check?from=page"
# a slow authentication server does not hold up other requests
hcurl -o /dev/null -H 'Authorization: Bearer slow' "$u/api/x" &
slow=$!
t0=$EPOCHREALTIME
check_eq "auth request: others are served while one waits for a slow answer" "$(code "$u/other")" 200
check_match "... at once ($(ms_since "$t0") ms)" "$(( $(ms_since "$t0") < 1000 ))" '^1$'
wait "$slow"
kill "$authsrv" 2>/dev/null
wait "$authsrv" 2>/dev/null
check_eq "auth request: with the authentication server down, 502 (not a hang)" \
    "$(code -H 'Authorization: Bearer good' "$u/api/x")" 502
stop_proxy authreq
