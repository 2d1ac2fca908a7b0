/*
 * Model options: hardware features and sizes a scenario may set with
 * "option NAME VALUE".  Defaults follow what KVM uses on current hardware,
 * except tag widths, which are small so that scenarios reach wraparound.
 */
#include <string.h>

#include "internal.h"
#include "vtlb/model.h"

#define ARCH(a) (1u << (a))
#define BE(b) (1u << (b))

static const struct vt_option_decl options[] = {
	{"vpid", VT_OPT_VPID, ARCH(VT_ARCH_X86), 1, 0, 1, 1, "VMX: enable_vpid (each vCPU gets its own VPID)",
	 BE(VT_BE_VMX_EPT) | BE(VT_BE_VMX_SHADOW)},
	{"asids", VT_OPT_ASIDS, ARCH(VT_ARCH_X86), 8, 1, 200, 0, "SVM: ASIDs per pCPU before a generation bump",
	 BE(VT_BE_SVM_NPT) | BE(VT_BE_SVM_SHADOW)},
	{"flushbyasid", VT_OPT_FLUSHBYASID, ARCH(VT_ARCH_X86), 1, 0, 1, 1, "SVM: CPUID FlushByAsid",
	 BE(VT_BE_SVM_NPT) | BE(VT_BE_SVM_SHADOW)},
	{"fb", VT_OPT_FB, ARCH(VT_ARCH_ARM64), 1, 0, 1, 1, "arm64: HCR_EL2.FB (guest TLBI/IC upgraded to IS)", 0},
	{"cnp", VT_OPT_CNP, ARCH(VT_ARCH_ARM64), 0, 0, 1, 1, "arm64: CnP (PEs may share TLB entries)", 0},
	{"vmid-bits", VT_OPT_VMID_BITS, ARCH(VT_ARCH_ARM64), 8, 1, 8, 0, "arm64: VMID width in bits", 0},
	{"smt8", VT_OPT_SMT8, ARCH(VT_ARCH_PPC), 0, 0, 1, 1, "POWER: SMT8 big cores (two TLB groups per core)", 0},
	{"gtse", VT_OPT_GTSE, ARCH(VT_ARCH_PPC), 1, 0, 1, 1, "POWER: LPCR[GTSE] (guest may issue tlbie)", 0},
	{"vhe", VT_OPT_VHE, ARCH(VT_ARCH_ARM64), 1, 0, 1, 1, "arm64: VHE host (stage 2 loaded at vcpu_load)", 0},
	{"pv-tlb-flush", VT_OPT_PV_TLB_FLUSH, ARCH(VT_ARCH_X86), 0, 0, 1, 1,
	 "x86: KVM_FEATURE_PV_TLB_FLUSH with steal time (shootdowns mark preempted vCPUs instead of IPIs)", 0},
	{"tlbi-range", VT_OPT_TLBI_RANGE, ARCH(VT_ARCH_ARM64), 1, 0, 1, 1,
	 "arm64: FEAT_TLBIRANGE (range TLBIs; with s2fwb, unmap defers its invalidation to one range flush)", 0},
	{"s2fwb", VT_OPT_S2FWB, ARCH(VT_ARCH_ARM64), 1, 0, 1, 1,
	 "arm64: FEAT_S2FWB (stage2_has_fwb: no cache maintenance on unmap)", 0},
	{"ttl", VT_OPT_TTL, ARCH(VT_ARCH_ARM64), 1, 0, 1, 1,
	 "arm64: FEAT_TTL (the TLBI level hint restricts what a TLBI must invalidate)", 0},
	{"kvm-phases", VT_OPT_KVM_PHASES, ARCH(VT_ARCH_X86), 0, 0, 1, 1,
	 "x86: KVM's host side phase by phase: vcpu->mode on entry, kvm_make_all_cpus_request's requests and IPIs, "
	 "MMU-notifier invalidations against page faults",
	 0},
	{"lazy-sptes", VT_OPT_LAZY_SPTES, ARCH(VT_ARCH_X86), 0, 0, 1, 1,
	 "x86 TDP: a new root, and a page the host maps anew, have no SPTE until a guest access faults it in",
	 BE(VT_BE_VMX_EPT) | BE(VT_BE_SVM_NPT)},
	{"vpid02", VT_OPT_VPID02, ARCH(VT_ARCH_X86), 1, 0, 1, 1,
	 "nVMX: KVM has a VPID for L2 (vpid02; off: allocate_vpid failed and L2 shares vpid01)",
	 BE(VT_BE_VMX_EPT) | BE(VT_BE_VMX_SHADOW)},
};

const struct vt_option_decl *vt_option_lookup(const char *name)
{
	for (size_t i = 0; i < VT_ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

const struct vt_option_decl *vt_option_at(int i)
{
	return i >= 0 && (size_t)i < VT_ARRAY_SIZE(options) ? &options[i] : NULL;
}

void vt_options_default(struct vt_model *m)
{
	for (size_t i = 0; i < VT_ARRAY_SIZE(options); i++)
		m->opt[options[i].id] = options[i].def;
}
