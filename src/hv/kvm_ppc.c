/*
 * KVM Book3S HV with radix guests on POWER9/POWER10, the P9 entry path
 * (arch/powerpc/kvm/book3s_hv.c, book3s_hv_p9_entry.c,
 * book3s_64_mmu_radix.c), modelled decision by decision.
 * docs/notes/kvm-arm64-ppc-source.md (Part B) records what was read.
 *
 * A radix guest invalidates its own translations with tlbie and tlbiel, and
 * uses tlbiel for translations it has only used on the current vCPU.  The
 * TLB is tagged by LPID, not by vCPU, and shared by the threads of a core
 * (or of one half of an SMT8 big core), so a vCPU that moves leaves entries
 * behind that its later tlbiel cannot reach.  KVM's answer:
 *
 *   kvmppc_prepare_radix_vcpu   before running a vCPU on a pCPU other than
 *                               its prev_cpu: if the TLB group changed,
 *                               radix_flush_cpu() marks every thread of the
 *                               old group in need_tlb_flush and IPIs those
 *                               threads of it running this guest; then, in
 *                               any case, do_migrate_away_vcpu() on the old
 *                               pCPU completes a guest tlbie sequence that
 *                               the move interrupted
 *   check_need_tlb_flush        on entry, after LPIDR is loaded: with its
 *                               bit set, the first thread of the group to
 *                               arrive (every bit still set) runs
 *                               flush_guest_tlb(), the others a ptesync;
 *                               each clears its own bit after that
 *
 * The entry path is split into fine-grained phases (vcpu->phase), so that
 * 'enter VCPU phase' can interleave threads of one core:
 *
 *   PREPARE      kvmppc_prepare_radix_vcpu (preemptible)
 *   TEST         cpu_in_guest = kvm; hard-disable; switch_mmu_to_guest_radix
 *                (LPIDR, PIDR; hwsync); test the need_tlb_flush bit
 *   FLUSH_START  flush_guest_tlb: the tlbiel loop over every set
 *   FLUSH_DONE   flush_guest_tlb: ptesync (and the ERAT), or the sibling's ptesync
 *   CLEAR        cpumask_clear_cpu(pcpu, need_tlb_flush)
 *   ENTRY        kvmppc_p9_enter_guest
 *
 * Everything after PREPARE runs hard-disabled: an IPI that arrives then is
 * taken as soon as the guest runs, and a preemption then completes the
 * entry first.  LPIDs: VM i has LPID i+1 (kvmppc_alloc_lpid, lowest free
 * first; the host is LPID 0).  An L2 (nested) guest is a VM whose vCPUs are
 * declared 'nested L1': L0 runs them under their own (shadow) LPID with the
 * nested guest's need_tlb_flush and prev_cpu[], and cpu_in_guest holds the
 * L1's kvm.  The host's own work (stage-2 unmaps) runs on pCPU 0.
 */
#include <string.h>

#include "hv/kvm.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/ppc.h"

enum {
	PH_PREPARE,
	PH_TEST,
	PH_FLUSH_START,
	PH_FLUSH_DONE,
	PH_CLEAR,
	PH_ENTRY,
};

static const char *const ppc_req_names[1] = {"-"};

static struct vt_kvm_ppc_vcpu *H(struct vt_state *s, int v)
{
	return &s->vcpu[v].h.ppc;
}

/* The VM whose struct kvm a VM's vCPUs run under: the L1 for a nested guest. */
static int vm_kvm(const struct vt_model *m, const struct vt_state *s, int vm)
{
	int nested = s->vcpu[m->vm[vm].first_vcpu].h.ppc.nested;
	return nested ? nested - 1 : vm;
}

static void insn(const struct vt_model *m, struct vt_state *s, int p, unsigned code, uint32_t key,
		 struct vt_trace *tr)
{
	m->hw->insn(m, s, p, code, key, 0, tr);
}

/* ---- TLB groups (arch/powerpc/include/asm/cputhreads.h) ------------------ */

/*
 * cpu_first_tlb_thread_sibling() and friends (77bbbc0cf848): on ISA v3.0 with
 * threads_per_core == 8 the groups are the even and the odd threads; before
 * that fix KVM took the whole core (cpu_first_thread_sibling()).
 */
static bool split_smt8(const struct vt_model *m, bool fixed)
{
	return m->threads_per_core == 8 && fixed;
}

