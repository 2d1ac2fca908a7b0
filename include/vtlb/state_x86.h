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
	uint8_t tdp;         /* VT_ROOT_TDP: the VM's TDP root it holds (vt_kvm_tdp_root.id) */
	uint16_t role;
	uint16_t linked;     /* the tables whose shadow pages its upper-level SPTEs point to */
	uint16_t pad2;
	uint64_t content;    /* over P: the root's own shadow entries */
};

/*
 * Per VM: the shadow pages of the guest's tables ('table'), found by
 * kvm_mmu_get_page in the VM's hash and shared by every root that links
 * them.  sp[t] is what they mirror (over P), unsync entries included; a
 * table never shadowed mirrors nothing, like a fresh shadow page.
 */
/*
 * TDP (EPT/NPT) roots of a VM, as the TDP MMU keeps them
 * (kvm->arch.tdp_mmu_roots): one per MMU role in use (today the SMM bit),
 * shared by every vCPU of that role, in list order (roots[0] is the newest:
 * kvm_tdp_mmu_alloc_root adds at the head, and the walkers go from the head).
 * 'id' is the root page: two roots alive at once have different ids, and a
 * freed root's id is the first one a new root reuses (the page allocator
 * may hand the same page back), so the EPTP (EP4TA) of a new root may be an
 * old one's.  'zapped' holds the VM's stage-2 entries (over S, within
 * vt_vm_state.s2) whose SPTE this root no longer has: a zap removed it and
 * no fault has put it back.  A valid root stays until it is invalidated (a
 * fast zap); an invalid one is freed when no vCPU holds it.
 */
#define VT_KVM_TDP_ROOTS 4

struct vt_kvm_tdp_root {
	uint8_t used;
	uint8_t valid;       /* !root->role.invalid */
	uint8_t role;        /* role bits that pick the root: 1 = SMM (kvm_mmu_page_role.smm) */
	uint8_t id;          /* its page: the EPTP's EP4TA is derived from it */
	uint8_t pad[4];
	uint64_t zapped;     /* over S: entries of the VM's stage 2 with no SPTE in this root */
};

struct vt_kvm_x86_vm {
	uint64_t sp[VT_MAX_SPACES]; /* VT_MAX_SPACES from model.h, which state.h includes first */
	/*
	 * Entries of sp[] that mirror a guest PTE the guest has changed through
	 * a writable alias of the table's page that KVM never saw (over P): KVM
	 * believes the shadow page write-protected and in sync, so neither
	 * INVLPG nor a sync of the root looks at them (kvm_sync_page runs only
	 * on unsync pages).  Zero unless a table is declared 'at GPA'.
	 */
	uint64_t hidden[VT_MAX_SPACES];
	/* Tables 'at GPA' with a shadow page (kvm_mmu_get_page created one: account_shadowed);
	   not tracked for other tables, where nothing depends on it. */
	uint16_t shadowed;
	uint16_t pad[3];
	/*
	 * option kvm-phases: the MMU notifier (virt/kvm/kvm_main.c).  The
	 * primary MMU's page tables (hva -> pfn) are the initial stage-2 map
	 * XOR host_flip (over S); mmu_invalidate_in_progress, _seq and the
	 * range (over S: every entry of a GPA in [range_start, range_end)).
	 */
	uint64_t host_flip;
	uint64_t inval_range;
	uint8_t inval_in_progress;
	uint8_t inval_seq;
	uint8_t pad2[6];
	struct vt_kvm_tdp_root roots[VT_KVM_TDP_ROOTS];
	uint8_t zap_flush;   /* the 'flush' of a TDP MMU zap that yielded (kvm_tdp_mmu_zap_gfn_range) */
	uint8_t pad3[7];
};

/* Entries in the model's Hyper-V flush FIFO (KVM_HV_TLB_FLUSH_FIFO_SIZE is 16; 3 lets overflow happen). */
#define VT_KVM_HV_FIFO 3

