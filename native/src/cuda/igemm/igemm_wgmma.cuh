// Hopper's warpgroup MMA (wgmma.mma_async, sm_90a) for the implicit-GEMM kernels: the PTX wrappers
// and the shared-memory matrix descriptors. A warpgroup (4 warps, 128 threads) multiplies a 64-row
// slice of the block's A stage by the whole N-row B stage (N = the block's N: 128 in
// igemm_kernel.cuh's wgmma tiles; 80, 128 or 160 in igemm_ws_kernel.cuh's), reading both from
// shared memory:
//
//   float16: m64nNk16, f32 accumulators;  int8: m64nNk32, s32 accumulators
//
// i.e. 32 bytes of K per instruction for both types, four instructions per 128-byte stage row.
// Operands are K-major with the 128-byte swizzle: 16-byte chunk c of row r at r * 128 +
// (c ^ (r % 8)) * 16 from a 1024-byte aligned base, which is exactly igemm_tile.cuh's stage layout
// for 128-byte rows (TileConfig::chunkOffset), so the cp.async loaders fill stages that wgmma reads
// as they are. The descriptor (PTX ISA, "Matrix Descriptor Format"): start address >> 4 in bits
// 0-13, leading byte offset >> 4 in 16-29 (unused for swizzled K-major layouts: 1), stride byte
// offset >> 4 in 32-45 (1024: eight 128-byte rows), base offset 0 (1024-byte aligned atoms), and
// the swizzle mode in 62-63 (1: 128 bytes). Stepping K by 32 bytes inside the swizzle atom adds 2
// to the start address field.
//
// Accumulator fragment (the PTX ISA's wgmma D layout for .m64nNk*): warp w of the warpgroup holds
// rows 16w .. 16w+15; for each 8-column block j, d[4j], d[4j+1] are row 16w + lane/4, columns
// 8j + 2 (lane % 4) + 0, 1, and d[4j+2], d[4j+3] the same columns 8 rows below: mma.sync's
// m16n8 layout repeated along N, so the epilogue stages them as it stages mma.sync fragments
// (acc[0][j][e] = d[4j + e]).
//
// Only where compiled for sm_90a (__CUDA_ARCH_FEAT_SM90_ALL); elsewhere the wrappers trap, and the
// host never launches them (igemm_conv.cu's wgmmaUsable()).
//
// Test: through native/tests/ops_igemm_conv.cu and ops_igemm_conv_half.cu (the wgmma tile, exact
// int32 accumulators and every epilogue against the CPU references).
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "igemm_ptx.cuh"

