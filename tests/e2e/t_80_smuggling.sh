# t_80_smuggling.sh: the corpus of smuggling attempts and malformed requests
# (tests/e2e/corpus/*.req), each sent in one write over a raw socket. Each
# must get the status its file names and a closed connection, and must not
# reach the backend: the origin logs every request it parses and, with
# --raw, every byte it reads, so "not one byte arrived" is checked, not
# guessed. Where a file says the request (or the first of a pipelined pair)
# is valid, exactly that many requests reach the origin, and none of them is
# one a client smuggled in (their targets all contain SMUGGLED).
#
# A corpus file:
#   # expect: 400          statuses of the responses, in order; a|b for either
#   # backend: 0           requests the origin may log
#   # why: ...             the rule it breaks
#   # xfail: NOTE          optional: a known gap of the proxy (see lib.sh xfail)
#   GET / HTTP/1.1\r\n     the bytes, printf %b escapes, {TEXT*N} repeats

corpus=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/corpus
start_origin a --raw >/dev/null
check "smuggling policy compiles" build_proxy smuggle '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy smuggle -w 1)
d=$AREA_DIR
alog=$(origin_log a)
araw=$(origin_raw a)

# want_re "400|501 200": an ERE for statuses() output.
want_re()
{
    local t re=""
    for t in $1; do
        re+="${re:+ }($t)"
    done
    echo "^$re\$"
}

# reached NAME WANT BEFORE_LINES BEFORE_BYTES: what reached the origin while
# case NAME ran is WANT parsed requests, none smuggled, and (for WANT 0) not
# a single byte.
reached()
{
    local want=$1 lines=$2 bytes=$3 now_lines now_bytes smuggled status=0
    now_lines=$(wc -l <"$alog")
    now_bytes=$(wc -c <"$araw")
    if [ -n "${RPX_CHAOS_SEED:-}" ]; then
        # The chaos transport hands the proxy the request in pieces, so a
        # valid head may go on before its bad body arrives (the split case
        # below): the origin may see it begin, but its body must end broken.
        now_lines=$((lines + $(tail -n +"$((lines + 1))" "$alog" | grep -vc ' body=ERR ')))
        now_bytes=$bytes
    fi
    if [ $((now_lines - lines)) != "$want" ]; then
        echo "the origin logged $((now_lines - lines)) requests, want $want:"
        tail -n +"$((lines + 1))" "$alog" | cut -c1-240
        status=1
    fi
    smuggled=$(tail -n +"$((lines + 1))" "$alog" | grep -E '^a [^ ]+ [^ ]*SMUGGLED')
    if [ -n "$smuggled" ]; then
        echo "a smuggled request reached the origin:"
        echo "$smuggled" | cut -c1-240
        status=1
    fi
    if [ "$want" = 0 ] && [ "$now_bytes" != "$bytes" ]; then
        echo "$((now_bytes - bytes)) raw log bytes: the origin read part of it:"
        tail -c +"$((bytes + 1))" "$araw" | cut -c1-240
        status=1
    fi
    return $status
}

n_cases=0
for f in "$corpus"/*.req; do
    name=$(basename "$f" .req)
    expect=$(corpus_meta expect "$f")
    backend=$(corpus_meta backend "$f")
    why=$(corpus_meta why "$f")
    note=$(corpus_meta xfail "$f")
    lines=$(wc -l <"$alog")
    bytes=$(wc -c <"$araw")
    raw_request "$p" "$(corpus_bytes "$f")" $((3 * SCALE)) >"$d/$name.resp"
    rc=$?
    got="$(statuses "$d/$name.resp") rc=$rc"
    n_cases=$((n_cases + 1))
    if [ -n "$note" ]; then
        xfail "$note" check_match "corpus $name: $expect, connection closed ($why)" "$got" \
            "$(want_re "$expect" | sed 's/\$$//') rc=0\$"
    else
        check_match "corpus $name: $expect, connection closed ($why)" "$got" \
            "$(want_re "$expect" | sed 's/\$$//') rc=0\$"
    fi
    # Reaching the backend is never an accepted gap: no xfail here.
    check "corpus $name: $backend request(s) reached the backend, nothing smuggled" \
        reached "$backend" "$lines" "$bytes"
done
check "the corpus has cases ($n_cases)" test "$n_cases" -ge 60

# The bad chunked bodies again, with the body in a second write 0.2 s after
# the head: by then the proxy has sent the valid head on, so the origin may
# see that request begin, but its body must end broken (the origin logs
# body=ERR, or nothing), the client gets a 400 and a close, and the smuggled
# request never arrives.
for f in "$corpus"/chunk-*.req; do
    name=$(basename "$f" .req)
    [ "$(corpus_meta backend "$f")" = 0 ] || continue
    bytes=$(corpus_bytes "$f")
    head=${bytes%%\\r\\n\\r\\n*}\\r\\n\\r\\n
    body=${bytes#"$head"}
    lines=$(wc -l <"$alog")
    if conn_open fd "$p"; then
        conn_send "$fd" "$head"
        sleep 0.2
        conn_send "$fd" "$body"
        timeout $((3 * SCALE)) cat <&"$fd" >"$d/$name.split.resp"
        rc=$?
        conn_close "$fd"
    fi
    check_eq "corpus $name, body in a second write: 400 and closed" \
        "$(statuses "$d/$name.split.resp") rc=$rc" "400 rc=0"
    new=$(tail -n +"$((lines + 1))" "$alog" | grep -v ' body=ERR ')
    check_eq "corpus $name, body in a second write: no complete request reached the backend" \
        "$(echo "$new" | cut -c1-200)" ""
done

# Absolute form wins over Host (RFC 9112 3.2.2): the origin got exactly one
# Host, the target's authority, and nothing of the client's Host.
abs=$(grep -F ' /c-abs ' "$alog" | head -n 1)
check_match "absolute-form: the origin's Host is the target's authority" "$abs" \
    'Host: good\.example\\r\\n'
check "absolute-form: the client's differing Host was not forwarded" \
    test -n "$abs" -a -z "$(grep -F ' /c-abs ' "$alog" | grep -F evil.example)"

# After all that, the proxy still serves, and stops cleanly.
check_eq "smuggling: the proxy still serves afterwards" "$(hcurl "http://127.0.0.1:$p/after")" "a GET /after"
check "proxy 'smuggle' stops on SIGTERM with exit 0" stop_proxy smuggle
