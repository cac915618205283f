// The addon's entry points (NativeAddon in engine/native/addon-types.ts) and its module init.
//   capabilities()                 what the machine offers (never throws)
//   recordReplay(graph)            the replay into a RecordingNetwork: one line per call
//   planCudaEngine(graph)          the CUDA engine's passes without a GPU: per layout mode, each op's
//                                  fusion, layout and direct-kernel choice
//   buildCudaEngine(graph, options, onProgress?) -> Promise<engine>   (graph copied, built on a worker; with .timingCache and .buildLog)
//   loadCudaEngine(blob, options)  -> Promise<engine>                  (blob copied, loaded on a worker)
//   buildTensorrtEngine(graph, options) -> Promise<engine>  (with .timingCache and .buildLog; TensorRT builds)
//   loadTensorrtEngine(plan, options)   -> Promise<engine>
// Errors are JS Errors with `code` (js_values.h); the asynchronous calls reject instead of throwing.
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "../common/error.h"
#include "../cuda/engine_api.h"
#include "../replay/recording_network.h"
#include "../replay/replay.h"
#include "../tensorrt/trt_api.h"
#include "engine_wrap.h"
#include "graph_from_js.h"
#include "js_values.h"
#include "promise_worker.h"

namespace netdef::addon {
namespace {

Napi::Value capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    cuda::Capabilities caps = cuda::capabilities();
    Napi::Object cudaInfo = Napi::Object::New(env);
    cudaInfo.Set("ok", caps.cudaOk);
    if (!caps.cudaOk) cudaInfo.Set("reason", caps.cudaReason);
    cudaInfo.Set("runtimeVersion", caps.runtimeVersion);
    cudaInfo.Set("driverVersion", caps.driverVersion);
    Napi::Array devices = Napi::Array::New(env, caps.devices.size());
    for (size_t i = 0; i < caps.devices.size(); ++i) {
      const cuda::DeviceInfo& d = caps.devices[i];
      Napi::Object device = Napi::Object::New(env);
      device.Set("index", d.index);
      device.Set("name", d.name);
      Napi::Array cc = Napi::Array::New(env, 2);
      cc.Set(0u, d.major);
      cc.Set(1u, d.minor);
      device.Set("computeCapability", cc);
      device.Set("memoryBytes", static_cast<double>(d.memoryBytes));
      devices.Set(static_cast<uint32_t>(i), device);
    }
    cudaInfo.Set("devices", devices);
    Napi::Object cudnn = Napi::Object::New(env);
    cudnn.Set("ok", caps.cudnnOk);
    if (!caps.cudnnOk) cudnn.Set("reason", caps.cudnnReason);
    if (caps.cudnnVersion > 0) cudnn.Set("version", caps.cudnnVersion);
    const trt::TrtCapabilities trtCaps = trt::capabilities();
    Napi::Object tensorrt = Napi::Object::New(env);
    tensorrt.Set("compiled", trtCaps.compiled);
    tensorrt.Set("ok", trtCaps.ok);
    if (!trtCaps.ok) tensorrt.Set("reason", trtCaps.reason);
    if (trtCaps.headerVersion > 0) tensorrt.Set("headerVersion", static_cast<double>(trtCaps.headerVersion));
    if (trtCaps.ok) {
      tensorrt.Set("libraryVersion", static_cast<double>(trtCaps.libraryVersion));
      tensorrt.Set("libraryPath", trtCaps.libraryPath);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", NETDEF_VERSION);
    out.Set("cudaEngine", NETDEF_WITH_CUDA_ENGINE != 0);
    out.Set("cuda", cudaInfo);
    out.Set("cudnn", cudnn);
    out.Set("tensorrt", tensorrt);
    return out;
  });
}

