/*
 * The state: everything that changes during a run, as one value.
 *
 * struct vt_state is fixed-size and holds no pointers, so it can be copied
 * with memcpy, hashed and compared byte-wise; the explorer and replay depend
 * on that.  Every byte is initialised by vt_state_init() (memset first), and
 * code only ever writes fields, so padding stays zero.
 *
 *   vt_state
 *   ├── meta          step counter; not part of the state's identity
 *   └── (canonical part, hashed and compared from 'pt' on)
 *       ├── pt[space]        guest page tables (sets over P)
 *       ├── s_perm           oracle: stage-2 entries the host still permits
 *       ├── vm[]             current stage-2 (over S) + per-VM hypervisor data
 *       ├── vcpu[]           run state, KVM requests, guest registers,
 *       │                    oracle permitted set (over T), backend data
 *       ├── pcpu[]           loaded vCPU, hardware tag, backend per-CPU data
 *       └── dom[]            hardware TLB domains: tagged slots of U and S sets
 *
 * Invariant: a TLB slot is in use iff key != VT_KEY_NONE; used slots come
 * first, sorted by key; a slot whose sets become empty is released.  This
 * keeps equal TLB contents byte-identical.
 */
#ifndef VTLB_STATE_H
#define VTLB_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"

#define VT_MAX_SLOTS 8
#define VT_MAX_DOMAINS (2 * VT_MAX_PCPUS) /* POWER: a TLB per group and an ERAT per thread */
#define VT_KEY_NONE 0xffffffffu
#define VT_MAX_PENDING 4

/* ---- hardware TLB ------------------------------------------------------ */

struct vt_tlb_slot {
	uint32_t key;        /* hardware tag, encoded by the hw ops */
	uint32_t pad;
	struct vt_set u;     /* combined / stage-1 / linear entries */
	uint64_t s;          /* stage-2 / guest-physical / partition-scoped entries */
};

/* An invalidation issued but not yet complete (arm64 TLBI before DSB, POWER tlbie before tlbsync). */
struct vt_pending {
	uint8_t used;
	uint8_t insn;        /* hw instruction code */
	uint8_t issuer;      /* pCPU */
	uint8_t pad;
	uint32_t key;
	uint64_t arg;
};

struct vt_tlb_dom {
	struct vt_tlb_slot slot[VT_MAX_SLOTS];
	uint64_t icache;     /* arm64: I-cache lines that may hold guest code (over P) */
};

/*
 * Per-backend hypervisor state, one header each; the unions below embed
 * them.  Every struct has a size that is a multiple of 8 bytes.
 */
#include "vtlb/state_arm64.h"
#include "vtlb/state_ppc.h"
#include "vtlb/state_x86.h"

/* ---- the value --------------------------------------------------------- */

enum vt_run {
	VT_RUN_IDLE,    /* not loaded on any pCPU */
	VT_RUN_LOADED,  /* loaded (vcpu_load done), outside guest mode */
	VT_RUN_GUEST,   /* executing guest code */
	VT_RUN_COUNT
};

/* KVM vcpu->mode (include/linux/kvm_host.h) */
enum vt_mode {
	VT_MODE_OUTSIDE,       /* OUTSIDE_GUEST_MODE */
	VT_MODE_IN_GUEST,      /* IN_GUEST_MODE */
	VT_MODE_EXITING,       /* EXITING_GUEST_MODE: kicked, an IPI is on its way */
	VT_MODE_READING_SPT,   /* READING_SHADOW_PAGE_TABLES: a lockless shadow walk (no modelled path enters it) */
	VT_MODE_COUNT
};

/*
 * Where a vCPU is in the last part of its entry path, with 'option
 * kvm-phases' (src/hv/kvm.c; docs/design.md, "Requests and kicks"): IRQs
 * and preemption are off from VT_ENTRY_MODE_SET on until it enters or
 * cancels.
 */
enum vt_entry {
	VT_ENTRY_NONE,
	VT_ENTRY_MODE_SET,     /* vcpu->mode = IN_GUEST_MODE; smp_mb(): next the kvm_vcpu_exit_request() re-check */
	VT_ENTRY_CHECKED,      /* (x86-entry-mode-mb reverted) requests read while the mode store is still buffered */
	VT_ENTRY_COUNT
};

