/*
 * KVM's arm64 guest-TLB logic (arch/arm64/kvm/arm.c, vmid.c, mmu.c,
 * hyp/{vhe,nvhe}/tlb.c, hyp/pgtable.c), modelled decision by decision.
 * Each function names the KVM function it follows; docs/arm64.md and
 * docs/notes/kvm-arm64-ppc-source.md (Part A) record what was read.
 *
 * The hardware TLB is tagged by VMID, not by vCPU, so KVM has to provide the
 * per-vCPU private TLB the guest believes in:
 *   - HCR_EL2.FB (option fb, on in HCR_GUEST_FLAGS) broadcasts a guest's own
 *     local TLBIs, which covers a vCPU that moves between PEs;
 *   - kvm_arch_vcpu_load flushes the PE's stage-1 entries of the VMID (and
 *     its I-cache) when another vCPU of the VM ran there last
 *     (mmu->last_vcpu_ran);
 *   - the VMID allocator hands a VMID to another VM only after a rollover,
 *     which flushes every VMID everywhere (TLBI ALLE1IS);
 *   - stage-2 changes flush with broadcast TLBIs completed by DSB ISH; a
 *     range unmap (kvm_pgtable_stage2_unmap) may defer its leaves' TLBIs to
 *     one range flush (kvm_tlb_flush_vmid_range, with the arm64 core's
 *     __flush_tlb_range_op building the TLBI RIPAS2E1IS operands), but
 *     invalidates a zapped table entry before freeing its page.
 * KVM does not trap guest TLB maintenance (HCR_EL2.TTLB is clear), so no
 * guest operation exits.
 *
 * The host thread that runs a stage-2 change is not one of the modelled
 * pCPUs (VT_ARM64_ISSUER_HOST): only its own DSBs complete its TLBIs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64.h"
#include "hv/kvm.h"
#include "internal.h"
#include "vtlb/arm64.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/step.h"

/* KVM/arm64 makes no TLB-related vCPU request: kvm_arch_flush_remote_tlbs flushes and returns 0. */
static const char *const kvm_arm64_req_names[1] = {"KVM_REQ_?"};

static struct vt_kvm_arm64_global *G(struct vt_state *s)
{
	return &s->hg.arm64;
}

static struct vt_kvm_arm64_vm *MMU(struct vt_state *s, int vm)
{
	return &s->vm[vm].h.arm64;
}

static int vcpu_idx(const struct vt_model *m, int v)
{
	return v - m->vm[m->vcpu_vm[v]].first_vcpu;
}

/* Run one instruction on pCPU p (hyp code on that PE). */
static void insn(const struct vt_model *m, struct vt_state *s, int p, unsigned code, uint32_t key, uint64_t arg,
		 struct vt_trace *tr)
{
	vt_arm64_insn_as(m, s, p, p, code, key, arg, tr);
}

/* ---- the VMID allocator (vmid.c, since v5.17) ----------------------------- */

static unsigned num_user_vmids(const struct vt_model *m)
{
	return 1u << m->opt[VT_OPT_VMID_BITS];
}

static bool map_test(struct vt_state *s, unsigned idx)
{
	return (G(s)->vmid_map[idx / 8] >> (idx % 8)) & 1;
}

static void map_set(struct vt_state *s, unsigned idx)
{
	G(s)->vmid_map[idx / 8] |= (uint8_t)(1u << (idx % 8));
}

static bool vmid_eq(struct vt_kvm_vmid a, struct vt_kvm_vmid b)
{
	return a.gen == b.gen && a.idx == b.idx;
}

static bool vmid_zero(struct vt_kvm_vmid a)
{
	return a.gen == 0 && a.idx == 0;
}

/* vmid_gen_match */
static bool gen_match(struct vt_state *s, struct vt_kvm_vmid v)
{
	return v.gen == G(s)->gen;
}

/* find_next_zero_bit(vmid_map, NUM_USER_VMIDS, from) */
static unsigned find_free(const struct vt_model *m, struct vt_state *s, unsigned from)
{
	for (unsigned i = from; i < num_user_vmids(m); i++)
		if (!map_test(s, i))
			return i;
	return num_user_vmids(m);
}

/* __kvm_flush_vm_context: DSB ISHST; TLBI ALLE1IS; DSB ISH (no ISB, no I-cache operation since ced242ba9d7c). */
static void flush_vm_context(const struct vt_model *m, struct vt_state *s, int p, struct vt_trace *tr)
{
	insn(m, s, p, VT_A64_I_DSB_ISHST, 0, 0, tr);
	insn(m, s, p, vt_a64_tlbi_insn(VT_TLBI_ALLE1, 1), 0, 0, tr);
	insn(m, s, p, VT_A64_I_DSB_ISH, 0, 0, tr);
}

/*
 * flush_context: a rollover.  Every CPU's active VMID (or, if it has none,
 * its reserved one) is reserved into the new generation's bitmap, then every
 * VMID is flushed on every PE.
 */
static void flush_context(const struct vt_model *m, struct vt_state *s, int p, struct vt_trace *tr)
{
	memset(G(s)->vmid_map, 0, sizeof(G(s)->vmid_map));
	for (int c = 0; c < m->npcpus; c++) {
		struct vt_kvm_arm64_pcpu *pc = &s->pcpu[c].h.arm64;
		struct vt_kvm_vmid vmid = pc->active;
		memset(&pc->active, 0, sizeof(pc->active));
		if (vmid_zero(vmid))
			vmid = pc->reserved;
		map_set(s, vmid.idx);
		pc->reserved = vmid;
	}
	if (vt_fixed(m, VT_FIX_ARM64_VMID_ROLLOVER_FLUSH)) {
		vt_trace_note(tr, -1, p, "flush_context: VMID rollover, __kvm_flush_vm_context on every PE");
		flush_vm_context(m, s, p, tr);
	} else {
		vt_trace_reverted(tr, -1, VT_FIX_ARM64_VMID_ROLLOVER_FLUSH,
				  "the rollover hands out VMIDs again without flushing the TLBs");
	}
}

/* check_update_reserved_vmid */
static bool check_update_reserved(const struct vt_model *m, struct vt_state *s, struct vt_kvm_vmid old,
				  struct vt_kvm_vmid nv)
{
	bool hit = false;
	for (int c = 0; c < m->npcpus; c++) {
		struct vt_kvm_arm64_pcpu *pc = &s->pcpu[c].h.arm64;
		if (vmid_eq(pc->reserved, old)) {
			hit = true;
			pc->reserved = nv;
		}
	}
	return hit;
}