Napi::Value recordReplay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    OwnedGraph g = graphFromJs(info[0], ParamMemory::View);  // synchronous: the JS buffers outlive the call
    RecordingNetwork network;
    replay(g.graph, network);
    std::vector<std::string> lines = network.lines();
    Napi::Array out = Napi::Array::New(env, lines.size());
    for (size_t i = 0; i < lines.size(); ++i) out.Set(static_cast<uint32_t>(i), lines[i]);
    return out;
  });
}

// How a CUDA engine build would lay the graph out (cuda::planEngine), without a GPU.
Napi::Value planCudaEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    OwnedGraph g = graphFromJs(info[0], ParamMemory::View);  // synchronous: the JS buffers outlive the call
    const std::vector<cuda::PlannedMode> modes = cuda::planEngine(g.graph);
    Napi::Array out = Napi::Array::New(env, modes.size());
    for (size_t i = 0; i < modes.size(); ++i) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("mode", modes[i].mode);
      m.Set("concatInputsInPlace", static_cast<double>(modes[i].concatInputsInPlace));
      Napi::Array ops = Napi::Array::New(env, modes[i].ops.size());
      for (size_t k = 0; k < modes[i].ops.size(); ++k) {
        const cuda::PlannedOp& p = modes[i].ops[k];
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", p.name);
        o.Set("kind", p.kind);
        o.Set("fusedInto", p.fusedInto);
        o.Set("layout", p.layout);
        o.Set("direct", p.direct);
        if (p.kind == "Convolution" && p.fusedInto.empty() && !p.direct) o.Set("igemmWhyNot", p.igemmWhyNot);
        o.Set("sideStream", p.sideStream);
        ops.Set(static_cast<uint32_t>(k), o);
      }
      m.Set("ops", ops);
      m.Set("arenaBytes", static_cast<double>(modes[i].arenaBytes));
      m.Set("arenaBytesOneStream", static_cast<double>(modes[i].arenaBytesOneStream));
      m.Set("deviceWeightBytes", static_cast<double>(modes[i].deviceWeightBytes));
      m.Set("weightBytes", static_cast<double>(modes[i].weightBytes));
      out.Set(static_cast<uint32_t>(i), m);
    }
    return out;
  });
}

// options.batch ({min, opt, max}) into the three fields both backends' build options have.
template <typename Options>
void readBatch(const FieldReader& o, Options& options) {
  FieldReader batch = o.child("batch");
  options.minBatch = batch.integer("min", 1);
  options.optBatch = batch.integer("opt", 1);
  options.maxBatch = batch.integer("max", 1);
  if (options.minBatch > options.optBatch || options.optBatch > options.maxBatch) batch.fail("batch must satisfy min <= opt <= max");
}

// A build's optional `timingCache` bytes (copied).
void readCache(const FieldReader& o, std::vector<uint8_t>& out) {
  if (!o.has("timingCache")) return;
  Napi::Uint8Array cache = o.bytes("timingCache");
  out.assign(cache.Data(), cache.Data() + cache.ByteLength());
}

cuda::BuildOptions buildOptions(const Napi::Value& value) {
  FieldReader o(value, "buildCudaEngine options");
  cuda::BuildOptions options;
  readBatch(o, options);
  if (o.has("device")) options.device = static_cast<int>(o.integer("device", 0));
  if (o.has("tune")) options.tune = o.boolean("tune");
  if (o.has("exhaustive")) options.exhaustive = o.boolean("exhaustive");
  if (o.has("tf32")) options.tf32 = o.boolean("tf32");
  readCache(o, options.timingCache);
  return options;
}

// The engine object with what the build reports besides: .timingCache and .buildLog.
Napi::Object withBuildReport(Napi::Env env, std::unique_ptr<Engine> engine, std::vector<uint8_t>&& timingCache,
                             const std::vector<std::string>& log) {
  Napi::Object object = EngineWrap::wrap(env, std::move(engine));
  object.Set("timingCache", ownedBytes(env, std::move(timingCache)));
  Napi::Array lines = Napi::Array::New(env, log.size());
  for (size_t i = 0; i < log.size(); ++i) lines.Set(static_cast<uint32_t>(i), log[i]);
  object.Set("buildLog", lines);
  return object;
}

