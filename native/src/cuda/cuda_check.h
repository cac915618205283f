// CUDA runtime errors as netdef::Error and one RAII owner per CUDA resource the engine holds:
// device memory, pinned host memory, streams, events, graphs. Out of memory becomes
// ERR_OUT_OF_MEMORY, a missing driver or device ERR_NO_CUDA_DEVICE, anything else ERR_BACKEND.
// Plain C++ over the runtime API (host compiler + CUDA include path).
//
// Test: native/tests/engine_test.cu (every engine path goes through these; a deliberate
// oversized allocation checks the out-of-memory code).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "../common/error.h"

namespace netdef::cuda {

// Maps a CUDA error to the netdef code (clearing the sticky "last error" first).
[[noreturn]] void throwCuda(cudaError_t err, const std::string& what);

inline void checkCuda(cudaError_t err, const std::string& what) {
  if (err != cudaSuccess) throwCuda(err, what);
}

// The current device's streaming multiprocessors.
int multiprocessorCount();

// Makes `device` current for the lifetime of the guard, restoring the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Moves a raw handle out of `other`, leaving it empty.
template <typename T>
T takeHandle(T& other) {
  return std::exchange(other, T{});
}

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes, const std::string& what);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(takeHandle(o.ptr_)), bytes_(takeHandle(o.bytes_)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  uint8_t* bytes() const { return static_cast<uint8_t*>(ptr_); }
  size_t size() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory, so that copies to and from the device are asynchronous and fast.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes, const std::string& what);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(takeHandle(o.ptr_)), bytes_(takeHandle(o.bytes_)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  uint8_t* get() const { return static_cast<uint8_t*>(ptr_); }
  size_t size() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

class Stream {
 public:
  Stream();  // a non-blocking stream on the current device
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  void synchronize(const std::string& what) const { checkCuda(cudaStreamSynchronize(stream_), what); }

 private:
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  Event();  // with timing
  explicit Event(unsigned flags);  // cudaEventCreateWithFlags (cudaEventDisableTiming: only for ordering)
  ~Event();
  Event(Event&& o) noexcept : event_(takeHandle(o.event_)) {}
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) const { checkCuda(cudaEventRecord(event_, stream), "cudaEventRecord"); }
  // Milliseconds from `start` to this event (both recorded and complete).
  float since(const Event& start) const;

 private:
  cudaEvent_t event_ = nullptr;
};

// An instantiated CUDA graph (the captured graph is destroyed once instantiated).
class GraphExec {
 public:
  GraphExec() = default;
  explicit GraphExec(cudaGraph_t graph);  // takes ownership of `graph`
  ~GraphExec();
  GraphExec(GraphExec&& o) noexcept : exec_(takeHandle(o.exec_)) {}
  GraphExec& operator=(GraphExec&& o) noexcept;
  GraphExec(const GraphExec&) = delete;
  GraphExec& operator=(const GraphExec&) = delete;
  void launch(cudaStream_t stream) const { checkCuda(cudaGraphLaunch(exec_, stream), "cudaGraphLaunch"); }
  explicit operator bool() const { return exec_ != nullptr; }

 private:
  cudaGraphExec_t exec_ = nullptr;
};

// Captures the work `enqueue` puts on `stream` into an instantiated graph. A failure while
// capturing ends the capture before rethrowing, so the stream stays usable.
template <typename Fn>
GraphExec captureGraph(cudaStream_t stream, Fn&& enqueue) {
  checkCuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  try {
    enqueue();
  } catch (...) {
    cudaGraph_t broken = nullptr;
    cudaStreamEndCapture(stream, &broken);
    if (broken) cudaGraphDestroy(broken);
    cudaGetLastError();
    throw;
  }
  cudaGraph_t graph = nullptr;
  checkCuda(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture");
  return GraphExec(graph);
}

}  // namespace netdef::cuda
