// Host-side pieces shared by the ops: the fixed-rank shape type, argument checks that throw
// netdef::Error, and the launch check. Plain C++ (no device code), so that the engine's .cc files can
// include any ops/<op>.cuh with a host compiler and the CUDA include path.
//
// Test: exercised through every op's test in native/tests/ops_*.cu.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/error.h"
#include "../../ir/graph.h"

namespace netdef::cuda::ops {

// The largest rank the shape-generic ops (elementwise, copy_strided, matmul) accept.
inline constexpr int kMaxRank = 6;

// A shape or a list of strides of rank <= kMaxRank, passed by value (also into kernels).
struct Dims {
  int rank = 0;
  int64_t v[kMaxRank] = {};

  Dims() = default;
  Dims(std::initializer_list<int64_t> list) { assign(list.begin(), list.end()); }
  explicit Dims(const std::vector<int64_t>& list) { assign(list.data(), list.data() + list.size()); }

  int64_t operator[](int i) const { return v[i]; }
  int64_t& operator[](int i) { return v[i]; }

  // Product of the dimensions (1 for rank 0).
  int64_t count() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= v[i];
    return n;
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  }

 private:
  void assign(const int64_t* begin, const int64_t* end) {
    if (end - begin > kMaxRank) {
      throw Error(kErrInvalidArgument, "rank " + std::to_string(end - begin) + " exceeds the ops' maximum of " +
                                           std::to_string(kMaxRank));
    }
    rank = static_cast<int>(end - begin);
    for (int i = 0; i < rank; ++i) v[i] = begin[i];
  }
};

inline bool operator==(const Dims& a, const Dims& b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; ++i)
    if (a.v[i] != b.v[i]) return false;
  return true;
}

// Contiguous (row-major) strides of a shape, in elements.
inline Dims contiguousStrides(const Dims& shape) {
  Dims s;
  s.rank = shape.rank;
  int64_t stride = 1;
  for (int i = shape.rank - 1; i >= 0; --i) {
    s.v[i] = stride;
    stride *= shape.v[i];
  }
  return s;
}

// Simplifies an index space walked with several stride lists (one per operand, same rank as shape):
// drops dimensions of size 1 and merges neighbours that are contiguous in every list, so a kernel
// decomposes fewer indices. The element each index reaches is unchanged.
inline constexpr int kMaxStrideLists = 4;
inline void coalesceDims(Dims& shape, Dims* const* strides, int lists) {
  if (lists > kMaxStrideLists) throw Error(kErrBackend, "coalesceDims: too many stride lists");
  Dims outShape;
  Dims outStrides[kMaxStrideLists];
  for (int i = 0; i < shape.rank; ++i) {
    if (shape.v[i] == 1) continue;
    const int last = outShape.rank - 1;
    bool merge = last >= 0;
    for (int l = 0; merge && l < lists; ++l) merge = outStrides[l].v[last] == strides[l]->v[i] * shape.v[i];
    if (merge) {
      outShape.v[last] *= shape.v[i];
      for (int l = 0; l < lists; ++l) outStrides[l].v[last] = strides[l]->v[i];
      continue;
    }
    outShape.v[outShape.rank] = shape.v[i];
    for (int l = 0; l < lists; ++l) outStrides[l].v[outShape.rank] = strides[l]->v[i];
    ++outShape.rank;
  }
  shape = outShape;
  for (int l = 0; l < lists; ++l) {
    outStrides[l].rank = outShape.rank;
    *strides[l] = outStrides[l];
  }
}

// The NumPy broadcast of two shapes (right-aligned; each dimension equal or 1), or nothing
// (rank -1) when they do not broadcast.
inline Dims broadcastShapes(const Dims& a, const Dims& b) {
  Dims out;
  out.rank = a.rank > b.rank ? a.rank : b.rank;
  for (int i = 0; i < out.rank; ++i) {
    const int ia = i - (out.rank - a.rank), ib = i - (out.rank - b.rank);
    const int64_t da = ia >= 0 ? a.v[ia] : 1, db = ib >= 0 ? b.v[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      out.rank = -1;
      return out;
    }
    out.v[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides (in elements) for reading a contiguous tensor of shape `in` broadcast to `out`: aligned
// to out's rank, 0 along dimensions that are broadcast.
inline Dims broadcastStrides(const Dims& in, const Dims& out) {
  const Dims contiguous = contiguousStrides(in);
  Dims s;
  s.rank = out.rank;
  for (int i = 0; i < out.rank; ++i) {
    const int j = i - (out.rank - in.rank);
    s.v[i] = (j >= 0 && in.v[j] != 1) ? contiguous.v[j] : 0;
  }
  return s;
}

inline const char* dtypeLabel(ir::DType t) {
  switch (t) {
    case ir::DType::Float32: return "float32";
    case ir::DType::Float16: return "float16";
    case ir::DType::Int8: return "int8";
    case ir::DType::Int32: return "int32";
    case ir::DType::Int64: return "int64";
    case ir::DType::UInt8: return "uint8";
    case ir::DType::Bool: return "bool";
  }
  return "unknown";
}

inline size_t elementBytes(ir::DType t) {
  switch (t) {
    case ir::DType::Float32: case ir::DType::Int32: return 4;
    case ir::DType::Float16: return 2;
    case ir::DType::Int64: return 8;
    case ir::DType::Int8: case ir::DType::UInt8: case ir::DType::Bool: return 1;
  }
  return 0;
}

[[noreturn]] inline void throwInvalid(const char* op, const std::string& message) {
  throw Error(kErrInvalidArgument, std::string(op) + ": " + message);
}

inline void require(bool ok, const char* op, const char* message) {
  if (!ok) throwInvalid(op, message);
}

inline void requireFloatType(ir::DType t, const char* op) {
  if (t != ir::DType::Float32 && t != ir::DType::Float16) {
    throwInvalid(op, std::string("dtype ") + dtypeLabel(t) + " is not supported (float32 or float16)");
  }
}

inline void requireShape(const Dims& d, const char* op, const char* what) {
  for (int i = 0; i < d.rank; ++i)
    if (d.v[i] < 0) throwInvalid(op, std::string(what) + " has a negative dimension: " + d.str());
}

// Call after every launch: a launch error becomes ERR_BACKEND, never an abort.
inline void checkLaunch(const char* op) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw Error(kErrBackend, std::string(op) + ": kernel launch failed: " + cudaGetErrorString(err));
}

}  // namespace netdef::cuda::ops
