// See trt_runner.h.
#include "trt_runner.h"

#include <algorithm>
#include <cstring>

#include "../common/error.h"

namespace netdef::trt {
namespace {

void check(cudaError_t status, const std::string& what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky-free error so later calls start clean
  throw Error(status == cudaErrorMemoryAllocation ? kErrOutOfMemory : kErrBackend, what + ": " + cudaGetErrorString(status));
}

// Makes `device` current for the calling (worker) thread and restores the previous one.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    check(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
  }
  ~DeviceScope() { cudaSetDevice(previous_); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
};

uint64_t volumeAt(const Dims& dims, int64_t batch) {
  uint64_t n = 1;
  for (int64_t d : dims.d) n *= static_cast<uint64_t>(d == -1 ? batch : d);
  return n;
}

bool known(const Dims& dims) {
  return std::all_of(dims.d.begin(), dims.d.end(), [](int64_t d) { return d >= 0; });
}

}  // namespace

void TrtRunner::DeviceFree::operator()(void* p) const { cudaFree(p); }
void TrtRunner::HostFree::operator()(void* p) const { cudaFreeHost(p); }

TrtRunner::TrtRunner(const std::vector<uint8_t>& plan, int device) : device_(device) {
  DeviceScope scope(device_);
  engine_ = TrtEngine::load(plan.data(), plan.size());
  std::tie(minBatch_, maxBatch_) = engine_->batchRange();
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  try {
    // Sized for the largest batch; outputs known only after a run get TensorRT's upper bound.
    const std::map<std::string, Dims> atMax = engine_->setBatch(maxBatch_);
    for (const TrtTensorInfo& t : engine_->tensors()) {
      Io io;
      io.info = t;
      const Dims& dims = t.input ? t.dims : atMax.at(t.name);
      io.bytes = known(dims) || t.input ? volumeAt(dims, maxBatch_) * ir::bytesOf(t.type)
                                        : static_cast<uint64_t>(engine_->maxOutputBytes(t.name));
      void* device = nullptr;
      void* host = nullptr;
      check(cudaMalloc(&device, std::max<uint64_t>(io.bytes, 1)), "allocate " + t.name);
      io.device.reset(device);
      check(cudaMallocHost(&host, std::max<uint64_t>(io.bytes, 1)), "allocate staging for " + t.name);
      io.host.reset(host);
      engine_->setAddress(t.name, device, io.bytes);
      io_.push_back(std::move(io));
    }
    boundBatch_ = maxBatch_;
    boundDims_ = atMax;
  } catch (...) {
    cudaStreamDestroy(stream_);
    throw;
  }
}

TrtRunner::~TrtRunner() {
  int previous = 0;  // not DeviceScope: a destructor must not throw
  const bool restore = cudaGetDevice(&previous) == cudaSuccess;
  cudaSetDevice(device_);
  cudaStreamSynchronize(stream_);
  dropGraph();
  io_.clear();
  engine_.reset();
  cudaStreamDestroy(stream_);
  if (restore) cudaSetDevice(previous);
  cudaGetLastError();
}

void TrtRunner::checkBatch(int64_t batch) const {
  if (!weightsBroken_.empty()) throw Error(kErrBackend, weightsBroken_);
  if (batch < minBatch_ || batch > maxBatch_) {
    throw Error(kErrInvalidArgument, "batch " + std::to_string(batch) + " is outside the engine's range [" + std::to_string(minBatch_) +
                                         ", " + std::to_string(maxBatch_) + "]");
  }
}

void TrtRunner::dropGraph() {
  if (graph_) cudaGraphExecDestroy(graph_);
  graph_ = nullptr;
  captureTried_ = false;
}

void TrtRunner::bind(int64_t batch) {
  if (batch == boundBatch_) return;
  dropGraph();
  boundDims_ = engine_->setBatch(batch);
  boundBatch_ = batch;
}

