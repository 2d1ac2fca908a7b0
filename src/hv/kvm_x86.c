/*
 * KVM's x86 guest-TLB logic, vendor-neutral (arch/x86/kvm/x86.c and
 * arch/x86/kvm/mmu/mmu.c), modelled decision by decision.  Each function
 * names the KVM function it follows; docs/notes/kvm-x86-source.md records
 * what was read and where the model simplifies.
 *
 * MMU roots.  Under TDP (EPT/NPT) the root is KVM's direct map and is always
 * usable whatever the guest loads in CR3.  Under shadow paging a root shadows
 * one guest CR3 (a space) with one MMU role; it mirrors the guest PTEs it was
 * synced with plus whatever faults added since, and, because leaf guest
 * page tables may be unsync, it keeps mirroring a PTE the guest has changed
 * until KVM syncs it (vt_kvm_root.content, over P).  The hardware walks the
 * shadow tables, so an unsynced root is a second stale cache in front of the
 * TLB: flushing the TLB without syncing refills it from stale SPTEs.
 *
 * TDP roots.  Under TDP a VM holds one root per MMU role in use (the TDP
 * MMU's kvm->arch.tdp_mmu_roots; the role that differs here is SMM), shared
 * by the vCPUs of that role; a root made obsolete by a fast zap lives on
 * while a vCPU holds it.  Each root is its own EPTP, so on VMX its entries
 * are tagged apart (src/arch/x86_vmx.c) and come back when a vCPU loads the
 * root again; on SVM the ASID alone tags them.  Each root also knows which
 * of the VM's stage-2 entries it has lost to a zap (vt_kvm_tdp_root.zapped):
 * the hardware cannot fill those until a guest access faults them back in,
 * and the MMU notifier flushes only when it zapped an SPTE that was there.
 */
#include <string.h>

#include "hv/kvm.h"
#include "hv/kvm_nested_vmx.h"
#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/step.h"
#include "vtlb/x86.h"

const char *const vt_kvm_x86_req_names[VT_REQ_X86_COUNT] = {
	[VT_REQ_TLB_FLUSH] = "KVM_REQ_TLB_FLUSH",
	[VT_REQ_MMU_SYNC] = "KVM_REQ_MMU_SYNC",
	[VT_REQ_LOAD_MMU_PGD] = "KVM_REQ_LOAD_MMU_PGD",
	[VT_REQ_TLB_FLUSH_CURRENT] = "KVM_REQ_TLB_FLUSH_CURRENT",
	[VT_REQ_TLB_FLUSH_GUEST] = "KVM_REQ_TLB_FLUSH_GUEST",
	[VT_REQ_MMU_RELOAD] = "KVM_REQ_MMU_RELOAD",
	[VT_REQ_STEAL_UPDATE] = "KVM_REQ_STEAL_UPDATE",
	[VT_REQ_HV_TLB_FLUSH] = "KVM_REQ_HV_TLB_FLUSH",
	[VT_REQ_MMU_FREE_OBSOLETE_ROOTS] = "KVM_REQ_MMU_FREE_OBSOLETE_ROOTS",
};

static const struct vt_kvm_x86_vendor *V(const struct vt_model *m)
{
	return m->hv->priv;
}

static struct vt_kvm_x86_vcpu *X(struct vt_state *s, int v)
{
	return &s->vcpu[v].h.x86;
}

static const struct vt_x86_regs *R(const struct vt_state *s, int v)
{
	return &s->vcpu[v].g.x86;
}

/* The VM's shadow pages of guest tables (kvm->arch.mmu_page_hash, as far as tables go). */
static struct vt_kvm_x86_vm *XV(const struct vt_model *m, struct vt_state *s, int v)
{
	return &s->vm[m->vcpu_vm[v]].h.x86;
}

static bool root_valid(const struct vt_kvm_root *r)
{
	return r->space != VT_ROOT_INVALID;
}

/* A valid root that shadows a guest CR3 (not a direct map): its content is SPTEs. */
static bool root_valid_content(const struct vt_kvm_root *r)
{
	return root_valid(r) && r->space >= 0;
}

/* ---- shadow pages of tables: unsync state and write protection (mmu.c) - */

/*
 * Guest PTEs of table t's VM that map the page holding table t (a table
 * declared 'at GPA'): each is a mapping through which the guest can store
 * into the table.  Empty for other tables.
 */
static uint64_t table_page_ptes(const struct vt_model *m, int t)
{
	if (!m->space[t].at)
		return 0;
	uint64_t r = 0;
	for (int p = 0; p < m->np; p++)
		if (m->pte[p].vm == m->space[t].vm && m->pte[p].gpa == m->space[t].gpa)
			r |= VT_BIT(p);
	return r;
}

/*
 * Is table t's shadow page unsync as KVM sees it (sp->unsync, or
 * unsync_children of a page directory; the model's table is both)?  It
 * mirrors a guest PTE the guest has changed through a store KVM saw (a
 * write fault that unsynced it: mmu_try_to_unsync_pages).  Entries changed
 * behind KVM's back (hidden) do not count: for those KVM believes the page
 * write-protected and in sync.
 */
static bool table_unsync(const struct vt_model *m, struct vt_state *s, int v, int t)
{
	const struct vt_kvm_x86_vm *xv = XV(m, s, v);
	return (xv->sp[t] & ~s->pt[t] & ~xv->hidden[t]) != 0;
}

/* A flush of the vCPU's whole context: no writable alias survives in its TLB. */
static void walias_flush(struct vt_state *s, int v)
{
	X(s, v)->walias = 0;
}

/* A flush of one address (INVLPG emulation, a Hyper-V list entry). */
static void walias_flush_va(const struct vt_model *m, struct vt_state *s, int v, int va)
{
	for (int p = 0; p < m->np; p++)
		if (va < 0 || m->pte[p].va == va)
			X(s, v)->walias &= ~VT_BIT(p);
}

/*
 * kvm_flush_remote_tlbs from a shadow-MMU path: KVM_REQ_TLB_FLUSH to every
 * vCPU of the VM, the caller included, kicking those in the guest.
 */
static void flush_remote_tlbs(const struct vt_model *m, struct vt_state *s, int v, const char *why,
			      struct vt_trace *tr)
{
	vt_trace_note(tr, v, s->vcpu[v].pcpu, why);
	vt_kvm_make_all_cpus_request(m, s, m->vcpu_vm[v], VT_REQ_TLB_FLUSH, tr);
}

/*
 * rmap_write_protect (kvm_mmu_slot_gfn_write_protect) of the page holding
 * table t, as kvm_mmu_get_page does when it creates a shadow page for a
 * guest table (account_shadowed): every SPTE in the page's rmap loses its
 * write permission and, if one was writable, kvm_flush_remote_tlbs.  The
 * rmap holds the SPTEs that are present now (root entries of every vCPU,
 * and the shadow pages of tables); one that kvm_sync_page dropped without a
 * flush (before f81602958c11) is not in it, though a TLB may still hold its
 * translation, writable.
 */
static void rmap_write_protect(const struct vt_model *m, struct vt_state *s, int v, int t, struct vt_trace *tr)
{
	uint64_t page = table_page_ptes(m, t);
	if (!page)
		return;
	int vm = m->vcpu_vm[v];
	const struct vt_kvm_x86_vm *xv = XV(m, s, v);
	uint64_t rmap = 0;
	for (int u = m->vm[vm].first_vcpu; u < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; u++) {
		const struct vt_kvm_x86_vcpu *x = X(s, u);
		if (root_valid_content(&x->root))
			rmap |= x->root.content;
		for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
			if (root_valid_content(&x->prev[i]))
				rmap |= x->prev[i].content;
	}
	for (int t2 = 0; t2 < m->nspaces; t2++)
		rmap |= xv->sp[t2];
	if (rmap & page)
		flush_remote_tlbs(m, s, v,
				  "rmap_write_protect: SPTEs mapping the table's page were writable; made read-only, "
				  "kvm_flush_remote_tlbs",
				  tr);
	else
		vt_trace_note(tr, v, s->vcpu[v].pcpu,
			      "rmap_write_protect: no SPTE maps the table's page: nothing to write-protect, no flush");
}

/*
 * FNAME(sync_page) dropped present SPTEs of a table's shadow page (the
 * guest changed those PTEs).  Other vCPUs may still hold the translations,
 * writable ones among them, so since f81602958c11 sync_page ends with
 * kvm_flush_remote_tlbs.  Before it (from a4ee1ca4a36e) it only counted
 * kvm->tlbs_dirty, which the next kvm_flush_remote_tlbs cleared and the MMU
 * notifier treated as "flush needed"; rmap_write_protect did not look at
 * it.  (The model's MMU notifier always flushes, so the counter itself is
 * not kept; 6bc6db000295 removed it once nothing incremented it.)
 */
static void sync_page_dropped(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (vt_fixed(m, VT_FIX_X86_SYNC_REMOTE_FLUSH))
		flush_remote_tlbs(m, s, v, "kvm_sync_page dropped present SPTEs: kvm_flush_remote_tlbs", tr);
	else
		vt_trace_reverted(tr, v, VT_FIX_X86_SYNC_REMOTE_FLUSH,
				  "kvm_sync_page dropped present SPTEs without a flush: kvm->tlbs_dirty++ only");
}

/*
 * kvm_sync_page on table t's shadow page, if KVM sees it unsync: re-read
 * every guest PTE (the hidden ones too: sync reads guest memory).  Returns
 * the SPTEs it dropped.  A page KVM sees in sync is left as it is (the model
 * adds what the guest maps now, as faults would; hidden entries stay).
 */
static uint64_t table_sync(const struct vt_model *m, struct vt_state *s, int v, int t)
{
	struct vt_kvm_x86_vm *xv = XV(m, s, v);
	if (!table_unsync(m, s, v, t)) {
		xv->sp[t] = s->pt[t] | (xv->sp[t] & xv->hidden[t]);
		return 0;
	}
	uint64_t dropped = xv->sp[t] & ~s->pt[t];
	xv->sp[t] = s->pt[t];
	xv->hidden[t] = 0;
	return dropped;
}

/* ---- roots (mmu.c) ----------------------------------------------------- */

/* The root role (kvm_mmu_page_role) as far as it decides root reuse; guest_mode for L2's roots. */
static uint16_t mmu_role(const struct vt_model *m, const struct vt_state *s, int v)
{
	const struct vt_x86_regs *r = R(s, v);
	bool l2 = vt_nested_guest_mode(m, s, v);
	/* kvm_mmu_page_role.smm and .guest_mode (kvm_calc_tdp_mmu_root_page_role and the shadow one) */
	if (V(m)->tdp)
		return (uint16_t)((r->smm ? 1 : 0) | (l2 ? VT_NESTED_TDP_ROLE_GUEST_MODE : 0));
	uint16_t role = (uint16_t)((r->smm ? 256 : 0) | (l2 ? VT_NESTED_ROLE_GUEST_MODE : 0));
	if (r->cr0 & X86_CR0_WP)
		role |= 1;
	if (r->cr0 & X86_CR0_PG)
		role |= 2;
	if (r->cr4 & X86_CR4_PAE)
		role |= 4;
	if (r->cr4 & X86_CR4_SMEP)
		role |= 8;
	if (r->cr4 & X86_CR4_SMAP)
		role |= 16;
	if (r->cr4 & X86_CR4_PKE)
		role |= 32;
	if (r->cr4 & X86_CR4_PSE)
		role |= 64;
	if (r->cr4 & X86_CR4_LA57)
		role |= 128;
	return role;
}

static void root_invalidate(struct vt_kvm_root *r)
{
	memset(r, 0, sizeof(*r));
	r->space = VT_ROOT_INVALID;
}


/* kvm_get_pcid(vcpu, root->pgd): the PCID bits of a cached CR3, 0 with PCIDE=0. */
static int root_pcid(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_kvm_root *r)
{
	if (r->space < 0 || !(R(s, v)->cr4 & X86_CR4_PCIDE))
		return 0;
	return (int)m->space[r->space].ctx;
}

/* kvm_mmu_unload: free current and previous roots (freeing never flushes). */
static void mmu_unload(struct vt_state *s, int v, struct vt_trace *tr)
{
	root_invalidate(&X(s, v)->root);
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
		root_invalidate(&X(s, v)->prev[i]);
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_unload: all roots freed (a new root is built at entry)");
}

