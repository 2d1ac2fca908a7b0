/* x86 guest registers that decide translation (SDM vol. 3 §2.5). */
#ifndef VTLB_REGS_X86_H
#define VTLB_REGS_X86_H

#include <stdint.h>

struct vt_x86_regs {
	uint32_t cr0;
	uint32_t cr4;
	int8_t cr3;        /* space loaded in CR3, or -1 (CR3 = 0) */
	uint8_t efer;      /* EFER.LME (X86_EFER_LME) */
	uint8_t st_preempted; /* guest memory, not a register: struct kvm_steal_time.preempted of this
				 vCPU, read and written by every vCPU of the guest and by KVM */
	uint8_t ipi[2];    /* pending shootdown IPIs, oldest first: 0 none, 1 flush, 2 + i INVLPG of VA i */
	uint8_t smm;       /* in system-management mode (KVM's HF_SMM_MASK); only the VMM sets it here
			      (KVM_SET_VCPU_EVENTS, 'vmm VCPU: smm on|off') */
	uint8_t pad[2];
};

#endif
