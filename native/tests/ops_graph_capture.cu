// Tests that the ops can be captured in a CUDA graph (the engine captures the whole forward): a
// small chain (cast f32->f16, activation with bias in place, concat by copy_strided, max pooling,
// same-dtype cast, i.e. cudaMemcpyAsync) is enqueued once eagerly and once under stream capture;
// each replay of the graph, after re-poisoning the outputs, must equal the eager result bit for bit.
#include <algorithm>
#include <cmath>

#include "cuda/ops/activation.cuh"
#include "cuda/ops/cast.cuh"
#include "cuda/ops/copy_strided.cuh"
#include "cuda/ops/pooling.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

namespace ops = netdef::cuda::ops;

constexpr uint32_t kSeed = 1010;
constexpr int64_t kBatch = 2, kChannels = 6, kHeight = 9, kWidth = 11, kSppfKernel = 5, kSppfPad = 2;
constexpr int64_t kConcatChannels = 2 * kChannels;  // the activated tensor, twice
constexpr int kReplays = 2;

struct Chain {
  DeviceBuffer x, bias, half, concat, pooled, copy;
};

void enqueue(Chain& c, cudaStream_t stream) {
  const int64_t plane = kHeight * kWidth, count = kBatch * kChannels * plane;
  ops::launchCast({DType::Float32, DType::Float16, c.x.get(), c.half.get(), count}, stream);
  ops::ActivationParams act;
  act.dtype = DType::Float16;
  act.x = act.y = c.half.get();
  act.bias = c.bias.get();
  act.batch = kBatch;
  act.channels = kChannels;
  act.spatial = plane;
  ops::launchActivation(act, stream);
  for (int64_t part = 0; part < 2; ++part) {
    ops::CopyStridedParams copy;
    copy.dtype = DType::Float16;
    copy.src = c.half.get();
    copy.dst = c.concat.as<__half>(part * kChannels * plane);
    copy.shape = ops::Dims{kBatch, kChannels, plane};
    copy.srcStrides = ops::Dims{kChannels * plane, plane, 1};
    copy.dstStrides = ops::Dims{kConcatChannels * plane, plane, 1};
    ops::launchCopyStrided(copy, stream);
  }
  ops::PoolingParams pool;
  pool.dtype = DType::Float16;
  pool.x = c.concat.get();
  pool.y = c.pooled.get();
  pool.batch = kBatch;
  pool.channels = kConcatChannels;
  pool.height = pool.outHeight = kHeight;
  pool.width = pool.outWidth = kWidth;
  pool.kernel[0] = pool.kernel[1] = kSppfKernel;
  std::fill(pool.padding, pool.padding + 4, kSppfPad);
  ops::launchPooling(pool, stream);
  ops::launchCast({DType::Float16, DType::Float16, c.pooled.get(), c.copy.get(), kBatch * kConcatChannels * plane}, stream);
}

void poisonOutputs(Chain& c) {
  for (DeviceBuffer* b : {&c.half, &c.concat, &c.pooled, &c.copy}) b->poison();
}

}  // namespace

void testGraphCapture() {
  Rng rng(kSeed);
  const int64_t count = kBatch * kChannels * kHeight * kWidth, outCount = 2 * count;
  Chain c{DeviceBuffer(encode(rng.uniform(count, -4.0f, 4.0f), DType::Float32)),
          DeviceBuffer(encode(rng.uniform(kChannels, -1.0f, 1.0f), DType::Float16)),
          DeviceBuffer(count * sizeof(__half)), DeviceBuffer(outCount * sizeof(__half)),
          DeviceBuffer(outCount * sizeof(__half)), DeviceBuffer(outCount * sizeof(__half))};
  runCase("graph capture of a cast/activation/concat/pool/copy chain", [&] {
    cudaStream_t stream;
    cudaCheck(cudaStreamCreate(&stream), "cudaStreamCreate");
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    try {
      poisonOutputs(c);
      enqueue(c, stream);
      cudaCheck(cudaStreamSynchronize(stream), "eager run");
      const std::vector<uint8_t> eager = c.copy.download();
      const std::vector<float> values = decode(eager, DType::Float16);
      size_t unwritten = 0;
      for (float v : values) unwritten += std::isnan(v);
      record(unwritten == 0, "graph capture: eager run wrote every output", std::to_string(unwritten) + " NaN");
      cudaCheck(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
      enqueue(c, stream);
      cudaCheck(cudaStreamEndCapture(stream, &graph), "end capture");
      cudaCheck(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
      for (int replay = 0; replay < kReplays; ++replay) {
        poisonOutputs(c);
        cudaCheck(cudaGraphLaunch(exec, stream), "graph launch");
        cudaCheck(cudaStreamSynchronize(stream), "graph run");
        checkBytes("graph capture replay " + std::to_string(replay + 1) + " equals the eager run", c.copy.download(), eager);
      }
    } catch (...) {
      if (exec) cudaGraphExecDestroy(exec);
      if (graph) cudaGraphDestroy(graph);
      cudaStreamDestroy(stream);
      throw;
    }
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
  });
}

}  // namespace ops_test
