// A minimal harness for the CUDA op tests (native/tests/ops_*.cu): device buffers, seeded random
// inputs (never zeros), float16 encoding on the host, comparisons that print one line per case, and
// a tally that ops_main.cu turns into the exit status. No external framework.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "ir/graph.h"

namespace ops_test {

using netdef::ir::DType;

// Tolerances, relative to |reference| (or to a magnitude the test names), per output precision.
constexpr double kFp32Rtol = 1e-6;
constexpr double kFp16Rtol = 1e-3;
// Absolute floor: the spacing of float16 subnormals; for float32 the smallest subnormal.
constexpr double kFp16Atol = 5.9604644775390625e-08;
constexpr double kFp32Atol = 1.4e-45;
// Smallest magnitude of a random input: keeps values away from zero.
constexpr float kMinMagnitude = 1e-2f;
// Byte written over outputs before a launch: NaN for float32 and float16.
constexpr int kPoisonByte = 0xFF;

struct Tally {
  int passed = 0;
  int failed = 0;
};
inline Tally& tally() {
  static Tally t;
  return t;
}

inline void record(bool ok, const std::string& name, const std::string& detail) {
  (ok ? tally().passed : tally().failed) += 1;
  std::printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.empty() ? "" : "  ", detail.c_str());
  std::fflush(stdout);
}

inline void cudaCheck(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

// Waits for the device and surfaces asynchronous kernel errors.
inline void syncDevice() { cudaCheck(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) { cudaCheck(cudaMalloc(&ptr_, bytes ? bytes : 1), "cudaMalloc"); }
  explicit DeviceBuffer(const std::vector<uint8_t>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  template <typename T>
  T* as(size_t elementOffset = 0) const { return static_cast<T*>(ptr_) + elementOffset; }
  size_t bytes() const { return bytes_; }
  void upload(const std::vector<uint8_t>& host) {
    cudaCheck(cudaMemcpy(ptr_, host.data(), host.size(), cudaMemcpyHostToDevice), "upload");
  }
  void poison(int byte = kPoisonByte) { cudaCheck(cudaMemset(ptr_, byte, bytes_), "poison"); }
  std::vector<uint8_t> download() const {
    std::vector<uint8_t> host(bytes_);
    cudaCheck(cudaMemcpy(host.data(), ptr_, bytes_, cudaMemcpyDeviceToHost), "download");
    return host;
  }

 private:
  void* ptr_ = nullptr;
  size_t bytes_;
};

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  // Uniform in [lo, hi], with |v| >= kMinMagnitude (values nearer zero are pushed out).
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) {
      x = dist(gen_);
      if (std::fabs(x) < kMinMagnitude) x = x < 0 ? -kMinMagnitude : kMinMagnitude;
    }
    return v;
  }
  int64_t integer(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen_); }

 private:
  std::mt19937 gen_;
};

inline size_t sizeOf(DType t) {
  return t == DType::Float16 ? sizeof(__half) : t == DType::UInt8 || t == DType::Int8 ? sizeof(uint8_t) : sizeof(float);
}
inline const char* typeName(DType t) { return t == DType::Float16 ? "f16" : t == DType::Int8 ? "i8" : "f32"; }

// float32, float16, uint8 or int8 bytes of host floats (float16 rounded to nearest even; uint8
// rounded and clamped; int8 rounded half to even and clamped to [-128, 127], as Quantize does).
inline std::vector<uint8_t> encode(const std::vector<float>& v, DType t) {
  std::vector<uint8_t> bytes(v.size() * sizeOf(t));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::Float16) {
      const __half h = __float2half_rn(v[i]);
      std::memcpy(bytes.data() + i * sizeof(__half), &h, sizeof(__half));
    } else if (t == DType::UInt8) {
      bytes[i] = static_cast<uint8_t>(std::lround(std::fmin(std::fmax(v[i], 0.0f), 255.0f)));
    } else if (t == DType::Int8) {
      const auto q = static_cast<int8_t>(std::nearbyint(std::fmin(std::fmax(v[i], -128.0f), 127.0f)));
      std::memcpy(&bytes[i], &q, 1);
    } else {
      std::memcpy(bytes.data() + i * sizeof(float), &v[i], sizeof(float));
    }
  }
  return bytes;
}

