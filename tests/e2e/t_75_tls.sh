# t_75_tls.sh: TLS termination. SNI picks the certificate (exact names,
# a wildcard, a default), ECDSA or RSA by what the client takes, TLS 1.0 and
# 1.1 refused, ALPN, ticket resumption across workers, client certificates
# (required and optional) reaching headers and acls, bodies both ways,
# certificate reload on SIGHUP without a failed request, and a client that
# stalls in the handshake. Clients: openssl s_client and curl.

TLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)

# s_client NAME PORT [ARGS...]: one handshake (and nothing sent); prints
# s_client's report.
s_client()
{
    local port=$1
    shift
    timeout "$T_SHORT" openssl s_client -connect "127.0.0.1:$port" "$@" </dev/null 2>&1
}

# the subject CN of the certificate the server sent
served_cn()
{
    s_client "$@" | sed -n 's/^subject=.*CN *= *\([^,/]*\).*/\1/p' | head -n 1
}

# tcurl NAME PORT PATH [ARGS...]: curl over https to NAME (resolved to
# 127.0.0.1), trusting the test root.
tcurl()
{
    local name=$1 port=$2 path=$3
    shift 3
    curl -sS --max-time "$T_SHORT" --cacert "$TLS/ca.pem" --resolve "$name:$port:127.0.0.1" \
        "https://$name:$port$path" "$@"
}

start_origin a >/dev/null
check "tls policy compiles" build_proxy tls "
listen :8443 tls {
    cert \"$TLS/a.pem\" key \"$TLS/a.key\"
    cert \"$TLS/a-rsa.pem\" key \"$TLS/a-rsa.key\"
    cert \"$TLS/b.pem\" key \"$TLS/b.key\"
    cert \"$TLS/wild.pem\" key \"$TLS/wild.key\"
}
backend app { server a 127.0.0.1:@a@ }
set header X-TLS \"\${tls.version} \${tls.sni} \${req.scheme}\"
route path \"/who\" if tls.sni == \"b.test\" { respond 200 \"b by sni\" }
route default { proxy app }"
p=$(start_proxy tls -w 2)

check_eq "tls: SNI a.test gets a.test's certificate" "$(served_cn "$p" -servername a.test)" a.test
check_eq "tls: SNI www.a.test (a second SAN name) gets it too" \
    "$(served_cn "$p" -servername www.a.test)" a.test
check_eq "tls: SNI b.test gets b.test's" "$(served_cn "$p" -servername b.test)" b.test
check_eq "tls: SNI x.c.test gets the wildcard *.c.test" "$(served_cn "$p" -servername x.c.test)" '*.c.test'
check_eq "tls: a wildcard covers one label only (y.x.c.test gets the default)" \
    "$(served_cn "$p" -servername y.x.c.test)" a.test
check_eq "tls: no SNI gets the default (the first pair)" "$(served_cn "$p" -noservername)" a.test
check_eq "tls: an unknown name gets the default" "$(served_cn "$p" -servername nope.test)" a.test
got=$(s_client "$p" -servername a.test | grep -o 'Server public key is [0-9]* bit')
check_eq "tls: a client that takes ECDSA gets the ECDSA pair" "$got" "Server public key is 256 bit"
got=$(s_client "$p" -servername a.test -tls1_2 -sigalgs 'RSA-PSS+SHA256:RSA+SHA256' \
    -cipher 'ECDHE-RSA-AES128-GCM-SHA256' | grep -o 'Server public key is [0-9]* bit')
check_eq "tls: a client that takes only RSA gets the RSA pair of the same name" "$got" \
    "Server public key is 2048 bit"
got=$(s_client "$p" -servername a.test -tls1_3 -sigalgs 'RSA-PSS+SHA256' | grep -o 'Server public key is [0-9]* bit')
check_eq "tls: TLS 1.3 with RSA-PSS only gets RSA too" "$got" "Server public key is 2048 bit"

for v in tls1 tls1_1; do
    got=$(s_client "$p" -servername a.test "-$v" -cipher 'DEFAULT:@SECLEVEL=0' | grep -c '^New, TLSv1')
    check_eq "tls: $v is refused" "$got" 0