/* new_vmid: keep the VM's index if it is reserved or free, else take the next free one, rolling over if none. */
static void new_vmid(const struct vt_model *m, struct vt_state *s, int vm, int p, struct vt_trace *tr)
{
	struct vt_kvm_arm64_vm *mm = MMU(s, vm);
	struct vt_kvm_vmid old = mm->vmid;
	if (!vmid_zero(old)) {
		struct vt_kvm_vmid nv = {G(s)->gen, old.idx};
		if (check_update_reserved(m, s, old, nv) || !map_test(s, old.idx)) {
			map_set(s, old.idx);
			mm->vmid = nv;
			vt_trace_note(tr, -1, p, "new_vmid: the VM keeps its VMID in the new generation");
			return;
		}
	}
	unsigned idx = find_free(m, s, G(s)->cur_idx);
	if (idx == num_user_vmids(m)) {
		G(s)->gen = G(s)->gen == UINT8_MAX ? 1 : (uint8_t)(G(s)->gen + 1);
		flush_context(m, s, p, tr);
		idx = find_free(m, s, 1);
		if (idx == num_user_vmids(m)) {
			/* KVM: "We have more VMIDs than CPUs, so this will always succeed". */
			vt_state_limit(&s->meta, VT_LIMIT_VMIDS);
			return;
		}
	}
	map_set(s, idx);
	G(s)->cur_idx = (uint8_t)idx;
	mm->vmid.gen = G(s)->gen;
	mm->vmid.idx = (uint8_t)idx;
	vt_trace_note(tr, -1, p, "new_vmid: a VMID is allocated");
}

/*
 * kvm_arm_vmid_update on pCPU p.  Fast path: this CPU has an active VMID
 * (possibly VMID_ACTIVE_INVALID) and the VM's VMID is of the current
 * generation: mark it active.  Slow path: allocate if the generation is
 * stale.  Returns true when a new VMID was allocated (the bool of
 * 5eba523e1e5e..fa808ed4e199).
 */
static bool vmid_update(const struct vt_model *m, struct vt_state *s, int vm, int p, struct vt_trace *tr)
{
	struct vt_kvm_arm64_vm *mm = MMU(s, vm);
	struct vt_kvm_arm64_pcpu *pc = &s->pcpu[p].h.arm64;
	if (!vmid_zero(pc->active) && gen_match(s, mm->vmid)) {
		pc->active = mm->vmid;
		return false;
	}
	bool allocated = false;
	if (!gen_match(s, mm->vmid)) {
		new_vmid(m, s, vm, p, tr);
		allocated = true;
	}
	pc->active = mm->vmid;
	return allocated;
}

/* kvm_arm_vmid_clear_active: VMID_ACTIVE_INVALID = VMID_FIRST_VERSION. */
static void vmid_clear_active(struct vt_state *s, int p)
{
	s->pcpu[p].h.arm64.active.gen = 1;
	s->pcpu[p].h.arm64.active.idx = 0;
}

/* __load_stage2: VTTBR_EL2 <- the MMU's VMID. */
static void load_stage2(const struct vt_model *m, struct vt_state *s, int vm, int p)
{
	s->pcpu[p].key = vt_a64_key(MMU(s, vm)->vmid.idx, 0);
}

/* ---- the VMID allocator before v5.17 (arm.c update_vmid) ------------------ */

/* The allocator in use: vmid.c since 417838392f2e, or update_vmid() before it. */
static bool new_allocator(const struct vt_model *m)
{
	return vt_fixed(m, VT_FIX_ARM64_VMID_ALLOCATOR);
}

/* need_new_vmid_gen: the VM's vmid_gen is not kvm_vmid_gen (read without the lock). */
static bool need_new_vmid_gen(struct vt_state *s, int vm)
{
	return MMU(s, vm)->vmid.gen != G(s)->gen;
}

/*
 * The two stores that give the VM its new VMID.  Since "Fix VMID alloc race
 * by reverting to lock-less" the VMID is written first and the generation
 * published after an smp_wmb(); f0cf47d939d0 published the generation
 * first and wrote the VMID into kvm->arch.vttbr afterwards.
 */
static void old_store_vmid(const struct vt_model *m, struct vt_state *s, int vm)
{
	MMU(s, vm)->vmid.idx = G(s)->next_vmid;
	G(s)->next_vmid = (uint8_t)((G(s)->next_vmid + 1) & (num_user_vmids(m) - 1));
}

static void old_store(const struct vt_model *m, struct vt_state *s, int v, int which, struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	int p = s->vcpu[v].pcpu;
	bool lockless = vt_fixed(m, VT_FIX_ARM64_VMID_LOCKLESS);
	if (which == 1 && !lockless)
		vt_trace_reverted(tr, v, VT_FIX_ARM64_VMID_LOCKLESS,
				  "update_vmid publishes the VM's new vmid_gen before it writes the new VMID");
	if ((which == 1) == lockless) {
		old_store_vmid(m, s, vm);
		vt_trace_note(tr, v, p, "update_vmid: the VM's new VMID is written (kvm->arch.vttbr)");
	} else {
		MMU(s, vm)->vmid.gen = G(s)->gen;
		vt_trace_note(tr, v, p, "update_vmid: the VM's vmid_gen is set to kvm_vmid_gen");
	}
}

/* force_vm_exit(cpu_all_mask): a synchronous IPI takes every vCPU out of the guest. */
static void force_vm_exit(const struct vt_model *m, struct vt_state *s, struct vt_trace *tr)
{
	for (int w = 0; w < m->nvcpus; w++)
		vt_kvm_kick(m, s, w, tr);
}

/*
 * The run loop before v5.17, in phases (vcpu->phase):
 *   0  update_vmid: need_new_vmid_gen, kvm_vmid_lock, the re-check, a
 *      rollover if kvm_next_vmid wrapped (kvm_vmid_gen++, force_vm_exit,
 *      __kvm_flush_vm_context)
 *   1  the first store (lock-less fix: the VMID; before it: the generation)
 *   2  the second store; unlock
 *   3  IN_GUEST_MODE, need_new_vmid_gen again (retry if it changed), and
 *      __kvm_vcpu_run loads VTTBR from the VM's VMID
 * A vCPU that needs the lock while another holds it spins: it makes no
 * progress and stays outside the guest.
 */