struct Progress {
  int done, total;
  std::string layer;
};

// Calls onProgress on the JS thread. An exception from the callback is dropped: progress must not
// fail a build (the TypeScript wrapper catches its own callback's errors first).
void callProgress(Napi::Env env, Napi::Function callback, void* /*context*/, Progress* progress) {
  std::unique_ptr<Progress> p(progress);
  if (!env || !callback) return;
  try {
    callback.Call({Napi::Number::New(env, p->done), Napi::Number::New(env, p->total), Napi::String::New(env, p->layer)});
  } catch (...) {
  }
}

using ProgressFn = Napi::TypedThreadSafeFunction<void, Progress, callProgress>;

class BuildWorker final : public PromiseWorker {
 public:
  BuildWorker(Napi::Env env, std::unique_ptr<OwnedGraph> graph, cuda::BuildOptions options, Napi::Value onProgress)
      : PromiseWorker(env), graph_(std::move(graph)), options_(options) {
    if (onProgress.IsFunction()) {
      progress_ = ProgressFn::New(env, onProgress.As<Napi::Function>(), "netdef:buildCudaEngine:progress", 0, 1);
      hasProgress_ = true;
    }
  }

 private:
  void work() override {
    // Release the progress function and the graph copy however the build ends.
    struct Done {
      BuildWorker& w;
      ~Done() {
        if (w.hasProgress_) w.progress_.Release();
        w.graph_.reset();
      }
    } done{*this};
    cuda::ProgressFn report;
    if (hasProgress_) {
      report = [this](int d, int t, const std::string& layer) { progress_.NonBlockingCall(new Progress{d, t, layer}); };
    }
    built_ = cuda::buildEngine(graph_->graph, options_, report);
  }

  Napi::Value result(Napi::Env env) override {
    return withBuildReport(env, std::move(built_.engine), std::move(built_.timingCache), built_.log);
  }

  std::unique_ptr<OwnedGraph> graph_;
  cuda::BuildOptions options_;
  ProgressFn progress_;
  bool hasProgress_ = false;
  cuda::Built built_;
};

Napi::Value buildCudaEngine(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    auto graph = std::make_unique<OwnedGraph>(graphFromJs(info[0], ParamMemory::Copy));
    cuda::BuildOptions options = buildOptions(info[1]);
    Napi::Value onProgress = info[2];
    if (!onProgress.IsUndefined() && !onProgress.IsFunction()) throw Error(kErrInvalidArgument, "buildCudaEngine: onProgress must be a function");
    return queue(std::make_unique<BuildWorker>(info.Env(), std::move(graph), options, onProgress));
  });
}

// Loads a serialized engine with either backend's loader on a worker thread.
using LoadFn = std::unique_ptr<Engine> (*)(const std::vector<uint8_t>&, int);

class LoadWorker final : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, LoadFn load, std::vector<uint8_t> blob, int device)
      : PromiseWorker(env), load_(load), blob_(std::move(blob)), device_(device) {}

 private:
  void work() override {
    engine_ = load_(blob_, device_);
    blob_ = {};
  }
  Napi::Value result(Napi::Env env) override { return EngineWrap::wrap(env, std::move(engine_)); }

  LoadFn load_;
  std::vector<uint8_t> blob_;
  int device_;
  std::unique_ptr<Engine> engine_;
};

// `call`(blob: Uint8Array, options?: {device}) -> Promise<engine>, the blob copied first.
Napi::Value loadWith(const Napi::CallbackInfo& info, const std::string& call, LoadFn load) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    Napi::Value blob = info[0];
    if (!blob.IsTypedArray() || blob.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Error(kErrInvalidArgument, call + ": the serialized engine must be a Uint8Array");
    }
    int device = 0;
    if (!info[1].IsUndefined()) {
      FieldReader options(info[1], call + " options");
      if (options.has("device")) device = static_cast<int>(options.integer("device", 0));
    }
    Napi::Uint8Array bytes = blob.As<Napi::Uint8Array>();
    return queue(std::make_unique<LoadWorker>(info.Env(), load, std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.ByteLength()), device));
  });
}

