// See weight_values.h.
#include "weight_values.h"

#include <cuda_fp16.h>

#include <cstring>
#include <string>

#include "../common/error.h"
#include "ops/op_common.cuh"
#include "program.h"

namespace netdef::cuda {

bool convertible(ir::DType from, ir::DType to) {
  return from == to || (isFloatDType(from) && isFloatDType(to));
}

std::vector<uint8_t> convertValues(const void* values, int64_t count, ir::DType from, ir::DType to) {
  if (!convertible(from, to)) {
    throw Error(kErrInvalidArgument, std::string("cannot convert weights from ") + ops::dtypeLabel(from) + " to " + ops::dtypeLabel(to));
  }
  std::vector<uint8_t> out(static_cast<size_t>(count) * ops::elementBytes(to));
  if (from == to) {
    if (count > 0) std::memcpy(out.data(), values, out.size());
  } else if (to == ir::DType::Float16) {
    const float* src = static_cast<const float*>(values);
    __half* dst = reinterpret_cast<__half*>(out.data());
    for (int64_t i = 0; i < count; ++i) dst[i] = __float2half_rn(src[i]);
  } else {
    const __half* src = static_cast<const __half*>(values);
    float* dst = reinterpret_cast<float*>(out.data());
    for (int64_t i = 0; i < count; ++i) dst[i] = __half2float(src[i]);
  }
  return out;
}

}  // namespace netdef::cuda
