// The native GPU tests: each op group checks one kernel of native/src/cuda/ops against a CPU reference
// on seeded random inputs, then the engine's tests (engine_test.cu) build small networks through
// INetwork; a line per case. Exit status 0 only when every case passed.
// Build and run (GPU machine):
//   nvcc -std=c++17 -O2 -arch=sm_90 -I native/src native/src/cuda/ops/*.cu native/tests/ops_*.cu -o /tmp/ops_test
//   /tmp/ops_test
#include "engine_test_util.h"
#include "ops_test_util.h"

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("FAIL  no CUDA device: the op tests run on the GPU machine\n");
    return 1;
  }
  const std::function<void()> groups[] = {
      ops_test::testActivation, ops_test::testElementwise, ops_test::testCopyStrided,
      ops_test::testPooling,    ops_test::testResizeNearest, ops_test::testSoftmax,
      ops_test::testCast,       ops_test::testQuantize,    ops_test::testMatMul,
      ops_test::testGraphCapture, ops_test::testLetterbox,   ops_test::testCandidates,
  };
  for (const auto& group : groups) group();
  engine_test::runEngineTests();  // the engine's tests (engine_test.cu), same tally
  const ops_test::Tally& t = ops_test::tally();
  std::printf("\n%d passed, %d failed\n", t.passed, t.failed);
  return t.failed == 0 ? 0 : 1;
}
