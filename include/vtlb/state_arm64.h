/*
 * arm64 state (see src/hv/kvm_arm64.c, src/arch/arm64.c, src/oracle/arm64.c):
 * KVM's per-VM stage-2 MMU bookkeeping and VMID allocator, the hardware's
 * TLB invalidations not yet completed by a DSB, and the oracle's record of
 * the guest's own TLBIs not yet completed.  Owned by the arm64 files; every
 * struct is a multiple of 8 bytes and holds no pointers.
 *
 * VMIDs.  KVM keeps a VMID as a 64-bit value, generation above the
 * kvm_arm_vmid_bits and index below.  With at most 8 VMID bits here, a value
 * is a pair (gen, idx); (0, 0) is KVM's 0 ("none"), and
 * VMID_ACTIVE_INVALID = VMID_FIRST_VERSION is (1, 0).  The allocator from
 * before v5.17 keeps the same pair as struct kvm_vmid's vmid_gen and vmid,
 * with kvm_vmid_gen in 'gen' and kvm_next_vmid in 'next_vmid'.
 */
#ifndef VTLB_STATE_ARM64_H
#define VTLB_STATE_ARM64_H

#include <stdint.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"

/* Guest TLBIs a vCPU issued whose DSB has not come yet (oracle side). */
#define VT_ARM64_ORACLE_PENDING 6

struct vt_oracle_arm64_tlbi {
	uint8_t kind;        /* enum vt_arm64_tlbi + 1; 0: unused */
	uint8_t is;          /* Inner Shareable: every vCPU of the VM */
	uint8_t va;          /* VA index, 0xff: none */
	uint8_t pad;
	uint32_t asid;
};

/* Oracle bookkeeping per vCPU (owned by src/oracle/arm64.c). */
struct vt_oracle_arm64 {
	struct vt_oracle_arm64_tlbi pend[VT_ARM64_ORACLE_PENDING];
	struct vt_set ic;    /* translations fetched since the vCPU's last I-cache invalidation (over T) */
};

struct vt_kvm_arm64_vcpu {
	uint8_t tlb_vmid_stale; /* seed 004 as posted: vcpu->arch.tlb_vmid_stale, set by kvm_arch_sched_in */
	uint8_t pad[7];
};

/* A VMID value: (generation, index). */
struct vt_kvm_vmid {
	uint8_t gen;
	uint8_t idx;
};

/* Per pCPU: vmid.c's per-CPU active_vmids and reserved_vmids. */
struct vt_kvm_arm64_pcpu {
	struct vt_kvm_vmid active;
	struct vt_kvm_vmid reserved;
	uint8_t pad[4];
};

/* Per VM: its kvm_s2_mmu (the canonical one; no nested virtualisation). */
struct vt_kvm_arm64_vm {
	int8_t last_vcpu_ran[VT_MAX_PCPUS]; /* mmu->last_vcpu_ran: vcpu_idx per pCPU, -1 */
	struct vt_kvm_vmid vmid;            /* mmu->vmid.id */
	uint8_t pad[6];
};

/* Hardware: TLBIs issued and not yet completed by their issuer's DSB. */
#define VT_ARM64_HW_PENDING 6
#define VT_ARM64_ISSUER_HOST 0x7f  /* the host thread running a stage-2 change */

#define VT_ARM64_VMID_MAP_BYTES 32 /* 2^8 VMIDs */

/* Machine-wide (vmid.c's globals; the hardware's pending TLBIs; a host operation in progress). */
struct vt_kvm_arm64_global {
	uint8_t gen;         /* vmid_generation (1: VMID_FIRST_VERSION) */
	uint8_t cur_idx;     /* new_vmid()'s static cur_idx */
	uint8_t host_vm;     /* host operation in progress: its VM */
	uint8_t host_vmid;   /* ... the VMID its flush targets */
	uint8_t next_vmid;   /* before v5.17: kvm_next_vmid */
	uint8_t vmid_lock;   /* before v5.17: kvm_vmid_lock, held by vCPU n - 1 (0: free) */
	uint8_t host_pos;    /* unmap-range: the stage-2 walk's position (entries of the range in post-order) */
	uint8_t host_step;   /* unmap-range: 0 while walking, then the deferred flush's phase (1-based) */
	uint8_t pad;
	uint64_t host_old;   /* ... the stage-2 entries it removes (over S) */
	uint8_t vmid_map[VT_ARM64_VMID_MAP_BYTES];
	struct vt_pending pend[VT_ARM64_HW_PENDING];  /* owned by src/arch/arm64.c */
};

#endif
