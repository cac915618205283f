// cuDNN run-time loading: see dnn_loader.h.
#include "dnn_loader.h"

#include <dlfcn.h>

#include <mutex>

#include "../common/error.h"

namespace netdef::cuda {
namespace {

constexpr const char* kLibraryNames[] = {"libcudnn.so.9", "libcudnn.so"};
constexpr int kRequiredMajor = 9;
// cuDNN 9 encodes its version as major * 10000 + minor * 100 + patch.
constexpr int kMajorFactor = 10000;
constexpr int kMinorFactor = 100;
constexpr size_t kLastErrorChars = 512;

struct Loaded {
  CudnnApi api;
  std::string error;  // empty when loaded
};

template <typename Fn>
void resolve(void* library, const char* symbol, Fn& slot, std::string& missing) {
  slot = reinterpret_cast<Fn>(dlsym(library, symbol));
  if (!slot) missing += (missing.empty() ? "" : ", ") + std::string(symbol);
}

Loaded load() {
  Loaded out;
  void* library = nullptr;
  std::string tried;
  for (const char* name : kLibraryNames) {
    library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library) break;
    const char* why = dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + name + ": " + (why ? why : "not found");
  }
  if (!library) {
    out.error = "cuDNN 9 could not be loaded (" + tried + ")";
    return out;
  }
  // The library stays loaded for the life of the process (handles and plans refer into it).
  CudnnApi& a = out.api;
  std::string missing;
  resolve(library, "cudnnGetVersion", a.getVersion, missing);
  resolve(library, "cudnnGetErrorString", a.getErrorString, missing);
  resolve(library, "cudnnGetLastErrorString", a.getLastErrorString, missing);
  resolve(library, "cudnnCreate", a.create, missing);
  resolve(library, "cudnnDestroy", a.destroy, missing);
  resolve(library, "cudnnSetStream", a.setStream, missing);
  resolve(library, "cudnnCreateTensorDescriptor", a.createTensorDescriptor, missing);
  resolve(library, "cudnnSetTensor4dDescriptorEx", a.setTensor4dDescriptorEx, missing);
  resolve(library, "cudnnDestroyTensorDescriptor", a.destroyTensorDescriptor, missing);
  resolve(library, "cudnnCreateFilterDescriptor", a.createFilterDescriptor, missing);
  resolve(library, "cudnnSetFilter4dDescriptor", a.setFilter4dDescriptor, missing);
  resolve(library, "cudnnDestroyFilterDescriptor", a.destroyFilterDescriptor, missing);
  resolve(library, "cudnnCreateConvolutionDescriptor", a.createConvolutionDescriptor, missing);
  resolve(library, "cudnnSetConvolution2dDescriptor", a.setConvolution2dDescriptor, missing);
  resolve(library, "cudnnSetConvolutionGroupCount", a.setConvolutionGroupCount, missing);
  resolve(library, "cudnnSetConvolutionMathType", a.setConvolutionMathType, missing);
  resolve(library, "cudnnDestroyConvolutionDescriptor", a.destroyConvolutionDescriptor, missing);
  resolve(library, "cudnnFindConvolutionForwardAlgorithmEx", a.findConvolutionForwardAlgorithmEx, missing);
  resolve(library, "cudnnGetConvolutionForwardAlgorithm_v7", a.getConvolutionForwardAlgorithmV7, missing);
  resolve(library, "cudnnGetConvolutionForwardWorkspaceSize", a.getConvolutionForwardWorkspaceSize, missing);
  resolve(library, "cudnnConvolutionForward", a.convolutionForward, missing);
  resolve(library, "cudnnBackendCreateDescriptor", a.backendCreateDescriptor, missing);
  resolve(library, "cudnnBackendDestroyDescriptor", a.backendDestroyDescriptor, missing);
  resolve(library, "cudnnBackendFinalize", a.backendFinalize, missing);
  resolve(library, "cudnnBackendSetAttribute", a.backendSetAttribute, missing);
  resolve(library, "cudnnBackendGetAttribute", a.backendGetAttribute, missing);
  resolve(library, "cudnnBackendExecute", a.backendExecute, missing);
  if (!missing.empty()) {
    out.error = "cuDNN was loaded but lacks: " + missing;
    return out;
  }
  a.version = static_cast<int>(a.getVersion());
  if (a.version / kMajorFactor != kRequiredMajor) {
    out.error = "cuDNN " + cudnnVersionString(a.version) + " found, version 9 is required";
  }
  return out;
}

const Loaded& loaded() {
  static std::once_flag once;
  static Loaded* instance = nullptr;
  std::call_once(once, [] { instance = new Loaded(load()); });  // never freed: lives as long as the library
  return *instance;
}

}  // namespace

std::string cudnnVersionString(int version) {
  return std::to_string(version / kMajorFactor) + "." + std::to_string(version % kMajorFactor / kMinorFactor) + "." +
         std::to_string(version % kMinorFactor);
}

const CudnnApi& cudnnApi() {
  const Loaded& l = loaded();
  if (!l.error.empty()) throw Error(kErrCudnnUnavailable, l.error);
  return l.api;
}

CudnnProbe probeCudnn() {
  const Loaded& l = loaded();
  CudnnProbe p;
  p.ok = l.error.empty();
  p.version = l.api.version;
  p.reason = l.error;
  return p;
}

void checkCudnn(cudnn::Status status, const std::string& what) {
  if (status == cudnn::kStatusSuccess) return;
  const CudnnApi& a = cudnnApi();
  char detail[kLastErrorChars] = {};
  a.getLastErrorString(detail, sizeof detail);
  std::string message = what + ": " + a.getErrorString(status);
  if (detail[0]) message += " (" + std::string(detail) + ")";
  const bool outOfMemory =
      status == cudnn::kStatusDeviceAllocationFailed || status == cudnn::kStatusHostAllocationFailed;
  throw Error(outOfMemory ? kErrOutOfMemory : kErrBackend, message);
}

}  // namespace netdef::cuda
