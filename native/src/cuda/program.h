// The CUDA engine's own description of a network: what CudaNetwork records from the INetwork
// calls, what the build passes (fusion, layout) rewrite, what the engine runs and what its blob
// stores. Tensors have logical shapes with the symbolic batch (ir::kBatch) in front, a dtype, and
// a physical layout; ops are a closed std::variant of per-kind attributes, so std::visit over an
// op fails to compile until every consumer handles a new kind.
//
// Test: native/tests/engine_test.cu (built through CudaNetwork, run, serialized, reloaded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "../ir/graph.h"
#include "../replay/network.h"

namespace netdef::cuda {

// How a 4-D activation [N, C, H, W] lies in memory. Every other rank is row-major (kRowMajor).
enum class Layout : uint8_t { kRowMajor = 0, kNhwc = 1 };

struct TensorDef {
  std::string name;
  ir::DType dtype = ir::DType::Float32;
  std::vector<int64_t> dims;  // dims[0] == ir::kBatch for tensors with the dynamic batch
  Layout layout = Layout::kRowMajor;
  int32_t constant = -1;      // index into Program::weights for constants
  bool isInput = false;

  bool batched() const { return !dims.empty() && dims[0] == ir::kBatch; }
};

struct WeightDef {
  std::string name;
  ir::DType dtype = ir::DType::Float32;
  std::vector<uint8_t> bytes;
};

enum class FusedActivation : uint8_t { kNone = 0, kSilu, kSigmoid, kRelu };

struct ConvAttrs {
  int64_t outChannels = 0;
  ConvolutionParams params{};
  int32_t weight = -1;  // WeightDef index, [K, C/groups, kh, kw] in the conv's dtype, KCRS order
  int32_t bias = -1;    // WeightDef index or -1 (float32 for an int8 convolution)
  FusedActivation activation = FusedActivation::kNone;
  // An int8 convolution (int8 weight; int8 input, or a float one a direct convolution quantizes as
  // it reads it, int8_conv_pass.h): K float32 per-output-channel weight scales
  // (WeightDef index, -1 for a float convolution) and the input's per-tensor scale. Its output is
  // acc * inputScale * weightScales[k] + bias[k], then the activation; outputScale > 0 means a
  // Quantize was folded in (int8_conv_pass.h) and the output is int8 at that scale.
  int32_t weightScales = -1;
  float inputScale = 0;
  float outputScale = 0;
  // An int8 convolution's fused residual add reading int8 data (a Dequantize folded in, fuse_pass.h):
  // y = act(...) + residual * residualScale. 0: no residual, or a float one.
  float residualScale = 0;
  bool isInt8() const { return weightScales >= 0; }
};
struct ActivationAttrs { ActivationType type = ActivationType::Silu; };
struct ElementWiseAttrs { ElementWiseOperation op = ElementWiseOperation::Sum; };
struct ConcatAttrs { int32_t axis = 0; };
struct SliceAttrs { std::vector<int64_t> start, size, stride; };  // size[0] == kBatch keeps the batch
struct PoolingAttrs { PoolingParams params{}; PoolingType type = PoolingType::Max; };
struct ResizeAttrs { std::vector<float> scales; };
struct ShuffleAttrs { std::vector<int64_t> reshape; std::vector<int32_t> permutation; };
struct SoftmaxAttrs { int32_t axis = 0; };
struct MatMulAttrs {};
struct CastAttrs { ir::DType to = ir::DType::Float32; };
struct QuantizeAttrs { int32_t axis = -1; ir::DType to = ir::DType::Int8; };      // input 1 is the scale
struct DequantizeAttrs { int32_t axis = -1; ir::DType to = ir::DType::Float32; };  // input 1 is the scale
// Inserted by the layout pass: copies a tensor into another layout (TensorRT's reformat layer).
struct ReformatAttrs {};
// Inserted by the Detect-head fusion (detect_decode_pass.h), run by ops/detect_decode.cuh. Inputs:
// `levels` level tensors [N, 4·bins + classes, H, W], then the anchor points [.., 2, A] and the
// strides [.., A] (constants of one float dtype); output [N, 4 + classes, A]. The half* flags say
// where the unfused graph stores a value in float16 (DetectDecodeParams).
struct DetectDecodeAttrs {
  int32_t levels = 0;
  int64_t bins = 0, classes = 0;
  int32_t dflWeight = -1;  // WeightDef index: the DFL convolution's `bins` weights (refit reaches them)
  float divisor = 2;
  bool halfSoftmax = false, halfDistance = false, halfDecode = false, halfBox = false, halfScore = false;
};

using OpAttrs = std::variant<ConvAttrs, ActivationAttrs, ElementWiseAttrs, ConcatAttrs, SliceAttrs, PoolingAttrs,
                             ResizeAttrs, ShuffleAttrs, SoftmaxAttrs, MatMulAttrs, CastAttrs, QuantizeAttrs,
                             DequantizeAttrs, ReformatAttrs, DetectDecodeAttrs>;

struct OpDef {
  std::string name;
  std::vector<int32_t> inputs, outputs;  // tensor indices
  OpAttrs attrs;
  int32_t fusedInto = -1;  // set by the fusion pass: the op that now computes this one (this one runs nothing)
  // The dtype the layer computes in, fixed when it is recorded (recordedDtype): what layers()
  // reports, kept when a pass fuses the op or folds its input's Cast.
  ir::DType dtype = ir::DType::Float32;
};

struct OutputDef {
  std::string name;
  int32_t tensor = -1;
};

struct Program {
  std::vector<TensorDef> tensors;
  std::vector<OpDef> ops;
  std::vector<WeightDef> weights;
  std::vector<int32_t> inputs;  // tensor indices, in addInput order
  std::vector<OutputDef> outputs;
};

// The op computes nothing: its output is its input seen with another shape (a reshape-only
// shuffle), or it was fused into another op. The buffer plan aliases its output to its input.
bool isView(const OpDef& op);

inline bool isFloatDType(ir::DType t) { return t == ir::DType::Float32 || t == ir::DType::Float16; }

// The dtype `op` (with its tensors, as recorded) computes in: a Cast's or Dequantize's output's, a
// convolution's weights', else its first input's (its output's when it has none).
ir::DType recordedDtype(const Program& p, const OpDef& op);

// "silu", "sigmoid", "relu", "none".
const char* fusedActivationName(FusedActivation a);

// "Convolution", "Activation", ... (the kind layers() reports).
const char* opKindName(const OpAttrs& attrs);

// Dims with the batch substituted (dims[0] == kBatch -> batch).
std::vector<int64_t> resolveDims(const TensorDef& t, int64_t batch);
int64_t elementCount(const std::vector<int64_t>& dims);
// Bytes of `t` at `batch`.
uint64_t tensorBytes(const TensorDef& t, int64_t batch);

}  // namespace netdef::cuda
