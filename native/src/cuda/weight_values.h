// Weight values converted between the float dtypes the engine stores them in (float32 <-> float16,
// round to nearest even), shared by the network (weights handed to layers at build) and refit
// (new weights swapped into a built engine), so both store exactly the same bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "../ir/graph.h"

namespace netdef::cuda {

// `count` values of `from` at `values` as a new buffer of `to`; ERR_INVALID_ARGUMENT for a pair of
// dtypes that is neither equal nor float32/float16.
std::vector<uint8_t> convertValues(const void* values, int64_t count, ir::DType from, ir::DType to);

// Whether convertValues accepts the pair.
bool convertible(ir::DType from, ir::DType to);

}  // namespace netdef::cuda
