/*
 * KVM's VMX vendor code (arch/x86/kvm/vmx/vmx.c, vmx_ops.h): the four TLB
 * hooks, the pCPU-change flush in vmx_vcpu_load_vmcs, the INIT-time INVVPID
 * in vmx_vcpu_reset, and the intercepts KVM configures with and without EPT.
 *
 * VPIDs: vCPU n gets VPID n+1 (allocate_vpid), or 0 with enable_vpid=0, in
 * which case every VM entry and exit flushes VPID 0.  EPTP: the vCPU's TDP
 * root (src/hv/kvm_x86.c keeps a VM's roots, one per role, each on its own
 * page): EP4TA = root page id * 32 + VM index + 1, so a VM's first root is
 * EPTP VM + 1 and its others 33 + VM, 65 + VM, 97 + VM; 0 means EPT is not
 * in use.
 */
#include "hv/kvm.h"
#include "hv/kvm_nested_vmx.h"
#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

/* vmx_get_current_vpid: vmx->vpid (vCPU n: n + 1), or L2's while it runs (src/hv/kvm_nested_vmx.c). */
static unsigned cur_vpid(const struct vt_model *m, const struct vt_state *s, int v)
{
	return vt_nvmx_current_vpid(m, s, v);
}

/* construct_eptp(vcpu, root_hpa): the EPTP of the vCPU's current root (an L2's: src/hv/kvm_nested_vmx.c). */
static unsigned eptp(const struct vt_model *m, const struct vt_state *s, int v, bool ept)
{
	if (!ept)
		return 0;
	if (vt_nested_guest_mode(m, s, v))
		return vt_nvmx_eptp(m, s, v);
	return (unsigned)s->vcpu[v].h.x86.root.tdp * 32u + (unsigned)m->vcpu_vm[v] + 1;
}

static void insn(const struct vt_model *m, struct vt_state *s, int v, unsigned code, uint32_t key, uint64_t arg,
		 struct vt_trace *tr)
{
	m->hw->insn(m, s, s->vcpu[v].pcpu, code, key, arg, tr);
}

/* vpid_sync_context: single-context INVVPID; nothing for VPID 0 (entry/exit flush it). */
static void vpid_sync_context(const struct vt_model *m, struct vt_state *s, int v, unsigned vpid,
			      struct vt_trace *tr)
{
	if (vpid)
		insn(m, s, v, VT_VMX_INVVPID_SINGLE, vpid, 0, tr);
}

static bool ept_on(const struct vt_model *m)
{
	return m->backend == VT_BE_VMX_EPT;
}

/*
 * vmx_flush_tlb_all (KVM_REQ_TLB_FLUSH: remote flushes, the migration
 * flush): INVEPT global with EPT, guest-physical mappings too, of every
 * EPTP; else every VPID.  Before "KVM: VMX: Flush all EPTP/VPID contexts on
 * remote TLB flush" it was vmx_flush_tlb(vcpu, true) -> __vmx_flush_tlb:
 * with EPT, INVEPT single-context of the current root's EPTP (nothing if
 * the root was invalid), else INVVPID of the vCPU's VPID; the entries
 * another root of the vCPU left in the TLB survived it.
 */
static void vmx_flush_tlb_all(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!vt_fixed(m, VT_FIX_X86_VMX_FLUSH_ALL_EPTP)) {
		vt_trace_reverted(tr, v, VT_FIX_X86_VMX_FLUSH_ALL_EPTP,
				  "KVM_REQ_TLB_FLUSH flushes only the current EPTP/VPID context");
		if (ept_on(m)) {
			if (vt_nested_root_valid(m, s, v))
				insn(m, s, v, VT_VMX_INVEPT_SINGLE, eptp(m, s, v, true), 0, tr);
		} else {
			vpid_sync_context(m, s, v, cur_vpid(m, s, v), tr);
		}
		return;
	}
	if (ept_on(m))
		insn(m, s, v, VT_VMX_INVEPT_GLOBAL, 0, 0, tr);
	else if (m->opt[VT_OPT_VPID])
		insn(m, s, v, VT_VMX_INVVPID_ALL, 0, 0, tr);
}

/* vmx_flush_tlb_current: nothing if the root is invalid; INVEPT of the root's EPTP, else the VPID. */
static void vmx_flush_tlb_current(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!vt_nested_root_valid(m, s, v)) {
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "vmx_flush_tlb_current: root invalid, nothing to do");
		return;
	}
	if (ept_on(m))
		insn(m, s, v, VT_VMX_INVEPT_SINGLE, eptp(m, s, v, true), 0, tr);
	else
		vpid_sync_context(m, s, v, cur_vpid(m, s, v), tr);
}

/* vmx_flush_tlb_gva: INVVPID individual-address; nothing for VPID 0. */
static void vmx_flush_tlb_gva(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr)
{
	if (cur_vpid(m, s, v))
		insn(m, s, v, VT_VMX_INVVPID_ADDR, cur_vpid(m, s, v), va, tr);
}

/*
 * vmx_flush_tlb_guest: INVVPID of the current VPID, never INVEPT (e64419d991ea).
 * Before, __vmx_flush_tlb(invalidate_gpa=false) did INVEPT when EPT was on
 * and VPID off, although VM entry already flushes VPID 0 and guest page-table
 * changes do not touch guest-physical mappings.
 */