/* kvm_mmu_reset_context: kvm_mmu_unload + kvm_init_mmu. */
static void mmu_reset_context(struct vt_state *s, int v, struct vt_trace *tr)
{
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_reset_context");
	mmu_unload(s, v, tr);
}

/* is_root_usable: a direct root (TDP, or guest paging off) is usable for any CR3. */
static bool root_usable(const struct vt_kvm_root *r, int space, uint16_t role)
{
	return root_valid(r) && (r->space == VT_ROOT_TDP || r->space == space) && r->role == role;
}

/*
 * kvm_mmu_new_pgd -> fast_pgd_switch: reuse the current root or a cached
 * previous root for the new CR3, rotating the LRU; no sync and no flush.
 * Under TDP the direct root is always usable.
 */
static void mmu_new_pgd(const struct vt_model *m, struct vt_state *s, int v, int space, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int p = s->vcpu[v].pcpu;
	uint16_t role = mmu_role(m, s, v);
	/* the direct root is usable for any CR3 of its role (a nested transition changes the role) */
	if (V(m)->tdp && (!root_valid(&x->root) || root_usable(&x->root, space, role))) {
		if (root_valid(&x->root))
			vt_kvm_make_request(s, v, VT_REQ_LOAD_MMU_PGD, tr);
		return;
	}
	bool hit = false;
	if (root_valid(&x->root)) {
		/* cached_root_find_and_keep_current */
		if (root_usable(&x->root, space, role)) {
			hit = true;
		} else {
			for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS && !hit; i++) {
				struct vt_kvm_root t = x->root;
				x->root = x->prev[i];
				x->prev[i] = t;
				hit = root_usable(&x->root, space, role);
			}
			if (!hit)
				root_invalidate(&x->root); /* the former LRU is freed */
		}
	} else {
		/* cached_root_find_without_current */
		for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS && !hit; i++) {
			if (!root_usable(&x->prev[i], space, role))
				continue;
			x->root = x->prev[i];
			for (int j = i; j + 1 < VT_KVM_NUM_PREV_ROOTS; j++)
				x->prev[j] = x->prev[j + 1];
			root_invalidate(&x->prev[VT_KVM_NUM_PREV_ROOTS - 1]);
			hit = true;
		}
	}
	if (hit) {
		vt_trace_note(tr, v, p, "fast_pgd_switch: reuses the cached root for the new CR3 (no sync, no flush)");
		vt_kvm_make_request(s, v, VT_REQ_LOAD_MMU_PGD, tr);
	} else {
		vt_trace_note(tr, v, p, "fast_pgd_switch: no cached root for the new CR3; one is built at entry");
	}
}

/*
 * Sync one root with the guest tables (mmu_sync_children): its own entries
 * and the shadow pages of the tables it links = what the guest maps now.
 */
static void root_sync(const struct vt_model *m, struct vt_state *s, int v, struct vt_kvm_root *r,
		      struct vt_trace *tr)
{
	if (r->space < 0)
		return;
	r->content = s->pt[r->space];
	uint64_t dropped = 0;
	VT_U64_FOREACH(t, r->linked)
		dropped |= table_sync(m, s, v, (int)t);
	if (dropped)
		sync_page_dropped(m, s, v, tr);
}

/* An unsync root mirrors a guest PTE that is no longer there, itself or in a shadow page it links. */
static bool root_unsync(const struct vt_model *m, struct vt_state *s, int v, const struct vt_kvm_root *r)
{
	if (r->space < 0)
		return false;
	if (r->content & ~s->pt[r->space])
		return true;
	VT_U64_FOREACH(t, r->linked)
		if (table_unsync(m, s, v, (int)t))
			return true;
	return false;
}

/* kvm_mmu_sync_roots: sync the current root (shadow paging only). */
static void mmu_sync_roots(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_root *r = &X(s, v)->root;
	if (vt_nested_uses_guest_mmu(m, s, v)) {
		/* guest_mmu's shadow EPT02/NPT root is not direct: kvm_mmu_sync_roots syncs it */
		struct vt_kvm_x86_vcpu *x = X(s, v);
		int vm = s->vcpu[v].o.x86.vmcs - 1;
		if (x->ept02_vm == vm) {
			if (x->ept02 & ~s->vm[vm].s2)
				vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_sync_roots: guest_mmu's root had unsync entries; synced");
			x->ept02 = s->vm[vm].s2;
		}
		return;
	}
	if (V(m)->tdp || !root_valid(r) || r->space < 0)
		return;
	if (root_unsync(m, s, v, r))
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_sync_roots: current root had unsync SPTEs; synced");
	root_sync(m, s, v, r, tr);
}

/* kvm_mmu_sync_prev_roots: free (not sync) every unsync previous root. */
static void mmu_sync_prev_roots(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++) {
		struct vt_kvm_root *r = &X(s, v)->prev[i];
		if (root_valid(r) && root_unsync(m, s, v, r)) {
			root_invalidate(r);
			vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_sync_prev_roots: freed an unsync previous root");
		}
	}
}

/*
 * Sync the leaf SPTE for va in one root (kvm_sync_spte via
 * kvm_mmu_invalidate_addr), wherever it sits: only in pages KVM sees unsync.
 * Zapping a present SPTE of a shared shadow page flushes remote TLBs
 * (kvm_flush_remote_tlbs_sptep; FNAME(invlpg) before 2023, in every
 * release the catalogue names).
 */
static void root_sync_va(const struct vt_model *m, struct vt_state *s, int v, struct vt_kvm_root *r, int va,
			 struct vt_trace *tr)
{
	if (!root_valid(r) || r->space < 0 || va < 0)
		return;
	uint64_t of_va = 0;
	for (int p = 0; p < m->np; p++)
		if (m->pte[p].va == va)
			of_va |= VT_BIT(p);
	r->content = (r->content & ~of_va) | (s->pt[r->space] & of_va);
	struct vt_kvm_x86_vm *xv = XV(m, s, v);
	uint64_t dropped = 0;
	VT_U64_FOREACH(t, r->linked) {
		uint64_t *sp = &xv->sp[t];
		uint64_t keep = 0;
		if (table_unsync(m, s, v, (int)t)) {
			dropped |= *sp & of_va & ~s->pt[t];
			xv->hidden[t] &= ~of_va;
		} else {
			keep = *sp & of_va & xv->hidden[t]; /* KVM does not sync a page it sees in sync */
		}
		*sp = (*sp & ~of_va) | (s->pt[t] & of_va) | keep;
	}
	if (dropped)
		flush_remote_tlbs(m, s, v, "kvm_sync_spte zapped a present SPTE: kvm_flush_remote_tlbs_sptep", tr);
}

/* ---- TDP MMU roots (mmu/tdp_mmu.c) ------------------------------------ */

/* A root's position in the VM's list (newest first), or -1. */
static inline int tdp_pos(const struct vt_state *s, int vm, unsigned id)
{
	const struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
	for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++)
		if (rs[i].id == id)
			return i;
	return -1;
}

/* The TDP root vCPU v holds (mmu->root.hpa), or NULL. */
static inline struct vt_kvm_tdp_root *tdp_root_of(const struct vt_model *m, struct vt_state *s, int v)
{
	const struct vt_kvm_root *r = &X(s, v)->root;
	if (!V(m)->tdp || r->space != VT_ROOT_TDP)
		return NULL;
	int i = tdp_pos(s, m->vcpu_vm[v], r->tdp);
	return i < 0 ? NULL : &s->vm[m->vcpu_vm[v]].h.x86.roots[i];
}

/* The root a yielding zap of VM vm holds across cond_resched (for_each_tdp_mmu_root_yield_safe), or -1. */
static int zap_cursor_root(const struct vt_state *s, int vm)
{
	if (!s->host_phase || s->host_cur.code != VT_OP_HOST_ZAP || s->host_cur.target != vm)
		return -1;
	return (s->host_phase - 1) >> 4;
}

/* Does anything hold a reference to the root: a vCPU's mmu->root, or a zap walking it? */
static bool tdp_held(const struct vt_model *m, const struct vt_state *s, int vm, unsigned id)
{
	for (int v = m->vm[vm].first_vcpu; v < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; v++) {
		const struct vt_kvm_root *r = &s->vcpu[v].h.x86.root;
		if (r->space == VT_ROOT_TDP && r->tdp == id)
			return true;
	}
	return zap_cursor_root(s, vm) == (int)id;
}

/*
 * kvm_tdp_mmu_put_root: an invalid root nobody holds is freed, and its page
 * (its EP4TA) is free for the next root.  A valid root stays until it is
 * invalidated (the TDP MMU keeps roots alive since "KVM: x86/mmu: Preserve
 * TDP MMU roots until they are explicitly invalidated"; before, a root was
 * freed with its last reference: docs/questions-x86.md).  A freed root's
 * SPTEs are zapped without a flush: every new root is flushed at load.
 */
static void tdp_tidy(const struct vt_model *m, struct vt_state *s, int vm)
{
	struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
	int n = 0;
	for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++) {
		if (!rs[i].valid && !tdp_held(m, s, vm, rs[i].id))
			continue;
		struct vt_kvm_tdp_root r = rs[i];
		r.zapped &= s->vm[vm].s2;
		rs[n++] = r;
	}
	for (int i = n; i < VT_KVM_TDP_ROOTS; i++)
		memset(&rs[i], 0, sizeof(rs[i]));
}

/*
 * kvm_tdp_mmu_get_vcpu_root_hpa: the VM's valid root of the vCPU's role if
 * there is one (a vCPU switching roles comes back to the root it left, with
 * whatever the TLBs still hold under its EPTP), else a new root at the head
 * of the list, on the lowest free page.  A new root's SPTEs are taken as
 * faulted in from the start (the model's stage 2 is always faulted in; only
 * zaps take SPTEs away), unless option lazy-sptes says it starts empty, as
 * KVM's does, and only guest accesses fill it (docs/questions-x86.md Q15).
 */
static void tdp_get_root(const struct vt_model *m, struct vt_state *s, int v, uint16_t role, struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
	struct vt_kvm_x86_vcpu *x = X(s, v);
	int n = 0;
	unsigned ids = 0;
	for (; n < VT_KVM_TDP_ROOTS && rs[n].used; n++) {
		if (rs[n].valid && rs[n].role == role) {
			x->root.tdp = rs[n].id;
			vt_trace_note(tr, v, s->vcpu[v].pcpu,
				      "kvm_tdp_mmu_get_vcpu_root_hpa: the VM already has a root for this role; it is reused");
			return;
		}
		ids |= 1u << rs[n].id;
	}
	if (n == VT_KVM_TDP_ROOTS) {
		vt_state_limit(&s->meta, VT_LIMIT_TDP_ROOTS);
		x->root.tdp = rs[0].id;
		return;
	}
	unsigned id = (unsigned)__builtin_ctz(~ids);
	memmove(&rs[1], &rs[0], (size_t)n * sizeof(rs[0]));
	memset(&rs[0], 0, sizeof(rs[0]));
	rs[0].used = 1;
	rs[0].valid = 1;
	rs[0].role = (uint8_t)role;
	rs[0].id = (uint8_t)id;
	if (m->opt[VT_OPT_LAZY_SPTES])
		rs[0].zapped = s->vm[vm].s2; /* kvm_tdp_mmu_alloc_root: an empty root; faults fill it */
	x->root.tdp = (uint8_t)id;
	vt_trace_note(tr, v, s->vcpu[v].pcpu,
		      id ? "kvm_tdp_mmu_get_vcpu_root_hpa: a new root for this role, at the head of tdp_mmu_roots"
			 : "kvm_tdp_mmu_get_vcpu_root_hpa: a new root for this role, at the head of tdp_mmu_roots "
			   "(on the VM's first root page)");
}

/* The VM's stage-2 entries for the page of gpa (over S). */
static uint64_t s2_of_gpa(const struct vt_model *m, const struct vt_state *s, int vm, uint64_t gpa)
{
	uint64_t r = 0;
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].vm == vm && m->s2[j].gpa == gpa)
			r |= VT_BIT(j);
	return r & s->vm[vm].s2;
}

/*
 * Zap the SPTEs of one page in one root (tdp_mmu_set_spte(.., 0) under
 * zap_gfn_range / tdp_mmu_zap_leafs): true if one was there, i.e. the
 * caller owes a TLB flush.
 */