static int group_first(const struct vt_model *m, int cpu, bool fixed)
{
	int t = m->threads_per_core;
	int base = cpu - cpu % t;
	return split_smt8(m, fixed) ? base + (cpu % t) % 2 : base;
}

static int tlb_first(const struct vt_model *m, int cpu)
{
	return group_first(m, cpu, vt_fixed(m, VT_FIX_PPC_SMT8_TLB_GROUP));
}

static int tlb_last(const struct vt_model *m, int cpu)
{
	bool fixed = vt_fixed(m, VT_FIX_PPC_SMT8_TLB_GROUP);
	return split_smt8(m, fixed) ? tlb_first(m, cpu) + 6 : tlb_first(m, cpu) + m->threads_per_core - 1;
}

static int tlb_step(const struct vt_model *m)
{
	return split_smt8(m, vt_fixed(m, VT_FIX_PPC_SMT8_TLB_GROUP)) ? 2 : 1;
}

/*
 * Before "KVM: PPC: Book3S HV P9: Avoid tlbsync sequence on radix guest
 * exit" (ppc-migrate-away), need_tlb_flush used one bit per TLB group, that
 * of its first thread, and every radix exit ran eieio; tlbsync; ptesync.
 */
static bool one_bit_per_group(const struct vt_model *m)
{
	return !vt_fixed(m, VT_FIX_PPC_MIGRATE_AWAY);
}

/* kvm->arch.need_tlb_flush, or the nested guest's (an L2 VM's own mask). */
static uint64_t *need_tlb_flush(const struct vt_model *m, struct vt_state *s, int v)
{
	return &s->vm[m->vcpu_vm[v]].h.ppc.need_tlb_flush;
}

/* ---- IPIs ----------------------------------------------------------------- */

/*
 * smp_call_function_single(cpu, fn, wait=1): a guest running there exits to
 * take it; a thread inside the hard-disabled entry takes it as soon as the
 * guest runs (it enters and exits at once).
 */
static void ipi(const struct vt_model *m, struct vt_state *s, int cpu, struct vt_trace *tr)
{
	int w = s->pcpu[cpu].vcpu;
	if (w < 0)
		return;
	if (s->vcpu[w].run == VT_RUN_GUEST) {
		vt_kvm_kick(m, s, w, tr);
	} else if (s->pcpu[cpu].h.ppc.in_guest) {
		s->pcpu[cpu].h.ppc.ipi = 1;
		vt_trace_note(tr, w, cpu, "IPI during the hard-disabled entry: taken as soon as the guest runs");
	}
}

/*
 * do_migrate_away_vcpu, on the old pCPU: the guest may have been interrupted
 * between its tlbie and the end of its eieio; tlbsync; ptesync, and a
 * tlbsync orders only the tlbies of the thread that runs it.
 */
static void do_migrate_away_vcpu(const struct vt_model *m, struct vt_state *s, int v, int cpu, struct vt_trace *tr)
{
	vt_trace_note(tr, v, cpu, "do_migrate_away_vcpu: IPI to the old pCPU");
	ipi(m, s, cpu, tr);
	if (m->opt[VT_OPT_GTSE]) {
		insn(m, s, cpu, VT_PPC_EIEIO, 0, tr);
		insn(m, s, cpu, VT_PPC_TLBSYNC, 0, tr);
	}
	insn(m, s, cpu, VT_PPC_PTESYNC, 0, tr);
}

/*
 * radix_flush_cpu: mark every thread of cpu's TLB group, then (after
 * smp_mb, paired with the hwsync of the MMU switch on entry) IPI each of
 * them whose cpu_in_guest is this kvm, so that it re-tests its bit.
 */
