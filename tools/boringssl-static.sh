#!/bin/sh
# boringssl-static.sh [CACHE_DIR]: builds static libssl.a and libcrypto.a of
# Debian's BoringSSL (source package of android-libboringssl-dev), from the
# same source version as the installed headers in /usr/include/android, and
# installs them to CACHE_DIR/lib (default /var/cache/rpx/boringssl/lib).
# Does nothing when that directory already holds them for the installed
# version. Needs root (or sudo) when it has to build: it installs build tools,
# adds a deb-src entry for the Debian archive if there is none and runs
# apt-get source. Link with:
#   -I/usr/include/android ... CACHE_DIR/lib/libssl.a CACHE_DIR/lib/libcrypto.a -lpthread
set -eu

CACHE_DIR=${1:-/var/cache/rpx/boringssl}
LIB_DIR=$CACHE_DIR/lib
STAMP=$LIB_DIR/stamp
DEV_PKG=android-libboringssl-dev
# Bump when the way the archives are built changes, to force a rebuild.
RECIPE=2
ME=boringssl-static.sh

die() { echo "$ME: $*" >&2; exit 1; }

# "<source package> <source version> <arch> recipe=N" of the installed
# headers, or nothing when android-libboringssl-dev is not installed.
wanted() {
    dpkg-query -W -f='${Status}|${source:Package} ${source:Version} ${Architecture}\n' \
        "$DEV_PKG" 2>/dev/null | sed -n "s/^install ok installed|\(.*\)/\1 recipe=$RECIPE/p"
}

is_cached() {
    [ -n "$WANT" ] && [ -s "$LIB_DIR/libssl.a" ] && [ -s "$LIB_DIR/libcrypto.a" ] &&
        [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]
}

WANT=$(wanted)
is_cached && exit 0

# ---- from here on we (re)build ---------------------------------------------

if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$LIB_DIR" 2>/dev/null || $SUDO mkdir -p "$LIB_DIR"

# One build at a time; whoever waited finds the cache filled.
if command -v flock >/dev/null 2>&1 && [ -w "$LIB_DIR" ]; then
    exec 9>"$LIB_DIR/.lock"
    flock 9
    is_cached && exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/boringssl-static.XXXXXX")
LOG=$TMP/build.log
: >"$LOG"
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
        echo "$ME: failed (exit $rc); last lines of the log:" >&2
        tail -n 40 "$LOG" >&2
    fi
    cd /
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run CMD...: runs a command with its output going to the log.
run() {
    echo "+ $*" >>"$LOG"
    "$@" >>"$LOG" 2>&1
}

UPDATED=
apt_update() {
    [ -n "$UPDATED" ] && return 0
    run $SUDO apt-get update -q || die "apt-get update failed"
    UPDATED=1
}

# Build tools (and the headers, if missing). No cmake/perl/go: the package
# ships pre-generated err_data.c, assembly and file lists (debian/sources.mk).
TOOLS="$DEV_PKG dpkg-dev make gcc g++ binutils xz-utils"
missing=
for p in $TOOLS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "$ME: installing:$missing" >&2
    apt_update
    # shellcheck disable=SC2086
    run $SUDO apt-get install -y -q --no-install-recommends $missing ||
        die "could not install:$missing"
fi
WANT=$(wanted)
[ -n "$WANT" ] || die "$DEV_PKG is not installed"
# shellcheck disable=SC2086
set -- $WANT
SRC_PKG=$1 SRC_VER=$2 ARCH=$3

case $ARCH in
    amd64|x32) ASM=linux_x86_64_sources ;;
    i386|hurd-i386) ASM=linux_x86_sources ;;
    arm64) ASM=linux_aarch64_sources ;;
    armel|armhf) ASM=linux_arm_sources ;;
    ppc64el) ASM=linux_ppc64le_sources ;;
    *) ASM=none ;;   # generic C code (OPENSSL_NO_ASM)
esac