static bool tdp_zap_gfn(const struct vt_model *m, struct vt_state *s, int vm, struct vt_kvm_tdp_root *r, uint64_t gpa)
{
	uint64_t e = s2_of_gpa(m, s, vm, gpa) & ~r->zapped;
	r->zapped |= e;
	return e != 0;
}

/*
 * kvm_mmu_free_obsolete_roots (KVM_REQ_MMU_FREE_OBSOLETE_ROOTS): drop the
 * current root if a fast zap invalidated it; kvm_mmu_reload then loads a
 * valid one, and flushes it.
 */
static void mmu_free_obsolete_roots(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	const struct vt_kvm_tdp_root *r = tdp_root_of(m, s, v);
	if (!r || r->valid)
		return;
	root_invalidate(&X(s, v)->root);
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_free_obsolete_roots: the current root is obsolete; freed");
	tdp_tidy(m, s, m->vcpu_vm[v]);
}

/*
 * kvm_mmu_load, reached through kvm_mmu_reload when the root is invalid:
 * allocate (a shadow root is synced as it is built), load it, then flush
 * the current context unconditionally: a new root's history is unknown.
 */
static void mmu_reload(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (vt_nested_uses_guest_mmu(m, s, v)) {
		vt_nested_mmu_load(m, s, v, tr);
		return;
	}
	if (root_valid(&x->root))
		return;
	const struct vt_x86_regs *r = R(s, v);
	memset(&x->root, 0, sizeof(x->root));
	x->root.role = mmu_role(m, s, v);
	if (V(m)->tdp || !(r->cr0 & X86_CR0_PG) || r->cr3 < 0) {
		x->root.space = VT_ROOT_TDP; /* direct map: TDP, or shadow paging with guest paging off */
		if (V(m)->tdp) {
			tdp_tidy(m, s, m->vcpu_vm[v]); /* roots the vCPU let go of since */
			tdp_get_root(m, s, v, x->root.role, tr);
		}
	} else {
		x->root.space = r->cr3;
		root_sync(m, s, v, &x->root, tr); /* a new root links no table yet: faults link them */
	}
	if (tr)
		tr->root_loads++;
	vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_load: new root");
	if (vt_fixed(m, VT_FIX_X86_NEW_ROOT_FLUSH)) {
		V(m)->flush_tlb_current(m, s, v, tr);
		walias_flush(s, v);
	} else
		vt_trace_reverted(tr, v, VT_FIX_X86_NEW_ROOT_FLUSH, "the new root is not flushed");
}

/* ---- the three local flushes (x86.c) ----------------------------------- */

/* kvm_vcpu_flush_tlb_all */
static void flush_tlb_all(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	V(m)->flush_tlb_all(m, s, v, tr);
	walias_flush(s, v);
	vt_kvm_clear_request(s, v, VT_REQ_TLB_FLUSH_CURRENT);
}

/* kvm_vcpu_flush_tlb_guest: under shadow paging, sync first, or the flush refills from stale SPTEs. */
static void flush_tlb_guest(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!V(m)->tdp) {
		if (vt_fixed(m, VT_FIX_X86_GUEST_FLUSH_SYNC)) {
			mmu_sync_roots(m, s, v, tr);
			mmu_sync_prev_roots(m, s, v, tr);
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_GUEST_FLUSH_SYNC, "the shadow roots are not synced before the flush");
		}
	}
	V(m)->flush_tlb_guest(m, s, v, tr);
	walias_flush(s, v);
	/* kvm_hv_vcpu_purge_flush_tlb: a full guest flush covers whatever Hyper-V queued */
	if (vt_kvm_test_request(s, v, VT_REQ_HV_TLB_FLUSH)) {
		vt_kvm_clear_request(s, v, VT_REQ_HV_TLB_FLUSH);
		memset(X(s, v)->hv_fifo, 0, sizeof(X(s, v)->hv_fifo));
	}
}

/* ---- for nested VMX (src/hv/kvm_nested_vmx.c) --------------------------- */

void vt_kvm_x86_new_pgd(const struct vt_model *m, struct vt_state *s, int v, int space, struct vt_trace *tr)
{
	mmu_new_pgd(m, s, v, space, tr);
}

void vt_kvm_x86_sync_current(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	mmu_sync_roots(m, s, v, tr);
}

/* kvm_service_local_tlb_flush_requests */
void vt_kvm_x86_service_local_flushes(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr))
		V(m)->flush_tlb_current(m, s, v, tr);
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr))
		flush_tlb_guest(m, s, v, tr);
}

/* kvm_mmu_free_guest_mode_roots(root_mmu): L2's shadow roots, current or cached. */
void vt_kvm_x86_free_guest_mode_roots(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	bool any = false;
	if (root_valid(&x->root) && (x->root.role & VT_NESTED_ROLE_GUEST_MODE)) {
		root_invalidate(&x->root);
		any = true;
	}
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
		if (root_valid(&x->prev[i]) && (x->prev[i].role & VT_NESTED_ROLE_GUEST_MODE)) {
			root_invalidate(&x->prev[i]);
			any = true;
		}
	if (any)
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_free_guest_mode_roots: L2's roots freed");
}

/* ---- Hyper-V TLB flush hypercalls (hyperv.c) ---------------------------- */

/* hv_tlb_flush_enqueue: the entries if they fit leaving one slot free, else a 'flush all' entry. */
static void hv_tlb_flush_enqueue(const struct vt_model *m, struct vt_state *s, int t, const struct vt_op *op)
{
	uint8_t *f = X(s, t)->hv_fifo;
	int used = 0;
	while (used < VT_KVM_HV_FIFO && f[used])
		used++;
	int count = op->target ? 0 : 1;
	if (count && count < VT_KVM_HV_FIFO - used) {
		f[used] = (uint8_t)(2 + vt_model_va_index(m, op->a));
		return;
	}
	if (used < VT_KVM_HV_FIFO)
		f[used] = 1; /* a full FIFO always ends in a 'flush all' entry */
}

/*
 * kvm_hv_flush_tlb (HVCALL_FLUSH_VIRTUAL_ADDRESS_{LIST,SPACE}): queue the
 * flush for every target, then kvm_make_vcpus_request_mask with
 * KVM_REQ_HV_TLB_FLUSH (KVM_REQUEST_WAIT: running targets are kicked out
 * before the hypercall returns).  Before 260970862c88 every target got a
 * full guest flush (KVM_REQ_TLB_FLUSH_GUEST).  The address space and flags
 * are not used: KVM flushes the page in every context.
 */
static void hv_flush_tlb(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 struct vt_trace *tr)
{
	bool gently = vt_fixed(m, VT_FIX_X86_HV_FLUSH_GENTLY);
	if (!gently)
		vt_trace_reverted(tr, v, VT_FIX_X86_HV_FLUSH_GENTLY, "every target gets a full guest TLB flush");
	for (int t = 0; t < m->nvcpus; t++) {
		if (!(op->b & VT_BIT(t)))
			continue;
		if (gently)
			hv_tlb_flush_enqueue(m, s, t, op);
		vt_kvm_make_request(s, t, gently ? VT_REQ_HV_TLB_FLUSH : VT_REQ_TLB_FLUSH_GUEST, tr);
		/* both requests carry KVM_REQUEST_WAIT: IPI unless the target is outside guest mode */
		if (vt_kvm_request_needs_ipi(s, t, true))
			vt_kvm_deliver_ipi(m, s, t, tr);
	}
}

/*
 * kvm_hv_vcpu_flush_tlb, at entry: the queued pages one by one; false (the
 * caller then flushes the whole guest TLB) for a 'flush all' entry, or
 * without TDP.
 */
static bool hv_vcpu_flush_tlb(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	uint8_t *f = X(s, v)->hv_fifo;
	if (!V(m)->tdp) {
		memset(f, 0, VT_KVM_HV_FIFO);
		return false;
	}
	for (int i = 0; i < VT_KVM_HV_FIFO && f[i]; i++) {
		if (f[i] == 1) {
			vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_hv_vcpu_flush_tlb: a 'flush all' entry: full guest flush");
			memset(f, 0, VT_KVM_HV_FIFO);
			return false;
		}
		V(m)->flush_tlb_gva(m, s, v, m->va[f[i] - 2], tr);
		walias_flush_va(m, s, v, f[i] - 2);
	}
	memset(f, 0, VT_KVM_HV_FIFO);
	return true;
}

/* ---- CR3 and PCID (x86.c) ---------------------------------------------- */

/*
 * kvm_invalidate_pcid: a flushing MOV CR3, or INVPCID single-context.  Under
 * TDP KVM's tables are unaffected and the guest flush does it all.  Under
 * shadow paging: sync and flush if the PCID is the active one; free cached
 * roots of that PCID (a PCID without a cached root needs nothing: switching
 * to it builds a new root, which is synced and flushed).
 */
static void invalidate_pcid(const struct vt_model *m, struct vt_state *s, int v, uint32_t pcid, bool mov_cr3,
			    struct vt_trace *tr)
{
	if (V(m)->tdp) {
		if (vt_fixed(m, VT_FIX_X86_INVALIDATE_PCID_TDP)) {
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
			return;
		}
		vt_trace_reverted(tr, v, VT_FIX_X86_INVALIDATE_PCID_TDP,
				  "TDP takes the shadow-paging path: only the active PCID is flushed");
	}
	if (vt_x86_pcid(m, R(s, v)) == pcid) {
		vt_kvm_make_request(s, v, VT_REQ_MMU_SYNC, tr);
		vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
	}
	/* With PCID off every MOV CR3 flushes, so cached roots need not be freed (509bfe3d9796). */
	if (!(R(s, v)->cr4 & X86_CR4_PCIDE))
		return;
	if (mov_cr3 && !vt_fixed(m, VT_FIX_X86_PCID_ALL_PGDS)) {
		vt_trace_reverted(tr, v, VT_FIX_X86_PCID_ALL_PGDS, "cached roots with the same PCID are kept");
		return;
	}
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++) {
		struct vt_kvm_root *r = &X(s, v)->prev[i];
		if (root_valid(r) && r->space >= 0 && root_pcid(m, s, v, r) == (int)pcid) {
			root_invalidate(r);
			vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_invalidate_pcid: freed a cached root of that PCID");
		}
	}
}

/* kvm_set_cr3 (after the architectural checks; the register is already written). */
static void set_cr3(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		    const union vt_gregs *old, struct vt_trace *tr)
{
	const struct vt_x86_regs *r = R(s, v);
	bool pcide = (r->cr4 & X86_CR4_PCIDE) != 0;
	bool skip_flush = pcide && (op->flags & VT_OPF_NOFLUSH);
	uint32_t pcid = vt_x86_pcid(m, r);
	if (old->x86.cr3 != op->space)
		mmu_new_pgd(m, s, v, op->space, tr);
	if (!skip_flush)
		invalidate_pcid(m, s, v, pcid, true, tr);
}

/* ---- CR0 / CR4 (x86.c) ------------------------------------------------- */

/*
 * kvm_post_set_cr4.  Since f4bc051fc91a the MMU role reset and the TLB flush
 * are decided separately, each by the SDM's rule; before it, the role reset
 * was trusted to imply the flush (a reset frees every root, and every new
 * root is flushed when it is loaded), and the rules were an else-if chain.
 */
static void post_set_cr4(const struct vt_model *m, struct vt_state *s, int v, uint32_t old, uint32_t cr4,
			 struct vt_trace *tr)
{
	uint32_t chg = old ^ cr4;
	bool pcide_on = !(old & X86_CR4_PCIDE) && (cr4 & X86_CR4_PCIDE);
	bool pcide_off = (old & X86_CR4_PCIDE) && !(cr4 & X86_CR4_PCIDE);
	uint32_t role_bits = KVM_MMU_CR4_ROLE_BITS;
	if (!vt_fixed(m, VT_FIX_X86_PGE_NO_RESET))
		role_bits |= X86_CR4_PGE; /* before a91a7c709600, PGE was an MMU role bit */

