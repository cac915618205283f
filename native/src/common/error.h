// netdef::Error: what native code throws instead of aborting. `code` is one of the stable codes the
// TypeScript side maps to NetdefError (engine/native/addon-types.ts lists them).
#pragma once

#include <stdexcept>
#include <string>

namespace netdef {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

inline constexpr const char* kErrNoCudaDevice = "ERR_NO_CUDA_DEVICE";
inline constexpr const char* kErrCudnnUnavailable = "ERR_CUDNN_UNAVAILABLE";
inline constexpr const char* kErrOutOfMemory = "ERR_OUT_OF_MEMORY";
inline constexpr const char* kErrEngineFormat = "ERR_ENGINE_FORMAT";
inline constexpr const char* kErrBackend = "ERR_BACKEND";
inline constexpr const char* kErrInvalidArgument = "ERR_INVALID_ARGUMENT";
inline constexpr const char* kErrWeightsMismatch = "ERR_WEIGHTS_MISMATCH";

}  // namespace netdef
