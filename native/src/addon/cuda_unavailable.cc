// engine_api.h for an addon built without the CUDA engine (NETDEF_WITH_CUDA_ENGINE off, the default
// until native/src/cuda/engine.cc exists; see native/CMakeLists.txt). capabilities() is real, so
// the addon still says what the machine has; building or loading an engine is a typed error.
// Compiled into netdef_core instead of src/cuda/, never beside it.
#include "../common/cuda_probe.h"
#include "../common/error.h"
#include "../cuda/engine_api.h"

namespace netdef::cuda {

namespace {
constexpr const char* kNoEngine =
    "this addon was built without the CUDA engine (NETDEF_WITH_CUDA_ENGINE=OFF, or native/src/cuda/engine.cc "
    "does not exist yet); rebuild with `npm run build:native` once the engine is there";
}

Capabilities capabilities() { return probeCapabilities(); }

std::vector<PlannedMode> planEngine(const ir::Graph&) { throw Error(kErrBackend, kNoEngine); }

Built buildEngine(const ir::Graph&, const BuildOptions&, const ProgressFn&) {
  throw Error(kErrBackend, kNoEngine);
}

std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>&, int) { throw Error(kErrBackend, kNoEngine); }

}  // namespace netdef::cuda
