/*
 * KVM's nested VMX TLB logic (arch/x86/kvm/vmx/nested.c and what it calls),
 * decision by decision; docs/nested.md maps each step to its function and
 * docs/notes/kvm-nested-source.md records what was read.
 *
 * Tags.  L1 runs with vpid01 (vCPU n: VPID n + 1) and, with EPT, its TDP
 * root's EPTP (VM + 1).  L2 runs with vpid02 when VMCS12 enables VPID and KVM
 * has one (vCPU n: VPID 16 + n; option vpid02 off: allocate_vpid failed),
 * else with vpid01 (prepare_vmcs02_early_rare).  With EPT its EPTP is that
 * of the root of the MMU that runs it: guest_mmu's shadow EPT02 root when L1
 * runs it with EPT (EPTP 16 + n), root_mmu's guest_mode TDP root otherwise
 * (EPTP 8 + n).  KVM's roots are per vCPU in the model (src/hv/kvm_x86.c).
 *
 * The nested EPT MMU.  guest_mmu keeps one root here (KVM keeps a current
 * and three previous ones, keyed by EPTP12).  It mirrors the EPT12 entries
 * it was built from and those faults added since; as with L1's shadow
 * pages, any leaf EPT12 page may be unsync, so an entry L1 changed without
 * INVEPT stays in the shadow EPT02 until the root is freed (handle_invept)
 * and rebuilt (kvm_mmu_load, which flushes the new root).  An L1 change to
 * EPT12 without INVEPT may therefore remain visible to L2, as on hardware.
 */
#include <string.h>

#include "hv/kvm.h"
#include "hv/kvm_nested_vmx.h"
#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

static const struct vt_kvm_x86_vendor *V(const struct vt_model *m)
{
	return m->hv->priv;
}

static struct vt_kvm_x86_vcpu *X(struct vt_state *s, int v)
{
	return &s->vcpu[v].h.x86;
}

/* VMCS12 as KVM reads it (get_vmcs12): the current L2 VM and its VPID field. */
static int vmcs12_vm(const struct vt_state *s, int v)
{
	return s->vcpu[v].o.x86.vmcs - 1;
}

static unsigned vmcs12_vpid(const struct vt_state *s, int v)
{
	return s->vcpu[v].o.x86.vpid12;
}

/* nested_cpu_has_ept(vmcs12) */
static bool nested_ept(const struct vt_model *m, const struct vt_state *s, int v)
{
	int vm = vmcs12_vm(s, v);
	return vm >= 0 && m->vm[vm].ept12;
}

static unsigned vpid01(const struct vt_model *m, int v)
{
	return m->opt[VT_OPT_VPID] ? (unsigned)v + 1 : 0;
}

/* vmx->nested.vpid02: allocated at emulated VMXON (enter_vmx_operation), 0 if allocate_vpid failed. */
static unsigned vpid02_raw(const struct vt_model *m, int v)
{
	return m->opt[VT_OPT_VPID] && m->opt[VT_OPT_VPID02] ? 16u + (unsigned)v : 0;
}

/* nested_get_vpid02: vpid02, or vpid01 when KVM has none. */
static unsigned nested_get_vpid02(const struct vt_model *m, int v)
{
	unsigned w = vpid02_raw(m, v);
	return w ? w : vpid01(m, v);
}

/* vmx_get_current_vpid: vpid02 only while L2 runs with VMCS12's VPID enabled (since 2024: else vpid01). */
unsigned vt_nvmx_current_vpid(const struct vt_model *m, const struct vt_state *s, int v)
{
	if (vt_nested_guest_mode(m, s, v) && vmcs12_vpid(s, v))
		return nested_get_vpid02(m, v);
	return vpid01(m, v);
}

/* The MMU that runs the vCPU now is guest_mmu (nested EPT): nested_ept_init_mmu_context. */
bool vt_nested_uses_guest_mmu(const struct vt_model *m, const struct vt_state *s, int v)
{
	return vt_nested_guest_mode(m, s, v) && nested_ept(m, s, v);
}

bool vt_nested_root_valid(const struct vt_model *m, const struct vt_state *s, int v)
{
	if (vt_nested_uses_guest_mmu(m, s, v))
		return s->vcpu[v].h.x86.ept02_vm == vmcs12_vm(s, v);
	return s->vcpu[v].h.x86.root.space != VT_ROOT_INVALID;
}

