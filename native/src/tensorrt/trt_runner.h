// A TensorRT engine as the addon runs it (netdef::Engine): the plan deserialized on one GPU, device
// memory for every input and output sized for the largest batch of the optimization profile
// (outputs whose shape depends on the data: getMaxOutputSize at that batch), pinned staging for the
// host copies, a stream, and one CUDA graph per batch size, captured after a first plain enqueueV3
// (TensorRT does deferred work on the first enqueue after a shape change) and replayed from then
// on. Where capture fails (engines with data-dependent shapes cannot be captured) that batch runs
// with enqueueV3 each time, which is what "a CUDA graph where allowed" means here.
//
// run(): inputs checked by name and byte size, copied in, the forward, outputs copied out with
// their actual shapes. refit(): waits for runs, refits by name (TrtEngine::refit), drops captured
// graphs (recaptured on the next run). profile(): plain enqueues with an IProfiler; layers() gives
// TensorRT's layer names and times (precisions come from inspect(), parsed in TypeScript).
// Every method but layers() takes the runner's mutex, so one runner may be used from several
// threads (serialize and inspect wait for a run in flight). A refit that TensorRT fails half-way
// (refitCudaEngine returns false) leaves the runner refusing to run until a refit succeeds.
//
// Compiled only with TensorRT's headers; never run in this project's CI (docs/tensorrt.md).
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/engine.h"
#include "trt_engine.h"

namespace netdef::trt {

class TrtRunner final : public Engine {
 public:
  // Deserializes `plan` on `device` and allocates what run() needs.
  TrtRunner(const std::vector<uint8_t>& plan, int device);
  ~TrtRunner() override;

  std::unordered_map<std::string, HostOutput> run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs,
                                                  int64_t batch) override;
  void profile(int64_t batch, int iterations) override;
  double timeForward(int64_t batch, int iterations, bool withCopies) override;
  std::vector<LayerInfo> layers() const override;
  std::vector<uint8_t> serialize() const override;
  uint64_t deviceMemoryBytes() const override;
  void refit(const std::vector<ir::Param>& params) override;
  std::string inspect() const override;

 private:
  struct DeviceFree {
    void operator()(void* p) const;
  };
  struct HostFree {
    void operator()(void* p) const;
  };
  struct Io {
    TrtTensorInfo info;
    std::unique_ptr<void, DeviceFree> device;  // `bytes` long
    std::unique_ptr<void, HostFree> host;      // pinned staging, `bytes` long
    uint64_t bytes = 0;
  };

  void checkBatch(int64_t batch) const;
  void bind(int64_t batch);  // input shapes at `batch` (a change drops the captured graph)
  void forward();            // the captured graph, or enqueueV3 (then a capture is tried once)
  void copyInputs(int64_t batch);
  void copyOutputs();  // each output at the bound batch (its upper bound when data-dependent), for timing
  void dropGraph();

  int device_;
  std::unique_ptr<TrtEngine> engine_;
  cudaStream_t stream_ = nullptr;
  std::vector<Io> io_;
  int64_t minBatch_ = 1, maxBatch_ = 1, boundBatch_ = 0;
  std::map<std::string, Dims> boundDims_;  // the outputs' dims at boundBatch_
  // The captured forward at boundBatch_ (one at a time: a new batch shape drops it). Null with
  // captureTried_: this batch runs with plain enqueues.
  cudaGraphExec_t graph_ = nullptr;
  bool captureTried_ = false;
  std::string weightsBroken_;  // set by a refit that failed in refitCudaEngine: runs refuse until one succeeds
  std::vector<std::pair<std::string, double>> layerMs_;  // under timesMutex_
  mutable std::mutex mutex_;                             // runs, refit, serialize, inspect
  mutable std::mutex timesMutex_;
};

}  // namespace netdef::trt
