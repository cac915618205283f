// See engine.h.
#include "engine.h"

#include "error.h"

namespace netdef {

std::string Engine::inspect() const {
  throw Error(kErrBackend, "this backend has no engine inspector: use layers()");
}

ImageRunResult Engine::runImages(const ImageBatch&, const std::optional<CandidateQuery>&) {
  throw Error(kErrBackend, "this backend does not letterbox images on the device: run() takes the letterboxed tensor");
}

}  // namespace netdef