has_source() {
    apt-cache showsrc --only-source "$SRC_PKG" 2>/dev/null | grep -qx "Version: $SRC_VER"
}

# Writes deb-src twins of the apt entries that serve Debian's own archive
# (same mirror, suites, components and Signed-By) to sources.list.d/rpx-deb-src.*
# shellcheck disable=SC2016
add_deb_src() {
    apt-get indextargets --format '$(ORIGIN)|$(TARGET_OF)|$(SOURCESENTRY)' 'Created-By: Packages' |
        awk -F'|' '$1 == "Debian" && $2 == "deb" { print $3 }' | sort -u >"$TMP/entries"
    [ -s "$TMP/entries" ] || die "found no apt entry for the Debian archive to add a deb-src entry for"
    : >"$TMP/src.sources"
    : >"$TMP/src.list"
    while IFS= read -r entry; do
        file=${entry%:*} n=${entry##*:}
        case $file in
            *.sources)  # deb822: n-th stanza, with Types: deb-src
                awk -v n="$n" '
                    /^[ \t]*$/ { if (inp) { inp = 0; k++ } ; next }
                    /^#/ { next }
                    { inp = 1 }
                    k == n - 1 { if (tolower($1) == "types:") print "Types: deb-src"; else print }
                ' "$file" >>"$TMP/src.sources"
                echo >>"$TMP/src.sources" ;;
            *)          # one-line format: n-th line
                sed -n "${n}s/^\([[:space:]]*\)deb\([[:space:]]\)/\1deb-src\2/p" "$file" >>"$TMP/src.list" ;;
        esac
    done <"$TMP/entries"
    for ext in sources list; do
        if [ -s "$TMP/src.$ext" ]; then
            dest=/etc/apt/sources.list.d/rpx-deb-src.$ext
            { echo "# Added by rpx tools/$ME (for apt-get source $SRC_PKG)."; cat "$TMP/src.$ext"; } |
                $SUDO tee "$dest" >/dev/null
            echo "$ME: added deb-src entries in $dest" >&2
            # Fetch only the new indexes, not every configured repository.
            run $SUDO apt-get update -q -o Dir::Etc::sourcelist="$dest" \
                -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 ||
                die "apt-get update of $dest failed"
        fi
    done
}

if ! has_source; then
    # shellcheck disable=SC2016
    if apt-get indextargets --format '$(CREATED_BY)' | grep -qx Sources; then
        apt_update   # deb-src is configured; its index may be stale
    else
        add_deb_src
    fi
    has_source || die "apt has no source for $SRC_PKG $SRC_VER (is $DEV_PKG up to date?)"
fi

echo "$ME: building static BoringSSL $SRC_VER (a few minutes; log: $LOG)" >&2
START=$(date +%s)
chmod 755 "$TMP"
cd "$TMP"
run apt-get source --download-only --only-source "$SRC_PKG=$SRC_VER" ||
    die "apt-get source $SRC_PKG=$SRC_VER failed"
run dpkg-source -x "${SRC_PKG}_$(echo "$SRC_VER" | sed 's/^[0-9]*://').dsc" src ||
    die "dpkg-source -x failed"
[ -f src/debian/sources.mk ] || die "src/debian/sources.mk missing: packaging changed?"

# Same compiler as debian/rules (clang when available) and Debian's flags
# (hardening=+all, -O2, -fPIC, debian/rules' CPPFLAGS, the .mk files' CFLAGS),
# without debug info, and without BORINGSSL_SHARED_LIBRARY: symbols stay
# hidden (-fvisibility=hidden), which is fine for static linking. libssl is
# C++ built the upstream way (-fno-exceptions -fno-rtti), so linking it needs
# no C++ runtime.
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
    CC=clang CXX=clang++
else
    CC=gcc CXX=g++