	if (vt_fixed(m, VT_FIX_X86_CR_FLUSH_SPLIT)) {
		if (chg & role_bits)
			mmu_reset_context(s, v, tr);
		/* Roots cached while PCID was off must not survive into PCID mode. */
		if (!V(m)->tdp && pcide_on) {
			if (vt_fixed(m, VT_FIX_X86_PCIDE_UNLOAD))
				mmu_unload(s, v, tr);
			else
				vt_trace_reverted(tr, v, VT_FIX_X86_PCIDE_UNLOAD, "roots cached with PCID off are kept");
		}
		/* SDM: PGE changed, or PCIDE 1->0: flush every PCID, globals too. */
		if ((chg & X86_CR4_PGE) || pcide_off)
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
		/* SDM: PAE changed, or SMEP 0->1: flush the current PCID. */
		else if ((chg & X86_CR4_PAE) || (!(old & X86_CR4_SMEP) && (cr4 & X86_CR4_SMEP)))
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
		return;
	}

	vt_trace_reverted(tr, v, VT_FIX_X86_CR_FLUSH_SPLIT, "kvm_post_set_cr4 relies on the MMU reset to flush");
	if (chg & role_bits) {
		mmu_reset_context(s, v, tr);
	} else if (chg & X86_CR4_PCIDE) {
		if (pcide_on && !vt_fixed(m, VT_FIX_X86_PCIDE_UNLOAD))
			vt_trace_reverted(tr, v, VT_FIX_X86_PCIDE_UNLOAD, "roots cached with PCID off are kept");
		else
			vt_kvm_make_request(s, v, VT_REQ_MMU_RELOAD, tr);
	} else if (chg & X86_CR4_PGE) {
		vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
	}
}

/* kvm_post_set_cr0 */
static void post_set_cr0(const struct vt_model *m, struct vt_state *s, int v, uint32_t old, uint32_t cr0,
			 struct vt_trace *tr)
{
	uint32_t chg = old ^ cr0;
	/* Only WP toggled: nothing with paging off; under TDP only MMU metadata (01b31714bd90). */
	if (chg == X86_CR0_WP) {
		if (!(cr0 & X86_CR0_PG))
			return;
		if (V(m)->tdp)
			return;
	}
	if ((chg & X86_CR0_PG) && !(cr0 & X86_CR0_PG)) {
		/* SDM: clearing PG flushes the guest's TLB (f4bc051fc91a made it explicit). */
		if (vt_fixed(m, VT_FIX_X86_CR_FLUSH_SPLIT))
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
		else
			vt_trace_reverted(tr, v, VT_FIX_X86_CR_FLUSH_SPLIT, "CR0.PG 1->0 relies on the MMU reset to flush");
	}
	if (chg & KVM_MMU_CR0_ROLE_BITS)
		mmu_reset_context(s, v, tr);
}

/* ---- INIT (x86.c kvm_vcpu_reset) --------------------------------------- */

static void vcpu_reset_init(const struct vt_model *m, struct vt_state *s, int v, const union vt_gregs *old,
			    struct vt_trace *tr)
{
	/* The vendor reset runs first (VMX: INVVPID of the vCPU's VPID; SVM: a fresh ASID). */
	if (vt_fixed(m, VT_FIX_X86_VENDOR_RESET_FLUSH)) {
		V(m)->vcpu_reset(m, s, v, true, tr);
		walias_flush(s, v);
	} else
		vt_trace_reverted(tr, v, VT_FIX_X86_VENDOR_RESET_FLUSH, "the vendor reset does not flush");
	/* CR3 = 0 is a direct write: no kvm_mmu_new_pgd. */
	if (old->x86.cr0 & X86_CR0_PG) {
		if (vt_fixed(m, VT_FIX_X86_INIT_PG_FLUSH))
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
		else
			vt_trace_reverted(tr, v, VT_FIX_X86_INIT_PG_FLUSH, "INIT with paging on relies on the MMU reset to flush");
		mmu_reset_context(s, v, tr);
	}
	if (vt_fixed(m, VT_FIX_X86_INIT_FLUSH))
		vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
	else
		vt_trace_reverted(tr, v, VT_FIX_X86_INIT_FLUSH, "INIT requests no guest TLB flush");
}

/* ---- INVLPG / INVPCID (mmu.c, x86.c) ----------------------------------- */

#define ROOT_CURRENT 1u
#define ROOT_PREV(i) (2u << (i))
#define ROOTS_ALL 0xfu

/* kvm_mmu_invalidate_addr: flush the address, then (shadow) sync its leaf in the chosen roots. */
static void invalidate_addr(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, unsigned roots,
			    struct vt_trace *tr)
{
	V(m)->flush_tlb_gva(m, s, v, va, tr);
	int vai = vt_model_va_index(m, va);
	walias_flush_va(m, s, v, vai);
	if (V(m)->tdp)
		return;
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (roots & ROOT_CURRENT)
		root_sync_va(m, s, v, &x->root, vai, tr);
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
		if (roots & ROOT_PREV(i))
			root_sync_va(m, s, v, &x->prev[i], vai, tr);
}

/* kvm_mmu_invlpg: INVLPG also kills global mappings in every PCID, so every cached root is synced. */
static void mmu_invlpg(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr)
{
	unsigned roots = ROOTS_ALL;
	if (!V(m)->tdp && !vt_fixed(m, VT_FIX_X86_INVLPG_PREV_ROOTS)) {
		roots = ROOT_CURRENT;
		vt_trace_reverted(tr, v, VT_FIX_X86_INVLPG_PREV_ROOTS, "INVLPG syncs only the current root");
	}
	invalidate_addr(m, s, v, va, roots, tr);
}

/* invlpga_interception (nested SVM) and the like: kvm_mmu_invlpg. */
void vt_kvm_x86_invlpg(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr)
{
	mmu_invlpg(m, s, v, va, tr);
}

/* kvm_mmu_invpcid_gva: the current root if the PCID is active, plus cached roots of that PCID. */
static void mmu_invpcid_gva(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, uint32_t pcid,
			    struct vt_trace *tr)
{
	unsigned roots = 0;
	if (vt_x86_pcid(m, R(s, v)) == pcid)
		roots |= ROOT_CURRENT;
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++) {
		const struct vt_kvm_root *r = &X(s, v)->prev[i];
		if (root_valid(r) && r->space >= 0 && root_pcid(m, s, v, r) == (int)pcid)
			roots |= ROOT_PREV(i);
	}
	if (roots)
		invalidate_addr(m, s, v, va, roots, tr);
	else
		vt_trace_note(tr, v, s->vcpu[v].pcpu, "kvm_mmu_invpcid_gva: no root uses that PCID; nothing to do");
}

/* kvm_handle_invpcid */
static void handle_invpcid(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			   struct vt_trace *tr)
{
	switch (op->target) {
	case 0:
		mmu_invpcid_gva(m, s, v, op->a, (uint32_t)op->b, tr);
		break;
	case 1:
		invalidate_pcid(m, s, v, (uint32_t)op->b, false, tr);
		break;
	default:
		/*
		 * Types 2 and 3: KVM does not track global SPTEs, so both flush
		 * everything.  Since 28f28d453ffc a guest flush; before, every
		 * root was freed (the new root is synced and flushed at entry).
		 */
		if (vt_fixed(m, VT_FIX_X86_INVPCID_ALL_FLUSH_GUEST)) {
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_INVPCID_ALL_FLUSH_GUEST, "INVPCID (all contexts) unloads the MMU");
			mmu_unload(s, v, tr);
		}
		break;
	}
}

/* ---- tables below the root: upper-level writes and faults (mmu.c) ------- */

/*
 * Under shadow paging every guest page table above the last level stays
 * write-protected (KVM unsyncs only last-level shadow pages), so a guest
 * write that links or unlinks a table exits.
 */
bool vt_kvm_x86_pt_trap(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op)
{
	return !V(m)->tdp;
}

/*
 * kvm_mmu_pte_write on an upper-level entry: the SPTE that mirrors it is
 * zapped in every shadow page of that guest table (every root of the space,
 * current or cached, of every vCPU).  Zapping a present SPTE needs a remote
 * flush (need_remote_flush, kvm_mmu_remote_flush_or_zap).
 */
static void mmu_pte_write_upper(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
				struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	uint16_t bit = (uint16_t)(1u << op->b);
	bool flush = false;
	for (int u = m->vm[vm].first_vcpu; u < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; u++) {
		struct vt_kvm_x86_vcpu *x = X(s, u);
		struct vt_kvm_root *rs[1 + VT_KVM_NUM_PREV_ROOTS] = {&x->root, &x->prev[0], &x->prev[1], &x->prev[2]};
		for (int i = 0; i < 1 + VT_KVM_NUM_PREV_ROOTS; i++) {
			if (root_valid(rs[i]) && rs[i]->space == op->space && (rs[i]->linked & bit)) {
				rs[i]->linked &= (uint16_t)~bit;
				flush = true;
			}
		}
	}
	if (flush) {
		vt_trace_note(tr, v, s->vcpu[v].pcpu,
			      "kvm_mmu_pte_write: the SPTE of that upper-level entry is zapped in every shadow page of the "
			      "table; it was present, so kvm_flush_remote_tlbs");
		vt_kvm_make_all_cpus_request(m, s, vm, VT_REQ_TLB_FLUSH, tr);
	} else {
		vt_trace_note(tr, v, s->vcpu[v].pcpu,
			      "kvm_mmu_pte_write: no shadow page mirrors that entry yet; a fault will link the table");
	}
}

/*
 * link_shadow_page into the root: the root is a shadow page of the VM,
 * shared by every vCPU whose root (current or cached) shadows the same CR3
 * with the same role, so the link is there for all of them at once
 * (docs/questions-x86.md Q3).
 */
static void link_table(const struct vt_model *m, struct vt_state *s, int v, const struct vt_kvm_root *r, int t)
{
	int vm = m->vcpu_vm[v];
	uint16_t bit = (uint16_t)(1u << t);
	for (int u = m->vm[vm].first_vcpu; u < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; u++) {
		struct vt_kvm_x86_vcpu *x = X(s, u);
		struct vt_kvm_root *rs[1 + VT_KVM_NUM_PREV_ROOTS] = {&x->root, &x->prev[0], &x->prev[1], &x->prev[2]};
		for (int i = 0; i < 1 + VT_KVM_NUM_PREV_ROOTS; i++)
			if (root_valid_content(rs[i]) && rs[i]->space == r->space && rs[i]->role == r->role)
				rs[i]->linked |= bit;
	}
}

/*
 * A guest access below a table the current root does not link yet faults:
 * FNAME(fetch) asks kvm_mmu_get_page for the table's shadow page.  The first
 * time, it creates one and write-protects the table's page
 * (rmap_write_protect).  Otherwise it finds the one the VM already has (it
 * outlives being unlinked), and if that has unsync children:
 *   - since 65855ed8b034, FNAME(fetch) syncs it (mmu_sync_children) before
 *     it links it, so no vCPU can walk the unsync entries through the new
 *     link; the sync's own flushes follow (a local one, and a remote one for
 *     dropped SPTEs: sync_page_dropped);
 *   - before it, kvm_mmu_get_page requested KVM_REQ_MMU_SYNC for the
 *     faulting vCPU and the link was made at once: another vCPU running on
 *     the same root walks the unsync entries until that sync; and
 *     8c8560b83390 had requested KVM_REQ_TLB_FLUSH_CURRENT there instead
 *     (x86-get-page-sync), which f6f6195b888c undid.
 * (FNAME(fetch) also fills the faulting address from the guest walk; the
 * model fills every current entry, which leaves the unsync ones as they
 * were.)  The #PF exit and the re-entry happen within the step, except when
 * the fault leaves the sync to the vCPU's next entry (before 65855ed8b034):
 * then that entry is a step of its own, and the other vCPUs may run first.
 */
/* Only shadow paging takes these faults: with TDP the hardware walks the guest's own tables. */
bool vt_kvm_x86_fault_acts(const struct vt_model *m)
{
	return !V(m)->tdp;
}

