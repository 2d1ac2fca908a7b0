/*
 * The x86 oracle: what each guest operation requires to be invalidated from
 * the vCPU's architectural TLB.  The rules themselves (Intel SDM vol. 3
 * §4.10.4.1, the INVPCID page of vol. 2, §9.1 for INIT, which KVM honours on
 * both vendors since df37ed38e6c2) are written once as a scope in
 * src/guest/x86.c; the oracle applies that scope to the vCPU's own permitted
 * set, i.e. as if the vCPU owned a private TLB.
 *
 * Only what the manual requires is removed (the most permissive legal TLB);
 * refills come from the common oracle fill in step.c.  Nothing here reads
 * hardware or hypervisor state.
 */
#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

static void x86_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			  const union vt_gregs *old)
{
	struct vt_x86_scope sc;
	vt_x86_scope(m, op, &old->x86, &s->vcpu[v].g.x86, &sc);
	struct vt_set mask = vt_x86_scope_tmask(m, &sc, m->vcpu_vm[v]);
	vt_set_clear(&s->vcpu[v].permitted, &mask);
}

const struct vt_oracle_ops vt_x86_oracle_ops = {
	.guest_op = x86_oracle_op,
};
