// CudaEngine: a built (or loaded) Program on one GPU. Owns everything the forward needs, each
// through an RAII owner: the weights (uploaded once, in each layer's dtype; NHWC convolutions get
// their filters reordered to KRSC, an int8 one's channels padded to its input's), one activation arena laid out by the buffer plan (liveness
// based, views aliased, sized for the largest batch), the shared convolution workspace (cuDNN's,
// and split-K's partial sums) with split-K's zeroed counters, pinned
// staging for inputs and outputs, a stream, a cuDNN handle, and one CUDA graph per batch size,
// captured the first time that batch runs (inputs copied in, every op, outputs copied out).
// refit() writes new weight values over the weight buffer in place (same offsets, same dtypes, same
// reorder), so tactics, the plan and the captured graphs stay valid: no rebuild.
// runImages() letterboxes decoded images on the device and can select NMS candidates there.
// Independent branches (the Detect head's) run on side streams beside the main one, captured into
// the same graph unless $NETDEF_CUDA_STREAMS=0 (stream_plan.h; on by default since 2026-12-07).
// run(), runImages() and profile() take the engine's mutex, so one engine may be used from several threads.
//
// Test: native/tests/engine_test.cu.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "buffer_plan.h"
#include "cuda_check.h"
#include "engine_api.h"
#include "engine_format.h"
#include "image_io.h"
#include "memory_plan.h"
#include "op_launch.h"
#include "weight_placement.h"

namespace netdef::cuda {

struct EngineBuildOptions {
  const std::vector<OpTactic>* tactics = nullptr;  // a loaded engine's choices; null: choose now
  // A loaded engine's fused plan texts (EngineRecord::plans) to restore its plans from, when they
  // are valid here; a build takes them from tuning.cache instead.
  const std::map<std::string, std::string>* planTexts = nullptr;
  TuneOptions tuning;                              // how to choose (timing, search, cache, stats)
  ProgressFn progress;                             // per tuned convolution
  int progressDone = 0, progressTotal = 0;         // offsets when several engines are built in turn
};

// What convolution `op` of ctx's program computes, with its input and output storage channels
// from ctx's channel views (the engine's layers are made from it; planEngine reports with it).
ConvGeometry geometryOf(const ExecContext& ctx, const OpDef& op, const ConvAttrs& a, bool tf32);

class CudaEngine final : public Engine {
 public:
  CudaEngine(Program program, const EngineConfig& config, int device, const EngineBuildOptions& options);
  ~CudaEngine() override;

  std::unordered_map<std::string, HostOutput> run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs,
                                                  int64_t batch) override;
  void profile(int64_t batch, int iterations) override;
  std::vector<LayerInfo> layers() const override;
  std::vector<uint8_t> serialize() const override;
  uint64_t deviceMemoryBytes() const override;
  void refit(const std::vector<ir::Param>& params) override;
  // Letterbox on the device into the one image input, the captured forward without host copies,
  // then the candidates of output0 or every output copied back (image_io.h).
  ImageRunResult runImages(const ImageBatch& batch, const std::optional<CandidateQuery>& query) override;

  // Median milliseconds of the captured forward at `batch`: the ops alone (how the layout mode is
  // chosen), or with the input and output copies that run() adds.
  float timeForward(int64_t batch, bool withCopies = false);
  // timeForward, or one forward's time once that forward takes more than factor x `best` ms
  // (medianMsOrPruned: the rest are not run).
  float timeForwardOrPruned(int64_t batch, float best, float factor);
  double timeForward(int64_t batch, int iterations, bool withCopies) override;
  const BufferPlan& bufferPlan() const { return plan_; }
  const Program& program() const { return program_; }
  const EngineConfig& config() const { return config_; }
  std::vector<OpTactic> tactics() const;
  // The text of each fused cuDNN plan the chosen tactics run, at every batch made so far (the
  // largest at least), by plan key (for the timing cache and engine files); plans cuDNN cannot
  // serialize are left out.
  std::map<std::string, std::string> fusedPlanTexts() const;
  // For tests: the conv layer of op `index` (null for other ops) and the context to run it in.
  ConvLayer* convolution(size_t index) const { return index < convs_.size() ? convs_[index].get() : nullptr; }
  const ExecContext& context() const { return ctx_; }

 private:
  void planMemory();
  void createSideStreams();  // the plan's streams, events and scratch (after the convolutions' tactics)
  void uploadWeights();                // places the weights (offsets, device buffer) and points ctx_ at them
  void copyWeightsToDevice();          // program_.weights (and KRSC filter copies) into weights_
  uint64_t viewOffsetBytes(int32_t t) const;  // bytes from t's storage root to t (channel-range views)
  void createConvolutions(const EngineBuildOptions& options);
  void checkBatch(int64_t batch) const;
  // The timers' one body: medianMsOrPruned over the captured forward at `batch` (best 0: no pruning).
  float timeGraph(int64_t batch, bool withCopies, int iterations, float best, float factor);
  void enqueueForward(int64_t batch, bool withCopies);
  // Every op at `batch`: the main stream's in program order, side chains on their side streams
  // after their fork, joined before their join (stream_plan.h).
  void enqueueOps(int64_t batch);
  const GraphExec& graphFor(int64_t batch, bool withCopies);
  // After a forward with copies: the outputs out of the staging buffers.
  std::unordered_map<std::string, HostOutput> stagedOutputs(int64_t batch) const;

  int device_;
  Program program_;
  EngineConfig config_;
  std::string deviceName_;
  int smMajor_ = 0, smMinor_ = 0;
  std::unique_ptr<Stream> stream_;
  CudnnHandle cudnn_;
  DeviceBuffer weights_, arena_, workspace_;
  DeviceBuffer splitCounters_;  // kSplitCounterCount zeroed ints per stream, main then side (split-K convolutions, igemm_layer.h)
  StreamPlan streamPlan_;       // side chains (none when $NETDEF_CUDA_STREAMS = 0)
  std::vector<bool> launchesKernel_;  // per op (memory_plan.h)
  std::vector<std::unique_ptr<Stream>> sideStreams_;
  std::vector<StreamResources> sideResources_;  // per side stream: its stream and scratch
  DeviceBuffer sideWorkspace_;                  // the side streams' convolution workspaces, one after another
  std::vector<Event> forkEvents_, joinEvents_;  // per side chain
  BufferPlan plan_;
  std::vector<int32_t> root_;            // per tensor: the tensor whose storage it uses (views)
  std::vector<int64_t> planSlot_;        // per root tensor: index into plan_ or -1
  WeightPlacement placement_;  // where weights_ holds each weight and KRSC filter copy
  std::vector<std::unique_ptr<ConvLayer>> convs_;
  std::shared_ptr<FusedPlans> fusedPlans_ = std::make_shared<FusedPlans>();  // shared by convs_
  ExecContext ctx_;
  std::vector<PinnedBuffer> inputStaging_, outputStaging_;
  ImageIo imageIo_;
  std::map<std::pair<int64_t, bool>, GraphExec> graphs_;  // by (batch, with copies)
  std::vector<double> layerMs_;
  mutable std::mutex mutex_;
};

}  // namespace netdef::cuda
