// Reading JS values at the addon's boundary: every field is checked (present, right type, integer,
// in range) and a mistake is a netdef::Error(ERR_INVALID_ARGUMENT) whose message names where it
// was (`Convolution layer '/model.0/conv/Conv': 'stride' must be ...`). Also the conversion of
// netdef::Error and other C++ exceptions into JS Errors with a `code`.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "../ir/graph.h"

namespace netdef::addon {

// A JS Error with `.code` set.
Napi::Error codedError(Napi::Env env, const std::string& code, const std::string& message);

// The JS Error for the exception being handled: a netdef::Error keeps its code, a Napi::Error is
// passed through, anything else is ERR_BACKEND.
Napi::Error currentError(Napi::Env env, std::exception_ptr error);

// Runs f(); any exception becomes the JS Error of currentError(), thrown to JS. Every entry point
// from JS goes through guard() or promiseGuard(), so no C++ exception reaches Node-API.
template <typename F>
auto guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    throw currentError(env, std::current_exception());
  }
}

// Runs f() (which returns a Promise); an exception becomes a rejected Promise instead.
template <typename F>
Napi::Value promiseGuard(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (...) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(currentError(env, std::current_exception()).Value());
    return deferred.Promise();
  }
}

// ir::DType from its TypeScript name; `where` prefixes the message when it is unknown.
ir::DType parseDType(const std::string& name, const std::string& where);

class FieldReader {
 public:
  // `where` starts every message: "graph", "Convolution layer '/model.0/conv/Conv'", ...
  FieldReader(Napi::Value value, std::string where);

  const std::string& where() const { return where_; }
  Napi::Object object() const { return obj_; }
  bool has(const char* key) const;  // present and neither undefined nor null
  Napi::Value get(const char* key) const;
  std::string string(const char* key) const;
  int64_t integer(const char* key, int64_t min = INT32_MIN, int64_t max = INT32_MAX) const;
  double number(const char* key) const;
  bool boolean(const char* key) const;
  // An array of integers, of exactly `count` elements when count > 0.
  std::vector<int64_t> integers(const char* key, size_t count = 0, int64_t min = INT32_MIN) const;
  std::vector<double> numbers(const char* key) const;
  Napi::Array array(const char* key) const;
  FieldReader child(const char* key) const;
  Napi::Uint8Array bytes(const char* key) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  Napi::Object obj_;
  std::string where_;
};

// An integer from a JS number (finite, whole, within [min, max]).
int64_t toInteger(const Napi::Value& v, const std::string& what, int64_t min, int64_t max);

}  // namespace netdef::addon
