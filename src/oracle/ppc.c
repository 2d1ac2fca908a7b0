/* The POWER radix oracle.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_oracle_ops vt_ppc_oracle_ops = {.guest_op = NULL};
