// The CUDA engine's serialized form (the backend blob inside an engine file), version
// kEngineFormatVersion, all integers little-endian:
//
//   magic "NDCUDAE1" (8 bytes) | u32 format version | u32 sm major | u32 sm minor | str device name
//   | u64 payload bytes | payload | u64 FNV-1a-64 of everything before it
//   payload: i64 min, opt, max batch | u8 layout mode | u8 channel views | u8 tf32 (version 4 on)
//            | tensors  (u64 n; each: str name, u8 dtype, u8 layout, i32 constant, u8 is-input, i64s dims)
//            | weights  (u64 n; each: str name, u8 dtype, u64 bytes + raw values)
//            | inputs   (u64 n; i32 tensor each) | outputs (u64 n; each: str name, i32 tensor)
//            | ops      (u64 n; each: str name, u8 kind = OpAttrs index, i32 fused-into, u8 dtype (version 6 on),
//                        u64 n + i32 inputs, u64 n + i32 outputs, the kind's attributes; a
//                        convolution's end with i32 weight-scales index, f32 input and output scale,
//                        and from version 8 f32 residual scale)
//            | tactics  (u64 n; each: i32 op, u8 kind (0 legacy, 1 fused graph, 2 igemm, 3 direct), i32 cuDNN
//                        algo or igemm tile, i32 math type, i64 fused engine index, f32 ms at build,
//                        and from version 9 i32 split-K slices (1 but for igemm))
//            | plans    (version 8 on: str identity (the timing cache's: GPU, cuDNN, netdef), u64 n;
//                        each: str plan key, str cuDNN's plan text) of the fused tactics
//   (str = u64 length + bytes; i64s = u64 count + i64 each)
//
// The buffer plan is not stored: it is a pure function of the program and is recomputed at load.
// A wrong magic, version or checksum, a truncated blob or an out-of-range value throws
// ERR_ENGINE_FORMAT; the loader compares the stored GPU architecture with the device's.
//
// Test: native/tests/engine_test.cu (round trip gives identical outputs; truncated, bit-flipped
// and foreign-architecture blobs are refused with ERR_ENGINE_FORMAT).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conv_layer.h"
#include "layout_pass.h"
#include "program.h"

namespace netdef::cuda {

// 3: int8 convolutions (ConvAttrs' weight scales and input/output scales; the igemm tactic kind).
// 4: the tf32 flag (float32 convolutions on TF32 tensor cores); version 3 blobs load with it off.
// 5: direct convolutions (tactic kind kDirect; a convolution may read another dtype or write
//    another layout than its own; a Cast may be fused into the convolution after it) and pooling
//    through strides (any layout, written in place into its concat). An older build must refuse
//    such a program: its pooling kernel would read NHWC as NCHW. Version 3-4 blobs load with
//    pooling's channel views off, as they were built (their tactics were tuned without them).
// 6: the DetectDecode op (detect_decode_pass.h), op kind 14, which an older build must refuse; each
//    op's recorded dtype (OpDef::dtype; older blobs derive it from their tensors at load).
// 7: float16 convolutions may run on the igemm kernel (tactic kind kIgemm on a float16 layer), which
//    an older build refuses; nothing else changed, so versions 3-6 load as before.
// 8: the text of each fused cuDNN plan the engine runs (FusedConvPlan::json) and the identity it
//    is valid for: a load on the same GPU, cuDNN and netdef restores the plans from it instead of
//    making (compiling) them again; elsewhere they are made as before. An int8 convolution's
//    residual scale (an int8 residual add fused into it: ConvAttrs::residualScale), which an older
//    build would drop. Versions 3-7 load as before (no int8 residuals).
// 9: an igemm tactic's split-K slice count (ConvTactic::splits), which an older build would drop
//    (running one slice where the tuning chose several: right, but not what was timed). Versions
//    3-8 load with one slice everywhere, as they were built.
// 10: int8 convolutions on the direct kernel (tactic kind kDirect on an int8 layer, which an older
//    build refuses; the stem may read the float input with its Quantize fused in). A version 3-9
//    blob whose int8 layer this build would run direct (an igemm tactic on it) is refused with
//    ERR_ENGINE_FORMAT naming the layer: such engines are rebuilt.
inline constexpr uint32_t kEngineFormatVersion = 10;
inline constexpr uint32_t kInt8DirectFormatVersion = 10;
inline constexpr uint32_t kSplitKFormatVersion = 9;
inline constexpr uint32_t kPlanTextsFormatVersion = 8;
inline constexpr uint32_t kInt8ResidualFormatVersion = 8;
inline constexpr uint32_t kOpDtypeFormatVersion = 6;
inline constexpr uint32_t kTf32FormatVersion = 4;
inline constexpr uint32_t kPoolingViewsFormatVersion = 5;
inline constexpr uint32_t kOldestReadableFormatVersion = 3;

struct EngineConfig {
  int64_t minBatch = 1, optBatch = 1, maxBatch = 1;
  LayoutMode layoutMode = LayoutMode::kRowMajor;
  // Channel views (channel_views.h) in use; off when a convolution has no cuDNN algorithm for a
  // strided (in-place) tensor, and the engine was built with every concat and split copying.
  bool channelViews = true;
  // float32 convolutions may run on TF32 tensor cores (BuildOptions::tf32); off: FMA math, exact float32.
  bool tf32 = false;
  // Poolings may write into (and read from) channel views (channel_views.h); not stored: off for
  // blobs older than kPoolingViewsFormatVersion.
  bool poolingViews = true;
};

struct OpTactic {
  int32_t op = -1;
  ConvTactic tactic;
};

struct EngineRecord {
  uint32_t smMajor = 0, smMinor = 0;
  std::string deviceName;
  EngineConfig config;
  Program program;
  std::vector<OpTactic> tactics;
  std::string planIdentity;                      // what `plans` are valid for ("" when there are none)
  std::map<std::string, std::string> plans;      // fused plan texts by plan key (fused_conv_graph.h)
};

// `version`: the format to write, kOldestReadableFormatVersion to kEngineFormatVersion (older ones
// leave out the fields they lack; for tests of loading old blobs). ERR_INVALID_ARGUMENT otherwise.
std::vector<uint8_t> writeEngine(const EngineRecord& r, uint32_t version = kEngineFormatVersion);
EngineRecord readEngine(const uint8_t* data, size_t size);

}  // namespace netdef::cuda
