// The slice of cuDNN 9's public C API that the engine uses, declared here rather than included
// (cudnn.h exists only where cuDNN is installed; the addon loads libcudnn.so.9 at run time).
// Opaque handles, enum values as cuDNN 9 documents them (cudnn_graph.h, cudnn_ops.h,
// cudnn_cnn.h), and function pointer types that dnn_loader.cc resolves with dlsym. Names live
// in netdef::cudnn so this header never clashes with the real one.
//
// Test: native/tests/cudnn_abi_check.cc, compiled only where cudnn.h exists (the GPU machine),
// static_asserts every value and struct layout below against the real header.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace netdef::cudnn {

// ---- opaque handles
struct ContextTag;
struct TensorTag;
struct FilterTag;
struct ConvolutionTag;
using Handle = ContextTag*;                 // cudnnHandle_t
using TensorDescriptor = TensorTag*;        // cudnnTensorDescriptor_t
using FilterDescriptor = FilterTag*;        // cudnnFilterDescriptor_t
using ConvolutionDescriptor = ConvolutionTag*;  // cudnnConvolutionDescriptor_t
using BackendDescriptor = void*;            // cudnnBackendDescriptor_t

// ---- enums (C enums are int-sized)
using Status = int;  // cudnnStatus_t
inline constexpr Status kStatusSuccess = 0;
inline constexpr Status kStatusNotSupported = 3000;
inline constexpr Status kStatusHostAllocationFailed = 4003;
inline constexpr Status kStatusDeviceAllocationFailed = 4004;

enum DataType : int { kDataFloat = 0, kDataHalf = 2, kDataInt8 = 3, kDataInt32 = 4, kDataInt64 = 10 };
enum MathType : int { kDefaultMath = 0, kTensorOpMath = 1, kTensorOpMathAllowConversion = 2, kFmaMath = 3 };
enum TensorFormat : int { kFormatNchw = 0, kFormatNhwc = 1 };
enum ConvolutionMode : int { kConvolution = 0, kCrossCorrelation = 1 };
enum FwdAlgo : int {
  kAlgoImplicitGemm = 0,
  kAlgoImplicitPrecompGemm = 1,
  kAlgoGemm = 2,
  kAlgoDirect = 3,
  kAlgoFft = 4,
  kAlgoFftTiling = 5,
  kAlgoWinograd = 6,
  kAlgoWinogradNonfused = 7,
  kFwdAlgoCount = 8,
};

// cudnnConvolutionFwdAlgoPerf_t
struct FwdAlgoPerf {
  int algo;  // FwdAlgo
  Status status;
  float time;  // milliseconds
  size_t memory;
  int determinism;
  int mathType;  // MathType
  int reserved[3];
};

// ---- backend (graph) API
enum BackendDescriptorType : int {
  kBackendPointwise = 0,
  kBackendConvolution = 1,
  kBackendEngine = 2,
  kBackendEngineConfig = 3,
  kBackendEngineHeuristics = 4,
  kBackendExecutionPlan = 5,
  kBackendOperationConvolutionForward = 10,
  kBackendOperationPointwise = 13,
  kBackendOperationGraph = 15,
  kBackendVariantPack = 16,
  kBackendTensor = 17,
};

enum BackendAttributeType : int {
  kTypeHandle = 0,
  kTypeDataType = 1,
  kTypeBoolean = 2,
  kTypeInt64 = 3,
  kTypeFloat = 4,
  kTypeDouble = 5,
  kTypeVoidPtr = 6,
  kTypeConvolutionMode = 7,
  kTypeHeurMode = 8,
  kTypeNumericalNote = 11,
  kTypePointwiseMode = 14,
  kTypeBackendDescriptor = 15,
  kTypeChar = 24,
};

enum BackendAttribute : int {
  kAttrPointwiseMode = 0,
  kAttrPointwiseMathPrec = 1,
  kAttrConvolutionCompType = 100,
  kAttrConvolutionConvMode = 101,
  kAttrConvolutionDilations = 102,
  kAttrConvolutionFilterStrides = 103,
  kAttrConvolutionPostPaddings = 104,
  kAttrConvolutionPrePaddings = 105,
  kAttrConvolutionSpatialDims = 106,
  kAttrEngineHeurMode = 200,
  kAttrEngineHeurOperationGraph = 201,
  kAttrEngineHeurResults = 202,
  kAttrEngineConfigEngine = 300,
  kAttrEngineConfigWorkspaceSize = 303,
  kAttrExecutionPlanHandle = 400,
  kAttrExecutionPlanEngineConfig = 401,
  kAttrExecutionPlanWorkspaceSize = 402,
  kAttrExecutionPlanJsonRepresentation = 405,
  kAttrOperationConvFwdAlpha = 700,
  kAttrOperationConvFwdBeta = 701,
  kAttrOperationConvFwdConvDesc = 702,
  kAttrOperationConvFwdW = 703,
  kAttrOperationConvFwdX = 704,
  kAttrOperationConvFwdY = 705,
  kAttrOperationPointwiseDescriptor = 750,
  kAttrOperationPointwiseX = 751,
  kAttrOperationPointwiseB = 752,
  kAttrOperationPointwiseY = 753,
  kAttrOperationGraphHandle = 800,
  kAttrOperationGraphOps = 801,
  kAttrTensorByteAlignment = 900,
  kAttrTensorDataType = 901,
  kAttrTensorDimensions = 902,
  kAttrTensorStrides = 903,
  kAttrTensorUniqueId = 906,
  kAttrTensorIsVirtual = 907,
  kAttrVariantPackUniqueIds = 1000,
  kAttrVariantPackDataPointers = 1001,
  kAttrVariantPackWorkspace = 1003,
  kAttrEngineOperationGraph = 1300,
  kAttrEngineGlobalIndex = 1301,
  kAttrEngineNumericalNote = 1303,
};

