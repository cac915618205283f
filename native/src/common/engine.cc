// See engine.h.
#include "engine.h"

#include "error.h"

namespace netdef {

std::string Engine::inspect() const {
  throw Error(kErrBackend, "this backend has no engine inspector: use layers()");
}

}  // namespace netdef
