#!/usr/bin/env bash
# Builds the CUDA engine tests with nvcc and runs them (GPU machine, from the repository root):
# the cuDNN ABI check (needs cudnn.h: compile only), then engine_test [--bench].
#   native/tests/engine_test.sh            correctness tests
#   native/tests/engine_test.sh --bench    and the YOLOv8n-shaped timing run
# Environment: BUILD_DIR (default /tmp/netdef_engine_test), ARCH (default sm_90), JOBS (default 16),
# NVCC_FLAGS (extra flags, e.g. -g for host debug information).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-/tmp/netdef_engine_test}
ARCH=${ARCH:-sm_90}
JOBS=${JOBS:-16}
NVCC_FLAGS=${NVCC_FLAGS:-}
CUDNN_INCLUDE=${CUDNN_INCLUDE:-/usr/include/x86_64-linux-gnu}
mkdir -p "$BUILD_DIR/obj"

nvcc -std=c++17 -I native/src -I "$CUDNN_INCLUDE" -c native/tests/cudnn_abi_check.cc -o "$BUILD_DIR/cudnn_abi_check.o"
echo "cudnn_abi_check: compiled (declarations match cudnn.h)"

sources=(native/src/cuda/*.cc native/src/cuda/*.cu native/src/cuda/ops/*.cu native/src/cuda/igemm/*.cu native/src/common/*.cc native/src/ir/*.cc native/src/replay/*.cc
         native/tests/engine_test.cu native/tests/engine_test_chain.cu native/tests/engine_test_refit.cu native/tests/engine_test_images.cu
         native/tests/engine_test_int8.cu native/tests/engine_yolo_bench.cu)
printf '%s\n' "${sources[@]}" | xargs -P "$JOBS" -I{} sh -c \
  'nvcc -std=c++17 -O2 '"$NVCC_FLAGS"' -arch='"$ARCH"' -I native/src -DNETDEF_ENGINE_TEST_MAIN -c {} -o '"$BUILD_DIR"'/obj/$(echo {} | tr / _).o'
nvcc -arch="$ARCH" "$BUILD_DIR"/obj/*.o -o "$BUILD_DIR/engine_test" -ldl
[ "${1:-}" = "--build-only" ] && exit 0
"$BUILD_DIR/engine_test" "$@"
