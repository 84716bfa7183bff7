#!/bin/sh
# deps.sh [--bench]: installs from Debian's packages what rpx needs to build
# and test (with --bench, also what bench/ compares against), and does
# nothing when all of it is there. Run as root (or with sudo).
set -eu

# Build: compiler and runtime. Test: HTTP client and load tools, valgrind,
# clang for fuzzing and LeakSanitizer, chromium for the status page (a
# real browser loads it), groff to check the man pages.
PACKAGES="make gcc libc6-dev libcrypt-dev libhiredis-dev libnghttp2-dev nghttp2-client python3-hpack re2c lemon libev-dev zlib1g-dev libbrotli-dev android-libboringssl-dev
curl ca-certificates openssl procps python3 iproute2 valgrind strace clang libclang-rt-14-dev wrk
chromium groff-base slowhttptest redis-server"
# Bench: the proxies rpx is measured against (Varnish for cpu.sh -C, the
# cached hits), and h2load.
if [ "${1:-}" = --bench ]; then
    PACKAGES="$PACKAGES haproxy nginx-light nghttp2-client varnish"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# BoringSSL's static libraries, for proxies that need no BoringSSL where
# they run: built once from Debian's source package and cached.
static_boringssl() { "$(dirname "$0")/boringssl-static.sh"; }

[ -z "$missing" ] && { static_boringssl; exit 0; }

if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
static_boringssl
