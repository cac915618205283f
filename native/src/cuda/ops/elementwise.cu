// elementwise: see elementwise.cuh.
#include "elementwise.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "elementwise";

// The output index space after coalescing, with each input's strides (0 where broadcast).
struct BroadcastMap {
  int rank;
  int64_t size[kMaxRank];
  int64_t strideA[kMaxRank];
  int64_t strideB[kMaxRank];
};

template <ir::ElementWiseOp Op>
__device__ __forceinline__ float apply(float a, float b) {
  if constexpr (Op == ir::ElementWiseOp::Add) return a + b;
  if constexpr (Op == ir::ElementWiseOp::Sub) return a - b;
  if constexpr (Op == ir::ElementWiseOp::Mul) return a * b;
  if constexpr (Op == ir::ElementWiseOp::Div) return __fdiv_rn(a, b);  // IEEE division whatever the build flags
  if constexpr (Op == ir::ElementWiseOp::Max) return fmaxf(a, b);
  if constexpr (Op == ir::ElementWiseOp::Min) return fminf(a, b);
}

// Linear (rank <= 1 after coalescing: same shapes, or a scalar operand) or general indexing.
template <typename T, ir::ElementWiseOp Op, bool Linear>
__global__ void elementwiseKernel(const T* a, const T* b, T* y, int64_t count, BroadcastMap m) {
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    int64_t offsetA = 0, offsetB = 0;
    if constexpr (Linear) {
      offsetA = m.rank ? i * m.strideA[0] : 0;
      offsetB = m.rank ? i * m.strideB[0] : 0;
    } else {
      int64_t rest = i;
      for (int d = m.rank - 1; d >= 0; --d) {
        const int64_t coord = rest % m.size[d];
        rest /= m.size[d];
        offsetA += coord * m.strideA[d];
        offsetB += coord * m.strideB[d];
      }
    }
    y[i] = fromFloat<T>(apply<Op>(toFloat(a[offsetA]), toFloat(b[offsetB])));
  }
}

BroadcastMap makeMap(const ElementwiseParams& p) {
  Dims shape = p.yShape;
  Dims strideY = contiguousStrides(p.yShape);
  Dims strideA = broadcastStrides(p.aShape, p.yShape);
  Dims strideB = broadcastStrides(p.bShape, p.yShape);
  Dims* lists[] = {&strideY, &strideA, &strideB};
  coalesceDims(shape, lists, 3);
  BroadcastMap m{};
  m.rank = shape.rank;
  for (int d = 0; d < shape.rank; ++d) {
    m.size[d] = shape.v[d];
    m.strideA[d] = strideA.v[d];
    m.strideB[d] = strideB.v[d];
  }
  return m;
}

template <typename T, ir::ElementWiseOp Op>
void run(const ElementwiseParams& p, const BroadcastMap& m, int64_t count, cudaStream_t stream) {
  const T* a = static_cast<const T*>(p.a);
  const T* b = static_cast<const T*>(p.b);
  T* y = static_cast<T*>(p.y);
  const unsigned grid = gridFor(count, kElementwiseBlock);
  if (m.rank <= 1) {
    elementwiseKernel<T, Op, true><<<grid, kElementwiseBlock, 0, stream>>>(a, b, y, count, m);
  } else {
    elementwiseKernel<T, Op, false><<<grid, kElementwiseBlock, 0, stream>>>(a, b, y, count, m);
  }
  checkLaunch(kOp);
}

template <typename T>
void runType(const ElementwiseParams& p, const BroadcastMap& m, int64_t count, cudaStream_t stream) {
  using E = ir::ElementWiseOp;
  switch (p.op) {
    case E::Add: return run<T, E::Add>(p, m, count, stream);
    case E::Sub: return run<T, E::Sub>(p, m, count, stream);
    case E::Mul: return run<T, E::Mul>(p, m, count, stream);
    case E::Div: return run<T, E::Div>(p, m, count, stream);
    case E::Max: return run<T, E::Max>(p, m, count, stream);
    case E::Min: return run<T, E::Min>(p, m, count, stream);
  }
  throwInvalid(kOp, "unknown elementwise op");
}

}  // namespace

void launchElementwise(const ElementwiseParams& p, cudaStream_t stream) {
  requireFloatType(p.dtype, kOp);
  requireShape(p.aShape, kOp, "a");
  requireShape(p.bShape, kOp, "b");
  const Dims expected = broadcastShapes(p.aShape, p.bShape);
  if (expected.rank < 0) throwInvalid(kOp, "shapes " + p.aShape.str() + " and " + p.bShape.str() + " do not broadcast");
  if (!(expected == p.yShape)) {
    throwInvalid(kOp, "y shape " + p.yShape.str() + " is not the broadcast shape " + expected.str());
  }
  const int64_t count = p.yShape.count();
  if (count == 0) return;
  require(p.a && p.b && p.y, kOp, "null a, b or y");
  const BroadcastMap m = makeMap(p);
  if (p.dtype == ir::DType::Float32) return runType<float>(p, m, count, stream);
  return runType<__half>(p, m, count, stream);
}

}  // namespace netdef::cuda::ops