struct vt_vcpu_state {
	uint8_t run;         /* enum vt_run */
	int8_t pcpu;         /* pCPU it is loaded on, -1 */
	uint8_t pc;          /* next op of its program */
	uint8_t phase;       /* fine-grained hypervisor phase of an entry in progress */
	uint8_t mode;        /* enum vt_mode */
	int8_t last_pcpu;    /* where it last ran (for migration bounds), -1 */
	uint8_t in_run;      /* its thread is inside KVM_RUN (preempt notifier registered): the next
				load is kvm_sched_in; kept only where vt_hv_ops.tracks_thread says so */
	uint8_t entry;       /* enum vt_entry (option kvm-phases) */
	uint32_t requests;   /* KVM vcpu->requests */
	uint8_t ipi;         /* a kick IPI is pending on its pCPU, taken when IRQs are enabled again */
	uint8_t pad2[3];
	union vt_gregs g;    /* guest registers */
	struct vt_set permitted; /* oracle: translations the architecture lets it observe (over T) */
	union {
		struct vt_oracle_arm64 arm64;
		struct vt_oracle_ppc ppc;
		struct vt_oracle_x86 x86;
	} o;                 /* oracle bookkeeping (e.g. guest invalidations not yet complete) */
	union {
		struct vt_kvm_x86_vcpu x86;
		struct vt_kvm_arm64_vcpu arm64;
		struct vt_kvm_ppc_vcpu ppc;
	} h;
};

struct vt_pcpu_state {
	int8_t vcpu;         /* vCPU loaded here, -1 */
	uint8_t pad[3];
	uint32_t key;        /* hardware tag loaded for guest execution */
	union {
		struct vt_kvm_svm_pcpu svm;
		struct vt_kvm_arm64_pcpu arm64;
		struct vt_kvm_ppc_pcpu ppc;
	} h;
};

struct vt_vm_state {
	uint64_t s2;         /* current stage-2 mappings (over S) */
	union {
		struct vt_kvm_arm64_vm arm64;
		struct vt_kvm_ppc_vm ppc;
		struct vt_kvm_x86_vm x86;
	} h;
};

/* Machine-wide hypervisor state (e.g. the arm64 VMID allocator). */
union vt_hv_global {
	struct vt_kvm_arm64_global arm64;
	struct vt_kvm_ppc_global ppc;
};

/*
 * Model limits.  Where the model runs out of room (tag slots, invalidations
 * in flight, VMIDs) it must not quietly behave like hardware it is not: the
 * layer records the limit here and the step fails with VT_STEP_ERR_LIMIT.
 */
enum vt_limit {
	VT_LIMIT_NONE,
	VT_LIMIT_TLB_SLOTS,        /* a TLB domain has no free tag slot */
	VT_LIMIT_PENDING,          /* too many hardware invalidations in flight */
	VT_LIMIT_ORACLE_PENDING,   /* too many guest invalidations awaiting their barrier */
	VT_LIMIT_VMIDS,            /* no free VMID after a rollover */
	VT_LIMIT_IPIS,             /* too many IPIs pending for one vCPU */
	VT_LIMIT_TDP_ROOTS,        /* x86: a VM needs more TDP roots than the model keeps */
	VT_LIMIT_COUNT
};

struct vt_state_meta {
	uint32_t step;       /* events applied so far */
	uint16_t limit;      /* enum vt_limit: the first model limit hit, if any */
	/*
	 * TLB domains written since the explorer cleared it (bit d): every
	 * write to s->dom[d] marks it (vt_dom_mark), a write that changes
	 * nothing may.  The explorer clears it before a step and then
	 * compares only the marked domains with the parent's.
	 */
	uint16_t dom_w;
};

/* Record that a model limit was hit (the first one wins). */
static inline void vt_state_limit(struct vt_state_meta *meta, enum vt_limit l)
{
	if (!meta->limit)
		meta->limit = (uint16_t)l;
}

struct vt_state {
	struct vt_state_meta meta;
	/* canonical part: everything from here on is the state's identity */
	uint64_t pt[VT_MAX_SPACES];
	uint64_t s_perm;
	uint8_t host_pc;     /* next op of the host program */
	uint8_t host_phase;  /* fine-grained phase of the host operation in progress (0: none) */
	uint8_t preemptions; /* exploration: preemptions used so far (the explorer counts) */
	uint8_t migrations;  /* exploration: migrations used so far */
	uint8_t kick_mask;   /* kvm_make_all_cpus_request in progress: the vCPUs whose pCPU gets an IPI */
	uint8_t host_nested; /* exploration: the host program's next operation ran, on another thread,
				while the one in progress had yielded (vt_host_concurrent); it is skipped */
	uint8_t pad[2];
	uint16_t links[VT_MAX_SPACES]; /* guest page-table structure: the tables linked below each space */
	struct vt_op host_cur; /* the host operation in progress (zero when none) */
	union vt_hv_global hg;
	struct vt_vm_state vm[VT_MAX_VMS];
	struct vt_vcpu_state vcpu[VT_MAX_VCPUS];
	struct vt_pcpu_state pcpu[VT_MAX_PCPUS];
	struct vt_tlb_dom dom[VT_MAX_DOMAINS];
};

/* Every write to TLB domain d of s calls this first (vt_state_meta.dom_w). */
static inline void vt_dom_mark(struct vt_state *s, int d)
{
	s->meta.dom_w |= (uint16_t)(1u << d);
}

