# t_12_build.sh: what `rpx build` makes. A proxy is one static, stripped
# binary that needs no shared library, carries no test data, says what it
# is (`--version`: the policy's hash, as `rpx explain` shows it) and is the
# same, byte for byte, when the same policy is built again. Environment
# mistakes (an unwritable output, a missing C compiler, a bad --cc-flag)
# exit 2 with the cause.

start_origin a >/dev/null
d=$AREA_DIR

check "a policy with tests builds" build_proxy site '
listen :8080
backend app { server a 127.0.0.1:@a@ }   # the backend
route path = "/health" { respond 200 "ok" }
route default { proxy app }
test "a test name that must stay out of the proxy" {
    request GET "/health"
    expect status 200
}'

if [ "$E2E_ASAN" = 1 ]; then
    # sanitizers need their shared runtime: such builds link dynamically
    check_match "a sanitized runtime builds a dynamic proxy" "$(file -L "$d/site")" 'dynamically linked'
    check_match "and --version says so" "$("$d/site" --version)" $'build: dynamic stripped'
else
    check_match "the proxy is statically linked and stripped" "$(file -L "$d/site")" \
        'statically linked.*stripped'
    check_match "ldd finds nothing to load" "$(LD_LIBRARY_PATH= ldd "$d/site" 2>&1)" \
        'not a dynamic executable'
    check_match "--version says static and stripped" "$("$d/site" --version)" \
        $'build: static stripped -O2'
fi

# It runs with nothing from the environment: no library path, no PATH.
port_file=$d/bare.port
env -i LD_LIBRARY_PATH= "$d/site" -q -w 1 --listen "127.0.0.1:0" --port-file "$port_file" \
    >"$d/bare.out" 2>&1 &
bare_pid=$!
wait_file "$port_file" 5 && bp=$(cat "$port_file")
check_eq "it serves with an empty environment" "$(hcurl "http://127.0.0.1:$bp/health")" ok
check_eq "and proxies" "$(hcurl "http://127.0.0.1:$bp/x")" "a GET /x"
kill "$bare_pid" 2>/dev/null
wait "$bare_pid" 2>/dev/null

check_eq "the test tables are not in the proxy" \
    "$(grep -c 'must stay out of the proxy' "$d/site")" 0

# The hash: the same in --version and in rpx explain; kept by layout and
# comments, changed by a change of meaning.
ver=$("$d/site" --version)
hash=$(sed -n 's/^policy: site.rp \(sha256:[0-9a-f]\{64\}\)$/\1/p' <<<"$ver")
check_match "--version names the policy and its hash" "$hash" '^sha256:[0-9a-f]{64}$'
check_match "--version names rpx's version" "$ver" $'^rpx proxy [0-9]+\\.[0-9]+\\.[0-9]+\n'
ex=$("$RPX" explain "$d/site.rp" GET /health | head -n 1)
check_eq "rpx explain shows the same hash" "${ex##* }" "$hash"
{
    echo "# the same policy, laid out differently"
    sed 's/#.*//; s/{ respond/{\n    respond/' "$d/site.rp"
    echo
} >"$d/relaid.rp"
ex=$("$RPX" explain "$d/relaid.rp" GET /health | head -n 1)
check_eq "layout and comments keep the hash" "${ex##* }" "$hash"
sed 's/respond 200 "ok"/respond 200 "ok!"/' "$d/site.rp" >"$d/changed.rp"
ex=$("$RPX" explain "$d/changed.rp" GET /health | head -n 1)
check "a changed string changes the hash" test "${ex##* }" != "$hash"

# Reproducible: built again (another temporary directory, another time),
# the same bytes; with --debug too.
# (A sanitized runtime is for tests: ASan's instrumentation embeds the
# generated file's temporary path, so those builds are not compared.)
(cd "$d" && "$RPX" build site.rp -o dbg1 --debug) >"$d/dbg.out" 2>&1
if [ "$E2E_ASAN" != 1 ]; then
    (cd "$d" && "$RPX" build site.rp -o site.again) >"$d/again.out" 2>&1
    check "the same policy builds to the same bytes" cmp "$d/site" "$d/site.again"
    (cd "$d" && sleep 1 && "$RPX" build site.rp -o dbg2 --debug) >>"$d/dbg.out" 2>&1
    check "--debug builds are reproducible too" cmp "$d/dbg1" "$d/dbg2"