static void radix_flush_cpu(const struct vt_model *m, struct vt_state *s, int v, int cpu, struct vt_trace *tr)
{
	uint64_t *mask = need_tlb_flush(m, s, v);
	int first = tlb_first(m, cpu), last = tlb_last(m, cpu), step = tlb_step(m);
	int vm = m->vcpu_vm[v];
	if (one_bit_per_group(m)) {
		*mask |= VT_BIT(first);
		vt_trace_note(tr, v, cpu, "radix_flush_cpu: need_tlb_flush set for the old TLB group (its first thread's bit)");
	} else {
		for (int i = first; i <= last && i < m->npcpus; i += step)
			*mask |= VT_BIT(i);
		vt_trace_note(tr, v, cpu, "radix_flush_cpu: need_tlb_flush set for every thread of the old TLB group");
	}
	for (int i = first; i <= last && i < m->npcpus; i += step) {
		int running = s->pcpu[i].h.ppc.in_guest - 1;
		if (running < 0)
			continue;
		/* Since cpu_in_guest became a per-CPU struct kvm * it names the L1, not the nested guest. */
		bool same = one_bit_per_group(m) ? running == vm : vm_kvm(m, s, running) == vm_kvm(m, s, vm);
		if (!same)
			continue;
		if (!vt_fixed(m, VT_FIX_PPC_IPI_OLD_CORE)) {
			vt_trace_reverted(tr, v, VT_FIX_PPC_IPI_OLD_CORE,
					  "a thread of the old core running this guest is not interrupted");
			continue;
		}
		vt_trace_note(tr, s->pcpu[i].vcpu, i, "radix_flush_cpu: IPI, this thread of the old core runs the guest");
		ipi(m, s, i, tr);
	}
}

/* kvmppc_prepare_radix_vcpu(vcpu, pcpu), called from kvmhv_run_single_vcpu. */
static void prepare_radix_vcpu(const struct vt_model *m, struct vt_state *s, int v, int pcpu, bool one_phase,
			       struct vt_trace *tr)
{
	struct vt_kvm_ppc_vcpu *h = H(s, v);
	int prev = h->prev_cpu;
	if (prev == pcpu) {
		if (one_phase)
			vt_trace_note(tr, v, pcpu, "kvmppc_prepare_radix_vcpu: same pCPU as last time, nothing to do");
		return;
	}
	if (prev < 0 && one_phase)
		vt_trace_note(tr, v, pcpu, "kvmppc_prepare_radix_vcpu: first run, nothing to do");
	if (prev >= 0) {
		if (tlb_first(m, prev) != tlb_first(m, pcpu)) {
			if (!vt_fixed(m, VT_FIX_PPC_RADIX_VCPU_MOVE))
				vt_trace_reverted(tr, v, VT_FIX_PPC_RADIX_VCPU_MOVE,
						  "the vCPU changed core: nothing is marked, nobody is interrupted");
			else if (h->nested && !vt_fixed(m, VT_FIX_PPC_NESTED_VCPU_MOVE))
				vt_trace_reverted(tr, v, VT_FIX_PPC_NESTED_VCPU_MOVE,
						  "a nested vCPU's change of core is not tracked");
			else
				radix_flush_cpu(m, s, v, prev, tr);
		} else if (group_first(m, prev, true) != group_first(m, pcpu, true)) {
			vt_trace_reverted(tr, v, VT_FIX_PPC_SMT8_TLB_GROUP,
					  "the SMT8 core is taken for one TLB: a move between its halves marks nothing");
		} else {
			vt_trace_note(tr, v, pcpu, "kvmppc_prepare_radix_vcpu: moved inside its TLB group, nothing to mark");
		}
		if (vt_fixed(m, VT_FIX_PPC_MIGRATE_AWAY))
			do_migrate_away_vcpu(m, s, v, prev, tr);
	}
	h->prev_cpu = (int8_t)pcpu;
}

/* ---- entry and exit -------------------------------------------------------- */

/* The need_tlb_flush bit this pCPU tests and clears. */
static int flush_bit(const struct vt_model *m, int p)
{
	return one_bit_per_group(m) ? tlb_first(m, p) : p;
}

