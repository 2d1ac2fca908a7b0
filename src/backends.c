/*
 * The backend registry: for each KVM flavour, its guest architecture, oracle,
 * hardware and hypervisor tables.  Adding an architecture means adding rows
 * here, never a switch elsewhere.
 */
#include <stddef.h>

#include "hv/kvm_x86.h"
#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/x86.h"

#define KVM_X86_HV(vendor, label)                              \
	{                                                      \
		.name = label,                                 \
		.req_names = vt_kvm_x86_req_names,             \
		.nreqs = VT_REQ_X86_COUNT,                     \
		.priv = &vendor,                               \
		.vcpu_init = vt_kvm_x86_vcpu_init,             \
		.load = vt_kvm_x86_load,                       \
		.tracks_thread = vt_kvm_x86_tracks_thread,     \
		.enter = vt_kvm_x86_enter,                     \
		.exit = vt_kvm_x86_exit,                       \
		.put = vt_kvm_x86_put,                         \
		.intercepts = vt_kvm_x86_intercepts,           \
		.handle = vt_kvm_x86_handle,                   \
		.vmm_op = vt_kvm_x86_vmm_op,                   \
		.host_op = vt_kvm_x86_host_op,                 \
		.host_blocked = vt_kvm_x86_host_blocked,       \
		.walk = vt_kvm_x86_walk,                       \
		.pt_trap = vt_kvm_x86_pt_trap,                 \
		.pt_store = vt_kvm_x86_pt_store,               \
		.fault = vt_kvm_x86_fault,                     \
		.fault_acts = vt_kvm_x86_fault_acts,           \
		.access = vt_kvm_x86_access,                   \
		.permute_pcpus = vt_kvm_x86_permute_pcpus,     \
		.pcpu_refs = vt_kvm_x86_pcpu_refs,             \
		.global_bytes = 0,                             \
		.vm_bytes = sizeof(struct vt_kvm_x86_vm),      \
		.vcpu_bytes = sizeof(struct vt_kvm_x86_vcpu),  \
	}

static const struct vt_hv_ops kvm_vmx_ept = KVM_X86_HV(vt_kvm_vmx_ept, "kvm-vmx-ept");
static const struct vt_hv_ops kvm_vmx_shadow = KVM_X86_HV(vt_kvm_vmx_shadow, "kvm-vmx-shadow");
static const struct vt_hv_ops kvm_svm_npt = KVM_X86_HV(vt_kvm_svm_npt, "kvm-svm-npt");
static const struct vt_hv_ops kvm_svm_shadow = KVM_X86_HV(vt_kvm_svm_shadow, "kvm-svm-shadow");

struct backend {
	const char *name;          /* the words after 'arch' in a scenario */
	enum vt_arch isa;
	const struct vt_arch_ops *arch;
	const struct vt_oracle_ops *oracle;
	const struct vt_hw_ops *hw;
	const struct vt_hv_ops *hv;
	bool tdp;                  /* the host maps guest memory with KVM's TDP MMU (x86 EPT/NPT: tdp_enabled) */
};

static const struct backend backends[VT_BE_COUNT] = {
	[VT_BE_VMX_EPT] = {"x86 vmx ept", VT_ARCH_X86, &vt_x86_arch_ops, &vt_x86_oracle_ops, &vt_vmx_hw_ops, &kvm_vmx_ept, true},
	[VT_BE_VMX_SHADOW] = {"x86 vmx shadow", VT_ARCH_X86, &vt_x86_arch_ops, &vt_x86_oracle_ops, &vt_vmx_hw_ops, &kvm_vmx_shadow, false},
	[VT_BE_SVM_NPT] = {"x86 svm npt", VT_ARCH_X86, &vt_x86_arch_ops, &vt_x86_oracle_ops, &vt_svm_hw_ops, &kvm_svm_npt, true},
	[VT_BE_SVM_SHADOW] = {"x86 svm shadow", VT_ARCH_X86, &vt_x86_arch_ops, &vt_x86_oracle_ops, &vt_svm_hw_ops, &kvm_svm_shadow, false},
	[VT_BE_ARM64] = {"arm64", VT_ARCH_ARM64, &vt_arm64_arch_ops, &vt_arm64_oracle_ops, &vt_arm64_hw_ops, &vt_kvm_arm64_ops, false},
	[VT_BE_PPC_RADIX] = {"ppc radix", VT_ARCH_PPC, &vt_ppc_arch_ops, &vt_ppc_oracle_ops, &vt_ppc_hw_ops, &vt_kvm_ppc_ops, false},
};

/* A backend whose tables are placeholders (no name) is not built: all four come back NULL. */
void vt_backend_ops(enum vt_backend be, const struct vt_arch_ops **a, const struct vt_oracle_ops **o,
		    const struct vt_hw_ops **h, const struct vt_hv_ops **v)
{
	const struct backend *b = &backends[be];
	bool built = b->arch->name && b->hw->name && b->hv->name && b->oracle->guest_op;
	*a = built ? b->arch : NULL;
	*o = built ? b->oracle : NULL;
	*h = built ? b->hw : NULL;
	*v = built ? b->hv : NULL;
}

enum vt_arch vt_backend_arch(enum vt_backend be)
{
	return backends[be].isa;
}

bool vt_backend_tdp(enum vt_backend be)
{
	return (unsigned)be < VT_BE_COUNT && backends[be].tdp;
}

const char *vt_backend_name(enum vt_backend be)
{
	return (unsigned)be < VT_BE_COUNT ? backends[be].name : "?";
}
