# rpx: the policy compiler (rpx) and the runtime it links proxies against (librpx.a).
#
#   make                         build into $(O) (default: build)
#   make test                    unit, golden, diagnostics and end-to-end tests
#   make O=build-asan SANITIZE=address,undefined test
#   make golden-update           rewrite expected generated C and diagnostics
#   make install PREFIX=/usr/local DESTDIR=
#
# The build tree mirrors the installed layout, so `rpx build` finds its runtime
# the same way in both: bin/rpx, lib/rpx/librpx.a, lib/rpx/include/rp/*.h and
# lib/rpx/link.flags (how a proxy must be linked against this librpx.a).

O        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
RE2C     ?= re2c
LEMON    ?= lemon
LEMPAR   ?= /usr/share/lemon/lempar.c
SANITIZE ?=
V        ?= 0

VERSION  := 0.1.0

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CSTD     := -std=c11 -D_GNU_SOURCE -DRPX_VERSION='"$(VERSION)"'
OPT      ?= -O2 -g
SANFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
CFLAGS_ALL  = $(CSTD) $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
# BoringSSL: Debian's headers (android-libboringssl-dev); its static
# libraries when tools/boringssl-static.sh has built them (a proxy that
# needs no BoringSSL on the machine it runs on), else the shared ones.
BORINGSSL_INC    ?= /usr/include/android
BORINGSSL_STATIC ?= /var/cache/rpx/boringssl/lib
BORINGSSL_SHARED ?= /usr/lib/x86_64-linux-gnu/android
ifneq ($(wildcard $(BORINGSSL_STATIC)/libssl.a),)
BORINGSSL_LIBS := $(BORINGSSL_STATIC)/libssl.a $(BORINGSSL_STATIC)/libcrypto.a
else
BORINGSSL_LIBS := -L$(BORINGSSL_SHARED) -Wl,-rpath,$(BORINGSSL_SHARED) -lssl -lcrypto
endif
RUNTIME_LIBS := -lev -lnghttp2 -lz -lbrotlienc -lbrotlicommon $(BORINGSSL_LIBS) -lcrypt -lhiredis -lpthread -lm

ifeq ($(V),0)
Q = @
say = @printf '  %-7s %s\n' $(1) $(2);
else
Q =
say =
endif

