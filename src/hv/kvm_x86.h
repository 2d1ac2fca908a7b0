/*
 * The x86 vendor hooks, after KVM's kvm_x86_ops: the four TLB hooks name
 * *what* is flushed (everything the vCPU may use, the current context, one
 * guest address, the guest's view), and the vendor decides which instruction
 * does it.  Common x86 KVM logic (src/hv/kvm_x86.c) calls only these.
 */
#ifndef VTLB_HV_KVM_X86_H
#define VTLB_HV_KVM_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

struct vt_kvm_x86_vendor {
	const char *name;
	bool tdp;            /* tdp_enabled: EPT or NPT in use */
	/* flush_tlb_all: every translation the vCPU may use, in every context. */
	void (*flush_tlb_all)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* flush_tlb_current: the current root / EPTP / ASID. */
	void (*flush_tlb_current)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* flush_tlb_gva: one guest linear address in the current context. */
	void (*flush_tlb_gva)(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr);
	/* flush_tlb_guest: what the guest could see (linear + combined, not guest-physical). */
	void (*flush_tlb_guest)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* vcpu_load on pcpu (VMX: vmx_vcpu_load_vmcs). */
	void (*vcpu_load)(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr);
	/* vcpu_reset (vendor part of kvm_vcpu_reset). */
	void (*vcpu_reset)(const struct vt_model *m, struct vt_state *s, int v, bool init, struct vt_trace *tr);
	/* Program the hardware tag and enter (VMRESUME / VMRUN). */
	void (*run)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* Architectural effects of the VM exit. */
	void (*exit)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* Does this op exit under the vendor's intercept configuration? */
	bool (*intercepts)(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old);
	/* L2's VM exit to L1: nested_vmx_vmexit (VMX) or nested_svm_vmexit (SVM). */
	void (*nested_vmexit)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			      struct vt_trace *tr);
};

extern const struct vt_kvm_x86_vendor vt_kvm_vmx_ept, vt_kvm_vmx_shadow, vt_kvm_svm_npt, vt_kvm_svm_shadow;

/* Common x86 KVM entry points used by the vendor hv ops tables. */
void vt_kvm_x86_vcpu_init(const struct vt_model *m, struct vt_state *s, int v);
void vt_kvm_x86_load(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr);
bool vt_kvm_x86_tracks_thread(const struct vt_model *m);
void vt_kvm_x86_vmm_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr);
bool vt_kvm_x86_enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr);
void vt_kvm_x86_exit(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
void vt_kvm_x86_put(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
bool vt_kvm_x86_intercepts(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old);
void vt_kvm_x86_handle(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr);
bool vt_kvm_x86_host_op(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr);
/* option kvm-phases: the phased host operation waits for IPI acknowledgements. */
bool vt_kvm_x86_host_blocked(const struct vt_model *m, const struct vt_state *s);
bool vt_kvm_x86_pt_trap(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op);
void vt_kvm_x86_pt_store(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 struct vt_trace *tr);
void vt_kvm_x86_fault(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
bool vt_kvm_x86_fault_acts(const struct vt_model *m);
void vt_kvm_x86_access(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr);
void vt_kvm_x86_walk(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		     uint64_t *s2);

/* For nested VMX (src/hv/kvm_nested_vmx.c). */
void vt_kvm_x86_new_pgd(const struct vt_model *m, struct vt_state *s, int v, int space, struct vt_trace *tr);
void vt_kvm_x86_invlpg(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr);
void vt_kvm_x86_sync_current(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
void vt_kvm_x86_service_local_flushes(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
void vt_kvm_x86_free_guest_mode_roots(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);

void vt_kvm_x86_permute_pcpus(const struct vt_model *m, struct vt_state *s, const int8_t *map);
void vt_kvm_x86_pcpu_refs(const struct vt_model *m, const struct vt_state *s, uint64_t *refs);

extern const char *const vt_kvm_x86_req_names[];

#endif
