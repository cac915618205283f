// What this machine offers the CUDA engine: driver, devices and cuDNN, found with CUDA runtime
// queries (the runtime is linked statically, so this works without a driver) and dlopen. Never
// throws: what is missing is reported as a reason. cuda_unavailable.cc's capabilities() returns
// it; the CUDA engine's capabilities() can return it too.
#pragma once

#include "../cuda/engine_api.h"

namespace netdef::cuda {

Capabilities probeCapabilities();

}  // namespace netdef::cuda
