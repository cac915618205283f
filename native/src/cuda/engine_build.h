// Building and loading CudaEngines from a recorded network or a blob: the steps buildEngine() and
// loadEngine() take, exposed so that native tests can build networks they write through INetwork
// directly. See engine.cc for the policy (fusion, layout modes timed against each other).
//
// Test: native/tests/engine_test.cu.
#pragma once

#include <memory>
#include <vector>

#include "cuda_network.h"
#include "engine_impl.h"

namespace netdef::cuda {

// Checks that CUDA, the device and cuDNN are usable (ERR_NO_CUDA_DEVICE, ERR_CUDNN_UNAVAILABLE).
void requireDevice(int device);

// Builds from the network's recorded program (the network is emptied). With `onlyMode`, builds
// that layout mode alone (tests); otherwise every candidate mode, keeping the fastest.
std::unique_ptr<CudaEngine> buildFromNetwork(CudaNetwork& network, const BuildOptions& options, const ProgressFn& progress,
                                             const LayoutMode* onlyMode = nullptr);

std::unique_ptr<CudaEngine> loadFromBlob(const std::vector<uint8_t>& blob, int device);

}  // namespace netdef::cuda
