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
#include <string.h>

#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

#include "oracle/x86_nested.h"

/*
 * The paravirtual flush's contract (KVM_FEATURE_PV_TLB_FLUSH,
 * Documentation/virt/kvm/x86/cpuid.rst and msr.rst: the host flushes the
 * guest TLB of a vCPU whose steal-time byte has KVM_VCPU_FLUSH_TLB before it
 * runs again): once a shootdown has marked a preempted target, the target may
 * not observe what its handler would have invalidated.  The handler's own
 * scope, applied to the target, with the target's registers.  A target that
 * takes the IPI runs the handler as its own operation instead.
 */
static void shootdown_marked(const struct vt_model *m, struct vt_state *s, const struct vt_op *op)
{
	struct vt_op h;
	int t = op->target;
	if (!vt_x86_shootdown_marked(m, s, op) || !vt_x86_shootdown_handler(m, s, op, &h))
		return;
	struct vt_x86_scope sc;
	vt_x86_scope(m, &h, &s->vcpu[t].g.x86, &s->vcpu[t].g.x86, &sc);
	struct vt_set mask = vt_x86_scope_tmask(m, &sc, m->vcpu_vm[t]);
	vt_set_clear(&s->vcpu[t].permitted, &mask);
}

/*
 * A Hyper-V flush hypercall, as the TLFS defines it with
 * HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES and without
 * HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY: every target loses the page's
 * translations (or all of them) in every address space, global ones too,
 * by the time the hypercall returns.
 */
static void hv_flush(const struct vt_model *m, struct vt_state *s, const struct vt_op *op)
{
	struct vt_x86_scope sc;
	memset(&sc, 0, sizeof(sc));
	sc.all_pcids = 1;
	sc.globals = 1;
	if (op->target == 0) {
		sc.by_va = 1;
		sc.va = op->a;
	}
	for (int t = 0; t < m->nvcpus; t++) {
		if (!(op->b & VT_BIT(t)))
			continue;
		struct vt_set mask = vt_x86_scope_tmask(m, &sc, m->vcpu_vm[t]);
		vt_set_clear(&s->vcpu[t].permitted, &mask);
	}
}

static void x86_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			  const union vt_gregs *old)
{
	if (op->code == VT_X86_HV_FLUSH) {
		hv_flush(m, s, op);
		return;
	}
	if (op->code == VT_X86_SHOOTDOWN) {
		shootdown_marked(m, s, op);
		return;
	}
	if (m->has_nested && vt_x86_nested_oracle_op(m, s, v, op, old))
		return;
	struct vt_x86_scope sc;
	vt_x86_scope(m, op, &old->x86, &s->vcpu[v].g.x86, &sc);
	struct vt_set mask = vt_x86_scope_tmask(m, &sc, m->vcpu_vm[v]);
	vt_set_clear(&s->vcpu[v].permitted, &mask);
}

/*
 * The VMM replaced the vCPU's paging registers (KVM_SET_SREGS, as when it
 * emulates a reset or restores a saved vCPU).  No manual speaks for this;
 * KVM's own promise does (4346db6e6e7a: "when MMU context reset is
 * triggered, guest's TLB and paging-structure caches will be flushed"), and
 * the oracle holds KVM to it: a change of CR0, CR3, CR4 or EFER leaves the
 * vCPU nothing cached from before (docs/questions-x86.md).
 */
static void x86_oracle_vmm_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			      const union vt_gregs *old)
{
	const struct vt_x86_regs *o = &old->x86, *n = &s->vcpu[v].g.x86;
	if (o->cr0 == n->cr0 && o->cr3 == n->cr3 && o->cr4 == n->cr4 && o->efer == n->efer)
		return;
	struct vt_set none = {{0}};
	s->vcpu[v].permitted = none;
}

/* Nested virtualization: the L2 oracle while the vCPU runs its L2 (src/oracle/x86_nested.c). */
static void x86_oracle_fill(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w)
{
	if (m->has_nested) {
		vt_x86_nested_fill(m, s, v, &w->live);
		return;
	}
	vt_set_or(&s->vcpu[v].permitted, &w->live);
}

static bool x86_oracle_usable(const struct vt_model *m, const struct vt_state *s, int v, struct vt_set *t,
			      uint64_t *s_ok, uint64_t *s_mine)
{
	return m->has_nested && vt_x86_nested_usable(m, s, v, t, s_ok, s_mine);
}

/* Without nested VMs the fill is the engine's and usable always declines. */
static bool x86_oracle_hooks_act(const struct vt_model *m)
{
	return m->has_nested;
}

const struct vt_oracle_ops vt_x86_oracle_ops = {
	.guest_op = x86_oracle_op,
	.vmm_op = x86_oracle_vmm_op,
	.fill = x86_oracle_fill,
	.usable = x86_oracle_usable,
	.hooks_act = x86_oracle_hooks_act,
};
