// See trt_loader.h. The factory names and signatures are those NvInfer.h and NvInferRuntime.h
// declare (the same in TensorRT 10.x and 11.x); the version argument is NV_TENSORRT_VERSION of the
// headers compiled against, which the library checks itself.
#include "trt_loader.h"

#include <dlfcn.h>

#include <cstdlib>

#include "../common/error.h"

namespace netdef::trt {
namespace {

const char* severityName(nvinfer1::ILogger::Severity s) {
  using S = nvinfer1::ILogger::Severity;
  switch (s) {
    case S::kINTERNAL_ERROR: return "internal error";
    case S::kERROR: return "error";
    case S::kWARNING: return "warning";
    case S::kINFO: return "info";
    case S::kVERBOSE: return "verbose";
  }
  return "?";
}

[[noreturn]] void backend(const std::string& message) { throw Error(kErrBackend, message); }

}  // namespace

std::string versionText(int64_t v) {
  return "TensorRT " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

void Logger::log(Severity severity, nvinfer1::AsciiChar const* message) noexcept {
  if (severity > Severity::kWARNING || !message) return;
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string text = std::string(severityName(severity)) + ": " + message;
    if (severity <= Severity::kERROR) lastError_ = message;
    if (messages_.size() == kKept) messages_.erase(messages_.begin());
    messages_.push_back(std::move(text));
  } catch (...) {
    // Logging must not throw into TensorRT; a message lost to bad_alloc is acceptable.
  }
}

void Logger::clearError() {
  std::lock_guard<std::mutex> lock(mutex_);
  lastError_.clear();
}

std::string Logger::lastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastError_.empty() ? std::string("(TensorRT logged no error)") : lastError_;
}

std::vector<std::string> Logger::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

const Library& Library::get() {
  static std::once_flag once;
  static Library library;
  static std::string failure;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("NETDEF_TENSORRT_LIBRARY"); env && *env) candidates.emplace_back(env);
    candidates.push_back("libnvinfer.so." + std::to_string(NV_TENSORRT_MAJOR));
    candidates.emplace_back("libnvinfer.so");
    std::string tried;
    for (const std::string& name : candidates) {
      void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* why = dlerror();
        tried += "\n  " + name + ": " + (why ? why : "not found");
        continue;
      }
      auto versionFn = reinterpret_cast<int32_t (*)()>(dlsym(handle, "getInferLibVersion"));
      Library lib;
      lib.path_ = name;
      lib.version_ = versionFn ? versionFn() : 0;
      lib.createBuilder_ = reinterpret_cast<CreateFn>(dlsym(handle, "createInferBuilder_INTERNAL"));
      lib.createRuntime_ = reinterpret_cast<CreateFn>(dlsym(handle, "createInferRuntime_INTERNAL"));
      lib.createRefitter_ = reinterpret_cast<CreateRefitterFn>(dlsym(handle, "createInferRefitter_INTERNAL"));
      if (!versionFn || !lib.createBuilder_ || !lib.createRuntime_ || !lib.createRefitter_) {
        tried += "\n  " + name + ": opened, but it lacks the TensorRT factory functions";
        dlclose(handle);
        continue;
      }
      constexpr int32_t kMajorUnit = 10000, kMinorUnit = 100;  // NV_TENSORRT_VERSION's encoding
      if (lib.version_ / kMajorUnit != NV_TENSORRT_MAJOR || lib.version_ / kMinorUnit < NV_TENSORRT_VERSION / kMinorUnit) {
        tried += "\n  " + name + ": is " + versionText(lib.version_) + ", this addon was compiled against " +
                 versionText(NV_TENSORRT_VERSION) + " (needs the same major version, and a minor version at least as new)";
        dlclose(handle);
        continue;
      }
      library = lib;  // the handle stays open for the life of the process
      return;
    }
    failure = "TensorRT " + std::to_string(NV_TENSORRT_MAJOR) +
              ".x not found (set NETDEF_TENSORRT_LIBRARY to libnvinfer's path, or add its folder to LD_LIBRARY_PATH); tried:" + tried;
  });
  if (!failure.empty()) backend(failure);
  return library;
}

nvinfer1::IBuilder* Library::createBuilder(Logger& logger) const {
  auto* builder = static_cast<nvinfer1::IBuilder*>(createBuilder_(static_cast<nvinfer1::ILogger*>(&logger), NV_TENSORRT_VERSION));
  if (!builder) backend("createInferBuilder failed (" + path_ + "): " + logger.lastError());
  return builder;
}

nvinfer1::IRuntime* Library::createRuntime(Logger& logger) const {
  auto* runtime = static_cast<nvinfer1::IRuntime*>(createRuntime_(static_cast<nvinfer1::ILogger*>(&logger), NV_TENSORRT_VERSION));
  if (!runtime) backend("createInferRuntime failed (" + path_ + "): " + logger.lastError());
  return runtime;
}

nvinfer1::IRefitter* Library::createRefitter(nvinfer1::ICudaEngine& engine, Logger& logger) const {
  auto* refitter = static_cast<nvinfer1::IRefitter*>(createRefitter_(&engine, static_cast<nvinfer1::ILogger*>(&logger), NV_TENSORRT_VERSION));
  if (!refitter) backend("createInferRefitter failed (" + path_ + "): " + logger.lastError());
  return refitter;
}

}  // namespace netdef::trt