struct vt_kvm_x86_vcpu {
	int8_t loaded_cpu;   /* VMX loaded_vmcs->cpu, SVM current_vmcb->cpu; -1 if never */
	uint8_t asid;        /* SVM svm->asid */
	uint8_t asid_gen;    /* SVM current_vmcb->asid_generation */
	uint8_t tlb_ctl;     /* SVM vmcb->control.tlb_ctl for the next VMRUN */
	uint8_t st_preempted; /* vcpu->arch.st.preempted: KVM's own copy of the steal-time byte */
	uint8_t hv_fifo[VT_KVM_HV_FIFO]; /* Hyper-V tlb_flush_fifo, oldest first: 0 free, 1 flush-all,
					    2 + i a flush of VA i (KVM's holds 16; the model 3) */
	/*
	 * option kvm-phases: a page fault in progress (kvm_tdp_page_fault /
	 * FNAME(page_fault)): 0 none, VT_KVM_FAULT_*; the GPA (any S entry of
	 * it), the mmu_invalidate_seq it sampled and the pfn (S entry) it
	 * resolved, -1 before.
	 */
	uint8_t fault_phase;
	int8_t fault_s;
	uint8_t fault_seq;
	int8_t fault_pfn;
	uint8_t pad[4];
	struct vt_kvm_root root;
	struct vt_kvm_root prev[VT_KVM_NUM_PREV_ROOTS];
	/*
	 * Hardware side, kept here because only shadow paging needs it: guest
	 * PTEs (over P) that map the page of a table declared 'at GPA' and that
	 * the vCPU's TLB may hold *writable* (filled while no shadow page
	 * write-protected that page).  Cleared by every flush of the vCPU's
	 * context and at every vcpu_load (more than the TLB loses: sound).
	 */
	uint64_t walias;
	/* nVMX (src/hv/kvm_nested_vmx.c) */
	uint8_t guest_mode;  /* is_guest_mode(vcpu): KVM runs L2 (HF_GUEST_MASK) */
	uint8_t last_vpid;   /* vmx->nested.last_vpid */
	int8_t ept02_vm;     /* guest_mmu's root (nested EPT): the L2 VM whose EPT12 it shadows, -1: none */
	uint8_t pad3[5];
	uint64_t ept02;      /* ... the EPT12 entries its shadow EPT02 tables mirror (over S), unsync ones too */
};

/*
 * Nested virtualization, architectural side (src/guest/x86_nested.c and
 * src/oracle/x86_nested.c; docs/nested.md): the vCPU's VMX state as L1 and
 * its L2 sees it, and the L2 oracle.  VPID12 0 (VPID off in VMCS12) shares
 * VPID 0 with L1 itself, so its translations live in the vCPU's own
 * permitted set; each non-zero VPID12 the model names has a set here.
 */
#define VT_X86_VPID12S 2
struct vt_oracle_x86 {
	uint8_t level;       /* 0: L1 runs (VMX root); 1: L2 runs (VMX non-root of L1) */
	uint8_t vmcs;        /* current VMCS12: its L2 VM + 1; 0: none (VMCLEAR/never VMPTRLD) */
	uint8_t vpid12;      /* VMCS12's VPID, 0: enable VPID = 0 */
	uint8_t launched;    /* launch state of each VMCS12 (bit: its L2 VM), set by VMLAUNCH; kept across VMPTRLD (no VMCLEAR op) */
	uint8_t pad[4];
	struct vt_x86_regs other; /* the registers of the level not running: VMCS12 guest state, or L1's */
	struct vt_set l2t[VT_X86_VPID12S]; /* L2 linear/combined mappings per non-zero VPID12 (over T) */
	uint64_t l2s;        /* L2 guest-physical mappings (over S of nested VMs), tagged by the EPTP12 */
};

enum vt_kvm_fault_phase {
	VT_KVM_FAULT_NONE,
	VT_KVM_FAULT_SAMPLED,   /* mmu_seq = kvm->mmu_invalidate_seq; smp_rmb(): next __kvm_faultin_pfn */
	VT_KVM_FAULT_RESOLVED,  /* the pfn is resolved outside mmu_lock: next lock, retry check, install */
	VT_KVM_FAULT_RETRY,     /* RET_PF_RETRY: next the guest re-executes the access, faults and samples again */
};

struct vt_kvm_svm_pcpu {
	uint8_t asid_gen;    /* svm_cpu_data.asid_generation */
	uint8_t next_asid;   /* svm_cpu_data.next_asid */
	uint8_t pad[6];
};

#endif
