/*
 * POWER guest registers that decide radix translation (Power ISA v3.0B
 * Book III): PIDR and MSR[IR|DR].  Owned by the POWER files; at most 16 bytes.
 *
 * 'l1' is not a register: it is the scenario's declaration that this vCPU
 * belongs to a nested (L2) guest of another VM, which KVM reads once at
 * vCPU creation (vcpu->arch.nested).  XXX: it lives here because a vCPU's
 * declaration is the only per-vCPU input the scenario language gives an
 * architecture.
 */
#ifndef VTLB_REGS_PPC_H
#define VTLB_REGS_PPC_H

#include <stdint.h>

struct vt_ppc_regs {
	int8_t pid;        /* space whose PID is in PIDR, or -1 (PIDR = 0, no page table) */
	uint8_t mmu;       /* MSR[IR] and MSR[DR] (both, or neither) */
	uint8_t l1;        /* nested guest: 1 + index of the L1 VM; 0 for an ordinary guest */
	uint8_t pad[13];
};

#endif