unsigned vt_nvmx_eptp(const struct vt_model *m, const struct vt_state *s, int v)
{
	if (vt_nested_uses_guest_mmu(m, s, v))
		return 16u + (unsigned)v;
	if (vt_nested_guest_mode(m, s, v))
		return 8u + (unsigned)v; /* root_mmu's root with role.guest_mode: a TDP root of its own */
	return (unsigned)m->vcpu_vm[v] + 1;
}

/* kvm_mmu_load for guest_mmu: a new shadow EPT02 root, synced with EPT12 as it is built, then flushed. */
void vt_nested_mmu_load(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int vm = vmcs12_vm(s, v);
	if (x->ept02_vm == vm)
		return;
	x->ept02_vm = (int8_t)vm;
	x->ept02 = s->vm[vm].s2;
	if (tr)
		tr->root_loads++;
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_load: new guest_mmu root (shadow EPT02 of L1's EPT12)");
	if (vt_fixed(m, VT_FIX_X86_NEW_ROOT_FLUSH))
		V(m)->flush_tlb_current(m, s, v, tr);
	else
		vt_trace_reverted(tr, v, VT_FIX_X86_NEW_ROOT_FLUSH, "the new root is not flushed");
}

/*
 * What the hardware walk returns while L2 runs: its tables composed with
 * the shadow EPT02 (nested EPT; an EPT violation adds what EPT12 maps now,
 * an unsync entry stays), or with L1's memory directly (a guest_mode TDP
 * root).  Guest-physical mappings are the L2 VM's entries.
 */
void vt_nested_walk(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		    uint64_t *s2)
{
	struct vt_set none = {{0}};
	const struct vt_set t = w->live;
	int vm = vmcs12_vm(s, v);
	*u = none;
	*s2 = 0;
	if (!vt_nested_uses_guest_mmu(m, s, v)) {
		*u = vt_compose_s2(m, s, &t);
		*s2 = s->vm[vm].s2;
		return;
	}
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (x->ept02_vm != vm)
		return;
	x->ept02 |= s->vm[vm].s2;
	VT_SET_FOREACH(i, &t) {
		VT_U64_FOREACH(j, x->ept02) {
			int c = m->uix[i][j];
			if (c >= 0)
				vt_set_add(u, (unsigned)c);
		}
	}
	*s2 = x->ept02;
}

/* ---- nested_vmx_transition_tlb_flush ----------------------------------- */

/* nested_has_guest_tlb_tag: EPT (guest_mode is in the root's role), or a vpid02 for a VPID-enabled L2. */
static bool nested_has_guest_tlb_tag(const struct vt_model *m, const struct vt_state *s, int v)
{
	return V(m)->tdp || (vmcs12_vpid(s, v) && vpid02_raw(m, v));
}

static void transition_tlb_flush(const struct vt_model *m, struct vt_state *s, int v, bool is_vmenter,
				 struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int p = s->vcpu[v].pcpu;
	if (!vmcs12_vpid(s, v)) {
		/*
		 * VPID off in VMCS12: L1 expects every linear and combined
		 * mapping flushed, a full guest TLB flush (and, under shadow
		 * paging, an MMU sync of every root): KVM_REQ_TLB_FLUSH_GUEST
		 * since 50a417962a80.  Before it (41fab65e7c44's logic, v5.8 to
		 * v5.13) KVM_REQ_TLB_FLUSH, with only the root kvm_mmu_new_pgd
		 * switched to synced (nested_vmx_transition_mmu_sync): an unsync
		 * cached root survived.
		 */
		if (vt_fixed(m, VT_FIX_X86_NVMX_TRANSITION_SYNC)) {
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
			return;
		}
		vt_trace_reverted(tr, v, VT_FIX_X86_NVMX_TRANSITION_SYNC,
				  "KVM_REQ_TLB_FLUSH and a sync of the current root only (nested_vmx_transition_mmu_sync)");
		if (!m->opt[VT_OPT_VPID])
			return; /* "if (!enable_vpid) return": VPID 0 is flushed by entry and exit */
		vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH, tr);
		return;
	}
	/*
	 * A changed vpid12 is a new guest ASID that KVM must treat as never
	 * used, but it runs on the same vpid02: flush it (5c614b3583e7 with an
	 * immediate INVVPID of vpid02; KVM_REQ_TLB_FLUSH_GUEST since
	 * 712494de96f3, which also syncs shadow roots).
	 */
	if (is_vmenter && vmcs12_vpid(s, v) != x->last_vpid) {
		x->last_vpid = (uint8_t)vmcs12_vpid(s, v);
		if (vt_fixed(m, VT_FIX_X86_NVMX_VPID12_FLUSH)) {
			vt_trace_note(tr, v, p, "nested_vmx_transition_tlb_flush: vpid12 changed (nested.last_vpid)");
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
			return;
		}
		vt_trace_reverted(tr, v, VT_FIX_X86_NVMX_VPID12_FLUSH, "a changed vpid12 reuses vpid02 unflushed");
	}
	/* L1 and L2 share one tag (EPT off, no vpid02): flush the current context on every transition. */
	if (!nested_has_guest_tlb_tag(m, s, v)) {
		if (vt_fixed(m, VT_FIX_X86_NVMX_SHARED_TAG_FLUSH)) {
			vt_trace_note(tr, v, p, "nested_vmx_transition_tlb_flush: L1 and L2 share a tag (!nested_has_guest_tlb_tag)");
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_NVMX_SHARED_TAG_FLUSH,
					  "L1 and L2 share vpid01 and nothing flushes it at the transition");
		}
	}
}