/* kvmhv_p9_guest_entry / kvmhv_vcpu_entry_p9 up to the bit test (check_need_tlb_flush). */
static void phase_test(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	struct vt_kvm_ppc_vcpu *h = H(s, v);
	int p = vs->pcpu, vm = m->vcpu_vm[v];
	uint64_t *mask = need_tlb_flush(m, s, v);
	s->pcpu[p].h.ppc.in_guest = (uint8_t)(vm + 1);
	s->pcpu[p].key = vt_ppc_lpid(vm);
	if (!(*mask & VT_BIT(flush_bit(m, p)))) {
		if (one_phase)
			vt_trace_note(tr, v, p, "check_need_tlb_flush: bit clear");
		vs->phase = PH_ENTRY;
		return;
	}
	bool all = true;
	if (!one_bit_per_group(m))
		for (int i = tlb_first(m, p); i <= tlb_last(m, p) && i < m->npcpus; i += tlb_step(m))
			if (!(*mask & VT_BIT(i)))
				all = false;
	h->flush = all ? VT_PPC_FLUSH_FULL : VT_PPC_FLUSH_SYNC;
	if (one_bit_per_group(m))
		vt_trace_note(tr, v, p, "check_need_tlb_flush: the TLB group's bit is set: flush");
	else if (all)
		vt_trace_note(tr, v, p, "check_need_tlb_flush: bit set, every bit of the TLB group set: this thread flushes");
	else
		vt_trace_note(tr, v, p, "check_need_tlb_flush: bit set, a sibling has flushed: ptesync only");
	if (vt_fixed(m, VT_FIX_PPC_CLEAR_AFTER_FLUSH)) {
		vs->phase = all ? PH_FLUSH_START : PH_FLUSH_DONE;
	} else {
		vt_trace_reverted(tr, v, VT_FIX_PPC_CLEAR_AFTER_FLUSH, "the bit is cleared before the flush");
		h->early = 1;
		vs->phase = PH_CLEAR;
	}
}

/* One phase of the entry path; returns true when the vCPU is in the guest. */
static bool enter_phase(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr);

/* Back to the host (switch_mmu_to_host, cpu_in_guest = NULL). */
static void exit_to_host(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	int p = s->vcpu[v].pcpu;
	if (!vt_fixed(m, VT_FIX_PPC_MIGRATE_AWAY)) {
		vt_trace_reverted(tr, v, VT_FIX_PPC_MIGRATE_AWAY, "every radix guest exit runs eieio; tlbsync; ptesync");
		insn(m, s, p, VT_PPC_EIEIO, 0, tr);
		insn(m, s, p, VT_PPC_TLBSYNC, 0, tr);
		insn(m, s, p, VT_PPC_PTESYNC, 0, tr);
	}
	s->pcpu[p].h.ppc.in_guest = 0;
	s->pcpu[p].h.ppc.ipi = 0;
	s->pcpu[p].key = VT_KEY_NONE;
}

static bool enter_phase(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	struct vt_kvm_ppc_vcpu *h = H(s, v);
	int p = vs->pcpu;
	switch (vs->phase) {
	case PH_PREPARE:
		prepare_radix_vcpu(m, s, v, p, one_phase, tr);
		vs->phase = PH_TEST;
		return false;
	case PH_TEST:
		phase_test(m, s, v, one_phase, tr);
		return false;
	case PH_FLUSH_START:
		vt_trace_note(tr, v, p, "flush_guest_tlb: tlbiel IS=2 over every set (RIC=2 on set 0)");
		insn(m, s, p, VT_PPC_TLBIEL_LPID, s->pcpu[p].key, tr);
		vs->phase = PH_FLUSH_DONE;
		return false;
	case PH_FLUSH_DONE:
		insn(m, s, p, VT_PPC_PTESYNC, 0, tr);
		if (h->flush == VT_PPC_FLUSH_FULL) {
			/* flush_guest_tlb: the congruence-class tlbiel leaves the ERAT (50087112592016a3) */
			if (vt_fixed(m, VT_FIX_PPC_ERAT_FLUSH)) {
				vt_trace_note(tr, v, p, "flush_guest_tlb: ptesync, then PPC_RADIX_INVALIDATE_ERAT_GUEST");
				insn(m, s, p, VT_PPC_SLBIA_ERAT, 0, tr);
			} else {
				vt_trace_reverted(tr, v, VT_FIX_PPC_ERAT_FLUSH,
						  "flush_guest_tlb ends at ptesync: the ERATs keep the LPID's entries");
			}
		}
		vs->phase = h->early ? PH_ENTRY : PH_CLEAR;
		return false;
	case PH_CLEAR:
		*need_tlb_flush(m, s, v) &= ~VT_BIT(flush_bit(m, p));
		vt_trace_note(tr, v, p, "check_need_tlb_flush: bit cleared");
		if (!h->early)
			vs->phase = PH_ENTRY;
		else
			vs->phase = h->flush == VT_PPC_FLUSH_FULL ? PH_FLUSH_START : PH_FLUSH_DONE;
		return false;
	default: /* PH_ENTRY */
		h->flush = VT_PPC_FLUSH_NONE;
		h->early = 0;
		vs->phase = PH_PREPARE;
		if (s->pcpu[p].h.ppc.ipi) {
			vt_trace_note(tr, v, p, "kvmppc_p9_enter_guest: the pending IPI is taken at once: the guest exits and the run loop enters again");
			exit_to_host(m, s, v, tr);
			return false;
		}
		return true;
	}
}

