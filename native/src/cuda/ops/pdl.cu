// Programmatic dependent launch's host side: see pdl.cuh.
#include "../../common/env_switch.h"
#include "pdl.cuh"

namespace netdef::cuda::ops {
namespace {

// Compute capability from which griddepcontrol exists.
constexpr int kPdlMajor = 9;

thread_local int suppressed = 0;  // NoProgrammaticLaunch guards alive on this thread

}  // namespace

NoProgrammaticLaunch::NoProgrammaticLaunch() { ++suppressed; }
NoProgrammaticLaunch::~NoProgrammaticLaunch() { --suppressed; }

bool programmaticLaunchUsable() {
  if (suppressed > 0) return false;
  if (!envSwitch("NETDEF_CUDA_PDL", true, "programmatic dependent launch on", "off")) return false;
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return major >= kPdlMajor;
}

}  // namespace netdef::cuda::ops
