// Shared-memory barriers (mbarrier, sm_90) for the warp-specialized implicit-GEMM kernel
// (igemm_ws_kernel.cuh): a stage's "full" barrier completes when every producer thread's copies
// into it have landed (cp.async's arrive-on, and the tensor memory accelerator's bytes where it
// loads the weights or the activations too), its "empty" barrier when every consumer warp has finished the MMAs that
// read it. A barrier's phases alternate parity 0, 1, 0, ...; waiting with
// parity P returns once the phase of that parity has completed.
//
// Only where compiled for sm_90a (NETDEF_WGMMA_DEVICE, igemm_wgmma.cuh); elsewhere empty, and the
// kernel that uses them traps (the host never launches it there).
//
// Test: through native/tests/ops_igemm_conv.cu and ops_igemm_conv_half.cu (the warp-specialized tiles).
#pragma once

#include <cstdint>

#include "igemm_wgmma.cuh"

namespace netdef::cuda::igemm {

// Sets the barrier's expected arrivals per phase (one thread, before a block barrier).
__device__ __forceinline__ void mbarrierInit(uint64_t* bar, int arrivals) {
#if NETDEF_WGMMA_DEVICE
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(sharedAddress(bar)), "r"(arrivals) : "memory");
#endif
}

// Makes the initialized barriers visible to the asynchronous proxy too (the tensor memory
// accelerator's byte counts), by the initializing thread before the block barrier.
__device__ __forceinline__ void mbarrierInitFence() {
#if NETDEF_WGMMA_DEVICE
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

// One arrival of this thread.
__device__ __forceinline__ void mbarrierArrive(uint64_t* bar) {
#if NETDEF_WGMMA_DEVICE
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(sharedAddress(bar)) : "memory");
#endif
}

// One arrival of this thread, made when all of its earlier cp.async copies have completed (.noinc:
// the arrival counts among those mbarrierInit expects).
__device__ __forceinline__ void mbarrierArriveOnCopies(uint64_t* bar) {
#if NETDEF_WGMMA_DEVICE
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(sharedAddress(bar)) : "memory");
#endif
}

// One arrival of this thread that also expects `bytes` more bytes of asynchronous copies (the
// tensor memory accelerator's) to complete on the barrier before its phase does.
__device__ __forceinline__ void mbarrierArriveExpectBytes(uint64_t* bar, uint32_t bytes) {
#if NETDEF_WGMMA_DEVICE
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(sharedAddress(bar)), "r"(bytes) : "memory");
#endif
}

// The tensor memory accelerator's copy of the box at (x, y) of the 2-D tensor map `map` (a kernel
// parameter) into shared memory at `dst`, its bytes counted on `bar` as they land.
__device__ __forceinline__ void tmaLoad2d(void* dst, const void* map, int x, int y, uint64_t* bar) {
#if NETDEF_WGMMA_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
          sharedAddress(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(x), "r"(y), "r"(sharedAddress(bar))
      : "memory");
#endif
}

// The tensor memory accelerator's im2col copy from the 4-D NHWC tensor map `map` (made by
// cuTensorMapEncodeIm2col): the map's pixels-per-column pixels, walked from (w, h, n) through its
// bounding box with its traversal strides (row after row, image after image), each shifted by the
// filter tap's offsets (offW, offH), their channels c .. c + channels-per-pixel - 1; cells outside
// the tensor read as zeros. Into shared memory at `dst`, its bytes counted on `bar` as they land.
__device__ __forceinline__ void tmaLoadIm2col4d(void* dst, const void* map, int c, int w, int h, int n, uint16_t offW, uint16_t offH,
                                                uint64_t* bar) {
#if NETDEF_WGMMA_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.im2col.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6], {%7, %8};\n" ::
          "r"(sharedAddress(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c), "r"(w), "r"(h), "r"(n), "r"(sharedAddress(bar)), "h"(offW), "h"(offH)
      : "memory");
#endif
}

// Waits until the barrier's phase of parity `parity` has completed.
__device__ __forceinline__ void mbarrierWait(uint64_t* bar, uint32_t parity) {
#if NETDEF_WGMMA_DEVICE
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n.reg .pred complete;\nmbarrier.try_wait.parity.shared::cta.b64 complete, [%1], %2;\nselp.u32 %0, 1, 0, complete;\n}\n"
        : "=r"(done)
        : "r"(sharedAddress(bar)), "r"(parity)
        : "memory");
  } while (!done);
#endif
}

}  // namespace netdef::cuda::igemm
