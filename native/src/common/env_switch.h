// An on/off switch read from the environment: unset or empty is `byDefault`, "1" on, "0" off;
// anything else is refused with ERR_INVALID_ARGUMENT naming the variable and what 1 and 0 mean.
// Read on each call (getenv is cheap), so a test or a long-lived process sees the value of now.
#pragma once

#include <cstdlib>
#include <string>

#include "error.h"

namespace netdef {

inline bool envSwitch(const char* name, bool byDefault, const char* onMeans, const char* offMeans) {
  const char* env = std::getenv(name);
  if (!env || !*env) return byDefault;
  const std::string value(env);
  if (value == "1") return true;
  if (value == "0") return false;
  throw Error(kErrInvalidArgument, std::string(name) + "='" + value + "': want 1 (" + onMeans + ") or 0 (" + offMeans + ")");
}

}  // namespace netdef
