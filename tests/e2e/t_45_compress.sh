# t_45_compress.sh: `compress gzip`: responses in every framing come out
# gzip-coded for clients that take it and inflate to the origin's bytes;
# heads say so (Content-Encoding, Vary, weak ETag, chunked); what must not be
# compressed is not; HEAD, HTTP/1.0, keep-alive and a trickling server work.

start_origin a >/dev/null
check "compress policy compiles" build_proxy compress '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route path "/plain/" { proxy app }
route path "/bytes/77" { compress gzip { types ["application/json"] }; proxy app }
route path "/raw/identity" { compress gzip { types ["application/json"] }; proxy app }
route path "/slowbody/" { compress gzip { min 1 }; proxy app }
route default { compress gzip { min 100; level 6 }; proxy app }'
p=$(start_proxy compress -w 1)
u="http://127.0.0.1:$p"
gz=(-H 'Accept-Encoding: gzip')

# inflated URL [curl options]: the body, un-gzipped, as "LEN CRC".
inflated() { hcurl "${gz[@]}" "$@" | gzip -dc | "$ORIGIN" crc32; }

# Every framing the server can use, up to a few buffers and more.
for n in 100 5000 70000 1m; do
    want=$(gen_crc "$n")
    check_eq "compress: /bytes/$n (Content-Length) inflates to the origin's bytes" \
        "$(inflated "$u/bytes/$n")" "$want"
    check_eq "compress: /chunked/$n (chunked, extensions, trailers) inflates whole" \
        "$(inflated "$u/chunked/$n")" "$want"
    check_eq "compress: /close/$n (until close) inflates whole" "$(inflated "$u/close/$n")" "$want"
done

# A long stream in constant memory: 100 MB chunked through gzip, checked
# whole by inflating it, with the proxy's peak memory barely moving.
pid=$(proxy_pid compress)
hwm0=$(vm_hwm_kb "$pid")
check_eq "compress: a 100 MB chunked stream inflates to the origin's bytes" \
    "$(curl -sS --max-time $((60 * SCALE)) "${gz[@]}" "$u/chunked/100m" | gzip -dc | "$ORIGIN" crc32)" \
    "$(gen_crc 100m)"
grown=$((($(vm_hwm_kb "$pid") - hwm0) / 1024))
check "compress: ... in constant memory (peak grew $grown MB, < 16)" test "$grown" -lt 16

# It really is smaller: the pattern compresses well.
size=$(hcurl "${gz[@]}" -o /dev/null -w '%{size_download}' "$u/bytes/1m")
check "compress: 1 MB of pattern goes as $size bytes (< 100 KB)" test "${size:-999999999}" -lt 102400

head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/bytes/5000" | tr -d '\r')
check_match "compress: Content-Encoding: gzip" "$head" $'\nContent-Encoding: gzip'
check_match "compress: ... Vary: Accept-Encoding" "$head" $'\nVary: Accept-Encoding'
check_match "compress: ... re-framed chunked" "$head" $'\nTransfer-Encoding: chunked'
check "compress: ... and no Content-Length of the plain body" \
    bash -c "! grep -qi '^content-length' <<<'$head'"

# A client without Accept-Encoding gets the body as it is, with its length,
# and Vary still tells caches the answer depends on it.
head=$(hcurl -D - -o /dev/null "$u/bytes/5000" | tr -d '\r')
check_match "compress: no Accept-Encoding: plain, Content-Length kept" "$head" $'\nContent-Length: 5000'
check_match "compress: ... with Vary: Accept-Encoding" "$head" $'\nVary: Accept-Encoding'
check "compress: ... and no Content-Encoding" bash -c "! grep -qi '^content-encoding' <<<'$head'"
head=$(hcurl -H 'Accept-Encoding: gzip;q=0, br' -D - -o /dev/null "$u/bytes/5000" | tr -d '\r')
check "compress: gzip;q=0 is a refusal" bash -c "! grep -qi '^content-encoding' <<<'$head'"
check_eq "compress: Accept-Encoding: * takes gzip" \
    "$(hcurl -H 'Accept-Encoding: *' "$u/bytes/5000" | gzip -dc | "$ORIGIN" crc32)" "$(gen_crc 5000)"

# Routes without compress, or whose types do not match, are untouched.
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/plain/x" | tr -d '\r')
check "compress: a route without compress adds nothing" \
    bash -c "! grep -qiE '^(content-encoding|vary)' <<<'$head'"
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/bytes/7700" | tr -d '\r')
check "compress: text/plain on a route for application/json is left alone" \
    bash -c "! grep -qiE '^(content-encoding|vary)' <<<'$head'"
check_match "compress: application/json on that route is compressed" \
    "$(hcurl "${gz[@]}" -D - -o /dev/null "$u/raw/identity" | tr -d '\r')" \
    $'\nContent-Encoding: gzip'

# Validators and ranges of the plain body do not pass for the coded one.
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/raw/etag" | tr -d '\r')
check_match "compress: a strong ETag becomes weak" "$head" $'\nETag: W/"v1"'
check_match "compress: the server's Vary is kept" "$head" $'\nVary: Cookie'
check_match "compress: ... and Accept-Encoding added" "$head" $'\nVary: Accept-Encoding'
check "compress: Accept-Ranges is dropped" bash -c "! grep -qi '^accept-ranges' <<<'$head'"
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/raw/weaketag" | tr -d '\r')
check_eq "compress: Vary naming Accept-Encoding already is not repeated" \
    "$(grep -ci '^vary' <<<"$head")" 1
