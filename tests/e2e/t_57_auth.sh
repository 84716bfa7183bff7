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
