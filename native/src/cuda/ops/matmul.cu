// matmul: see matmul.cuh.
#include "matmul.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "matmul";
// Outputs per block along each side; the block is kMatMulTile x kMatMulTile threads.
constexpr int kMatMulTile = 16;
// Grid limits of the y and z dimensions (z, the batch, is strided over beyond it).
constexpr int64_t kMaxGridYZ = 65535;

// The broadcast batch index space with each input's matrix offsets (0 where broadcast).
struct BatchMap {
  int rank;
  int64_t size[kMaxRank];
  int64_t strideA[kMaxRank];
  int64_t strideB[kMaxRank];
};

template <typename T>
__global__ void matmulKernel(const T* a, const T* b, T* y, int64_t M, int64_t N, int64_t K, int64_t batch,
                             BatchMap m) {
  __shared__ float tileA[kMatMulTile][kMatMulTile];
  __shared__ float tileB[kMatMulTile][kMatMulTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kMatMulTile + ty;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kMatMulTile + tx;
  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
    int64_t offsetA = 0, offsetB = 0, rest = z;
    for (int d = m.rank - 1; d >= 0; --d) {
      const int64_t coord = rest % m.size[d];
      rest /= m.size[d];
      offsetA += coord * m.strideA[d];
      offsetB += coord * m.strideB[d];
    }
    const T* A = a + offsetA;
    const T* B = b + offsetB;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < K; k0 += kMatMulTile) {
      tileA[ty][tx] = (row < M && k0 + tx < K) ? toFloat(A[row * K + k0 + tx]) : 0.0f;
      tileB[ty][tx] = (k0 + ty < K && col < N) ? toFloat(B[(k0 + ty) * N + col]) : 0.0f;
      __syncthreads();
#pragma unroll
      for (int k = 0; k < kMatMulTile; ++k) acc += tileA[ty][k] * tileB[k][tx];
      __syncthreads();
    }
    if (row < M && col < N) y[z * M * N + row * N + col] = fromFloat<T>(acc);
  }
}

Dims batchOf(const Dims& d) {
  Dims b;
  b.rank = d.rank - 2;
  for (int i = 0; i < b.rank; ++i) b.v[i] = d.v[i];
  return b;
}

}  // namespace

void launchMatMul(const MatMulParams& p, cudaStream_t stream) {
  requireFloatType(p.dtype, kOp);
  requireShape(p.aShape, kOp, "a");
  requireShape(p.bShape, kOp, "b");
  require(p.aShape.rank >= 2 && p.bShape.rank >= 2, kOp, "a and b must have rank >= 2");
  const int64_t M = p.aShape[p.aShape.rank - 2], K = p.aShape[p.aShape.rank - 1];
  const int64_t N = p.bShape[p.bShape.rank - 1];
  if (p.bShape[p.bShape.rank - 2] != K) throwInvalid(kOp, "inner dimensions differ: " + p.aShape.str() + " @ " + p.bShape.str());
  Dims batch = broadcastShapes(batchOf(p.aShape), batchOf(p.bShape));
  if (batch.rank < 0) throwInvalid(kOp, "batch dimensions do not broadcast: " + p.aShape.str() + " @ " + p.bShape.str());
  Dims expected = batch;
  expected.rank += 2;
  expected.v[expected.rank - 2] = M;
  expected.v[expected.rank - 1] = N;
  if (!(expected == p.yShape)) throwInvalid(kOp, "y shape " + p.yShape.str() + " is not " + expected.str());
  const int64_t batchCount = batch.count();
  if (batchCount * M * N == 0) return;
  require(p.a && p.b && p.y, kOp, "null a, b or y");
  require((M + kMatMulTile - 1) / kMatMulTile <= kMaxGridYZ, kOp, "too many rows");

  Dims strideOut = contiguousStrides(batch);
  Dims strideA = broadcastStrides(batchOf(p.aShape), batch);
  Dims strideB = broadcastStrides(batchOf(p.bShape), batch);
  for (int d = 0; d < batch.rank; ++d) {
    strideA.v[d] *= M * K;
    strideB.v[d] *= K * N;
  }
  Dims* lists[] = {&strideOut, &strideA, &strideB};
  coalesceDims(batch, lists, 3);
  BatchMap m{};
  m.rank = batch.rank;
  for (int d = 0; d < batch.rank; ++d) {
    m.size[d] = batch.v[d];
    m.strideA[d] = strideA.v[d];
    m.strideB[d] = strideB.v[d];
  }
  const dim3 block(kMatMulTile, kMatMulTile);
  const dim3 grid(static_cast<unsigned>((N + kMatMulTile - 1) / kMatMulTile),
                  static_cast<unsigned>((M + kMatMulTile - 1) / kMatMulTile),
                  static_cast<unsigned>(std::min(batchCount, kMaxGridYZ)));
  if (p.dtype == ir::DType::Float32) {
    matmulKernel<float><<<grid, block, 0, stream>>>(static_cast<const float*>(p.a), static_cast<const float*>(p.b),
                                                    static_cast<float*>(p.y), M, N, K, batchCount, m);
  } else {
    matmulKernel<__half><<<grid, block, 0, stream>>>(static_cast<const __half*>(p.a), static_cast<const __half*>(p.b),
                                                     static_cast<__half*>(p.y), M, N, K, batchCount, m);
  }
  checkLaunch(kOp);
}

}  // namespace netdef::cuda::ops
