// Programmatic dependent launch's host side: see pdl.cuh.
#include <atomic>
#include <cstdlib>
#include <string>

#include "pdl.cuh"

namespace netdef::cuda::ops {
namespace {

// Compute capability from which griddepcontrol exists.
constexpr int kPdlMajor = 9;
constexpr int kMaxTrackedDevices = 64;

bool wantedByEnvironment() {
  static const bool wanted = [] {
    const char* env = std::getenv("NETDEF_CUDA_PDL");
    if (!env || !*env || std::string(env) == "1") return true;
    if (std::string(env) == "0") return false;
    throw Error(kErrInvalidArgument, std::string("NETDEF_CUDA_PDL='") + env + "': want 1 (programmatic dependent launch on) or 0 (off)");
  }();
  return wanted;
}

}  // namespace

bool programmaticLaunchUsable() {
  if (!wantedByEnvironment()) return false;
  // Per device, one query each: `known` and `usable` hold one bit per device.
  static std::atomic<uint64_t> known{0}, usable{0};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device >= kMaxTrackedDevices) {
    cudaGetLastError();
    return false;
  }
  const uint64_t bit = uint64_t{1} << device;
  if (known.load(std::memory_order_acquire) & bit) return (usable.load(std::memory_order_acquire) & bit) != 0;
  int major = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (major >= kPdlMajor) usable.fetch_or(bit, std::memory_order_acq_rel);
  known.fetch_or(bit, std::memory_order_acq_rel);
  return major >= kPdlMajor;
}

}  // namespace netdef::cuda::ops