static void vmx_flush_tlb_guest(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!vt_fixed(m, VT_FIX_X86_VMX_GUEST_FLUSH_VPID) && ept_on(m) && !m->opt[VT_OPT_VPID]) {
		vt_trace_reverted(tr, v, VT_FIX_X86_VMX_GUEST_FLUSH_VPID, "the guest flush uses INVEPT");
		if (vt_nested_root_valid(m, s, v))
			insn(m, s, v, VT_VMX_INVEPT_SINGLE, eptp(m, s, v, true), 0, tr);
		return;
	}
	vpid_sync_context(m, s, v, cur_vpid(m, s, v), tr);
}

/*
 * vmx_vcpu_load_vmcs: a VMCS last loaded on another pCPU (or never) requests
 * KVM_REQ_TLB_FLUSH: this pCPU may hold this vCPU's entries from an earlier
 * stay, and the guest's INVLPGs since then ran elsewhere.
 */
static void vmx_vcpu_load(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = &s->vcpu[v].h.x86;
	if (x->loaded_cpu != p) {
		if (vt_fixed(m, VT_FIX_X86_VMX_MIGRATE_FLUSH))
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH, tr);
		else
			vt_trace_reverted(tr, v, VT_FIX_X86_VMX_MIGRATE_FLUSH, "the VMCS moved to this pCPU without a flush");
	}
	x->loaded_cpu = (int8_t)p;
}

/* vmx_vcpu_reset: ends with vpid_sync_context(vmx->vpid), executed at once. */
static void vmx_vcpu_reset(const struct vt_model *m, struct vt_state *s, int v, bool init, struct vt_trace *tr)
{
	vpid_sync_context(m, s, v, m->opt[VT_OPT_VPID] ? (unsigned)v + 1 : 0, tr);
}

/*
 * VM entry (vmx_vcpu_run -> __vmx_vcpu_run): the hardware now translates with
 * the VMCS's VPID and EPTP.  With VPID 0, SDM 28.3.3.1: VM entry invalidates
 * the linear and combined mappings of VPID 0.
 */
static void vmx_run(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	s->pcpu[p].key = vt_vmx_key(cur_vpid(m, s, v), eptp(m, s, v, ept_on(m)));
	if (!cur_vpid(m, s, v))
		m->hw->insn(m, s, p, VT_VMX_ENTRY_NOVPID, 0, 0, tr);
}

/* VM exit: with VPID 0 it invalidates VPID 0's mappings too (SDM 28.3.3.1). */
static void vmx_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!cur_vpid(m, s, v))
		m->hw->insn(m, s, s->vcpu[v].pcpu, VT_VMX_EXIT_NOVPID, 0, 0, tr);
}

/*
 * Intercepts.  With EPT: MOV CR3, INVLPG and INVPCID run natively
 * (vmx_exec_control clears CR3_LOAD_EXITING and INVLPG_EXITING; INVPCID exits
 * only with INVLPG exiting); CR0.WP/TS and CR4.PGE are guest-owned
 * (KVM_POSSIBLE_CR0/CR4_GUEST_BITS), every other CR0/CR4 change exits.
 * Without EPT every one of them exits; only CR0.TS is guest-owned.
 */
static bool vmx_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old)
{
	bool ept = ept_on(m);
	const struct vt_x86_regs *r = &s->vcpu[v].g.x86;
	switch (op->code) {
	case VT_X86_MOV_CR3:
	case VT_X86_INVLPG:
	case VT_X86_INVPCID:
		return !ept;
	case VT_X86_EPT12:
		return false; /* L1 writing its EPT12: a store to memory (its shadow pages may be unsync) */
	case VT_X86_MOV_CR4:
		return ((old->x86.cr4 ^ r->cr4) & ~(ept ? X86_CR4_PGE : 0u)) != 0;
	case VT_X86_MOV_CR0:
		return ((old->x86.cr0 ^ r->cr0) & ~(X86_CR0_TS | (ept ? X86_CR0_WP : 0u))) != 0;
	default:
		return true;
	}
}

/* The hooks are the same with and without EPT; only tdp_enabled differs. */
#define VMX_VENDOR(label, ept)                          \
	{                                               \
		.name = label,                          \
		.tdp = ept,                             \
		.flush_tlb_all = vmx_flush_tlb_all,     \
		.flush_tlb_current = vmx_flush_tlb_current, \
		.flush_tlb_gva = vmx_flush_tlb_gva,     \
		.flush_tlb_guest = vmx_flush_tlb_guest, \
		.vcpu_load = vmx_vcpu_load,             \
		.vcpu_reset = vmx_vcpu_reset,           \
		.run = vmx_run,                         \
		.exit = vmx_exit,                       \
		.intercepts = vmx_intercepts,           \
		.nested_vmexit = vt_nvmx_handle,        \
	}

const struct vt_kvm_x86_vendor vt_kvm_vmx_ept = VMX_VENDOR("vmx-ept", true);
const struct vt_kvm_x86_vendor vt_kvm_vmx_shadow = VMX_VENDOR("vmx-shadow", false);