check_match "compress: a weak ETag stays" "$head" $'\nETag: W/"v2"'
check_eq "compress: the canned HTML inflates to its 512 bytes" \
    "$(hcurl "${gz[@]}" "$u/raw/etag" | gzip -dc | wc -c)" 512
check_eq "compress: a chunked HTML body with an extension and a trailer inflates" \
    "$(hcurl "${gz[@]}" "$u/raw/chunkedhtml" | gzip -dc)" "hello, world"

# What must not be compressed goes as it came.
for what in coded:br notransform:- png:- small:-; do
    name=${what%%:*} enc=${what#*:}
    head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/raw/$name" | tr -d '\r')
    if [ "$enc" = - ]; then
        check "compress: /raw/$name is not compressed" \
            bash -c "! grep -qi '^content-encoding' <<<'$head'"
    else
        check_match "compress: /raw/$name keeps its own coding" "$head" $'\nContent-Encoding: '"$enc"
    fi
    check_match "compress: ... and its Content-Length" "$head" $'\nContent-Length: '
done
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/status/404" | tr -d '\r')
check "compress: a 404 of 11 bytes (under min 100) is not compressed" \
    bash -c "! grep -qi '^content-encoding' <<<'$head'"
head=$(hcurl "${gz[@]}" -D - -o /dev/null "$u/status/304" | tr -d '\r')
check "compress: a 304 is not touched" bash -c "! grep -qiE '^(content-encoding|vary)' <<<'$head'"

# HEAD: the head GET would get, no body; the connection goes on.
out=$(hcurl "${gz[@]}" -I "$u/bytes/5000" "$u/bytes/5000" -w 'connects=%{num_connects}\n' | tr -d '\r')
check_match "compress: HEAD says Content-Encoding: gzip" "$out" $'\nContent-Encoding: gzip'
check "compress: ... without a Content-Length" bash -c "! grep -qi '^content-length' <<<'$out'"
check_match "compress: ... and the next request reuses the connection" "$out" 'connects=0'

# Keep-alive: a compressed response ends cleanly, and the next request on
# the connection is served.
out=$(hcurl "${gz[@]}" -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
    "$u/chunked/70000" "$u/bytes/100")
check_eq "compress: two compressed responses on one connection" "$out" $'200 1\n200 0'

# HTTP/1.0: no chunked framing, so the coded body ends with the connection.
head=$(hcurl -0 "${gz[@]}" -D "$AREA_DIR/h10" "$u/bytes/70000" | gzip -dc | "$ORIGIN" crc32)
check_eq "compress: an HTTP/1.0 client gets the body whole" "$head" "$(gen_crc 70000)"
check_match "compress: ... until the close" "$(tr -d '\r' <"$AREA_DIR/h10")" $'\nConnection: close'
check "compress: ... not chunked" bash -c "! grep -qi '^transfer-encoding' '$AREA_DIR/h10'"

# A server that sends slowly: what it sent reaches the client before it
# is done (a sync flush when its bytes stop), not all at the end.
python3 - "$p" >"$AREA_DIR/trickle" 2>&1 <<'EOF'
import socket, sys, zlib
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /slowbody/8 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, rest = buf.split(b"\r\n\r\n", 1)
d = zlib.decompressobj(16 + 15)
# Chunked framing: read chunk by chunk and count the reads that gave text.
raw, plain, readings = rest, b"", 0
while True:
    while b"\r\n" not in raw:
        raw += s.recv(4096)
    line, raw = raw.split(b"\r\n", 1)
    size = int(line.split(b";")[0], 16)
    if size == 0:
        break
    while len(raw) < size + 2:
        raw += s.recv(4096)
    out = d.decompress(raw[:size])
    raw = raw[size + 2:]
    if out:
        readings += 1
        plain += out
print(len(plain), readings)
EOF
read -r tl tr <"$AREA_DIR/trickle"
check_eq "compress: a trickled body arrives whole" "$tl" 8
check "compress: ... in pieces as the server sends them ($tr pieces of text)" test "${tr:-0}" -ge 3

check "proxy 'compress' stops on SIGTERM with exit 0" stop_proxy compress

# br beside gzip: the client's preference by weight, br on a tie.
check "brotli policy compiles" build_proxy compress_br '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { compress gzip br; proxy app }'
p=$(start_proxy compress_br -w 1)
u="http://127.0.0.1:$p"
for n in 5000 1m; do
    check_eq "br: /chunked/$n decodes to the origin's bytes" \
        "$(hcurl --compressed -H 'Accept-Encoding: br' "$u/chunked/$n" | "$ORIGIN" crc32)" "$(gen_crc "$n")"
done
enc() { hcurl -D - -o /dev/null -H "Accept-Encoding: $1" "$u/bytes/5000" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "content-encoding" { print $2 }'; }
check_eq "br: gzip, br (a tie) gets br" "$(enc 'gzip, br')" br
check_eq "br: gzip;q=1, br;q=0.5 gets gzip" "$(enc 'gzip;q=1, br;q=0.5')" gzip
check_eq "br: br alone gets br" "$(enc br)" br
check_eq "br: the HTTP/1.0 close-delimited body decodes too" \
    "$(hcurl -0 --compressed -H 'Accept-Encoding: br' "$u/bytes/70000" | "$ORIGIN" crc32)" "$(gen_crc 70000)"
size=$(hcurl -H 'Accept-Encoding: br' -o /dev/null -w '%{size_download}' "$u/bytes/1m")
check "br: 1 MB of pattern goes as $size bytes (< 20 KB)" test "${size:-999999999}" -lt 20480
check "proxy 'compress_br' stops on SIGTERM with exit 0" stop_proxy compress_br
