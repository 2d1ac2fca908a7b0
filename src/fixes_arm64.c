/*
 * The arm64 part of the fix catalogue (see src/fixes.c; docs/arm64.md is
 * its long form).  Origins come from docs/notes/kvm-arm64-ppc-source.md
 * (Part A); "unverified" marks what could not be checked against a stored
 * source.  Kinds are what the model shows with the bundled scenarios.
 */
#include <stddef.h>

#include "vtlb/fixes.h"

const struct vt_fix_info vt_fixes_arm64[] = {
	{
		.id = VT_FIX_ARM64_VCPU_MULTIPLEX,
		.name = "arm64-vcpu-multiplex",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "arm/arm64: KVM: Perform local TLB invalidation when multiplexing vcpus on a single CPU "
			  "(94d0e5980d67, Marc Zyngier, 2016, v4.9) [seed 004]; per stage-2 MMU since a0e50aa3f4a8 (2020), "
			  "keyed on vcpu_idx since 5f4bd815ec71 (2023)",
		.rule = "kvm_arch_vcpu_load: when mmu->last_vcpu_ran[cpu] is not this vCPU, __kvm_flush_cpu_context "
			"(local TLBI VMALLE1 for the VM's VMID; DSB NSH; ISB) before it runs, because the TLB is tagged by "
			"VMID, not by vCPU, and HCR_EL2.FB only broadcasts what a guest invalidates",
		.scenario = "scenarios/arm64/seed004-vcpu-multiplex.vtlb",
		.modelled = 1,
		.since = "v4.9",
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_ICACHE_ISOLATION,
		.name = "arm64-icache-isolation",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Ensure I-cache isolation between vcpus of a same VM (01dc9262ff57, Marc Zyngier, "
			  "2021, v5.12-rc, stable)",
		.rule = "__kvm_flush_cpu_context also invalidates the PE's I-cache (IC IALLU), so lines another vCPU of "
			"the VM allocated on this PE cannot be hit",
		.scenario = "scenarios/arm64/icache-isolation.vtlb",
		.modelled = 1,
		.since = "v5.12",
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_VMID_BEFORE_VTTBR,
		.name = "arm64-vmid-before-vttbr",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Ensure a VMID is allocated before programming VTTBR_EL2 (fa808ed4e199, Oliver Upton, "
			  "2025, v6.14-rc, stable 6.13; fixes 934bf871f011, 2023)",
		.rule = "kvm_arch_vcpu_load calls kvm_arm_vmid_update before VHE loads VTTBR_EL2; before, a vCPU whose "
			"update took the fast path kept the VMID vcpu_load had written (0 for a new VM)",
		.scenario = "scenarios/arm64/vmid-before-vttbr.vtlb",
		.modelled = 1,
		.since = "v6.14",
		.hole = "v6.7",
		.verified = 1,
	},
	{
		.id = VT_FIX_ARM64_VMID_ROLLOVER_FLUSH,
		.name = "arm64-vmid-rollover-flush",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "flush_context -> __kvm_flush_vm_context (TLBI ALLE1IS) at VMID rollover: in KVM/ARM's VMID "
			  "allocator since it was merged (2013, introducing commit unverified), kept by "
			  "KVM: arm64: Introduce a new VMID allocator for KVM (417838392f2e, Shameer Kolothum, 2021, v5.17)",
		.rule = "a VMID number passes to another VM only after a generation rollover that invalidates every "
			"VMID's entries on every PE",
		.scenario = "scenarios/arm64/vmid-rollover-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_S2_UNMAP_ORDER,
		.name = "arm64-s2-unmap-order",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "__kvm_tlb_flush_vmid_ipa: DSB ISH between TLBI IPAS2E1IS and TLBI VMALLE1IS (present in "
			  "arm64 KVM from its early hyp.S; introducing commit unverified)",
		.rule = "the stage-2 invalidation must complete before the stage-1 one, or a walk on another PE can "
			"refill a combined entry from the stage-2 entry still cached (shown as a breach)",
		.scenario = "scenarios/arm64/s2-unmap-order.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_SWITCH_TO_DSB,
		.name = "arm64-switch-to-dsb",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "arm64 __switch_to: dsb(ish) \"in case the thread migrates to a different CPU\" (host kernel, "
			  "since the arm64 port, 2012; introducing commit unverified)",
		.rule = "a vCPU thread leaving a CPU completes that CPU's pending TLB maintenance, so a guest TLBI "
			"interrupted before its DSB is complete when the DSB runs on another CPU",
		.scenario = "scenarios/arm64/switch-to-dsb.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_VMID_ALLOCATOR,
		.name = "arm64-vmid-allocator",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_COST,
		.origin = "KVM: arm64: Introduce a new VMID allocator for KVM (417838392f2e, Shameer Kolothum, 2021, v5.17; "
			  "with f8051e960922, 3248136b3637 (Julien Grall) and 100b4f092f87)",
		.rule = "VMIDs active or reserved on a CPU keep their number across a rollover, which flushes with TLBI "
			"ALLE1IS and sends no IPI; before, each rollover forced every vCPU out of the guest (force_vm_exit) "
			"and gave every VM a new VMID",
		.scenario = "scenarios/arm64/vmid-allocator.vtlb",
		.modelled = 1,
		.since = "v5.17",
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_VMID_LOCKLESS,
		.name = "arm64-vmid-lockless",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm/arm64: Fix VMID alloc race by reverting to lock-less (Christoffer Dall, 2018, v5.0, "
			  "stable; fixes f0cf47d939d0; hash unverified, believed fb544d1ca65a); code of the allocator "
			  "before v5.17",
		.rule = "update_vmid writes the new VMID before it publishes the VM's VMID generation, so a sibling vCPU "
			"whose unlocked need_new_vmid_gen() sees the new generation also enters with the new VMID",
		.scenario = "scenarios/arm64/vmid-lockless.vtlb",
		.modelled = 1,
		.since = "v5.0",
		.verified = 1,
	},
	{
		.id = VT_FIX_ARM64_VCPU_MULTIPLEX_LOAD,
		.name = "arm64-vcpu-multiplex-load",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "the merged form of 94d0e5980d67 (Marc Zyngier, reviewed by Christoffer Dall, v4.9) against "
			  "seed 004, its v2 posting (28 Oct 2016, reviewed by Mark Rutland), which never reached a release",
		.rule = "the last_vcpu_ran check runs in kvm_arch_vcpu_load, which both KVM_RUN's vcpu_load and "
			"kvm_sched_in call; reverted, it is seed 004 as posted: only kvm_arch_sched_in (the preempt "
			"notifier) checks, setting tlb_vmid_stale for __activate_vm's TLBI VMALLE1; DSB NSH, so a vCPU "
			"that comes to a PE through vcpu_load is never checked",
		.scenario = "scenarios/arm64/seed004-as-posted.vtlb",
		.modelled = 1,
		.since = "v4.9", /* from the origin; not checked in this session */
	},
	{
		.id = VT_FIX_ARM64_S2_TABLE_ZAP_FLUSH,
		.name = "arm64-s2-table-zap-flush",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Don't defer TLB invalidation when zapping table entries (f62d4c3eb687, Will "
			  "Deacon, 2024, v6.9, stable 6.6; fixes 7657ea920c54 \"KVM: arm64: Use TLBI range-based "
			  "instructions for unmap\", v6.6)",
		.rule = "stage2_unmap_put_pte invalidates a cleared table entry at once (__kvm_tlb_flush_vmid_ipa) even "
			"when the walk defers its leaf invalidations to one range flush, because stage2_unmap_walker frees "
			"the table page (put_page(childp)) before that flush and the walk caches still point at it",
		.scenario = "scenarios/arm64/s2-table-zap-flush.vtlb",
		.modelled = 1,
		.since = "v6.9",
		.hole = "v6.6",
		.verified = 1,
	},
	{
		.id = VT_FIX_ARM64_S2_TABLE_TTL,
		.name = "arm64-s2-table-ttl",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Don't pass a TLBI level hint when zapping table entries (36e008323926, Will "
			  "Deacon, 2024, v6.9, stable 6.6); the hint for table entries is believed as old as KVM's TLBI "
			  "level hints (v5.9: unverified)",
		.rule = "the TLBI after clearing a table entry carries no level hint: a TTL hint names the level of the "
			"leaf (Arm ARM D8.17 ILTZBK), and with an incorrect hint nothing need be invalidated (RSQXYZ), so "
			"the table's walk-cache entry may outlive the freed table page",
		.scenario = "scenarios/arm64/s2-table-ttl.vtlb",
		.modelled = 1,
		.since = "v6.9",
		.hole = "v5.9",
		.verified = 0,
	},
	{
		.id = VT_FIX_ARM64_TLBI_RANGE_NUM,
		.name = "arm64-tlbi-range-num",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "arm64: tlb: Fix TLBI RANGE operand (e3ba51ab24fd, Gavin Shan, 2024, v6.9, stable 6.6+; fixes "
			  "117940aa6e5f \"KVM: arm64: Define kvm_tlb_flush_vmid_range()\", v6.6) -- an arm64 core fix "
			  "(asm/tlbflush.h), not KVM code, that KVM's range flush relies on",
		.rule = "__TLBI_RANGE_NUM returns NUM 31 at SCALE 3, so __flush_tlb_range_op covers a chunk of "
			"MAX_TLBI_RANGE_PAGES with one correct TLBI RIPAS2E1IS; before, it returned -1 at every scale, "
			"the loop ran SCALE down to -9 and issued an operand (SCALE 3, NUM 1) covering 2^17 of the 2^21 "
			"pages",
		.scenario = "scenarios/arm64/tlbi-range-num.vtlb",
		.modelled = 1,
		.since = "v6.9",
		.hole = "v6.6",
		.verified = 1,
	},
	{
		.id = VT_FIX_ARM64_S2_UNMAP_RANGE_TLBI,
		.name = "arm64-s2-unmap-range-tlbi",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_COST,
		.origin = "KVM: arm64: Use TLBI range-based instructions for unmap (7657ea920c54, Raghavendra Rao Ananta, "
			  "2023, v6.6; with 117940aa6e5f \"KVM: arm64: Define kvm_tlb_flush_vmid_range()\"); author and "
			  "release from its postings and from f62d4c3eb687's stable note (\"6.6.y only\")",
		.rule = "with FEAT_TLBIRANGE and FWB, kvm_pgtable_stage2_unmap defers the walker's per-entry TLBIs to one "
			"kvm_tlb_flush_vmid_range over the range: a few range TLBIs and one DSB/VMALLE1IS/DSB instead of "
			"TLBI IPAS2E1IS; DSB; TLBI VMALLE1IS; DSB for every page (the deferral that f62d4c3eb687 had to "
			"undo for table entries)",
		.scenario = "scenarios/arm64/s2-unmap-range-cost.vtlb",
		.modelled = 1,
		.since = "v6.6",
		.verified = 0,
	},
	{.name = NULL},
};
