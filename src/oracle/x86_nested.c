/*
 * The second x86 oracle: what VMX hardware would let L1's guest (L2)
 * observe, given the instructions L1 executed.  Intel SDM vol. 3C, chapter
 * "VMX Support for Address Translation" (§30.4 in the 2025 edition, §28.3 in
 * 2016-2023 ones): "Information That May Be Cached" (§30.4.1), "Creating and
 * Using Cached Translation Information" (§30.4.2) and "Invalidating Cached
 * Translation Information" (§30.4.3); INVVPID and INVEPT in vol. 2.
 *
 *   linear/combined mappings   tagged VPID, PCID (+ EP4TA for combined)
 *   guest-physical mappings    tagged EP4TA only
 *
 * For an L2 the VPID is VMCS12's (VPID12) and the EP4TA is L1's EPTP12.  Per
 * vCPU (each is a logical processor of L1's machine, with a private TLB):
 *
 *   - VPID12 0 (VMCS12 'enable VPID' = 0) is VPID 0, which L1 itself uses
 *     in VMX root operation: its translations live in the vCPU's own
 *     permitted set, and VM entry and VM exit invalidate all of them
 *     (§30.4.3.1: "VM entries and VM exits" with enable VPID = 0);
 *   - each non-zero VPID12 has a set of its own (vt_oracle_x86.l2t), filled
 *     while L2 runs under it and cleared only by INVVPID, or by L2's own
 *     INVLPG/INVPCID/MOV CR3/MOV CR4 under it;
 *   - guest-physical mappings (over S of the L2 VMs, vt_oracle_x86.l2s) are
 *     filled from the EPT12 while L2 runs with it and removed only by INVEPT
 *     (single-context for that EPTP12, or global); editing the EPT12 removes
 *     nothing, so a page L1 unmapped without INVEPT stays visible, as on
 *     hardware.
 *
 * A combined mapping is permitted when its linear part is permitted under
 * the current VPID12 and its guest-physical part under the EPTP12 (a product:
 * more permissive than hardware, which only combines what coexisted; see
 * docs/questions-x86.md).  L1's own translations keep the first oracle
 * (src/oracle/x86.c).  Nothing here reads hardware or hypervisor state.
 */
#include <string.h>

#include "internal.h"
#include "oracle/x86_nested.h"
#include "vtlb/ops.h"
#include "vtlb/step.h"
#include "vtlb/x86.h"

static struct vt_oracle_x86 *N(struct vt_state *s, int v)
{
	return &s->vcpu[v].o.x86;
}

/* The set L2's linear and combined mappings live in under the current VPID12. */
static const struct vt_set *l2_set_c(const struct vt_model *m, const struct vt_state *s, int v)
{
	const struct vt_oracle_x86 *n = &s->vcpu[v].o.x86;
	int slot = n->vpid12 ? vt_x86_vpid12_slot(m, n->vpid12) : -1;
	return slot >= 0 ? &n->l2t[slot] : &s->vcpu[v].permitted;
}

static struct vt_set *l2_set(const struct vt_model *m, struct vt_state *s, int v)
{
	struct vt_oracle_x86 *n = N(s, v);
	int slot = n->vpid12 ? vt_x86_vpid12_slot(m, n->vpid12) : -1;
	return slot >= 0 ? &n->l2t[slot] : &s->vcpu[v].permitted;
}

/* Guest-physical entries nobody can invalidate but the host: every VM's, except L2s run with EPT12. */
static uint64_t s_free(const struct vt_model *m)
{
	uint64_t r = 0;
	for (int vm = 0; vm < m->nvms; vm++)
		if (!m->vm[vm].nested_of || !m->vm[vm].ept12)
			r |= m->s_vm[vm];
	return r;
}

static void vpid0_flush(struct vt_state *s, int v)
{
	/* §30.4.3.1: VM entry/exit with enable VPID = 0 invalidates every linear and combined mapping of VPID 0 */
	struct vt_set none = {{0}};
	s->vcpu[v].permitted = none;
}

static void invvpid(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op)
{
	struct vt_oracle_x86 *n = N(s, v);
	struct vt_set none = {{0}};
	if (op->target == 2) {
		/* all contexts: every VPID but 0000H */
		for (int i = 0; i < VT_X86_VPID12S; i++)
			n->l2t[i] = none;
		return;
	}
	int slot = vt_x86_vpid12_slot(m, (unsigned)op->b);
	if (slot < 0)
		return; /* a VPID never used: nothing cached under it */
	switch (op->target) {
	case 0: { /* individual address: that VPID and page, every PCID, globals too */
		int va = vt_model_va_index(m, op->a);
		if (va >= 0)
			vt_set_clear(&n->l2t[slot], &m->t_va[va]);
		return;
	}
	case 1:
		n->l2t[slot] = none;
		return;
	default: /* single context retaining globals */
		vt_set_and(&n->l2t[slot], &m->t_global);
		return;
	}
}

/*
 * SVM: VMRUN with VMCB12's TLB_CONTROL (APM vol. 2 §15.16 "TLB Control"):
 * 1 flushes every ASID (L1's own too), 3 this guest's ASID, its nested
 * (guest-physical) translations included (§15.25: they are tagged by ASID;
 * the model takes this L2's NPT12 entries for them), 7 its non-global
 * entries.  L2 runs under VMCB12's ASID; VMRUN and #VMEXIT flush nothing
 * else.
 */