done
got=$(s_client "$p" -servername a.test -tls1_2 | grep -o '^New, TLSv1.2')
check_eq "tls: TLS 1.2 is taken" "$got" "New, TLSv1.2"
got=$(s_client "$p" -servername a.test -tls1_3 | grep -o '^New, TLSv1.3')
check_eq "tls: TLS 1.3 is taken" "$got" "New, TLSv1.3"
got=$(s_client "$p" -servername a.test -tls1_2 -cipher 'AES128-SHA' | grep -c '^New, TLSv1')
check_eq "tls: a TLS 1.2 suite without forward secrecy (AES128-SHA) is refused" "$got" 0

got=$(s_client "$p" -servername a.test -alpn 'http/1.1,h2' | grep -o 'ALPN protocol: .*')
check_eq "tls: ALPN picks h2 from http/1.1,h2 (the server's order)" "$got" "ALPN protocol: h2"
got=$(s_client "$p" -servername a.test -alpn 'http/1.1' | grep -o 'ALPN protocol: .*')
check_eq "tls: ... http/1.1 from a client that offers only it" "$got" "ALPN protocol: http/1.1"
got=$(s_client "$p" -servername a.test -alpn 'h3' | grep -c '^New, TLSv1')
check_eq "tls: a client that offers only protocols not spoken is refused (RFC 7301)" "$got" 0

got=$(tcurl a.test "$p" /who)
check_eq "tls: curl gets an answer over https, verified against the test root" "$got" "a GET /who"
got=$(tcurl b.test "$p" /who)
check_eq "tls: an acl reads tls.sni" "$got" "b by sni"
got=$(tcurl a.test "$p" /headers | tr -d '\r')
check_match "tls: the server is told the scheme (X-Forwarded-Proto: https)" "$got" \
    $'\nX-Forwarded-Proto: https'
check_match "tls: header actions read tls.version, tls.sni, req.scheme" "$got" \
    $'\nX-TLS: TLSv1.3 a.test https'

# Bodies both ways: 8 MB down (a content length and chunked), 4 MB up.
want=$("$ORIGIN" gen 8m | "$ORIGIN" crc32)
got=$(tcurl a.test "$p" /bytes/8m | "$ORIGIN" crc32)
check_eq "tls: an 8 MB download arrives whole" "$got" "$want"
got=$(tcurl a.test "$p" /chunked/8m | "$ORIGIN" crc32)
check_eq "tls: an 8 MB chunked download arrives whole" "$got" "$want"
want=$("$ORIGIN" gen 4m | "$ORIGIN" crc32)
got=$("$ORIGIN" gen 4m | tcurl a.test "$p" /echo --data-binary @- -H 'Content-Type: x')
check_eq "tls: a 4 MB upload reaches the server whole (its length and crc)" "$got" "$want"
got=$(tcurl a.test "$p" /who -o /dev/null -w '%{http_code}\n' --next --cacert "$TLS/ca.pem" \
    --resolve "a.test:$p:127.0.0.1" "https://a.test:$p/who" -o /dev/null -w '%{num_connects}\n')
check_eq "tls: a second request reuses the connection (keep-alive)" "$(echo $got)" "200 0"

# Resumption: a ticket from one connection resumes on new ones, whichever
# of the two workers takes them (they share the ticket keys).
sess=$AREA_DIR/sess.pem
# (TLS 1.3's tickets come after the handshake: s_client must stay to read them.)
sleep 0.5 | timeout "$T_SHORT" openssl s_client -connect "127.0.0.1:$p" -servername a.test \
    -sess_out "$sess" >/dev/null 2>&1
reused=0
for _ in 1 2 3 4 5 6; do
    s_client "$p" -servername a.test -sess_in "$sess" | grep -q '^Reused, ' && reused=$((reused + 1))
done
check_eq "tls: a TLS 1.3 ticket resumes on 6 new connections across 2 workers" "$reused" 6
s_client "$p" -servername a.test -tls1_2 -sess_out "$sess" >/dev/null
reused=0
for _ in 1 2 3 4; do
    s_client "$p" -servername a.test -tls1_2 -sess_in "$sess" | grep -q '^Reused, ' && reused=$((reused + 1))
done
check_eq "tls: a TLS 1.2 session resumes too" "$reused" 4
# The proxy ends a connection with a close_notify: OpenSSL 3 does not resume
# a session whose connection ended without one (a truncation, to it).
got=$(printf 'GET /who HTTP/1.0\r\nHost: a.test\r\n\r\n' | timeout "$T_SHORT" openssl s_client \
    -connect "127.0.0.1:$p" -servername a.test -sess_out "$sess" -ign_eof 2>&1)
