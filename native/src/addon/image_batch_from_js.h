// runImages' arguments from JS (NativeLetterboxImage[] and NativeCandidateQuery in
// engine/native/addon-types.ts), every field checked (ERR_INVALID_ARGUMENT naming the image and
// the field). The image bytes are copied into one buffer on the JS thread, so JS may reuse its
// arrays while the engine works.
#pragma once

#include <napi.h>

#include <optional>

#include "../common/engine.h"

namespace netdef::addon {

ImageBatch imageBatchFromJs(const Napi::Value& value);

// undefined or null: no query (the raw outputs come back).
std::optional<CandidateQuery> candidateQueryFromJs(const Napi::Value& value);

}  // namespace netdef::addon
