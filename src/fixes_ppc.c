/*
 * The POWER part of the fix catalogue (see src/fixes.c; docs/ppc.md is its
 * long form).  Origins come from docs/notes/kvm-arm64-ppc-source.md Part B;
 * "hash unverified" marks commits whose hash could not be read.  Kinds are
 * what the model shows with the bundled scenarios in scenarios/ppc/.
 */
#include <stddef.h>

#include "vtlb/fixes.h"

const struct vt_fix_info vt_fixes_ppc[] = {
	{
		.id = VT_FIX_PPC_RADIX_VCPU_MOVE,
		.name = "ppc-radix-vcpu-move",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB on radix guest vcpu movement (a29ebeaf5575, "
			  "Paul Mackerras, 2017, v4.11) [seed 003]",
		.rule = "when a vCPU starts on a core other than the one it last ran on, the old core is marked in "
			"need_tlb_flush and the first thread of it to enter the guest flushes the LPID's translations",
		.scenario = "scenarios/ppc/seed003-vcpu-move.vtlb",
		.modelled = 1,
		.since = "v4.11",
		.hole = "v4.11",
		.verified = 0,
	},
	{
		.id = VT_FIX_PPC_IPI_OLD_CORE,
		.name = "ppc-ipi-old-core",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB on radix guest vcpu movement (a29ebeaf5575, "
			  "Paul Mackerras, 2017, v4.11), its IPI to the old core [seed 003]",
		.rule = "radix_flush_cpu interrupts the threads of the old core that are running a vCPU of the same "
			"guest, so that they re-test their bit before running guest code again",
		.scenario = "scenarios/ppc/seed003-vcpu-move.vtlb",
		.modelled = 1,
		.since = "v4.11",
		.hole = "v4.11",
		.verified = 0,
	},
	{
		.id = VT_FIX_PPC_CLEAR_AFTER_FLUSH,
		.name = "ppc-clear-after-flush",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB on radix guest vcpu movement (a29ebeaf5575, "
			  "Paul Mackerras, 2017, v4.11): \"moves the clearing of the bit from before the actual flush "
			  "to after it\" [seed 003]",
		.rule = "a thread clears its need_tlb_flush bit only after its flush (or its ptesync) has completed, "
			"so a sibling that finds the bit clear cannot enter while the shared TLB is still stale",
		.scenario = "scenarios/ppc/clear-after-flush.vtlb",
		.modelled = 1,
		.since = "v4.11",
		.hole = "v4.11",
		.verified = 0,
	},
	{
		.id = VT_FIX_PPC_NESTED_VCPU_MOVE,
		.name = "ppc-nested-vcpu-move",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB when nested vcpu moves physical cpu (Suraj Jitindar "
			  "Singh, 2018, v4.20; hash unverified)",
		.rule = "a nested (L2) vCPU's moves are tracked too, in the nested guest's prev_cpu[] and "
			"need_tlb_flush, and the flush runs under its shadow LPID",
		.scenario = "scenarios/ppc/nested-vcpu-move.vtlb",
		.modelled = 1,
		.since = "v4.20",
		.hole = "v4.20",
		.verified = 0,
	},
	{
		.id = VT_FIX_PPC_SMT8_TLB_GROUP,
		.name = "ppc-smt8-tlb-group",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Fix TLB management on SMT8 POWER9 and POWER10 processors "
			  "(77bbbc0cf848, Suraj Jitindar Singh, 2021, v5.14)",
		.rule = "the TLB-sharing group of an SMT8 core is its even or its odd threads "
			"(cpu_first_tlb_thread_sibling), not the whole core",
		.scenario = "scenarios/ppc/smt8-tlb-group.vtlb",
		.modelled = 1,
		.since = "v5.14",
		.hole = "v4.11",
		.verified = 0, /* since checked; the hole (radix guests, v4.11) inferred */
	},
	{
		.id = VT_FIX_PPC_MIGRATE_AWAY,
		.name = "ppc-migrate-away",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_COST,
		.origin = "KVM: PPC: Book3S HV P9: Avoid tlbsync sequence on radix guest exit (d5c0e8332d82, "
			  "Nicholas Piggin, 2021)",
		.rule = "instead of eieio; tlbsync; ptesync at every radix guest exit, do_migrate_away_vcpu runs it "
			"on the old pCPU when a vCPU moves, and need_tlb_flush gets a bit per thread with the first "
			"arrival flushing and its siblings running a ptesync",
		.scenario = "scenarios/ppc/migrate-away.vtlb",
		.modelled = 1,
		.since = "v5.17",
		.verified = 1,
	},
	{
		.id = VT_FIX_PPC_ERAT_FLUSH,
		.name = "ppc-erat-flush",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate ERAT when flushing guest TLB entries (50087112592016a3, "
			  "Suraj Jitindar Singh, 2019, v5.2-rc6; fixes 70ea13f6e609)",
		.rule = "flush_guest_tlb ends with an ERAT invalidation (SLBIA IH=7, PPC_INVALIDATE_ERAT; later IH=6, "
			"PPC_RADIX_INVALIDATE_ERAT_GUEST) after its congruence-class tlbiel and ptesync, because POWER9's "
			"congruence-class tlbiel leaves the ERAT; without it a vCPU that comes back to a thread can hit "
			"the thread's ERAT entries that the flush was meant to remove",
		.scenario = "scenarios/ppc/erat-flush.vtlb",
		.modelled = 1,
		.since = "v5.2", /* from the origin; not checked in this session */
		.hole = "v5.2",
	},
	{
		.id = VT_FIX_PPC_SECONDARY_THREADS,
		.name = "ppc-secondary-threads",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Flush TLB on secondary radix threads (70ea13f6e609, Paul Mackerras, "
			  "2019, v5.2-rc1); completed by 'KVM: PPC: Book3S HV: Make sure to load LPID for radix VCPUs' "
			  "(Paul Mackerras, 2019, v5.2; hash unverified)",
		.rule = "with indep_threads_mode=N, secondary threads entering through the real-mode path load the "
			"guest's LPID and run the need_tlb_flush check as the primary does; it also moved the flush "
			"into flush_guest_tlb, which lost the ERAT invalidation that ppc-erat-flush restored.  Not "
			"modelled: the model has no virtual cores run in indep_threads_mode=N",
		.scenario = NULL,
		.modelled = 0,
		.since = "v5.2", /* from the origin; not checked in this session */
		.hole = "v4.11",
	},
	{.name = NULL},
};