check "tls: a connection the proxy closes ends with close_notify" \
    bash -c "! grep -qi 'unexpected eof' <<<\"\$1\"" _ "$got"
got=$(s_client "$p" -servername a.test -sess_in "$sess" | grep -o '^\(New\|Reused\)')
check_eq "tls: ... so its session resumes" "$got" Reused
# A local answer's last bytes and the close_notify go in one write: the
# answer is whole, and the end a clean one.
got=$(printf 'GET /who HTTP/1.0\r\nHost: b.test\r\n\r\n' | timeout "$T_SHORT" openssl s_client \
    -connect "127.0.0.1:$p" -servername b.test -ign_eof 2>&1)
check_match "tls: a local answer to a closing client arrives whole" "$got" 'b by sni'
check "tls: ... and ends with close_notify" bash -c "! grep -qi 'unexpected eof' <<<\"\$1\"" _ "$got"
check "proxy 'tls' stops on SIGTERM with exit 0" stop_proxy tls

# ---- client certificates ----------------------------------------------------------------
check "mtls policy compiles" build_proxy mtls "
listen :8443 tls {
    cert \"$TLS/a.pem\" key \"$TLS/a.key\"
    client_ca \"$TLS/ca.pem\"
    verify required
}
backend app { server a 127.0.0.1:@a@ }
set header X-Client-Subject \"\${tls.client_cert.subject}\"
set header X-Client-Verified \"\${tls.client_cert.verified}\"
route path \"/admin\" if tls.client_cert.subject ~ \"CN=alice\" { respond 200 \"hello alice\" }
route path \"/admin\" { respond 403 \"not you\" }
route default { proxy app }"
p=$(start_proxy mtls -w 1)
got=$(tcurl a.test "$p" /admin -w '%{http_code}' 2>/dev/null)
check_eq "mtls required: without a certificate there is no connection" "$got" 000
got=$(tcurl a.test "$p" /admin --cert "$TLS/client.pem" --key "$TLS/client.key")
check_eq "mtls required: alice's certificate passes, and an acl reads its subject" "$got" "hello alice"
got=$(tcurl a.test "$p" /headers --cert "$TLS/client.pem" --key "$TLS/client.key" | tr -d '\r')
check_match "mtls: the subject reaches the server in a header" "$got" \
    $'\nX-Client-Subject: CN=alice,O=Example'
check_match "mtls: and that it was verified" "$got" $'\nX-Client-Verified: true'
got=$(tcurl a.test "$p" /admin --cert "$TLS/stranger.pem" --key "$TLS/stranger.key" \
    -w '%{http_code}' 2>/dev/null)
check_eq "mtls required: a certificate from another CA is refused" "$got" 000
check "proxy 'mtls' stops on SIGTERM with exit 0" stop_proxy mtls

