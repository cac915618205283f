// What the addon's bindings call to use TensorRT, without including NvInfer.h: capabilities, build
// a graph into a runnable engine, load a plan. Implemented by trt_api.cc when the addon is built
// with TensorRT's headers (NETDEF_WITH_TENSORRT), else by addon/tensorrt_unavailable.cc, which
// reports why and refuses to build or load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../common/engine.h"
#include "../ir/graph.h"

namespace netdef::trt {

struct TrtCapabilities {
  bool compiled = false;       // the addon holds the TensorRT adapter
  int64_t headerVersion = 0;   // NV_TENSORRT_VERSION compiled against (0 when not compiled)
  bool ok = false;             // libnvinfer found and of the compiled major version
  std::string reason;          // why not, when !ok
  int64_t libraryVersion = 0;  // getInferLibVersion() of the library found
  std::string libraryPath;
};

// Never throws.
TrtCapabilities capabilities();

struct TrtBuildOptions {
  int64_t minBatch = 1, optBatch = 1, maxBatch = 1;
  size_t workspaceBytes = size_t{1} << 30;
  bool refit = false;           // BuilderFlag::kREFIT: every named weight can be refitted
  bool refitIdentical = false;  // BuilderFlag::kREFIT_IDENTICAL: refit only with the same values (faster engine)
  bool stripPlan = false;       // BuilderFlag::kSTRIP_PLAN: a weightless plan; refit before running
  // BuilderFlag::kTF32 (float32 layers may use TF32): -1 leaves TensorRT's default (on), 0 clears it, 1 sets it.
  int tf32 = -1;
  std::vector<uint8_t> timingCache;  // a serialized timing cache to start from (empty: a new one)
  int device = 0;
};

struct TrtBuilt {
  std::unique_ptr<Engine> engine;
  std::vector<uint8_t> timingCache;  // after the build, to save
  std::vector<std::string> log;      // TensorRT's warnings and errors during the build
};

// Builds and loads on `options.device`. ERR_BACKEND when TensorRT is absent or fails (quoting its
// last error), ERR_INVALID_ARGUMENT for a graph or options it refuses.
TrtBuilt buildEngine(const ir::Graph& graph, const TrtBuildOptions& options);
// A serialized plan (ERR_ENGINE_FORMAT when TensorRT cannot deserialize it).
std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>& plan, int device);

}  // namespace netdef::trt
