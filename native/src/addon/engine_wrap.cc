// The engine's JS object (see engine_wrap.h): run, profile, timeForward and refit on worker threads
// with their inputs copied first; layers, serialize and deviceMemoryBytes on the JS thread.
#include "engine_wrap.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../common/error.h"
#include "graph_from_js.h"
#include "image_batch_from_js.h"
#include "js_values.h"
#include "promise_worker.h"

namespace netdef::addon {
namespace {

struct AddonData {
  Napi::FunctionReference engineConstructor;
};

using Inputs = std::unordered_map<std::string, std::vector<uint8_t>>;

Napi::Object outputsToJs(Napi::Env env, std::unordered_map<std::string, HostOutput>& outputs) {
  Napi::Object out = Napi::Object::New(env);
  for (auto& [name, o] : outputs) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("dtype", ir::dtypeName(o.dtype));
    Napi::Array shape = Napi::Array::New(env, o.shape.size());
    for (size_t i = 0; i < o.shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(o.shape[i]));
    t.Set("shape", shape);
    t.Set("data", ownedBytes(env, std::move(o.data)));
    out.Set(name, t);
  }
  return out;
}

// Each worker keeps the engine alive while it works and lets go of it before it returns, so the
// last reference after dispose() is dropped off the JS thread.
class RunWorker final : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<Engine> engine, Inputs inputs, int64_t batch)
      : PromiseWorker(env), engine_(std::move(engine)), inputs_(std::move(inputs)), batch_(batch) {}

 private:
  void work() override {
    std::shared_ptr<Engine> engine = std::move(engine_);
    outputs_ = engine->run(inputs_, batch_);
    inputs_.clear();
  }

  Napi::Value result(Napi::Env env) override { return outputsToJs(env, outputs_); }

  std::shared_ptr<Engine> engine_;
  Inputs inputs_;
  int64_t batch_;
  std::unordered_map<std::string, HostOutput> outputs_;
};

class RunImagesWorker final : public PromiseWorker {
 public:
  RunImagesWorker(Napi::Env env, std::shared_ptr<Engine> engine, ImageBatch batch, std::optional<CandidateQuery> query)
      : PromiseWorker(env), engine_(std::move(engine)), batch_(std::move(batch)), query_(std::move(query)) {}

 private:
  void work() override {
    std::shared_ptr<Engine> engine = std::move(engine_);
    result_ = engine->runImages(batch_, query_);
    batch_ = ImageBatch();
  }

  Napi::Value result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    if (result_.candidates) {
      CandidateSet& c = *result_.candidates;
      Napi::Object candidates = Napi::Object::New(env);
      Napi::Int32Array counts = Napi::Int32Array::New(env, c.counts.size());
      for (size_t i = 0; i < c.counts.size(); ++i) counts[i] = c.counts[i];
      candidates.Set("counts", counts);
      candidates.Set("records", ownedBytes(env, std::move(c.records)));
      out.Set("candidates", candidates);
    } else {
      out.Set("outputs", outputsToJs(env, result_.outputs));
    }
    return out;
  }

  std::shared_ptr<Engine> engine_;
  ImageBatch batch_;
  std::optional<CandidateQuery> query_;
  ImageRunResult result_;
};

class ProfileWorker final : public PromiseWorker {
 public:
  ProfileWorker(Napi::Env env, std::shared_ptr<Engine> engine, int64_t batch, int iterations)
      : PromiseWorker(env), engine_(std::move(engine)), batch_(batch), iterations_(iterations) {}

 private:
  void work() override {
    std::shared_ptr<Engine> engine = std::move(engine_);
    engine->profile(batch_, iterations_);
  }
  Napi::Value result(Napi::Env env) override { return env.Undefined(); }

  std::shared_ptr<Engine> engine_;
  int64_t batch_;
  int iterations_;
};

class TimeWorker final : public PromiseWorker {
 public:
  TimeWorker(Napi::Env env, std::shared_ptr<Engine> engine, int64_t batch, int iterations, bool withCopies)
      : PromiseWorker(env), engine_(std::move(engine)), batch_(batch), iterations_(iterations), withCopies_(withCopies) {}

 private:
  void work() override {
    std::shared_ptr<Engine> engine = std::move(engine_);
    ms_ = engine->timeForward(batch_, iterations_, withCopies_);
  }
  Napi::Value result(Napi::Env env) override { return Napi::Number::New(env, ms_); }

  std::shared_ptr<Engine> engine_;
  int64_t batch_;
  int iterations_;
  bool withCopies_;
  double ms_ = 0;
};

class RefitWorker final : public PromiseWorker {
 public:
  RefitWorker(Napi::Env env, std::shared_ptr<Engine> engine, OwnedParams params)
      : PromiseWorker(env), engine_(std::move(engine)), params_(std::move(params)) {}

 private:
  void work() override {
    std::shared_ptr<Engine> engine = std::move(engine_);
    OwnedParams params = std::move(params_);  // freed on this thread, however the refit ends
    engine->refit(params.params);
  }
  Napi::Value result(Napi::Env env) override { return env.Undefined(); }

  std::shared_ptr<Engine> engine_;
  OwnedParams params_;
};

