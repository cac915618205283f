// Tests igemm/igemm_conv with float16 input (m16n8k16 tensor cores, float32 accumulation) against
// a CPU reference in double: 1x1, 3x3 and 5x5, stride 1 and 2, padding, odd H and W, batch 2, the
// smallest channel count (8), pixel and channel counts that end inside a tile, x read from a channel
// range of a wider tensor, y written into one (the channels around it untouched), every tile
// shape, each also split-K (run twice: the same bytes); epilogues: bias float16 and float32, none
// and SiLU, a float16 residual; float32 and float16 outputs, vector and element stores; a chain of
// dependent convolutions in a CUDA graph, with and without PDL and split-K; the argument checks of
// the float16 path.
// Tolerance: the accumulation runs in float32 in another order than the reference, so errors are
// measured against sum |x * w| of each output (kAccRtol of it), plus float16 rounding of the output
// (half an ulp: 2^-11 relative) where the output is float16.
#include <algorithm>
#include <cmath>

#include "cuda/cuda_check.h"
#include "cuda/igemm/igemm_conv.h"
#include "cuda/ops/pdl.h"
#include "igemm_split_buffers.h"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::FusedActivation;
using netdef::cuda::igemm::IgemmConvParams;
using netdef::cuda::igemm::IgemmTile;
using netdef::cuda::igemm::igemmTileName;
using netdef::cuda::igemm::launchIgemmConv;

constexpr uint32_t kSeed = 1616;
constexpr double kAccRtol = 1e-5;
constexpr double kHalfRounding = 1.0 / 2048;  // 2^-11: half an ulp of float16, relative
constexpr double kAbsFloor = 1e-6;
constexpr int kCaseSplits = 3;  // each case also split-K in (up to) this many slices
constexpr int kChainSplits = 4;  // the programmatic chain also with split-K layers
constexpr int kPoisonHalfByte = 0x7B;  // float16 outputs: 0x7B7B (61280), which the channels outside y's range keep

struct HalfCase {
  int64_t n, h, w, c, k, r, stride, pad;
  int64_t xExtra = 0;  // x lies in a tensor this many channels wider
  int64_t yExtra = 0;  // y is written at channel offset yExtra of a tensor 2 * yExtra channels wider
  DType out = DType::Float16, bias = DType::Float16;
  FusedActivation act = FusedActivation::kSilu;
  bool residual = false;
};

double silu(double v) { return v / (1.0 + std::exp(-v)); }

std::string caseName(const HalfCase& t, IgemmTile tile, int splits) {
  return "igemm f16 " + std::to_string(t.n) + "x" + std::to_string(t.h) + "x" + std::to_string(t.w) + "x" + std::to_string(t.c) + " -> " +
         std::to_string(t.k) + " " + std::to_string(t.r) + "x" + std::to_string(t.r) + "/" + std::to_string(t.stride) + " pad " +
         std::to_string(t.pad) + (t.xExtra ? " x-range" : "") + (t.yExtra ? " y-range" : "") + " out " + typeName(t.out) + " bias " +
         typeName(t.bias) + (t.act == FusedActivation::kSilu ? " silu" : "") + (t.residual ? " residual" : "") + " " + igemmTileName(tile) +
         (splits > 1 ? " split-k " + std::to_string(splits) : "");
}