/* ---- VM entry and VM exit ---------------------------------------------- */

/*
 * kvm_mmu_new_pgd on the MMU L2 (entry) or L1 (exit) now runs on; before
 * 50a417962a80, with VPID off in VMCS12 and shadow paging, the root it
 * switched to was synced (skip_mmu_sync = !nested_vmx_transition_mmu_sync).
 */
static void load_cr3(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	vt_kvm_x86_new_pgd(m, s, v, s->vcpu[v].g.x86.cr3, tr);
	if (!vt_fixed(m, VT_FIX_X86_NVMX_TRANSITION_SYNC) && !V(m)->tdp && !vmcs12_vpid(s, v))
		vt_kvm_x86_sync_current(m, s, v, tr);
}

/*
 * nested_vmx_run -> nested_vmx_enter_non_root_mode: pending flushes are
 * serviced for L1 first (kvm_service_local_tlb_flush_requests, since
 * 40e5f9080472), then guest mode, vmcs02's VPID, the MMU (nested EPT:
 * kvm_init_shadow_ept_mmu and a new PGD for EPTP12; else
 * nested_vmx_load_cr3 of L2's CR3), then the transition flush.  The
 * registers are already L2's (the architecture switched them).
 */
static void nested_vmx_enter(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int p = s->vcpu[v].pcpu;
	vt_kvm_x86_service_local_flushes(m, s, v, tr);
	x->guest_mode = 1;
	vt_trace_note(tr, v, p, vmcs12_vpid(s, v) && vpid02_raw(m, v) ? "nested VM entry: L2 runs with vpid02"
				: "nested VM entry: L2 runs with vpid01 (prepare_vmcs02_early_rare)");
	if (nested_ept(m, s, v)) {
		/* kvm_mmu_new_pgd(EPTP12) on guest_mmu: the cached root is reused only for the same EPTP12 */
		if (x->ept02_vm >= 0 && x->ept02_vm != vmcs12_vm(s, v)) {
			x->ept02_vm = -1;
			x->ept02 = 0;
			vt_trace_note(tr, v, p, "fast_pgd_switch (guest_mmu): another EPTP12; its root is built at entry");
		} else if (x->ept02_vm >= 0) {
			vt_kvm_make_request(s, v, VT_REQ_LOAD_MMU_PGD, tr);
		}
	} else {
		load_cr3(m, s, v, tr);
	}
	transition_tlb_flush(m, s, v, true, tr);
}

/*
 * nested_vmx_vmexit: flushes pending for L2 are serviced in L2's context,
 * then L1's state is loaded (load_vmcs12_host_state -> nested_vmx_load_cr3
 * on root_mmu) and the transition flush runs.
 */
static void nested_vmx_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	vt_kvm_x86_service_local_flushes(m, s, v, tr);
	X(s, v)->guest_mode = 0;
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "nested VM exit: L1 runs again (vmcs01)");
	load_cr3(m, s, v, tr);
	transition_tlb_flush(m, s, v, false, tr);
}

/* ---- INVVPID and INVEPT emulation ---------------------------------------- */

/*
 * handle_invvpid: every type flushes the effective vpid02 (L1's VPID
 * operand only has to be valid: KVM does not track vpid12s), then, without
 * EPT, frees L2's (guest_mode) roots of root_mmu so that the shadow tables
 * are rebuilt from L2's tables (kvm_mmu_free_guest_mode_roots).
 */