static void svm_tlb_control(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op)
{
	struct vt_oracle_x86 *n = N(s, v);
	struct vt_set none = {{0}};
	int slot = vt_x86_vpid12_slot(m, (unsigned)op->b);
	switch (op->a) {
	case 1:
		s->vcpu[v].permitted = none;
		for (int i = 0; i < VT_X86_VPID12S; i++)
			n->l2t[i] = none;
		n->l2s = 0;
		return;
	case 3:
		if (slot >= 0)
			n->l2t[slot] = none;
		n->l2s &= ~m->s_vm[op->target];
		return;
	case 7:
		if (slot >= 0)
			vt_set_and(&n->l2t[slot], &m->t_global);
		return;
	default:
		return;
	}
}

bool vt_x86_nested_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			     const union vt_gregs *old)
{
	struct vt_oracle_x86 *n = N(s, v);
	switch (op->code) {
	case VT_X86_VMPTRLD:
	case VT_X86_EPT12: /* editing EPT12 invalidates nothing: INVEPT does */
		return true;
	case VT_X86_VMLAUNCH:
	case VT_X86_VMEXIT:
		if (!n->vpid12)
			vpid0_flush(s, v);
		return true;
	case VT_X86_INVVPID:
		invvpid(m, s, v, op);
		return true;
	case VT_X86_VMRUN:
		svm_tlb_control(m, s, v, op);
		return true;
	case VT_X86_INVLPGA: {
		/* APM vol. 2 INVLPGA: the page's mapping in that ASID (0: L1's own, as the host of its SVM) */
		int va = vt_model_va_index(m, op->a);
		int slot = op->b ? vt_x86_vpid12_slot(m, (unsigned)op->b) : -1;
		if (va < 0)
			return true;
		if (!op->b)
			vt_set_clear(&s->vcpu[v].permitted, &m->t_va[va]);
		else if (slot >= 0)
			vt_set_clear(&n->l2t[slot], &m->t_va[va]);
		return true;
	}
	case VT_X86_INVEPT:
		/* single context: every mapping tagged with that EPTP12's EP4TA; global: all of them */
		n->l2s &= op->target == 2 ? 0 : ~m->s_vm[op->b];
		return true;
	default:
		break;
	}
	int l2vm;
	if (vt_x86_level(m, s, v, &l2vm) != 2)
		return false;
	/* L2's own INVLPG, INVPCID, MOV CR3/CR4/CR0: the current VPID12 only (§30.4.3.1) */
	struct vt_x86_scope sc;
	vt_x86_scope(m, op, &old->x86, &s->vcpu[v].g.x86, &sc);
	struct vt_set mask = vt_x86_scope_tmask(m, &sc, l2vm);
	vt_set_clear(l2_set(m, s, v), &mask);
	return true;
}

void vt_x86_nested_fill(const struct vt_model *m, struct vt_state *s, int v, const struct vt_set *live)
{
	int l2vm;
	if (vt_x86_level(m, s, v, &l2vm) != 2) {
		vt_set_or(&s->vcpu[v].permitted, live);
		return;
	}
	vt_set_or(l2_set(m, s, v), live);
	N(s, v)->l2s |= s->vm[l2vm].s2 & ~s_free(m);
}

bool vt_x86_nested_usable(const struct vt_model *m, const struct vt_state *s, int v, struct vt_set *t,
			  uint64_t *s_ok, uint64_t *s_mine)
{
	int l2vm;
	if (vt_x86_level(m, s, v, &l2vm) != 2)
		return false;
	struct vt_gctx g;
	struct vt_set none = {{0}};
	*t = none;
	*s_ok = s->vcpu[v].o.x86.l2s | s_free(m);
	/* its guest-physical space: its EPT12, or L1's memory, which every L2 without EPT12 shares */
	*s_mine = m->s_vm[l2vm];
	if (!m->vm[l2vm].ept12)
		for (int w = 0; w < m->nvms; w++)
			if (m->vm[w].nested_of == m->vm[l2vm].nested_of && !m->vm[w].ept12)
				*s_mine |= m->s_vm[w];
	vt_vcpu_gctx(m, s, v, &g);
	if (!g.paging || g.ctx < 0)
		return true;
	/*
	 * The tag is (VPID12 or ASID12, PCID), not the L2 VM: an L1 that runs
	 * two L2s under one VPID12 lets the second use the first's translations
	 * of the same PCID (the set of that VPID12 holds both), so every L2 of
	 * this L1 counts, in the current PCID or global.
	 */
	int l1 = m->vm[l2vm].nested_of - 1;
	struct vt_set in_ctx = {{0}}, glob = {{0}};
	for (int c = 0; c < m->nctx; c++) {
		int cvm = m->ctx[c].vm;
		if (m->vm[cvm].nested_of != l1 + 1)
			continue;
		if (m->ctx[c].value == m->ctx[g.ctx].value)
			vt_set_or(&in_ctx, &m->t_ctx[c]);
	}
	for (int w = 0; w < m->nvms; w++)
		if (m->vm[w].nested_of == l1 + 1) {
			struct vt_set x = vt_set_inter(&m->t_global, &m->t_vm[w]);
			vt_set_or(&glob, &x);
		}
	*t = vt_set_union(&in_ctx, &glob);
	vt_set_and(t, l2_set_c(m, s, v));
	return true;
}
