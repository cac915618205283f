// Programmatic dependent launch's host side: see pdl.cuh.
#include "../../common/env_switch.h"
#include "pdl.cuh"

namespace netdef::cuda::ops {
namespace {

// Compute capability from which griddepcontrol exists.
constexpr int kPdlMajor = 9;

}  // namespace

bool programmaticLaunchUsable() {
  if (!envSwitch("NETDEF_CUDA_PDL", true, "programmatic dependent launch on", "off")) return false;
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return major >= kPdlMajor;
}

}  // namespace netdef::cuda::ops
