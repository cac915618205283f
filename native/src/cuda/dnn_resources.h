// RAII owners for cuDNN objects (handle, tensor/filter/convolution descriptors, backend
// descriptors): each destroys its object through the loaded table when it goes out of scope.
//
// Test: native/tests/engine_test.cu (every conv layer creates and frees these).
#pragma once

#include <string>
#include <utility>

#include "dnn_loader.h"

namespace netdef::cuda {

template <typename T>
class CudnnOwned {
 public:
  using DestroyFn = cudnn::Status (*)(T);
  CudnnOwned() = default;
  CudnnOwned(T handle, DestroyFn destroy) : handle_(handle), destroy_(destroy) {}
  ~CudnnOwned() { reset(); }
  CudnnOwned(CudnnOwned&& o) noexcept : handle_(std::exchange(o.handle_, T{})), destroy_(o.destroy_) {}
  CudnnOwned& operator=(CudnnOwned&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, T{});
      destroy_ = o.destroy_;
    }
    return *this;
  }
  CudnnOwned(const CudnnOwned&) = delete;
  CudnnOwned& operator=(const CudnnOwned&) = delete;

  T get() const { return handle_; }
  explicit operator bool() const { return handle_ != T{}; }

 private:
  void reset() {
    if (handle_ != T{} && destroy_) destroy_(handle_);
    handle_ = T{};
  }
  T handle_{};
  DestroyFn destroy_ = nullptr;
};

using CudnnHandle = CudnnOwned<cudnn::Handle>;
using TensorDesc = CudnnOwned<cudnn::TensorDescriptor>;
using FilterDesc = CudnnOwned<cudnn::FilterDescriptor>;
using ConvDesc = CudnnOwned<cudnn::ConvolutionDescriptor>;
using BackendDesc = CudnnOwned<cudnn::BackendDescriptor>;

inline CudnnHandle makeCudnnHandle() {
  const CudnnApi& a = cudnnApi();
  cudnn::Handle h = nullptr;
  checkCudnn(a.create(&h), "cudnnCreate");
  return CudnnHandle(h, a.destroy);
}

inline TensorDesc makeTensorDesc() {
  const CudnnApi& a = cudnnApi();
  cudnn::TensorDescriptor d = nullptr;
  checkCudnn(a.createTensorDescriptor(&d), "cudnnCreateTensorDescriptor");
  return TensorDesc(d, a.destroyTensorDescriptor);
}

inline FilterDesc makeFilterDesc() {
  const CudnnApi& a = cudnnApi();
  cudnn::FilterDescriptor d = nullptr;
  checkCudnn(a.createFilterDescriptor(&d), "cudnnCreateFilterDescriptor");
  return FilterDesc(d, a.destroyFilterDescriptor);
}

inline ConvDesc makeConvDesc() {
  const CudnnApi& a = cudnnApi();
  cudnn::ConvolutionDescriptor d = nullptr;
  checkCudnn(a.createConvolutionDescriptor(&d), "cudnnCreateConvolutionDescriptor");
  return ConvDesc(d, a.destroyConvolutionDescriptor);
}

inline BackendDesc makeBackendDesc(cudnn::BackendDescriptorType type, const std::string& what) {
  const CudnnApi& a = cudnnApi();
  cudnn::BackendDescriptor d = nullptr;
  checkCudnn(a.backendCreateDescriptor(type, &d), "cudnnBackendCreateDescriptor(" + what + ")");
  return BackendDesc(d, a.backendDestroyDescriptor);
}

}  // namespace netdef::cuda
