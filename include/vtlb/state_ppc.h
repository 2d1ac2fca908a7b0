/*
 * POWER radix state: KVM Book3S HV's per-vCPU, per-pCPU and per-VM data
 * (src/hv/kvm_ppc.c), the hardware's pending broadcast invalidations
 * (src/arch/ppc_radix.c) and the oracle's per-vCPU bookkeeping
 * (src/oracle/ppc.c).  Included from vtlb/state.h, which defines struct
 * vt_pending first.  Every struct is a multiple of 8 bytes.
 */
#ifndef VTLB_STATE_PPC_H
#define VTLB_STATE_PPC_H

#include <stdint.h>

#include "vtlb/model.h"

/*
 * Oracle bookkeeping per vCPU (over T): the guest invalidations this vCPU
 * has issued that the architecture does not yet require to be complete, and
 * what it borrowed from other vCPUs of its partition (src/oracle/ppc.c).
 *
 *   local     tlbiel, complete at this vCPU's next ptesync
 *   bcast     tlbie, not yet ordered by a tlbsync
 *   synced    tlbie ordered by a tlbsync, complete (for every vCPU of the
 *             VM) at this vCPU's next ptesync
 *   borrowed  translations it may use only because another vCPU may still
 *             use them (threads of a processor may share TLB entries)
 */
struct vt_oracle_ppc {
	struct vt_set local;
	struct vt_set bcast;
	struct vt_set synced;
	struct vt_set borrowed;
};

/* Entry-path progress kept between fine-grained phases (vcpu->phase is the phase). */
enum vt_kvm_ppc_flush {
	VT_PPC_FLUSH_NONE,   /* this pCPU's need_tlb_flush bit was clear */
	VT_PPC_FLUSH_FULL,   /* every bit of the TLB group set: flush_guest_tlb() */
	VT_PPC_FLUSH_SYNC,   /* a sibling flushed: ptesync only */
	VT_PPC_FLUSH_COUNT
};

struct vt_kvm_ppc_vcpu {
	int8_t prev_cpu;     /* vcpu->arch.prev_cpu, or nested->prev_cpu[nested_vcpu_id]; -1 */
	uint8_t nested;      /* vcpu->arch.nested: 1 + index of the L1 VM, 0 if not an L2 vCPU */
	uint8_t flush;       /* enum vt_kvm_ppc_flush: the branch check_need_tlb_flush took */
	uint8_t early;       /* (reverted ppc-clear-after-flush) the bit was cleared before the flush */
	uint8_t pad[4];
};

struct vt_kvm_ppc_pcpu {
	uint8_t in_guest;    /* cpu_in_guest: 1 + index of the VM running (or entering) here, 0 = NULL */
	uint8_t ipi;         /* an IPI arrived during the hard-disabled entry: the guest exits at once */
	uint8_t pad[6];
};

struct vt_kvm_ppc_vm {
	uint64_t need_tlb_flush;  /* kvm->arch.need_tlb_flush (nested->need_tlb_flush for an L2 VM), by pCPU */
};

/*
 * Machine-wide: tlbie instructions issued and not yet performed (hardware;
 * src/arch/ppc_radix.c).  'used' is 1 for issued, 2 for ordered by a
 * tlbsync of the issuing thread; used records come first, oldest first.
 */
struct vt_kvm_ppc_global {
	struct vt_pending pend[VT_MAX_PENDING];
};

#endif
