// Programmatic dependent launch (PDL, sm_90 and later). A kernel launched with it (launchKernel
// with programmatic = true) may be scheduled while the kernel before it on the stream, or before it
// in a CUDA graph, is still running: once every block of that kernel has called
// pdlLaunchDependents() or exited. It must call pdlWaitPrevious() before it reads anything earlier
// kernels wrote or writes anything they read: the wait returns when they have completed and their
// memory is visible. What overlaps is the launch and the block scheduling, the gap between the
// small kernels of a batch-1 forward. A kernel launched without it, and every kernel on a GPU older
// than sm_90, behaves as an ordinary launch: the two device calls do nothing there.
//
// $NETDEF_CUDA_PDL: unset or 1 on, 0 off (for comparison); anything else is refused
// (ERR_INVALID_ARGUMENT).
//
// Test: native/tests/ops_igemm_conv_half.cu (a chain of dependent convolutions, with read-after-write
// and write-after-read hazards, replayed in a CUDA graph with PDL gives the bytes it gives without).
#pragma once

#include <cuda_runtime_api.h>

#include <utility>

#include "op_common.cuh"
#include "pdl.h"

namespace netdef::cuda::ops {

__device__ __forceinline__ void pdlWaitPrevious() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void pdlLaunchDependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

// The PTX architecture whose code has griddepcontrol (below it, pdlWaitPrevious compiles to nothing).
inline constexpr int kPdlPtxVersion = 90;

// Launches `kernel` on `stream`, with the PDL attribute when `programmatic` (callers pass
// programmaticLaunchUsable()) and the kernel's image on this device was compiled from sm_90 code or
// later: an image JIT-compiled from older PTX (a build without sm_90 run on an H100) has no wait
// and is launched in order. A launch error is ERR_BACKEND naming `op`.
template <typename... KernelArgs, typename... Args>
void launchKernel(const char* op, bool programmatic, void (*kernel)(KernelArgs...), dim3 grid, dim3 block, size_t sharedBytes,
                  cudaStream_t stream, Args&&... args) {
  if (programmatic) {
    cudaFuncAttributes image{};
    if (cudaFuncGetAttributes(&image, kernel) != cudaSuccess) {
      cudaGetLastError();
      programmatic = false;
    } else {
      programmatic = image.ptxVersion >= kPdlPtxVersion;
    }
  }
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = sharedBytes;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = programmatic ? &attribute : nullptr;
  config.numAttrs = programmatic ? 1 : 0;
  const cudaError_t err = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw Error(kErrBackend, std::string(op) + ": kernel launch failed: " + cudaGetErrorString(err));
  }
}

}  // namespace netdef::cuda::ops
