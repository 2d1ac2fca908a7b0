/* The arm64 guest architecture.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_arch_ops vt_arm64_arch_ops = {.name = NULL};
