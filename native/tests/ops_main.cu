// The native GPU tests: each op group checks one kernel of native/src/cuda/ops (and igemm/) against a
// CPU reference on seeded random inputs, then the engine's tests (engine_test.cu) build small
// networks through INetwork; a line per case. Exit status 0 only when every case passed.
// Arguments, optional: group names (activation, elementwise, copy_strided, pooling, resize_nearest,
// softmax, cast, quantize, matmul, graph_capture, letterbox, candidates, igemm_conv, igemm_conv_f16, direct_conv, detect_decode, engine, engine_int8); only those
// groups run.
// Build and run (GPU machine): scripts/native-tests.sh, or
//   cmake --build native/build/plain --target netdef_native_tests && native/build/plain/netdef_native_tests [group ...]
#include <cstring>

#include "engine_test_util.h"
#include "ops_test_util.h"

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("FAIL  no CUDA device: the op tests run on the GPU machine\n");
    return 1;
  }
  struct Group {
    const char* name;
    std::function<void()> run;
  };
  const Group groups[] = {
      {"activation", ops_test::testActivation},
      {"elementwise", ops_test::testElementwise},
      {"copy_strided", ops_test::testCopyStrided},
      {"pooling", ops_test::testPooling},
      {"resize_nearest", ops_test::testResizeNearest},
      {"softmax", ops_test::testSoftmax},
      {"cast", ops_test::testCast},
      {"quantize", ops_test::testQuantize},
      {"matmul", ops_test::testMatMul},
      {"graph_capture", ops_test::testGraphCapture},
      {"letterbox", ops_test::testLetterbox},
      {"candidates", ops_test::testCandidates},
      {"igemm_conv", ops_test::testIgemmConv},
      {"direct_conv", ops_test::testDirectConv},
      {"detect_decode", ops_test::testDetectDecode},
      {"igemm_conv_f16", ops_test::testIgemmConvHalf},
      {"engine", engine_test::runEngineTests},  // the engine's tests (engine_test.cu), same tally
      {"engine_int8", engine_test::testInt8Engine},  // the int8 engine alone (also part of "engine")
  };
  auto chosen = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], name) == 0) return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    bool known = false;
    for (const Group& g : groups) known = known || std::strcmp(argv[i], g.name) == 0;
    if (!known) {
      std::printf("FAIL  unknown test group '%s'\n", argv[i]);
      return 1;
    }
  }
  for (const Group& g : groups)
    if (chosen(g.name)) g.run();
  const ops_test::Tally& t = ops_test::tally();
  std::printf("\n%d passed, %d failed\n", t.passed, t.failed);
  return t.failed == 0 ? 0 : 1;
}