Inputs copyInputs(const Napi::Value& value) {
  if (!value.IsObject() || value.IsArray()) throw Error(kErrInvalidArgument, "run: inputs must be an object of Uint8Arrays by input name");
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Array names = obj.GetPropertyNames();
  Inputs inputs;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = obj.Get(name);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Error(kErrInvalidArgument, "run: input '" + name + "' must be a Uint8Array of its raw bytes");
    }
    Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
    inputs.emplace(name, std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.ByteLength()));
  }
  return inputs;
}

}  // namespace

Napi::Uint8Array ownedBytes(Napi::Env env, std::vector<uint8_t>&& bytes) {
  if (bytes.empty()) return Napi::Uint8Array::New(env, 0);
  auto owned = std::make_unique<std::vector<uint8_t>>(std::move(bytes));
  std::vector<uint8_t>* raw = owned.get();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, raw->data(), raw->size(), [](Napi::Env, void*, std::vector<uint8_t>* v) { delete v; }, raw);
  owned.release();  // the ArrayBuffer's finalizer owns it now
  return Napi::Uint8Array::New(env, raw->size(), buffer, 0);
}

void EngineWrap::define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeEngine",
                                    {InstanceMethod<&EngineWrap::run>("run"), InstanceMethod<&EngineWrap::runImages>("runImages"),
                                     InstanceMethod<&EngineWrap::profile>("profile"),
                                     InstanceMethod<&EngineWrap::timeForward>("timeForward"), InstanceMethod<&EngineWrap::refit>("refit"),
                                     InstanceMethod<&EngineWrap::inspect>("inspect"),
                                     InstanceMethod<&EngineWrap::layers>("layers"), InstanceMethod<&EngineWrap::serialize>("serialize"),
                                     InstanceMethod<&EngineWrap::deviceMemoryBytes>("deviceMemoryBytes"),
                                     InstanceMethod<&EngineWrap::dispose>("dispose")});
  env.SetInstanceData(new AddonData{Napi::Persistent(ctor)});
}

Napi::Object EngineWrap::wrap(Napi::Env env, std::shared_ptr<Engine> engine) {
  if (!engine) throw Error(kErrBackend, "the backend returned no engine");
  Napi::External<std::shared_ptr<Engine>> handle = Napi::External<std::shared_ptr<Engine>>::New(env, &engine);
  return env.GetInstanceData<AddonData>()->engineConstructor.New({handle});
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  guard(info.Env(), [&] {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Error(kErrInvalidArgument, "engines are made by the addon's build*/load* functions, not with new");
    }
    engine_ = *info[0].As<Napi::External<std::shared_ptr<Engine>>>().Data();
  });
}

std::shared_ptr<Engine> EngineWrap::engine() const {
  if (!engine_) throw Error(kErrBackend, "the engine has been disposed");
  return engine_;
}

Napi::Value EngineWrap::run(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Engine> engine = this->engine();
    Inputs inputs = copyInputs(info[0]);
    int64_t batch = toInteger(info[1], "run: batch", 1, INT32_MAX);
    return queue(std::make_unique<RunWorker>(info.Env(), std::move(engine), std::move(inputs), batch));
  });
}

Napi::Value EngineWrap::runImages(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Engine> engine = this->engine();
    std::optional<CandidateQuery> query = candidateQueryFromJs(info[1]);
    ImageBatch batch = imageBatchFromJs(info[0]);
    return queue(std::make_unique<RunImagesWorker>(info.Env(), std::move(engine), std::move(batch), std::move(query)));
  });
}

Napi::Value EngineWrap::profile(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Engine> engine = this->engine();
    int64_t batch = toInteger(info[0], "profile: batch", 1, INT32_MAX);
    int iterations = static_cast<int>(toInteger(info[1], "profile: iterations", 1, 1000000));
    return queue(std::make_unique<ProfileWorker>(info.Env(), std::move(engine), batch, iterations));
  });
}

Napi::Value EngineWrap::timeForward(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Engine> engine = this->engine();
    int64_t batch = toInteger(info[0], "timeForward: batch", 1, INT32_MAX);
    int iterations = static_cast<int>(toInteger(info[1], "timeForward: iterations", 1, 1000000));
    bool withCopies = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    return queue(std::make_unique<TimeWorker>(info.Env(), std::move(engine), batch, iterations, withCopies));
  });
}

Napi::Value EngineWrap::refit(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Engine> engine = this->engine();
    return queue(std::make_unique<RefitWorker>(info.Env(), std::move(engine), paramsFromJs(info[0], "refit")));
  });
}

Napi::Value EngineWrap::layers(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<LayerInfo> layers = engine()->layers();
    Napi::Array out = Napi::Array::New(info.Env(), layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      Napi::Object l = Napi::Object::New(info.Env());
      l.Set("name", layers[i].name);
      l.Set("kind", layers[i].kind);
      l.Set("dtype", layers[i].dtype);
      l.Set("kernel", layers[i].kernel);
      l.Set("timeMs", layers[i].timeMs);
      out.Set(static_cast<uint32_t>(i), l);
    }
    return out;
  });
}

Napi::Value EngineWrap::inspect(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), engine()->inspect()); });
}

Napi::Value EngineWrap::serialize(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value { return ownedBytes(info.Env(), engine()->serialize()); });
}

Napi::Value EngineWrap::deviceMemoryBytes(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(engine()->deviceMemoryBytes()));
  });
}

Napi::Value EngineWrap::dispose(const Napi::CallbackInfo& info) {
  engine_.reset();
  return info.Env().Undefined();
}

}  // namespace netdef::addon
