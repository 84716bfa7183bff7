#!/usr/bin/env bash
# fuzz/seeds.sh: (re)writes the committed seed corpora fuzz/corpus/request,
# response, chunked, cache, frontend and diff.
#
#   request   every request of the smuggling corpus tests/e2e/corpus/*.req,
#             as the raw bytes t_80_smuggling.sh sends (files over 8 KB, the
#             fuzzers' -max_len, are left out), plus a few valid heads
#   chunked   the body after the head of each of those requests that has
#             one, plus the hand-written bodies below
#   response  the hand-written responses below
#   cache     the hand-written inputs below, a few per subject of
#             fuzz_cache.c (its header says the format)
#
# Run it after changing tests/e2e/corpus or the lists below, and commit the
# result. The working corpora the fuzzers grow live in BUILD/fuzz/corpus/.
set -eu
cd "$(dirname "$0")/.."
# The one definition of the corpus file format: lib.sh's corpus_bytes.
# shellcheck disable=SC1090
source <(sed -n '/^corpus_bytes()/,/^}/p' tests/e2e/lib.sh)

out=fuzz/corpus
rm -rf "$out/request" "$out/response" "$out/chunked"
mkdir -p "$out/request" "$out/response" "$out/chunked"

for f in tests/e2e/corpus/*.req; do
    name=$(basename "$f" .req)
    raw=$out/request/$name
    printf '%b' "$(corpus_bytes "$f")" >"$raw"
    if [ "$(wc -c <"$raw")" -gt 8192 ]; then
        rm -f "$raw"
        continue
    fi
    # The body: what follows the first CRLF CRLF, if anything.
    perl -0777 -ne 'print $1 if /\r\n\r\n(.+)/s' "$raw" >"$out/chunked/$name"
    [ -s "$out/chunked/$name" ] || rm -f "$out/chunked/$name"
done

# seed DIR NAME BYTES: one hand-written seed (BYTES as printf %b).
seed() { printf '%b' "$3" >"$out/$1/$2"; }

seed request get-minimal 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'
seed request http10 'GET /a?b HTTP/1.0\r\n\r\n'
seed request absolute 'GET http://example.com:8080?q=1 HTTP/1.1\r\nHost: \r\n\r\n'
seed request connect 'CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n'
seed request options 'OPTIONS * HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n'
seed request upgrade 'GET /ws HTTP/1.1\r\nHost: h:80\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n'
seed request cl-list 'PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3 , 3\r\nContent-Length: 3\r\n\r\nabc'
seed request leading-crlf '\r\n\r\nDELETE /x HTTP/1.1\r\nhost:h\r\nconnection:close\r\n\r\n'

seed response ok-length 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello'
seed response chunked 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'
seed response te-close 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'
seed response close-delimited 'HTTP/1.0 200\r\nConnection: close\r\n\r\n'
seed response no-content 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'
seed response not-modified 'HTTP/1.1 304 \r\nETag: "x"\r\nContent-Length: 100\r\n\r\n'
seed response continue 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'
seed response switching 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'
seed response obs-text 'HTTP/1.1 404 Nicht \xfcberall\r\nX-Empty:\r\nX-Tab:\tv\t\r\nContent-Length: 1, 1\r\n\r\n'
seed response keep-alive 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n'
seed response cl-te 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
seed response bare-lf 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'

seed chunked simple '5\r\nhello\r\n0\r\n\r\n'
seed chunked multi 'a\r\n0123456789\r\nA\r\n0123456789\r\n1\r\nx\r\n000\r\n\r\n'
seed chunked ext '5;name=value;flag ; q="a b"\r\nhello\r\n0;last\r\n\r\n'
seed chunked bws '5 ;x\r\nhello\r\n0\t;y\r\n\r\n'
seed chunked trailers '3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\nZ: a\tb \x80\r\n\r\n'
seed chunked pipelined '1\r\nz\r\n0\r\n\r\nGET / HTTP/1.1\r\n'
seed chunked data-crlf '4\r\n\r\n\0\n\r\n0\r\n\r\n'
seed chunked big-size '7fffffffffffffff\r\nabc'
seed chunked overflow '8000000000000000\r\n'
seed chunked bare-lf '5\nhello\r\n0\r\n\r\n'
# A size line of exactly RP_CHUNKED_MAX_LINE (4096) bytes, then one of 4097.
seed chunked long-line "$(printf '%04095d' 0)1\r\nx\r\n0\r\n\r\n"
seed chunked too-long-line "1;$(printf '%04095d' 0)\r\nx\r\n0\r\n\r\n"

# cache: a subject byte (0 Cache-Control, 1 date, 2 preconditions, 3 Vary,
# 4 Range, 5 storing and reuse), the numbers, then NUL-separated fields; for
# 3 and 5 an empty segment (two NULs) ends the first head. \x00 rather than
# \0, which would read the digits after it as octal.
rm -rf "$out/cache"
mkdir -p "$out/cache"
z='\x00'
seed cache cc-basic "\x00${z}Cache-Control: max-age=60, public${z}Cache-Control: s-maxage=30"
seed cache cc-quoted "\x00${z}Cache-Control: no-cache=\"Set-Cookie, X\", max-age=\"10\", private=x"
seed cache cc-invalid "\x00${z}cache-control: max-age=abc, max-age=5, max-stale, min-fresh=2147483649999"
seed cache cc-rfc5861 "\x00${z}Cache-Control: stale-while-revalidate=30, stale-if-error=600, immutable, must-understand, no-store"
seed cache cc-escape "\x00${z}Cache-Control: ext=\"a\\\\\"b, c\", must-revalidate${z}Cache-Control: proxy-revalidate,no-transform , only-if-cached"
seed cache cc-pragma "\x00${z}Pragma: no-cache${z}Cache-Control:"
seed cache cc-conflict "\x00${z}Cache-Control: max-age=5${z}CACHE-CONTROL: MAX-AGE=6, max-stale=1, max-stale"
seed cache date-imf '\x01Sun, 06 Nov 1994 08:49:37 GMT'
seed cache date-rfc850 '\x01Sunday, 06-Nov-94 08:49:37 GMT'
seed cache date-asctime '\x01Sun Nov  6 08:49:37 1994'
seed cache date-asctime2 '\x01thu feb 29 12:00:00 2024'
seed cache date-last '\x01Fri, 31 Dec 9999 23:59:59 GMT'
seed cache date-epoch '\x01thu, 01 jan 1970 00:00:00 gmt'
seed cache date-leap '\x01Sat, 31 Dec 2016 23:59:60 GMT'
seed cache date-feb29 '\x01Tuesday, 29-Feb-00 12:00:00 GMT'
seed cache date-not-leap '\x01Mon, 29 Feb 2100 00:00:00 GMT'
seed cache date-numbers '\x01784111777 253402300800'
seed cache date-extremes '\x01-9223372036854775808 9223372036854775807'
seed cache cond-inm "\x02784111777${z}ETag: \"abc\"${z}If-None-Match: W/\"abc\", \"x\""
seed cache cond-if-match "\x02784111777${z}ETag: W/\"abc\"${z}If-Match: \"abc\"${z}If-None-Match: *"
seed cache cond-ims "\x02784111777${z}If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"
seed cache cond-ius "\x02784111778${z}If-Unmodified-Since: Sunday, 06-Nov-94 08:49:37 GMT"
seed cache cond-star "\x02784111778${z}If-Unmodified-Since: Sun Nov  6 08:49:37 1994${z}If-Match: *"
seed cache cond-no-date "\x02-1${z}If-Modified-Since: Sun Nov  6 08:49:37 1994${z}If-None-Match: \"a\",,W/\"b\""
seed cache vary-basic "\x0364${z}Vary: Accept-Encoding, User-Agent${z}${z}accept-encoding: gzip , br${z}Accept-Encoding: zstd${z}User-Agent: x"
seed cache vary-quoted "\x034096${z}Vary: cookie${z}vary: X-Absent, *${z}${z}Cookie: a=\"1,2\" ,b${z}X-Other:"
seed cache vary-small "\x035${z}Vary: Accept${z}${z}Accept: text/html, */*;q=0.1"
seed cache range-list "\x041000 784111777${z}Range: bytes=0-99, 200-, -50"
seed cache range-merge "\x04100${z}Range: bytes=50-59, 0-9, 55-70, 10-10,-5"
seed cache range-max "\x04100${z}Range: bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,1-15"
seed cache range-if-range "\x041000${z}ETag: \"v1\"${z}If-Range: \"v1\"${z}Range: bytes=5-"
seed cache range-if-date "\x041000 784111777${z}If-Range: Sun, 06 Nov 1994 08:49:37 GMT${z}Range: BYTES=-0, 999-"
seed cache range-empty "\x040${z}Range: bytes=-5"
seed cache range-huge "\x04-1${z}Range: bytes=18446744073709551615-, 99999999999999999999-1"
seed cache store-max-age "\x05200 0 1000 1002 1500 5000 86400 0 0${z}${z}Date: Thu, 01 Jan 1970 00:16:40 GMT${z}Cache-Control: max-age=600${z}Age: 5"
seed cache store-heuristic "\x05200 0 784111777 784111778 784200000 790000000 86400 60 600${z}Cache-Control: max-stale=100, min-fresh=5${z}${z}Date: Sun, 06 Nov 1994 08:49:37 GMT${z}Last-Modified: Thu, 06 Oct 1994 08:49:37 GMT"
seed cache store-expires "\x05404 0 784111777 784111777 784112000 784116000 0 0 0${z}Authorization: x${z}${z}Expires: Sun, 06 Nov 1994 09:49:37 GMT${z}Date: Sun, 06 Nov 1994 08:49:37 GMT${z}Cache-Control: public"
seed cache store-stale "\x05200 0 100 101 150 200 0 0 0${z}Cache-Control: max-age=0, stale-if-error=50${z}${z}Cache-Control: max-age=1, stale-while-revalidate=60, stale-if-error=3600, must-understand, no-store"
seed cache store-vary-star "\x05200 0 0 0 0 0 0 0 0${z}${z}Vary: accept, *${z}Cache-Control: s-maxage=5"
seed cache store-head "\x05200 1 0 0 0 0 0 0 0${z}${z}Cache-Control: s-maxage=5, private"
seed cache store-extremes "\x05299 0 -9223372036854775808 9223372036854775807 -5 9223372036854775807 9223372036854775807 1 1 -9223372036854775808 2147483648 9223372036854775807${z}Pragma: no-cache${z}${z}Age: 99999999999, 1"

# The compiler's targets: every golden policy for frontend; for diff, each
# pair in tests/diff as "OLD\n====\nNEW" and each golden policy alone
# (compared with itself).
rm -rf "$out/frontend" "$out/diff"
mkdir -p "$out/frontend" "$out/diff"
for f in tests/golden/*.rp examples/*.rp; do
    name=$(basename "$f" .rp)
    cp "$f" "$out/frontend/$name"
    cp "$f" "$out/diff/$name"
done
for f in tests/diff/*.old.rp; do
    name=$(basename "$f" .old.rp)
    { cat "$f"; printf '\n====\n'; cat "${f%.old.rp}.new.rp"; } >"$out/diff/pair-$name"
done
echo "seeds: $(ls "$out/request" | wc -l) request, $(ls "$out/response" | wc -l) response," \
    "$(ls "$out/chunked" | wc -l) chunked, $(ls "$out/cache" | wc -l) cache," \
    "$(ls "$out/frontend" | wc -l) frontend, $(ls "$out/diff" | wc -l) diff"
