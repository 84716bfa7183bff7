# tap.sh: the checks' output of the shell suites, sourced (fuzz.sh,
# manpages.sh): "ok N - WHAT" or "not ok N - WHAT" with "#   " detail
# lines, and a last line "N passed, N failed" that tests/run.sh sums.
n=0 passed=0 failed=0
ok()
{
    n=$((n + 1)) passed=$((passed + 1))
    echo "ok $n - $1"
}
# not_ok WHAT [DETAIL...]
not_ok()
{
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    local l
    for l in "$@"; do
        printf '#   %s\n' "$l"
    done
}
# finish: the summary line, and exit 1 on any failure
finish()
{
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