void vt_kvm_x86_fault(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (V(m)->tdp)
		return;
	struct vt_kvm_root *r = &X(s, v)->root;
	struct vt_gctx g;
	vt_vcpu_gctx(m, s, v, &g);
	if (!g.paging || !root_valid(r) || r->space < 0 || r->space != g.space)
		return;
	uint16_t missing = (uint16_t)(s->links[g.space] & ~r->linked);
	if (!missing)
		return;
	int p = s->vcpu[v].pcpu;
	struct vt_kvm_x86_vm *xv = XV(m, s, v);
	vt_trace_add(tr, VT_TR_EXIT, v, p, VT_OP_ACCESS, 0, 0, 0, NULL);
	m->hv->exit(m, s, v, tr);
	s->vcpu[v].run = VT_RUN_LOADED;
	s->vcpu[v].mode = VT_MODE_OUTSIDE;
	bool later = false;
	VT_U64_FOREACH(t, missing) {
		uint16_t bit = (uint16_t)(1u << t);
		if (m->space[t].at && !(xv->shadowed & bit)) {
			xv->shadowed |= bit;
			vt_trace_note(tr, v, p, "page fault: kvm_mmu_get_page creates the table's shadow page (account_shadowed)");
			rmap_write_protect(m, s, v, (int)t, tr);
		}
		if (!table_unsync(m, s, v, (int)t)) {
			vt_trace_note(tr, v, p, "page fault: FNAME(fetch) links the table's shadow page (kvm_mmu_get_page)");
			link_table(m, s, v, r, (int)t);
			continue;
		}
		if (vt_fixed(m, VT_FIX_X86_SYNC_BEFORE_LINK)) {
			vt_trace_note(tr, v, p,
				      "page fault: the table's shadow page has unsync children; FNAME(fetch) syncs it "
				      "(mmu_sync_children) before it links it");
			if (table_sync(m, s, v, (int)t))
				sync_page_dropped(m, s, v, tr);
			/* kvm_mmu_flush_or_zap(local): the sync flushes the current context */
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
			link_table(m, s, v, r, (int)t);
			continue;
		}
		vt_trace_reverted(tr, v, VT_FIX_X86_SYNC_BEFORE_LINK,
				  "FNAME(fetch) links the table's shadow page with its unsync children; kvm_mmu_get_page "
				  "asks this vCPU to sync at its next entry");
		link_table(m, s, v, r, (int)t);
		later = true;
		if (vt_fixed(m, VT_FIX_X86_GET_PAGE_SYNC)) {
			vt_kvm_make_request(s, v, VT_REQ_MMU_SYNC, tr);
		} else {
			vt_trace_reverted(tr, v, VT_FIX_X86_GET_PAGE_SYNC,
					  "kvm_mmu_get_page requests KVM_REQ_TLB_FLUSH_CURRENT, not KVM_REQ_MMU_SYNC");
			vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr);
		}
	}
	if (later) {
		vt_trace_note(tr, v, p, "returns from the page fault; its next entry (a step of its own) services the request");
		return;
	}
	if (m->hv->enter(m, s, v, false, tr)) {
		s->vcpu[v].run = VT_RUN_GUEST;
		s->vcpu[v].mode = VT_MODE_IN_GUEST;
		vt_trace_note(tr, v, p, "enters the guest");
	}
}

/*
 * A guest store to a table's entry.  Under shadow paging a table with a
 * shadow page is write-protected: a store to it faults and KVM either
 * emulates it or unsyncs the page (mmu_try_to_unsync_pages), and either way
 * the page is synced before the guest may rely on the change.  The model
 * takes every store as one KVM sees (the worst case: unsync).  The exception
 * this function records: a store through a TLB entry that is still
 * writable (filled before the table was shadowed, and never flushed since,
 * which rmap_write_protect's flush is there to prevent) does not fault:
 * the page stays "synced" for KVM while its shadow page mirrors the old
 * entry.  Only tables declared 'at GPA' can be aliased.
 */
void vt_kvm_x86_pt_store(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 struct vt_trace *tr)
{
	int t = op->space;
	if (V(m)->tdp || t < 0 || !m->space[t].at)
		return;
	struct vt_kvm_x86_vm *xv = XV(m, s, v);
	if (!(xv->shadowed & (1u << t)))
		return;
	if (table_unsync(m, s, v, t) || !(X(s, v)->walias & table_page_ptes(m, t))) {
		/*
		 * A store KVM sees, or one to a page it already treats as unsync:
		 * either way the page's next sync re-reads every entry, so none
		 * is hidden from it any more.
		 */
		xv->hidden[t] = 0;
		return;
	}
	int va = vt_model_va_index(m, op->a);
	uint64_t old = va >= 0 ? vt_pt_va(m, s, t, va) : 0;
	xv->hidden[t] |= xv->sp[t] & old;
	vt_trace_note(tr, v, s->vcpu[v].pcpu,
		      "the store goes through a TLB entry that still maps the table's page writable: no write "
		      "fault, so KVM neither emulates it nor unsyncs the page; its shadow page keeps the old entry");
}

/* ---- the hv ops entry points ------------------------------------------- */

void vt_kvm_x86_vcpu_init(const struct vt_model *m, struct vt_state *s, int v)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	memset(x, 0, sizeof(*x));
	x->loaded_cpu = -1;
	x->ept02_vm = -1;
	root_invalidate(&x->root);
	for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
		root_invalidate(&x->prev[i]);
}

/* kvm_arch_vcpu_load: the vendor load, then KVM_REQ_STEAL_UPDATE (steal time on). */
void vt_kvm_x86_load(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr)
{
	V(m)->vcpu_load(m, s, v, pcpu, tr);
	walias_flush(s, v); /* more than the TLB loses (VMX flushes on a new pCPU, SVM takes a new ASID): sound */
	if (m->opt[VT_OPT_PV_TLB_FLUSH])
		vt_kvm_make_request(s, v, VT_REQ_STEAL_UPDATE, tr);
}

/* Only the steal-time protocol tells a preempted vCPU (vcpu->preempted) from one back in userspace. */
bool vt_kvm_x86_tracks_thread(const struct vt_model *m)
{
	return m->opt[VT_OPT_PV_TLB_FLUSH] != 0;
}

/* ---- steal time and the paravirtual TLB flush (x86.c) ------------------ */

static uint8_t *st_guest(struct vt_state *s, int v)
{
	return &s->vcpu[v].g.x86.st_preempted;
}

/*
 * kvm_steal_time_set_preempted, from kvm_arch_vcpu_put when vcpu->preempted
 * (the thread was preempted inside KVM_RUN, not back in userspace): mark the
 * vCPU preempted in KVM's copy and in the guest's steal-time byte, which
 * lets the guest's flush_tlb_multi leave it a KVM_VCPU_FLUSH_TLB instead of
 * an IPI.  Since 8c6de56a42e0 a vCPU already marked is left alone: writing
 * KVM_VCPU_PREEMPTED again would erase a flag set since.
 */
static void steal_time_set_preempted(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	if (x->st_preempted) {
		if (vt_fixed(m, VT_FIX_X86_PV_PREEMPTED_ONCE)) {
			vt_trace_note(tr, v, -1, "kvm_steal_time_set_preempted: already marked preempted; left alone");
			return;
		}
		vt_trace_reverted(tr, v, VT_FIX_X86_PV_PREEMPTED_ONCE,
				  "kvm_steal_time_set_preempted writes KVM_VCPU_PREEMPTED again, over the guest's byte");
	}
	x->st_preempted = KVM_VCPU_PREEMPTED;
	*st_guest(s, v) = KVM_VCPU_PREEMPTED;
	vt_trace_note(tr, v, -1, "kvm_steal_time_set_preempted: steal_time.preempted = KVM_VCPU_PREEMPTED");
}

/*
 * record_steal_time (KVM_REQ_STEAL_UPDATE, in vcpu_enter_guest after the TLB
 * flush requests): clear the preempted byte and, if the guest left
 * KVM_VCPU_FLUSH_TLB in it, kvm_vcpu_flush_tlb_guest.  Since b043138246a4 one
 * atomic xchg on the guest's byte.  Before it: read the steal-time area into
 * KVM's copy, xchg the copy, flush, and write the copy back.  With fine
 * phases the rest of the entry (before b043138246a4, the write-back first)
 * is a phase of its own, so the guest can act in between.  Returns true
 * when the entry may go on in this step.
 */
static bool record_steal_time(const struct vt_model *m, struct vt_state *s, int v, bool one_phase,
			      struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	uint8_t st;
	if (vt_fixed(m, VT_FIX_X86_PV_FLUSH_XCHG)) {
		st = *st_guest(s, v);
		*st_guest(s, v) = 0;
		x->st_preempted = 0;
		vt_trace_note(tr, v, s->vcpu[v].pcpu, st & KVM_VCPU_FLUSH_TLB
				      ? "record_steal_time: xchg(steal_time.preempted, 0) has KVM_VCPU_FLUSH_TLB"
				      : "record_steal_time: xchg(steal_time.preempted, 0): no flush asked");
	} else {
		x->st_preempted = *st_guest(s, v);
		st = x->st_preempted;
		x->st_preempted = 0;
		vt_trace_reverted(tr, v, VT_FIX_X86_PV_FLUSH_XCHG,
				  st & KVM_VCPU_FLUSH_TLB
					  ? "record_steal_time reads steal_time into KVM's copy: KVM_VCPU_FLUSH_TLB"
					  : "record_steal_time reads steal_time into KVM's copy: no flush asked; the guest's "
					    "byte still says preempted until the write-back");
	}
	if (st & KVM_VCPU_FLUSH_TLB)
		flush_tlb_guest(m, s, v, tr);
	if (one_phase) {
		s->vcpu[v].phase = 1;
		return false;
	}
	return true;
}

/* The write-back of KVM's copy, before b043138246a4 (kvm_write_guest_cached). */
static void record_steal_time_writeback(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (*st_guest(s, v) & KVM_VCPU_FLUSH_TLB)
		vt_trace_reverted(tr, v, VT_FIX_X86_PV_FLUSH_XCHG,
				  "record_steal_time writes KVM's copy back over the guest's KVM_VCPU_FLUSH_TLB");
	*st_guest(s, v) = X(s, v)->st_preempted;
}

/* ---- option kvm-phases: the entry's last phases, page faults, invalidations ---- */

/*
 * vcpu_enter_guest after kvm_mmu_reload: the vcpu->mode handshake
 * (vt_kvm_entry_step), then the vendor's VM entry.  A cancelled entry goes
 * back to the request block at the next step.
 */
static bool entry_handshake(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	for (;;) {
		enum vt_kvm_entry e = vt_kvm_entry_step(m, s, v, VT_FIX_X86_ENTRY_MODE_MB, tr);
		if (e == VT_KVM_ENTRY_IN) {
			V(m)->run(m, s, v, tr);
			return true;
		}
		if (e == VT_KVM_ENTRY_CANCEL || one_phase)
			return false;
	}
}

/* The S entries of the guest-physical page of S entry j (kvm_memory_slot + gfn). */
static uint64_t gpa_entries(const struct vt_model *m, int j)
{
	return m->s_gpa[j];
}

/* What the primary MMU maps now (hva -> pfn), over S, for vm. */
static uint64_t host_pte(const struct vt_model *m, const struct vt_state *s, int vm)
{
	return ((m->init_s2 & m->s_vm[vm]) ^ s->vm[vm].h.x86.host_flip) & m->s_vm[vm];
}

/* The first S entry of (vm, gpa), -1 if the model has none. */
static int gpa_index(const struct vt_model *m, int vm, uint64_t gpa)
{
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].vm == vm && m->s2[j].gpa == gpa)
			return j;
	return -1;
}

/* kvm_faultin_pfn: mmu_seq = kvm->mmu_invalidate_seq; smp_rmb(). */
static void fault_sample(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	x->fault_seq = XV(m, s, v)->inval_seq;
	x->fault_pfn = -1;
	x->fault_phase = VT_KVM_FAULT_SAMPLED;
	if (tr && !tr->no_records) {
		char buf[96];
		snprintf(buf, sizeof(buf), "kvm_faultin_pfn: samples mmu_invalidate_seq = %u", (unsigned)x->fault_seq);
		vt_trace_note(tr, v, s->vcpu[v].pcpu, vt_trace_strdup(tr, buf));
	}
}

/*
 * One phase of the page fault (kvm_tdp_page_fault -> direct_page_fault;
 * FNAME(page_fault) under shadow paging): resolve the pfn outside mmu_lock
 * (__kvm_faultin_pfn: whatever the primary MMU maps now), then under
 * mmu_lock is_page_fault_stale -> mmu_invalidate_retry_gfn, and install
 * the mapping or retry (RET_PF_RETRY: the guest re-executes the access and
 * faults again, sampling anew).  Without one_phase, every phase until the
 * fault is done or must retry.  Returns true when the fault is done.
 */
