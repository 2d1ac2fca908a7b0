/* The POWER radix guest architecture.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_arch_ops vt_ppc_arch_ops = {.name = NULL};
