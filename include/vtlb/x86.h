/*
 * x86 definitions shared by the x86 guest, oracle, hardware and KVM files:
 * guest operation codes, control-register bits (their real positions, Intel
 * SDM vol. 3 §2.5), VMX and SVM invalidation instruction codes, and KVM's
 * request bits.
 */
#ifndef VTLB_X86_H
#define VTLB_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "vtlb/model.h"

enum vt_x86_op {
	VT_X86_MOV_CR3 = VT_OP_ARCH, /* space; VT_OPF_NOFLUSH for bit 63 */
	VT_X86_MOV_CR4,              /* a = bits set, b = bits cleared */
	VT_X86_MOV_CR0,              /* a = bits set, b = bits cleared */
	VT_X86_INVLPG,               /* a = va */
	VT_X86_INVPCID,              /* target = type, b = pcid, a = va */
	VT_X86_INIT,                 /* INIT (and the SIPI that restarts it) */
	VT_X86_SHOOTDOWN,            /* flush_tlb_multi to vCPU target: b = 0 its handler runs INVLPG a,
					b = 1 it reloads CR3 (a flush of its current PCID) */
	VT_X86_HV_FLUSH,             /* Hyper-V HvFlushVirtualAddress{List,Space}: b = target vCPU mask,
					target = 0 the page a in every address space, 1 everything */
	VT_X86_FAULT,                /* a = gpa: the guest touches a guest-physical page KVM has not mapped
					(an EPT violation / #NPF; KVM's page-fault path maps it) */
	VT_X86_SMM,                  /* VMM only (KVM_SET_VCPU_EVENTS events.smi.smm): a = 1 enter, 0 leave SMM */
	/* L1 as a hypervisor (nested VMX, src/guest/x86_nested.c) */
	VT_X86_VMPTRLD,              /* target = L2 VM, b = VPID12 (0: enable VPID = 0) */
	VT_X86_VMLAUNCH,             /* a = 0 VMLAUNCH, 1 VMRESUME: VM entry to the current VMCS12's L2 */
	VT_X86_VMEXIT,               /* L2: an instruction L1 intercepts (VMCALL): VM exit to L1 */
	VT_X86_INVVPID,              /* target = type 0..3, b = VPID, a = linear address (type 0) */
	VT_X86_INVEPT,               /* target = type 1 (single context: b = the L2 VM's EPTP12) or 2 (global) */
	VT_X86_EPT12,                /* L1 writes its EPT12 (NPT12 on SVM): target = L2 VM, a = L2 GPA,
					b = S entry (map) or VT_OPF_UNMAP12 in flags (unmap) */
	VT_X86_VMRUN,                /* SVM L1: target = L2 VM (VMCB12), b = ASID12, a = TLB_CONTROL */
	VT_X86_INVLPGA,              /* SVM L1: a = virtual address, b = ASID */
	VT_X86_OP_END
};

#define X86_CR0_PE (1u << 0)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_PG (1u << 31)

#define X86_CR4_PSE (1u << 4)
#define X86_CR4_PAE (1u << 5)
#define X86_CR4_PGE (1u << 7)
#define X86_CR4_LA57 (1u << 12)
#define X86_CR4_PCIDE (1u << 17)
#define X86_CR4_SMEP (1u << 20)
#define X86_CR4_SMAP (1u << 21)
#define X86_CR4_PKE (1u << 22)

/* The steal-time area's preempted byte (vt_x86_regs.st_preempted; arch/x86/include/uapi/asm/kvm_para.h). */
#define KVM_VCPU_PREEMPTED 0x1u
#define KVM_VCPU_FLUSH_TLB 0x2u

/* EFER.LME (vt_x86_regs.efer); long mode is active when LME and CR0.PG are both set. */
#define X86_EFER_LME 0x1u

/* KVM_MMU_CR0_ROLE_BITS / KVM_MMU_CR4_ROLE_BITS (arch/x86/kvm/mmu.h) */
#define KVM_MMU_CR0_ROLE_BITS (X86_CR0_PG | X86_CR0_WP)
#define KVM_MMU_CR4_ROLE_BITS (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE)

/* Hardware invalidation instructions and implicit flushes (trace codes). */
enum vt_x86_insn {
	VT_VMX_INVVPID_ADDR,         /* type 0: key = vpid, arg = va */
	VT_VMX_INVVPID_SINGLE,       /* type 1: key = vpid */
	VT_VMX_INVVPID_ALL,          /* type 2 */
	VT_VMX_INVVPID_SINGLE_NG,    /* type 3: single context, retaining globals */
	VT_VMX_INVEPT_SINGLE,        /* type 1: key = eptp */
	VT_VMX_INVEPT_GLOBAL,        /* type 2 */
	VT_VMX_ENTRY_NOVPID,         /* VM entry with enable-VPID = 0 flushes VPID 0 */
	VT_VMX_EXIT_NOVPID,          /* VM exit with enable-VPID = 0 flushes VPID 0 */
	VT_SVM_VMRUN_FLUSH_ALL,      /* VMRUN with TLB_CONTROL = 1 */
	VT_SVM_VMRUN_FLUSH_ASID,     /* TLB_CONTROL = 3: key = asid */
	VT_SVM_VMRUN_FLUSH_ASID_NG,  /* TLB_CONTROL = 7: key = asid */
	VT_SVM_INVLPGA,              /* key = asid, arg = va */
	VT_X86_INSN_COUNT
};