static bool page_fault(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	struct vt_kvm_x86_vcpu *x = X(s, v);
	struct vt_kvm_x86_vm *xv = XV(m, s, v);
	int vm = m->vcpu_vm[v];
	int p = s->vcpu[v].pcpu;
	uint64_t gfn = gpa_entries(m, x->fault_s);
	for (;;) {
		if (x->fault_phase == VT_KVM_FAULT_RETRY) {
			vt_trace_note(tr, v, p, "the guest re-executes the access: EPT violation again (kvm_mmu_page_fault)");
			fault_sample(m, s, v, tr);
		} else if (x->fault_phase == VT_KVM_FAULT_SAMPLED) {
			uint64_t pfn = host_pte(m, s, vm) & gfn;
			if (!pfn) {
				/* hva_to_pfn would fault the page back in; the model has no page to give it */
				vt_trace_note(tr, v, p, "__kvm_faultin_pfn: the host maps no page there (reclaimed): RET_PF_RETRY");
				x->fault_phase = VT_KVM_FAULT_RETRY;
				return false;
			}
			x->fault_pfn = (int8_t)__builtin_ctzll(pfn);
			x->fault_phase = VT_KVM_FAULT_RESOLVED;
			if (tr && !tr->no_records) {
				char buf[96];
				snprintf(buf, sizeof(buf), "__kvm_faultin_pfn: outside mmu_lock, resolves HPA 0x%llx",
					 (unsigned long long)m->s2[x->fault_pfn].hpa);
				vt_trace_note(tr, v, p, vt_trace_strdup(tr, buf));
			}
		} else {
			/* write_lock(&kvm->mmu_lock); is_page_fault_stale -> mmu_invalidate_retry_gfn */
			bool retry = false;
			if (xv->inval_in_progress && (xv->inval_range & gfn)) {
				if (vt_fixed(m, VT_FIX_X86_FAULT_RETRY_IN_PROGRESS)) {
					vt_trace_note(tr, v, p, "mmu_invalidate_retry_gfn: an invalidation of the GFN is in progress");
					retry = true;
				} else {
					vt_trace_reverted(tr, v, VT_FIX_X86_FAULT_RETRY_IN_PROGRESS,
							  "mmu_invalidate_in_progress is not checked: only the sequence");
				}
			}
			if (!retry && xv->inval_seq != x->fault_seq) {
				if (vt_fixed(m, VT_FIX_X86_FAULT_RETRY_SEQ)) {
					vt_trace_note(tr, v, p, "mmu_invalidate_retry_gfn: mmu_invalidate_seq moved");
					retry = true;
				} else {
					vt_trace_reverted(tr, v, VT_FIX_X86_FAULT_RETRY_SEQ, "mmu_invalidate_seq is not compared");
				}
			}
			if (retry) {
				vt_trace_note(tr, v, p, "RET_PF_RETRY: back to the guest, which will fault again");
				x->fault_phase = VT_KVM_FAULT_RETRY;
				x->fault_pfn = -1;
				return false;
			}
			s->vm[vm].s2 = (s->vm[vm].s2 & ~gfn) | VT_BIT(x->fault_pfn);
			x->fault_phase = VT_KVM_FAULT_NONE;
			x->fault_pfn = -1;
			vt_trace_note(tr, v, p, "kvm_tdp_mmu_map: installs the mapping under mmu_lock");
			return true;
		}
		if (one_phase)
			return false;
	}
}

/* kvm_mmu_page_fault of a 'fault GPA' that exited: the first phase samples the sequence. */
static void handle_fault(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 struct vt_trace *tr)
{
	X(s, v)->fault_s = (int8_t)gpa_index(m, m->vcpu_vm[v], op->a);
	fault_sample(m, s, v, tr);
}

/*
 * vcpu_enter_guest: the request block in KVM's order, kvm_mmu_reload, then
 * the vendor's VM entry.
 */
bool vt_kvm_x86_enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	if (X(s, v)->fault_phase != VT_KVM_FAULT_NONE) {
		/* a page fault in progress: its phases first (kvm_mmu_page_fault, then the entry) */
		bool phased = one_phase && m->opt[VT_OPT_KVM_PHASES]; /* atomic without kvm-phases: nothing races it */
		if (!page_fault(m, s, v, phased, tr) || phased)
			return false;
	}
	if (s->vcpu[v].entry != VT_ENTRY_NONE)
		return entry_handshake(m, s, v, one_phase, tr);
again:
	if (s->vcpu[v].phase == 1) {
		/*
		 * After record_steal_time (and, before b043138246a4, its
		 * write-back).  Requests made in between (a remote flush, a
		 * Hyper-V flush) are not lost: kvm_vcpu_exit_request, after
		 * vcpu->mode = IN_GUEST_MODE, cancels the entry and
		 * vcpu_enter_guest services them, so the request block runs
		 * again below.
		 */
		if (!vt_fixed(m, VT_FIX_X86_PV_FLUSH_XCHG))
			record_steal_time_writeback(m, s, v, tr);
		s->vcpu[v].phase = 0;
	}
	if (vt_kvm_check_request(s, v, VT_REQ_MMU_RELOAD, tr))
		mmu_unload(s, v, tr);
	if (vt_kvm_check_request(s, v, VT_REQ_MMU_FREE_OBSOLETE_ROOTS, tr))
		mmu_free_obsolete_roots(m, s, v, tr);
	if (vt_kvm_check_request(s, v, VT_REQ_MMU_SYNC, tr))
		mmu_sync_roots(m, s, v, tr);
	(void)vt_kvm_check_request(s, v, VT_REQ_LOAD_MMU_PGD, tr);
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH, tr))
		flush_tlb_all(m, s, v, tr);
	/* kvm_service_local_tlb_flush_requests */
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH_CURRENT, tr)) {
		V(m)->flush_tlb_current(m, s, v, tr);
		walias_flush(s, v);
	}
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr))
		flush_tlb_guest(m, s, v, tr);
	/* Hyper-V's precise flush, or a full one when it cannot be precise */
	if (vt_kvm_check_request(s, v, VT_REQ_HV_TLB_FLUSH, tr) && !hv_vcpu_flush_tlb(m, s, v, tr))
		flush_tlb_guest(m, s, v, tr);
	if (vt_kvm_check_request(s, v, VT_REQ_STEAL_UPDATE, tr)) {
		if (!record_steal_time(m, s, v, one_phase, tr))
			return false;
		if (!vt_fixed(m, VT_FIX_X86_PV_FLUSH_XCHG))
			record_steal_time_writeback(m, s, v, tr);
	}
	mmu_reload(m, s, v, tr);
	/*
	 * kvm_vcpu_exit_request: a request made while servicing the others
	 * (kvm_flush_remote_tlbs from a sync also asks the caller) cancels the
	 * entry, and the loop services it before the guest runs.
	 */
	if (vt_kvm_check_request(s, v, VT_REQ_TLB_FLUSH, tr))
		flush_tlb_all(m, s, v, tr);
	if (m->opt[VT_OPT_KVM_PHASES]) {
		if (one_phase) {
			(void)vt_kvm_entry_step(m, s, v, VT_FIX_X86_ENTRY_MODE_MB, tr);
			return false;
		}
		/* all phases at once: the request block again after a cancelled entry */
		for (;;) {
			enum vt_kvm_entry e = vt_kvm_entry_step(m, s, v, VT_FIX_X86_ENTRY_MODE_MB, tr);
			if (e == VT_KVM_ENTRY_CANCEL)
				goto again;
			if (e == VT_KVM_ENTRY_IN)
				break;
		}
	}
	V(m)->run(m, s, v, tr);
	return true;
}

void vt_kvm_x86_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	V(m)->exit(m, s, v, tr);
}

/*
 * kvm_arch_vcpu_put: the steal-time mark of a vCPU preempted inside KVM_RUN
 * (since 54aa83c90198; before it, of every vCPU put).
 */
void vt_kvm_x86_put(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (!m->opt[VT_OPT_PV_TLB_FLUSH])
		return;
	if (s->vcpu[v].in_run) {
		steal_time_set_preempted(m, s, v, tr);
	} else if (!vt_fixed(m, VT_FIX_X86_PV_USER_NOT_PREEMPTED)) {
		vt_trace_reverted(tr, v, VT_FIX_X86_PV_USER_NOT_PREEMPTED,
				  "a vCPU going back to userspace is marked preempted too");
		steal_time_set_preempted(m, s, v, tr);
	}
}

/*
 * __set_sregs / __set_sregs2 (KVM_SET_SREGS{,2}, KVM_SYNC_X86_SREGS): a
 * change of CR3, EFER, CR0 or CR4 sets mmu_reset_needed, and then
 * kvm_mmu_reset_context and, since 4346db6e6e7a, KVM_REQ_TLB_FLUSH_GUEST.
 * The ioctl's own vcpu_load/vcpu_put are not modelled: the VMM is taken to
 * run it on the pCPU the vCPU last ran on (PAE PDPTRs are not modelled).
 */
void vt_kvm_x86_vmm_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	const struct vt_x86_regs *o = &old->x86, *n = R(s, v);
	if (op->code == VT_X86_SMM) {
		/*
		 * kvm_vcpu_ioctl_x86_set_vcpu_events with KVM_VCPUEVENT_VALID_SMM:
		 * a change of events.smi.smm calls kvm_smm_changed, which resets
		 * the MMU context (the role's smm bit picks another root).  No
		 * flush: the root loaded at entry is flushed by kvm_mmu_load.
		 */
		if (o->smm == n->smm) {
			vt_trace_note(tr, v, -1, "KVM_SET_VCPU_EVENTS: SMM unchanged");
			return;
		}
		vt_trace_note(tr, v, -1, n->smm ? "KVM_SET_VCPU_EVENTS: kvm_smm_changed(entering SMM)"
						: "KVM_SET_VCPU_EVENTS: kvm_smm_changed(leaving SMM)");
		mmu_reset_context(s, v, tr);
		if (V(m)->tdp)
			tdp_tidy(m, s, m->vcpu_vm[v]);
		return;
	}
	if (o->cr0 == n->cr0 && o->cr3 == n->cr3 && o->cr4 == n->cr4 && o->efer == n->efer) {
		vt_trace_note(tr, v, -1, "__set_sregs: no paging register changed: no MMU reset");
		return;
	}
	mmu_reset_context(s, v, tr);
	if (vt_fixed(m, VT_FIX_X86_SREGS_FLUSH))
		vt_kvm_make_request(s, v, VT_REQ_TLB_FLUSH_GUEST, tr);
	else
		vt_trace_reverted(tr, v, VT_FIX_X86_SREGS_FLUSH, "__set_sregs relies on the MMU reset to flush");
}

bool vt_kvm_x86_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old)
{
	if (op->flags & VT_OPF_FEP)
		return true;
	if (op->code == VT_X86_INIT)
		return true; /* INIT always exits */
	if (op->code == VT_X86_SHOOTDOWN)
		return false; /* a steal-time cmpxchg, or an ICR write: no TLB decision of KVM's follows */
	if (op->code == VT_X86_HV_FLUSH)
		return true; /* a hypercall (VMCALL/VMMCALL) */
	if (op->code == VT_X86_FAULT) {
		/* an EPT violation / #NPF only where KVM's map has no entry for the page */
		int j = gpa_index(m, m->vcpu_vm[v], op->a);
		return j >= 0 && !(s->vm[m->vcpu_vm[v]].s2 & m->s_gpa[j]);
	}
	return V(m)->intercepts(m, s, v, op, old);
}

void vt_kvm_x86_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	switch (op->code) {
	case VT_X86_MOV_CR3:
		set_cr3(m, s, v, op, old, tr);
		break;
	case VT_X86_MOV_CR4:
		post_set_cr4(m, s, v, old->x86.cr4, R(s, v)->cr4, tr);
		break;
	case VT_X86_MOV_CR0:
		post_set_cr0(m, s, v, old->x86.cr0, R(s, v)->cr0, tr);
		break;
	case VT_X86_INVLPG:
		mmu_invlpg(m, s, v, op->a, tr);
		break;
	case VT_X86_INVPCID:
		handle_invpcid(m, s, v, op, tr);
		break;
	case VT_X86_INIT:
		vcpu_reset_init(m, s, v, old, tr);
		break;
	case VT_X86_HV_FLUSH:
		hv_flush_tlb(m, s, v, op, tr);
		break;
	case VT_X86_FAULT:
		handle_fault(m, s, v, op, tr);
		break;
	case VT_OP_LINK:
	case VT_OP_UNLINK:
		mmu_pte_write_upper(m, s, v, op, tr);
		break;
	case VT_X86_VMPTRLD:
	case VT_X86_VMLAUNCH:
	case VT_X86_INVVPID:
	case VT_X86_INVEPT:
		vt_nvmx_handle(m, s, v, op, tr);
		break;
	case VT_X86_VMEXIT:
		V(m)->nested_vmexit(m, s, v, op, tr);
		break;
	case VT_X86_VMRUN:
	case VT_X86_INVLPGA:
		vt_nsvm_handle(m, s, v, op, tr);
		break;
	default:
		break;
	}
}