static bool old_enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	int p = s->vcpu[v].pcpu;
	uint8_t *ph = &s->vcpu[v].phase;
	for (;;) {
		switch (*ph) {
		case 0:
			if (!need_new_vmid_gen(s, vm)) {
				*ph = 3;
				break;
			}
			if (G(s)->vmid_lock && G(s)->vmid_lock != v + 1) {
				vt_trace_note(tr, v, p, "update_vmid: spins on kvm_vmid_lock, held by another vCPU");
				return false;
			}
			G(s)->vmid_lock = (uint8_t)(v + 1);
			vt_trace_note(tr, v, p, "update_vmid: the VM's vmid_gen is stale: takes kvm_vmid_lock");
			if (G(s)->next_vmid == 0) {
				G(s)->gen = G(s)->gen == UINT8_MAX ? 1 : (uint8_t)(G(s)->gen + 1);
				G(s)->next_vmid = 1;
				vt_trace_note(tr, v, p, "update_vmid: VMIDs wrapped: kvm_vmid_gen++, force_vm_exit(cpu_all_mask)");
				force_vm_exit(m, s, tr);
				if (vt_fixed(m, VT_FIX_ARM64_VMID_ROLLOVER_FLUSH))
					flush_vm_context(m, s, p, tr);
				else
					vt_trace_reverted(tr, v, VT_FIX_ARM64_VMID_ROLLOVER_FLUSH,
							  "the rollover hands out VMIDs again without flushing the TLBs");
			}
			*ph = 1;
			break;
		case 1:
			old_store(m, s, v, 1, tr);
			*ph = 2;
			break;
		case 2:
			old_store(m, s, v, 2, tr);
			G(s)->vmid_lock = 0;
			*ph = 3;
			break;
		default:
			if (need_new_vmid_gen(s, vm)) {
				vt_trace_note(tr, v, p, "need_new_vmid_gen after IN_GUEST_MODE: back round the run loop");
				*ph = 0;
				break;
			}
			load_stage2(m, s, vm, p);
			*ph = 0;
			return true;
		}
		if (one_phase)
			return false;
	}
}

/* spin_lock disables preemption: a vCPU holding kvm_vmid_lock finishes its update before it can be put. */
static void old_finish_update(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	if (G(s)->vmid_lock != v + 1)
		return;
	while (s->vcpu[v].phase == 1 || s->vcpu[v].phase == 2) {
		old_store(m, s, v, s->vcpu[v].phase, tr);
		s->vcpu[v].phase++;
	}
	G(s)->vmid_lock = 0;
}

/* ---- vcpu_load / run / put (arm.c) --------------------------------------- */

/*
 * __kvm_flush_cpu_context(mmu): enter_vmid_context (the MMU's VMID); TLBI
 * VMALLE1; IC IALLU (01dc9262ff57); DSB NSH; ISB.  Local to this PE.
 */
static void flush_cpu_context(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
	unsigned vmid = MMU(s, m->vcpu_vm[v])->vmid.idx;
	insn(m, s, p, vt_a64_tlbi_insn(VT_TLBI_VMALLE1, 0), vt_a64_key(vmid, 0), 0, tr);
	if (vt_fixed(m, VT_FIX_ARM64_ICACHE_ISOLATION))
		insn(m, s, p, VT_A64_I_IC_IALLU, vt_a64_key(vmid, 0), 0, tr);
	else
		vt_trace_reverted(tr, v, VT_FIX_ARM64_ICACHE_ISOLATION, "the I-cache is not invalidated");
	insn(m, s, p, VT_A64_I_DSB_NSH, 0, 0, tr);
	insn(m, s, p, VT_A64_I_ISB, 0, 0, tr);
}

/*
 * Seed 004 has three generations: reverted (no check), as posted (v2: the
 * check in kvm_arch_sched_in, the flush in __activate_vm) and as merged in
 * 94d0e5980d67 (the check and the flush in kvm_arch_vcpu_load).
 */
static bool multiplex_as_posted(const struct vt_model *m)
{
	return vt_fixed(m, VT_FIX_ARM64_VCPU_MULTIPLEX) && !vt_fixed(m, VT_FIX_ARM64_VCPU_MULTIPLEX_LOAD);
}

/* Only the posted form decides anything in kvm_arch_sched_in. */
static bool a64_tracks_thread(const struct vt_model *m)
{
	return multiplex_as_posted(m);
}

/*
 * kvm_arch_sched_in as seed 004's v2 posted it (arch/arm/kvm/arm.c): when
 * another vCPU of the VM ran on this CPU last, flag this one
 * (tlb_vmid_stale; not for last_vcpu_ran == -1), and record it as the last.
 * kvm_sched_in calls it; KVM_RUN's vcpu_load does not.
 */
static void a64_sched_in(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
	struct vt_kvm_arm64_vm *mm = MMU(s, m->vcpu_vm[v]);
	if (!multiplex_as_posted(m) || mm->last_vcpu_ran[p] == vcpu_idx(m, v))
		return;
	if (mm->last_vcpu_ran[p] >= 0) {
		vt_trace_note(tr, v, p, "kvm_arch_sched_in (seed 004 as posted): another vCPU of this VM ran here "
					"last: tlb_vmid_stale = true");
		s->vcpu[v].h.arm64.tlb_vmid_stale = 1;
	}
	mm->last_vcpu_ran[p] = (int8_t)vcpu_idx(m, v);
}

/*
 * __activate_vm as seed 004's v2 posted it (arch/arm64/kvm/hyp/switch.c):
 * after writing VTTBR_EL2, a flagged vCPU gets ISB; TLBI VMALLE1 (local, the
 * VMID just loaded); DSB NSH, and the flag is cleared.
 */
static void activate_vm_as_posted(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	if (!multiplex_as_posted(m) || !s->vcpu[v].h.arm64.tlb_vmid_stale)
		return;
	vt_trace_note(tr, v, p, "__activate_vm (seed 004 as posted): tlb_vmid_stale: local TLBI VMALLE1; DSB NSH");
	insn(m, s, p, VT_A64_I_ISB, 0, 0, tr);
	insn(m, s, p, vt_a64_tlbi_insn(VT_TLBI_VMALLE1, 0), s->pcpu[p].key, 0, tr);
	insn(m, s, p, VT_A64_I_DSB_NSH, 0, 0, tr);
	s->vcpu[v].h.arm64.tlb_vmid_stale = 0;
}