fi
flags() {
    DEB_BUILD_MAINT_OPTIONS="hardening=+all optimize=-lto" dpkg-buildflags --get "$1" |
        sed 's/\(^\| \)-g\( \|$\)/ /g'
}
# Not -DOPENSSL_SMALL, which Debian (as Android) builds with to save space:
# it drops the P-256 assembly (nistz256) and the large X25519 and P-256
# tables, which makes each handshake's key exchange and signature several
# times slower. A proxy's handshakes are worth the 100 KB.
CPPFLAGS="$(flags CPPFLAGS) -DNDEBUG -UDEBUG -DBORINGSSL_ANDROID_SYSTEM -DBORINGSSL_IMPLEMENTATION"
[ "$ASM" = none ] && CPPFLAGS="$CPPFLAGS -DOPENSSL_NO_ASM"
COMMON="-fPIC -fno-strict-aliasing -fvisibility=hidden -ffunction-sections -fdata-sections -w"
CFLAGS="$(flags CFLAGS) $COMMON -std=gnu11 -Wa,--noexecstack"
CXXFLAGS="$(flags CXXFLAGS) $COMMON -std=gnu++2a -fno-exceptions -fno-rtti"

# The package's own file lists, through a makefile of our own (the package's
# debian/lib*.mk link shared objects).
cat >"$TMP/static.mk" <<'EOF'
.RECIPEPREFIX = >
include debian/sources.mk
CRYPTO_SRC := $(crypto_sources) $(if $(filter none,$(ASM)),,$($(ASM)))
CRYPTO_OBJ := $(patsubst %.S,%.o,$(CRYPTO_SRC:.c=.o))
SSL_OBJ := $(ssl_sources:.cc=.o)
all: libcrypto.a libssl.a
libcrypto.a: $(CRYPTO_OBJ)
> rm -f $@ && ar qcD $@ $^ && ranlib -D $@
libssl.a: $(SSL_OBJ)
> rm -f $@ && ar qcD $@ $^ && ranlib -D $@
$(filter %.o,$(CRYPTO_SRC:.c=.o)): %.o: %.c
> $(CC) $(CPPFLAGS) -Isrc/crypto -Isrc/include $(CFLAGS) -c -o $@ $<
$(filter %.o,$(patsubst %.S,%.o,$(filter %.S,$(CRYPTO_SRC)))): %.o: %.S
> $(CC) $(CPPFLAGS) -Isrc/crypto -Isrc/include $(CFLAGS) -c -o $@ $<
$(SSL_OBJ): %.o: %.cc
> $(CXX) $(CPPFLAGS) -Isrc/include $(CXXFLAGS) -c -o $@ $<
EOF
JOBS=$(nproc 2>/dev/null || echo 2)
run make -C src -f "$TMP/static.mk" -j"$JOBS" ASM="$ASM" CC="$CC" CXX="$CXX" \
    CPPFLAGS="$CPPFLAGS" CFLAGS="$CFLAGS" CXXFLAGS="$CXXFLAGS" ||
    die "build failed"

# Smoke test before caching: a C program linked statically against them.
cat >"$TMP/t.c" <<'EOF'
#include <openssl/ssl.h>
int main(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) return 1;
    SSL_CTX_free(ctx);
    return 0;
}
EOF
run gcc -I/usr/include/android -o "$TMP/t" "$TMP/t.c" src/libssl.a src/libcrypto.a -lpthread ||
    die "test program does not link"
run "$TMP/t" || die "test program fails"

# Install: archives first (atomically), stamp last.
for lib in libssl.a libcrypto.a; do
    $SUDO install -m 644 "src/$lib" "$LIB_DIR/.$lib.new"
    $SUDO mv -f "$LIB_DIR/.$lib.new" "$LIB_DIR/$lib"
done
echo "$WANT" | $SUDO tee "$STAMP.new" >/dev/null
$SUDO mv -f "$STAMP.new" "$STAMP"
echo "$ME: built in $(( $(date +%s) - START ))s" >&2
echo "BoringSSL $SRC_VER static libraries: $LIB_DIR/libssl.a $LIB_DIR/libcrypto.a"
