/* KVM's arm64 guest-TLB logic.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_hv_ops vt_kvm_arm64_ops = {.name = NULL};
