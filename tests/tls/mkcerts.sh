#!/bin/sh
# mkcerts.sh [DIR]: makes the test PKI the TLS tests and golden files use
# (DIR defaults to this script's directory). The files are committed, so
# this runs only to change them: every certificate is valid for a century,
# except expired.pem (2020) and what tests make themselves (one that
# expires within days). Keys are for tests only.
set -eu
dir=${1:-$(dirname "$0")}
cd "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=36500

ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null
       openssl pkcs8 -topk8 -nocrypt -in "$1" -out "$1.p8" && mv "$1.p8" "$1"; }
rsa() { openssl genrsa -out "$1" 2048 2>/dev/null; }

# A CA: NAME SUBJECT [ISSUER]
ca() {
    ec "$1.key"
    printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$work/ca.ext"
    if [ -z "${3:-}" ]; then
        openssl req -x509 -new -key "$1.key" -subj "$2" -days $days -sha256 \
            -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
            -out "$1.pem"
    else
        openssl req -new -key "$1.key" -subj "$2" -out "$work/$1.csr"
        openssl x509 -req -in "$work/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
            -days $days -sha256 -extfile "$work/ca.ext" -out "$1.pem" 2>/dev/null
    fi
}

# A leaf: NAME KEYTYPE SUBJECT SAN ISSUER EXT [START END]
leaf() {
    $2 "$1.key"
    openssl req -new -key "$1.key" -subj "$3" -out "$work/$1.csr"
    printf 'subjectAltName=%s\nbasicConstraints=CA:false\nextendedKeyUsage=%s\n' "$4" "$6" >"$work/$1.ext"
    if [ -n "${7:-}" ]; then
        # A fixed validity (an expired certificate): through `openssl ca`.
        mkdir -p "$work/db" && : >"$work/db/index" && echo 01 >"$work/db/serial"
        cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $work/db/index
serial = $work/db/serial
new_certs_dir = $work/db
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
CNF
        openssl ca -batch -config "$work/ca.cnf" -cert "$5.pem" -keyfile "$5.key" \
            -startdate "$7" -enddate "$8" -extfile "$work/$1.ext" -in "$work/$1.csr" \
            -out "$1.pem" -notext 2>/dev/null
    else
        openssl x509 -req -in "$work/$1.csr" -CA "$5.pem" -CAkey "$5.key" -CAcreateserial \
            -days $days -sha256 -extfile "$work/$1.ext" -out "$1.pem" 2>/dev/null
    fi
}

ca ca "/O=rpx tests/CN=rpx test root"
ca int "/O=rpx tests/CN=rpx test intermediate" ca
ca other-ca "/O=someone else/CN=another root"
srv=serverAuth
leaf a ec "/CN=a.test" "DNS:a.test,DNS:www.a.test" int $srv
leaf a-rsa rsa "/CN=a.test" "DNS:a.test,DNS:www.a.test" int $srv
leaf b ec "/CN=b.test" "DNS:b.test" int $srv
leaf wild ec "/CN=*.c.test" "DNS:*.c.test" int $srv
leaf origin ec "/CN=origin.test" "DNS:origin.test,DNS:localhost,IP:127.0.0.1" ca $srv
leaf expired ec "/CN=old.test" "DNS:old.test" ca $srv 20200101000000Z 20210101000000Z
leaf client ec "/O=Example/CN=alice" "email:alice@example.test,URI:spiffe://example.test/alice" ca clientAuth
leaf stranger ec "/O=Example/CN=mallory" "email:mallory@example.test" other-ca clientAuth
# Chains: the leaf, then its issuer; and one the wrong way round.
for n in a a-rsa b wild; do cat int.pem >>"$n.pem"; done
openssl x509 -in a.pem >bad-chain.pem && cat other-ca.pem >>bad-chain.pem
cp a.key bad-chain.key
rm -f ./*.srl
echo "made the test PKI in $(pwd)"