namespace netdef::cuda::igemm {

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define NETDEF_WGMMA_DEVICE 1
#else
#define NETDEF_WGMMA_DEVICE 0
#endif

inline constexpr int kWgmmaM = 64;          // rows per warpgroup instruction
inline constexpr int kWgmmaN = 128;         // columns of igemm_kernel.cuh's wgmma tiles (128 x 128, two warpgroups)
inline constexpr int kWgmmaKBytes = 32;     // K bytes per instruction (16 float16, 32 int8)
inline constexpr int kWarpgroupThreads = 128;
inline constexpr int kSwizzleAtomBytes = 1024;  // eight 128-byte rows: the 128-byte swizzle's period
// Accumulators a thread holds for one m64nN wgmma: N / 2.
template <int N>
inline constexpr int kWgmmaAccumulators = kWgmmaM * N / kWarpgroupThreads;
inline constexpr int kAccPerThread = kWgmmaAccumulators<kWgmmaN>;  // 64 (igemm_kernel.cuh's tiles)

// The descriptor of a K-major, 128-byte-swizzled operand starting at `smem` (an atom-aligned row,
// or that plus a multiple of 32 bytes to step K).
__device__ __forceinline__ uint64_t wgmmaDescriptor(const void* smem) {
  constexpr uint64_t kAddressMask = 0x3FFFF, kEncodeShift = 4;
  constexpr uint64_t kLeadingByteOffset = 1;                                   // unused here (see above)
  constexpr uint64_t kStrideByteOffset = kSwizzleAtomBytes >> kEncodeShift;    // 8 rows of 128 bytes
  constexpr uint64_t kSwizzle128B = 1;
  const uint64_t address = (static_cast<uint64_t>(sharedAddress(smem)) & kAddressMask) >> kEncodeShift;
  return address | (kLeadingByteOffset << 16) | (kStrideByteOffset << 32) | (kSwizzle128B << 62);
}

// Orders this thread's earlier generic-proxy writes to shared memory (cp.async fills) before later
// async-proxy reads (wgmma); then a barrier makes every thread's fills visible.
__device__ __forceinline__ void fenceProxyAsync() {
#if NETDEF_WGMMA_DEVICE
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wgmmaFence() {
#if NETDEF_WGMMA_DEVICE
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wgmmaCommit() {
#if NETDEF_WGMMA_DEVICE
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}

// Waits until at most kPending committed wgmma groups of this warpgroup are in flight.
template <int kPending>
__device__ __forceinline__ void wgmmaWait() {
#if NETDEF_WGMMA_DEVICE
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
#endif
}

// Keeps the compiler from moving reads or writes of the accumulators across the asynchronous MMA.
template <typename Acc, int kCount>
__device__ __forceinline__ void fenceAccumulators(Acc (&d)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) {
    if constexpr (std::is_same_v<Acc, float>) {
      asm volatile("" : "+f"(d[i])::"memory");
    } else {
      asm volatile("" : "+r"(d[i])::"memory");
    }
  }
}

#define NETDEF_WGMMA_D8(c, i) \
  "+" c(d[i]), "+" c(d[i + 1]), "+" c(d[i + 2]), "+" c(d[i + 3]), "+" c(d[i + 4]), "+" c(d[i + 5]), "+" c(d[i + 6]), "+" c(d[i + 7])
#define NETDEF_WGMMA_D40(c) \
  NETDEF_WGMMA_D8(c, 0), NETDEF_WGMMA_D8(c, 8), NETDEF_WGMMA_D8(c, 16), NETDEF_WGMMA_D8(c, 24), \
  NETDEF_WGMMA_D8(c, 32)
#define NETDEF_WGMMA_D64(c) \
  NETDEF_WGMMA_D8(c, 0), NETDEF_WGMMA_D8(c, 8), NETDEF_WGMMA_D8(c, 16), NETDEF_WGMMA_D8(c, 24), \
  NETDEF_WGMMA_D8(c, 32), NETDEF_WGMMA_D8(c, 40), NETDEF_WGMMA_D8(c, 48), NETDEF_WGMMA_D8(c, 56)
#define NETDEF_WGMMA_D80(c) \
  NETDEF_WGMMA_D8(c, 0), NETDEF_WGMMA_D8(c, 8), NETDEF_WGMMA_D8(c, 16), NETDEF_WGMMA_D8(c, 24), \
  NETDEF_WGMMA_D8(c, 32), NETDEF_WGMMA_D8(c, 40), NETDEF_WGMMA_D8(c, 48), NETDEF_WGMMA_D8(c, 56), \
  NETDEF_WGMMA_D8(c, 64), NETDEF_WGMMA_D8(c, 72)
#define NETDEF_WGMMA_D128(c) \
  NETDEF_WGMMA_D8(c, 0), NETDEF_WGMMA_D8(c, 8), NETDEF_WGMMA_D8(c, 16), NETDEF_WGMMA_D8(c, 24), NETDEF_WGMMA_D8(c, 32), NETDEF_WGMMA_D8(c, 40), NETDEF_WGMMA_D8(c, 48), NETDEF_WGMMA_D8(c, 56), NETDEF_WGMMA_D8(c, 64), NETDEF_WGMMA_D8(c, 72), NETDEF_WGMMA_D8(c, 80), NETDEF_WGMMA_D8(c, 88), NETDEF_WGMMA_D8(c, 96), NETDEF_WGMMA_D8(c, 104), NETDEF_WGMMA_D8(c, 112), NETDEF_WGMMA_D8(c, 120)
#define NETDEF_WGMMA_REGS_128 \
  "{" "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
  "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, " \
  "%40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, " \
  "%60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, " \
  "%100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, " \
  "%120, %121, %122, %123, %124, %125, %126, %127}"
#define NETDEF_WGMMA_REGS_40 \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, "  \
  "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39}"
#define NETDEF_WGMMA_REGS_64 \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, "  \
  "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, "  \
  "%40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, "  \
  "%60, %61, %62, %63}"
#define NETDEF_WGMMA_REGS_80 \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, "  \
  "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, "  \
  "%40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, "  \
  "%60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79}"

// One shape of the wrapper below: m64nN with the accumulator operands %0 .. %(N/2 - 1), then the
// descriptors %DA, %DB and the scale-d value %P (1: D = A * B + D); A and B scales 1, neither
// transposed (both K-major).
#define NETDEF_WGMMA_SHAPE(N, REGS, DLIST, DA, DB, P)                                                                        \
  if constexpr (kN == N) {                                                                                                   \
    if constexpr (std::is_same_v<T, __half>) {                                                                               \
      asm volatile("{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %" #P ", 0;\n"                                       \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32.f16.f16 " REGS ", %" #DA ", %" #DB                        \
                   ", accumulate, 1, 1, 0, 0;\n}\n"                                                                          \
                   : DLIST("f")                                                                                              \
                   : "l"(a), "l"(b), "r"(1));                                                                                \
    } else {                                                                                                                 \
      asm volatile("{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %" #P ", 0;\n"                                       \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k32.s32.s8.s8 " REGS ", %" #DA ", %" #DB ", accumulate;\n}\n"     \
                   : DLIST("r")                                                                                              \
                   : "l"(a), "l"(b), "r"(1));                                                                                \
    }                                                                                                                        \
  }

// D += A * B for one warpgroup: A 64 x 32 bytes of K, B kN x 32 bytes of K (both K-major,
// descriptors above), D this thread's kN / 2 accumulators of mma.sync's accumulator type for T.
// kN: 80, 128, 160 or 256 (the block N of the tiles that use it).
template <typename T, int kN>
__device__ __forceinline__ void wgmma(typename Mma<T>::Acc (&d)[kWgmmaAccumulators<kN>], uint64_t a, uint64_t b) {
  static_assert(std::is_same_v<T, __half> || std::is_same_v<T, int8_t>, "wgmma: float16 or int8");
  static_assert(kN == 80 || kN == 128 || kN == 160 || kN == 256, "wgmma: N 80, 128, 160 or 256");
#if NETDEF_WGMMA_DEVICE
  NETDEF_WGMMA_SHAPE(80, NETDEF_WGMMA_REGS_40, NETDEF_WGMMA_D40, 40, 41, 42)
  else NETDEF_WGMMA_SHAPE(128, NETDEF_WGMMA_REGS_64, NETDEF_WGMMA_D64, 64, 65, 66)
  else NETDEF_WGMMA_SHAPE(160, NETDEF_WGMMA_REGS_80, NETDEF_WGMMA_D80, 80, 81, 82)
  else NETDEF_WGMMA_SHAPE(256, NETDEF_WGMMA_REGS_128, NETDEF_WGMMA_D128, 128, 129, 130)
#else
  (void)d, (void)a, (void)b;
  __trap();
#endif
}

#undef NETDEF_WGMMA_SHAPE
#undef NETDEF_WGMMA_REGS_128
#undef NETDEF_WGMMA_REGS_80
#undef NETDEF_WGMMA_REGS_64
#undef NETDEF_WGMMA_REGS_40
#undef NETDEF_WGMMA_D128
#undef NETDEF_WGMMA_D80
#undef NETDEF_WGMMA_D64
#undef NETDEF_WGMMA_D40
#undef NETDEF_WGMMA_D8

}  // namespace netdef::cuda::igemm
