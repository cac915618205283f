// Host-only tests of the CUDA engine's timing cache (timing_cache.h) and of the convolution keys
// it is indexed by (conv_geometry.h's geometryKey): entries round-trip through the text format;
// a cache of another device or format version is ignored whole, with a note; malformed text is
// refused with ERR_ENGINE_FORMAT naming the line; keys tell apart geometries that need different
// tactics. Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/conv_geometry.h"
#include "cuda/timing_cache.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr const char* kDevice = "sm_90 NVIDIA H100 80GB HBM3 cuDNN 91900 netdef 0.1.0";
constexpr float kFusedMs = 0.125f, kLegacyMs = 0.25f;
constexpr int64_t kFusedEngine = 42;
constexpr int32_t kSplitTile = 3;  // an igemm tile (64x32)
constexpr int32_t kSplits = 4;

int failures = 0, passes = 0;

void check(bool ok, const std::string& what) {
  (ok ? passes : failures) += 1;
  std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
}

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// The message of the ERR_ENGINE_FORMAT that merging `text` throws, or "" when it does not.
std::string mergeError(const std::string& text) {
  TimingCache cache(kDevice);
  const std::vector<uint8_t> b = bytes(text);
  try {
    cache.merge(b.data(), b.size());
  } catch (const Error& e) {
    return e.code() == kErrEngineFormat ? e.what() : std::string("wrong code: ") + e.what();
  }
  return "";
}

void roundTrip() {
  TimingCache cache(kDevice);
  ConvTactic fused;
  fused.kind = ConvTactic::Kind::kCudnnFused;
  fused.engine = kFusedEngine;
  fused.timeMs = kFusedMs;
  ConvTactic legacy{ConvTactic::Kind::kCudnnLegacy, 1, 1, -1, kLegacyMs};
  ConvTactic split;
  split.kind = ConvTactic::Kind::kIgemm;
  split.algo = kSplitTile;
  split.splits = kSplits;
  split.timeMs = kLegacyMs;
  cache.putConv("a", fused);
  cache.putConv("b", legacy);
  cache.putConv("s", split);
  cache.putMode("net", LayoutMode::kChannelsLastHalf);
  // A plan text with every byte that needs an escape: backslash, tab, CR, LF, NUL, non-ASCII.
  const std::string plan = std::string("{\"k\":\"a\\\\b\tc\r\nd\"}") + std::string(1, '\0') + "\xc3\xa9\x7f";
  cache.putPlan("p", plan);
  const std::vector<uint8_t> text = cache.serialize();
  TimingCache back(kDevice);
  back.merge(text.data(), text.size());
  const ConvTactic* a = back.conv("a");
  const ConvTactic* b = back.conv("b");
  check(a && a->kind == ConvTactic::Kind::kCudnnFused && a->engine == kFusedEngine && a->timeMs == kFusedMs, "a fused tactic round-trips");
  check(b && b->kind == ConvTactic::Kind::kCudnnLegacy && b->algo == 1 && b->mathType == 1 && b->timeMs == kLegacyMs,
        "a legacy tactic round-trips");
  const ConvTactic* sp = back.conv("s");
  check(sp && sp->kind == ConvTactic::Kind::kIgemm && sp->algo == kSplitTile && sp->splits == kSplits && a->splits == 1,
        "an igemm tactic's split-K slices round-trip (1 for the others)");
  check(back.mode("net") == LayoutMode::kChannelsLastHalf, "the layout mode round-trips");
  check(!back.conv("c") && !back.mode("other"), "unknown keys are not found");
  check(back.plans().size() == 1 && back.plans().count("p") && back.plans().at("p") == plan, "a plan text round-trips byte for byte");
  const std::string serialized(text.begin(), text.end());
  check(std::count(serialized.begin(), serialized.end(), '\n') == 7 &&
            std::all_of(serialized.begin(), serialized.end(), [](char c) { return c == '\n' || c == '\t' || (c >= ' ' && c <= '~'); }),
        "the file is printable ASCII, one record a line");
  check(back.notes().empty() && back.size() == 5, "nothing noted, five entries");
  check(back.serialize() == text, "serializing again gives the same text");
}

void olderVersion() {
  const std::vector<uint8_t> v2 = bytes(std::string("netdef-cuda-timing-cache 2\ndevice\t") + kDevice + "\nconv\ta\t0\t1\t1\t-1\t0.5\n");
  TimingCache cache(kDevice);
  cache.merge(v2.data(), v2.size());
  check(cache.notes().empty() && cache.conv("a") && cache.plans().empty(), "a version-2 cache (no plan texts) is still read");
  const std::vector<uint8_t> v3 = bytes(std::string("netdef-cuda-timing-cache 3\ndevice\t") + kDevice + "\nconv\tb\t2\t3\t0\t-1\t0.5\n");
  TimingCache three(kDevice);
  three.merge(v3.data(), v3.size());
  check(three.notes().empty() && three.conv("b") && three.conv("b")->splits == 1, "a version-3 conv record (no split-K column) reads as one slice");
}

