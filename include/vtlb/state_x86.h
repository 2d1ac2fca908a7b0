/*
 * KVM x86 per-vCPU and per-pCPU state (see src/hv/kvm_x86.c).
 */
#ifndef VTLB_STATE_X86_H
#define VTLB_STATE_X86_H

#include <stdint.h>

#define VT_ROOT_INVALID (-1)
#define VT_ROOT_TDP (-2)
#define VT_KVM_NUM_PREV_ROOTS 3

/* A root of kvm_mmu: root.hpa/pgd (space), its role, and under shadow paging
 * the guest PTEs its shadow tables may still mirror (unsync pages included). */
struct vt_kvm_root {
	int8_t space;        /* pgd: the guest CR3 it shadows; VT_ROOT_INVALID, VT_ROOT_TDP */
	uint8_t pad;
	uint16_t role;
	uint32_t pad2;
	uint64_t content;    /* over P */
};

struct vt_kvm_x86_vcpu {
	int8_t loaded_cpu;   /* VMX loaded_vmcs->cpu, SVM current_vmcb->cpu; -1 if never */
	uint8_t asid;        /* SVM svm->asid */
	uint8_t asid_gen;    /* SVM current_vmcb->asid_generation */
	uint8_t tlb_ctl;     /* SVM vmcb->control.tlb_ctl for the next VMRUN */
	uint8_t st_preempted; /* vcpu->arch.st.preempted: KVM's own copy of the steal-time byte */
	uint8_t pad[3];
	struct vt_kvm_root root;
	struct vt_kvm_root prev[VT_KVM_NUM_PREV_ROOTS];
};

struct vt_kvm_svm_pcpu {
	uint8_t asid_gen;    /* svm_cpu_data.asid_generation */
	uint8_t next_asid;   /* svm_cpu_data.next_asid */
	uint8_t pad[6];
};

#endif
