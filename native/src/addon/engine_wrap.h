// The JS object for a built engine of either native backend, the CUDA engine or TensorRT
// (NativeCudaEngine / NativeTensorrtEngine in engine/native/addon-types.ts). runImages (images
// letterboxed on the device, candidates selected there) is the CUDA engine's; TensorRT rejects it.
//
// Ownership: the wrapper holds a shared_ptr to the engine and every run/profile worker holds
// another for as long as it works, so the workers in flight are counted by the shared_ptr.
// dispose() drops the wrapper's reference at once and never blocks: the engine is freed when the
// last run in flight finishes (on that worker's thread), or at once if none is. Any method after
// dispose() throws ERR_BACKEND. Objects are made only by buildCudaEngine/loadCudaEngine; `new` from
// JS is refused.
#pragma once

#include <napi.h>

#include <memory>

#include "../common/engine.h"

namespace netdef::addon {

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  // Defines the class and keeps its constructor in the addon's instance data.
  static void define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<Engine> engine);

  explicit EngineWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value runImages(const Napi::CallbackInfo& info);
  Napi::Value profile(const Napi::CallbackInfo& info);
  Napi::Value timeForward(const Napi::CallbackInfo& info);
  Napi::Value refit(const Napi::CallbackInfo& info);
  Napi::Value inspect(const Napi::CallbackInfo& info);
  Napi::Value layers(const Napi::CallbackInfo& info);
  Napi::Value serialize(const Napi::CallbackInfo& info);
  Napi::Value deviceMemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<Engine> engine() const;  // throws after dispose

  std::shared_ptr<Engine> engine_;
};

// A Uint8Array that owns `bytes` (no copy; freed when JS collects it).
Napi::Uint8Array ownedBytes(Napi::Env env, std::vector<uint8_t>&& bytes);

}  // namespace netdef::addon
