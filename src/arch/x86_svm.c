/*
 * AMD SVM TLB (APM vol. 2 §15.16 "TLB control", §15.25 nested paging).
 *
 * A slot is keyed by the ASID.  Guest translations (and, with NPT, the
 * combined gVA->sPA ones) are tagged by ASID and PCID; nested gPA->sPA
 * entries are tagged by ASID too, which is why KVM's ASID flush removes both
 * ("SVM cannot flush only NPT entries").  The tag is the ASID, not nCR3
 * (APM vol. 2 §15.16): every nested-paging root a VM's vCPU loads shares the
 * slot, so changing roots under one ASID needs an ASID flush, which KVM's
 * kvm_mmu_load gives every root it loads.  Global entries are global within
 * their ASID only.  VMRUN applies the VMCB's TLB_CONTROL: 1 flushes every
 * ASID, 3 the guest's ASID, 7 its non-global entries.  INVLPGA removes one
 * page of an ASID; whether it removes global entries is not settled by the
 * text we have, so the aggressive model keeps them (docs/questions-x86.md Q1).
 */
#include <stdio.h>

#include "arch/x86.h"
#include "internal.h"
#include "vtlb/trace.h"

static void svm_reach(const struct vt_model *m, const struct vt_state *s, int p, const struct vt_gctx *g,
		      struct vt_set *u, uint64_t *s2)
{
	struct vt_set none = {{0}};
	*u = none;
	*s2 = 0;
	uint32_t key = s->pcpu[p].key;
	if (!g->paging || g->ctx < 0 || key == VT_KEY_NONE)
		return;
	int d = m->domain_of[p];
	int i = vt_tlb_slot_index(s, d, key);
	if (i < 0)
		return;
	struct vt_set use = vt_usable_umask(m, g); /* its PCID's and global ones (SDM §4.10.2.4) */
	*u = vt_set_inter(&s->dom[d].slot[i].u, &use);
	*s2 = s->dom[d].slot[i].s;
}

static int svm_fill(const struct vt_model *m, struct vt_state *s, int p, const struct vt_set *u, uint64_t s2)
{
	uint32_t key = s->pcpu[p].key;
	if (key == VT_KEY_NONE)
		return 0;
	return vt_tlb_fill_fast(s, m->domain_of[p], key, u, s2);
}

static void svm_native(const struct vt_model *m, struct vt_state *s, int p, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	struct vt_set mask = vt_x86_native_mask(m, s, p, op, old);
	struct vt_tlb_slot *sl = vt_tlb_find(s, m->domain_of[p], s->pcpu[p].key);
	if (sl)
		vt_set_clear(&sl->u, &mask);
}

static void svm_insn(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key,
		     uint64_t arg, struct vt_trace *tr)
{
	int d = m->domain_of[p];
	struct vt_set none = {{0}};
	vt_trace_insn(tr, p, insn, key, arg);
	if (insn == VT_SVM_VMRUN_FLUSH_ALL) {
		vt_dom_mark(s, d);
		for (int i = 0; i < VT_MAX_SLOTS; i++) {
			s->dom[d].slot[i].u = none;
			s->dom[d].slot[i].s = 0;
		}
		return;
	}
	struct vt_tlb_slot *sl = vt_tlb_find(s, d, key);
	if (!sl)
		return;
	switch (insn) {
	case VT_SVM_VMRUN_FLUSH_ASID:
		sl->u = none;
		sl->s = 0;
		return;
	case VT_SVM_VMRUN_FLUSH_ASID_NG:
		vt_set_and(&sl->u, &m->u_global);
		return;
	case VT_SVM_INVLPGA: {
		int va = vt_model_va_index(m, arg);
		if (va >= 0) {
			struct vt_set x = vt_set_minus(&m->u_va[va], &m->u_global);
			vt_set_clear(&sl->u, &x);
		}
		return;
	}
	default:
		return;
	}
}

static void svm_fmt_key(uint32_t key, char *buf, size_t len)
{
	snprintf(buf, len, "ASID %u", key);
}

static void svm_fmt_operand(unsigned insn, uint32_t key, char *buf, size_t len)
{
	if (insn == VT_SVM_VMRUN_FLUSH_ALL)
		snprintf(buf, len, "all ASIDs");
	else
		snprintf(buf, len, "ASID %u", key);
}

const struct vt_hw_ops vt_svm_hw_ops = {
	.name = "svm",
	.insn_names = vt_svm_insn_names,
	.ninsns = VT_X86_INSN_COUNT,
	.native = svm_native,
	.reach = svm_reach,
	.fill = svm_fill,
	.insn = svm_insn,
	.fmt_key = svm_fmt_key,
	.fmt_operand = svm_fmt_operand,
};
