#!/bin/sh
# golden.sh: pins the compiler's output.
#
#   tests/golden.sh BUILD_DIR                  compare
#   GOLDEN_UPDATE=1 tests/golden.sh BUILD_DIR  rewrite the expected files
#
# - examples/NAME.rp     -> tests/golden/examples/NAME.c  (rpx emit, byte for byte)
# - tests/golden/NAME.rp -> tests/golden/NAME.c
#   and every expected .c must compile under the project's warnings.
# - tests/errors/NAME.rp -> tests/errors/NAME.stderr (rpx check, exit status 1);
#   tests/errors/NAME.args, if present, holds extra arguments (e.g. --Werror).
#
# - every examples/*.rp and tests/golden/*.rp with test blocks: `rpx test`
#   passes (the tests run against the generated decision code).
# - every examples/*.rp and tests/golden/*.rp: `rpx explain` agrees with the
#   compiled decision (explain --all-as-tests writes, for the requests of its
#   tests and one request per route, tests expecting what explain decides;
#   they are appended to a copy of the policy and run by `rpx test`).
# - every examples/*.rp and tests/golden/*.rp: `rpx fmt --check` passes
#   (except tests/golden/keywords.rp, on purpose), fmt of fmt is fmt, and the
#   formatted policy emits the same C byte for byte.
# - every ```rp example of docs/language.md passes `rpx check` (one without
#   a `listen` gets one, and the backends and acls of the reference's
#   running example that it uses but does not define).
#
# Runs from the repository root so file names in the output are relative.
# Prints "ok - NAME" or "not ok - NAME" with a diff, then "N passed, N failed".
set -u

