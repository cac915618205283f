// The CUDA engine's entry points (cuda/engine_api.h): capabilities(), buildEngine() and
// loadEngine(). Building replays the graph into a CudaNetwork, fuses convolutions with their
// activations, then builds the engine in each candidate layout mode (row-major, and channels-last
// float16 when the network has convolutions that could use it; engine_build.h says which are
// tuned), choosing every convolution's tactic by timing or from the timing cache, and keeps the
// mode whose captured forward is fastest at the optimum batch.
// Loading parses the blob, refuses another GPU architecture, and restores the stored tactics.
//
// Test: native/tests/engine_test.cu (builds through engine_build.h, which buildEngine shares).
#include "../common/cuda_probe.h"
#include "../common/error.h"
#include "../replay/replay.h"
#include "channel_views.h"
#include "cuda_network.h"
#include "direct_conv_rule.h"
#include "dnn_loader.h"
#include "engine_build.h"
#include "engine_impl.h"
#include "fuse_pass.h"
#include "igemm_layer.h"

namespace netdef::cuda {

Capabilities capabilities() {
  Capabilities caps = probeCapabilities();
  const CudnnProbe cudnn = probeCudnn();
  caps.cudnnOk = cudnn.ok;
  caps.cudnnVersion = cudnn.version;
  caps.cudnnReason = cudnn.reason;
  return caps;
}

Built buildEngine(const ir::Graph& graph, const BuildOptions& options, const ProgressFn& progress) {
  const StopWatch watch;
  CudaNetwork network;
  replay(graph, network);
  const double recordMs = watch.ms();
  Built built;
  BuildReport report;
  built.engine = buildFromNetwork(network, options, progress, nullptr, &report);
  built.timingCache = std::move(report.timingCache);
  built.log = std::move(report.log);
  built.log.insert(built.log.begin(), "network recorded in " + fixed(recordMs / 1000.0, 2) + " s (replay, weights converted to their dtypes)");
  return built;
}

std::vector<PlannedMode> planEngine(const ir::Graph& graph) {
  CudaNetwork network;
  replay(graph, network);
  const Program fused = runFusionPasses(network.take());
  std::vector<LayoutMode> modes{LayoutMode::kRowMajor};
  if (hasChannelsLastCandidates(fused)) modes.push_back(LayoutMode::kChannelsLastHalf);
  std::vector<PlannedMode> out;
  for (LayoutMode mode : modes) {
    const Program laid = assignLayouts(fused, mode);
    PlannedMode m;
    m.mode = layoutModeName(mode);
    ExecContext ctx;
    ctx.program = &laid;
    ctx.views = planChannelViews(laid);
    m.concatInputsInPlace = ctx.views.inPlaceCount;
    constexpr int64_t kReportBatch = 1;
    const bool sideStreams = sideStreamsWanted();
    const MemoryPlan memory = planActivationMemory(laid, ctx.views, kReportBatch, sideStreams);
    m.arenaBytes = memory.buffers.totalBytes;
    m.arenaBytesOneStream = sideStreams ? planActivationMemory(laid, ctx.views, kReportBatch, false).buffers.totalBytes : m.arenaBytes;
    m.deviceWeightBytes = placeWeights(laid).totalBytes;
    for (const WeightDef& w : laid.weights) m.weightBytes += w.bytes.size();
    for (size_t i = 0; i < laid.ops.size(); ++i) {
      const OpDef& op = laid.ops[i];
      PlannedOp o;
      if (const int32_t c = memory.streams.chainOf[i]; c >= 0) o.sideStream = memory.streams.chains[c].stream;
      o.name = op.name;
      o.kind = opKindName(op.attrs);
      if (op.fusedInto >= 0) o.fusedInto = laid.ops[op.fusedInto].name;
      if (!op.outputs.empty() && laid.tensors[op.outputs[0]].dims.size() == 4) {
        o.layout = laid.tensors[op.outputs[0]].layout == Layout::kNhwc ? "nhwc" : "nchw";
      }
      o.direct = runsDirect(laid, op);
      if (const auto* c = std::get_if<ConvAttrs>(&op.attrs); c && op.fusedInto < 0 && !o.direct) {
        constexpr bool kTf32 = false;  // does not change what igemm can run
        try {
          o.igemmWhyNot = IgemmLayer::whyNot(geometryOf(ctx, op, *c, kTf32));
        } catch (const Error& e) {
          o.igemmWhyNot = e.what();  // a geometry the engine itself would refuse
        }
      }
      m.ops.push_back(std::move(o));
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>& blob, int device) { return loadFromBlob(blob, device); }

}  // namespace netdef::cuda
