/*
 * The catalogue of named fixes (docs/fixes.md is its long form).  Origins
 * were checked against kernel history where docs/notes/ says so; "unverified"
 * marks what could not be.  Kinds are what the model shows, tested in
 * tests/fixes.t: a correctness fix's revert reaches a stale translation in a
 * bundled scenario, a cost fix's revert changes only the invalidations run,
 * and a latent fix's revert is harmless unless its partners are reverted too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/fixes.h"

const struct vt_fix_info vt_fixes_x86[] = {
	{
		.id = VT_FIX_X86_INIT_FLUSH,
		.name = "x86-init-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: Flush the guest's TLB on INIT (df37ed38e6c2, Sean Christopherson, 2021) [seed 000]",
		.rule = "INIT requests KVM_REQ_TLB_FLUSH_GUEST on both vendors",
		.partners = "x86-vendor-reset-flush x86-init-pg-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
		.since = "v5.15",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_INIT_PG_FLUSH,
		.name = "x86-init-pg-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: flush TLB separately from MMU reset, INIT hunk (f4bc051fc91a, Paolo Bonzini, 2022) [seed 001]",
		.rule = "INIT with CR0.PG=1 requests KVM_REQ_TLB_FLUSH_GUEST next to the MMU reset instead of relying on it",
		.partners = "x86-init-flush x86-vendor-reset-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
		.since = "v5.18",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_CR_FLUSH_SPLIT,
		.name = "x86-cr-flush-split",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: flush TLB separately from MMU reset (f4bc051fc91a, Paolo Bonzini, 2022) [seed 001]",
		.rule = "CR0/CR4 writes request the SDM's flush (PGE toggle or PCIDE 1->0 or PG 1->0: all PCIDs; "
			"PAE toggle or SMEP 0->1: current PCID) separately from the MMU role reset",
		.partners = "x86-new-root-flush",
		.scenario = "scenarios/x86/cr4-smep-flush.vtlb",
		.modelled = 1,
		.since = "v5.18",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_VENDOR_RESET_FLUSH,
		.name = "x86-vendor-reset-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "vmx_vcpu_reset: vpid_sync_context(vmx->vpid); init_vmcb: asid_generation = 0 "
			  "(long-standing vendor reset code; introducing commits unverified)",
		.rule = "the vendor part of INIT flushes the vCPU's tag (VMX: INVVPID of its VPID; SVM: a fresh ASID)",
		.partners = "x86-init-flush x86-init-pg-flush x86-new-root-flush (all three)",
		.scenario = "scenarios/x86/init-flush-latent.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NEW_ROOT_FLUSH,
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
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_PCIDE_UNLOAD,
		.name = "x86-pcide-unload",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86: Invalidate all PGDs for the current PCID on MOV CR3 w/ flush (21823fbda552, "
			  "Sean Christopherson, 2021), which made roots cached with PCID off unusable (every MOV CR3 "
			  "freed them); kept when KVM: X86: Cache CR3 in prev_roots when PCID is disabled (509bfe3d9796, "
			  "Lai Jiangshan, 2021, v5.16) cached them again and freed them at CR4.PCIDE 0->1 instead, as its "
			  "message says; kept by f4bc051fc91a [seed 001] and f6d0a2521ce1 (2022)",
		.rule = "under shadow paging CR4.PCIDE 0->1 frees every root, since roots cached while PCID was off "
			"were never synced and a MOV CR3 with NOFLUSH could reuse them",
		.scenario = "scenarios/x86/pcide-unload.vtlb",
		.modelled = 1,
		.since = "v5.14",
		.hole = "v4.19",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_PCID_ALL_PGDS,
		.name = "x86-pcid-all-pgds",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86: Invalidate all PGDs for the current PCID on MOV CR3 w/ flush "
			  "(21823fbda552, Sean Christopherson, 2021)",
		.rule = "a flushing MOV CR3 under shadow paging also frees cached roots of other page tables "
			"that use the same PCID",
		.scenario = "scenarios/x86/pcid-all-pgds.vtlb",
		.modelled = 1,
		.since = "v5.14",
		.hole = "v4.19",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_INVLPG_PREV_ROOTS,
		.name = "x86-invlpg-prev-roots",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "kvm: x86: Skip shadow page resync on CR3 switch when indicated by guest (956bf3531fba, "
			  "Junaid Shahid, 2018), extended to every cached root by b94742c958f0 (2018)",
		.rule = "an emulated INVLPG syncs the address in every cached root, because INVLPG must also "
			"remove global translations of other PCIDs",
		.scenario = "scenarios/x86/invlpg-prev-roots.vtlb",
		.modelled = 1,
		.since = "v4.19",
		.hole = "v4.19",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_GUEST_FLUSH_SYNC,
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
		.since = "v5.13",
		.hole = "v4.16",
		.verified = 0, /* since checked; the hole (f38a7b75267f) not */
	},
	{
		.id = VT_FIX_X86_INVALIDATE_PCID_TDP,
		.name = "x86-invalidate-pcid-tdp",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: X86: Fix tlb flush for tdp in kvm_invalidate_pcid() (e45e9e3998f0, Lai Jiangshan, 2021)",
		.rule = "with TDP an emulated flushing MOV CR3 or INVPCID single-context requests a guest flush "
			"for every PCID, not just the active one",
		.scenario = "scenarios/x86/invalidate-pcid-tdp.vtlb",
		.modelled = 1,
		.since = "v5.16",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_VMX_GUEST_FLUSH_VPID,
		.name = "x86-vmx-guest-flush-vpid",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: x86: Move \"flush guest's TLB\" logic to separate kvm_x86_ops hook (e64419d991ea, "
			  "Sean Christopherson, 2020) [seed 002]",
		.rule = "VMX's flush_tlb_guest is INVVPID of the current VPID and never INVEPT (with VPID off, "
			"VM entry already flushes VPID 0)",
		.scenario = "scenarios/x86/vmx-guest-flush-vpid.vtlb",
		.modelled = 1,
		.since = "v5.8",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_VMX_MIGRATE_FLUSH,
		.name = "x86-vmx-migrate-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "vmx_vcpu_load_vmcs: KVM_REQ_TLB_FLUSH when the VMCS was last loaded on another pCPU "
			  "(since VPID support, 2008, first as an immediate vpid_sync_vcpu_all(); conversion commit unverified)",
		.rule = "a VMCS that moves to another pCPU requests a full flush there, because that pCPU may hold "
			"the vCPU's entries from an earlier stay that its INVLPGs elsewhere never reached",
		.scenario = "scenarios/x86/vmx-migrate-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_SVM_CPU_NEW_ASID,
		.name = "x86-svm-cpu-new-asid",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "svm_vcpu_load / pre_svm_run: a new ASID when the VMCB runs on another pCPU (early KVM; "
			  "keyed on the VMCB by af18fa775d07, Cathy Avery, 2021)",
		.rule = "ASIDs are handed out per pCPU, so a vCPU arriving on another pCPU takes a fresh one",
		.scenario = "scenarios/x86/svm-cpu-new-asid.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_PGE_NO_RESET,
		.name = "x86-pge-no-reset",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: X86: Don't reset mmu context when toggling X86_CR4_PGE (a91a7c709600, Lai Jiangshan, 2021)",
		.rule = "a CR4.PGE toggle requests a guest flush instead of resetting the MMU (rebuilding every root)",
		.scenario = "scenarios/x86/pge-no-reset.vtlb",
		.modelled = 1,
		.since = "v5.16",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_SVM_ASID_ROLLOVER_FLUSH,
		.name = "x86-svm-asid-rollover-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "new_asid: TLB_CONTROL_FLUSH_ALL_ASID when a pCPU's ASIDs run out and its generation is bumped "
			  "(in KVM's SVM code since it was merged: the 2.6.20-era drivers/kvm/svm.c new_asid has it; "
			  "introducing commit not identified)",
		.rule = "a new ASID generation hands numbers used in the old one to other vCPUs, so the VMRUN that starts "
			"it flushes every ASID on the pCPU; without it a vCPU inherits the previous owner's entries",
		.scenario = "scenarios/x86/svm-asid-rollover-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_GET_PAGE_SYNC,
		.name = "x86-get-page-sync",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "kvm x86/mmu: use KVM_REQ_MMU_SYNC to sync when needed (f6f6195b888c, Lai Jiangshan, 2020, "
			  "stable 5.8), restoring the KVM_REQ_MMU_SYNC in kvm_mmu_get_page that KVM: x86/mmu: Use "
			  "KVM_REQ_TLB_FLUSH_CURRENT for MMU specific flushes (8c8560b83390, Sean Christopherson, 2020) "
			  "had replaced by KVM_REQ_TLB_FLUSH_CURRENT; the sync itself dates from the unsync shadow pages "
			  "(KVM: MMU: out of sync shadow core, Marcelo Tosatti, 2008)",
		.rule = "kvm_mmu_get_page, handing out an existing shadow page with unsync children (a table the guest "
			"unlinked, changed and linked again), requests KVM_REQ_MMU_SYNC so the root is synced before the "
			"guest runs again; a TLB flush alone refills from the unsync entries (until 65855ed8b034 "
			"moved the sync into FNAME(fetch), before the link, and dropped the request)",
		.partners = "x86-sync-before-link",
		.scenario = "scenarios/x86/get-page-sync.vtlb",
		.modelled = 1,
		.since = "v5.9",
		.hole = "v5.8",
		.until = "v5.15",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_PV_PREEMPTED_ONCE,
		.name = "x86-pv-preempted-once",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "x86/kvm: Be careful not to clear KVM_VCPU_FLUSH_TLB bit (8c6de56a42e0, Boris Ostrovsky, 2019; "
			  "CVE-2019-3016; in v5.6-rc1 and stable 5.4.19, release from the stable backport's date)",
		.rule = "kvm_steal_time_set_preempted returns at once when KVM's copy says the vCPU is already marked "
			"preempted, so a second vcpu_put of a preempted vCPU (sched_in, preempted again before it entered) "
			"does not overwrite a KVM_VCPU_FLUSH_TLB the guest set meanwhile",
		.scenario = "scenarios/x86/pv-flush-preempted-twice.vtlb",
		.modelled = 1,
		.since = "v5.6", /* from the origin; not checked in this session */
		.hole = "v4.16",
	},
	{
		.id = VT_FIX_X86_PV_FLUSH_XCHG,
		.name = "x86-pv-flush-xchg",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "x86/KVM: Make sure KVM_VCPU_FLUSH_TLB flag is not missed (b043138246a4, Boris Ostrovsky, 2019; "
			  "CVE-2019-3016; in v5.6-rc1 and stable 5.4.19, release from the stable backport's date)",
		.rule = "record_steal_time takes the guest's preempted byte with one atomic xchg (and flushes if it held "
			"KVM_VCPU_FLUSH_TLB), instead of reading the steal-time area, clearing its copy and writing it back, "
			"between which the guest could still see the vCPU preempted and set a flag that the write-back erases",
		.scenario = "scenarios/x86/pv-flush-record-race.vtlb",
		.modelled = 1,
		.since = "v5.6", /* from the origin; not checked in this session */
		.hole = "v4.16",
	},
	{
		.id = VT_FIX_X86_SREGS_FLUSH,
		.name = "x86-sregs-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: x86: Force TLB flush on userspace changes to special registers (4346db6e6e7a, Michal "
			  "Luczaj, 2023, v6.7; after f4bc051fc91a split the flush from the MMU reset)",
		.rule = "KVM_SET_SREGS(2) and KVM_SYNC_X86_SREGS that change CR0, CR3, CR4 or EFER request "
			"KVM_REQ_TLB_FLUSH_GUEST next to kvm_mmu_reset_context",
		.partners = "x86-new-root-flush",
		.scenario = "scenarios/x86/sregs-flush.vtlb",
		.modelled = 1,
		.since = "v6.7", /* from the origin; not checked in this session */
	},
	{
		.id = VT_FIX_X86_HV_FLUSH_GENTLY,
		.name = "x86-hv-flush-gently",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: x86: hyper-v: Handle HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST{,EX} calls gently (260970862c88, "
			  "Vitaly Kuznetsov, 2022, v6.2)",
		.rule = "kvm_hv_flush_tlb queues each target's pages in its tlb_flush_fifo (a 'flush all' entry when "
			"they do not fit) and requests KVM_REQ_HV_TLB_FLUSH, which flushes the queued pages one by one "
			"(flush_tlb_gva) instead of the whole guest TLB",
		.scenario = "scenarios/x86/hv-flush.vtlb",
		.modelled = 1,
		.since = "v6.2", /* from the origin; not checked in this session */
	},
	{
		.id = VT_FIX_X86_INVPCID_ALL_FLUSH_GUEST,
		.name = "x86-invpcid-all-flush-guest",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: x86: Use KVM_REQ_TLB_FLUSH_GUEST to handle INVPCID(ALL) emulation (28f28d453ffc, "
			  "Sean Christopherson, 2021)",
		.rule = "an emulated INVPCID of all contexts (types 2 and 3) requests a guest flush instead of freeing "
			"every root (kvm_mmu_unload), so under shadow paging the roots are synced, not rebuilt",
		.scenario = "scenarios/x86/invpcid-all-flush-guest.vtlb",
		.modelled = 1,
		.since = "v5.14",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_PV_USER_NOT_PREEMPTED,
		.name = "x86-pv-user-not-preempted",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_COST,
		.origin = "KVM: x86: do not set st->preempted when going back to user space (54aa83c90198, Paolo Bonzini, "
			  "2022, v5.19-rc2 through the kvm fixes pull; release read from the pull's shortlog, unverified in a tag)",
		.rule = "kvm_arch_vcpu_put marks the steal-time area KVM_VCPU_PREEMPTED only for a vCPU preempted inside "
			"KVM_RUN (vcpu->preempted), not for one whose thread returns to userspace; before it every vcpu_put "
			"marked it, so the guest left such a vCPU a KVM_VCPU_FLUSH_TLB (a full guest flush at its next "
			"entry) where it now sends an IPI (the one page)",
		.scenario = "scenarios/x86/pv-flush-user-exit.vtlb",
		.modelled = 1,
		.since = "v5.19",
		.hole = "v4.16", /* KVM_FEATURE_PV_TLB_FLUSH came in v4.16 */
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_SYNC_REMOTE_FLUSH,
		.name = "x86-sync-remote-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: X86: Fix missed remote tlb flush in rmap_write_protect() (f81602958c11, Lai Jiangshan, "
			  "2021, v5.15-rc3; Fixes: a4ee1ca4a36e KVM: MMU: delay flush all tlbs on sync_page path, Xiao "
			  "Guangrong, 2011, which had replaced the flush by kvm->tlbs_dirty++; the counter, left without "
			  "a user, went in KVM: Remove tlbs_dirty, 6bc6db000295, same series, no change of behaviour)",
		.rule = "kvm_sync_page that drops present SPTEs of a shadow page flushes remote TLBs; before, it only "
			"counted tlbs_dirty, which rmap_write_protect does not look at, so when the guest later used the "
			"page as a page table no flush removed another vCPU's writable translation of it, and a store "
			"through that translation changed the table behind KVM's back",
		.scenario = "scenarios/x86/sync-remote-flush.vtlb",
		.modelled = 1,
		.since = "v5.15",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_SYNC_BEFORE_LINK,
		.name = "x86-sync-before-link",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: X86: Synchronize the shadow pagetable before link it (65855ed8b034, Lai Jiangshan, 2021, "
			  "v5.15-rc3; Fixes: 4731d4c7a077 KVM: MMU: out of sync shadow core, Marcelo Tosatti, 2008)",
		.rule = "FNAME(fetch) syncs a shadow page with unsync children (mmu_sync_children) before it links it "
			"into the root; before, kvm_mmu_get_page only asked the faulting vCPU for KVM_REQ_MMU_SYNC, and "
			"another vCPU running on the same (shared) root walked the unsync entries through the new link",
		.scenario = "scenarios/x86/sync-before-link.vtlb",
		.modelled = 1,
		.since = "v5.15",
		.verified = 1,
	},
	{
		.id = VT_FIX_X86_VMX_FLUSH_ALL_EPTP,
		.name = "x86-vmx-flush-all-eptp",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_LATENT,
		.origin = "KVM: VMX: Flush all EPTP/VPID contexts on remote TLB flush (Sean Christopherson, 2020; patch 1 of "
			  "the TLB flushing rework, merged for v5.8 per the 5.8 KVM pull; mainline hash unverified; "
			  "Fixes: efebf0aaec3d, nVMX)",
		.rule = "KVM_REQ_TLB_FLUSH (remote flushes, the migration flush) runs vmx_flush_tlb_all: INVEPT global, "
			"every EPTP of every root, not only the current one; without nested VMX every other root is "
			"flushed by kvm_mmu_load when a vCPU loads it again, which is what the commit message says covers it",
		.partners = "x86-new-root-flush",
		.scenario = "scenarios/x86/vmx-flush-all-eptp.vtlb",
		.modelled = 1,
		.since = "v5.8",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_TDP_ZAP_YIELD_FLUSH,
		.name = "x86-tdp-zap-yield-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86/mmu: Ensure TLBs are flushed when yielding during GFN range zap (a835429cda91, Sean "
			  "Christopherson, 2021; Fixes: 1af4a96025b3, which both came in v5.12)",
		.rule = "a TDP MMU range zap over several roots carries the flush it owes from root to root, and flushes "
			"it before yielding mmu_lock, so no other thread sees the zapped SPTEs gone while TLBs still hold "
			"them (the MMU notifier then finds nothing to flush and lets the page go)",
		.scenario = "scenarios/x86/tdp-zap-yield-flush.vtlb",
		.modelled = 1,
		.since = "v5.12",
		.hole = "v5.12", /* 1af4a96025b3 "Yield in TDU MMU iter even if no SPTES changed" came in the same cycle */
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_TDP_NX_ZAP_FLUSH,
		.name = "x86-tdp-nx-zap-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: x86/mmu: Ensure TLBs are flushed for TDP MMU during NX zapping (048f49809c52, Sean "
			  "Christopherson, 2021, v5.12; Fixes: 29cf0f5007a2 \"kvm: x86/mmu: NX largepage recovery for TDP "
			  "MMU\", Ben Gardon, v5.10)",
		.rule = "NX huge page recovery honours the TDP MMU zap's 'flush needed' (kvm_mmu_remote_flush_or_zap), "
			"so SPTEs it zapped are flushed before the MMU notifier can find them gone and skip its flush",
		.scenario = "scenarios/x86/tdp-nx-zap-flush.vtlb",
		.modelled = 1,
		.since = "v5.12",
		.hole = "v5.10",
		.verified = 0,
	},

	/*
	 * Generic KVM code (virt/kvm/kvm_main.c, include/linux/kvm_host.h),
	 * catalogued under x86: only there do TLB flushes travel as vCPU
	 * requests with kicks (arm64's kvm_arch_flush_remote_tlbs flushes the
	 * VMID itself), and only the x86 page-fault path is modelled against
	 * invalidations.  All three came with the code they protect: no
	 * mainline release lacked them (hole == since); the reverted logic
	 * shows why each is there (docs/notes/kvm-protocol.md).
	 */
	{
		.id = VT_FIX_X86_ENTRY_MODE_MB,
		.name = "x86-entry-mode-mb",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: Add \"exiting guest mode\" state (6b7e2d099148, Xiao Guangrong, 2011): the smp_mb() between "
			  "vcpu->mode = IN_GUEST_MODE and the requests check in vcpu_enter_guest (\"We should set ->mode "
			  "before check ->requests\"), paired with the one between setting ->requests and reading ->mode "
			  "in make_all_cpus_request; today smp_mb__after_srcu_read_unlock and kvm_vcpu_exiting_guest_mode",
		.rule = "the vCPU's store of IN_GUEST_MODE is visible before it reads vcpu->requests (a full barrier: x86 "
			"lets a load pass an earlier store), so a requester either sees the vCPU in guest mode and IPIs it "
			"or the vCPU sees the request and cancels the entry; without it both can miss, the vCPU enters "
			"with KVM_REQ_TLB_FLUSH pending and the host frees a page it still reaches",
		.scenario = "scenarios/x86/entry-mode-mb.vtlb",
		.modelled = 1,
		.since = "v2.6.39",
		.hole = "v2.6.39", /* the mode check in make_all_cpus_request came in the same commit */
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_FAULT_RETRY_IN_PROGRESS,
		.name = "x86-fault-retry-in-progress",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: Synchronize guest physical memory map to host virtual memory map (e930bffe95e1, Andrea "
			  "Arcangeli, 2008): mmu_notifier_retry() returns 1 while kvm->mmu_notifier_count is non-zero; "
			  "today mmu_invalidate_retry_gfn() with mmu_invalidate_in_progress and the range",
		.rule = "a page fault that resolved its pfn outside mmu_lock retries when an invalidation of its GFN is in "
			"progress (between invalidate_range_start and _end), even though mmu_invalidate_seq is only bumped at "
			"the end: the primary MMU may have dropped and freed the page it resolved",
		.scenario = "scenarios/x86/fault-retry-in-progress.vtlb",
		.modelled = 1,
		.since = "v2.6.27",
		.hole = "v2.6.27",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_FAULT_RETRY_SEQ,
		.name = "x86-fault-retry-seq",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: Synchronize guest physical memory map to host virtual memory map (e930bffe95e1, Andrea "
			  "Arcangeli, 2008): the fault samples kvm->mmu_notifier_seq before gfn_to_pfn and "
			  "mmu_notifier_retry() compares it under mmu_lock; today mmu_invalidate_seq",
		.rule = "a page fault retries when mmu_invalidate_seq moved since it sampled it before resolving the pfn: "
			"an invalidation that started and ended in between zapped nothing the fault installs later, and the "
			"page it resolved may be freed",
		.scenario = "scenarios/x86/fault-retry-seq.vtlb",
		.modelled = 1,
		.since = "v2.6.27",
		.hole = "v2.6.27",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NVMX_INVVPID_VPID02,
		.name = "x86-nvmx-invvpid-vpid02",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: nVMX: Use correct VPID02 when emulating L1 INVVPID (3d5bdae8b164; hash and subject seen in a "
			  "v4.19.124 stable backport report of May 2020 listing it as a mainline commit; author Sean "
			  "Christopherson and release v5.7 inferred from that and from his March 2020 TLB series, unverified)",
		.rule = "handle_invvpid flushes nested_get_vpid02(): vpid02, or vpid01 when KVM has no vpid02 and L2 runs "
			"on vpid01; before, it flushed vmx->nested.vpid02, which is then 0, and a flush of VPID 0 does nothing",
		.scenario = "scenarios/nested/invvpid-vpid02.vtlb",
		.modelled = 1,
		.since = "v5.7",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NVMX_INVVPID_LINEAR,
		.name = "x86-nvmx-invvpid-linear",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: nVMX: Flush linear and combined mappings on VPID02 related flushes (327c072187f7; hash and "
			  "subject as for 3d5bdae8b164, same report; author and release v5.7 inferred, unverified); the "
			  "__vmx_flush_tlb(vcpu, vmx->nested.vpid02) it replaced was read in a v4.20-era nested.c",
		.rule = "L1's INVVPID is emulated with INVVPID of vpid02 (linear and combined mappings, every EPTP); "
			"before, __vmx_flush_tlb with EPT on ran INVEPT of the current root, which is L1's EPTP when L1 "
			"executes INVVPID, and L2's combined mappings under its own EPTP survived",
		.scenario = "scenarios/nested/invvpid-linear.vtlb",
		.modelled = 1,
		.since = "v5.7",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NVMX_TRANSITION_SYNC,
		.name = "x86-nvmx-transition-sync",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "KVM: nVMX: Consolidate VM-Enter/VM-Exit TLB flush and MMU sync logic (50a417962a80, Sean "
			  "Christopherson, 2021, v5.14) with KVM: nVMX: Sync all PGDs on nested transition with shadow "
			  "paging (07ffaf343e34, same series, Fixes: 41fab65e7c44 'KVM: nVMX: Skip MMU sync on nested VMX "
			  "transition when possible'); hashes from the v5.14 merge list, release inferred from it; the bug is older than "
			  "41fab65e7c44 (fast_cr3_switch synced only the root it switched to), releases unverified",
		.rule = "a nested VM entry or exit with VPID off in VMCS12 is a full guest TLB flush from L1's view: KVM "
			"requests KVM_REQ_TLB_FLUSH_GUEST, which under shadow paging syncs the current root and frees unsync "
			"cached ones; before, KVM_REQ_TLB_FLUSH and a sync of only the root kvm_mmu_new_pgd switched to, so "
			"an unsync cached root of L2 was reused by a later MOV CR3 without flush",
		.scenario = "scenarios/nested/transition-sync.vtlb",
		.modelled = 1,
		.since = "v5.14",
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NVMX_VPID12_FLUSH,
		.name = "x86-nvmx-vpid12-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "nested.last_vpid: KVM: nVMX: nested VPID emulation (5c614b3583e7, Wanpeng Li, 2015) flushed "
			  "vpid02 when vpid12 changed; since KVM: nVMX: Emulate guest TLB flush on nested VM-Enter with "
			  "new vpid12 (712494de96f3, Sean Christopherson, 2021, Cc stable) as KVM_REQ_TLB_FLUSH_GUEST (the "
			  "model has that form); the rule came with nested VPID, so no release lacked it",
		.rule = "KVM runs every vpid12 on the one vpid02, so a VM entry with a vpid12 other than the last one "
			"(nested.last_vpid) is a VPID L1 may never have used, and vpid02 is flushed",
		.scenario = "scenarios/nested/vpid12-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},
	{
		.id = VT_FIX_X86_NVMX_SHARED_TAG_FLUSH,
		.name = "x86-nvmx-shared-tag-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "nested_vmx_transition_tlb_flush: KVM_REQ_TLB_FLUSH_CURRENT when !nested_has_guest_tlb_tag "
			  "(nested_has_guest_tlb_tag from KVM: nVMX: Flush TLB entries tagged by dest EPTP on L1<->L2 "
			  "transitions, 1438921c6dc1, Liran Alon, 2018; a flush of the shared VPID on transitions since "
			  "nested VPID, 5c614b3583e7); long-standing, releases unverified",
		.rule = "without EPT and without a vpid02, L1 and L2 run on the same vpid01, so every nested VM entry and "
			"exit flushes the current context: else one level uses the other's translations of the same PCID",
		.scenario = "scenarios/nested/shared-tag-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},

	{
		.id = VT_FIX_X86_NSVM_TRANSITION_FLUSH,
		.name = "x86-nsvm-transition-flush",
		.arch = VT_ARCH_X86,
		.kind = VT_FIX_CORRECTNESS,
		.origin = "nested_svm_transition_tlb_flush: KVM_REQ_MMU_SYNC and KVM_REQ_TLB_FLUSH_CURRENT on every nested "
			  "VMRUN and #VMEXIT (a helper since KVM: nSVM: Move TLB flushing logic (or lack thereof) to dedicated "
			  "helper, d2e5601907bd, Sean Christopherson, 2021, v5.14 merge list; before it the same flush and sync "
			  "were kvm_mmu_new_pgd(vcpu, cr3, false, false) in nested_svm_load_cr3, read in that commit's diff; "
			  "nested SVM flushed on transitions from the start, introducing commit unverified)",
		.rule = "KVM runs L1 and L2 on one ASID and ignores VMCB12's ASID and TLB_CONTROL, so every nested VMRUN and "
			"#VMEXIT flushes the ASID and syncs the MMU (the shadow NPT of L1's nested page table too): that "
			"covers whatever TLB_CONTROL L1 asked for and keeps each level from the other's entries",
		.scenario = "scenarios/nested/nsvm-transition-flush.vtlb",
		.modelled = 1,
		.since = NULL,
		.verified = 0,
	},

	{.name = NULL},
};

static const struct vt_fix_info *const catalogues[] = {vt_fixes_x86, vt_fixes_arm64, vt_fixes_ppc};

const struct vt_fix_info *vt_fix_info(unsigned fix)
{
	for (size_t c = 0; c < VT_ARRAY_SIZE(catalogues); c++)
		for (const struct vt_fix_info *f = catalogues[c]; f->name; f++)
			if ((unsigned)f->id == fix)
				return f;
	return NULL;
}

int vt_fix_lookup(const char *name)
{
	for (size_t c = 0; c < VT_ARRAY_SIZE(catalogues); c++)
		for (const struct vt_fix_info *f = catalogues[c]; f->name; f++)
			if (strcmp(f->name, name) == 0)
				return f->id;
	return -1;
}

/* "v" then 2 or 3 decimal numbers; three only for 2.6.Z, two from v3.0 on. */
uint32_t vt_kernel_parse(const char *s)
{
	unsigned long n[3] = {0, 0, 0};
	int k = 0;
	if (!s || s[0] != 'v')
		return 0;
	s++;
	for (;;) {
		if (*s < '0' || *s > '9' || k == 3)
			return 0;
		char *end;
		n[k] = strtoul(s, &end, 10);
		if (end - s > 4 || (*s == '0' && end - s > 1))
			return 0;
		k++;
		s = end;
		if (*s == 0)
			break;
		if (*s != '.')
			return 0;
		s++;
	}
	if (k < 2 || n[1] > 999 || n[2] > 999)
		return 0;
	if (n[0] == 2 ? (k != 3 || n[1] != 6) : (k != 2 || n[0] < 3 || n[0] > 99))
		return 0;
	return (uint32_t)(n[0] * 1000000 + n[1] * 1000 + n[2]);
}

/* A catalogue release, which tests/04-fixes.t keeps parseable. */
static uint32_t rel(const char *s)
{
	return s ? vt_kernel_parse(s) : 0;
}

int vt_fix_in_kernel(const struct vt_fix_info *f, uint32_t k)
{
	if (f->since && k < rel(f->since) && (!f->hole || k >= rel(f->hole)))
		return 0;
	if (f->until && k >= rel(f->until))
		return 0;
	return 1;
}

struct vt_fixset vt_kernel_reverted(uint32_t k)
{
	struct vt_fixset r = VT_FIXSET_NONE;
	for (size_t c = 0; c < VT_ARRAY_SIZE(catalogues); c++)
		for (const struct vt_fix_info *f = catalogues[c]; f->name; f++)
			if (!vt_fix_in_kernel(f, k))
				vt_fixset_add(&r, (unsigned)f->id);
	return r;
}

void vt_fix_releases(const struct vt_fix_info *f, char *buf, size_t len)
{
	int n;
	if (!f->since)
		n = snprintf(buf, len, "long-standing");
	else if (f->hole && strcmp(f->hole, f->since) == 0)
		n = snprintf(buf, len, "since %s, with the code it protects", f->since);
	else
		n = snprintf(buf, len, "since %s%s%s", f->since, f->hole ? ", bug from " : "", f->hole ? f->hole : "");
	if (f->until && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", until %s", f->until);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s", f->verified ? "" : " (unverified)");
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