// Numerical notes that make an engine less exact than its declared compute type.
enum NumericalNote : int { kNoteDownConvertInputs = 1, kNoteReducedPrecisionReduction = 2 };

enum PointwiseMode : int { kPointwiseAdd = 0, kPointwiseReluFwd = 100, kPointwiseSigmoidFwd = 102, kPointwiseSwishFwd = 106 };
enum HeurMode : int { kHeurInstant = 0, kHeurB = 1, kHeurFallback = 2, kHeurA = 3 };

// ---- function pointer types, one per entry point resolved by the loader
using GetVersionFn = size_t (*)();
using GetErrorStringFn = const char* (*)(Status);
using GetLastErrorStringFn = void (*)(char*, size_t);
using CreateFn = Status (*)(Handle*);
using DestroyFn = Status (*)(Handle);
using SetStreamFn = Status (*)(Handle, cudaStream_t);

using CreateTensorDescriptorFn = Status (*)(TensorDescriptor*);
using SetTensor4dDescriptorExFn = Status (*)(TensorDescriptor, int dataType, int n, int c, int h, int w, int nStride,
                                             int cStride, int hStride, int wStride);
using DestroyTensorDescriptorFn = Status (*)(TensorDescriptor);
using CreateFilterDescriptorFn = Status (*)(FilterDescriptor*);
using SetFilter4dDescriptorFn = Status (*)(FilterDescriptor, int dataType, int format, int k, int c, int h, int w);
using DestroyFilterDescriptorFn = Status (*)(FilterDescriptor);
using CreateConvolutionDescriptorFn = Status (*)(ConvolutionDescriptor*);
using SetConvolution2dDescriptorFn = Status (*)(ConvolutionDescriptor, int padH, int padW, int strideH, int strideW,
                                                int dilationH, int dilationW, int mode, int computeType);
using SetConvolutionGroupCountFn = Status (*)(ConvolutionDescriptor, int groups);
using SetConvolutionMathTypeFn = Status (*)(ConvolutionDescriptor, int mathType);
using DestroyConvolutionDescriptorFn = Status (*)(ConvolutionDescriptor);

using FindConvolutionForwardAlgorithmExFn = Status (*)(Handle, TensorDescriptor xDesc, const void* x,
                                                       FilterDescriptor wDesc, const void* w,
                                                       ConvolutionDescriptor convDesc, TensorDescriptor yDesc, void* y,
                                                       int requested, int* returned, FwdAlgoPerf* results,
                                                       void* workspace, size_t workspaceBytes);
// cuDNN's heuristic ranking of the algorithms for these descriptors, nothing run (time is -1).
using GetConvolutionForwardAlgorithmV7Fn = Status (*)(Handle, TensorDescriptor xDesc, FilterDescriptor wDesc,
                                                      ConvolutionDescriptor convDesc, TensorDescriptor yDesc,
                                                      int requested, int* returned, FwdAlgoPerf* results);
using GetConvolutionForwardWorkspaceSizeFn = Status (*)(Handle, TensorDescriptor xDesc, FilterDescriptor wDesc,
                                                        ConvolutionDescriptor convDesc, TensorDescriptor yDesc,
                                                        int algo, size_t* bytes);
using ConvolutionForwardFn = Status (*)(Handle, const void* alpha, TensorDescriptor xDesc, const void* x,
                                        FilterDescriptor wDesc, const void* w, ConvolutionDescriptor convDesc,
                                        int algo, void* workspace, size_t workspaceBytes, const void* beta,
                                        TensorDescriptor yDesc, void* y);

using BackendCreateDescriptorFn = Status (*)(int type, BackendDescriptor* descriptor);
using BackendDestroyDescriptorFn = Status (*)(BackendDescriptor descriptor);
using BackendFinalizeFn = Status (*)(BackendDescriptor descriptor);
using BackendSetAttributeFn = Status (*)(BackendDescriptor descriptor, int name, int type, int64_t count,
                                         const void* elements);
using BackendGetAttributeFn = Status (*)(BackendDescriptor descriptor, int name, int type, int64_t requested,
                                         int64_t* count, void* elements);
using BackendExecuteFn = Status (*)(Handle, BackendDescriptor plan, BackendDescriptor variantPack);

}  // namespace netdef::cudnn
