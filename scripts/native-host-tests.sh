#!/usr/bin/env bash
# Host-only tests of the CUDA engine's build passes (native/tests/host/int8_passes.cc), of its
# blob format for int8 engines (native/tests/host/int8_format.cc), of its timing cache
# (native/tests/host/timing_cache.cc), of its residual-add fusion
# (native/tests/host/residual_fusion.cc) and of the direct convolution's Cast folding and layouts
# (native/tests/host/direct_conv_passes.cc), of SPPF's pools written into their concat
# (native/tests/host/sppf_views.cc), of the Detect-head fusion (native/tests/host/detect_decode_pass.cc) and of the
# side streams' plan (native/tests/host/stream_plan.cc): pure host code, so they build
# with g++ and the CUDA headers (ASan + UBSan) and run without a GPU, cmake-js or Node.js.
# Build dir: /tmp/netdef-host-tests, or $NETDEF_HOST_TESTS_DIR.
#   scripts/native-host-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CXX="${CXX:-g++}"
OUT="${NETDEF_HOST_TESTS_DIR:-/tmp/netdef-host-tests}"
mkdir -p "$OUT"
FLAGS=(-std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra
  -Inative/src -I/usr/local/cuda/include -I/usr/include/x86_64-linux-gnu)
SOURCES=(native/src/cuda/cuda_network.cc native/src/cuda/program.cc native/src/cuda/shape_infer.cc native/src/cuda/weight_values.cc
  native/src/cuda/fuse_pass.cc native/src/cuda/detect_decode_pass.cc native/src/cuda/int8_conv_pass.cc native/src/cuda/layout_pass.cc native/src/cuda/channel_views.cc)
"$CXX" "${FLAGS[@]}" "${SOURCES[@]}" native/tests/host/int8_passes.cc -o "$OUT/int8_passes"
"$CXX" "${FLAGS[@]}" native/src/cuda/engine_format.cc native/src/cuda/program.cc native/tests/host/int8_format.cc -o "$OUT/int8_format"
"$CXX" "${FLAGS[@]}" "${SOURCES[@]}" native/tests/host/residual_fusion.cc -o "$OUT/residual_fusion"
"$CXX" "${FLAGS[@]}" "${SOURCES[@]}" native/tests/host/direct_conv_passes.cc -o "$OUT/direct_conv_passes"
"$CXX" "${FLAGS[@]}" "${SOURCES[@]}" native/tests/host/sppf_views.cc -o "$OUT/sppf_views"
"$CXX" "${FLAGS[@]}" "${SOURCES[@]}" native/tests/host/detect_decode_pass.cc -o "$OUT/detect_decode_pass"
"$CXX" "${FLAGS[@]}" native/src/cuda/stream_plan.cc native/src/cuda/program.cc native/tests/host/stream_plan.cc -o "$OUT/stream_plan"
"$CXX" "${FLAGS[@]}" native/src/cuda/timing_cache.cc native/src/cuda/conv_geometry.cc native/src/cuda/program.cc native/tests/host/timing_cache.cc -o "$OUT/timing_cache"
for t in int8_passes int8_format timing_cache residual_fusion direct_conv_passes sppf_views detect_decode_pass stream_plan; do
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$OUT/$t"
done