// `splits`: split-K slices (1: none); a split case also runs twice and must give the same bytes
// (the slices are summed in a fixed order, whichever block finishes last).
void runHalfCase(Rng& rng, const HalfCase& t, IgemmTile tile, int splits) {
  const std::string name = caseName(t, tile, splits);
  runCase(name, [&] {
    const int64_t p = (t.h + 2 * t.pad - t.r) / t.stride + 1, q = (t.w + 2 * t.pad - t.r) / t.stride + 1, m = t.n * p * q;
    const int64_t xStride = t.c + t.xExtra, yStride = t.k + 2 * t.yExtra;
    const std::vector<float> x = representable(rng.uniform(t.n * t.h * t.w * xStride, -1.0f, 1.0f), DType::Float16);
    const std::vector<float> w = representable(rng.uniform(t.k * t.r * t.r * t.c, -1.0f, 1.0f), DType::Float16);
    const std::vector<float> bias = representable(rng.uniform(t.k, -0.5f, 0.5f), t.bias);
    const std::vector<float> res = representable(rng.uniform(m * t.k, -1.0f, 1.0f), DType::Float16);
    DeviceBuffer dx(encode(x, DType::Float16)), dw(encode(w, DType::Float16)), db(encode(bias, t.bias));
    DeviceBuffer dr(encode(res, DType::Float16)), dy(m * yStride * sizeOf(t.out));
    dy.poison(t.out == DType::Float16 ? kPoisonHalfByte : kPoisonByte);  // float32: NaN
    const float poisonHalf = decode({kPoisonHalfByte, kPoisonHalfByte}, DType::Float16)[0];
    IgemmConvParams cp;
    cp.batch = t.n;
    cp.height = t.h;
    cp.width = t.w;
    cp.inChannels = t.c;
    cp.outChannels = t.k;
    cp.outHeight = p;
    cp.outWidth = q;
    cp.kernelH = cp.kernelW = t.r;
    cp.strideH = cp.strideW = t.stride;
    cp.padTop = cp.padLeft = t.pad;
    cp.inType = DType::Float16;
    cp.x = dx.get();
    cp.xPixelStride = xStride;
    cp.w = dw.get();
    cp.bias = db.get();
    cp.biasType = t.bias;
    cp.activation = t.act;
    cp.outType = t.out;
    cp.y = dy.get();
    cp.yPixelStride = yStride;
    cp.yChannelOffset = t.yExtra;
    if (t.residual) {
      cp.residual = dr.get();
      cp.residualType = DType::Float16;
    }
    cp.tile = tile;
    cp.splits = splits;
    const SplitBuffers split(cp);
    split.attach(cp);
    launchIgemmConv(cp, nullptr);
    syncDevice();
    const std::vector<uint8_t> first = dy.download();
    if (splits > 1) {
      launchIgemmConv(cp, nullptr);
      syncDevice();
      record(dy.download() == first, name + ": a second run gives the same bytes", "");
      record(split.countersLeft() == 0, name + ": split-K counters back at zero", "");
    }
    const std::vector<float> all = decode(first, t.out);
    std::vector<float> got;
    std::vector<double> ref, scale;
    size_t touched = 0;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t nn = i / (p * q), pp = i / q % p, qq = i % q;
      for (int64_t k = 0; k < t.k; ++k) {
        double acc = 0, sumAbs = 0;
        for (int64_t r = 0; r < t.r; ++r)
          for (int64_t s = 0; s < t.r; ++s) {
            const int64_t hh = pp * t.stride - t.pad + r, ww = qq * t.stride - t.pad + s;
            if (hh < 0 || hh >= t.h || ww < 0 || ww >= t.w) continue;
            for (int64_t c = 0; c < t.c; ++c) {
              const double v = static_cast<double>(x[((nn * t.h + hh) * t.w + ww) * xStride + c]) * w[((k * t.r + r) * t.r + s) * t.c + c];
              acc += v;
              sumAbs += std::fabs(v);
            }
          }
        double v = acc + bias[k];
        if (t.act == FusedActivation::kSilu) v = silu(v);
        if (t.residual) v += res[i * t.k + k];
        ref.push_back(v);
        // Errors before the activation and residual carry through them at most 1.1x (SiLU's slope).
        scale.push_back(kAccRtol * (sumAbs + std::fabs(bias[k]) + 1.0) + (t.out == DType::Float16 ? kHalfRounding * std::fabs(v) : 0.0));
        got.push_back(all[i * yStride + t.yExtra + k]);
      }
      for (int64_t k = 0; k < yStride; ++k) {
        if (k >= t.yExtra && k < t.yExtra + t.k) continue;
        const float v = all[i * yStride + k];
        touched += (t.out == DType::Float16 ? v == poisonHalf : std::isnan(v)) ? 0 : 1;
      }
    }
    // checkClose with rtol 1 against per-element allowances: |got - ref| <= scale + floor.
    checkClose(name, got, ref, 1.0, kAbsFloor, &scale);
    if (t.yExtra) record(touched == 0, name + ": channels outside y's range untouched", std::to_string(touched) + " changed");
  });
}

