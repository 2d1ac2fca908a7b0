/*
 * KVM's nested SVM TLB logic (arch/x86/kvm/svm/nested.c), decision by
 * decision; docs/nested.md maps each step to its function.
 *
 * Tags.  KVM runs L1 and L2 on the same ASID: svm->asid, which pre_svm_run
 * copies into whichever VMCB runs (vmcb01 or vmcb02); VMCB12's ASID and
 * TLB_CONTROL are not used for the hardware.  So L1's and L2's entries
 * differ only by PCID, and nested_svm_transition_tlb_flush() flushes the
 * ASID (KVM_REQ_TLB_FLUSH_CURRENT) and syncs the MMU (KVM_REQ_MMU_SYNC) on
 * every VMRUN and #VMEXIT; its TODO list says what would have to change for
 * the flush to become conditional (honour L1's TLB_CONTROL, flush both
 * ASIDs on remote flushes, sync the nested NPT MMU on a VMRUN that flushes
 * L2's ASID, ...).  With NPT in VMCB12, L2 runs on guest_mmu's shadow NPT
 * root (kvm_init_shadow_npt_mmu), kept as for nested EPT
 * (src/hv/kvm_nested_vmx.c); KVM_REQ_MMU_SYNC syncs it.
 */
#include "hv/kvm.h"
#include "hv/kvm_nested_vmx.h"
#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

static struct vt_kvm_x86_vcpu *X(struct vt_state *s, int v)
{
	return &s->vcpu[v].h.x86;
}

/* nested_npt_enabled(svm): VMCB12 has NP_ENABLE (the L2 VM has an 'npt12' table). */
static bool nested_npt(const struct vt_model *m, const struct vt_state *s, int v)
{
	int vm = s->vcpu[v].o.x86.vmcs - 1;
	return vm >= 0 && m->vm[vm].ept12;
}

/*
 * nested_svm_transition_tlb_flush (svm/nested.c; a helper since
 * d2e5601907bd, before it the same flush and sync were kvm_mmu_new_pgd's in
 * nested_svm_load_cr3): KVM_REQ_MMU_SYNC and KVM_REQ_TLB_FLUSH_CURRENT,
 * unconditionally.
 */
static void transition_tlb_flush(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!vt_fixed(m, VT_FIX_X86_NSVM_TRANSITION_FLUSH)) {
		vt_trace_reverted(tr, v, VT_FIX_X86_NSVM_TRANSITION_FLUSH,
				  "no flush or sync at the nested transition: L1 and L2 share the ASID");
		return;
	}
	vt_kvm_make_request(s, v, VT_REQ_MMU_SYNC, tr);
	vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
}

/*
 * nested_svm_load_cr3: with NPT in VMCB12, kvm_init_shadow_npt_mmu and a new
 * PGD (nCR3) on guest_mmu; else kvm_mmu_new_pgd of the CR3 on root_mmu.
 */
static void load_cr3(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (vt_nested_guest_mode(m, s, v) && nested_npt(m, s, v)) {
		if (x->ept02_vm >= 0 && x->ept02_vm != s->vcpu[v].o.x86.vmcs - 1) {
			x->ept02_vm = -1;
			x->ept02 = 0;
			vt_trace_note(tr, v, s->vcpu[v].pcpu, "fast_pgd_switch (guest_mmu): another nCR3; its root is built at VMRUN");
		} else if (x->ept02_vm >= 0) {
			vt_kvm_make_request(s, v, VT_REQ_LOAD_MMU_PGD, tr);
		}
		return;
	}
	vt_kvm_x86_new_pgd(m, s, v, s->vcpu[v].g.x86.cr3, tr);
}

void vt_nsvm_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		    struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int p = s->vcpu[v].pcpu;
	switch (op->code) {
	case VT_X86_VMRUN:
		/* nested_svm_vmrun -> enter_svm_guest_mode: vmcb02 control (with the transition flush), then CR3 */
		x->guest_mode = 1;
		vt_trace_note(tr, v, p, "nested VMRUN: L2 runs on vmcb02 with L1's ASID (svm->asid); VMCB12's "
					"ASID and TLB_CONTROL are not used for the hardware");
		transition_tlb_flush(m, s, v, tr);
		load_cr3(m, s, v, tr);
		return;
	case VT_X86_VMEXIT:
		/* nested_svm_vmexit: back to vmcb01, the transition flush, L1's CR3 */
		x->guest_mode = 0;
		vt_trace_note(tr, v, p, "nested #VMEXIT: L1 runs again on vmcb01");
		transition_tlb_flush(m, s, v, tr);
		load_cr3(m, s, v, tr);
		return;
	case VT_X86_INVLPGA:
		/* invlpga_interception: kvm_mmu_invlpg of the address, in the current (shared) ASID; the operand ASID is not used */
		vt_kvm_x86_invlpg(m, s, v, op->a, tr);
		return;
	default:
		return;
	}
}
