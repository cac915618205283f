// The C2f-like test chain (engine_test_chain.cu), shared with the engine-level tests in
// engine_test.cu that need an engine with several op kinds, both layouts and three outputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cuda/engine_build.h"
#include "engine_test_util.h"

namespace engine_test {

// x[B,16,16,16] -> cv1 3x3 16->32 silu -> split a|b -> m: b + silu(conv 3x3 16->16)(b) -> concat
// [a, b, m] -> cv2 1x1 48->32 silu -> nearest x2 -> maxpool 5 s1 p2 -> conv 1x1 32->16 bias ->
// reshape [B,16,1024] -> y = sigmoid (cast to float32) ; t = transpose(reshaped * k[1,1,1024]) ;
// q = dequantize(quantize(reshaped, per-channel int8 scales)).
constexpr int64_t kChainC = 16, kChainHW = 16;

struct ChainModel {
  DType t;
  std::vector<std::vector<float>> w, b;  // cv1, m, cv2, cv3
  std::vector<float> k;
  std::vector<std::vector<uint8_t>> wBytes, bBytes;
  std::vector<uint8_t> kBytes;
  std::vector<float> q;  // per-channel int8 scales of the Q/DQ pair
  std::vector<uint8_t> qBytes;
};

constexpr double kFp32ChainTol = 1e-4;  // ‖err‖ / ‖ref‖ over a chain of layers
constexpr double kFp16ChainTol = 1e-2;

ChainModel makeChain(DType t, ops_test::Rng& rng);
// The chain's weight names as buildChain gives them (conv i: "<layer>.w", "<layer>.b"; "k").
const std::vector<std::string>& chainConvNames();

struct ChainOutputs {
  Tensor4 y, t, q;
};
// The chain's outputs in double: y [B,16,1024], t [B,1024,16], q = dequantize(quantize(flat)).
ChainOutputs chainRef(const ChainModel& m, const std::vector<float>& xf, int64_t batch);
std::unique_ptr<netdef::cuda::CudaEngine> buildChain(const ChainModel& m, netdef::cuda::LayoutMode mode);
// Builds the chain in fp32 and fp16, each layout, and checks every output at batch 1, 3, 1.
void testChain();
// A C2f + SPPF-like chain whose splits and concats run as channel-range views (channel_views.h):
// fp32 and fp16, each layout, batch 1, 3, 1, against the CPU reference; checks the views are taken.
void testViewChain();
// Refit of a built chain engine (engine_test_refit.cu).
void testRefit();

}  // namespace engine_test
