# t_57_jwt.sh: `auth jwt` with each algorithm family, keys made here with
# openssl: HS256 (a shared secret), RS256 and PS256 (RSA 2048), ES256
# (P-256), EdDSA (Ed25519). A good token passes (its subject in the log,
# the token kept from the server); missing, tampered, expired, early,
# wrong-issuer, wrong-audience, unsigned ("none") and algorithm-confused
# tokens get 401 with a Bearer challenge; a token may come in a cookie;
# its claims go to the server in header values (jwt.sub, jwt.claim["x"]).

k=$AREA_DIR
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/rsa.pem" 2>/dev/null
openssl pkey -in "$k/rsa.pem" -pubout -out "$k/rsa.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/ec.pem" 2>/dev/null
openssl pkey -in "$k/ec.pem" -pubout -out "$k/ec.pub" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$k/ed.pem" 2>/dev/null
openssl pkey -in "$k/ed.pem" -pubout -out "$k/ed.pub" 2>/dev/null
head -c 48 /dev/urandom | base64 -w0 >"$k/hs.key"
mk() { python3 "$(dirname "${BASH_SOURCE[0]}")/jwt_make.py" "$@"; }
now=$(date +%s)
claims() { printf '{"sub":"%s","iss":"https://id.example","aud":%s,"exp":%s,"nbf":%s}' "$1" "$2" "$3" "$4"; }
good=$(claims alice '"api"' $((now + 600)) $((now - 10)))

start_origin a >/dev/null
check "jwt policy compiles" build_proxy jwt "
listen :8080
backend app { server a 127.0.0.1:@a@ }
log access \"$k/access.log\" format json
route path \"/hs/\" {
    auth jwt key \"hs.key\" alg HS256
    set header X-User \"\${jwt.sub}\"
    set header X-Role \"\${jwt.claim[\\\"role\\\"]}\"
    strip prefix \"/hs\"
    proxy app
}
route path \"/rs/\" { auth jwt key \"rsa.pub\" alg [RS256, PS256]; strip prefix \"/rs\"; proxy app }
route path \"/es/\" { auth jwt key \"ec.pub\" alg ES256; strip prefix \"/es\"; proxy app }
route path \"/ed/\" { auth jwt key \"ed.pub\" alg EdDSA; strip prefix \"/ed\"; proxy app }
route path \"/aud/\" { auth jwt key \"ec.pub\" alg ES256 issuer \"https://id.example\" audience [\"api\", \"web\"] leeway 5s; strip prefix \"/aud\"; proxy app }
route path \"/cookie/\" { auth jwt key \"ec.pub\" alg ES256 from cookie \"session\"; strip prefix \"/cookie\"; proxy app }
route default { proxy app }"
p=$(start_proxy jwt -w 2)
u="http://127.0.0.1:$p"
code() { hcurl -o /dev/null -w '%{http_code}' "$@"; }
bearer() { printf 'Authorization: Bearer %s' "$1"; }

check_eq "each algorithm: a good token passes" \
    "$(code -H "$(bearer "$(mk HS256 "$k/hs.key" "$good")")" "$u/hs/x") \
$(code -H "$(bearer "$(mk RS256 "$k/rsa.pem" "$good")")" "$u/rs/x") \
$(code -H "$(bearer "$(mk PS256 "$k/rsa.pem" "$good")")" "$u/rs/x") \
$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" "$good")")" "$u/es/x") \
$(code -H "$(bearer "$(mk EdDSA "$k/ed.pem" "$good")")" "$u/ed/x")" "200 200 200 200 200"
es=$(mk ES256 "$k/ec.pem" "$good")
hs=$(mk HS256 "$k/hs.key" "$(printf '{"sub":"alice","role":"admin","exp":%s}' $((now + 600)))")
check_eq "claims in header values: jwt.sub and jwt.claim[\"role\"] reach the server" \
    "$(hcurl -H "$(bearer "$hs")" -H 'X-User: mallory' "$u/hs/headers" | tr -d '\r' | grep -iE '^x-(user|role):' | sort | tr '\n' ' ')" \
    "X-Role: admin X-User: alice "
check_eq "the server does not get the token" \
    "$(hcurl -H "$(bearer "$es")" "$u/es/headers" | grep -ci '^authorization:')" 0
hcurl -D "$k/none.head" -o /dev/null "$u/es/x"
check_eq "no token: 401 with a bare Bearer challenge" \
    "$(head -n1 "$k/none.head" | tr -d '\r'); $(tr -d '\r' <"$k/none.head" | sed -n 's/^WWW-Authenticate: //p')" \
    "HTTP/1.1 401 Unauthorized; Bearer"
# one character inside the signature changed (not the last, whose low bits
# must be zero for the base64url to be canonical)
c=${es: -10:1}
tampered="${es:0:${#es}-10}$([ "$c" = A ] && echo B || echo A)${es: -9}"
hcurl -D "$k/bad.head" -o /dev/null -H "$(bearer "$tampered")" "$u/es/x"
check_eq "a tampered signature: 401 invalid_token" \
    "$(tr -d '\r' <"$k/bad.head" | sed -n 's/^WWW-Authenticate: //p')" \
    'Bearer error="invalid_token", error_description="token signature invalid"'
check_eq "expired, not yet valid (beyond the leeway), wrong issuer, wrong audience: 401" \
    "$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" "$(claims a '"api"' $((now - 60)) $((now - 120)))")")" "$u/aud/x") \