#define VT_STATE_CANON_OFF offsetof(struct vt_state, pt)
#define VT_STATE_CANON_LEN (sizeof(struct vt_state) - VT_STATE_CANON_OFF)

/*
 * May host operation 'op' run, whole, on another host thread while the
 * operation in progress (s->host_cur, s->host_phase != 0) is between two
 * phases?  Only when that one has dropped its lock: an x86 TDP MMU zap
 * yielding mmu_lock (cond_resched_rwlock_write).  The other thread may be
 * the MMU notifier, NX recovery or a fast zap; a second yielding zap is not
 * modelled (one operation in progress at a time).
 */
static inline bool vt_host_concurrent(const struct vt_state *s, const struct vt_op *op)
{
	return s->host_phase && s->host_cur.code == VT_OP_HOST_ZAP && op->code != VT_OP_HOST_ZAP &&
	       op->code != VT_OP_HOST_INSN && op->code != VT_OP_HOST_RAW_REMAP;
}

/* Power-on state for a model: every byte defined. */
void vt_state_init(const struct vt_model *m, struct vt_state *s);

/*
 * The part of a state a model uses: meta, the machine-wide header and the
 * first nvms VMs, nvcpus vCPUs, npcpus pCPUs and ndomains TLB domains.  The
 * array elements beyond them are never read or written by a step and keep
 * their power-on values, so the explorer copies and compares only the used
 * part (a state is up to 6.7 KiB, its used part often under 2).
 *
 * vt_state_copy: dst's used part becomes src's; dst's unused part must
 * already hold the power-on values (a state made by vt_state_init or
 * copied whole from one).  vt_state_same: are the canonical parts (from
 * 'pt' on) of a and b equal within the used part?  vt_state_unused_is_init:
 * does s still hold init's values beyond the used part (a debug check)?
 */
void vt_state_copy(const struct vt_model *m, struct vt_state *dst, const struct vt_state *src);
bool vt_state_same(const struct vt_model *m, const struct vt_state *a, const struct vt_state *b);
bool vt_state_unused_is_init(const struct vt_model *m, const struct vt_state *s, const struct vt_state *init);
/*
 * vt_state_gather: the canonical part of s within the used part (from 'pt'
 * on), concatenated into out; its length, the same for every state of m.
 * vt_state_scatter: the inverse, into s (whose unused part holds the
 * power-on values); false, writing nothing, when n is not that length.
 */
size_t vt_state_gather(const struct vt_model *m, const struct vt_state *s, uint8_t *out);
bool vt_state_scatter(const struct vt_model *m, const uint8_t *in, size_t n, struct vt_state *s);

/*
 * The bytes of a section of the state that m uses, from its start: type 0
 * the machine-wide header (from 'pt' on), 1 a VM, 2 a vCPU, 3 a pCPU, 4 a
 * TLB domain.  The other backends' members of the per-backend unions at the
 * end of the header, a VM and a vCPU are left out (vt_hv_ops.global_bytes
 * and the like); they keep their power-on values (vt_state_unused_is_init
 * checks that too).
 */
size_t vt_state_sect_len(const struct vt_model *m, int type);

/*
 * Rename pCPUs: pCPU p becomes map[p] (a permutation), in the engine's
 * fields and through the backend's permute_pcpus hook.  Only meaningful when
 * each pCPU is its own TLB domain.  Only the used part of out is written
 * (vt_state_copy): compare results with vt_state_same.
 */
void vt_state_permute_pcpus(const struct vt_model *m, const struct vt_state *in, struct vt_state *out,
			    const int8_t *map);
/* vt_state_permute_pcpus with the renaming that swaps pCPUs a and b. */
void vt_state_swap_pcpus(const struct vt_model *m, const struct vt_state *in, struct vt_state *out, int a, int b);
/*
 * The references to pCPUs in s renamed by map, in place: the engine's
 * fields and the backend's (permute_pcpus).  The pCPU and TLB-domain
 * sections are not moved (no reference to a pCPU is stored in them).
 */
void vt_state_rename_pcpu_refs(const struct vt_model *m, struct vt_state *s, const int8_t *map);

/* ---- TLB slot helpers (hardware side) ---------------------------------- */

/* Index of the slot holding 'key' in domain d, or -1. */
int vt_tlb_index(const struct vt_state *s, int d, uint32_t key);

/* The slot holding 'key' in domain d, or NULL. */
struct vt_tlb_slot *vt_tlb_find(struct vt_state *s, int d, uint32_t key);

/* Add entries under 'key'.  Returns 0, or -1 if the domain has no free slot. */
int vt_tlb_fill(struct vt_state *s, int d, uint32_t key, const struct vt_set *u, uint64_t s2);

/* Release slots whose sets are empty and restore the slot invariant. */
void vt_tlb_tidy(struct vt_state *s, int d);

#endif
