/*
 * KVM's nested VMX (src/hv/kvm_nested_vmx.c) and nested SVM
 * (src/hv/kvm_nested_svm.c): the pieces the common x86
 * code (src/hv/kvm_x86.c) and the VMX vendor code (src/hv/kvm_vmx.c) call.
 */
#ifndef VTLB_HV_KVM_NESTED_VMX_H
#define VTLB_HV_KVM_NESTED_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

/* kvm_mmu_page_role.guest_mode, as a bit of the model's root role */
#define VT_NESTED_ROLE_GUEST_MODE 0x200u     /* shadow roots (0x100 is SMM) */
#define VT_NESTED_TDP_ROLE_GUEST_MODE 0x2u    /* TDP roots (vt_kvm_tdp_root.role; 1 is SMM) */

/* is_guest_mode(vcpu): KVM runs the vCPU's L2.  Inline: asked on every walk and entry. */
static inline bool vt_nested_guest_mode(const struct vt_model *m, const struct vt_state *s, int v)
{
	return m->has_nested && s->vcpu[v].h.x86.guest_mode;
}
/* vmx_get_current_vpid */
unsigned vt_nvmx_current_vpid(const struct vt_model *m, const struct vt_state *s, int v);
/* The EPTP (code) of the root the vCPU runs on now. */
unsigned vt_nvmx_eptp(const struct vt_model *m, const struct vt_state *s, int v);
/* vcpu->arch.mmu is guest_mmu (L2 with nested EPT). */
bool vt_nested_uses_guest_mmu(const struct vt_model *m, const struct vt_state *s, int v);
/* VALID_PAGE(vcpu->arch.mmu->root.hpa) */
bool vt_nested_root_valid(const struct vt_model *m, const struct vt_state *s, int v);
/* kvm_mmu_load for guest_mmu. */
void vt_nested_mmu_load(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
/* The hardware walk while L2 runs on a TDP or shadow-EPT root. */
void vt_nested_walk(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		    uint64_t *s2);
/* Emulation of L1's VMX instructions and of L2's VM exit to L1. */
void vt_nvmx_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		    struct vt_trace *tr);
/* nested SVM (src/hv/kvm_nested_svm.c): VMRUN, #VMEXIT to L1, INVLPGA. */
void vt_nsvm_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		    struct vt_trace *tr);

/* A host unmap removed the L1 stage-2 entries l1_gone: the L2 entries resolved through them go too;
   true if a shadow EPT02 root had one. */
bool vt_nested_host_unmap(const struct vt_model *m, struct vt_state *s, uint64_t l1_gone);

#endif
