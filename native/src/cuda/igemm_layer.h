// One convolution layer of the engine on the igemm kernel (igemm/igemm_conv.h), NHWC, channel-range
// views allowed on either side (the output possibly a channel range of a concat's buffer):
// - int8: KRSC int8 filter, per-output-channel scales, float32 bias, the activation and (when a
//   Quantize was folded in, int8_conv_pass.h) the int8 requantize in the kernel's epilogue; the
//   output is int8, float16 or float32. The igemm tiles are its only tactics.
// - float16: KRSC float16 filter (the one cuDNN's NHWC format reads), float16 bias, the activation
//   and a fused float16 residual (fuse_pass.h) in the epilogue, float32 accumulation, float16
//   output. Its tiles are candidates beside cuDNN's (conv_layer.h), timed the same way.
// Tactic selection at build: every timed tile (igemmTilesKey) is run once eagerly, then captured in a CUDA
// graph and timed (median of kTuneIterations replays), as ConvLayer times cuDNN's algorithms; so is
// each tile with split-K (igemm_conv.h) where its output tiles leave SMs idle (splitChoices); the
// fastest is kept and serialized as a ConvTactic of kind kIgemm (algo = the tile, splits = the
// slices). A split tactic's partial sums live in the engine's convolution workspace
// (workspaceBytes: sized for the largest batch) and it counts slices on ConvBuffers::splitCounters. An int8 geometry
// the kernel cannot run (groups, dilation, C not a multiple of 16 after the layout pass's padding,
// ...) fails the build: ERR_INVALID_ARGUMENT naming the layer and the reason; for float16,
// whyNot() says so first and the layer keeps cuDNN's tactics only.
//
// Tests: native/tests/engine_test_int8.cu (every tile of each int8 layer is run and checked against
// an integer CPU reference); native/tests/engine_test.cu (every tactic of a float16 NHWC layer,
// the igemm tiles among them, against a CPU reference).
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "conv_geometry.h"
#include "igemm/igemm_conv.h"

namespace netdef::cuda {

struct ConvTactic;

// Whether builds time the igemm tiles for float16 layers: on unless $NETDEF_CUDA_IGEMM_FP16 = 0
// (on since its tests and the yolov8 benchmarks ran on an H100, 2026-12-07: docs/benchmarks.md);
// anything but unset, 0 or 1 is refused (ERR_INVALID_ARGUMENT).
// A timing-cache key's mark of the igemm candidates: ",tiles-" and the hexadecimal bit mask of the
// timed tiles' values (kIgemmTiles' usable ones, less those the engine leaves out and the wgmma
// tiles when NETDEF_CUDA_WGMMA=0), so entries timed with another set are timed again rather than
// reused (until 2026-12-07, late evening, the mark was the count, ",tiles8": such entries no
// longer match).
std::string igemmTilesKey();
bool halfIgemmWanted();

class IgemmLayer {
 public:
  // Why the kernel cannot run this geometry ("" when it can): int8 or float16, NHWC in and out, one
  // group, no dilation, the kernel's channel multiple (igemm_conv.h).
  static std::string whyNot(const ConvGeometry& g);
  // Throws ERR_INVALID_ARGUMENT "<name>: the convolution cannot run on igemm: <whyNot>".
  IgemmLayer(const std::string& name, const ConvGeometry& g);

  // Times every tile (and its split-K variants) at `batch` (timeCandidates false: the first tile
  // that launches, untimed); the fastest first. `maxBatch` bounds the split-K workspace. A tactic
  // whose launch is refused for these buffers (alignment of a view) is left out; none left throws
  // the launch's ERR_INVALID_ARGUMENT.
  // `best`: the layer's best time among other candidates so far (0: none), for pruning (timing.h);
  // kNoPruning times every tactic fully (an exhaustive search).
  std::vector<ConvTactic> tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, int64_t maxBatch, bool timeCandidates,
                               float best = 0);
  // Split-K slice counts worth timing for `tile` at `batch` on a GPU of `multiprocessors` SMs: none
  // where the output tiles fill the SMs; else 2, 4, 8 and 16 (each as igemmEffectiveSplits runs
  // it, duplicates dropped) while each slice keeps
  // kMinSplitSteps reduction steps, the blocks stay within kMaxSplitWaves of one per SM, and the
  // partial sums at `maxBatch` fit kMaxSplitWorkspaceBytes and the engine's counters.
  std::vector<int> splitChoices(igemm::IgemmTile tile, int64_t batch, int64_t maxBatch, int multiprocessors) const;
  // Workspace bytes of the current tactic at `batch` (split-K's partial sums; 0 without).
  size_t workspaceBytes(int64_t batch) const;
  // Restores a tile (a loaded engine) or forces one (tests); ERR_ENGINE_FORMAT when it is no tile.
  void useTactic(const ConvTactic& t);
  void enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const;
  // Whether `t` (an igemm tile) can launch on these buffers (a view's alignment can rule a tile out).
  bool launches(const ConvTactic& t, const ConvBuffers& b, int64_t batch) const;
  std::string kernelName() const;

 private:
  static igemm::IgemmConvParams params(const ConvGeometry& g, const ConvBuffers& b, int64_t batch, igemm::IgemmTile tile, int splits);

  std::string name_;
  ConvGeometry g_;
  igemm::IgemmTile tile_ = igemm::IgemmTile::k128x64;
  int splits_ = 1;
};

// Split-K's bounds (IgemmLayer::splitChoices). The partial sums share the engine's convolution
// workspace; 1 MiB keeps a batch-1 engine's memory where it was (yolov8n fp16: 21 MB, issue 12).
inline constexpr int kSplitChoices[] = {2, 4, 8, 16};
inline constexpr int64_t kMinSplitSteps = 2;
inline constexpr int64_t kMaxSplitWaves = 4;
inline constexpr size_t kMaxSplitWorkspaceBytes = size_t{1} << 20;
// Zeroed counters an engine keeps for split-K (one per output tile of one launch).
inline constexpr int64_t kSplitCounterCount = 4096;

}  // namespace netdef::cuda
