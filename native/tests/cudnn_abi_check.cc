// Checks native/src/cuda/dnn_api.h (our own declarations of the cuDNN API, so that the addon
// builds without cuDNN's headers) against the real cudnn.h, at compile time: every enum value and
// the layout of cudnnConvolutionFwdAlgoPerf_t. Compiled only where cudnn.h exists (the GPU
// machine: -I/usr/include/x86_64-linux-gnu); elsewhere this file is empty.
#if __has_include(<cudnn.h>)
#include <cudnn.h>

#include <cstddef>

#include "cuda/dnn_api.h"

namespace c = netdef::cudnn;

#define NETDEF_SAME(ours, theirs) static_assert(static_cast<int>(ours) == static_cast<int>(theirs), #ours " != " #theirs)

NETDEF_SAME(c::kStatusSuccess, CUDNN_STATUS_SUCCESS);
NETDEF_SAME(c::kStatusNotSupported, CUDNN_STATUS_NOT_SUPPORTED);
NETDEF_SAME(c::kStatusHostAllocationFailed, CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED);
NETDEF_SAME(c::kStatusDeviceAllocationFailed, CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED);
NETDEF_SAME(c::kDataFloat, CUDNN_DATA_FLOAT);
NETDEF_SAME(c::kDataHalf, CUDNN_DATA_HALF);
NETDEF_SAME(c::kDataInt8, CUDNN_DATA_INT8);
NETDEF_SAME(c::kDataInt32, CUDNN_DATA_INT32);
NETDEF_SAME(c::kDataInt64, CUDNN_DATA_INT64);
NETDEF_SAME(c::kDefaultMath, CUDNN_DEFAULT_MATH);
NETDEF_SAME(c::kTensorOpMath, CUDNN_TENSOR_OP_MATH);
NETDEF_SAME(c::kTensorOpMathAllowConversion, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
NETDEF_SAME(c::kFmaMath, CUDNN_FMA_MATH);
NETDEF_SAME(c::kFormatNchw, CUDNN_TENSOR_NCHW);
NETDEF_SAME(c::kFormatNhwc, CUDNN_TENSOR_NHWC);
NETDEF_SAME(c::kConvolution, CUDNN_CONVOLUTION);
NETDEF_SAME(c::kCrossCorrelation, CUDNN_CROSS_CORRELATION);
NETDEF_SAME(c::kAlgoImplicitGemm, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
NETDEF_SAME(c::kAlgoImplicitPrecompGemm, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
NETDEF_SAME(c::kAlgoGemm, CUDNN_CONVOLUTION_FWD_ALGO_GEMM);
NETDEF_SAME(c::kAlgoDirect, CUDNN_CONVOLUTION_FWD_ALGO_DIRECT);
NETDEF_SAME(c::kAlgoFft, CUDNN_CONVOLUTION_FWD_ALGO_FFT);
NETDEF_SAME(c::kAlgoFftTiling, CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING);
NETDEF_SAME(c::kAlgoWinograd, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD);
NETDEF_SAME(c::kAlgoWinogradNonfused, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED);
NETDEF_SAME(c::kFwdAlgoCount, CUDNN_CONVOLUTION_FWD_ALGO_COUNT);

NETDEF_SAME(c::kBackendPointwise, CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
NETDEF_SAME(c::kBackendConvolution, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
NETDEF_SAME(c::kBackendEngine, CUDNN_BACKEND_ENGINE_DESCRIPTOR);
NETDEF_SAME(c::kBackendEngineConfig, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
NETDEF_SAME(c::kBackendEngineHeuristics, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
NETDEF_SAME(c::kBackendExecutionPlan, CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
NETDEF_SAME(c::kBackendOperationConvolutionForward, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
NETDEF_SAME(c::kBackendOperationPointwise, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
NETDEF_SAME(c::kBackendOperationGraph, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
NETDEF_SAME(c::kBackendVariantPack, CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
NETDEF_SAME(c::kBackendTensor, CUDNN_BACKEND_TENSOR_DESCRIPTOR);
NETDEF_SAME(c::kTypeHandle, CUDNN_TYPE_HANDLE);
NETDEF_SAME(c::kTypeDataType, CUDNN_TYPE_DATA_TYPE);
NETDEF_SAME(c::kTypeBoolean, CUDNN_TYPE_BOOLEAN);
NETDEF_SAME(c::kTypeInt64, CUDNN_TYPE_INT64);
NETDEF_SAME(c::kTypeFloat, CUDNN_TYPE_FLOAT);
NETDEF_SAME(c::kTypeDouble, CUDNN_TYPE_DOUBLE);
NETDEF_SAME(c::kTypeVoidPtr, CUDNN_TYPE_VOID_PTR);
NETDEF_SAME(c::kTypeConvolutionMode, CUDNN_TYPE_CONVOLUTION_MODE);
NETDEF_SAME(c::kTypeHeurMode, CUDNN_TYPE_HEUR_MODE);
NETDEF_SAME(c::kTypeNumericalNote, CUDNN_TYPE_NUMERICAL_NOTE);
NETDEF_SAME(c::kTypePointwiseMode, CUDNN_TYPE_POINTWISE_MODE);
NETDEF_SAME(c::kTypeBackendDescriptor, CUDNN_TYPE_BACKEND_DESCRIPTOR);
NETDEF_SAME(c::kAttrPointwiseMode, CUDNN_ATTR_POINTWISE_MODE);
NETDEF_SAME(c::kAttrPointwiseMathPrec, CUDNN_ATTR_POINTWISE_MATH_PREC);
NETDEF_SAME(c::kAttrConvolutionCompType, CUDNN_ATTR_CONVOLUTION_COMP_TYPE);
NETDEF_SAME(c::kAttrConvolutionConvMode, CUDNN_ATTR_CONVOLUTION_CONV_MODE);
NETDEF_SAME(c::kAttrConvolutionDilations, CUDNN_ATTR_CONVOLUTION_DILATIONS);
NETDEF_SAME(c::kAttrConvolutionFilterStrides, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES);
NETDEF_SAME(c::kAttrConvolutionPostPaddings, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS);
NETDEF_SAME(c::kAttrConvolutionPrePaddings, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS);
NETDEF_SAME(c::kAttrConvolutionSpatialDims, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS);
NETDEF_SAME(c::kAttrEngineHeurMode, CUDNN_ATTR_ENGINEHEUR_MODE);
NETDEF_SAME(c::kAttrEngineHeurOperationGraph, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH);
NETDEF_SAME(c::kAttrEngineHeurResults, CUDNN_ATTR_ENGINEHEUR_RESULTS);
NETDEF_SAME(c::kAttrEngineConfigEngine, CUDNN_ATTR_ENGINECFG_ENGINE);
NETDEF_SAME(c::kAttrEngineConfigWorkspaceSize, CUDNN_ATTR_ENGINECFG_WORKSPACE_SIZE);
NETDEF_SAME(c::kAttrExecutionPlanHandle, CUDNN_ATTR_EXECUTION_PLAN_HANDLE);
NETDEF_SAME(c::kAttrExecutionPlanEngineConfig, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG);
NETDEF_SAME(c::kAttrExecutionPlanWorkspaceSize, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
NETDEF_SAME(c::kAttrOperationConvFwdAlpha, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA);
NETDEF_SAME(c::kAttrOperationConvFwdBeta, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA);
NETDEF_SAME(c::kAttrOperationConvFwdConvDesc, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC);
NETDEF_SAME(c::kAttrOperationConvFwdW, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W);
NETDEF_SAME(c::kAttrOperationConvFwdX, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X);
NETDEF_SAME(c::kAttrOperationConvFwdY, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y);
NETDEF_SAME(c::kAttrOperationPointwiseDescriptor, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR);
NETDEF_SAME(c::kAttrOperationPointwiseX, CUDNN_ATTR_OPERATION_POINTWISE_XDESC);
NETDEF_SAME(c::kAttrOperationPointwiseB, CUDNN_ATTR_OPERATION_POINTWISE_BDESC);
NETDEF_SAME(c::kAttrOperationPointwiseY, CUDNN_ATTR_OPERATION_POINTWISE_YDESC);
NETDEF_SAME(c::kAttrOperationGraphHandle, CUDNN_ATTR_OPERATIONGRAPH_HANDLE);
NETDEF_SAME(c::kAttrOperationGraphOps, CUDNN_ATTR_OPERATIONGRAPH_OPS);
NETDEF_SAME(c::kAttrTensorByteAlignment, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT);
NETDEF_SAME(c::kAttrTensorDataType, CUDNN_ATTR_TENSOR_DATA_TYPE);
NETDEF_SAME(c::kAttrTensorDimensions, CUDNN_ATTR_TENSOR_DIMENSIONS);
NETDEF_SAME(c::kAttrTensorStrides, CUDNN_ATTR_TENSOR_STRIDES);
NETDEF_SAME(c::kAttrTensorUniqueId, CUDNN_ATTR_TENSOR_UNIQUE_ID);
NETDEF_SAME(c::kAttrTensorIsVirtual, CUDNN_ATTR_TENSOR_IS_VIRTUAL);
NETDEF_SAME(c::kAttrVariantPackUniqueIds, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
NETDEF_SAME(c::kAttrVariantPackDataPointers, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS);
NETDEF_SAME(c::kAttrVariantPackWorkspace, CUDNN_ATTR_VARIANT_PACK_WORKSPACE);
NETDEF_SAME(c::kAttrEngineOperationGraph, CUDNN_ATTR_ENGINE_OPERATION_GRAPH);
NETDEF_SAME(c::kAttrEngineGlobalIndex, CUDNN_ATTR_ENGINE_GLOBAL_INDEX);
NETDEF_SAME(c::kAttrEngineNumericalNote, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE);
NETDEF_SAME(c::kNoteDownConvertInputs, CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS);
NETDEF_SAME(c::kNoteReducedPrecisionReduction, CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION);
NETDEF_SAME(c::kPointwiseAdd, CUDNN_POINTWISE_ADD);
NETDEF_SAME(c::kPointwiseReluFwd, CUDNN_POINTWISE_RELU_FWD);
NETDEF_SAME(c::kPointwiseSigmoidFwd, CUDNN_POINTWISE_SIGMOID_FWD);
NETDEF_SAME(c::kPointwiseSwishFwd, CUDNN_POINTWISE_SWISH_FWD);
NETDEF_SAME(c::kHeurInstant, CUDNN_HEUR_MODE_INSTANT);
NETDEF_SAME(c::kHeurB, CUDNN_HEUR_MODE_B);
NETDEF_SAME(c::kHeurFallback, CUDNN_HEUR_MODE_FALLBACK);
NETDEF_SAME(c::kHeurA, CUDNN_HEUR_MODE_A);

static_assert(sizeof(c::FwdAlgoPerf) == sizeof(cudnnConvolutionFwdAlgoPerf_t), "FwdAlgoPerf size");
static_assert(offsetof(c::FwdAlgoPerf, status) == offsetof(cudnnConvolutionFwdAlgoPerf_t, status), "FwdAlgoPerf.status");
static_assert(offsetof(c::FwdAlgoPerf, time) == offsetof(cudnnConvolutionFwdAlgoPerf_t, time), "FwdAlgoPerf.time");
static_assert(offsetof(c::FwdAlgoPerf, memory) == offsetof(cudnnConvolutionFwdAlgoPerf_t, memory), "FwdAlgoPerf.memory");
static_assert(offsetof(c::FwdAlgoPerf, determinism) == offsetof(cudnnConvolutionFwdAlgoPerf_t, determinism), "FwdAlgoPerf.determinism");
static_assert(offsetof(c::FwdAlgoPerf, mathType) == offsetof(cudnnConvolutionFwdAlgoPerf_t, mathType), "FwdAlgoPerf.mathType");

#undef NETDEF_SAME
#endif
