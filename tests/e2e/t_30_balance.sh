# t_30_balance.sh: smooth weighted round robin across a backend's servers.

start_origin a >/dev/null
start_origin b >/dev/null
check "weighted backend policy compiles" build_proxy wrr '
listen :8080
backend app {
    balance round_robin
    server a 127.0.0.1:@a@
    server b 127.0.0.1:@b@ weight 2
}
route default { proxy app }'
p=$(start_proxy wrr -w 1)
d=$AREA_DIR

# With one worker, 300 requests to servers of weight 1 and 2 split exactly
# 100/200 (smooth WRR has no randomness, and a full cycle is 3 requests).
hcurl --max-time $((20 * SCALE)) "http://127.0.0.1:$p/w/[1-300]" >"$d/wrr.out"
na=$(count_lines '^a GET /w/' "$(origin_log a)")
nb=$(count_lines '^b GET /w/' "$(origin_log b)")
check_eq "balance: 300 requests to weights 1:2 give a=100 b=200" "a=$na b=$nb" "a=100 b=200"

# Smooth means interleaved: b never gets more than two in a row, a never two
# in a row (the bodies say who answered, in request order).
seq=$(grep -oE '[ab] GET /w/' "$d/wrr.out" | cut -c1 | tr -d '\n')
smooth()
{
    [ ${#seq} -eq 300 ] && [[ $seq != *aa* && $seq != *bbb* ]] && return 0
    echo "${#seq} answers: ${seq:0:60}..."
    return 1
}
check "balance: the order is smooth (no aa, no bbb) over 300 answers" smooth

check "proxy 'wrr' stops on SIGTERM with exit 0" stop_proxy wrr
