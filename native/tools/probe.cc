// netdef_native_probe: prints what capabilities() finds (driver, devices, cuDNN, TensorRT), without
// Node.js, e.g. on the GPU machine. It also references every function of cuda/engine_api.h and
// tensorrt/trt_api.h, so the build fails to link when one is declared but not defined (the addon, a
// shared library, would link and only fail when loaded).
#include <cstdio>
#include <cstring>

#include "cuda/engine_api.h"
#include "tensorrt/trt_api.h"

int main(int argc, char** argv) {
  using namespace netdef::cuda;
  if (argc > 1 && std::strcmp(argv[1], "--never") == 0) {
    // Not run: keeps buildEngine and loadEngine referenced for the linker.
    buildEngine({}, {}, {});
    loadEngine({}, 0);
    netdef::trt::buildEngine({}, {});
    netdef::trt::loadEngine({}, 0);
  }
  Capabilities caps = capabilities();
  std::printf("netdef %s, CUDA engine %s\n", NETDEF_VERSION, NETDEF_WITH_CUDA_ENGINE ? "built" : "not built");
  std::printf("cuda: %s (runtime %d, driver %d)\n", caps.cudaOk ? "ok" : caps.cudaReason.c_str(), caps.runtimeVersion, caps.driverVersion);
  for (const DeviceInfo& d : caps.devices) {
    std::printf("  device %d: %s, sm_%d%d, %.1f GiB\n", d.index, d.name.c_str(), d.major, d.minor,
                static_cast<double>(d.memoryBytes) / (1024.0 * 1024.0 * 1024.0));
  }
  std::printf("cudnn: %s (version %d)\n", caps.cudnnOk ? "ok" : caps.cudnnReason.c_str(), caps.cudnnVersion);
  const netdef::trt::TrtCapabilities trt = netdef::trt::capabilities();
  std::printf("tensorrt: adapter %s (headers %lld), library %s\n", trt.compiled ? "built" : "not built", static_cast<long long>(trt.headerVersion),
              trt.ok ? trt.libraryPath.c_str() : trt.reason.c_str());
  return caps.cudaOk ? 0 : 1;
}