Napi::Value loadCudaEngine(const Napi::CallbackInfo& info) { return loadWith(info, "loadCudaEngine", &cuda::loadEngine); }

trt::TrtBuildOptions trtBuildOptions(const Napi::Value& value) {
  FieldReader o(value, "buildTensorrtEngine options");
  trt::TrtBuildOptions options;
  readBatch(o, options);
  if (o.has("device")) options.device = static_cast<int>(o.integer("device", 0));
  if (o.has("workspaceBytes")) options.workspaceBytes = static_cast<size_t>(o.integer("workspaceBytes", 1, INT64_MAX));
  if (o.has("refit")) options.refit = o.boolean("refit");
  if (o.has("refitIdentical")) options.refitIdentical = o.boolean("refitIdentical");
  if (o.has("stripPlan")) options.stripPlan = o.boolean("stripPlan");
  if (o.has("tf32")) options.tf32 = o.boolean("tf32") ? 1 : 0;
  readCache(o, options.timingCache);
  return options;
}

class TrtBuildWorker final : public PromiseWorker {
 public:
  TrtBuildWorker(Napi::Env env, std::unique_ptr<OwnedGraph> graph, trt::TrtBuildOptions options)
      : PromiseWorker(env), graph_(std::move(graph)), options_(std::move(options)) {}

 private:
  void work() override {
    std::unique_ptr<OwnedGraph> graph = std::move(graph_);  // freed on this thread however the build ends
    built_ = trt::buildEngine(graph->graph, options_);
  }

  Napi::Value result(Napi::Env env) override {
    return withBuildReport(env, std::move(built_.engine), std::move(built_.timingCache), built_.log);
  }

  std::unique_ptr<OwnedGraph> graph_;
  trt::TrtBuildOptions options_;
  trt::TrtBuilt built_;
};

Napi::Value buildTensorrtEngine(const Napi::CallbackInfo& info) {
  return promiseGuard(info.Env(), [&]() -> Napi::Value {
    auto graph = std::make_unique<OwnedGraph>(graphFromJs(info[0], ParamMemory::Copy));
    return queue(std::make_unique<TrtBuildWorker>(info.Env(), std::move(graph), trtBuildOptions(info[1])));
  });
}

Napi::Value loadTensorrtEngine(const Napi::CallbackInfo& info) { return loadWith(info, "loadTensorrtEngine", &trt::loadEngine); }

Napi::Object init(Napi::Env env, Napi::Object exports) {
  EngineWrap::define(env);
  exports.Set("capabilities", Napi::Function::New<capabilities>(env, "capabilities"));
  exports.Set("recordReplay", Napi::Function::New<recordReplay>(env, "recordReplay"));
  exports.Set("planCudaEngine", Napi::Function::New<planCudaEngine>(env, "planCudaEngine"));
  exports.Set("buildCudaEngine", Napi::Function::New<buildCudaEngine>(env, "buildCudaEngine"));
  exports.Set("loadCudaEngine", Napi::Function::New<loadCudaEngine>(env, "loadCudaEngine"));
  exports.Set("buildTensorrtEngine", Napi::Function::New<buildTensorrtEngine>(env, "buildTensorrtEngine"));
  exports.Set("loadTensorrtEngine", Napi::Function::New<loadTensorrtEngine>(env, "loadTensorrtEngine"));
  return exports;
}

}  // namespace
}  // namespace netdef::addon

// NODE_API_MODULE pastes the name into an identifier, so it takes an unqualified function.
static Napi::Object initNetdef(Napi::Env env, Napi::Object exports) { return netdef::addon::init(env, exports); }

NODE_API_MODULE(netdef_native, initNetdef)
