// Programmatic dependent launch, the part host-compiled code needs (the rest: pdl.cuh).
#pragma once

namespace netdef::cuda::ops {

// Whether programmatic launches are wanted ($NETDEF_CUDA_PDL: unset or 1 on, 0 off) and the
// current device has them (compute capability 9.0 or later). Throws ERR_INVALID_ARGUMENT for any
// other $NETDEF_CUDA_PDL.
bool programmaticLaunchUsable();

}  // namespace netdef::cuda::ops
