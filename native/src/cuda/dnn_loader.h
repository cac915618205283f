// Loads cuDNN 9 at run time: dlopen("libcudnn.so.9") (then "libcudnn.so"), resolves every entry
// point the engine calls into one table, and checks the version (9.x). Nothing here aborts: a
// missing library, symbol or wrong version becomes netdef::Error(ERR_CUDNN_UNAVAILABLE) naming
// what is missing, and cuDNN status codes become netdef::Error (allocation failures
// ERR_OUT_OF_MEMORY, the rest ERR_BACKEND) with cuDNN's own message.
//
// Test: native/tests/engine_test.cu (probe, then every conv test goes through the table);
// native/tests/cudnn_abi_check.cc checks the declarations against the real header.
#pragma once

#include <string>

#include "dnn_api.h"

namespace netdef::cuda {

struct CudnnApi {
  int version = 0;  // e.g. 90100 for 9.1.0
  cudnn::GetVersionFn getVersion = nullptr;
  cudnn::GetErrorStringFn getErrorString = nullptr;
  cudnn::GetLastErrorStringFn getLastErrorString = nullptr;
  cudnn::CreateFn create = nullptr;
  cudnn::DestroyFn destroy = nullptr;
  cudnn::SetStreamFn setStream = nullptr;
  cudnn::CreateTensorDescriptorFn createTensorDescriptor = nullptr;
  cudnn::SetTensor4dDescriptorExFn setTensor4dDescriptorEx = nullptr;
  cudnn::DestroyTensorDescriptorFn destroyTensorDescriptor = nullptr;
  cudnn::CreateFilterDescriptorFn createFilterDescriptor = nullptr;
  cudnn::SetFilter4dDescriptorFn setFilter4dDescriptor = nullptr;
  cudnn::DestroyFilterDescriptorFn destroyFilterDescriptor = nullptr;
  cudnn::CreateConvolutionDescriptorFn createConvolutionDescriptor = nullptr;
  cudnn::SetConvolution2dDescriptorFn setConvolution2dDescriptor = nullptr;
  cudnn::SetConvolutionGroupCountFn setConvolutionGroupCount = nullptr;
  cudnn::SetConvolutionMathTypeFn setConvolutionMathType = nullptr;
  cudnn::DestroyConvolutionDescriptorFn destroyConvolutionDescriptor = nullptr;
  cudnn::FindConvolutionForwardAlgorithmExFn findConvolutionForwardAlgorithmEx = nullptr;
  cudnn::GetConvolutionForwardAlgorithmV7Fn getConvolutionForwardAlgorithmV7 = nullptr;
  cudnn::GetConvolutionForwardWorkspaceSizeFn getConvolutionForwardWorkspaceSize = nullptr;
  cudnn::ConvolutionForwardFn convolutionForward = nullptr;
  cudnn::BackendCreateDescriptorFn backendCreateDescriptor = nullptr;
  cudnn::BackendDestroyDescriptorFn backendDestroyDescriptor = nullptr;
  cudnn::BackendFinalizeFn backendFinalize = nullptr;
  cudnn::BackendSetAttributeFn backendSetAttribute = nullptr;
  cudnn::BackendGetAttributeFn backendGetAttribute = nullptr;
  cudnn::BackendExecuteFn backendExecute = nullptr;
};

// The loaded table (loaded once, thread-safe). Throws Error(ERR_CUDNN_UNAVAILABLE) when cuDNN 9
// cannot be loaded; the reason is remembered and rethrown on every later call.
const CudnnApi& cudnnApi();

struct CudnnProbe {
  bool ok = false;
  int version = 0;
  std::string reason;  // why not, when !ok
};

// Never throws.
CudnnProbe probeCudnn();

// Throws on a non-success status: "<what>: <cuDNN's name for it> (<last error detail>)".
void checkCudnn(cudnn::Status status, const std::string& what);

// "9.1.0" from 90100.
std::string cudnnVersionString(int version);

}  // namespace netdef::cuda