# ---- sources ---------------------------------------------------------------
COMPILER_SRC := $(sort $(wildcard compiler/*.c))
RUNTIME_SRC  := $(sort $(wildcard runtime/*.c))
RUNTIME_RE   := $(sort $(wildcard runtime/*.re))
RUNTIME_HTML := $(sort $(wildcard runtime/*.html))
RUNTIME_HDR  := $(sort $(wildcard runtime/include/rp/*.h))
UNIT_SRC     := $(sort $(wildcard tests/unit/*.c))

GEN_LEXER    := $(O)/gen/dsl/lexer.c
GEN_GRAMMAR  := $(O)/gen/dsl/grammar.c
GEN_RUNTIME  := $(patsubst runtime/%.re,$(O)/gen/runtime/%.c,$(RUNTIME_RE)) \
                $(patsubst runtime/%.html,$(O)/gen/runtime/%_html.c,$(RUNTIME_HTML))

COMPILER_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(COMPILER_SRC)) \
                $(O)/obj/gen/dsl/lexer.o $(O)/obj/gen/dsl/grammar.o
RUNTIME_OBJ  := $(patsubst %.c,$(O)/obj/%.o,$(RUNTIME_SRC)) \
                $(patsubst $(O)/gen/runtime/%.c,$(O)/obj/gen/runtime/%.o,$(GEN_RUNTIME))
UNIT_OBJ     := $(patsubst %.c,$(O)/obj/%.o,$(UNIT_SRC))

RPX          := $(O)/bin/rpx
LIBRPX       := $(O)/lib/rpx/librpx.a
LINKFLAGS    := $(O)/lib/rpx/link.flags
HDR_OUT      := $(patsubst runtime/include/rp/%,$(O)/lib/rpx/include/rp/%,$(RUNTIME_HDR))
STD_OUT      := $(patsubst stdlib/%,$(O)/lib/rpx/std/%,$(wildcard stdlib/*.rp))
UNIT_BIN     := $(O)/tests/unit
ORIGIN_BIN   := $(O)/tests/origin

.PHONY: all test check golden-update install clean run
# Keep generated sources (re2c, Lemon output): they are intermediate files to
# make, which would otherwise delete them after each build.
.SECONDARY:
all: $(RPX) $(LIBRPX) $(HDR_OUT) $(LINKFLAGS) $(STD_OUT) $(UNIT_BIN) $(ORIGIN_BIN)

# ---- generated front end -----------------------------------------------------
$(O)/gen/dsl/lexer.c: dsl/lexer.re
	@mkdir -p $(@D)
	$(call say,RE2C,$<)$(RE2C) -W -Werror --no-generation-date --no-version -o $@ $<

# Lemon writes grammar.c/.h/.out next to its input, so it runs on a copy.
$(O)/gen/dsl/grammar.c $(O)/gen/dsl/grammar.h: dsl/grammar.y
	@mkdir -p $(O)/gen/dsl
	$(call say,LEMON,$<)cp $< $(O)/gen/dsl/grammar.y && $(LEMON) -q -T$(LEMPAR) $(O)/gen/dsl/grammar.y

$(O)/gen/runtime/%.c: runtime/%.re
	@mkdir -p $(@D)
	$(call say,RE2C,$<)$(RE2C) -W -Werror --no-generation-date --no-version -o $@ $<

# Pages the runtime serves (status_page.html -> rp_status_page).
$(O)/gen/runtime/%_html.c: runtime/%.html tools/embed.py
	@mkdir -p $(@D)
	$(call say,EMBED,$<)python3 tools/embed.py $< $@ rp_$*

# The lexer needs the token numbers Lemon assigns.
$(O)/obj/gen/dsl/lexer.o: $(O)/gen/dsl/grammar.h
$(COMPILER_OBJ): | $(O)/gen/dsl/grammar.h

COMPILER_INC := -Icompiler -Idsl -I$(O)/gen/dsl -Iruntime/include
RUNTIME_INC  := -Iruntime -Iruntime/include

$(O)/obj/compiler/%.o: compiler/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(COMPILER_INC) -c -o $@ $<

# Only policy_hash.c of the compiler sees BoringSSL's headers (for SHA-256).
$(O)/obj/compiler/policy_hash.o: compiler/policy_hash.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(COMPILER_INC) -isystem $(BORINGSSL_INC) -c -o $@ $<

# Lemon's template is not ours: it has unused parameters and unprototyped entry points.
$(O)/obj/gen/dsl/%.o: $(O)/gen/dsl/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -Wno-unused-parameter -Wno-missing-prototypes $(COMPILER_INC) -c -o $@ $<

$(O)/obj/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(RUNTIME_INC) -c -o $@ $<

# Only tls.c sees BoringSSL's headers.
$(O)/obj/runtime/tls.o: runtime/tls.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(RUNTIME_INC) -isystem $(BORINGSSL_INC) -c -o $@ $<

$(O)/obj/gen/runtime/%.o: $(O)/gen/runtime/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(RUNTIME_INC) -c -o $@ $<

$(O)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(RUNTIME_INC) -Icompiler -Itests/unit -c -o $@ $<

# ---- products ----------------------------------------------------------------
# rpx links the few runtime pieces it shares with proxies (the regex VM for
# `rpx explain`); the archive contributes only the objects it needs.
$(RPX): $(COMPILER_OBJ) $(LIBRPX)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(BORINGSSL_LIBS) -lcrypt -lpthread

$(LIBRPX): $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(O)/lib/rpx/include/rp/%.h: runtime/include/rp/%.h
	@mkdir -p $(@D)
	$(Q)cp $< $@

# The standard library (`import "std/NAME"`), where rpx looks for it.
$(O)/lib/rpx/std/%.rp: stdlib/%.rp
	@mkdir -p $(@D)
	$(Q)cp $< $@

# Checked on every make (RUNTIME_LIBS depends on the Makefile and on whether
# BoringSSL's static libraries are there), rewritten only when its content
# changes, so proxies are not rebuilt for nothing.
.PHONY: FORCE
$(LINKFLAGS): FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(SANFLAGS) $(RUNTIME_LIBS)' > $@.tmp && \
	    (cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; touch $@)

# Unit tests link the runtime and the compiler's modules (without its main).
$(UNIT_BIN): $(UNIT_OBJ) $(filter-out $(O)/obj/compiler/main.o,$(COMPILER_OBJ)) $(LIBRPX)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(RUNTIME_LIBS) -lbrotlidec

$(ORIGIN_BIN): tests/origin/origin.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -MF $(O)/obj/tests/origin.d -o $@ $< -lpthread -lz

# ---- tests -------------------------------------------------------------------
test: all
	$(Q)tests/run.sh $(O)

check: test

golden-update: all
	$(Q)GOLDEN_UPDATE=1 tests/golden.sh $(O)

run: all
	$(Q)tools/quickstart.sh $(O)

# ---- install -----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/rpx/include/rp
	install -m 755 $(RPX) $(DESTDIR)$(PREFIX)/bin/rpx
	install -m 644 $(LIBRPX) $(LINKFLAGS) $(DESTDIR)$(PREFIX)/lib/rpx/
	install -m 644 $(HDR_OUT) $(DESTDIR)$(PREFIX)/lib/rpx/include/rp/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 docs/rpx.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/rp.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	@if [ -d stdlib ] && ls stdlib/*.rp >/dev/null 2>&1; then \
	    install -d $(DESTDIR)$(PREFIX)/lib/rpx/std && \
	    install -m 644 stdlib/*.rp $(DESTDIR)$(PREFIX)/lib/rpx/std/; fi

clean:
	rm -rf $(O)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
