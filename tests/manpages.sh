#!/usr/bin/env bash
# manpages.sh BUILD_DIR: checks the manual pages docs/rpx.1 and docs/rp.5.
#
# - groff -man -ww -z prints no warning for either page;
# - every example policy of docs/rp.5 (the lines between `.\" example-begin`
#   and `.\" example-end`, with the roff escapes \- and \e undone) passes
#   BUILD_DIR/bin/rpx check, so the page cannot drift from the compiler.
#
# Prints "ok N - ..." / "not ok N - ..." per check and ends with "N passed,
# N failed"; exits 1 on any failure. groff not being installed is a failure
# (tools/deps.sh installs it).
set -u
build=${1:?usage: tests/manpages.sh BUILD_DIR}
cd "$(dirname "$0")/.." || exit 2
case $build in /*) ;; *) build=$PWD/$build ;; esac
rpx=$build/bin/rpx
pages=(docs/rpx.1 docs/rp.5)

# shellcheck source=tests/tap.sh
. tests/tap.sh # (the repository root is the working directory)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpx-manpages.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# The pages format without a warning.
if ! command -v groff >/dev/null; then
    not_ok "groff is installed (run tools/deps.sh)"
else
    for p in "${pages[@]}"; do
        out=$(groff -man -ww -z "$p" 2>&1)
        rc=$?
        if [ "$rc" = 0 ] && [ -z "$out" ]; then
            ok "groff -man -ww -z $p: no warnings"
        else
            mapfile -t lines <<<"$out"
            not_ok "groff -man -ww -z $p: no warnings (exit $rc)" "${lines[@]}"
        fi
    done
fi

# The example policies of rp(5) compile. Each goes to $tmp/exampleN.rp;
# $tmp/exampleN.line holds the line of docs/rp.5 it starts on.
if ! [ -x "$rpx" ]; then
    not_ok "$rpx exists (build it first)"
    finish
fi
awk -v dir="$tmp" '
    /^\.\\" example-begin/ {
        if (f != "") { print "example-begin at line " NR " inside an example" > (dir "/error"); exit }
        k++
        f = dir "/example" k ".rp"
        print NR + 1 > (dir "/example" k ".line")
        printf "" > f
        next
    }
    /^\.\\" example-end/ {
        if (f == "") { print "example-end at line " NR " without a begin" > (dir "/error"); exit }
        close(f)
        f = ""
        next
    }
    f != "" {
        # Undo the roff escapes: \- is "-", \e is "\", \& is nothing.
        s = $0
        out = ""
        while ((i = index(s, "\\")) > 0) {
            out = out substr(s, 1, i - 1)
            c = substr(s, i + 1, 1)
            if (c == "-")
                out = out "-"
            else if (c == "e")
                out = out "\\"
            else if (c != "&")
                out = out "\\" c
            s = substr(s, i + 2)
        }
        print out s > f
    }
    END { if (f != "") print "example at line " (NR) " has no example-end" > (dir "/error") }
' docs/rp.5
if [ -s "$tmp/error" ]; then
    not_ok "docs/rp.5: example markers pair up" "$(cat "$tmp/error")"
fi
count=0
for f in "$tmp"/example*.rp; do
    [ -e "$f" ] || continue
    count=$((count + 1))
done
if [ "$count" = 0 ]; then
    not_ok "docs/rp.5 has example policies (between .\\\" example-begin and .\\\" example-end)"
    finish
fi
for k in $(seq 1 "$count"); do
    f=$tmp/example$k.rp
    line=$(cat "$tmp/example$k.line")
    if out=$("$rpx" check "$f" 2>&1); then
        ok "rpx check: example $k of docs/rp.5 (line $line)"
    else
        # Diagnostics name the extracted file: point them into the page.
        mapfile -t lines < <(awk -v f="$f:" -v base="$line" '
            index($0, f) == 1 {
                rest = substr($0, length(f) + 1)
                if (match(rest, /^[0-9]+/)) {
                    l = substr(rest, 1, RLENGTH)
                    $0 = "docs/rp.5:" (base + l - 1) substr(rest, RLENGTH + 1)
                }
            }
            { print }' <<<"$out")
        not_ok "rpx check: example $k of docs/rp.5 (line $line)" "${lines[@]}"
    fi
done
finish
