/*
 * KVM's SVM vendor code (arch/x86/kvm/svm/svm.c): every TLB hook is an ASID
 * flush (svm_flush_tlb_asid: TLB_CONTROL_FLUSH_ASID for the next VMRUN, or,
 * without FlushByAsid, a fresh ASID); INVLPGA for one address; per-pCPU ASID
 * generations (new_asid, pre_svm_run) with a FLUSH_ALL_ASID at every
 * generation bump; a fresh ASID when a VMCB runs on another pCPU; a fresh
 * ASID at INIT (init_vmcb).  Intercepts: CR4 writes always exit; CR0 writes
 * exit through the selective-CR0 intercept unless only TS/MP change; MOV CR3,
 * INVLPG and INVPCID exit only without NPT.
 *
 * ASIDs 1..opt[VT_OPT_ASIDS] are usable on every pCPU (min_asid = 1: no SEV).
 */
#include "hv/kvm.h"
#include "hv/kvm_nested_vmx.h"
#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

enum {
	TLB_CONTROL_DO_NOTHING = 0,
	TLB_CONTROL_FLUSH_ALL_ASID = 1,
	TLB_CONTROL_FLUSH_ASID = 3,
	TLB_CONTROL_FLUSH_ASID_LOCAL = 7,
};

/*
 * svm_flush_tlb_asid: the hook behind flush_tlb_all, _current and _guest.
 * The ASID tags the entries of every NPT root the vCPU has used (APM vol. 2
 * §15.16), so flushing it reaches them all: a remote flush has nothing more
 * to do for a VM with several roots (VMX needs INVEPT global for that).
 */
static void svm_flush_tlb_asid(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = &s->vcpu[v].h.x86;
	if (m->opt[VT_OPT_FLUSHBYASID]) {
		x->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "svm_flush_tlb_asid: TLB_CONTROL_FLUSH_ASID at the next VMRUN");
	} else {
		x->asid_gen--;
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "svm_flush_tlb_asid: no FlushByAsid, take a new ASID at the next VMRUN");
	}
}

/* svm_flush_tlb_gva: INVLPGA with the VMCB's ASID, executed at once. */
static void svm_flush_tlb_gva(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr)
{
	m->hw->insn(m, s, s->vcpu[v].pcpu, VT_SVM_INVLPGA, s->vcpu[v].h.x86.asid, va, tr);
}

static void svm_vcpu_load(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
}

/* init_vmcb: asid_generation = 0, so the next pre_svm_run takes a new ASID. */
static void svm_vcpu_reset(const struct vt_model *m, struct vt_state *s, int v, bool init, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = &s->vcpu[v].h.x86;
	x->asid_gen = 0;
	x->asid = 0;
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "init_vmcb: ASID generation reset, a new ASID at the next VMRUN");
}

/*
 * new_asid: hand out the next ASID of this pCPU's generation; bump and flush
 * all when they run out.  A new generation hands ASID numbers that vCPUs
 * (of any VM) used in the old one to other vCPUs, so the VMRUN that starts
 * it flushes every ASID on this pCPU (APM vol. 2 §15.16, TLB_CONTROL 1).
 */
static void new_asid(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
	struct vt_kvm_svm_pcpu *sd = &s->pcpu[p].h.svm;
	struct vt_kvm_x86_vcpu *x = &s->vcpu[v].h.x86;
	if (sd->next_asid > m->opt[VT_OPT_ASIDS]) {
		sd->asid_gen++;
		sd->next_asid = 1;
		if (vt_fixed(m, VT_FIX_X86_SVM_ASID_ROLLOVER_FLUSH)) {
			x->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
			vt_trace_note(tr, v, p, "new_asid: ASIDs exhausted, new generation, TLB_CONTROL_FLUSH_ALL_ASID");
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_SVM_ASID_ROLLOVER_FLUSH,
					  "new generation without TLB_CONTROL_FLUSH_ALL_ASID: ASID numbers keep their entries");
		}
	}
	x->asid_gen = sd->asid_gen;
	x->asid = sd->next_asid++;
}

