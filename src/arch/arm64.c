/* The arm64 hardware TLB.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_hw_ops vt_arm64_hw_ops = {.name = NULL};
