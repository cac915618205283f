// See cuda_probe.h. cuDNN is opened as libcudnn.so.9 (then libcudnn.so) and left loaded: the engine
// opens the same library again, and unloading cuDNN while the process runs is not worth the risk.
#include "cuda_probe.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <string>

namespace netdef::cuda {
namespace {

std::string versionText(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string cudaReason(cudaError_t err, int driverVersion) {
  if (driverVersion == 0) return "no CUDA driver (libcuda.so.1 was not found)";
  if (err == cudaErrorNoDevice) return "no CUDA device";
  if (err == cudaErrorInsufficientDriver) {
    return "the CUDA driver supports CUDA " + versionText(driverVersion) + ", the addon was built with CUDA " +
           versionText(CUDART_VERSION);
  }
  return std::string("CUDA cannot be initialised: ") + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
}

void probeDevices(Capabilities& caps) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    caps.cudaReason = cudaReason(err, caps.driverVersion);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    caps.devices.push_back({i, prop.name, prop.major, prop.minor, static_cast<uint64_t>(prop.totalGlobalMem)});
  }
  caps.cudaOk = !caps.devices.empty();
  if (!caps.cudaOk) caps.cudaReason = "no CUDA device";
}

void probeCudnn(Capabilities& caps) {
  void* lib = dlopen("libcudnn.so.9", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    caps.cudnnReason = std::string("cuDNN 9 not found: ") + (why ? why : "dlopen(libcudnn.so.9) failed");
    lib = dlopen("libcudnn.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
  }
  using GetVersion = size_t (*)();
  auto getVersion = reinterpret_cast<GetVersion>(dlsym(lib, "cudnnGetVersion"));
  if (!getVersion) {
    caps.cudnnReason = "libcudnn.so has no cudnnGetVersion";
    return;
  }
  caps.cudnnVersion = static_cast<int>(getVersion());
  caps.cudnnOk = caps.cudnnVersion >= 90000;
  caps.cudnnReason = caps.cudnnOk ? "" : "cuDNN " + std::to_string(caps.cudnnVersion) + " found, netdef needs cuDNN 9";
}

}  // namespace

Capabilities probeCapabilities() {
  Capabilities caps;
  caps.runtimeVersion = CUDART_VERSION;
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess) caps.driverVersion = driver;
  probeDevices(caps);
  probeCudnn(caps);
  return caps;
}

}  // namespace netdef::cuda
