// Programmatic dependent launch, the part host-compiled code needs (the rest: pdl.cuh).
#pragma once

namespace netdef::cuda::ops {

// Whether programmatic launches are wanted ($NETDEF_CUDA_PDL: unset or 1 on, 0 off) and the
// current device has them (compute capability 9.0 or later). Throws ERR_INVALID_ARGUMENT for any
// other $NETDEF_CUDA_PDL.
// false on this thread while a NoProgrammaticLaunch is alive.
bool programmaticLaunchUsable();

// Launches made on this thread while it lives are ordinary ones: for a kernel whose stream order
// is not what it waits for (a side stream's first kernel after an event, the main stream's kernel
// that joins side streams: stream_plan.h), where a programmatic edge would wait for less.
class NoProgrammaticLaunch {
 public:
  NoProgrammaticLaunch();
  ~NoProgrammaticLaunch();
  NoProgrammaticLaunch(const NoProgrammaticLaunch&) = delete;
  NoProgrammaticLaunch& operator=(const NoProgrammaticLaunch&) = delete;
};

}  // namespace netdef::cuda::ops
