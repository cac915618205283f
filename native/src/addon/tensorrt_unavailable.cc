// tensorrt/trt_api.h for an addon built without TensorRT's headers (NETDEF_WITH_TENSORRT off or not
// found; see native/CMakeLists.txt and docs/tensorrt.md): capabilities() says so, and building or
// loading a TensorRT engine is ERR_BACKEND with the way to get an addon that can.
// Compiled instead of src/tensorrt/, never beside it.
#include "../common/error.h"
#include "../tensorrt/trt_api.h"

namespace netdef::trt {
namespace {
constexpr const char* kNoTensorrt =
    "this addon was built without the TensorRT adapter (TensorRT's headers were not found): install TensorRT 10.3+ or 11.x and "
    "rebuild with `TENSORRT_ROOT=/path/to/TensorRT npm run build:native` (docs/tensorrt.md)";
}

TrtCapabilities capabilities() {
  TrtCapabilities caps;
  caps.reason = kNoTensorrt;
  return caps;
}

TrtBuilt buildEngine(const ir::Graph&, const TrtBuildOptions&) { throw Error(kErrBackend, kNoTensorrt); }

std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>&, int) { throw Error(kErrBackend, kNoTensorrt); }

}  // namespace netdef::trt
