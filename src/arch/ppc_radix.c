/* The POWER radix hardware TLB.  Placeholder: the backend is not built yet. */
#include "vtlb/ops.h"

const struct vt_hw_ops vt_ppc_hw_ops = {.name = NULL};