fi
check_match "--debug keeps symbols" "$(file -L "$d/dbg1")" 'not stripped'
(cd "$d" && "$RPX" build site.rp -o dyn --dynamic) >"$d/dyn.out" 2>&1
check_match "--dynamic links shared libraries" "$(file -L "$d/dyn")" 'dynamically linked'
check_match "and --version says so" "$("$d/dyn" --version)" 'build: dynamic stripped -O2'

# Environment mistakes: exit 2 and the cause, never "internal error".
"$RPX" build "$d/site.rp" -o /nonexistent-dir/proxy >"$d/e1.out" 2>&1
check_eq "an unwritable output exits 2" "$?" 2
check_match "and names it" "$(cat "$d/e1.out")" "cannot write '/nonexistent-dir/proxy'"
CC=/nonexistent/cc "$RPX" build "$d/site.rp" -o "$d/nocc" >"$d/e2.out" 2>&1
check_eq "a missing C compiler exits 2" "$?" 2
check_match "and says which" "$(cat "$d/e2.out")" "cannot run the C compiler '/nonexistent/cc'"
"$RPX" build "$d/site.rp" -o "$d/badflag" --cc-flag=-fno-such-flag-at-all >"$d/e3.out" 2>&1
check_eq "a bad --cc-flag exits 2" "$?" 2
check_match "and points at the flag" "$(cat "$d/e3.out")" "with the --cc-flag given: -fno-such-flag-at-all"
mkdir -p "$d/outdir"
"$RPX" build "$d/site.rp" -o "$d/outdir" >"$d/e4.out" 2>&1
check_eq "an output that is a directory exits 2" "$?" 2
check_match "and says so" "$(cat "$d/e4.out")" "cannot write '.*outdir': it is a directory"
check "none of them says internal error" sh -c "! grep -q 'internal error' '$d/e1.out' '$d/e2.out' '$d/e3.out' '$d/e4.out'"

# Every command explains itself.
for c in check emit build test explain fmt diff; do
    out=$("$RPX" "$c" --help 2>&1)
    rc=$?
    check_match "rpx $c --help exits 0 with its synopsis" "$rc $out" "^0 usage: rpx $c "
done
check_match "rpx build --help names --dynamic and --debug" "$("$RPX" build --help)" \
    'dynamic.*debug'

# fmt -w rewrites in place, keeps the mode, and leaves a canonical file alone.
printf 'listen   :8080\nroute default {respond 200 "x"}   # a comment\n' >"$d/messy.rp"
chmod 640 "$d/messy.rp"
"$RPX" fmt -w "$d/messy.rp"
check_eq "fmt -w exits 0" "$?" 0
check "the rewritten file is canonical" "$RPX" fmt --check "$d/messy.rp"
check_eq "its content is what fmt prints" "$(cat "$d/messy.rp")" "$("$RPX" fmt "$d/messy.rp")"
check_eq "it keeps its mode" "$(stat -c %a "$d/messy.rp")" 640
touch -d '2001-01-01' "$d/messy.rp"
"$RPX" fmt -w "$d/messy.rp"
check_eq "a canonical file is not touched" "$(stat -c %Y "$d/messy.rp")" "$(date -d 2001-01-01 +%s)"
check_eq "no temporary file is left" "$(ls "$d" | grep -c 'rpx-fmt')" 0
printf 'listen :8080\nroute default {\n' >"$d/broken.rp"
cp "$d/broken.rp" "$d/broken.orig"
"$RPX" fmt -w "$d/broken.rp" >/dev/null 2>&1
check_eq "fmt -w on a policy with errors exits 1" "$?" 1
check "and leaves it as it was" cmp "$d/broken.rp" "$d/broken.orig"