/* KVM request bits modelled (include/linux/kvm_host.h, arch/x86/include/asm/kvm_host.h). */
enum vt_kvm_x86_req {
	VT_REQ_TLB_FLUSH,            /* KVM_REQ_TLB_FLUSH */
	VT_REQ_MMU_SYNC,             /* KVM_REQ_MMU_SYNC */
	VT_REQ_LOAD_MMU_PGD,         /* KVM_REQ_LOAD_MMU_PGD */
	VT_REQ_TLB_FLUSH_CURRENT,    /* KVM_REQ_TLB_FLUSH_CURRENT */
	VT_REQ_TLB_FLUSH_GUEST,      /* KVM_REQ_TLB_FLUSH_GUEST */
	VT_REQ_MMU_RELOAD,           /* KVM_REQ_MMU_RELOAD (before 2022): unload roots at entry */
	VT_REQ_STEAL_UPDATE,         /* KVM_REQ_STEAL_UPDATE (only with option pv-tlb-flush) */
	VT_REQ_HV_TLB_FLUSH,         /* KVM_REQ_HV_TLB_FLUSH */
	VT_REQ_MMU_FREE_OBSOLETE_ROOTS, /* KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (since 2022; MMU_RELOAD before) */
	VT_REQ_X86_COUNT
};

/* Key of a VMX TLB slot: the VPID and the EPTP (0: EPT not in use). */
static inline uint32_t vt_vmx_key(unsigned vpid, unsigned eptp)
{
	return (vpid << 8) | eptp;
}

/*
 * What an x86 instruction invalidates, as the SDM states it (§4.10.4.1), in
 * terms of guest tags only.  The oracle applies a scope to a vCPU's
 * permitted set; the hardware applies the same scope to the entries of the
 * tag (VPID, ASID) the instruction runs under.
 */
struct vt_x86_scope {
	uint8_t none;        /* nothing */
	uint8_t all_pcids;   /* every PCID (else only 'pcid') */
	uint8_t globals;     /* global entries too */
	uint8_t by_va;       /* only entries for the page of 'va' */
	uint8_t va_globals;  /* by_va: also global entries for the page under any PCID (INVLPG) */
	uint8_t pad[3];
	uint32_t pcid;
	uint32_t pad2;
	uint64_t va;
};

/* Scope of guest op 'op' given the registers before (o) and after (n) it. */
void vt_x86_scope(const struct vt_model *m, const struct vt_op *op, const struct vt_x86_regs *o,
		  const struct vt_x86_regs *n, struct vt_x86_scope *sc);

/* The active PCID of a register file: CR3[11:0] with CR4.PCIDE=1, else 0. */
uint32_t vt_x86_pcid(const struct vt_model *m, const struct vt_x86_regs *r);

/*
 * The scope as a mask over T (vm >= 0: that VM's translations) or over U
 * (vm < 0: any VM; the hardware matches PCID values, not VMs).
 */
struct vt_set vt_x86_scope_tmask(const struct vt_model *m, const struct vt_x86_scope *sc, int vm);
struct vt_set vt_x86_scope_umask(const struct vt_model *m, const struct vt_x86_scope *sc);

#define VT_OPF_UNMAP12 VT_OPF_ARCH

struct vt_state;
/* ---- nested VMX (src/guest/x86_nested.c) ---- */
/* The level vCPU v runs at: 1 its own (L1) guest, 2 the L2 it entered; the L2 VM in *l2vm. */
int vt_x86_level(const struct vt_model *m, const struct vt_state *s, int v, int *l2vm);
/* The VPID12 slot (index into vt_oracle_x86.l2t) of a non-zero VPID12, or -1. */
int vt_x86_vpid12_slot(const struct vt_model *m, unsigned vpid12);
/* Did this shootdown leave KVM_VCPU_FLUSH_TLB for a preempted target (option pv-tlb-flush) instead of an IPI? */
bool vt_x86_shootdown_marked(const struct vt_model *m, const struct vt_state *s, const struct vt_op *op);
/* The operation the shootdown's target runs for it (false: none, its paging is off). */
bool vt_x86_shootdown_handler(const struct vt_model *m, const struct vt_state *s, const struct vt_op *op,
			      struct vt_op *handler);

#endif