check "optional mtls policy compiles" build_proxy mtls_opt "
listen :8443 tls {
    cert \"$TLS/a.pem\" key \"$TLS/a.key\"
    client_ca \"$TLS/ca.pem\"
    verify optional
}
route if tls.client_cert.verified { respond 200 \"known\" }
route default { respond 200 \"anonymous\" }"
p=$(start_proxy mtls_opt -w 1)
check_eq "mtls optional: no certificate is fine" "$(tcurl a.test "$p" /)" anonymous
check_eq "mtls optional: a valid one is seen" \
    "$(tcurl a.test "$p" / --cert "$TLS/client.pem" --key "$TLS/client.key")" known
check "proxy 'mtls_opt' stops on SIGTERM with exit 0" stop_proxy mtls_opt

# ---- reload and a stalled handshake ---------------------------------------------------------
cp "$TLS/a.pem" "$AREA_DIR/live.pem"
cp "$TLS/a.key" "$AREA_DIR/live.key"
check "reload policy compiles" build_proxy reload "
listen :8443 tls { cert \"live.pem\" key \"live.key\" }
timeouts { client_header 1s }
route default { respond 200 \"up\" }"
p=$(start_proxy reload -w 2)
check_eq "reload: serves the first certificate" "$(served_cn "$p" -servername a.test)" a.test
# Requests run all along the reload; none may fail.
(
    fails=0
    for _ in $(seq 1 60); do
        [ "$(curl -sk --max-time "$T_SHORT" "https://127.0.0.1:$p/")" = up ] || fails=$((fails + 1))
    done
    echo "$fails" >"$AREA_DIR/reload.fails"
) &
loop=$!
sleep 0.2
cp "$TLS/b.pem" "$AREA_DIR/live.pem"
cp "$TLS/b.key" "$AREA_DIR/live.key"
kill -HUP "$(proxy_pid reload)"
wait "$loop"
check_eq "reload: no request failed across SIGHUP" "$(cat "$AREA_DIR/reload.fails")" 0
check_eq "reload: new handshakes get the new certificate" "$(served_cn "$p" -servername a.test)" b.test
: >"$AREA_DIR/live.key"
kill -HUP "$(proxy_pid reload)"
sleep 0.3
check_eq "reload: a broken key file keeps the certificate in use" \
    "$(served_cn "$p" -servername a.test)" b.test
check_match "reload: and says why" "$(cat "$AREA_DIR/reload.run.err")" "reload failed"

# A client that opens a connection and sends half a ClientHello: closed by
# the header timeout (1s), like a slow head.
start=$EPOCHREALTIME
got=$(timeout $((T_SHORT + 2)) bash -c "exec 3<>/dev/tcp/127.0.0.1/$p; printf '\\x16\\x03\\x01\\x02\\x00\\x01' >&3; cat <&3 | wc -c")
check_eq "handshake: a stalled ClientHello gets nothing back" "$got" 0
check "handshake: and is closed within the header timeout" test "$(ms_since "$start")" -lt $((3000 * SCALE))
check "proxy 'reload' stops on SIGTERM with exit 0" stop_proxy reload

# ---- build-time checks that depend on today's date ---------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 -subj /CN=soon.test \
    -addext subjectAltName=DNS:soon.test -keyout "$AREA_DIR/soon.key" -out "$AREA_DIR/soon.pem" 2>/dev/null
got=$(build_proxy soon "
listen :8443 tls { cert \"soon.pem\" key \"soon.key\" }
route default { respond 200 \"soon\" }")
check_match "build: a certificate that expires within 30 days is a warning" "$got" \
    'soon.rp:2:25: warning: the certificate expires in (9|10) days'
check "build: ... and the proxy is built all the same" test -x "$AREA_DIR/soon"

# ---- to the servers -----------------------------------------------------------------------
# The TLS server is a second rpx (listener with origin.pem, which names
# origin.test, localhost and 127.0.0.1), in front of the origin; it reports
# what it saw of the TLS it was reached with. Then openssl s_server, a TLS
# server that is not ours.
check "tls origin policy compiles" build_proxy tlsorigin "
listen :8443 tls {
    cert \"$TLS/origin.pem\" key \"$TLS/origin.key\"
    client_ca \"$TLS/ca.pem\"
    verify optional
}
backend app { server a 127.0.0.1:@a@ }
set header X-Seen \"sni=\${tls.sni} resumed=\${tls.resumed} client=\${tls.client_cert.subject}\"
route path \"/mtls\" if not tls.client_cert.verified { respond 403 \"who are you\" }
route default { proxy app }"
o=$(start_proxy tlsorigin -w 1)
echo "$o" >"$AREA_DIR/tlsorigin.port"
check "upstream tls policy compiles" build_proxy up "
listen :8080
backend good { server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/ca.pem\"; sni \"origin.test\" } }
backend byaddr { server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/ca.pem\" } }
backend wrongca { server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/other-ca.pem\" } }
backend wrongname { server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/ca.pem\"; sni \"other.test\" } }
backend noverify { server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/other-ca.pem\"; verify none } }
backend withcert {
    server s 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/ca.pem\"; cert \"$TLS/client.pem\" key \"$TLS/client.key\" }
    keepalive 4 idle 1s
}
route path \"/good\" { strip prefix \"/good\"; proxy good }
route path \"/byaddr\" { strip prefix \"/byaddr\"; proxy byaddr }
route path \"/wrongca\" { proxy wrongca }
route path \"/wrongname\" { proxy wrongname }
route path \"/noverify\" { strip prefix \"/noverify\"; proxy noverify }
route path \"/withcert\" { strip prefix \"/withcert\"; proxy withcert }
route default { respond 404 }"
p=$(start_proxy up -w 1)
got=$(hcurl "http://127.0.0.1:$p/good/headers" | tr -d '\r')
check_match "upstream tls: verified by CA and SNI name, the request gets through" "$got" \
    $'\nX-Seen: sni=origin.test resumed= client=\n'
got=$(hcurl "http://127.0.0.1:$p/byaddr/x")
check_eq "upstream tls: without sni, the certificate must name the address (127.0.0.1)" "$got" "a GET /x"
for _ in 1 2 3 4; do hcurl "http://127.0.0.1:$p/good/x" >/dev/null; done
n=$(ss -Htn state established "( dport = :$o )" | wc -l)
check_eq "upstream tls: kept-alive requests share one pooled TLS connection" "$n" 2
got=$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/wrongca")
check_eq "upstream tls: a server whose certificate the CA did not sign: 502" "$got" 502
check_match "upstream tls: ... and the log says why" "$(cat "$AREA_DIR/up.run.err")" \
    'TLS handshake failed: unable to get local issuer certificate'
got=$(hcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/wrongname")
check_eq "upstream tls: a certificate for other names: 502" "$got" 502
check_match "upstream tls: ... and the log says why" "$(cat "$AREA_DIR/up.run.err")" \
    'TLS handshake failed: Hostname mismatch'
got=$(hcurl "http://127.0.0.1:$p/noverify/x")
check_eq "upstream tls: verify none takes any certificate" "$got" "a GET /x"
got=$(hcurl "http://127.0.0.1:$p/withcert/mtls")
check_eq "upstream tls: a client certificate is presented when named" "$got" "a GET /mtls"
got=$(hcurl "http://127.0.0.1:$p/withcert/headers" | tr -d '\r')
check_match "upstream tls: ... the server sees whose" "$got" 'client=CN=alice,O=Example'
sleep 2.5 # the pooled connection idles out (idle 1s); the next one resumes
got=$(hcurl "http://127.0.0.1:$p/withcert/headers" | tr -d '\r')
check_match "upstream tls: a new connection resumes the server's session" "$got" 'resumed=true'
check "proxy 'up' stops on SIGTERM with exit 0" stop_proxy up

# Health checks over TLS: the one with the wrong CA goes down, the other stays up.
check "upstream tls health policy compiles" build_proxy uphealth "
listen :8080
backend app {
    server good 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/ca.pem\"; sni \"localhost\" }
    server bad 127.0.0.1:@tlsorigin@ tls { ca \"$TLS/other-ca.pem\" }
    health get \"/x\" every 300ms timeout 300ms rise 1 fall 1
}
route default { proxy app }"
p=$(start_proxy uphealth -w 1)
sleep 1
check_match "upstream tls health: the server with an unverifiable certificate is marked down" \
    "$(cat "$AREA_DIR/uphealth.run.err")" 'bad.*is DOWN.*TLS handshake failed'
got=$(for _ in 1 2 3 4; do hcurl "http://127.0.0.1:$p/x"; done | sort -u)
check_eq "upstream tls health: requests go to the good one" "$got" "a GET /x"
check "proxy 'uphealth' stops on SIGTERM with exit 0" stop_proxy uphealth
check "proxy 'tlsorigin' stops on SIGTERM with exit 0" stop_proxy tlsorigin

# openssl s_server: an HTTP/1.0 answer over TLS from a server that is not rpx.
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$sport" -cert "$TLS/origin.pem" -key "$TLS/origin.key" \
    -www -quiet >"$AREA_DIR/s_server.log" 2>&1 &
echo $! >>"$AREA_DIR/pids"
sserver=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break; sleep 0.1; done
check "s_server upstream policy compiles" build_proxy upss "
listen :8080
backend s { server s 127.0.0.1:$sport tls { ca \"$TLS/ca.pem\"; sni \"origin.test\" } }
route default { proxy s }"
p=$(start_proxy upss -w 1)
got=$(hcurl "http://127.0.0.1:$p/")
check_match "upstream tls: openssl s_server answers through the proxy" "$got" 'Protocol *: TLSv1\.3'
check "proxy 'upss' stops on SIGTERM with exit 0" stop_proxy upss
kill "$sserver" 2>/dev/null

# ---- OCSP stapling, from a file the operator refreshes --------------------------------------
serial=$(openssl x509 -in "$TLS/origin.pem" -noout -serial | cut -d= -f2)
printf 'V\t491231000000Z\t\t%s\tunknown\t/CN=origin.test\n' "$serial" >"$AREA_DIR/ocsp.index"
openssl ocsp -issuer "$TLS/ca.pem" -cert "$TLS/origin.pem" -no_nonce -reqout "$AREA_DIR/ocsp.req" >/dev/null 2>&1
openssl ocsp -index "$AREA_DIR/ocsp.index" -rsigner "$TLS/ca.pem" -rkey "$TLS/ca.key" -CA "$TLS/ca.pem" \
    -reqin "$AREA_DIR/ocsp.req" -respout "$AREA_DIR/ocsp.der" -ndays 1 >/dev/null 2>&1
check "ocsp policy compiles" build_proxy ocsp "
listen :8443 tls { cert \"$TLS/origin.pem\" key \"$TLS/origin.key\" ocsp \"ocsp.der\" }
route default { respond 200 \"stapled\" }"
p=$(start_proxy ocsp -w 1)
got=$(s_client "$p" -servername origin.test -status | grep -E 'OCSP Response Status|Cert Status' | tr -s ' ' | paste -sd ' ')
check_match "ocsp: the response is stapled to the handshake" "$got" \
    'OCSP Response Status: successful.*Cert Status: good'
check "proxy 'ocsp' stops on SIGTERM with exit 0" stop_proxy ocsp

# ---- layer 4 behind TLS: bytes both ways, decrypted at the listener ----------------------
tcp_server echo echo
check "tls tcp policy compiles" build_proxy tlstcp "
listen :8443 tcp proxy echo tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\" }
backend echo { server e 127.0.0.1:$(cat "$AREA_DIR/echo.port") }"
p=$(start_proxy tlstcp -w 1)
got=$(python3 - "$p" "$TLS/ca.pem" <<'PY'
import hashlib, os, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
data = os.urandom(1 << 20)
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="a.test")
s.sendall(data)
got = b""
while len(got) < len(data):
    b = s.recv(65536)
    if not b:
        break
    got += b
print("same" if hashlib.sha256(got).digest() == hashlib.sha256(data).digest() else "differs %d" % len(got))
PY
)
check_eq "tls tcp: 1 MB through a TLS layer 4 listener comes back whole" "$got" same
got=$(s_client "$p" -servername a.test -alpn 'h2,http/1.1' | grep -o -e 'ALPN protocol: .*' -e 'No ALPN negotiated')
check_eq "tls tcp: a layer 4 listener does not agree to h2 (it cannot speak it)" "$got" \
    "ALPN protocol: http/1.1"
check "proxy 'tlstcp' stops on SIGTERM with exit 0" stop_proxy tlstcp

# ---- ticket keys from a file: a successor process resumes its predecessor's sessions ------
openssl rand 80 >"$AREA_DIR/ticket.keys"
check "ticket key file policy compiles" build_proxy tickets "
listen :8443 tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\"; tickets file \"ticket.keys\" }
route default { respond 200 \"t\" }"
check "own ticket keys policy compiles" build_proxy ownkeys "
listen :8443 tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\"; session_cache off }
route default { respond 200 \"t\" }"
for name in tickets ownkeys; do
    p=$(start_proxy $name -w 1)
    sleep 0.5 | timeout "$T_SHORT" openssl s_client -connect "127.0.0.1:$p" -servername a.test \
        -sess_out "$AREA_DIR/$name.sess" >/dev/null 2>&1
    stop_proxy $name >/dev/null
    p2=$(start_proxy "$name" -w 1) # the successor
    echo "$(s_client "$p2" -servername a.test -sess_in "$AREA_DIR/$name.sess" | grep -o '^\(New\|Reused\)')" \
        >"$AREA_DIR/$name.result"
    stop_proxy $name >/dev/null
done
check_eq "tickets file: a new process resumes the sessions of the one before" \
    "$(cat "$AREA_DIR/tickets.result")" Reused
check_eq "tickets made by the process: its successor cannot (a full handshake)" \
    "$(cat "$AREA_DIR/ownkeys.result")" New