/*
 * kvm_arch_vcpu_load: kvm_arm_vmid_update (since fa808ed4e199), the
 * last_vcpu_ran check, then on VHE kvm_vcpu_load_vhe loads stage 2 (since
 * 934bf871f011).  With the allocator from before v5.17 only the
 * last_vcpu_ran check is here; VTTBR is loaded at every entry.
 */
static void a64_load(const struct vt_model *m, struct vt_state *s, int v, int p, struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	struct vt_kvm_arm64_vm *mm = MMU(s, vm);
	bool vhe_load = new_allocator(m) && m->opt[VT_OPT_VHE];
	if (new_allocator(m) && vt_fixed(m, VT_FIX_ARM64_VMID_BEFORE_VTTBR))
		(void)vmid_update(m, s, vm, p, tr);
	else if (vhe_load)
		vt_trace_reverted(tr, v, VT_FIX_ARM64_VMID_BEFORE_VTTBR,
				  "vcpu_load programs VTTBR before the VMID is allocated or refreshed");
	if (multiplex_as_posted(m)) {
		if (mm->last_vcpu_ran[p] != vcpu_idx(m, v))
			vt_trace_reverted(tr, v, VT_FIX_ARM64_VCPU_MULTIPLEX_LOAD,
					  "kvm_arch_vcpu_load does not check last_vcpu_ran (seed 004 as posted: only "
					  "kvm_arch_sched_in does)");
	} else if (vt_fixed(m, VT_FIX_ARM64_VCPU_MULTIPLEX)) {
		if (mm->last_vcpu_ran[p] != vcpu_idx(m, v)) {
			vt_trace_note(tr, v, p,
				      mm->last_vcpu_ran[p] < 0
					      ? "kvm_arch_vcpu_load: last_vcpu_ran is -1 (no vCPU of this VM ran here yet): "
						"__kvm_flush_cpu_context"
					      : "kvm_arch_vcpu_load: last_vcpu_ran names another vCPU of this VM: "
						"__kvm_flush_cpu_context");
			flush_cpu_context(m, s, v, p, tr);
			mm->last_vcpu_ran[p] = (int8_t)vcpu_idx(m, v);
		}
	} else if (mm->last_vcpu_ran[p] != vcpu_idx(m, v)) {
		vt_trace_reverted(tr, v, VT_FIX_ARM64_VCPU_MULTIPLEX,
				  "no local flush although another vCPU of this VM may have filled this PE's TLB");
		mm->last_vcpu_ran[p] = (int8_t)vcpu_idx(m, v);
	}
	if (vhe_load)
		load_stage2(m, s, vm, p);
}

/*
 * The run loop and __kvm_vcpu_run.  Before fa808ed4e199 the run loop called
 * kvm_arm_vmid_update and, on VHE, reloaded stage 2 only when it returned
 * true (5eba523e1e5e); nVHE loads VTTBR at every entry.
 */
static bool a64_enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	int vm = m->vcpu_vm[v];
	int p = s->vcpu[v].pcpu;
	if (!new_allocator(m)) {
		bool in = old_enter(m, s, v, one_phase, tr);
		if (in)
			activate_vm_as_posted(m, s, v, tr);
		return in;
	}
	if (!vt_fixed(m, VT_FIX_ARM64_VMID_BEFORE_VTTBR)) {
		bool fresh = vmid_update(m, s, vm, p, tr);
		if (m->opt[VT_OPT_VHE]) {
			if (fresh) {
				vt_trace_note(tr, v, p, "kvm_arm_vmid_update allocated a VMID: __load_stage2 reloads VTTBR");
				load_stage2(m, s, vm, p);
			} else if (s->pcpu[p].key != vt_a64_key(MMU(s, vm)->vmid.idx, 0)) {
				vt_trace_reverted(tr, v, VT_FIX_ARM64_VMID_BEFORE_VTTBR,
						  "kvm_arm_vmid_update took the fast path: VTTBR keeps the VMID vcpu_load wrote");
			}
		}
	}
	if (!m->opt[VT_OPT_VHE])
		load_stage2(m, s, vm, p);
	activate_vm_as_posted(m, s, v, tr);
	return true;
}

static void a64_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
}

/*
 * kvm_arch_vcpu_put: kvm_arm_vmid_clear_active.  Then the host switches the
 * vCPU thread out: __switch_to ends with dsb(ish) to "complete any pending
 * TLB or cache maintenance on this CPU in case the thread migrates to a
 * different CPU", which completes a guest TLBI interrupted before its DSB.
 */
static void a64_put(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	if (new_allocator(m))
		vmid_clear_active(s, p);
	else
		old_finish_update(m, s, v, tr);
	if (vt_fixed(m, VT_FIX_ARM64_SWITCH_TO_DSB)) {
		vt_trace_note(tr, v, p, "__switch_to: dsb(ish) completes this CPU's pending TLB maintenance");
		insn(m, s, p, VT_A64_I_DSB_ISH, 0, 0, tr);
	} else {
		vt_trace_reverted(tr, v, VT_FIX_ARM64_SWITCH_TO_DSB, "the thread leaves this CPU without a DSB");
	}
}

/* KVM leaves HCR_EL2.TTLB clear and traps no TTBR/SCTLR write that matters here. */
static bool a64_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old)
{
	return false;
}

static void a64_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
}

static void a64_vcpu_init(const struct vt_model *m, struct vt_state *s, int v)
{
	int vm = m->vcpu_vm[v];
	if (v == 0) {
		/* kvm_arm_vmid_alloc_init */
		memset(G(s), 0, sizeof(*G(s)));
		G(s)->gen = 1;
		G(s)->cur_idx = 1;
		G(s)->next_vmid = 1; /* before v5.17: kvm_vmid_gen = 1, kvm_next_vmid = 1 */
	}
	if (v == m->vm[vm].first_vcpu) {
		/* kvm_init_stage2_mmu: last_vcpu_ran = -1 on every CPU; no VMID yet */
		memset(MMU(s, vm), 0, sizeof(*MMU(s, vm)));
		memset(MMU(s, vm)->last_vcpu_ran, 0xff, sizeof(MMU(s, vm)->last_vcpu_ran));
	}
}