/* ---- TDP MMU zaps (mmu/mmu.c, mmu/tdp_mmu.c) --------------------------- */

/* kvm_flush_remote_tlbs from a zap: KVM_REQ_TLB_FLUSH to every vCPU of the VM, kicking those in the guest. */
static void zap_flush_remote(const struct vt_model *m, struct vt_state *s, int vm, const char *why,
			     struct vt_trace *tr)
{
	vt_trace_note(tr, -1, -1, why);
	vt_kvm_make_all_cpus_request(m, s, vm, VT_REQ_TLB_FLUSH, tr);
}

/* Pages of a zap's range: page-aligned GPAs from a to b (the parser keeps it to VT_ZAP_PAGES). */
static int zap_pages(const struct vt_op *op)
{
	return (int)(((op->b & ~0xfffull) - (op->a & ~0xfffull)) >> 12) + 1;
}

#define ZAP_FLUSH 1u     /* the flush owed so far (since a835429cda91: carried from root to root) */
#define ZAP_LOCAL 2u     /* before a835429cda91: this root's own flush_needed */

/*
 * kvm_zap_gfn_range -> kvm_tdp_mmu_zap_gfn_range (v5.12; later
 * kvm_tdp_mmu_zap_leafs): for_each_tdp_mmu_root_yield_safe walks the roots
 * newest first, holding a reference on the one it is in, and zap_gfn_range
 * walks its pages in order, zapping each present SPTE.  At each page after
 * the first of a root (tdp_mmu_iter_cond_resched needs forward progress
 * since the root's walk began), it may yield: flush what it owes, drop
 * mmu_lock (cond_resched_rwlock_write), take it again.  With fine phases
 * it yields at every such point, each a phase: whatever another thread does
 * while the lock is dropped (a vCPU fault, the MMU notifier, another zap)
 * comes in between.  At the end kvm_zap_gfn_range flushes what is owed.
 *
 * Before a835429cda91 each root's zap_gfn_range kept its own flush_needed,
 * starting false, and the caller OR-ed them: a yield in a later root
 * flushed only that root's zaps, and those of the roots before stayed
 * unflushed while the lock was dropped.  The host program's phase counter
 * is 1 + (root id << 4) + the page the walk resumes at.
 */
static bool tdp_zap_gfn_range(const struct vt_model *m, struct vt_state *s, const struct vt_op *op,
			      bool one_phase, struct vt_trace *tr)
{
	int vm = op->target;
	struct vt_kvm_x86_vm *xv = &s->vm[vm].h.x86;
	bool fixed = vt_fixed(m, VT_FIX_X86_TDP_ZAP_YIELD_FLUSH);
	int npages = zap_pages(op);
	int pos = 0, k = 0;
	bool resumed = false; /* the walk goes on from the page it yielded at */
	if (s->host_phase == 0) {
		xv->zap_flush = 0;
		vt_trace_note(tr, -1, -1,
			      "kvm_zap_gfn_range: kvm_tdp_mmu_zap_gfn_range walks every root, newest first, yielding on "
			      "contention");
	} else {
		unsigned id = (unsigned)(s->host_phase - 1) >> 4;
		k = (s->host_phase - 1) & 15;
		pos = tdp_pos(s, vm, id);
		resumed = true;
		vt_trace_note(tr, -1, -1, "zap_gfn_range: mmu_lock taken again; the walk resumes in the root it holds");
		if (pos < 0) /* cannot happen: the walk holds the root */
			return true;
	}
	struct vt_kvm_tdp_root *rs = xv->roots;
	for (; pos < VT_KVM_TDP_ROOTS && rs[pos].used; pos++, k = 0) {
		if (k == 0 && !fixed)
			xv->zap_flush &= (uint8_t)~ZAP_LOCAL;
		for (; k < npages; k++) {
			if (k > 0 && one_phase && !resumed) {
				/* tdp_mmu_iter_cond_resched: flush what is owed, then drop mmu_lock. */
				unsigned owed = fixed ? ZAP_FLUSH : ZAP_LOCAL;
				if (xv->zap_flush & owed) {
					zap_flush_remote(m, s, vm, "tdp_mmu_iter_cond_resched: kvm_flush_remote_tlbs before yielding",
							 tr);
					xv->zap_flush &= (uint8_t)~owed;
				} else if (!fixed && (xv->zap_flush & ZAP_FLUSH)) {
					vt_trace_reverted(tr, -1, VT_FIX_X86_TDP_ZAP_YIELD_FLUSH,
							  "the yield flushes only this root's zaps: those of the roots before "
							  "stay unflushed while mmu_lock is dropped");
				}
				vt_trace_note(tr, -1, -1, "tdp_mmu_iter_cond_resched: mmu_lock dropped (cond_resched_rwlock_write)");
				s->host_phase = (uint8_t)(1 + (rs[pos].id << 4) + k);
				return false;
			}
			resumed = false;
			if (tdp_zap_gfn(m, s, vm, &rs[pos], (op->a & ~0xfffull) + ((uint64_t)k << 12)))
				xv->zap_flush |= fixed ? ZAP_FLUSH : ZAP_LOCAL;
		}
		if (!fixed && (xv->zap_flush & ZAP_LOCAL))
			xv->zap_flush |= ZAP_FLUSH; /* flush |= zap_gfn_range(...) */
	}
	if (xv->zap_flush & ZAP_FLUSH)
		zap_flush_remote(m, s, vm, "kvm_zap_gfn_range: SPTEs were zapped: kvm_flush_remote_tlbs", tr);
	xv->zap_flush = 0;
	s->host_phase = 0; /* the walk lets go of its root before the tidy */
	tdp_tidy(m, s, vm);
	return true;
}

/*
 * kvm_recover_nx_lpages (the NX huge page recovery worker): zap the shadow
 * pages that split huge pages, here the TDP MMU's for the range, in every
 * root (kvm_tdp_mmu_zap_gfn_range without yielding, 33a3164161fc), then
 * kvm_mmu_remote_flush_or_zap with what the zap returned.  Before
 * 048f49809c52 the TDP MMU's answer was dropped: kvm_mmu_commit_zap_page
 * flushed only for the legacy MMU's pages, so the TDP MMU's zaps were
 * never flushed.  The pages stay mapped by the host: the SPTEs come back
 * on the next access.
 */
static void recover_nx_lpages(const struct vt_model *m, struct vt_state *s, const struct vt_op *op,
			      struct vt_trace *tr)
{
	int vm = op->target;
	struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
	bool flush = false;
	for (int pos = 0; pos < VT_KVM_TDP_ROOTS && rs[pos].used; pos++)
		for (int k = 0; k < zap_pages(op); k++)
			flush |= tdp_zap_gfn(m, s, vm, &rs[pos], (op->a & ~0xfffull) + ((uint64_t)k << 12));
	vt_trace_note(tr, -1, -1, "kvm_recover_nx_lpages: the TDP MMU zaps the split huge page's SPTEs in every root");
	if (!flush) {
		vt_trace_note(tr, -1, -1, "kvm_recover_nx_lpages: no SPTE was there: nothing to flush");
	} else if (vt_fixed(m, VT_FIX_X86_TDP_NX_ZAP_FLUSH)) {
		zap_flush_remote(m, s, vm, "kvm_mmu_remote_flush_or_zap: SPTEs were zapped: kvm_flush_remote_tlbs", tr);
	} else {
		vt_trace_reverted(tr, -1, VT_FIX_X86_TDP_NX_ZAP_FLUSH,
				  "the TDP MMU zap's 'flush needed' is dropped: kvm_mmu_commit_zap_page flushes nothing");
	}
	tdp_tidy(m, s, vm);
}

/*
 * kvm_mmu_zap_all_fast (memslot changes, kvm_mmu_invalidate_mmio_sptes):
 * under mmu_lock every root is marked invalid (kvm_tdp_mmu_invalidate_all_roots)
 * and every vCPU gets KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (a WAIT request: those
 * in the guest are kicked out before it returns); then
 * kvm_tdp_mmu_zap_invalidated_roots zaps the invalid roots' SPTEs, without a
 * flush of its own: no vCPU can enter on an obsolete root, and the root a
 * vCPU loads instead is flushed by kvm_mmu_load.  (Before 2022 the request
 * was KVM_REQ_MMU_RELOAD, which freed every root; with one root per role
 * the two agree.)
 */
static void mmu_zap_all_fast(const struct vt_model *m, struct vt_state *s, int vm, struct vt_trace *tr)
{
	struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
	for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++)
		rs[i].valid = 0;
	vt_trace_note(tr, -1, -1, "kvm_mmu_zap_all_fast: every TDP root invalid; KVM_REQ_MMU_FREE_OBSOLETE_ROOTS to every vCPU");
	vt_kvm_make_all_cpus_request(m, s, vm, VT_REQ_MMU_FREE_OBSOLETE_ROOTS, tr);
	for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++)
		rs[i].zapped = s->vm[vm].s2;
	vt_trace_note(tr, -1, -1, "kvm_tdp_mmu_zap_invalidated_roots: their SPTEs are zapped (no flush)");
	tdp_tidy(m, s, vm);
}

/*
 * A host change to the stage-2 map (kvm_unmap_gfn_range via the MMU
 * notifier): zap the EPT/NPT or shadow entries for the page, then
 * kvm_flush_remote_tlbs, which on x86 is KVM_REQ_TLB_FLUSH to every vCPU
 * plus IPIs.  When that returns the host may reuse the page, so the oracle
 * stops permitting the old mapping.
 */
/* The zap of kvm_unmap_gfn_range: the EPT/NPT entries of the GPA, and (shadow) every SPTE that maps it. */
static uint64_t unmap_gfn_range(const struct vt_model *m, struct vt_state *s, int vm, uint64_t gpa)
{
	uint64_t old = 0;
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].vm == vm && m->s2[j].gpa == gpa)
			old |= VT_BIT(j);
	old &= s->vm[vm].s2;
	s->vm[vm].s2 &= ~old;
	uint64_t ptes = 0;
	for (int p = 0; p < m->np; p++)
		if (m->pte[p].vm == vm && m->pte[p].gpa == gpa)
			ptes |= VT_BIT(p);
	for (int v = m->vm[vm].first_vcpu; v < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; v++) {
		struct vt_kvm_x86_vcpu *x = X(s, v);
		x->root.content &= ~ptes;
		for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
			x->prev[i].content &= ~ptes;
	}
	for (int t = 0; t < m->nspaces; t++)
		s->vm[vm].h.x86.sp[t] &= ~ptes;
	return old;
}

/*
 * option kvm-phases: a host unmap or remap as the primary MMU drives it
 * through the MMU notifier (virt/kvm/kvm_main.c), one phase per step
 * (s->host_phase is the next phase, n the VM's vCPUs, R the phases of
 * kvm_make_all_cpus_request, vt_kvm_request_phases):
 *   0          invalidate_range_start: mmu_lock, kvm_mmu_invalidate_begin
 *              (mmu_invalidate_in_progress++, the range), kvm_unmap_gfn_range
 *   1 .. R     kvm_flush_remote_tlbs (if anything was zapped): x86's
 *              kvm_arch_flush_remote_tlbs has no Hyper-V flush here
 *              (-EOPNOTSUPP), so kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH)
 *              phase by phase, its wait last; then mmu_lock is dropped
 *   R + 1      the primary MMU changes its PTE and frees the old page (a
 *              remap maps the new one; KVM maps it at the next fault)
 *   R + 2      invalidate_range_end: kvm_mmu_invalidate_end
 *              (mmu_invalidate_seq++, mmu_invalidate_in_progress--)
 */
