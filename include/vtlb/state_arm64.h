/*
 * KVM arm64 state (see src/hv/kvm_arm64.c).  Placeholder until the arm64
 * backend is built; owned by the arm64 files.
 */
#ifndef VTLB_STATE_ARM64_H
#define VTLB_STATE_ARM64_H

#include <stdint.h>

#include "vtlb/model.h"

/* Oracle bookkeeping per vCPU (owned by src/oracle/arm64.c). */
struct vt_oracle_arm64 {
	uint8_t pad[8];
};

struct vt_kvm_arm64_vcpu {
	uint8_t pad[8];
};

struct vt_kvm_arm64_pcpu {
	uint8_t pad[8];
};

struct vt_kvm_arm64_vm {
	int8_t last_vcpu_ran[VT_MAX_PCPUS];
};

struct vt_kvm_arm64_global {
	uint8_t pad[8];
};

#endif