// Dependent convolutions captured in one CUDA graph, launched with programmatic dependent launch
// (ops/pdl.cuh) and without: y1 = conv(x), y2 = conv(y1), y1 = conv(y2) (it overwrites what the
// second one read: write after read), y2 = conv(y1) (read after write), replayed several times
// (each replay's first conv follows the last one of the replay before). Both give the same bytes,
// and the bytes of the same chain launched one conv at a time, synchronizing between them.
void testProgrammaticChain(Rng& rng) {
  const std::string name = "igemm f16 dependent chain with programmatic dependent launch";
  runCase(name, [&] {
    constexpr int64_t kHW = 20, kC = 64, kR = 3, kConvs = 4, kReplays = 5;
    const size_t bytes = static_cast<size_t>(kHW * kHW * kC) * 2;
    DeviceBuffer dx(encode(representable(rng.uniform(kHW * kHW * kC, -1.0f, 1.0f), DType::Float16), DType::Float16));
    // Weights small enough that four layers keep values in float16's range.
    DeviceBuffer dw(encode(representable(rng.uniform(kC * kR * kR * kC, -0.05f, 0.05f), DType::Float16), DType::Float16));
    DeviceBuffer db(encode(representable(rng.uniform(kC, -0.5f, 0.5f), DType::Float16), DType::Float16));
    DeviceBuffer y1(bytes), y2(bytes);
    IgemmConvParams cp;
    cp.height = cp.width = cp.outHeight = cp.outWidth = kHW;
    cp.inChannels = cp.outChannels = kC;
    cp.kernelH = cp.kernelW = kR;
    cp.padTop = cp.padLeft = kR / 2;
    cp.inType = cp.outType = cp.biasType = DType::Float16;
    cp.w = dw.get();
    cp.bias = db.get();
    cp.activation = FusedActivation::kSilu;
    cp.tile = IgemmTile::k32x32;
    cp.batch = 1;
    const void* from[kConvs] = {dx.get(), y1.get(), y2.get(), y1.get()};
    void* to[kConvs] = {y1.get(), y2.get(), y1.get(), y2.get()};
    auto chain = [&](bool programmatic, cudaStream_t stream, bool syncEach) {
      for (int64_t i = 0; i < kConvs; ++i) {
        IgemmConvParams p = cp;
        p.x = from[i];
        p.y = to[i];
        p.programmatic = programmatic;
        launchIgemmConv(p, stream);
        if (syncEach) cudaCheck(cudaStreamSynchronize(stream), "sync");
      }
    };
    netdef::cuda::Stream stream;
    chain(false, stream.get(), true);
    const std::vector<uint8_t> expected = y2.download();
    const bool pdl = netdef::cuda::ops::programmaticLaunchUsable();
    if (!pdl) std::printf("      (this GPU has no programmatic dependent launch: the chain runs without it only)\n");
    // Then every conv split-K (one workspace and one set of counters shared by the chain, as an
    // engine's layers share them): the same bytes up to the order of the float32 sums, so
    // compared with the one-at-a-time split chain.
    cp.splits = kChainSplits;
    const SplitBuffers split(cp);
    split.attach(cp);
    chain(false, stream.get(), true);
    const std::vector<uint8_t> expectedSplit = y2.download();
    for (int splits : {1, kChainSplits})
      for (bool programmatic : {false, true}) {
        if (programmatic && !pdl) continue;
        cp.splits = splits;
        // On the (non-blocking) stream, so that the poison lands before the replays.
        for (const DeviceBuffer* y : {&y1, &y2}) cudaCheck(cudaMemsetAsync(y->get(), kPoisonByte, bytes, stream.get()), "poison");
        netdef::cuda::GraphExec graph = netdef::cuda::captureGraph(stream.get(), [&] { chain(programmatic, stream.get(), false); });
        for (int64_t r = 0; r < kReplays; ++r) graph.launch(stream.get());
        cudaCheck(cudaStreamSynchronize(stream.get()), "sync");
        record(y2.download() == (splits > 1 ? expectedSplit : expected),
               name + (programmatic ? ": with PDL" : ": without PDL") + (splits > 1 ? ", split-k" : "") + ", the bytes of one conv at a time", "");
        if (splits > 1) record(split.countersLeft() == 0, name + ": split-K counters back at zero after the replays", "");
      }
  });
}

void testHalfChecks() {
  IgemmConvParams p;
  p.batch = 1;
  p.height = p.width = p.outHeight = p.outWidth = 8;
  p.inChannels = 4;
  p.outChannels = 16;
  p.inType = DType::Float16;
  p.outType = DType::Float16;
  expectError("igemm f16 refuses C = 4 (not a multiple of 8)", netdef::kErrInvalidArgument, [&] { launchIgemmConv(p, nullptr); });
  p.inChannels = 8;
  p.outType = DType::Int32;
  expectError("igemm f16 refuses an int32 output", netdef::kErrInvalidArgument, [&] { launchIgemmConv(p, nullptr); });
  p.outType = DType::Float16;
  p.inType = DType::Int8;
  p.inChannels = 16;
  p.biasType = DType::Float16;
  expectError("igemm refuses a float16 bias with an int8 input", netdef::kErrInvalidArgument, [&] { launchIgemmConv(p, nullptr); });
}

}  // namespace

void testIgemmConvHalf() {
  Rng rng(kSeed);
  const HalfCase cases[] = {
      {1, 16, 16, 8, 16, 1, 1, 0},                                                 // 1x1, the smallest C
      {2, 13, 11, 24, 20, 3, 1, 1, 0, 0, DType::Float32, DType::Float16, FusedActivation::kSilu, true},  // element stores, residual
      {1, 20, 20, 64, 80, 3, 2, 1, 8, 0, DType::Float16, DType::Float32},          // stride 2, x channel range, float32 bias
      {1, 9, 9, 32, 32, 5, 1, 2, 0, 16, DType::Float16, DType::Float16, FusedActivation::kNone, true},  // 5x5, y range, residual
      {1, 40, 40, 128, 128, 3, 1, 1},                                              // a reduction longer than the pipeline
  };
  for (const HalfCase& t : cases)
    for (IgemmTile tile : netdef::cuda::igemm::igemmUsableTiles()) {
      runHalfCase(rng, t, tile, 1);
      IgemmConvParams shape;  // whether this case's reduction splits at all (more than one step)
      shape.inType = DType::Float16;
      shape.inChannels = t.c;
      shape.kernelH = shape.kernelW = t.r;
      shape.tile = tile;
      shape.splits = kCaseSplits;
      const int splits = netdef::cuda::igemm::igemmEffectiveSplits(shape);
      if (splits > 1) runHalfCase(rng, t, tile, splits);
    }
  testProgrammaticChain(rng);
  testHalfChecks();
}

}  // namespace ops_test
