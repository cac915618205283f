// What one convolution layer computes (shapes, layout, dtype, fused epilogue) and the device
// buffers it reads and writes: shared by the legacy cuDNN path (conv_layer) and the fused cuDNN
// graph path (cudnn_fused_conv).
//
// Test: native/tests/engine_test.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include "program.h"

namespace netdef::cuda {

struct ConvGeometry {
  ir::DType dtype = ir::DType::Float32;
  Layout layout = Layout::kRowMajor;
  int64_t inChannels = 0, height = 0, width = 0;  // per sample
  int64_t outChannels = 0, outHeight = 0, outWidth = 0;
  ConvolutionParams params{};
  FusedActivation activation = FusedActivation::kNone;
  bool hasBias = false;
};

// Device pointers a conv reads and writes.
struct ConvBuffers {
  const void* x = nullptr;
  const void* w = nullptr;  // KCRS (row-major) or KRSC (NHWC), in the conv's dtype
  const void* bias = nullptr;
  void* y = nullptr;
  void* workspace = nullptr;
  size_t workspaceBytes = 0;
};

}  // namespace netdef::cuda