/* ---- stage-2 changes (hyp/pgtable.c, mmu.c) -------------------------------- */

/* A pCPU to show the host thread's instructions on: one without a vCPU, else 0. */
static int host_pcpu(const struct vt_model *m, const struct vt_state *s)
{
	for (int p = 0; p < m->npcpus; p++)
		if (s->pcpu[p].vcpu < 0)
			return p;
	return 0;
}

static void host_insn(const struct vt_model *m, struct vt_state *s, unsigned code, uint32_t key, struct vt_trace *tr)
{
	vt_arm64_insn_as(m, s, host_pcpu(m, s), VT_ARM64_ISSUER_HOST, code, key, 0, tr);
}

/* ---- range unmap: kvm_pgtable_stage2_unmap and kvm_tlb_flush_vmid_range ---- */

/* A formatted note the trace owns (nothing is formatted without a trace). */
static const char *textf(struct vt_trace *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *textf(struct vt_trace *tr, const char *fmt, ...)
{
	if (!tr || tr->no_records)
		return "";
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const char *r = vt_trace_strdup(tr, buf);
	return r ? r : "";
}

/* MAX_TLBI_RANGE_PAGES = __TLBI_RANGE_PAGES(31, 3) (asm/tlbflush.h) */
#define MAX_TLBI_RANGE_PAGES ((uint64_t)32 << 16)

/*
 * stage2_unmap_defer_tlb_flush: with FEAT_TLBIRANGE and FWB the walker
 * defers its per-entry invalidations to one kvm_tlb_flush_vmid_range at the
 * end of kvm_pgtable_stage2_unmap (7657ea920c54, v6.6).
 */
static bool defer_tlb_flush(const struct vt_model *m)
{
	return vt_fixed(m, VT_FIX_ARM64_S2_UNMAP_RANGE_TLBI) && m->opt[VT_OPT_TLBI_RANGE] && m->opt[VT_OPT_S2FWB];
}

/*
 * Shifts as the kernel's macros execute them on arm64: a shift by a
 * register amount uses the amount modulo 64 (LSLV/LSRV), which is what a
 * negative 'scale' turned into before e3ba51ab24fd (C leaves it undefined).
 */
static uint64_t shl64(uint64_t x, int n)
{
	return x << ((unsigned)n & 63u);
}

static uint64_t shr64(uint64_t x, int n)
{
	return x >> ((unsigned)n & 63u);
}

/* __TLBI_RANGE_PAGES(num, scale) */
static uint64_t range_pages(int num, int scale)
{
	return shl64((uint64_t)(int64_t)(num + 1), 5 * scale + 1);
}

/*
 * __TLBI_RANGE_NUM(pages, scale).  Since e3ba51ab24fd it caps pages at
 * __TLBI_RANGE_PAGES(31, scale) and returns -1..31; before, it masked the
 * page count with TLBI_RANGE_MASK (5 bits) and returned -1..30, so
 * MAX_TLBI_RANGE_PAGES (NUM 32 at SCALE 3) gave -1 at every scale.
 */
static int range_num(const struct vt_model *m, uint64_t pages, int scale)
{
	if (vt_fixed(m, VT_FIX_ARM64_TLBI_RANGE_NUM)) {
		uint64_t cap = range_pages(31, scale);
		return (int)shr64(pages < cap ? pages : cap, 5 * scale + 1) - 1;
	}
	return (int)(shr64(pages, 5 * scale + 1) & 31u) - 1;
}

/*
 * __TLBI_VADDR_RANGE(start >> PAGE_SHIFT, asid 0, scale, num, ttl) as the
 * commit message of e3ba51ab24fd shows it (fields shifted into place
 * without masking; TG = 01 for 4 KiB pages).
 */
static uint64_t range_operand(uint64_t start, int scale, int num, int ttl)
{
	uint64_t ta = (start >> 12) & (((uint64_t)1 << 37) - 1);
	ta |= (uint64_t)(ttl >= 1 && ttl <= 3 ? ttl : 0) << 37;
	ta |= (uint64_t)(int64_t)num << 39;
	ta |= (uint64_t)(int64_t)scale << 44;
	ta |= (uint64_t)1 << 46;
	return ta;
}

/* A TLBI IPAS2E1IS from the host thread for one IPA, with the 4-bit TTL field 'ttl' (0: no hint). */
static void host_ipas2(const struct vt_model *m, struct vt_state *s, unsigned vmid, uint64_t ipa, unsigned ttl,
		       struct vt_trace *tr)
{
	uint32_t key = vt_a64_key(vmid, 0) | (uint32_t)((ipa >> 12) << 8);
	vt_arm64_insn_as(m, s, host_pcpu(m, s), VT_ARM64_ISSUER_HOST, vt_a64_tlbi_insn(VT_TLBI_IPAS2E1, 1), key,
			 vt_a64_ipa_arg(ipa, ttl), tr);
}

/*
 * __flush_s2_tlb_range_op(ipas2e1is, start, pages, PAGE_SIZE,
 * TLBI_TTL_UNKNOWN), i.e. __flush_tlb_range_op as since e2768b798a19
 * (v6.9): from SCALE 3 down, each range TLBI covers the largest multiple
 * of 2^(5*SCALE+1) pages that fits; a single page left over gets a
 * non-range TLBI (FEAT_LPA2's 64 KiB alignment case is not modelled).
 */
static void flush_s2_range_op(const struct vt_model *m, struct vt_state *s, unsigned vmid, uint64_t start,
			      uint64_t pages, struct vt_trace *tr)
{
	int scale = 3;
	while (pages > 0) {
		if (pages == 1) {
			host_ipas2(m, s, vmid, start, 0, tr);
			start += 0x1000;
			pages -= 1;
			continue;
		}
		int num = range_num(m, pages, scale);
		if (num >= 0) {
			uint64_t xt = range_operand(start, scale, num, 0);
			uint64_t done = range_pages(num, scale);
			if (scale < 0)
				vt_trace_reverted(tr, -1, VT_FIX_ARM64_TLBI_RANGE_NUM,
						  textf(tr, "__TLBI_RANGE_NUM gave -1 at SCALE 3..0: the loop ran on to "
							    "SCALE %d, NUM %d, and builds a range operand from them",
							    scale, num));
			vt_arm64_insn_as(m, s, host_pcpu(m, s), VT_ARM64_ISSUER_HOST,
					 vt_a64_tlbi_insn(VT_TLBI_RIPAS2E1, 1), vt_a64_key(vmid, 0), xt, tr);
			if (done >= pages) {
				if (done > pages)
					vt_trace_note(tr, -1, -1,
						      "model: __flush_tlb_range_op's page count would wrap; the loop is "
						      "cut here");
				return;
			}
			start += done << 12;
			pages -= done;
		}
		if (--scale < -64) {
			vt_trace_note(tr, -1, -1, "model: __flush_tlb_range_op does not terminate; cut after SCALE -64");
			return;
		}
	}
}

/* The leaves and tables of VM vm in [lo, hi) (over S, whatever the current stage 2 holds). */
static uint64_t s2_in(const struct vt_model *m, int vm, uint64_t lo, uint64_t hi, bool tables)
{
	uint64_t r = 0;
	for (int j = 0; j < m->ns; j++) {
		const struct vt_s2 *e = &m->s2[j];
		if (e->vm == vm && (bool)e->table == tables && e->gpa < hi && e->gpa + vt_s2_span(e) > lo)
			r |= VT_BIT(j);
	}
	return r;
}

/*
 * __kvm_tlb_flush_vmid_ipa(mmu, ipa, level) run to completion by the host
 * thread: DSB ISHST; TLBI IPAS2E1IS (level hint); DSB ISH; TLBI VMALLE1IS;
 * DSB ISH; ISB.
 */
static void flush_vmid_ipa(const struct vt_model *m, struct vt_state *s, int vm, uint64_t ipa, unsigned ttl,
			   struct vt_trace *tr)
{
	unsigned vmid = MMU(s, vm)->vmid.idx;
	host_insn(m, s, VT_A64_I_DSB_ISHST, 0, tr);
	host_ipas2(m, s, vmid, ipa, ttl, tr);
	host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
	host_insn(m, s, vt_a64_tlbi_insn(VT_TLBI_VMALLE1, 1), vt_a64_key(vmid, 0), tr);
	host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
	host_insn(m, s, VT_A64_I_ISB, 0, tr);
}

/*
 * The entries of VM vm a walk of [lo, hi) visits, in the order
 * kvm_pgtable_walk's post-order (KVM_PGTABLE_WALK_LEAF |
 * KVM_PGTABLE_WALK_TABLE_POST) visits them: by the end of what each
 * covers, a table after everything inside it.  Returns how many.
 */
static int walk_order(const struct vt_model *m, int vm, uint64_t lo, uint64_t hi, int8_t *out)
{
	int n = 0;
	uint64_t in = s2_in(m, vm, lo, hi, false) | s2_in(m, vm, lo, hi, true);
	VT_U64_FOREACH(j, in) {
		const struct vt_s2 *e = &m->s2[j];
		uint64_t end = e->gpa + vt_s2_span(e);
		int i = n++;
		while (i > 0) {
			const struct vt_s2 *f = &m->s2[out[i - 1]];
			uint64_t fend = f->gpa + vt_s2_span(f);
			if (fend < end || (fend == end && f->level >= e->level))
				break;
			out[i] = out[i - 1];
			i--;
		}
		out[i] = (int8_t)j;
	}
	return n;
}

/*
 * stage2_unmap_walker on one entry: a valid leaf is cleared
 * (kvm_clear_pte) and, without deferral, invalidated at once
 * (__kvm_tlb_flush_vmid_ipa with the leaf's level, 3); a table whose page
 * has no valid entry left (mm_ops->page_count(childp) == 1) is cleared,
 * invalidated by stage2_unmap_put_pte and its page freed
 * (mm_ops->put_page(childp)).
 */
static void unmap_entry(const struct vt_model *m, struct vt_state *s, int vm, int j, uint64_t lo, struct vt_trace *tr)
{
	const struct vt_s2 *e = &m->s2[j];
	if (!e->table) {
		s->vm[vm].s2 &= ~VT_BIT(j);
		if (defer_tlb_flush(m)) {
			vt_trace_note(tr, -1, -1,
				      textf(tr, "stage2_unmap_walker: kvm_clear_pte on the leaf for IPA 0x%llx; its TLBI "
						"is deferred to kvm_tlb_flush_vmid_range",
					    (unsigned long long)e->gpa));
		} else {
			vt_trace_note(tr, -1, -1,
				      textf(tr, "stage2_unmap_walker: kvm_clear_pte on the leaf for IPA 0x%llx, then "
						"__kvm_tlb_flush_vmid_ipa (level 3)",
					    (unsigned long long)e->gpa));
			flush_vmid_ipa(m, s, vm, e->gpa, vt_a64_ttl4k(3), tr);
		}
		return;
	}
	uint64_t end = e->gpa + vt_s2_span(e);
	uint64_t under = 0; /* the valid entries of its table page: deeper, inside its range */
	for (int k = 0; k < m->ns; k++) {
		const struct vt_s2 *f = &m->s2[k];
		if (f->vm == vm && f->level > e->level && f->gpa >= e->gpa && f->gpa + vt_s2_span(f) <= end)
			under |= VT_BIT(k);
	}
	under &= s->vm[vm].s2;
	if (under) {
		vt_trace_note(tr, -1, -1,
			      textf(tr, "stage2_unmap_walker: the level-%d table for IPA 0x%llx still holds valid "
					"entries: kept",
				    e->level, (unsigned long long)e->gpa));
		return;
	}
	s->vm[vm].s2 &= ~VT_BIT(j);
	vt_trace_note(tr, -1, -1,
		      textf(tr, "stage2_unmap_walker: the level-%d table for IPA 0x%llx-0x%llx is empty: "
				"kvm_clear_pte on its table entry",
			    e->level, (unsigned long long)e->gpa, (unsigned long long)(end - 1)));
	if (!defer_tlb_flush(m) || vt_fixed(m, VT_FIX_ARM64_S2_TABLE_ZAP_FLUSH)) {
		unsigned ttl = 0;
		if (vt_fixed(m, VT_FIX_ARM64_S2_TABLE_TTL)) {
			vt_trace_note(tr, -1, -1, "stage2_unmap_put_pte: a table entry: __kvm_tlb_flush_vmid_ipa now, "
						  "without a level hint");
		} else {
			ttl = vt_a64_ttl4k(e->level);
			vt_trace_reverted(tr, -1, VT_FIX_ARM64_S2_TABLE_TTL,
					  "__kvm_tlb_flush_vmid_ipa passes the table entry's own level as the leaf-level "
					  "hint");
		}
		/* ctx->addr: where the walk entered the table entry's range */
		flush_vmid_ipa(m, s, vm, e->gpa > lo ? e->gpa : lo, ttl, tr);
	} else {
		vt_trace_reverted(tr, -1, VT_FIX_ARM64_S2_TABLE_ZAP_FLUSH,
				  "the table entry's invalidation is deferred to the range flush at the end of the walk");
	}
	s->s_perm &= ~VT_BIT(j);
	vt_trace_note(tr, -1, -1,
		      textf(tr, "put_page(childp): the table page at HPA 0x%llx is freed; the host may reuse it",
			    (unsigned long long)e->hpa));
}

/* The host operation is over: the leaves' pages may be reused. */
static bool unmap_range_done(struct vt_state *s, struct vt_trace *tr)
{
	struct vt_kvm_arm64_global *g = G(s);
	s->s_perm &= ~g->host_old;
	vt_trace_note(tr, -1, -1, "the flush has completed: the host may reuse the old pages");
	g->host_vm = 0;
	g->host_vmid = 0;
	g->host_old = 0;
	g->host_pos = 0;
	g->host_step = 0;
	return true;
}

/*
 * host: unmap-range VM GPA +PAGES -- kvm_pgtable_stage2_unmap (mmu.c
 * kvm_unmap_gfn_range / unmap_stage2_range) over the range, in phases:
 *
 *   the walk, one phase per valid entry in post-order (stage2_unmap_walker,
 *   unmap_entry above); without deferral the operation ends with the last
 *   entry, each having been invalidated as it was cleared;
 *
 *   with deferral (stage2_unmap_defer_tlb_flush: FEAT_TLBIRANGE and FWB),
 *   kvm_tlb_flush_vmid_range(mmu, addr, size): for each chunk c of at most
 *   MAX_TLBI_RANGE_PAGES, __kvm_tlb_flush_vmid_range in 4 phases
 *     1+4c  DSB ISHST; enter_vmid_context; __flush_s2_tlb_range_op
 *     2+4c  DSB ISH
 *     3+4c  TLBI VMALLE1IS
 *     4+4c  DSB ISH; ISB -- after the last chunk the leaves' pages may be reused.
 */
static bool unmap_range(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr)
{
	struct vt_kvm_arm64_global *g = G(s);
	uint64_t lo = op->a, hi = op->a + (op->b << 12);
	uint64_t nchunks = (op->b + MAX_TLBI_RANGE_PAGES - 1) / MAX_TLBI_RANGE_PAGES;
	int8_t order[VT_MAX_S];
	do {
		bool first = s->host_phase == 0;
		if (s->host_phase < UINT8_MAX)
			s->host_phase++;
		if (first) {
			if (m->opt[VT_OPT_TLBI_RANGE] && m->opt[VT_OPT_S2FWB] &&
			    !vt_fixed(m, VT_FIX_ARM64_S2_UNMAP_RANGE_TLBI))
				vt_trace_reverted(tr, -1, VT_FIX_ARM64_S2_UNMAP_RANGE_TLBI,
						  "stage2_unmap_walker invalidates every entry as it clears it, although "
						  "range TLBIs and FWB are present");
			g->host_vm = (uint8_t)op->target;
			g->host_old = s2_in(m, op->target, lo, hi, false) & s->vm[op->target].s2;
			g->host_pos = 0;
			g->host_step = 0;
		}
		int vm = g->host_vm;
		if (g->host_step == 0) {
			int n = walk_order(m, vm, lo, hi, order);
			while (g->host_pos < n && !(s->vm[vm].s2 & VT_BIT(order[g->host_pos])))
				g->host_pos++;
			if (g->host_pos < n)
				unmap_entry(m, s, vm, order[g->host_pos++], lo, tr);
			while (g->host_pos < n && !(s->vm[vm].s2 & VT_BIT(order[g->host_pos])))
				g->host_pos++;
			if (g->host_pos < n)
				continue;
			if (!defer_tlb_flush(m))
				return unmap_range_done(s, tr);
			g->host_step = 1; /* the walk is over: the deferred flush */
			continue;
		}
		int c = (g->host_step - 1) / 4;
		uint64_t start = lo + (((uint64_t)c * MAX_TLBI_RANGE_PAGES) << 12);
		uint64_t left = op->b - (uint64_t)c * MAX_TLBI_RANGE_PAGES;
		uint64_t pages = left < MAX_TLBI_RANGE_PAGES ? left : MAX_TLBI_RANGE_PAGES;
		uint32_t key = vt_a64_key(g->host_vmid, 0);
		switch ((g->host_step - 1) % 4) {
		case 0:
			vt_trace_note(tr, -1, -1,
				      textf(tr, "kvm_tlb_flush_vmid_range: __kvm_tlb_flush_vmid_range(IPA 0x%llx, %llu pages)",
					    (unsigned long long)start, (unsigned long long)pages));
			host_insn(m, s, VT_A64_I_DSB_ISHST, 0, tr);
			g->host_vmid = MMU(s, vm)->vmid.idx; /* enter_vmid_context */
			flush_s2_range_op(m, s, g->host_vmid, start, pages, tr);
			break;
		case 1:
			host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
			break;
		case 2:
			host_insn(m, s, vt_a64_tlbi_insn(VT_TLBI_VMALLE1, 1), key, tr);
			break;
		default:
			host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
			host_insn(m, s, VT_A64_I_ISB, 0, tr);
			if ((uint64_t)c + 1 == nchunks)
				return unmap_range_done(s, tr);
			break;
		}
		g->host_step++;
	} while (!one_phase);
	return false;
}

/*
 * host: unmap -- kvm_pgtable_stage2_unmap, stage2_unmap_walker for a valid
 * leaf without deferral, and __kvm_tlb_flush_vmid_ipa:
 *   1  kvm_clear_pte
 *   2  DSB ISHST; enter_vmid_context; TLBI IPAS2E1IS
 *   3  DSB ISH: the stage-2 invalidation completes before the stage-1 one
 *   4  TLBI VMALLE1IS
 *   5  DSB ISH; ISB; exit_vmid_context; put_page: the page may be reused
 *
 * host: remap -- a stage-2 change flushed with kvm_flush_remote_tlbs()
 * (kvm_arch_flush_remote_tlbs = __kvm_tlb_flush_vmid, returning 0: no
 * request, no IPI):
 *   1  the stage-2 entry is replaced
 *   2  DSB ISHST; enter_vmid_context; TLBI VMALLS12E1IS
 *   3  DSB ISH; ISB; exit_vmid_context: the old page may be reused
 */
static bool a64_host_op(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr)
{
	struct vt_kvm_arm64_global *g = G(s);
	if (op->code == VT_OP_HOST_UNMAP_RANGE)
		return unmap_range(m, s, op, one_phase, tr);
	bool remap = op->code == VT_OP_HOST_REMAP;
	int last = remap ? 3 : 5;
	do {
		int phase = ++s->host_phase;
		int vm = phase == 1 ? op->target : g->host_vm;
		uint32_t key = vt_a64_key(g->host_vmid, 0);
		switch (phase) {
		case 1: {
			uint64_t old = 0;
			for (int j = 0; j < m->ns; j++)
				if (m->s2[j].vm == vm && m->s2[j].gpa == op->a && !m->s2[j].table)
					old |= VT_BIT(j);
			old &= s->vm[vm].s2;
			if (remap)
				old &= ~VT_BIT(op->b);
			g->host_vm = (uint8_t)vm;
			g->host_old = old;
			s->vm[vm].s2 &= ~old;
			if (remap) {
				s->vm[vm].s2 |= VT_BIT(op->b);
				s->s_perm |= VT_BIT(op->b);
				vt_trace_note(tr, -1, -1, "stage-2 entry replaced; kvm_flush_remote_tlbs -> kvm_arch_flush_remote_tlbs");
			} else {
				vt_trace_note(tr, -1, -1, "stage2_unmap_walker: kvm_clear_pte, then __kvm_tlb_flush_vmid_ipa");
			}
			break;
		}
		case 2:
			/* enter_vmid_context: the MMU's VMID, as it is now */
			g->host_vmid = MMU(s, vm)->vmid.idx;
			key = vt_a64_key(g->host_vmid, 0);
			host_insn(m, s, VT_A64_I_DSB_ISHST, 0, tr);
			if (remap) {
				host_insn(m, s, vt_a64_tlbi_insn(VT_TLBI_VMALLS12E1, 1), key, tr);
			} else {
				uint32_t ipa = (uint32_t)(op->a >> 12) << 8;
				host_insn(m, s, vt_a64_tlbi_insn(VT_TLBI_IPAS2E1, 1), key | ipa, tr);
			}
			break;
		case 3:
			if (remap || vt_fixed(m, VT_FIX_ARM64_S2_UNMAP_ORDER)) {
				host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
			} else {
				vt_trace_reverted(tr, -1, VT_FIX_ARM64_S2_UNMAP_ORDER,
						  "no DSB between the stage-2 and the stage-1 invalidation");
			}
			if (remap)
				host_insn(m, s, VT_A64_I_ISB, 0, tr);
			break;
		case 4:
			host_insn(m, s, vt_a64_tlbi_insn(VT_TLBI_VMALLE1, 1), key, tr);
			break;
		default:
			host_insn(m, s, VT_A64_I_DSB_ISH, 0, tr);
			host_insn(m, s, VT_A64_I_ISB, 0, tr);
			break;
		}
		if (phase == last) {
			s->s_perm &= ~g->host_old;
			vt_trace_note(tr, -1, -1, "the flush has completed: the host may reuse the old page");
			g->host_vm = 0;
			g->host_vmid = 0;
			g->host_old = 0;
			return true;
		}
	} while (!one_phase);
	return false;
}

static void a64_permute_pcpus(const struct vt_model *m, struct vt_state *s, const int8_t *map)
{
	const int nvms = m->nvms, np = m->npcpus; /* read once: the stores to s could alias them */
	for (int vm = 0; vm < nvms; vm++) {
		int8_t *last = MMU(s, vm)->last_vcpu_ran, old[VT_MAX_PCPUS];
		memcpy(old, last, sizeof(old));
		for (int p = 0; p < np; p++)
			last[map[p]] = old[p];
	}
	vt_arm64_hw_permute_pcpus(m, s, map);
}

/*
 * The symmetry key's part of the renaming above: per VM, last_vcpu_ran[p]
 * + 1 (-1..7) in a byte; then the hardware's part (pending TLBIs).
 */
static void a64_pcpu_refs(const struct vt_model *m, const struct vt_state *s, uint64_t *refs)
{
	_Static_assert(8 * VT_MAX_VMS <= VT_ARM64_HW_REFS_SHIFT, "last_vcpu_ran bytes below the hardware's bits");
	for (int vm = 0; vm < m->nvms; vm++)
		for (int p = 0; p < m->npcpus; p++)
			refs[p] |= (uint64_t)(uint8_t)(s->vm[vm].h.arm64.last_vcpu_ran[p] + 1) << (8 * vm);
	vt_arm64_hw_pcpu_refs(m, s, refs);
}

const struct vt_hv_ops vt_kvm_arm64_ops = {
	.name = "kvm-arm64",
	.req_names = kvm_arm64_req_names,
	.nreqs = 0,
	.vcpu_init = a64_vcpu_init,
	.load = a64_load,
	.tracks_thread = a64_tracks_thread,
	.sched_in = a64_sched_in,
	.enter = a64_enter,
	.exit = a64_exit,
	.put = a64_put,
	.intercepts = a64_intercepts,
	.handle = a64_handle,
	.host_op = a64_host_op,
	.walk = vt_walk_nested,
	.permute_pcpus = a64_permute_pcpus,
	.pcpu_refs = a64_pcpu_refs,
	.global_bytes = sizeof(struct vt_kvm_arm64_global),
	.vm_bytes = sizeof(struct vt_kvm_arm64_vm),
	.vcpu_bytes = sizeof(struct vt_kvm_arm64_vcpu),
};