static bool host_op_phased(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			   struct vt_trace *tr)
{
	int vm = op->target;
	struct vt_kvm_x86_vm *xv = &s->vm[vm].h.x86;
	int r = vt_kvm_request_phases(m, vm);
	int j0 = gpa_index(m, vm, op->a);
	uint64_t gfn = j0 >= 0 ? m->s_gpa[j0] : 0;
	for (;;) {
		int ph = s->host_phase;
		if (ph == 0) {
			xv->inval_range = xv->inval_in_progress ? xv->inval_range | gfn : gfn;
			xv->inval_in_progress++;
			uint64_t zapped = unmap_gfn_range(m, s, vm, op->a);
			vt_trace_note(tr, -1, -1,
				      zapped ? "invalidate_range_start: mmu_invalidate_in_progress++; kvm_unmap_gfn_range zaps "
					       "the mapping; kvm_flush_remote_tlbs"
					     : "invalidate_range_start: mmu_invalidate_in_progress++; KVM maps nothing there: "
					       "no flush");
			s->host_phase = (uint8_t)(zapped ? 1 : r + 1);
		} else if (ph <= r) {
			if (!vt_kvm_request_phase(m, s, vm, VT_REQ_TLB_FLUSH, true, ph - 1, tr))
				return false; /* the wait: an IPI is not acknowledged yet */
			s->host_phase++;
		} else if (ph == r + 1) {
			uint64_t old = host_pte(m, s, vm) & gfn;
			uint64_t neu = op->code == VT_OP_HOST_REMAP ? VT_BIT(op->b) : 0;
			uint64_t pte = (host_pte(m, s, vm) & ~gfn) | neu;
			xv->host_flip = (pte ^ (m->init_s2 & m->s_vm[vm])) & m->s_vm[vm];
			s->s_perm = (s->s_perm & ~(old & ~neu)) | neu;
			vt_trace_note(tr, -1, -1,
				      neu ? "the primary MMU maps the new page and frees the old one"
					  : "the primary MMU clears its PTE and frees the page");
			s->host_phase++;
		} else {
			xv->inval_seq++;
			xv->inval_in_progress--;
			vt_trace_note(tr, -1, -1, "invalidate_range_end: mmu_invalidate_seq++, mmu_invalidate_in_progress--");
			return true;
		}
		if (one_phase)
			return false;
	}
}

bool vt_kvm_x86_host_blocked(const struct vt_model *m, const struct vt_state *s)
{
	if (!m->opt[VT_OPT_KVM_PHASES] || !s->host_phase)
		return false;
	int vm = s->host_cur.target;
	return s->host_phase == vt_kvm_request_phases(m, vm) && vt_kvm_request_waiting(m, s, vm);
}

bool vt_kvm_x86_host_op(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr)
{
	if (op->code == VT_OP_HOST_ZAP)
		return tdp_zap_gfn_range(m, s, op, one_phase, tr);
	if (op->code == VT_OP_HOST_NX_RECOVER) {
		recover_nx_lpages(m, s, op, tr);
		return true;
	}
	if (op->code == VT_OP_HOST_ZAP_ALL) {
		mmu_zap_all_fast(m, s, op->target, tr);
		return true;
	}
	if (m->opt[VT_OPT_KVM_PHASES])
		return host_op_phased(m, s, op, one_phase, tr);
	int vm = op->target;
	/* the primary MMU's own map follows (only a page fault reads it) */
	int j0 = gpa_index(m, vm, op->a);
	if (j0 >= 0) {
		uint64_t pte = (host_pte(m, s, vm) & ~m->s_gpa[j0]) | (op->code == VT_OP_HOST_REMAP ? VT_BIT(op->b) : 0);
		s->vm[vm].h.x86.host_flip = (pte ^ (m->init_s2 & m->s_vm[vm])) & m->s_vm[vm];
	}
	/* TDP: kvm_tdp_mmu_unmap_gfn_range zaps the page in every root; only a present SPTE asks for the flush. */
	bool present = !V(m)->tdp;
	if (V(m)->tdp) {
		struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
		for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++)
			present |= tdp_zap_gfn(m, s, vm, &rs[i], op->a);
	}
	uint64_t old = 0;
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].vm == vm && m->s2[j].gpa == op->a)
			old |= VT_BIT(j);
	old &= s->vm[vm].s2;
	s->vm[vm].s2 &= ~old;
	if (op->code == VT_OP_HOST_REMAP) {
		s->vm[vm].s2 |= VT_BIT(op->b);
		s->s_perm |= VT_BIT(op->b);
		/* option lazy-sptes: the new page gets an SPTE only when a vCPU faults on it */
		if (V(m)->tdp && m->opt[VT_OPT_LAZY_SPTES]) {
			struct vt_kvm_tdp_root *rs = s->vm[vm].h.x86.roots;
			for (int i = 0; i < VT_KVM_TDP_ROOTS && rs[i].used; i++)
				rs[i].zapped |= VT_BIT(op->b);
		}
	}
	/* Shadow paging: the rmap zap drops every SPTE that maps the page (an L2's without EPT12 too). */
	uint64_t ptes = 0;
	for (int p = 0; p < m->np; p++) {
		const struct vt_vm *pv = &m->vm[m->pte[p].vm];
		bool mine = m->pte[p].vm == vm || (pv->nested_of == vm + 1 && !pv->ept12);
		if (mine && m->pte[p].gpa == op->a)
			ptes |= VT_BIT(p);
	}
	for (int v = m->vm[vm].first_vcpu; v < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; v++) {
		struct vt_kvm_x86_vcpu *x = X(s, v);
		x->root.content &= ~ptes;
		for (int i = 0; i < VT_KVM_NUM_PREV_ROOTS; i++)
			x->prev[i].content &= ~ptes;
	}
	for (int t = 0; t < m->nspaces; t++) {
		s->vm[vm].h.x86.sp[t] &= ~ptes;
		s->vm[vm].h.x86.hidden[t] &= ~ptes;
	}
	if (m->has_nested && vt_nested_host_unmap(m, s, old))
		present = true; /* shadow EPT02 entries of an L2 page resolved through it were zapped */
	if (present) {
		vt_trace_note(tr, -1, -1, "kvm_flush_remote_tlbs: KVM_REQ_TLB_FLUSH to every vCPU, kicking those in the guest");
		vt_kvm_make_all_cpus_request(m, s, vm, VT_REQ_TLB_FLUSH, tr);
	} else {
		vt_trace_note(tr, -1, -1, "kvm_unmap_gfn_range: no root had an SPTE for the page: no flush");
	}
	s->s_perm &= ~(old & ~(op->code == VT_OP_HOST_REMAP ? VT_BIT(op->b) : 0));
	if (V(m)->tdp)
		tdp_tidy(m, s, vm);
	return true;
}

/* The only pCPU index x86 KVM keeps per vCPU: where its VMCS/VMCB last ran. */
void vt_kvm_x86_permute_pcpus(const struct vt_model *m, struct vt_state *s, const int8_t *map)
{
	for (int v = 0; v < m->nvcpus; v++)
		if (X(s, v)->loaded_cpu >= 0)
			X(s, v)->loaded_cpu = map[X(s, v)->loaded_cpu];
}

/* The symmetry key's part of the renaming above: the vCPUs whose VMCS/VMCB last ran on p. */
void vt_kvm_x86_pcpu_refs(const struct vt_model *m, const struct vt_state *s, uint64_t *refs)
{
	for (int v = 0; v < m->nvcpus; v++) {
		int p = s->vcpu[v].h.x86.loaded_cpu;
		if (p >= 0 && p < m->npcpus)
			refs[p] |= VT_BIT(v);
	}
}

/* The walk through KVM's shadow tables (vt_kvm_x86_walk without TDP). */
static void shadow_walk(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
			uint64_t *s2)
{
	struct vt_set none = {{0}};
	*u = none;
	*s2 = 0;
	struct vt_kvm_root *r = &X(s, v)->root;
	const struct vt_gctx g = w->g;
	if (!g.paging || !root_valid(r) || r->space < 0 || r->space != g.space)
		return;
	/* Shadow page faults add what the guest maps now; unsync SPTEs stay. */
	r->content |= s->pt[r->space];
	uint64_t reach = r->content, in_tables = 0;
	VT_U64_FOREACH(tb, r->linked) {
		uint64_t *sp = &XV(m, s, v)->sp[tb];
		if (s->links[r->space] & (1u << tb))
			*sp |= s->pt[tb];
		in_tables |= *sp;
	}
	reach |= in_tables;
	/*
	 * A translation of a table's page is filled writable while no shadow
	 * page write-protects that page.  Only aliases in tables' shadow pages
	 * are tracked: those are the VM's (a root's own entries are per vCPU
	 * in the model, Q3), so every way one leaves is modelled with its flush.
	 */
	for (int t = 0; t < m->nspaces; t++)
		if (m->space[t].at && !(XV(m, s, v)->shadowed & (1u << t)))
			X(s, v)->walias |= in_tables & table_page_ptes(m, t);
	/* Shadow PTEs carry no global bit: KVM emulates global pages by syncing every root. */
	struct vt_set t = {{0}};
	VT_U64_FOREACH(p, reach) {
		int x = m->tix[g.ctx][p][0];
		if (x >= 0)
			vt_set_add(&t, (unsigned)x);
	}
	*u = vt_compose_s2(m, s, &t);
}

/* What a hardware walk returns: guest tables + EPT/NPT, or KVM's shadow tables. */
void vt_kvm_x86_walk(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		     uint64_t *s2)
{
	if (!V(m)->tdp) {
		shadow_walk(m, s, v, w, u, s2);
		return;
	}
	if (vt_nested_guest_mode(m, s, v)) {
		vt_nested_walk(m, s, v, w, u, s2);
		return;
	}
	vt_walk_2d(m, s, v, w, u, s2);
	/* The EPT/NPT walk goes through the vCPU's root: a zapped SPTE is not present (no negative caching). */
	const struct vt_kvm_tdp_root *r = tdp_root_of(m, s, v);
	if (r && r->zapped) {
		VT_U64_FOREACH(j, r->zapped)
			vt_set_clear(u, &m->u_s[j]);
		*s2 &= ~r->zapped;
	}
}

/*
 * A guest access whose walk meets a zapped SPTE in the vCPU's root: an EPT
 * violation (NPF on SVM), kvm_tdp_mmu_map puts the SPTE back, and the vCPU
 * re-enters (kvm_mmu_page_fault -> direct_page_fault).  Faults elsewhere
 * (a page the host still maps in every root) change nothing in the model.
 */
void vt_kvm_x86_access(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr)
{
	struct vt_kvm_tdp_root *r = tdp_root_of(m, s, v);
	if (!r || !r->zapped)
		return;
	int vai = vt_model_va_index(m, va);
	int vm = m->vcpu_vm[v];
	struct vt_set t = vt_live_vcpu(m, s, v);
	uint64_t need = 0;
	VT_SET_FOREACH(x, &t) {
		const struct vt_pte *pte = &m->pte[m->t[x].p];
		if (pte->va == vai)
			need |= s2_of_gpa(m, s, vm, pte->gpa);
	}
	need &= r->zapped;
	if (!need)
		return;
	int p = s->vcpu[v].pcpu;
	vt_trace_add(tr, VT_TR_EXIT, v, p, VT_OP_ACCESS, 0, 0, 0, NULL);
	m->hv->exit(m, s, v, tr);
	s->vcpu[v].run = VT_RUN_LOADED;
	s->vcpu[v].mode = VT_MODE_OUTSIDE;
	vt_trace_note(tr, v, p, "EPT/NPT violation: kvm_tdp_mmu_map puts the zapped SPTE back in the vCPU's root");
	r->zapped &= ~need;
	if (m->hv->enter(m, s, v, false, tr)) {
		s->vcpu[v].run = VT_RUN_GUEST;
		s->vcpu[v].mode = VT_MODE_IN_GUEST;
		vt_trace_note(tr, v, p, "enters the guest");
		/* The access is retried: its walk now finds the SPTE, and the TLB may keep what it returns. */
		struct vt_set u;
		uint64_t s2;
		struct vt_view w;
		vt_view_of(m, s, v, &w);
		vt_kvm_x86_walk(m, s, v, &w, &u, &s2);
		(void)m->hw->fill(m, s, p, &u, s2); /* no free tag slot: the settle reports the model limit */
	}
}