void TrtRunner::forward() {
  if (graph_) {
    check(cudaGraphLaunch(graph_, stream_), "cudaGraphLaunch");
    return;
  }
  engine_->enqueue(stream_);
  if (captureTried_) return;
  // After this first enqueue at the bound shapes, try once to capture the forward for replays.
  captureTried_ = true;
  check(cudaStreamSynchronize(stream_), "synchronize before capture");
  if (cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  bool enqueued = true;
  try {
    engine_->enqueue(stream_);
  } catch (...) {
    enqueued = false;  // not capturable (e.g. data-dependent shapes): plain enqueues from now on
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
  if (enqueued && ended == cudaSuccess && graph && cudaGraphInstantiate(&graph_, graph, 0) != cudaSuccess) graph_ = nullptr;
  if (graph) cudaGraphDestroy(graph);
  cudaGetLastError();
}

void TrtRunner::copyInputs(int64_t batch) {
  for (Io& io : io_) {
    if (!io.info.input) continue;
    const uint64_t bytes = volumeAt(io.info.dims, batch) * ir::bytesOf(io.info.type);
    check(cudaMemcpyAsync(io.device.get(), io.host.get(), bytes, cudaMemcpyHostToDevice, stream_), "copy " + io.info.name + " in");
  }
}

void TrtRunner::copyOutputs() {
  for (Io& io : io_) {
    if (io.info.input) continue;
    const Dims& dims = boundDims_.at(io.info.name);
    const uint64_t bytes = known(dims) ? volumeAt(dims, boundBatch_) * ir::bytesOf(io.info.type) : io.bytes;
    check(cudaMemcpyAsync(io.host.get(), io.device.get(), bytes, cudaMemcpyDeviceToHost, stream_), "copy " + io.info.name + " out");
  }
}

std::unordered_map<std::string, HostOutput> TrtRunner::run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs,
                                                           int64_t batch) {
  checkBatch(batch);
  size_t expected = 0;
  for (const Io& io : io_) {
    if (!io.info.input) continue;
    ++expected;
    auto it = inputs.find(io.info.name);
    if (it == inputs.end()) throw Error(kErrInvalidArgument, "run: input '" + io.info.name + "' is missing");
    const uint64_t bytes = volumeAt(io.info.dims, batch) * ir::bytesOf(io.info.type);
    if (it->second.size() != bytes) {
      throw Error(kErrInvalidArgument, "run: input '" + io.info.name + "' holds " + std::to_string(it->second.size()) + " bytes, batch " +
                                           std::to_string(batch) + " needs " + std::to_string(bytes));
    }
  }
  if (inputs.size() != expected) throw Error(kErrInvalidArgument, "run: inputs besides the engine's " + std::to_string(expected));

  std::lock_guard<std::mutex> lock(mutex_);
  DeviceScope scope(device_);
  bind(batch);
  for (Io& io : io_) {
    if (io.info.input) std::memcpy(io.host.get(), inputs.at(io.info.name).data(), inputs.at(io.info.name).size());
  }
  copyInputs(batch);
  forward();
  check(cudaStreamSynchronize(stream_), "forward");
  std::unordered_map<std::string, HostOutput> out;
  for (Io& io : io_) {
    if (io.info.input) continue;
    const Dims dims = known(boundDims_.at(io.info.name)) ? boundDims_.at(io.info.name) : engine_->outputDims(io.info.name);
    if (!known(dims)) throw Error(kErrBackend, "TensorRT reported no shape for output '" + io.info.name + "'");
    HostOutput o{io.info.type, dims.d, std::vector<uint8_t>(volumeAt(dims, batch) * ir::bytesOf(io.info.type))};
    if (o.data.size() > io.bytes) throw Error(kErrBackend, "output '" + io.info.name + "' is larger than its buffer");
    check(cudaMemcpyAsync(o.data.data(), io.device.get(), o.data.size(), cudaMemcpyDeviceToHost, stream_), "copy " + io.info.name + " out");
    out.emplace(io.info.name, std::move(o));
  }
  check(cudaStreamSynchronize(stream_), "copy outputs");
  return out;
}

void TrtRunner::profile(int64_t batch, int iterations) {
  checkBatch(batch);
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceScope scope(device_);
  bind(batch);
  engine_->enqueue(stream_);  // unprofiled: the first enqueue at a shape does one-time work
  check(cudaStreamSynchronize(stream_), "warm-up forward");
  engine_->setProfiling(true);  // plain enqueues: IProfiler does not report from graph replays
  try {
    for (int i = 0; i < iterations; ++i) {
      engine_->enqueue(stream_);
      check(cudaStreamSynchronize(stream_), "profiled forward");
    }
  } catch (...) {
    engine_->setProfiling(false);
    throw;
  }
  {
    std::lock_guard<std::mutex> times(timesMutex_);
    layerMs_ = engine_->layerTimes();
  }
  engine_->setProfiling(false);
}

double TrtRunner::timeForward(int64_t batch, int iterations, bool withCopies) {
  checkBatch(batch);
  if (iterations < 1) throw Error(kErrInvalidArgument, "timeForward: iterations must be positive");
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceScope scope(device_);
  bind(batch);
  forward();  // the first run at this shape (and the capture, where allowed)
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  std::vector<float> ms(static_cast<size_t>(iterations));
  try {
    for (float& t : ms) {
      check(cudaEventRecord(start, stream_), "cudaEventRecord");
      if (withCopies) copyInputs(batch);
      forward();
      if (withCopies) copyOutputs();
      check(cudaEventRecord(stop, stream_), "cudaEventRecord");
      check(cudaEventSynchronize(stop), "timed forward");
      check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    }
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

std::vector<LayerInfo> TrtRunner::layers() const {
  std::lock_guard<std::mutex> lock(timesMutex_);  // not the run mutex: called on the JS thread
  std::vector<LayerInfo> out;
  for (const auto& [name, ms] : layerMs_) out.push_back(LayerInfo{name, "", "", "tensorrt", ms});
  return out;
}

std::vector<uint8_t> TrtRunner::serialize() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceScope scope(device_);
  return engine_->serialize();
}

uint64_t TrtRunner::deviceMemoryBytes() const {
  uint64_t total = static_cast<uint64_t>(std::max<int64_t>(engine_->deviceMemoryBytes(), 0));
  for (const Io& io : io_) total += io.bytes;
  return total;
}

void TrtRunner::refit(const std::vector<ir::Param>& params) {
  std::vector<Weights> weights;
  weights.reserve(params.size());
  for (const ir::Param& p : params) {
    weights.push_back(Weights{p.name, p.dtype, p.data, static_cast<int64_t>(p.bytes / ir::bytesOf(p.dtype))});
  }
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceScope scope(device_);
  check(cudaStreamSynchronize(stream_), "refit: wait for runs in flight");
  dropGraph();  // the refitted engine's kernels may read other weight memory: capture again
  try {
    engine_->refit(weights);  // refused weights (ERR_WEIGHTS_MISMATCH) leave the engine unchanged
  } catch (const Error& e) {
    if (e.code() == kErrBackend) {
      // refitCudaEngine failed: "a subset of weights may have been refitted" (NvInferRuntime.h).
      weightsBroken_ = std::string("this TensorRT engine's weights may be partly replaced by a failed refit (") + e.what() +
                       "): refit it again before running";
    }
    throw;
  }
  weightsBroken_.clear();
}

std::string TrtRunner::inspect() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return engine_->inspect();
}

}  // namespace netdef::trt