static bool ppc_enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	for (;;) {
		if (enter_phase(m, s, v, one_phase, tr))
			return true;
		if (one_phase)
			return false;
	}
}

static void ppc_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	exit_to_host(m, s, v, tr);
}

/*
 * vcpu_put.  A vCPU between the bit test and guest entry runs hard-disabled:
 * the preemption is taken only once it has entered the guest, so it finishes
 * the entry first and exits at once.
 */
static void ppc_put(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	if (vs->phase == PH_PREPARE || vs->phase == PH_TEST)
		return;
	vt_trace_note(tr, v, vs->pcpu, "preempted during the hard-disabled entry: it completes the entry and exits at once");
	while (vs->phase != PH_PREPARE)
		if (enter_phase(m, s, v, true, tr))
			exit_to_host(m, s, v, tr);
}

static void ppc_load(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr)
{
}

/* kvmppc_core_vcpu_create_hv: prev_cpu = -1; nested guests come from the declaration. */
static void ppc_vcpu_init(const struct vt_model *m, struct vt_state *s, int v)
{
	struct vt_kvm_ppc_vcpu *h = H(s, v);
	memset(h, 0, sizeof(*h));
	h->prev_cpu = -1;
	h->nested = s->vcpu[v].g.ppc.l1;
}

/* Radix guests run tlbie (LPCR[GTSE]=1), tlbiel, mtspr PIDR and mtmsrd natively. */
static bool ppc_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old)
{
	return false;
}

static void ppc_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
}

/*
 * A host change to the partition-scoped table (kvm_unmap_radix ->
 * kvmppc_unmap_pte): clear the PTE, then kvmppc_radix_tlbie_page ->
 * radix__flush_tlb_lpid_page: ptesync; tlbie IS=0 PRS=0 for the guest real
 * address; eieio; tlbsync; ptesync.  No vCPU is kicked: the tlbie is
 * broadcast.  Phase 1 issues the tlbie, phase 2 completes it, installs a
 * remap's new entry and lets the host reuse the old page.
 */
static bool ppc_host_op(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr)
{
	int vm = op->target, p = 0;
	uint64_t same = 0;
	for (int j = 0; j < m->ns; j++)
		if (m->s2[j].vm == vm && m->s2[j].gpa == op->a)
			same |= VT_BIT(j);
	if (s->host_phase == 0) {
		s->vm[vm].s2 &= ~same;
		vt_trace_note(tr, -1, p, "kvmppc_unmap_pte: partition-scoped PTE cleared; kvmppc_radix_tlbie_page");
		insn(m, s, p, VT_PPC_PTESYNC, 0, tr);
		m->hw->insn(m, s, p, VT_PPC_TLBIE_GPA, vt_ppc_lpid(vm), op->a, tr);
		s->host_phase = 1;
		if (one_phase)
			return false;
	}
	insn(m, s, p, VT_PPC_EIEIO, 0, tr);
	insn(m, s, p, VT_PPC_TLBSYNC, 0, tr);
	insn(m, s, p, VT_PPC_PTESYNC, 0, tr);
	uint64_t keep = 0;
	if (op->code == VT_OP_HOST_REMAP) {
		keep = VT_BIT(op->b);
		s->vm[vm].s2 |= keep;
		s->s_perm |= keep;
	}
	s->s_perm &= ~(same & ~keep);
	return true;
}

const struct vt_hv_ops vt_kvm_ppc_ops = {
	.name = "kvm-ppc-radix",
	.req_names = ppc_req_names,
	.nreqs = 0,
	.vcpu_init = ppc_vcpu_init,
	.load = ppc_load,
	.enter = ppc_enter,
	.exit = ppc_exit,
	.put = ppc_put,
	.intercepts = ppc_intercepts,
	.handle = ppc_handle,
	.host_op = ppc_host_op,
	.walk = vt_walk_nested,
	.global_bytes = sizeof(struct vt_kvm_ppc_global),
	.vm_bytes = sizeof(struct vt_kvm_ppc_vm),
	.vcpu_bytes = sizeof(struct vt_kvm_ppc_vcpu),
};