static void handle_invvpid(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			   struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	unsigned vpid02 = nested_get_vpid02(m, v);
	if (!vt_fixed(m, VT_FIX_X86_NVMX_INVVPID_VPID02)) {
		vpid02 = vpid02_raw(m, v);
		vt_trace_reverted(tr, v, VT_FIX_X86_NVMX_INVVPID_VPID02,
				  vpid02 ? "handle_invvpid flushes vmx->nested.vpid02"
					 : "handle_invvpid flushes vmx->nested.vpid02, which is 0 (none allocated)");
	}
	if (!vt_fixed(m, VT_FIX_X86_NVMX_INVVPID_LINEAR)) {
		/* __vmx_flush_tlb(vcpu, vpid02): with EPT, INVEPT of the *current* root instead */
		vt_trace_reverted(tr, v, VT_FIX_X86_NVMX_INVVPID_LINEAR,
				  "__vmx_flush_tlb: with EPT, INVEPT of the current (L1) EPTP instead of INVVPID");
		if (V(m)->tdp) {
			if (vt_nested_root_valid(m, s, v))
				m->hw->insn(m, s, p, VT_VMX_INVEPT_SINGLE, vt_nvmx_eptp(m, s, v), 0, tr);
		} else if (vpid02) {
			m->hw->insn(m, s, p, VT_VMX_INVVPID_SINGLE, vpid02, 0, tr);
		}
	} else if (op->target == 0) {
		/* vpid_sync_vcpu_addr: INVVPID individual-address; nothing for VPID 0 */
		if (vpid02)
			m->hw->insn(m, s, p, VT_VMX_INVVPID_ADDR, vpid02, op->a, tr);
	} else if (vpid02) {
		/* vpid_sync_context */
		m->hw->insn(m, s, p, VT_VMX_INVVPID_SINGLE, vpid02, 0, tr);
	}
	if (!V(m)->tdp)
		vt_kvm_x86_free_guest_mode_roots(m, s, v, tr);
}

/* handle_invept: free guest_mmu roots whose EPTP matches (single-context) or all (global); nothing is flushed here. */
static void handle_invept(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			  struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (x->ept02_vm < 0)
		return;
	if (op->target == 1 && x->ept02_vm != (int)op->b) {
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "handle_invept: no guest_mmu root for that EPTP12");
		return;
	}
	x->ept02_vm = -1;
	x->ept02 = 0;
	vt_trace_note(tr, v, s->vcpu[v].pcpu,
		      "handle_invept: kvm_mmu_free_roots(guest_mmu): the shadow EPT02 root is rebuilt (and flushed) at entry");
}

void vt_nvmx_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		    struct vt_trace *tr)
{
	switch (op->code) {
	case VT_X86_VMLAUNCH:
		nested_vmx_enter(m, s, v, tr);
		return;
	case VT_X86_VMEXIT:
		nested_vmx_exit(m, s, v, tr);
		return;
	case VT_X86_INVVPID:
		handle_invvpid(m, s, v, op, tr);
		return;
	case VT_X86_INVEPT:
		handle_invept(m, s, v, op, tr);
		return;
	default:
		return; /* VMPTRLD: KVM caches vmcs12; nothing for the TLB */
	}
}

/*
 * kvm_unmap_gfn_range of an L1 page: the rmap zap also drops the shadow
 * EPT02 and L2 shadow entries that map it (an L2 page resolved through it),
 * and the L2 entries are gone for the host as for L1 (kvm_flush_remote_tlbs
 * follows in the caller).
 */
bool vt_nested_host_unmap(const struct vt_model *m, struct vt_state *s, uint64_t l1_gone)
{
	uint64_t l2_gone = 0;
	bool zapped = false;
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].l1s && (l1_gone & VT_BIT(m->s2[j].l1s - 1)))
			l2_gone |= VT_BIT(j);
	if (!l2_gone)
		return false;
	for (int vm = 0; vm < m->nvms; vm++)
		s->vm[vm].s2 &= ~l2_gone;
	for (int v = 0; v < m->nvcpus; v++) {
		zapped |= (X(s, v)->ept02 & l2_gone) != 0;
		X(s, v)->ept02 &= ~l2_gone;
	}
	s->s_perm &= ~l2_gone;
	return zapped;
}
