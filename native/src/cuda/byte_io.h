// Little-endian byte writer and bounds-checked reader for the engine blob. Integers are written
// byte by byte (independent of the host's order), floats as their IEEE-754 bits. Reading past the
// end throws ERR_ENGINE_FORMAT ("truncated"), never reads out of bounds.
//
// Test: native/tests/engine_test.cu (round trip of an engine; truncated and flipped blobs).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../common/error.h"

namespace netdef::cuda {

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) { unsigned_(v, sizeof v); }
  void u64(uint64_t v) { unsigned_(v, sizeof v); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u32(bits);
  }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void i64s(const std::vector<int64_t>& v) {
    u64(v.size());
    for (int64_t x : v) i64(x);
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  void unsigned_(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), n_(size) {}

  uint8_t u8() { return static_cast<uint8_t>(unsigned_(1)); }
  uint32_t u32() { return static_cast<uint32_t>(unsigned_(4)); }
  uint64_t u64() { return unsigned_(8); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32() {
    const uint32_t bits = u32();
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string str() {
    const uint64_t len = count(1);
    std::string s(reinterpret_cast<const char*>(take(len)), len);
    return s;
  }
  std::vector<uint8_t> blob() {
    const uint64_t len = count(1);
    const uint8_t* b = take(len);
    return std::vector<uint8_t>(b, b + len);
  }
  std::vector<int64_t> i64s() {
    const uint64_t len = count(8);
    std::vector<int64_t> v(len);
    for (auto& x : v) x = i64();
    return v;
  }
  // A length prefix, refused when the remaining bytes cannot hold that many items of `itemBytes`.
  uint64_t count(uint64_t itemBytes) {
    const uint64_t len = u64();
    if (itemBytes > 0 && len > remaining() / itemBytes) throw Error(kErrEngineFormat, "engine blob is truncated or corrupted (length field)");
    return len;
  }
  const uint8_t* take(size_t n) {
    if (n > remaining()) throw Error(kErrEngineFormat, "engine blob is truncated");
    const uint8_t* at = p_ + pos_;
    pos_ += n;
    return at;
  }
  size_t remaining() const { return n_ - pos_; }
  size_t position() const { return pos_; }

 private:
  uint64_t unsigned_(size_t n) {
    const uint8_t* b = take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    return v;
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

// FNV-1a, 64 bits: the blob's checksum.
inline uint64_t fnv1a64(const uint8_t* p, size_t n) {
  constexpr uint64_t kOffset = 14695981039346656037ull;
  constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t h = kOffset;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kPrime;
  return h;
}

}  // namespace netdef::cuda
