// Tests ops/matmul: single and batched products, broadcast batch dimensions (rank 4 and 5), sizes
// not multiples of the tile, K up to 300, float32 and float16. Reference in double; the error is
// measured relative to sum_k |a_ik b_kj| (the scale of float accumulation error).
#include <cmath>

#include "cuda/ops/matmul.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::Dims;
using netdef::cuda::ops::MatMulParams;
using Shape = std::vector<int64_t>;

constexpr uint32_t kSeed = 1009;

int64_t countOf(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Offset of matrix `z` of the broadcast batch `batch` inside an operand with batch dims `own`.
int64_t matrixIndex(const Shape& batch, const Shape& own, int64_t z) {
  int64_t index = 0, stride = 1;
  for (size_t k = 0; k < batch.size(); ++k) {
    const int64_t coord = z % batch[batch.size() - 1 - k];
    z /= batch[batch.size() - 1 - k];
    if (k < own.size()) {
      const int64_t size = own[own.size() - 1 - k];
      if (size != 1) index += coord * stride;
      stride *= size;
    }
  }
  return index;
}

void runCaseFor(Rng& rng, DType t, const Shape& as, const Shape& bs) {
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  const Shape aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
  Shape batch(std::max(aBatch.size(), bBatch.size()), 1);
  for (size_t k = 0; k < batch.size(); ++k) {
    if (k < aBatch.size()) batch[batch.size() - 1 - k] = std::max(batch[batch.size() - 1 - k], aBatch[aBatch.size() - 1 - k]);
    if (k < bBatch.size()) batch[batch.size() - 1 - k] = std::max(batch[batch.size() - 1 - k], bBatch[bBatch.size() - 1 - k]);
  }
  Shape ys = batch;
  ys.push_back(M);
  ys.push_back(N);
  const std::string name = std::string("matmul ") + typeName(t) + " " + shapeName(as) + " @ " + shapeName(bs) + " -> " + shapeName(ys);
  runCase(name, [&] {
    const std::vector<float> a = representable(rng.uniform(countOf(as), -1.0f, 1.0f), t);
    const std::vector<float> b = representable(rng.uniform(countOf(bs), -1.0f, 1.0f), t);
    DeviceBuffer da(encode(a, t)), db(encode(b, t)), dy(countOf(ys) * sizeOf(t));
    dy.poison();
    MatMulParams p;
    p.dtype = t;
    p.a = da.get();
    p.b = db.get();
    p.y = dy.get();
    p.aShape = Dims(as);
    p.bShape = Dims(bs);
    p.yShape = Dims(ys);
    netdef::cuda::ops::launchMatMul(p, nullptr);
    syncDevice();
    std::vector<double> ref(countOf(ys)), scale(countOf(ys));
    for (int64_t z = 0; z < countOf(batch); ++z) {
      const float* A = &a[matrixIndex(batch, aBatch, z) * M * K];
      const float* B = &b[matrixIndex(batch, bBatch, z) * K * N];
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double sum = 0, magnitude = 0;
          for (int64_t k = 0; k < K; ++k) {
            sum += static_cast<double>(A[i * K + k]) * B[k * N + j];
            magnitude += std::fabs(static_cast<double>(A[i * K + k]) * B[k * N + j]);
          }
          ref[(z * M + i) * N + j] = sum;
          scale[(z * M + i) * N + j] = magnitude;
        }
    }
    checkClose(name, decode(dy.download(), t), ref, rtolFor(t), atolFor(t), &scale);
  });
}

}  // namespace

void testMatMul() {
  Rng rng(kSeed);
  const std::pair<Shape, Shape> shapes[] = {
      {{3, 5}, {5, 7}},           {{2, 17, 33}, {33, 9}},          {{2, 1, 16, 20}, {3, 20, 18}},
      {{4, 65, 40}, {4, 40, 31}}, {{1, 64, 300}, {1, 300, 64}},    {{2, 1, 3, 7, 6}, {1, 4, 1, 6, 5}},
  };
  for (DType t : {DType::Float32, DType::Float16})
    for (const auto& s : shapes) runCaseFor(rng, t, s.first, s.second);
  expectError("matmul rejects mismatched inner dimensions", netdef::kErrInvalidArgument, [] {
    MatMulParams p;
    p.aShape = Dims{2, 3};
    p.bShape = Dims{4, 5};
    p.yShape = Dims{2, 5};
    netdef::cuda::ops::launchMatMul(p, nullptr);
  });
}

}  // namespace ops_test
