// One int8 convolution layer of the engine on the igemm kernel (igemm/igemm_conv.h): NHWC int8
// input (channel-range views allowed), KRSC int8 filter, per-output-channel scales, float32 bias,
// the activation and (when a Quantize was folded in, int8_conv_pass.h) the int8 requantize in the
// kernel's epilogue; the output is int8, float16 or float32, possibly a channel range of a
// concat's buffer.
// Tactic selection at build: every tile of kIgemmTiles is run once eagerly, then captured in a CUDA
// graph and timed (median of kTuneIterations replays), as ConvLayer times cuDNN's algorithms; the
// fastest is kept and serialized as a ConvTactic of kind kIgemm (algo = the tile). A geometry the
// kernel cannot run (groups, dilation, C not a multiple of 16 after the layout pass's padding, ...)
// fails the build: ERR_INVALID_ARGUMENT naming the layer and the reason.
//
// Test: native/tests/engine_test_int8.cu (every tile of each int8 layer is run and checked against
// an integer CPU reference).
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "conv_geometry.h"
#include "igemm/igemm_conv.h"

namespace netdef::cuda {

struct ConvTactic;

class IgemmLayer {
 public:
  // Throws ERR_INVALID_ARGUMENT "<name>: ..." when the kernel cannot run this geometry.
  IgemmLayer(const std::string& name, const ConvGeometry& g);

  // Times every tile at `batch` (timeCandidates false: the first tile, untimed). The chosen one first.
  std::vector<ConvTactic> tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, bool timeCandidates);
  // Restores a tile (a loaded engine) or forces one (tests); ERR_ENGINE_FORMAT when it is no tile.
  void useTactic(const ConvTactic& t);
  void enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const;
  std::string kernelName() const;

 private:
  igemm::IgemmConvParams params(const ConvBuffers& b, int64_t batch, igemm::IgemmTile tile) const;

  std::string name_;
  ConvGeometry g_;
  igemm::IgemmTile tile_ = igemm::IgemmTile::k128x64x64;
};

}  // namespace netdef::cuda
