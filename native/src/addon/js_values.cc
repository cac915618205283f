// Checked reading of JS values and coded JS errors (see js_values.h).
#include "js_values.h"

#include <cmath>
#include <utility>

#include "../common/error.h"

namespace netdef::addon {

Napi::Error codedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error currentError(Napi::Env env, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Napi::Error& e) {
    return e;
  } catch (const Error& e) {
    return codedError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return codedError(env, kErrOutOfMemory, "out of host memory");
  } catch (const std::exception& e) {
    return codedError(env, kErrBackend, e.what());
  } catch (...) {
    return codedError(env, kErrBackend, "unknown native error");
  }
}

ir::DType parseDType(const std::string& name, const std::string& where) {
  static const std::pair<const char*, ir::DType> kNames[] = {
      {"float32", ir::DType::Float32}, {"float16", ir::DType::Float16}, {"int8", ir::DType::Int8}, {"int32", ir::DType::Int32},
      {"int64", ir::DType::Int64},     {"uint8", ir::DType::UInt8},     {"bool", ir::DType::Bool}};
  for (const auto& [text, dtype] : kNames) {
    if (name == text) return dtype;
  }
  throw Error(kErrInvalidArgument, where + ": dtype '" + name + "' is not supported by the native backends");
}

int64_t toInteger(const Napi::Value& v, const std::string& what, int64_t min, int64_t max) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throw Error(kErrInvalidArgument, what + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return static_cast<int64_t>(d);
}

FieldReader::FieldReader(Napi::Value value, std::string where) : where_(std::move(where)) {
  if (!value.IsObject() || value.IsArray()) fail("expected an object");
  obj_ = value.As<Napi::Object>();
}

void FieldReader::fail(const std::string& message) const { throw Error(kErrInvalidArgument, where_ + ": " + message); }

bool FieldReader::has(const char* key) const {
  Napi::Value v = obj_.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

Napi::Value FieldReader::get(const char* key) const {
  Napi::Value v = obj_.Get(key);
  if (v.IsUndefined()) fail(std::string("'") + key + "' is missing");
  return v;
}

std::string FieldReader::string(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsString()) fail(std::string("'") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

int64_t FieldReader::integer(const char* key, int64_t min, int64_t max) const {
  return toInteger(get(key), where_ + ": '" + key + "'", min, max);
}

double FieldReader::number(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) fail(std::string("'") + key + "' must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

bool FieldReader::boolean(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsBoolean()) fail(std::string("'") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Array FieldReader::array(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsArray()) fail(std::string("'") + key + "' must be an array");
  return v.As<Napi::Array>();
}

std::vector<int64_t> FieldReader::integers(const char* key, size_t count, int64_t min) const {
  Napi::Array a = array(key);
  if (count > 0 && a.Length() != count) fail(std::string("'") + key + "' must have " + std::to_string(count) + " elements");
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    out.push_back(toInteger(a.Get(i), where_ + ": '" + key + "[" + std::to_string(i) + "]'", min, INT32_MAX));
  }
  return out;
}

std::vector<double> FieldReader::numbers(const char* key) const {
  Napi::Array a = array(key);
  std::vector<double> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) fail(std::string("'") + key + "' must hold finite numbers");
    out.push_back(v.As<Napi::Number>().DoubleValue());
  }
  return out;
}

FieldReader FieldReader::child(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsObject() || v.IsArray()) fail(std::string("'") + key + "' must be an object");
  return FieldReader(v, where_);
}

Napi::Uint8Array FieldReader::bytes(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    fail(std::string("'") + key + "' must be a Uint8Array");
  }
  return v.As<Napi::Uint8Array>();
}

}  // namespace netdef::addon
