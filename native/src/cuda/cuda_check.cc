// CUDA errors and RAII owners: see cuda_check.h.
#include "cuda_check.h"

namespace netdef::cuda {

int multiprocessorCount() {
  int device = 0, count = 0;
  checkCuda(cudaGetDevice(&device), "cudaGetDevice");
  checkCuda(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), "multiprocessor count");
  return count;
}

void throwCuda(cudaError_t err, const std::string& what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  const std::string message = what + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  switch (err) {
    case cudaErrorMemoryAllocation:
      throw Error(kErrOutOfMemory, message);
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
      throw Error(kErrNoCudaDevice, message);
    default:
      throw Error(kErrBackend, message);
  }
}

DeviceGuard::DeviceGuard(int device) {
  checkCuda(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device) checkCuda(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
}

DeviceGuard::~DeviceGuard() {
  int current = -1;
  if (previous_ >= 0 && cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
}

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes > 0) checkCuda(cudaMalloc(&ptr_, bytes), what + ": cudaMalloc(" + std::to_string(bytes) + " bytes)");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = takeHandle(o.ptr_);
    bytes_ = takeHandle(o.bytes_);
  }
  return *this;
}

PinnedBuffer::PinnedBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes > 0) checkCuda(cudaMallocHost(&ptr_, bytes), what + ": cudaMallocHost(" + std::to_string(bytes) + " bytes)");
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = takeHandle(o.ptr_);
    bytes_ = takeHandle(o.bytes_);
  }
  return *this;
}

Stream::Stream() { checkCuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }

Stream::~Stream() {
  if (stream_) cudaStreamDestroy(stream_);
}

Event::Event() { checkCuda(cudaEventCreate(&event_), "cudaEventCreate"); }

Event::Event(unsigned flags) { checkCuda(cudaEventCreateWithFlags(&event_, flags), "cudaEventCreateWithFlags"); }

Event::~Event() {
  if (event_) cudaEventDestroy(event_);
}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    if (event_) cudaEventDestroy(event_);
    event_ = takeHandle(o.event_);
  }
  return *this;
}

float Event::since(const Event& start) const {
  float ms = 0;
  checkCuda(cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime");
  return ms;
}

GraphExec::GraphExec(cudaGraph_t graph) {
  cudaError_t err = cudaGraphInstantiate(&exec_, graph, 0);
  cudaGraphDestroy(graph);
  checkCuda(err, "cudaGraphInstantiate");
}

GraphExec::~GraphExec() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

GraphExec& GraphExec::operator=(GraphExec&& o) noexcept {
  if (this != &o) {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = takeHandle(o.exec_);
  }
  return *this;
}

}  // namespace netdef::cuda
