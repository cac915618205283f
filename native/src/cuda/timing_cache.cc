// The CUDA engine's timing cache: see timing_cache.h.
#include "timing_cache.h"

#include <cstdlib>
#include <cstring>
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

constexpr unsigned char kFirstPrintable = 0x20, kLastPrintable = 0x7e;
constexpr const char* kHexDigits = "0123456789abcdef";

// A plan text on one line of printable ASCII: backslash, tab, CR and LF as two-character escapes,
// any other byte outside printable ASCII as \xHH (the file stays valid UTF-8 text whatever cuDNN
// puts in its plans).
std::string escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      default:
        if (byte >= kFirstPrintable && byte <= kLastPrintable) {
          out += c;
        } else {
          out += "\\x";
          out += kHexDigits[byte >> 4];
          out += kHexDigits[byte & 0xf];
        }
    }
  }
  return out;
}

int hexValue(char c) {
  const char* at = std::strchr(kHexDigits, c);
  return c != '\0' && at ? static_cast<int>(at - kHexDigits) : -1;
}

std::string unescaped(const std::string& field, size_t line) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    const char next = i + 1 < field.size() ? field[++i] : '\0';
    switch (next) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 'x': {
        const int hi = i + 1 < field.size() ? hexValue(field[i + 1]) : -1;
        const int lo = i + 2 < field.size() ? hexValue(field[i + 2]) : -1;
        if (hi < 0 || lo < 0) malformed(line, "a plan text with a bad \\x escape at character " + std::to_string(i));
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: malformed(line, "a plan text with an unknown escape at character " + std::to_string(i));
    }
  }
  return out;
}

// The version `text` names when this build reads it, else 0.
int readableVersion(const std::string& text) {
  for (int v = kOldestTimingCacheVersion; v <= kTimingCacheVersion; ++v) {
    if (text == std::to_string(v)) return v;
  }
  return 0;
}

}  // namespace

void TimingCache::merge(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string text;
  size_t line = 0;
  std::map<std::string, ConvTactic> convs;
  std::map<std::string, LayoutMode> modes;
  std::map<std::string, std::string> plans;
  bool sameDevice = false;
  int version = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) continue;
    const std::vector<std::string> f = fields(text);
    if (line == 1) {
      const size_t space = text.find(' ');
      if (text.substr(0, space) != kMagic) malformed(line, "not a netdef CUDA timing cache");
      version = space == std::string::npos ? 0 : readableVersion(text.substr(space + 1));
      if (version == 0) {
        notes_.push_back("timing cache of another format (" + text + ") ignored; this netdef reads versions " +
                         std::to_string(kOldestTimingCacheVersion) + " to " + std::to_string(kTimingCacheVersion));
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
      const size_t wanted = version >= kSplitKTimingCacheVersion ? 8 : 7;
      if (f.size() != wanted) malformed(line, "a conv record has " + std::to_string(wanted) + " fields, this has " + std::to_string(f.size()));
      ConvTactic t;
      const int64_t kind = integer(f[2], line);
      if (kind < 0 || kind > static_cast<int64_t>(ConvTactic::kLastKind)) malformed(line, "unknown tactic kind " + f[2]);
      t.kind = static_cast<ConvTactic::Kind>(kind);
      t.algo = static_cast<int32_t>(integer(f[3], line));
      t.mathType = static_cast<int32_t>(integer(f[4], line));
      t.engine = integer(f[5], line);
      t.timeMs = number(f[6], line);
      if (wanted == 8) {
        const int64_t splits = integer(f[7], line);
        if (splits < 1 || splits > igemm::kMaxIgemmSplits || (t.kind != ConvTactic::Kind::kIgemm && splits != 1)) {
          malformed(line, "split-K slices out of range: " + f[7]);
        }
        t.splits = static_cast<int32_t>(splits);
      }
      convs[f[1]] = t;
    } else if (f[0] == "mode") {
      if (f.size() != 3) malformed(line, "a mode record has 3 fields, this has " + std::to_string(f.size()));
      const int64_t m = integer(f[2], line);
      if (m != static_cast<int64_t>(LayoutMode::kRowMajor) && m != static_cast<int64_t>(LayoutMode::kChannelsLastHalf)) {
        malformed(line, "unknown layout mode " + f[2]);
      }
      modes[f[1]] = static_cast<LayoutMode>(m);
    } else if (f[0] == "plan") {
      if (f.size() != 3) malformed(line, "a plan record has 3 fields, this has " + std::to_string(f.size()));
      if (f[2].empty()) malformed(line, "an empty plan text");
      plans[f[1]] = unescaped(f[2], line);
    } else {
      malformed(line, "unknown record '" + f[0] + "'");
    }
  }
  if (line < 2) malformed(line + 1, "the header is missing");
  if (!sameDevice) return;
  for (auto& [k, v] : convs) convs_[k] = v;
  for (auto& [k, v] : modes) modes_[k] = v;
  for (auto& [k, v] : plans) plans_[k] = std::move(v);
}

std::vector<uint8_t> TimingCache::serialize() const {
  std::ostringstream out;
  out << kMagic << ' ' << kTimingCacheVersion << "\ndevice\t" << device_ << '\n';
  for (const auto& [k, t] : convs_) {
    out << "conv\t" << k << '\t' << static_cast<int>(t.kind) << '\t' << t.algo << '\t' << t.mathType << '\t' << t.engine << '\t'
        << t.timeMs << '\t' << t.splits << '\n';
  }
  for (const auto& [k, m] : modes_) out << "mode\t" << k << '\t' << static_cast<int>(m) << '\n';
  for (const auto& [k, text] : plans_) out << "plan\t" << k << '\t' << escaped(text) << '\n';
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
