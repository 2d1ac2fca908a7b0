/*
 * x86 hardware TLB behaviour common to VMX and SVM: the names of the
 * invalidation instructions, and what a guest instruction executed natively
 * (not intercepted) removes from the entries of the tag it runs under.  The
 * guest-visible scope is the SDM's (src/guest/x86.c); the hardware applies
 * it to its own tags: the current VPID on Intel (SDM §28.3.3.1: linear and
 * combined mappings, all EP4TAs, never guest-physical ones), the current
 * ASID on AMD (APM vol. 2 §15.16).
 */
#include "arch/x86.h"
#include "internal.h"
#include "vtlb/x86.h"

/* Each vendor names only its own instructions; the other's codes stay NULL. */
const char *const vt_vmx_insn_names[VT_X86_INSN_COUNT] = {
	[VT_VMX_INVVPID_ADDR] = "invvpid.addr",
	[VT_VMX_INVVPID_SINGLE] = "invvpid.single",
	[VT_VMX_INVVPID_ALL] = "invvpid.all",
	[VT_VMX_INVVPID_SINGLE_NG] = "invvpid.single-nonglobal",
	[VT_VMX_INVEPT_SINGLE] = "invept.single",
	[VT_VMX_INVEPT_GLOBAL] = "invept.global",
	[VT_VMX_ENTRY_NOVPID] = "vmentry.vpid0-flush",
	[VT_VMX_EXIT_NOVPID] = "vmexit.vpid0-flush",
};

const char *const vt_svm_insn_names[VT_X86_INSN_COUNT] = {
	[VT_SVM_VMRUN_FLUSH_ALL] = "vmrun.flush-all",
	[VT_SVM_VMRUN_FLUSH_ASID] = "vmrun.flush-asid",
	[VT_SVM_VMRUN_FLUSH_ASID_NG] = "vmrun.flush-asid-nonglobal",
	[VT_SVM_INVLPGA] = "invlpga",
};

struct vt_set vt_x86_native_mask(const struct vt_model *m, const struct vt_state *s, int pcpu,
				 const struct vt_op *op, const union vt_gregs *old)
{
	struct vt_x86_scope sc;
	int v = s->pcpu[pcpu].vcpu;
	vt_x86_scope(m, op, &old->x86, &s->vcpu[v].g.x86, &sc);
	return vt_x86_scope_umask(m, &sc);
}