inline std::vector<float> decode(const std::vector<uint8_t>& bytes, DType t) {
  std::vector<float> v(bytes.size() / sizeOf(t));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::Float16) {
      __half h;
      std::memcpy(&h, bytes.data() + i * sizeof(__half), sizeof(__half));
      v[i] = __half2float(h);
    } else if (t == DType::UInt8) {
      v[i] = static_cast<float>(bytes[i]);
    } else if (t == DType::Int8) {
      int8_t q;
      std::memcpy(&q, &bytes[i], 1);
      v[i] = static_cast<float>(q);
    } else {
      std::memcpy(&v[i], bytes.data() + i * sizeof(float), sizeof(float));
    }
  }
  return v;
}

// The values as the device sees them in dtype t.
inline std::vector<float> representable(const std::vector<float>& v, DType t) { return decode(encode(v, t), t); }

inline double rtolFor(DType t) { return t == DType::Float16 ? kFp16Rtol : kFp32Rtol; }
inline double atolFor(DType t) { return t == DType::Float16 ? kFp16Atol : kFp32Atol; }

// |got - ref| <= rtol * scale + atol per element, with scale = |ref| or scales[i] when given; NaN fails.
inline bool checkClose(const std::string& name, const std::vector<float>& got, const std::vector<double>& ref,
                       double rtol, double atol, const std::vector<double>* scales = nullptr) {
  if (got.size() != ref.size()) {
    record(false, name, "size " + std::to_string(got.size()) + " != " + std::to_string(ref.size()));
    return false;
  }
  // Reported: the largest relative error where the relative term dominates the tolerance (above
  // the absolute floor), and the largest error as a fraction of its allowance (<= 1 passes).
  double worstRelative = 0, worstFraction = 0;
  size_t bad = 0, firstBad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double scale = scales ? (*scales)[i] : std::fabs(ref[i]);
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    const double allowed = rtol * scale + atol;
    const bool ok = err <= allowed;  // false for NaN
    if (!ok && bad++ == 0) firstBad = i;
    if (ok && rtol * scale > atol) worstRelative = std::max(worstRelative, err / scale);
    if (ok && allowed > 0) worstFraction = std::max(worstFraction, err / allowed);
  }
  char detail[256];
  if (bad) {
    std::snprintf(detail, sizeof detail, "%zu/%zu bad, first [%zu] got %.9g want %.9g", bad, got.size(), firstBad,
                  got[firstBad], ref[firstBad]);
  } else {
    std::snprintf(detail, sizeof detail, "n=%zu max rel err %.3g (tol %.2g), max err/allowed %.2f", got.size(),
                  worstRelative, rtol, worstFraction);
  }
  record(bad == 0, name, detail);
  return bad == 0;
}

inline bool checkBytes(const std::string& name, const std::vector<uint8_t>& got, const std::vector<uint8_t>& ref) {
  size_t bad = 0, firstBad = 0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i)
    if (got[i] != ref[i] && bad++ == 0) firstBad = i;
  const bool ok = bad == 0 && got.size() == ref.size();
  record(ok, name, ok ? "n=" + std::to_string(ref.size()) + " bytes, exact"
                      : got.size() != ref.size() ? std::to_string(got.size()) + " bytes where " + std::to_string(ref.size()) + " were expected"
                                                 : std::to_string(bad) + " bytes differ, first at byte " + std::to_string(firstBad));
  return ok;
}

// Runs one case; an exception counts as a failure of that case.
inline void runCase(const std::string& name, const std::function<void()>& body) {
  try {
    body();
  } catch (const netdef::Error& e) {
    record(false, name, std::string("threw ") + e.code() + ": " + e.what());
  } catch (const std::exception& e) {
    record(false, name, std::string("threw: ") + e.what());
  }
}

// The launch must throw netdef::Error with `code` (and leave no sticky CUDA error behind).
inline void expectError(const std::string& name, const char* code, const std::function<void()>& launch) {
  try {
    launch();
    record(false, name, "no error thrown");
  } catch (const netdef::Error& e) {
    record(e.code() == code, name, std::string(e.code()) + ": " + e.what());
  }
}

inline std::string shapeName(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// Test groups, one per ops_<op>.cu file; ops_main.cu runs them all.
void testActivation();
void testElementwise();
void testCopyStrided();
void testPooling();
void testResizeNearest();
void testSoftmax();
void testCast();
void testQuantize();
void testMatMul();
void testGraphCapture();
void testLetterbox();
void testCandidates();
void testIgemmConv();
void testDirectConv();
void testDetectDecode();
void testIgemmConvHalf();

}  // namespace ops_test