void otherDeviceOrVersion() {
  TimingCache h100(kDevice);
  h100.putConv("a", ConvTactic{});
  const std::vector<uint8_t> text = h100.serialize();
  TimingCache other("sm_89 NVIDIA L4 cuDNN 91900 netdef 0.1.0");
  other.merge(text.data(), text.size());
  check(other.size() == 0 && other.notes().size() == 1 && other.notes()[0].find("NVIDIA H100") != std::string::npos,
        "another device's cache is ignored, with a note naming it");
  const std::vector<uint8_t> future = bytes("netdef-cuda-timing-cache 99\ndevice\tx\nfuture\trecord\n");
  TimingCache cache(kDevice);
  cache.merge(future.data(), future.size());
  check(cache.size() == 0 && cache.notes().size() == 1 && cache.notes()[0].find("99") != std::string::npos,
        "another format version is ignored, with a note");
}

void malformed() {
  const std::string head = std::string("netdef-cuda-timing-cache ") + std::to_string(kTimingCacheVersion) + "\ndevice\t" + kDevice + "\n";
  check(mergeError("").find("header is missing") != std::string::npos, "empty text is refused");
  check(mergeError("hello\n").find("line 1") != std::string::npos, "a foreign file is refused at line 1");
  check(mergeError(head + "conv\ta\t0\t1\n").find("line 3") != std::string::npos, "a short conv record names its line");
  check(mergeError(head + "conv\ta\t9\t0\t0\t-1\t0.5\t1\n").find("unknown tactic kind") != std::string::npos, "an unknown tactic kind is refused");
  check(mergeError(head + "conv\ta\t0\tx\t0\t-1\t0.5\t1\n").find("not an integer") != std::string::npos, "a bad integer is refused");
  check(mergeError(head + "conv\ta\t0\t0\t0\t-1\t-1\t1\n").find("not a time") != std::string::npos, "a negative time is refused");
  check(mergeError(head + "conv\ta\t0\t1\t1\t-1\t0.5\n").find("8 fields") != std::string::npos, "a version-4 conv record without slices is refused");
  check(mergeError(head + "conv\ta\t2\t3\t0\t-1\t0.5\t0\n").find("split-K slices out of range") != std::string::npos, "zero split-K slices are refused");
  check(mergeError(head + "conv\ta\t2\t3\t0\t-1\t0.5\t17\n").find("split-K slices out of range") != std::string::npos,
        "more split-K slices than the kernel runs are refused");
  check(mergeError(head + "conv\ta\t1\t0\t0\t42\t0.5\t2\n").find("split-K slices out of range") != std::string::npos,
        "split-K on a cuDNN tactic is refused");
  check(mergeError(head + "mode\tnet\t7\n").find("unknown layout mode") != std::string::npos, "an unknown layout mode is refused");
  check(mergeError(head + "tactic\tx\n").find("unknown record") != std::string::npos, "an unknown record is refused");
  check(mergeError(head + "plan\tp\n").find("3 fields") != std::string::npos, "a plan record without text is refused");
  check(mergeError(head + "plan\tp\ta\\qb\n").find("unknown escape") != std::string::npos, "an unknown escape in a plan text is refused");
  check(mergeError(head + "plan\tp\ta\\x4\n").find("bad \\x escape") != std::string::npos, "a cut-off \\x escape is refused");
  check(mergeError(head + "\nconv\ta\t0\t1\t1\t-1\t0.5\t1\r\n").empty(), "blank lines and CRLF endings are accepted");
}

void keys() {
  ConvGeometry g;
  g.dtype = ir::DType::Float16;
  g.layout = Layout::kNhwc;
  g.inChannels = 64, g.height = 80, g.width = 80;
  g.outChannels = 64, g.outHeight = 80, g.outWidth = 80;
  g.params = ConvolutionParams{{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  g.activation = FusedActivation::kSilu;
  g.hasBias = true;
  const std::string base = geometryKey(g);
  ConvGeometry strided = g;
  strided.outStorageChannels = 128;  // written into a concat in place
  ConvGeometry stride2 = g;
  stride2.params.stride[0] = stride2.params.stride[1] = 2;
  ConvGeometry nchw = g;
  nchw.layout = Layout::kRowMajor;
  ConvGeometry same = g;
  check(geometryKey(same) == base, "equal geometries have equal keys");
  check(geometryKey(strided) != base && geometryKey(stride2) != base && geometryKey(nchw) != base,
        "storage channels, strides and layout change the key");
  check(base.find(' ') == std::string::npos && base.find('\t') == std::string::npos, "keys hold no spaces or tabs");
}

}  // namespace

int main() {
  roundTrip();
  olderVersion();
  otherDeviceOrVersion();
  malformed();
  keys();
  std::printf("%d passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}