/* svm_vcpu_run: pre_svm_run, then VMRUN, which applies and resets TLB_CONTROL. */
static void svm_run(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	struct vt_kvm_svm_pcpu *sd = &s->pcpu[p].h.svm;
	struct vt_kvm_x86_vcpu *x = &s->vcpu[v].h.x86;
	if (sd->asid_gen == 0) {
		/* svm_enable_virtualization_cpu: generation 1, next_asid past the end. */
		sd->asid_gen = 1;
		sd->next_asid = (uint8_t)(m->opt[VT_OPT_ASIDS] + 1);
	}
	/* pre_svm_run: ASIDs and VMCB clean bits are per pCPU. */
	if (x->loaded_cpu != p) {
		if (vt_fixed(m, VT_FIX_X86_SVM_CPU_NEW_ASID)) {
			x->asid_gen = 0;
			vt_trace_note(tr, v, p, "pre_svm_run: the VMCB ran on another pCPU, take a new ASID");
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_SVM_CPU_NEW_ASID, "the VMCB keeps its ASID on the new pCPU");
		}
		x->loaded_cpu = (int8_t)p;
	}
	if (x->asid_gen != sd->asid_gen)
		new_asid(m, s, v, p, tr);
	s->pcpu[p].key = x->asid;
	switch (x->tlb_ctl) {
	case TLB_CONTROL_FLUSH_ALL_ASID:
		m->hw->insn(m, s, p, VT_SVM_VMRUN_FLUSH_ALL, 0, 0, tr);
		break;
	case TLB_CONTROL_FLUSH_ASID:
		m->hw->insn(m, s, p, VT_SVM_VMRUN_FLUSH_ASID, x->asid, 0, tr);
		break;
	case TLB_CONTROL_FLUSH_ASID_LOCAL:
		m->hw->insn(m, s, p, VT_SVM_VMRUN_FLUSH_ASID_NG, x->asid, 0, tr);
		break;
	default:
		break;
	}
	x->tlb_ctl = TLB_CONTROL_DO_NOTHING;
}

/* #VMEXIT invalidates nothing: the host runs under ASID 0 (APM vol. 2 §15.16). */
static void svm_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
}

static bool svm_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old)
{
	bool npt = m->backend == VT_BE_SVM_NPT;
	const struct vt_x86_regs *r = &s->vcpu[v].g.x86;
	switch (op->code) {
	case VT_X86_MOV_CR3:
	case VT_X86_INVLPG:
	case VT_X86_INVPCID:
		return !npt;
	case VT_X86_MOV_CR4:
		return true; /* INTERCEPT_CR4_WRITE is never cleared */
	case VT_X86_MOV_CR0:
		return ((old->x86.cr0 ^ r->cr0) & ~X86_CR0_TS) != 0; /* INTERCEPT_SELECTIVE_CR0 */
	case VT_X86_EPT12:
		return false; /* L1 writing its NPT12: a store to memory */
	default:
		return true;
	}
}

/* The hooks are the same with and without NPT; only tdp_enabled differs. */
#define SVM_VENDOR(label, npt)                          \
	{                                               \
		.name = label,                          \
		.tdp = npt,                             \
		.flush_tlb_all = svm_flush_tlb_asid,    \
		.flush_tlb_current = svm_flush_tlb_asid,\
		.flush_tlb_gva = svm_flush_tlb_gva,     \
		.flush_tlb_guest = svm_flush_tlb_asid,  \
		.vcpu_load = svm_vcpu_load,             \
		.vcpu_reset = svm_vcpu_reset,           \
		.run = svm_run,                         \
		.exit = svm_exit,                       \
		.intercepts = svm_intercepts,           \
		.nested_vmexit = vt_nsvm_handle,        \
	}

const struct vt_kvm_x86_vendor vt_kvm_svm_npt = SVM_VENDOR("svm-npt", true);
const struct vt_kvm_x86_vendor vt_kvm_svm_shadow = SVM_VENDOR("svm-shadow", false);
