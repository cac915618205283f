// TensorRT opened at run time: libnvinfer is found with dlopen and its three factory functions
// (createInferBuilder_INTERNAL, createInferRuntime_INTERNAL, createInferRefitter_INTERNAL, the
// extern "C" functions behind NvInfer.h's inline createInferBuilder & co.) are taken with dlsym.
// The addon never links libnvinfer, so it loads where TensorRT is absent; only this adapter needs
// TensorRT, and only when it is used.
//
// Library search (first that opens, of the headers' major version and at least their minor version:
// an older library may lack interface entries the headers call):
//   $NETDEF_TENSORRT_LIBRARY (a path or a file name), libnvinfer.so.<NV_TENSORRT_MAJOR>, libnvinfer.so
// The library stays open for the life of the process (TensorRT objects may outlive any one owner).
#pragma once

#include <NvInfer.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace netdef::trt {

// Collects what TensorRT logs: messages at kWARNING or worse are kept (the last one is quoted in
// errors); nothing is printed. Thread-safe (TensorRT may log from its own threads).
class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* message) noexcept override;
  // The last kERROR/kINTERNAL_ERROR message, or "" (then "(TensorRT logged no error)" in messages).
  std::string lastError() const;
  // Every kept message, "<severity>: <text>", oldest first (at most kKept).
  std::vector<std::string> messages() const;
  // Forgets the last error, so a failure quotes what went wrong in its own call.
  void clearError();

  static constexpr size_t kKept = 256;

 private:
  mutable std::mutex mutex_;
  std::string lastError_;
  std::vector<std::string> messages_;
};

class Library {
 public:
  // The process-wide library, opened on first use; throws netdef::Error(ERR_BACKEND) naming every
  // library tried and why, when none fits.
  static const Library& get();

  // Each throws netdef::Error(ERR_BACKEND) with the logger's last error when TensorRT returns null.
  nvinfer1::IBuilder* createBuilder(Logger& logger) const;
  nvinfer1::IRuntime* createRuntime(Logger& logger) const;
  nvinfer1::IRefitter* createRefitter(nvinfer1::ICudaEngine& engine, Logger& logger) const;

  const std::string& path() const { return path_; }
  // getInferLibVersion() of the opened library (major * 10000 + minor * 100 + patch).
  int32_t version() const { return version_; }

 private:
  using CreateFn = void* (*)(void* logger, int32_t version);
  using CreateRefitterFn = void* (*)(void* engine, void* logger, int32_t version);

  Library() = default;

  std::string path_;
  int32_t version_ = 0;
  CreateFn createBuilder_ = nullptr;
  CreateFn createRuntime_ = nullptr;
  CreateRefitterFn createRefitter_ = nullptr;
};

// "TensorRT 10.16.0" for a getInferLibVersion()-style number.
std::string versionText(int64_t version);

}  // namespace netdef::trt
