#!/usr/bin/env bash
# bench/testssl.sh: testssl.sh (Debian's package) against an rpx TLS
# listener with the default settings: an ECDSA P-256 and an RSA 2048 pair
# for the same name (90 days, issued here by the test root of tests/tls),
# nothing else set; std/security's headers and HSTS on the answers. Prints
# each finding rated LOW or worse and a count per severity, and keeps the
# whole report in bench/results/testssl-DATE.txt.
#
# The test certificate is not trusted by any public store, so testssl
# rates its chain of trust (and what follows from it) as a finding; those
# are listed apart and do not count. Exit status 1 when any other finding
# is rated HIGH or CRITICAL.
#
# usage: bench/testssl.sh [-O BUILD] [-o FILE]
#   -O BUILD   build folder with bin/rpx       (default build-bench)
#   -o FILE    results file (default bench/results/testssl-YYYYMMDD-HHMMSS.txt)
# About 3 minutes. Everything runs on 127.0.0.1; the proxy is stopped at exit.
set -u
cd "$(dirname "$0")/.." || exit 2
O=build-bench OUT=""
while getopts "O:o:h" o; do
    case $o in
    O) O=$OPTARG ;; o) OUT=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
die() { echo "testssl.sh: $*" >&2; exit 2; }
command -v testssl >/dev/null || die "testssl is missing (apt-get install testssl.sh)"
[ -x "$O/bin/rpx" ] || die "$O/bin/rpx is missing (make O=$O)"
OUT=${OUT:-bench/results/testssl-$(date +%Y%m%d-%H%M%S).txt}
RUN=$(mktemp -d /tmp/rpx-testssl.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM

# Pairs as a public CA would issue them (90 days, server auth), from the
# test root: ECDSA P-256 and RSA 2048 for a.test.
tls=$PWD/tests/tls
for kind in ec rsa; do
    if [ $kind = ec ]; then
        openssl ecparam -name prime256v1 -genkey -noout -out "$RUN/$kind.key" 2>/dev/null
    else
        openssl genrsa -out "$RUN/$kind.key" 2048 2>/dev/null
    fi
    openssl req -new -key "$RUN/$kind.key" -subj /CN=a.test -out "$RUN/$kind.csr"
    printf 'subjectAltName=DNS:a.test\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature%s\nextendedKeyUsage=serverAuth\n' \
        "$([ $kind = rsa ] && echo ,keyEncipherment)" >"$RUN/$kind.ext"
    openssl x509 -req -in "$RUN/$kind.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
        -CAserial "$RUN/ca.srl" -days 90 -sha256 -extfile "$RUN/$kind.ext" -out "$RUN/$kind.pem" 2>/dev/null ||
        die "cannot make the $kind certificate"
done
# The policy: TLS with its defaults; the security headers of std/security
# and HSTS, as a site would set them.
cat >"$RUN/tls.rp" <<EOF
listen 127.0.0.1:8443 tls {
    cert "$RUN/ec.pem" key "$RUN/ec.key"
    cert "$RUN/rsa.pem" key "$RUN/rsa.key"
}
import "std/security"
set response header Strict-Transport-Security "max-age=63072000"
route default { respond 200 "hello" }
EOF
"$O/bin/rpx" build "$RUN/tls.rp" -o "$RUN/proxy" >"$RUN/build.log" 2>&1 ||
    die "rpx build failed: $(tail -n 3 "$RUN/build.log")"
"$RUN/proxy" -w 1 -q --listen 127.0.0.1:0 --port-file "$RUN/port" 2>"$RUN/proxy.err" &
pid=$!
for _ in $(seq 1 50); do [ -s "$RUN/port" ] && break; sleep 0.1; done
port=$(cat "$RUN/port" 2>/dev/null) || die "the proxy did not start: $(cat "$RUN/proxy.err")"

# --ip one: only 127.0.0.1; a.test is the certificate's name. -U: all
# vulnerability checks, -p -s -S -P -h: protocols, cipher categories,
# certificates, preferences, headers.
testssl --quiet --color 0 --warnings off --ip 127.0.0.1 --csvfile "$RUN/findings.csv" \
    "a.test:$port" >"$RUN/report.txt" 2>&1
# The trust chain's findings: the test root is in no public store, and has
# no CRL or OCSP responder (revocation), nor a CAA record in any DNS.
trust='cert_chain_of_trust|cert_trust|cert_caIssuers|cert_crlDistributionPoints|cert_ocspURL|cert_revocation|OCSP_stapling|cert_mustStapleExtension|DNS_CAArecord|cert_extlifeSpan'
{
    echo "# bench/testssl.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# $(testssl --version 2>/dev/null | grep -m1 -o 'testssl.sh *[0-9][^ ]*' || echo testssl)"
    echo "# policy:"
    sed 's/^/#   /' "$RUN/tls.rp"
    echo "# findings rated LOW or worse (id, severity, finding):"
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); sev = $4; if (sev ~ /LOW|MEDIUM|HIGH|CRITICAL/) print "#   " $1 ", " sev ", " $5 }' \
        "$RUN/findings.csv"
    echo "# count per severity, the test root's trust findings apart:"
    awk -F'","' -v trust="$trust" 'NR > 1 { gsub(/"/, "", $1); if ($4 ~ /LOW|MEDIUM|HIGH|CRITICAL/) {
        if ($1 ~ "^(" trust ")") t[$4]++; else n[$4]++ } }
        END { for (s in n) printf "#   %s %d\n", s, n[s]; for (s in t) printf "#   %s %d (trust of the test root)\n", s, t[s] }' \
        "$RUN/findings.csv"
    echo
    cat "$RUN/report.txt"
} >"$OUT"
sed -n '/^# findings/,/^$/p' "$OUT"
echo "report: $OUT"
bad=$(awk -F'","' -v trust="$trust" 'NR > 1 { gsub(/"/, "", $1); if ($4 ~ /HIGH|CRITICAL/ && $1 !~ "^(" trust ")") n++ } END { print n + 0 }' "$RUN/findings.csv")
[ "$bad" = 0 ]