build=${1:?usage: tests/golden.sh BUILD_DIR}
cd "$(dirname "$0")/.." || exit 2
case $build in /*) ;; *) build=$PWD/$build ;; esac
rpx=$build/bin/rpx
[ -x "$rpx" ] || { echo "golden.sh: $rpx not found; build it first" >&2; exit 2; }
root=$PWD
cc=${CC:-cc}
warn="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2"
update=${GOLDEN_UPDATE:-0}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpx-golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
# Copies of tests/golden/*.rp in $tmp/NAME/ find the test PKI as ../tls.
ln -s "$root/tests/tls" "$tmp/tls"
ln -s "$root/tests/auth" "$tmp/auth"
ln -s "$root/tests/lists" "$tmp/lists"

passed=0
failed=0
pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1"; failed=$((failed + 1)); }

# compare NAME GOT WANT: pass, update, or fail with a diff
compare() {
    if [ "$update" = 1 ]; then
        if ! cmp -s "$2" "$3"; then
            mkdir -p "$(dirname "$3")" && cp "$2" "$3" && echo "# updated $3"
        fi
        pass "$1"
    elif [ -f "$3" ] && cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1"
        if [ -f "$3" ]; then
            diff -u "$3" "$2" | sed 's/^/# /'
        else
            echo "# missing $3 (run with GOLDEN_UPDATE=1 to create it)"
        fi
    fi
}

emit_case() { # NAME RP EXPECTED_C
    out=$tmp/emit
    rm -rf "$out"
    if ! "$rpx" emit "$2" -o "$out" 2>"$tmp/emit.err"; then
        fail "$1"
        sed 's/^/# /' "$tmp/emit.err"
        return
    fi
    base=$(basename "$2" .rp)
    # Files the proxy reads at run time (TLS certificates) are named by
    # absolute paths: the checkout's own directory is written @ROOT@.
    sed -i "s|$root/|@ROOT@/|g" "$out/$base.c"
    compare "$1" "$out/$base.c" "$3"
    if [ -f "$3" ]; then
        if "$cc" $warn -Iruntime/include -c "$3" -o "$tmp/golden.o" 2>"$tmp/cc.err"; then
            pass "$1 (compiles)"
        else
            fail "$1 (compiles)"
            sed 's/^/# /' "$tmp/cc.err"
        fi
    fi
}

for f in examples/*.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .rp)
    emit_case "examples/$name" "$f" "tests/golden/examples/$name.c"
done

for f in tests/golden/*.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .rp)
    emit_case "golden/$name" "$f" "tests/golden/$name.c"
done

for f in examples/*.rp tests/golden/*.rp; do
    [ -f "$f" ] || continue
    grep -q '^test ' "$f" || continue
    if "$rpx" test "$f" >"$tmp/test.out" 2>&1; then
        pass "test $f"
    else
        fail "test $f"
        sed 's/^/# /' "$tmp/test.out"
    fi
done

for f in examples/*.rp tests/golden/*.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .rp)
    # explain against the compiled decision (the copy lives in $tmp, so a
    # policy importing files relative to itself cannot be checked this way)
    mkdir -p "$tmp/explain"
    if "$rpx" explain "$f" --all-as-tests >"$tmp/explain.tests" 2>"$tmp/explain.err" &&
        cat "$f" "$tmp/explain.tests" >"$tmp/explain/$name.rp" &&
        "$rpx" test "$tmp/explain/$name.rp" >"$tmp/explain.out" 2>&1; then
        pass "explain $f ($(grep -c '^test ' "$tmp/explain.tests") requests)"
    else
        fail "explain $f"
        sed 's/^/# /' "$tmp/explain.err" "$tmp/explain.out" | grep -v '^# ok ' | head -40
    fi
    # fmt: canonical, idempotent, same C
    "$rpx" fmt "$f" >"$tmp/fmt1.rp" 2>"$tmp/fmt.err" || { fail "fmt $f"; sed 's/^/# /' "$tmp/fmt.err"; continue; }
    "$rpx" fmt "$tmp/fmt1.rp" >"$tmp/fmt2.rp" 2>>"$tmp/fmt.err"
    if ! cmp -s "$tmp/fmt1.rp" "$tmp/fmt2.rp"; then
        fail "fmt $f (not idempotent)"
        diff -u "$tmp/fmt1.rp" "$tmp/fmt2.rp" | sed 's/^/# /'
        continue
    fi
    if [ "$f" != tests/golden/keywords.rp ] && ! "$rpx" fmt --check "$f" 2>/dev/null; then
        fail "fmt $f (not canonical)"
        diff -u "$f" "$tmp/fmt1.rp" | sed 's/^/# /'
        continue
    fi
    mkdir -p "$tmp/fmt" && cp "$tmp/fmt1.rp" "$tmp/fmt/$name.rp"
    rm -rf "$tmp/emit-a" "$tmp/emit-b"
    if "$rpx" emit "$f" -o "$tmp/emit-a" 2>/dev/null &&
        "$rpx" emit "$tmp/fmt/$name.rp" -o "$tmp/emit-b" 2>/dev/null &&
        cmp -s "$tmp/emit-a/$name.c" "$tmp/emit-b/$name.c"; then
        pass "fmt $f"
    else
        fail "fmt $f (the formatted policy emits other C)"
        diff -u "$tmp/emit-a/$name.c" "$tmp/emit-b/$name.c" 2>&1 | head -20 | sed 's/^/# /'
    fi
done

# docs/language.md examples; their certificates are the test PKI's.
mkdir -p "$tmp/docs/certs"
for pair in site:a site-rsa:a-rsa other:b wild:wild; do
    ln -s "$root/tests/tls/${pair#*:}.pem" "$tmp/docs/certs/${pair%%:*}.pem"
    ln -s "$root/tests/tls/${pair#*:}.key" "$tmp/docs/certs/${pair%%:*}.key"
done
ln -s "$root/tests/tls/ca.pem" "$tmp/docs/certs/clients-ca.pem"
ln -s "$root/tests/tls/ca.pem" "$tmp/docs/certs/internal-ca.pem"
awk -v dir="$tmp/docs" '
    /^```rp$/ { n++; out = sprintf("%s/example%02d.rp", dir, n); inblock = 1; printf "" > out; next }
    /^```/ && inblock { inblock = 0; close(out); next }
    inblock { print >> out }
' docs/language.md
for f in "$tmp"/docs/example*.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .rp)
    {
        grep -q '^listen' "$f" || echo 'listen :8080'
        for b in api www app; do
            grep -q "proxy $b\b" "$f" && ! grep -q "^backend $b " "$f" &&
                echo "backend $b { server a 127.0.0.1:9001 }"
        done
        grep -qw internal "$f" && ! grep -q '^acl internal ' "$f" &&
            echo 'acl internal = client.ip in [127.0.0.0/8, 10.0.0.0/8]'
        grep -qw writes "$f" && ! grep -q '^acl writes ' "$f" &&
            echo 'acl writes = req.method in [POST, PUT, PATCH, DELETE]'
        grep -qw token "$f" && ! grep -q '^acl token ' "$f" &&
            echo 'acl token = req.header["Authorization"] ^= "Bearer "'
        cat "$f"
    } >"$tmp/docs/full-$name.rp"
    if "$rpx" check "$tmp/docs/full-$name.rp" >"$tmp/docs.out" 2>&1; then
        pass "docs/language.md $name"
    else
        fail "docs/language.md $name"
        sed 's/^/# /' "$tmp/docs.out" "$f"
    fi
done

# rpx diff over pairs of policies: the report as recorded, exit 0 only when
# it finds nothing; and each example it gives is, per `rpx explain` (which
# shows every route and decides with the full trace), answered differently
# by the two policies.
for f in tests/diff/*.old.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .old.rp)
    new=tests/diff/$name.new.rp
    "$rpx" diff "$f" "$new" >"$tmp/diff.out" 2>"$tmp/diff.err"
    status=$?
    want=1
    grep -q '^no request is decided differently' "$tmp/diff.out" && want=0
    if [ "$status" -ne "$want" ]; then
        fail "diff/$name (exit status $status, want $want)"
        sed 's/^/# /' "$tmp/diff.err"
        continue
    fi
    compare "diff/$name" "$tmp/diff.out" "tests/diff/$name.out"
    bad=0 n=0
    grep -E '^[0-9]+\. ' "$tmp/diff.out" | sed 's/^[0-9]*\. //' >"$tmp/diff.examples"
    while IFS= read -r line; do
        n=$((n + 1))
        eval "set -- $line"
        # the answers may name the route's line: compare without it
        "$rpx" explain "$f" "$@" 2>&1 | grep -E '^(answer|then):' |
            sed 's/ (route [0-9]*, [^)]*)//; s/ ([^()]*\.rp:[0-9]*)$//' >"$tmp/diff.a"
        "$rpx" explain "$new" "$@" 2>&1 | grep -E '^(answer|then):' |
            sed 's/ (route [0-9]*, [^)]*)//; s/ ([^()]*\.rp:[0-9]*)$//' >"$tmp/diff.b"
        if cmp -s "$tmp/diff.a" "$tmp/diff.b"; then
            bad=$((bad + 1))
            echo "# explain gives the same answer to: $line"
        fi
    done <"$tmp/diff.examples"
    if [ "$bad" -eq 0 ]; then
        pass "diff/$name: explain confirms its $n example(s)"
    else
        fail "diff/$name: explain contradicts $bad of $n example(s)"
    fi
done

for f in tests/errors/*.rp; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .rp)
    args=
    [ -f "tests/errors/$name.args" ] && args=$(cat "tests/errors/$name.args")
    # shellcheck disable=SC2086 # args holds several words on purpose
    "$rpx" check "$f" $args >"$tmp/check.out" 2>"$tmp/check.err"
    status=$?
    if [ "$status" -ne 1 ]; then
        fail "errors/$name (exit status $status, want 1)"
        sed 's/^/# /' "$tmp/check.err"
        continue
    fi
    if [ -s "$tmp/check.out" ]; then
        fail "errors/$name (wrote to stdout)"
        continue
    fi
    compare "errors/$name" "$tmp/check.err" "tests/errors/$name.stderr"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
