#!/bin/sh
# fuzz/build.sh [BUILD_DIR [TARGET...]]: builds libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined; any sanitizer report aborts) into
# BUILD_DIR/fuzz/fuzz_TARGET. BUILD_DIR defaults to build; the targets
# (fuzz/README.md says what each checks) default to all of them:
#
#   request    rp_http1_parse_request    (runtime/http1.re)
#   response   rp_http1_parse_response   (runtime/http1.re)
#   chunked    rp_chunked_scan           (runtime/chunked.c)
#   frontend   the policy compiler's front end (compiler/, dsl/)
#   diff       rpx diff over two policies split from one input
#   identity   PROXY headers, path normalization, X-Forwarded-For, Accept-Encoding
#   cache      Cache-Control, HTTP-dates, preconditions, Vary, Range, freshness
#              (runtime/cache_rfc.c)
#   auth       Basic credentials and JSON Web Tokens (runtime/auth.c, jwt.c)
#
# The re2c and Lemon outputs they need are made through the Makefile, so
# nothing else has to be built first. fuzz/run.sh runs the targets;
# CLANG=clang-14 picks another compiler.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
targets=${*:-request response chunked frontend diff identity cache auth h2body}
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}

out=$build/fuzz
mkdir -p "$out"
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
    -Wall -Wextra -Wno-unused-parameter -Iruntime -Iruntime/include"

# TLS (tls.c, the one file with BoringSSL's headers) and what it needs: the
# request values (match.c) and the compiler's certificate checks reach it.
ssl_lib=/var/cache/rpx/boringssl/lib
if [ -f "$ssl_lib/libssl.a" ]; then
    ssl_libs="$ssl_lib/libssl.a $ssl_lib/libcrypto.a -lpthread"
else
    ssl_libs="-L/usr/lib/x86_64-linux-gnu/android -Wl,-rpath,/usr/lib/x86_64-linux-gnu/android -lssl -lcrypto -lpthread"
fi
tls="runtime/tls.c runtime/transport.c runtime/log.c runtime/sock.c -isystem /usr/include/android $ssl_libs"

# gen FILE...: brings generated sources up to date with the Makefile's rules.
gen() { make -s O="$build" "$@"; }
runtime_gen="$(ls runtime/*.re | sed "s|^runtime/\(.*\)\.re$|$build/gen/runtime/\1.c|")
$(ls runtime/*.html | sed "s|^runtime/\(.*\)\.html$|$build/gen/runtime/\1_html.c|")"

for t in $targets; do
    case $t in
    request | response)
        gen "$build/gen/runtime/http1.c"
        src="fuzz/fuzz_$t.c $build/gen/runtime/http1.c"
        extra=
        ;;
    chunked)
        src="fuzz/fuzz_chunked.c runtime/chunked.c"
        extra=
        ;;
    identity)
        gen "$build/gen/runtime/http1.c"
        src="fuzz/fuzz_identity.c runtime/proxyproto.c runtime/forward.c runtime/match.c runtime/json.c
            runtime/reqview.c runtime/compress.c runtime/edit.c runtime/filter.c runtime/buf.c
            $build/gen/runtime/http1.c $tls"
        extra="-lz -lbrotlienc"
        ;;
    h2body)
        # What the HTTP/2 modules do with HTTP/1.1 bytes (no session is made).
        gen "$build/gen/runtime/http1.c"
        src="fuzz/fuzz_h2body.c runtime/h2fields.c runtime/bytes.c runtime/chunked.c
            runtime/transport.c runtime/sock.c runtime/log.c $build/gen/runtime/http1.c"
        extra="-lnghttp2"
        ;;
    cache)
        # cache_rfc.c is pure: no I/O, no clock, nothing else linked in.
        src="fuzz/fuzz_cache.c runtime/cache_rfc.c"
        extra=
        ;;
    auth)
        gen "$build/gen/runtime/http1.c"
        src="fuzz/fuzz_auth.c runtime/auth.c runtime/base64.c runtime/jwt.c runtime/json.c runtime/hash.c runtime/match.c
            runtime/reqview.c $build/gen/runtime/http1.c $tls"
        extra="-lcrypt"
        ;;
    frontend | diff)
        # The compiler shares the runtime's predicates, matcher and regex VM
        # (explain, diff, test), so the whole runtime but its main() links in.
        gen "$build/gen/dsl/lexer.c" "$build/gen/dsl/grammar.c" $runtime_gen
        src="fuzz/fuzz_$t.c $(ls compiler/*.c | grep -v compiler/main.c)"
        src="$src $build/gen/dsl/lexer.c $build/gen/dsl/grammar.c"
        src="$src $(ls runtime/*.c | grep -v -e runtime/main.c -e runtime/tls.c -e runtime/transport.c -e runtime/log.c -e runtime/sock.c) $runtime_gen $tls"
        extra="-Icompiler -Idsl -I$build/gen/dsl -DRPX_VERSION=\"fuzz\" -isystem /usr/include/android -lev -lnghttp2 -lz -lbrotlienc -lbrotlicommon -lcrypt -lhiredis -lm"
        ;;
    *)
        echo "build.sh: unknown target '$t' (request, response, chunked, frontend, diff, identity, cache, auth, h2body)" >&2
        exit 2
        ;;
    esac
    # shellcheck disable=SC2086 # word splitting of the lists is wanted
    "$CLANG" $flags $extra $src -o "$out/fuzz_$t"
    echo "built $out/fuzz_$t"
done
