// The few PTX instructions the implicit-GEMM kernels are made of (sm_80 and later): cp.async
// 16-byte copies global -> shared with zero fill, their commit/wait groups, ldmatrix (four 8x8
// matrices of 16-bit elements, i.e. four 8-row x 16-byte blocks whatever the element type), and
// the tensor-core mma.sync shapes per element type.
//
// Test: through native/tests/ops_igemm_conv.cu.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace netdef::cuda::igemm {

// Bytes one cp.async and one ldmatrix row move.
inline constexpr int kChunkBytes = 16;

__device__ __forceinline__ uint32_t sharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes from global `src` to shared `dst`, or writes 16 zero bytes when !valid (src is
// then not read). Cached in L2 only (.cg): tiles are reused across blocks, not within one.
__device__ __forceinline__ void cpAsync16(void* dst, const void* src, bool valid) {
  const int srcBytes = valid ? kChunkBytes : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], %2, %3;\n" ::"r"(sharedAddress(dst)), "l"(src), "n"(kChunkBytes),
               "r"(srcBytes));
}

__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most `kPending` committed groups are still in flight.
template <int kPending>
__device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Four 8x8 b16 matrices; lane l gives the row address of matrix l / 8, row l % 8. Thread t
// receives, from each matrix, row t / 4, bytes 4 * (t % 4) .. + 3.
__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], const void* rowAddress) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(sharedAddress(rowAddress)));
}

// D = A * B + D on one 16 x 8 x (32 bytes of K) tile, A row-major, B column-major (K contiguous
// for both), in the fragment layout that ldmatrixX4 produces:
//   a[0]: rows 0-7, K bytes 0-15; a[1]: rows 8-15, bytes 0-15; a[2]: rows 0-7, bytes 16-31;
//   a[3]: rows 8-15, bytes 16-31 (thread t: row t / 4, bytes 4 * (t % 4) ..);
//   b[0]: K bytes 0-15, b[1]: bytes 16-31 (thread t: column t / 4);
//   d[0], d[1]: row t / 4, columns 2 * (t % 4) + 0, 1; d[2], d[3]: row t / 4 + 8.
template <typename T>
struct Mma;

// int8 x int8 -> int32, m16n8k32.
template <>
struct Mma<int8_t> {
  using Acc = int32_t;
  static constexpr int kK = 32;
  __device__ __forceinline__ static void run(Acc (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

// float16 x float16 -> float32, m16n8k16 (same byte layout of the fragments as above).
template <>
struct Mma<__half> {
  using Acc = float;
  static constexpr int kK = 16;
  __device__ __forceinline__ static void run(Acc (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

}  // namespace netdef::cuda::igemm
