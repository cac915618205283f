#!/usr/bin/env bash
# Host-side hostile-input tests of the native code under AddressSanitizer + UBSan (gcc's libasan
# and libubsan; clang's libclang-rt-*-dev works the same with CXX=clang++). No GPU, no Node.js:
#   scripts/fuzz/native-asan.sh            (build dir: /tmp/netdef-asan, or $NETDEF_ASAN_DIR)
# Covers the CUDA engine blob reader (native/src/cuda/engine_format.cc) with cut, overwritten and
# random blobs whose checksum is recomputed (native/tests/host/engine_blob_fuzz.cc). Any sanitizer
# report aborts (halt_on_error) and fails the script.
set -euo pipefail
cd "$(dirname "$0")/../.."
CXX="${CXX:-g++}"
OUT="${NETDEF_ASAN_DIR:-/tmp/netdef-asan}"
mkdir -p "$OUT"
FLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra
  -Inative/src -I/usr/local/cuda/include -I/usr/include/x86_64-linux-gnu)
"$CXX" "${FLAGS[@]}" native/src/cuda/engine_format.cc native/tests/host/engine_blob_fuzz.cc -o "$OUT/engine_blob_fuzz"
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$OUT/engine_blob_fuzz"
