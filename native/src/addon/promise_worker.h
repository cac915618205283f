// An AsyncWorker that settles a Promise: work() runs on a libuv worker thread and may throw anything
// (a netdef::Error keeps its code; other exceptions become ERR_BACKEND); result() runs on the JS
// thread and builds the resolved value. Nothing escapes to abort the process: every exception is
// caught and becomes the rejection.
#pragma once

#include <napi.h>

#include <exception>
#include <memory>

#include "js_values.h"

namespace netdef::addon {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  virtual void work() = 0;                        // worker thread: no JS here
  virtual Napi::Value result(Napi::Env env) = 0;  // JS thread, after a successful work()

 private:
  void Execute() override {
    try {
      work();
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      if (error_) std::rethrow_exception(error_);
      deferred_.Resolve(result(env));
    } catch (...) {
      deferred_.Reject(currentError(env, std::current_exception()).Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  std::exception_ptr error_;
};

// Queues a worker (Node-API deletes it when it completes) and returns its promise.
template <typename W>
Napi::Value queue(std::unique_ptr<W> worker) {
  Napi::Promise promise = worker->promise();
  worker.release()->Queue();
  return promise;
}

}  // namespace netdef::addon
