/*
 * KVM Book3S HV radix state (see src/hv/kvm_ppc.c).  Placeholder until the
 * POWER backend is built; owned by the POWER files.
 */
#ifndef VTLB_STATE_PPC_H
#define VTLB_STATE_PPC_H

#include <stdint.h>

#include "vtlb/model.h"

/* Oracle bookkeeping per vCPU (owned by src/oracle/ppc.c). */
struct vt_oracle_ppc {
	uint8_t pad[8];
};

struct vt_kvm_ppc_vcpu {
	uint8_t pad[8];
};

struct vt_kvm_ppc_pcpu {
	uint8_t pad[8];
};

struct vt_kvm_ppc_vm {
	uint64_t need_tlb_flush;  /* cpumask */
};

struct vt_kvm_ppc_global {
	uint8_t pad[8];
};

#endif
