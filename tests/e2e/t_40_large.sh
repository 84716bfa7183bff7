# t_40_large.sh: 1 GB bodies both ways, in both framings, streamed through
# the proxy's fixed buffers: the checksums agree on both sides and the
# proxy's peak memory stays small.

start_origin a >/dev/null
check "large-body policy compiles" build_proxy large '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy large -w 1)
alog=$(origin_log a)
G=1073741824

# The reference checksum, computed meanwhile.
gen_crc 1g >/dev/null &
gen_job=$!

# Download with Content-Length.
got=$(curl -sS --max-time "$T_LONG" "http://127.0.0.1:$p/bytes/1g" | "$ORIGIN" crc32)
wait "$gen_job"
want=$(gen_crc 1g)
check_eq "large: 1 GB download (Content-Length) arrives whole (len crc)" "$got" "$want"

# Download chunked.
got=$(curl -sS --max-time "$T_LONG" "http://127.0.0.1:$p/chunked/1g" | "$ORIGIN" crc32)
check_eq "large: 1 GB download (chunked) arrives whole (len crc)" "$got" "$want"

# Upload with Content-Length, streamed from a pipe (curl's own chunking is
# turned off by the explicit length).
got=$("$ORIGIN" gen 1g | curl -sS --max-time "$T_LONG" -H 'Transfer-Encoding:' \
    -H "Content-Length: $G" -T - "http://127.0.0.1:$p/echo")
check_eq "large: 1 GB upload (Content-Length) arrives whole at the origin (len crc)" "$got" "$want"
check_match "large: ... and the origin read it with Content-Length" \
    "$(grep "^a PUT /echo body=$G " "$alog" | head -n 1)" "Content-Length: $G"

# Upload chunked.
got=$("$ORIGIN" gen 1g | curl -sS --max-time "$T_LONG" -T - "http://127.0.0.1:$p/echo")
check_eq "large: 1 GB upload (chunked) arrives whole at the origin (len crc)" "$got" "$want"
check_match "large: ... and the origin read it chunked" \
    "$(grep "^a PUT /echo body=$G " "$alog" | tail -n 1)" "Transfer-Encoding: chunked"

# Four gigabytes went through; the proxy's peak resident set stays far
# below one body: it streams instead of buffering.
hwm=$(vm_hwm_kb "$(proxy_pid large)")
check "large: proxy peak RSS (VmHWM ${hwm:-?} kB) under $((HWM_LIMIT_KB / 1024)) MB" \
    test "${hwm:-999999999}" -lt "$HWM_LIMIT_KB"

check "proxy 'large' stops on SIGTERM with exit 0" stop_proxy large