$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" "$(claims a '"api"' $((now + 600)) $((now + 60)))")")" "$u/aud/x") \
$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" '{"sub":"a","iss":"https://evil.example","aud":"api"}')")" "$u/aud/x") \
$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" '{"sub":"a","iss":"https://id.example","aud":["other"]}')")" "$u/aud/x")" \
    "401 401 401 401"
now=$(date +%s)
check_eq "within the leeway, an audience in a list: 200" \
    "$(code -H "$(bearer "$(mk ES256 "$k/ec.pem" "$(claims a '["x","web"]' $((now - 2)) $((now - 60)))")")" "$u/aud/x")" 200
check_eq "alg none, and HS256 signed with the RSA public key (algorithm confusion): 401" \
    "$(code -H "$(bearer "$(mk none x "$good")")" "$u/rs/x") \
$(code -H "$(bearer "$(mk HS256 "$k/rsa.pub" "$good")")" "$u/rs/x")" "401 401"
check_eq "malformed tokens: 401" \
    "$(code -H 'Authorization: Bearer abc' "$u/es/x") $(code -H 'Authorization: Bearer a.b.c' "$u/es/x") \
$(code -H "$(bearer "$es.x")" "$u/es/x")" "401 401 401"
check_eq "from a cookie" \
    "$(code -b "session=$es" "$u/cookie/x") $(code -H "$(bearer "$es")" "$u/cookie/x")" "200 401"
sleep 1.2
check_match "the log names the token's subject, and why one was refused" \
    "$(grep -c '"user":"alice"' "$k/access.log") $(grep -c '"end":"auth: token expired"' "$k/access.log")" \
    '^[1-9][0-9]* [1-9]'
stop_proxy jwt

# JWKS: several keys, the token's kid picks one
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/ec2.pem" 2>/dev/null
openssl pkey -in "$k/ec2.pem" -pubout -out "$k/ec2.pub" 2>/dev/null
python3 "$(dirname "${BASH_SOURCE[0]}")/jwks_make.py" "$k/jwks.json" "r1=$k/rsa.pub" "e1=$k/ec.pub" \
    "e2=$k/ec2.pub" "d1=$k/ed.pub"
check "a JWKS policy compiles" build_proxy jwks "
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { auth jwt jwks \"jwks.json\" alg [RS256, ES256, EdDSA]; proxy app }"
p=$(start_proxy jwks -w 2)
u="http://127.0.0.1:$p"
kidtok() { mk "$1" "$2" "$good" "{\"alg\":\"$1\",\"kid\":\"$3\"}"; }
check_eq "jwks: each key verifies tokens that name it" \
    "$(code -H "$(bearer "$(kidtok RS256 "$k/rsa.pem" r1)")" "$u/x") \
$(code -H "$(bearer "$(kidtok ES256 "$k/ec.pem" e1)")" "$u/x") \
$(code -H "$(bearer "$(kidtok ES256 "$k/ec2.pem" e2)")" "$u/x") \
$(code -H "$(bearer "$(kidtok EdDSA "$k/ed.pem" d1)")" "$u/x")" "200 200 200 200"
check_eq "jwks: a token naming another key than its signer's, or an unknown kid: 401" \
    "$(code -H "$(bearer "$(kidtok ES256 "$k/ec.pem" e2)")" "$u/x") \
$(code -H "$(bearer "$(kidtok ES256 "$k/ec.pem" nope)")" "$u/x")" "401 401"
check_eq "jwks: a token without a kid is tried on the keys that fit" \
    "$(code -H "$(bearer "$(mk ES256 "$k/ec2.pem" "$good")")" "$u/x")" 200
stop_proxy jwks

# claims in conditions and limit keys: the policy's one auth jwt checks the
# token before the routes
check "a policy with conditions on claims compiles" build_proxy jwtacl "
listen :8080
backend app { server a 127.0.0.1:@a@ }
acl admins = jwt.claim[\"role\"] == \"admin\"
limit per_user = rate 1/m burst 2 by jwt.sub
route path \"/admin/\" {
    limit per_user
    auth jwt key \"ec.pub\" alg ES256
    deny 403 unless admins
    proxy app
}
route default { proxy app }"
p=$(start_proxy jwtacl -w 2)
u="http://127.0.0.1:$p"
now=$(date +%s)
role() { mk ES256 "$k/ec.pem" "{\"sub\":\"$1\",\"role\":\"$2\",\"exp\":$((now + 600))}"; }
forged=$(role bob admin)
forged="${forged%.*}.$(role bob user | sed 's/.*\.//')"
check_eq "claims in an acl: admin passes, user is denied, no token 401, a forged admin 401" \
    "$(code -H "$(bearer "$(role alice admin)")" "$u/admin/x") $(code -H "$(bearer "$(role bob user)")" "$u/admin/x") \
$(code "$u/admin/x") $(code -H "$(bearer "$forged")" "$u/admin/x")" "200 403 401 401"
check_eq "a limit keyed by jwt.sub: carol's third is refused, dave's first passes" \
    "$(code -H "$(bearer "$(role carol admin)")" "$u/admin/1") $(code -H "$(bearer "$(role carol admin)")" "$u/admin/2") \
$(code -H "$(bearer "$(role carol admin)")" "$u/admin/3") $(code -H "$(bearer "$(role dave admin)")" "$u/admin/4")" \
    "200 200 429 200"
stop_proxy jwtacl
