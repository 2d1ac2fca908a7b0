/* The arm64 oracle.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_oracle_ops vt_arm64_oracle_ops = {.guest_op = NULL};
