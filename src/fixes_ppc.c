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
	},
	{
		.id = VT_FIX_PPC_MIGRATE_AWAY,
		.name = "ppc-migrate-away",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_COST,
		.origin = "KVM: PPC: Book3S HV P9: Avoid tlbsync sequence on radix guest exit (Nicholas Piggin, "
			  "2021, v5.17; hash unverified)",
		.rule = "instead of eieio; tlbsync; ptesync at every radix guest exit, do_migrate_away_vcpu runs it "
			"on the old pCPU when a vCPU moves, and need_tlb_flush gets a bit per thread with the first "
			"arrival flushing and its siblings running a ptesync",
		.scenario = "scenarios/ppc/migrate-away.vtlb",
		.modelled = 1,
	},
	{.name = NULL},
};
