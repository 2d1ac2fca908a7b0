/*
 * The L2 oracle of nested VMX (src/oracle/x86_nested.c), called from the
 * x86 oracle's tables.
 */
#ifndef VTLB_ORACLE_X86_NESTED_H
#define VTLB_ORACLE_X86_NESTED_H

#include <stdbool.h>

#include "vtlb/ops.h"

/* Apply op when it is L1's hypervisor operation or an L2 guest's; false: an L1 guest op for the first oracle. */
bool vt_x86_nested_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			     const union vt_gregs *old);
void vt_x86_nested_fill(const struct vt_model *m, struct vt_state *s, int v, const struct vt_set *live);
bool vt_x86_nested_usable(const struct vt_model *m, const struct vt_state *s, int v, struct vt_set *t,
			  uint64_t *s_ok, uint64_t *s_mine);

#endif
