#!/usr/bin/env bash
# Builds and runs the native tests (native/tests/*.cc|*.cu, the `check_native` CMake target) with
# plain CMake, without cmake-js or Node.js: made for the GPU machine as it is. The build goes to
# native/build/plain (ignored); extra arguments are passed to CMake's configure step, e.g.
#   scripts/native-tests.sh -DNETDEF_CUDA_ARCHITECTURES=90a
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S native -B native/build/plain -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build native/build/plain --target check_native --parallel "$(nproc)"
