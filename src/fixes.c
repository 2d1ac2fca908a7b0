/*
 * The catalogue of named fixes (docs/fixes.md is its long form).  Origins
 * were checked against kernel history where docs/notes/ says so; "unverified"
 * marks what could not be.  Kinds are what the model shows, tested in
 * tests/fixes.t: a correctness fix's revert reaches a stale translation in a
 * bundled scenario, a cost fix's revert changes only the invalidations run,
 * and a latent fix's revert is harmless unless its partners are reverted too.
 */
#include <string.h>

#include "internal.h"
#include "vtlb/fixes.h"

static const struct vt_fix_info fixes[VT_FIX_COUNT] = {
	[VT_FIX_X86_INIT_FLUSH] = {
		.name = "x86-init-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: Flush the guest's TLB on INIT (df37ed38e6c2, Sean Christopherson, 2021) [seed 000]",
		.rule = "INIT requests KVM_REQ_TLB_FLUSH_GUEST on both vendors",
		.partners = "x86-vendor-reset-flush x86-init-pg-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_INIT_PG_FLUSH] = {
		.name = "x86-init-pg-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: flush TLB separately from MMU reset, INIT hunk (f4bc051fc91a, Paolo Bonzini, 2022) [seed 001]",
		.rule = "INIT with CR0.PG=1 requests KVM_REQ_TLB_FLUSH_GUEST next to the MMU reset instead of relying on it",
		.partners = "x86-init-flush x86-vendor-reset-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_CR_FLUSH_SPLIT] = {
		.name = "x86-cr-flush-split",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: flush TLB separately from MMU reset (f4bc051fc91a, Paolo Bonzini, 2022) [seed 001]",
		.rule = "CR0/CR4 writes request the SDM's flush (PGE toggle or PCIDE 1->0 or PG 1->0: all PCIDs; "
			"PAE toggle or SMEP 0->1: current PCID) separately from the MMU role reset",
		.partners = "x86-new-root-flush",
		.scenario = "scenarios/x86/cr4-smep-flush.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_VENDOR_RESET_FLUSH] = {
		.name = "x86-vendor-reset-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "vmx_vcpu_reset: vpid_sync_context(vmx->vpid); init_vmcb: asid_generation = 0 "
			  "(long-standing vendor reset code; introducing commits unverified)",
		.rule = "the vendor part of INIT flushes the vCPU's tag (VMX: INVVPID of its VPID; SVM: a fresh ASID)",
		.partners = "x86-init-flush x86-init-pg-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_NEW_ROOT_FLUSH] = {
		.name = "x86-new-root-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "kvm_mmu_load flushes every new root (pre-2020 as tlb_flush(vcpu, true); narrowed by "
			  "KVM: x86/mmu: Use KVM_REQ_TLB_FLUSH_CURRENT for MMU specific flushes, 8c8560b83390, "
			  "Sean Christopherson, 2020)",
		.rule = "a newly loaded root is flushed before first use, so freeing roots and switching to a "
			"PCID without a cached root need no flush of their own",
		.scenario = "scenarios/x86/new-root-flush.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_PCIDE_UNLOAD] = {
		.name = "x86-pcide-unload",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: X86: Cache CR3 in prev_roots when PCID is disabled (509bfe3d9796, Lai Jiangshan, 2021), "
			  "kept by f4bc051fc91a [seed 001] and f6d0a2521ce1 (2022)",
		.rule = "under shadow paging CR4.PCIDE 0->1 frees every root, since roots cached while PCID was off "
			"were never synced and a MOV CR3 with NOFLUSH could reuse them",
		.scenario = "scenarios/x86/pcide-unload.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_PCID_ALL_PGDS] = {
		.name = "x86-pcid-all-pgds",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86: Invalidate all PGDs for the current PCID on MOV CR3 w/ flush "
			  "(21823fbda552, 2021; author unverified)",
		.rule = "a flushing MOV CR3 under shadow paging also frees cached roots of other page tables "
			"that use the same PCID",
		.scenario = "scenarios/x86/pcid-all-pgds.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_INVLPG_PREV_ROOTS] = {
		.name = "x86-invlpg-prev-roots",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "kvm: x86: Skip shadow page resync on CR3 switch when indicated by guest (956bf3531fba, "
			  "Junaid Shahid, 2018), extended to every cached root by b94742c958f0 (2018)",
		.rule = "an emulated INVLPG syncs the address in every cached root, because INVLPG must also "
			"remove global translations of other PCIDs",
		.scenario = "scenarios/x86/invlpg-prev-roots.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_GUEST_FLUSH_SYNC] = {
		.name = "x86-guest-flush-sync",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86: Unload MMU on guest TLB flush if TDP disabled to force MMU sync (b53e84eed08b, 2021), "
			  "refined by KVM: X86: Don't unload MMU in kvm_vcpu_flush_tlb_guest() (61b05a9fd4ae, "
			  "Lai Jiangshan, 2021)",
		.rule = "under shadow paging a guest-scope flush first syncs the current root and frees unsync "
			"cached roots, or the TLB refills from stale shadow entries",
		.scenario = "scenarios/x86/guest-flush-sync.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_INVALIDATE_PCID_TDP] = {
		.name = "x86-invalidate-pcid-tdp",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: X86: Fix tlb flush for tdp in kvm_invalidate_pcid() (e45e9e3998f0, Lai Jiangshan, 2021)",
		.rule = "with TDP an emulated flushing MOV CR3 or INVPCID single-context requests a guest flush "
			"for every PCID, not just the active one",
		.scenario = "scenarios/x86/invalidate-pcid-tdp.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_VMX_GUEST_FLUSH_VPID] = {
		.name = "x86-vmx-guest-flush-vpid",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: x86: Move \"flush guest's TLB\" logic to separate kvm_x86_ops hook (e64419d991ea, "
			  "Sean Christopherson, 2020) [seed 002]",
		.rule = "VMX's flush_tlb_guest is INVVPID of the current VPID and never INVEPT (with VPID off, "
			"VM entry already flushes VPID 0)",
		.scenario = "scenarios/x86/vmx-guest-flush-vpid.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_VMX_MIGRATE_FLUSH] = {
		.name = "x86-vmx-migrate-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "vmx_vcpu_load_vmcs: KVM_REQ_TLB_FLUSH when the VMCS was last loaded on another pCPU "
			  "(since VPID support, 2008, first as an immediate vpid_sync_vcpu_all(); conversion commit unverified)",
		.rule = "a VMCS that moves to another pCPU requests a full flush there, because that pCPU may hold "
			"the vCPU's entries from an earlier stay that its INVLPGs elsewhere never reached",
		.scenario = "scenarios/x86/vmx-migrate-flush.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_SVM_CPU_NEW_ASID] = {
		.name = "x86-svm-cpu-new-asid",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "svm_vcpu_load / pre_svm_run: a new ASID when the VMCB runs on another pCPU (early KVM; "
			  "keyed on the VMCB by af18fa775d07, Cathy Avery, 2021)",
		.rule = "ASIDs are handed out per pCPU, so a vCPU arriving on another pCPU takes a fresh one",
		.scenario = "scenarios/x86/svm-cpu-new-asid.vtlb",
		.modelled = 1,
	},
	[VT_FIX_X86_PGE_NO_RESET] = {
		.name = "x86-pge-no-reset",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: X86: Don't reset mmu context when toggling X86_CR4_PGE (a91a7c709600, Lai Jiangshan, 2021)",
		.rule = "a CR4.PGE toggle requests a guest flush instead of resetting the MMU (rebuilding every root)",
		.scenario = "scenarios/x86/pge-no-reset.vtlb",
		.modelled = 1,
	},

	[VT_FIX_ARM64_VCPU_MULTIPLEX] = {
		.name = "arm64-vcpu-multiplex",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "arm/arm64: KVM: Perform local TLB invalidation when multiplexing vcpus on a single CPU "
			  "(94d0e5980d67, Marc Zyngier, 2016) [seed 004]",
		.rule = "when a different vCPU of the same VM last ran on this pCPU, invalidate the VMID's "
			"stage-1 entries locally before entry",
	},
	[VT_FIX_ARM64_ICACHE_ISOLATION] = {
		.name = "arm64-icache-isolation",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Ensure I-cache isolation between vcpus of a same VM (01dc9262ff57, Marc Zyngier, 2021)",
		.rule = "the vCPU-switch flush also invalidates the local I-cache",
	},
	[VT_FIX_ARM64_VMID_BEFORE_VTTBR] = {
		.name = "arm64-vmid-before-vttbr",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Ensure a VMID is allocated before programming VTTBR_EL2 (fa808ed4e199, "
			  "Oliver Upton, 2025)",
		.rule = "the VMID is allocated or refreshed in kvm_arch_vcpu_load before VTTBR_EL2 is written",
	},
	[VT_FIX_ARM64_VMID_ROLLOVER_FLUSH] = {
		.name = "arm64-vmid-rollover-flush",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm64: Introduce a new VMID allocator for KVM (417838392f2e, Shameer Kolothum, 2021)",
		.rule = "a VMID rollover flushes every VMID on every PE (TLBI ALLE1IS) before any VMID is reused",
	},
	[VT_FIX_ARM64_VMID_LOCKLESS] = {
		.name = "arm64-vmid-lockless",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: arm/arm64: Fix VMID alloc race by reverting to lock-less (Christoffer Dall, 2018)",
		.rule = "a vCPU never enters with a VMID from a previous generation",
	},
	[VT_FIX_ARM64_S2_UNMAP_ORDER] = {
		.name = "arm64-s2-unmap-order",
		.arch = VT_ARCH_ARM64,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "__kvm_tlb_flush_vmid_ipa: TLBI IPAS2E1IS; DSB ISH; TLBI VMALLE1IS; DSB ISH",
		.rule = "a stage-2 unmap invalidates the IPA, completes it, then invalidates stage-1 (combined) entries",
	},
	[VT_FIX_PPC_RADIX_VCPU_MOVE] = {
		.name = "ppc-radix-vcpu-move",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB on radix guest vcpu movement (a29ebeaf5575, "
			  "Paul Mackerras, 2017) [seed 003]",
		.rule = "when a vCPU starts on a core other than the one it last ran on, the old core's TLB "
			"group is marked to flush the LPID before its next guest entry",
	},
	[VT_FIX_PPC_IPI_OLD_CORE] = {
		.name = "ppc-ipi-old-core",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "a29ebeaf5575 (Paul Mackerras, 2017) [seed 003]",
		.rule = "threads of the old core running a vCPU of the same guest are interrupted so they flush "
			"before running guest code again",
	},
	[VT_FIX_PPC_CLEAR_AFTER_FLUSH] = {
		.name = "ppc-clear-after-flush",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "a29ebeaf5575 (Paul Mackerras, 2017) [seed 003]",
		.rule = "a thread clears its need_tlb_flush bit only after the flush has completed",
	},
	[VT_FIX_PPC_SMT8_TLB_GROUP] = {
		.name = "ppc-smt8-tlb-group",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Fix TLB management on SMT8 POWER9 and POWER10 processors "
			  "(77bbbc0cf848, Suraj Jitindar Singh, 2021)",
		.rule = "an SMT8 big core is two TLB groups (even and odd threads); flush marks follow the groups",
	},
	[VT_FIX_PPC_NESTED_VCPU_MOVE] = {
		.name = "ppc-nested-vcpu-move",
		.arch = VT_ARCH_PPC,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: PPC: Book3S HV: Invalidate TLB when nested vcpu moves physical cpu "
			  "(Suraj Jitindar Singh, 2018; hash unverified)",
		.rule = "the same movement rule for nested guests, per nested LPID",
	},
};

const struct vt_fix_info *vt_fix_info(unsigned fix)
{
	return fix < VT_FIX_COUNT ? &fixes[fix] : NULL;
}

int vt_fix_lookup(const char *name)
{
	for (int i = 0; i < VT_FIX_COUNT; i++)
		if (fixes[i].name && strcmp(fixes[i].name, name) == 0)
			return i;
	return -1;
}

const char *vt_fix_kind_name(enum vt_fix_kind k)
{
	static const char *const names[VT_FIX_KIND_COUNT] = {
		[VT_FIX_CORRECTNESS] = "correctness",
		[VT_FIX_COST] = "cost",
		[VT_FIX_LATENT] = "latent",
	};
	return (unsigned)k < VT_FIX_KIND_COUNT ? names[k] : "?";
}

const char *vt_arch_name(enum vt_arch a)
{
	static const char *const names[VT_ARCH_COUNT] = {
		[VT_ARCH_X86] = "x86",
		[VT_ARCH_ARM64] = "arm64",
		[VT_ARCH_PPC] = "ppc",
	};
	return (unsigned)a < VT_ARCH_COUNT ? names[a] : "?";
}
