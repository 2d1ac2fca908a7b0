/*
 * The arm64 oracle: what the guest's own TLB maintenance requires to be gone
 * from the vCPU's architectural TLB, as if the vCPU were a PE with a private
 * TLB (Arm ARM D8.17).
 *
 * A TLBI is only guaranteed to have taken effect once the issuer's DSB has
 * completed it (D8.17.4, "A TLBI may complete at any time after it issues";
 * completion is guaranteed by a DSB of the issuing PE).  So the oracle keeps
 * a guest's TLBIs pending (struct vt_oracle_arm64) and applies their scope
 * at the vCPU's next DSB: a local TLBI to the issuing vCPU, a broadcast (IS)
 * one to every vCPU of the VM.  DSB NSH completes only local TLBIs; DSB ISH
 * and DSB SY complete both.  Until then the old translations stay permitted,
 * which is the most permissive reading and never stricter than hardware.
 * HCR_EL2.FB and BSU are the hypervisor's and invisible here: a guest's
 * local TLBI still only promises its own TLB.
 *
 * The I-cache (src/arch/arm64.c models it VA-tagged, as AIVIVT allowed)
 * may keep code fetched through a translation until the vCPU's own
 * I-cache invalidation: a translation the vCPU fetched through stays
 * permitted across TLBIs until then (struct vt_oracle_arm64.ic).  IC IALLU
 * clears that record for the vCPU, IC IALLUIS for every vCPU of the VM; the
 * translations it kept stay permitted until a later TLBI covers them, so
 * the oracle errs on the permissive side.
 *
 * Nothing here reads hardware or hypervisor state.
 */
#include <string.h>

#include "internal.h"
#include "vtlb/arm64.h"
#include "vtlb/ops.h"

/* Remove a TLBI's scope from vCPU w's permitted set. */
static void apply(const struct vt_model *m, struct vt_state *s, int w, const struct vt_oracle_arm64_tlbi *t)
{
	int vm = m->vcpu_vm[w];
	int va = t->va == 0xff ? -1 : t->va;
	struct vt_set mask = vt_arm64_tlbi_tmask(m, (unsigned)t->kind - 1, t->asid, va, vm);
	vt_set_clear(&s->vcpu[w].permitted, &mask);
	vt_set_or(&s->vcpu[w].permitted, &s->vcpu[w].o.arm64.ic);
}

/* An instruction fetch: the vCPU's I-cache may now hold code of the translations it used. */
static void fetch(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op)
{
	int va = vt_model_va_index(m, op->a);
	if (va < 0)
		return;
	struct vt_set live = vt_live_vcpu(m, s, v);
	vt_set_and(&live, &m->t_va[va]);
	vt_set_or(&s->vcpu[v].o.arm64.ic, &live);
}

/* IC IALLU: the vCPU's own I-cache; IC IALLUIS: every vCPU's of the VM. */
static void ic_inval(const struct vt_model *m, struct vt_state *s, int v, bool is)
{
	struct vt_set none = {{0}};
	const struct vt_vm *d = &m->vm[m->vcpu_vm[v]];
	for (int w = d->first_vcpu; w < d->first_vcpu + d->nvcpus; w++)
		if (is || w == v)
			s->vcpu[w].o.arm64.ic = none;
}

/* A guest DSB: complete the vCPU's pending TLBIs the barrier covers. */
static void dsb(const struct vt_model *m, struct vt_state *s, int v, bool ish)
{
	struct vt_oracle_arm64 *o = &s->vcpu[v].o.arm64;
	struct vt_oracle_arm64_tlbi keep[VT_ARM64_ORACLE_PENDING];
	int n = 0;
	memset(keep, 0, sizeof(keep));
	for (int i = 0; i < VT_ARM64_ORACLE_PENDING && o->pend[i].kind; i++) {
		const struct vt_oracle_arm64_tlbi *t = &o->pend[i];
		if (!t->is) {
			apply(m, s, v, t);
		} else if (ish) {
			const struct vt_vm *d = &m->vm[m->vcpu_vm[v]];
			for (int w = d->first_vcpu; w < d->first_vcpu + d->nvcpus; w++)
				apply(m, s, w, t);
		} else {
			keep[n++] = *t;
		}
	}
	memcpy(o->pend, keep, sizeof(keep));
}

/*
 * Record a TLBI until its DSB.  With every record in use the step fails with
 * a model limit: dropping it would let the oracle permit more than the
 * architecture requires and hide a bug.
 */
static void issue(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		  const union vt_gregs *old)
{
	struct vt_oracle_arm64 *o = &s->vcpu[v].o.arm64;
	struct vt_oracle_arm64_tlbi t;
	memset(&t, 0, sizeof(t));
	unsigned kind = (unsigned)op->target;
	t.kind = (uint8_t)(kind + 1);
	t.is = (op->flags & VT_OPF_IS) != 0;
	int va = vt_arm64_tlbi_by_va(kind) ? vt_model_va_index(m, op->a) : -1;
	t.va = (uint8_t)(va < 0 ? 0xff : va);
	if (vt_arm64_tlbi_by_asid(kind))
		t.asid = (op->flags & VT_A64_OPF_ASID) ? (uint32_t)op->b : vt_arm64_asid(m, old);
	for (int i = 0; i < VT_ARM64_ORACLE_PENDING; i++) {
		if (o->pend[i].kind == 0) {
			o->pend[i] = t;
			return;
		}
		if (memcmp(&o->pend[i], &t, sizeof(t)) == 0)
			return;
	}
	vt_state_limit(&s->meta, VT_LIMIT_ORACLE_PENDING);
}

static void arm64_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			    const union vt_gregs *old)
{
	switch (op->code) {
	case VT_A64_TLBI:
		issue(m, s, v, op, old);
		break;
	case VT_A64_DSB:
		dsb(m, s, v, op->target != VT_DSB_NSH);
		break;
	case VT_A64_FETCH:
		fetch(m, s, v, op);
		break;
	case VT_A64_IC:
		ic_inval(m, s, v, op->target != 0);
		break;
	default:
		/* TTBR0/SCTLR writes and ISB invalidate no translation. */
		break;
	}
}

const struct vt_oracle_ops vt_arm64_oracle_ops = {
	.guest_op = arm64_oracle_op,
};
