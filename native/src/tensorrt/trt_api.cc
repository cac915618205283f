// trt_api.h with TensorRT's headers: the library probe, build = plan (trt_engine.h) + runner
// (trt_runner.h), load = runner.
#include "trt_api.h"

#include <NvInferVersion.h>
#include <cuda_runtime_api.h>

#include "../common/error.h"
#include "trt_engine.h"
#include "trt_loader.h"
#include "trt_runner.h"

namespace netdef::trt {

TrtCapabilities capabilities() {
  TrtCapabilities caps;
  caps.compiled = true;
  caps.headerVersion = NV_TENSORRT_VERSION;
  try {
    const Library& library = Library::get();
    caps.ok = true;
    caps.libraryVersion = library.version();
    caps.libraryPath = library.path();
  } catch (const Error& e) {
    caps.reason = e.what();
  }
  return caps;
}

TrtBuilt buildEngine(const ir::Graph& graph, const TrtBuildOptions& options) {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(options.device) != cudaSuccess) {
    cudaGetLastError();
    throw Error(kErrNoCudaDevice, "TensorRT build: CUDA device " + std::to_string(options.device) + " cannot be used");
  }
  struct Restore {
    int device;
    ~Restore() { cudaSetDevice(device); }
  } restore{previous};
  TrtBuildResult built = buildTrtPlan(graph, options);
  TrtBuilt out;
  out.engine = std::make_unique<TrtRunner>(built.plan, options.device);
  out.timingCache = std::move(built.timingCache);
  out.log = std::move(built.log);
  return out;
}

std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>& plan, int device) { return std::make_unique<TrtRunner>(plan, device); }

}  // namespace netdef::trt
