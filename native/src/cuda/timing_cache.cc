// The CUDA engine's timing cache: see timing_cache.h.
#include "timing_cache.h"

#include <cstdlib>
#include <sstream>

#include "../common/error.h"

namespace netdef::cuda {
namespace {

constexpr const char* kMagic = "netdef-cuda-timing-cache";

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

[[noreturn]] void malformed(size_t line, const std::string& why) {
  throw Error(kErrEngineFormat, "timing cache line " + std::to_string(line) + ": " + why);
}

int64_t integer(const std::string& s, size_t line) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') malformed(line, "'" + s + "' is not an integer");
  return v;
}

float number(const std::string& s, size_t line) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0)) malformed(line, "'" + s + "' is not a time in ms");
  return v;
}

}  // namespace

void TimingCache::merge(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string text;
  size_t line = 0;
  std::map<std::string, ConvTactic> convs;
  std::map<std::string, LayoutMode> modes;
  bool sameDevice = false;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) continue;
    const std::vector<std::string> f = fields(text);
    if (line == 1) {
      const size_t space = text.find(' ');
      if (text.substr(0, space) != kMagic) malformed(line, "not a netdef CUDA timing cache");
      if (space == std::string::npos || text.substr(space + 1) != std::to_string(kTimingCacheVersion)) {
        notes_.push_back("timing cache of another format (" + text + ") ignored; this netdef writes version " +
                         std::to_string(kTimingCacheVersion));
        return;
      }
      continue;
    }
    if (line == 2) {
      if (f.size() != 2 || f[0] != "device") malformed(line, "expected 'device<TAB>identity'");
      sameDevice = f[1] == device_;
      if (!sameDevice) notes_.push_back("timing cache of another device or cuDNN (" + f[1] + ") ignored; this is " + device_);
      continue;
    }
    if (f[0] == "conv") {
      if (f.size() != 7) malformed(line, "a conv record has 7 fields, this has " + std::to_string(f.size()));
      ConvTactic t;
      const int64_t kind = integer(f[2], line);
      if (kind < 0 || kind > static_cast<int64_t>(ConvTactic::kLastKind)) malformed(line, "unknown tactic kind " + f[2]);
      t.kind = static_cast<ConvTactic::Kind>(kind);
      t.algo = static_cast<int32_t>(integer(f[3], line));
      t.mathType = static_cast<int32_t>(integer(f[4], line));
      t.engine = integer(f[5], line);
      t.timeMs = number(f[6], line);
      convs[f[1]] = t;
    } else if (f[0] == "mode") {
      if (f.size() != 3) malformed(line, "a mode record has 3 fields, this has " + std::to_string(f.size()));
      const int64_t m = integer(f[2], line);
      if (m != static_cast<int64_t>(LayoutMode::kRowMajor) && m != static_cast<int64_t>(LayoutMode::kChannelsLastHalf)) {
        malformed(line, "unknown layout mode " + f[2]);
      }
      modes[f[1]] = static_cast<LayoutMode>(m);
    } else {
      malformed(line, "unknown record '" + f[0] + "'");
    }
  }
  if (line < 2) malformed(line + 1, "the header is missing");
  if (!sameDevice) return;
  for (auto& [k, v] : convs) convs_[k] = v;
  for (auto& [k, v] : modes) modes_[k] = v;
}

std::vector<uint8_t> TimingCache::serialize() const {
  std::ostringstream out;
  out << kMagic << ' ' << kTimingCacheVersion << "\ndevice\t" << device_ << '\n';
  for (const auto& [k, t] : convs_) {
    out << "conv\t" << k << '\t' << static_cast<int>(t.kind) << '\t' << t.algo << '\t' << t.mathType << '\t' << t.engine << '\t'
        << t.timeMs << '\n';
  }
  for (const auto& [k, m] : modes_) out << "mode\t" << k << '\t' << static_cast<int>(m) << '\n';
  const std::string s = out.str();
  return std::vector<uint8_t>(s.begin(), s.end());
}

const ConvTactic* TimingCache::conv(const std::string& key) const {
  auto it = convs_.find(key);
  return it == convs_.end() ? nullptr : &it->second;
}

std::optional<LayoutMode> TimingCache::mode(const std::string& key) const {
  auto it = modes_.find(key);
  if (it == modes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace netdef::cuda
