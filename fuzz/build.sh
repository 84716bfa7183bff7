#!/bin/sh
# fuzz/build.sh BUILD_DIR: builds the front-end fuzzer with clang and
# libFuzzer into BUILD_DIR/fuzz/fuzz_frontend (run `make` first: it needs the
# generated lexer and parser). Run it with, e.g.:
#   BUILD_DIR/fuzz/fuzz_frontend -max_total_time=600 fuzz/corpus
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
mkdir -p "$build/fuzz"
src=$(ls compiler/*.c | grep -v compiler/main.c)
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
    -Icompiler -Idsl -I"$build/gen/dsl" -Iruntime/include \
    -Wno-unused-parameter \
    fuzz/fuzz_frontend.c $src "$build/gen/dsl/lexer.c" "$build/gen/dsl/grammar.c" \
    -o "$build/fuzz/fuzz_frontend"
echo "built $build/fuzz/fuzz_frontend"
