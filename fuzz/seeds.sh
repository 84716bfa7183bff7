#!/usr/bin/env bash
# fuzz/seeds.sh: (re)writes the committed seed corpora fuzz/corpus/request,
# response, chunked, frontend and diff.
#
#   request   every request of the smuggling corpus tests/e2e/corpus/*.req,
#             as the raw bytes t_80_smuggling.sh sends (files over 8 KB, the
#             fuzzers' -max_len, are left out), plus a few valid heads
#   chunked   the body after the head of each of those requests that has
#             one, plus the hand-written bodies below
#   response  the hand-written responses below
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
    "$(ls "$out/chunked" | wc -l) chunked, $(ls "$out/frontend" | wc -l) frontend, $(ls "$out/diff" | wc -l) diff"
