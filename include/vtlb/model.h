/*
 * The model: everything a scenario declares, immutable once parsed.
 *
 * A model names the machine (pCPUs and how they share TLBs), the VMs and
 * their vCPUs, the guest address spaces with their page-table entries, the
 * stage-2 (EPT/NPT/stage-2/partition-scoped) mappings, the script or the
 * per-vCPU programs, the expectation, and which named fixes are reverted.
 * It also enumerates the finite universes every set in the state ranges over:
 *
 *   P  page-table entries      (vm, va, gpa, global bit)
 *   T  guest translations      (vm, ctx, pte, effective global)  — what the
 *                                guest's architectural TLB may hold
 *   S  stage-2 translations    (vm, gpa, hpa)
 *   U  combined translations   (t, s) with t.gpa == s.gpa        — what a
 *                                hardware TLB domain may hold
 *
 * "ctx" is the guest's own tag: the PCID on x86, the ASID on arm64, the PID
 * on POWER.  The masks below (by VA, by ctx, global, by VM, by stage-2
 * entry) are precomputed so that every invalidation is a mask-and-clear.
 * The model is passed by const pointer everywhere after vt_model_finish().
 */
#ifndef VTLB_MODEL_H
#define VTLB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vtlb/bits.h"

#define VT_MAX_PCPUS 8
#define VT_MAX_VCPUS 8
#define VT_MAX_VMS 4
#define VT_MAX_SPACES 16
#define VT_MAX_VAS 32
#define VT_MAX_CTX 16
#define VT_MAX_P 64
#define VT_MAX_T VT_SET_BITS
#define VT_MAX_U VT_SET_BITS
#define VT_MAX_S 64
#define VT_MAX_PROG 64
#define VT_MAX_OPTS 32
#define VT_NAME 16

enum vt_arch {
	VT_ARCH_X86,
	VT_ARCH_ARM64,
	VT_ARCH_PPC,
	VT_ARCH_COUNT
};

/* A backend is one KVM flavour: the hardware features it uses and its policy. */
enum vt_backend {
	VT_BE_VMX_EPT,
	VT_BE_VMX_SHADOW,
	VT_BE_SVM_NPT,
	VT_BE_SVM_SHADOW,
	VT_BE_ARM64,
	VT_BE_PPC_RADIX,
	VT_BE_COUNT
};

/*
 * A guest (or host) operation.  'code' is a common code (VT_OP_*) or an
 * architecture's own (>= VT_OP_ARCH); the meaning of the operands belongs
 * to the code.
 */
enum vt_op_common {
	VT_OP_NONE,
	VT_OP_MAP,       /* guest: space, a=va, pte index in b */
	VT_OP_UNMAP,     /* guest: space, a=va */
	VT_OP_ACCESS,    /* guest: a=va; reports what the access returns */
	VT_OP_HOST_UNMAP,/* host: target=vm, a=gpa */
	VT_OP_HOST_REMAP,/* host: target=vm, a=gpa, b=stage-2 entry index */
	VT_OP_HOST_RAW_REMAP, /* host, instrument: change stage 2 and flush nothing (KVM never does) */
	VT_OP_HOST_INSN, /* host, instrument: run one hardware instruction; target=pcpu, a=va, b=insn<<32|key */
	VT_OP_LINK,      /* guest: space, b=table: point an upper-level entry of space at the table */
	VT_OP_UNLINK,    /* guest: space, b=table: clear that entry */
	VT_OP_HOST_UNMAP_RANGE, /* host (arm64): target=vm, a=gpa, b=pages: kvm_pgtable_stage2_unmap over the range */
	VT_OP_HOST_ZAP,  /* host, x86 TDP: target=vm, a..b = GPA range: kvm_zap_gfn_range (yields) */
	VT_OP_HOST_NX_RECOVER, /* host, x86 TDP: target=vm, a..b = GPA range: kvm_recover_nx_lpages */
	VT_OP_HOST_ZAP_ALL, /* host, x86 TDP: target=vm: kvm_mmu_zap_all_fast */
	VT_OP_ARCH = 16
};

#define VT_OPF_FEP 0x1u      /* x86: KVM forced-emulation prefix */
#define VT_OPF_NOFLUSH 0x2u  /* x86: MOV CR3 with bit 63 set */
#define VT_OPF_GLOBAL 0x4u   /* map: global page (x86 G=1, arm64 nG=0) */
#define VT_OPF_IS 0x8u       /* arm64: broadcast (Inner Shareable) form */
#define VT_OPF_ARCH 0x100u   /* first flag free for an architecture */

struct vt_op {
	uint16_t code;
	uint16_t flags;
	int16_t space;   /* address space operand, or -1 */
	int16_t target;  /* vCPU, VM or number operand, or -1 */
	uint64_t a;
	uint64_t b;
};

enum vt_ev_kind {
	VT_EV_LOAD,   /* hypervisor: vcpu_load(vcpu, pcpu) */
	VT_EV_ENTER,  /* hypervisor: service requests and enter the guest */
	VT_EV_PUT,    /* hypervisor: preempt — exit the guest and vcpu_put */
	VT_EV_GUEST,  /* guest operation on a running vCPU */
	VT_EV_HOST,   /* host operation (stage-2 change and its flush) */
	VT_EV_CHECK,  /* scenario assertion; evaluated by the runner, never by vt_step */
	VT_EV_COUNT
};

#define VT_EVF_STEP 0x1u  /* ENTER: advance one fine-grained phase only */
#define VT_EVF_AUTO 0x2u  /* inserted by the runner, not written in the scenario */
#define VT_EVF_ENTER 0x4u /* LOAD, GUEST: then (re-)enter the guest in the same step */
/*
 * PUT: the vCPU thread leaves KVM_RUN for userspace (vcpu_put, preempt
 * notifier unregistered), so its next LOAD is a KVM_RUN ioctl's vcpu_load.
 * Without it a PUT is kvm_sched_out of a thread preempted inside KVM_RUN,
 * and its next LOAD is kvm_sched_in.
 */
#define VT_EVF_USER 0x8u
/*
 * GUEST: not the guest but the VMM writes the vCPU's registers (x86
 * KVM_SET_SREGS) while the vCPU's thread is in userspace.  In an exploration
 * it is a step of the host program.
 */
#define VT_EVF_VMM 0x10u
/*
 * GUEST, in a model with nested VMs: an operation of the L2 guest the vCPU
 * runs (between its L1's VM entry and the VM exit back); pcpu then holds
 * the L2 VM.  Without it, an operation of the L1 guest itself.
 */
#define VT_EVF_L2 0x20u

struct vt_event {
	uint8_t kind;
	int8_t vcpu;
	int8_t pcpu;
	uint8_t flags;
	uint32_t line;
	uint32_t col;
	struct vt_op op;
};

/* Scenario assertions (VT_EV_CHECK), evaluated between steps. */
enum vt_check_kind {
	VT_CHK_PERMITS,    /* oracle permits vcpu VA [-> GPA] */
	VT_CHK_NPERMITS,   /* oracle does not permit it */
	VT_CHK_HW,         /* hardware could return VA [-> GPA] to vcpu */
	VT_CHK_NHW,        /* hardware could not */
	VT_CHK_COUNT_INSN, /* instruction 'a' executed exactly b times so far */
	VT_CHK_ROOTS,      /* exactly b new roots / contexts built so far */
	VT_CHK_EXITS,      /* exactly b VM exits so far */
	VT_CHK_HW_GPA,     /* hardware can translate guest-physical a [-> host-physical b] for vcpu */
	VT_CHK_NHW_GPA,    /* it cannot */
	VT_CHK_HW_HPA,     /* hardware could return VA (index in op.target) -> GPA a -> HPA b to vcpu */
	VT_CHK_NHW_HPA,    /* it could not */
	VT_CHK_COUNT
};

enum vt_expect_kind {
	VT_EXP_NONE,
	VT_EXP_CLEAN,
	VT_EXP_STALE,
	VT_EXP_BREACH,
	VT_EXP_FAULT,    /* 'expect fault [VCPU]': the script means its faults (kept in model->expect_fault) */
	VT_EXP_FOUND,   /* exploration: the search must find a stale access or a breach */
	VT_EXP_COUNT
};

struct vt_expect {
	uint8_t kind;
	int8_t vcpu;     /* -1: any */
	uint8_t has_va;
	uint8_t pad;
	uint32_t line;
	uint64_t va;
};

struct vt_pte {
	uint8_t vm;
	uint8_t g;         /* the entry's global bit */
	uint16_t spaces;   /* spaces this entry is ever mapped into */
	uint8_t va;        /* index into model->va[] */
	uint8_t pad[3];
	uint64_t gpa;
};

struct vt_tr {
	uint8_t vm;
	uint8_t ctx;       /* index into model->ctx[] */
	uint8_t p;         /* index into model->pte[] */
	uint8_t g;         /* effective global */
};

/*
 * A stage-2 entry.  A leaf maps one 4 KiB page (a level-3 entry); a table
 * entry (arm64 only: 's2 ... table') is a level-1 or level-2 descriptor
 * that points at the next-level table at hpa and covers vt_s2_span() bytes
 * from gpa.  A table entry pairs with no guest translation (no U element):
 * a TLB holds it as a walk-cache entry.
 */
struct vt_s2 {
	uint8_t vm;
	uint8_t table;     /* a table descriptor, not a leaf */
	uint8_t level;     /* lookup level of the descriptor: 3 for a leaf, 1 or 2 for a table */
	uint8_t l1s;       /* of an L2 VM (nested): the L1 stage-2 entry + 1 its GPA resolves through, 0: none */
	uint8_t pad[4];
	uint64_t gpa;
	uint64_t hpa;
};

/* The IPA range a stage-2 entry covers (4 KiB granule: level 1 1 GiB, level 2 2 MiB, level 3 4 KiB). */
static inline uint64_t vt_s2_span(const struct vt_s2 *e)
{
	return (uint64_t)1 << (12 + 9 * (3 - (e->level ? e->level : 3)));
}

struct vt_cu {
	uint8_t t;
	uint8_t s;
};

struct vt_ctx {
	uint8_t vm;
	uint8_t pad[3];
	uint32_t value;    /* PCID / ASID / PID */
};

struct vt_space {
	char name[VT_NAME];
	uint8_t vm;
	uint8_t table;     /* a page table below address spaces ('table'), never loaded as a root */
	uint8_t at;        /* a table declared 'at GPA': the guest-physical page that holds it is 'gpa' */
	uint8_t pad;
	uint32_t ctx;      /* the PCID / ASID / PID this space is used with */
	uint64_t gpa;      /* with 'at': the table's own page, which guest mappings may alias */
};

struct vt_vm {
	char name[VT_NAME];
	uint8_t nvcpus;      /* 0 for a nested (L2) VM: it runs on its L1's vCPUs */
	uint8_t first_vcpu;  /* a nested VM: its L1's first vCPU */
	uint8_t nested_of;   /* x86 nested virtualization: the L1 VM + 1 this L2 VM is a guest of; 0: none */
	uint8_t ept12;       /* nested: L1 runs it with EPT (an 'ept12' table over L1's memory) */
	uint8_t pad[4];
	uint64_t pcpus;    /* pCPUs this VM's vCPUs may use (explore) */
};

/*
 * Per-architecture guest register files, as the guest sees them, one header
 * each (vtlb/regs_<arch>.h).  They live in the state (one per vCPU) and in
 * the model (the initial values).  Each is at most 16 bytes.
 */
#include "vtlb/regs_arm64.h"
#include "vtlb/regs_ppc.h"
#include "vtlb/regs_x86.h"

union vt_gregs {
	struct vt_x86_regs x86;
	struct vt_arm64_regs arm64;
	struct vt_ppc_regs ppc;
};

/* The guest's current translation context, derived from its registers. */
struct vt_gctx {
	int8_t paging;     /* translation on */
	int8_t space;      /* -1 if none */
	int8_t ctx;        /* index into model->ctx[], -1 if none */
	int8_t global_ok;  /* global entries are created (x86: CR4.PGE) */
};

/*
 * What a step derives from one vCPU's registers and its VM's page tables,
 * once after the step's changes (step.c, settle): the hooks that fill and
 * walk read it instead of recomputing it.
 */
struct vt_view {
	struct vt_gctx g;    /* vt_vcpu_gctx */
	struct vt_set live;  /* vt_live_vcpu: the guest translations its context maps now */
};

struct vt_model;
struct vt_state;
struct vt_trace;

/*
 * The optional hooks every step calls (vt_oracle_ops.fill and .usable,
 * vt_hv_ops.fault), or NULL where the ops say they cannot act in this model
 * (vt_oracle_ops.hooks_act, vt_hv_ops.fault_acts): resolved once by
 * vt_model_finish, so that a step does not call a hook only to return;
 * and, resolved the same way, whether the backend tracks vCPU threads.
 */
struct vt_step_hooks {
	void (*oracle_fill)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w);
	bool (*oracle_usable)(const struct vt_model *m, const struct vt_state *s, int v, struct vt_set *t,
			      uint64_t *s_ok, uint64_t *s_mine);
	void (*hv_fault)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	bool tracks_thread; /* vt_hv_ops.tracks_thread(m) (vt_tracks_thread) */
};

/* Exploration bounds; VT_BOUND_UNSET where the scenario says nothing. */
#define VT_BOUND_UNSET UINT32_MAX
struct vt_bounds {
	uint32_t depth;
	uint32_t preemptions;
	uint32_t migrations;
};

/*
 * Performance mode (vtlb cost, src/workload.c, src/tlb_finite.c): a scenario
 * may name a seeded workload instead of a schedule, and the geometry of the
 * finite TLB the cost counters model next to the maximal one.
 */
enum vt_wl_class {
	VT_WL_ACCESS,   /* a running vCPU reads a VA its current space maps */
	VT_WL_OP,       /* a running vCPU performs the next operation of its program (cyclic) */
	VT_WL_PREEMPT,  /* the host preempts a vCPU and runs a waiting one on that pCPU */
	VT_WL_MIGRATE,  /* a vCPU moves to another pCPU (swapping with the one there) */
	VT_WL_HOST,     /* the next operation of the host program (cyclic): reclaim, remap */
	VT_WL_COUNT
};

struct vt_workload {
	uint32_t steps;              /* events to generate */
	uint32_t line;               /* where it was declared, 0: none */
	uint64_t seed;
	uint32_t w[VT_WL_COUNT];     /* relative weights */
};

enum vt_tlb_policy {
	VT_TLB_LRU,
	VT_TLB_RANDOM,               /* seeded by the workload seed */
	VT_TLB_POLICY_COUNT
};

struct vt_tlb_geom {
	uint32_t entries;            /* per TLB domain; 0: the default */
	uint32_t ways;               /* associativity; 0: fully associative */
	uint32_t policy;             /* enum vt_tlb_policy */
	uint32_t line;
};

struct vt_arch_ops;
struct vt_hw_ops;
struct vt_hv_ops;
struct vt_oracle_ops;

/*
 * A set of named fixes (enum vt_fix_* in fixes.h): a bit per fix id.  Fix
 * ids run to VT_FIXSET_WORDS * 64; the set is a value, passed and compared
 * like one.
 */
#define VT_FIXSET_WORDS 2
struct vt_fixset {
	uint64_t w[VT_FIXSET_WORDS];
};

#define VT_FIXSET_NONE ((struct vt_fixset){{0}})

static inline int vt_fixset_has(struct vt_fixset s, unsigned fix)
{
	return fix < 64 * VT_FIXSET_WORDS && (s.w[fix / 64] >> (fix % 64) & 1);
}

static inline void vt_fixset_add(struct vt_fixset *s, unsigned fix)
{
	if (fix < 64 * VT_FIXSET_WORDS)
		s->w[fix / 64] |= (uint64_t)1 << (fix % 64);
}

static inline void vt_fixset_del(struct vt_fixset *s, unsigned fix)
{
	if (fix < 64 * VT_FIXSET_WORDS)
		s->w[fix / 64] &= ~((uint64_t)1 << (fix % 64));
}

static inline int vt_fixset_is_empty(struct vt_fixset s)
{
	for (int i = 0; i < VT_FIXSET_WORDS; i++)
		if (s.w[i])
			return 0;
	return 1;
}

/* a | b */
static inline struct vt_fixset vt_fixset_union(struct vt_fixset a, struct vt_fixset b)
{
	for (int i = 0; i < VT_FIXSET_WORDS; i++)
		a.w[i] |= b.w[i];
	return a;
}

struct vt_model {
	char file[256];
	uint64_t serial;   /* unique per finished model in the process (caches tell models apart by it) */
	enum vt_arch arch;
	enum vt_backend backend;
	const struct vt_arch_ops *aops;
	const struct vt_hw_ops *hw;
	const struct vt_hv_ops *hv;
	const struct vt_oracle_ops *oracle;
	struct vt_step_hooks step_hooks;   /* vt_model_finish */

	uint32_t opt[VT_MAX_OPTS];   /* enum vt_opt */
	struct vt_fixset reverted;   /* the fixes whose logic is from before the patch */
	uint32_t kernel;             /* a scenario's 'kernel' release (vt_kernel_parse), or 0 */

	/* topology */
	int npcpus;
	int threads_per_core;
	int ndomains;
	int8_t domain_of[VT_MAX_PCPUS];  /* TLB domain used by each pCPU */

	int nvms;
	struct vt_vm vm[VT_MAX_VMS];
	int nvcpus;
	uint8_t vcpu_vm[VT_MAX_VCPUS];
	union vt_gregs vcpu_init[VT_MAX_VCPUS];

	int nspaces;
	struct vt_space space[VT_MAX_SPACES];

	/* universes */
	int nvas;
	uint64_t va[VT_MAX_VAS];
	int nctx;
	struct vt_ctx ctx[VT_MAX_CTX];
	int np;
	struct vt_pte pte[VT_MAX_P];
	int nt;
	struct vt_tr t[VT_MAX_T];
	int ns;
	struct vt_s2 s2[VT_MAX_S];
	int nu;
	struct vt_cu u[VT_MAX_U];

	uint64_t init_pt[VT_MAX_SPACES];  /* initial page tables, over P */
	uint16_t init_links[VT_MAX_SPACES]; /* tables initially linked below each space */
	uint16_t linkable[VT_MAX_SPACES];   /* tables a space links at some point (decls and ops) */
	uint64_t init_s2;                 /* initial stage-2 mappings, over S */

	/* lookup tables */
	int16_t tix[VT_MAX_CTX][VT_MAX_P][2];  /* (ctx, pte, g) -> t, or -1 */
	int16_t uix[VT_MAX_T][VT_MAX_S];       /* (t, s) -> u, or -1 */
	uint64_t s_of_t[VT_MAX_T];             /* the stage-2 entries s with uix[t][s] >= 0 */
	int8_t space_ctx[VT_MAX_SPACES][2];    /* ctx variants of a space, -1 unused */

	/* masks over T */
	struct vt_set t_va[VT_MAX_VAS];
	struct vt_set t_ctx[VT_MAX_CTX];
	struct vt_set t_global;
	struct vt_set t_vm[VT_MAX_VMS];
	/* (t_ctx[c] | t_global) & t_vm[vm]: what a vCPU of vm in context c may use if permitted (the check) */
	struct vt_set t_ctx_vm[VT_MAX_CTX][VT_MAX_VMS];
	/* masks over U */
	struct vt_set u_va[VT_MAX_VAS];
	struct vt_set u_ctx[VT_MAX_CTX];
	struct vt_set u_global;
	struct vt_set u_vm[VT_MAX_VMS];
	struct vt_set u_s[VT_MAX_S];
	struct vt_set u_of_t[VT_MAX_T];
	/*
	 * By context: the U elements of every context with the same value
	 * (PCID / ASID / PID) in any VM, what a hardware lookup under that
	 * value may hit (vt_ctx_value_umask of ctx[c].value); and the same
	 * with the global ones added (vt_usable_umask).  Filled once by
	 * vt_model_finish, read on every step.
	 */
	struct vt_set u_ctx_value[VT_MAX_CTX];
	struct vt_set u_usable[VT_MAX_CTX];
	/* masks over S and P */
	uint64_t s_vm[VT_MAX_VMS];
	uint64_t s_gpa[VT_MAX_S];              /* entries with the same (vm, gpa) as s */
	uint64_t p_gpa[VT_MAX_P];              /* ptes with the same (vm, gpa) as p */

	/* scripted run */
	struct vt_event *script;
	int nscript;
	struct vt_expect expect;
	struct vt_expect expect_fault; /* kind VT_EXP_FAULT when the script means a guest operation to fault */
	char title[128];
	int pins[4];                 /* fixes this scenario is written to show (-1: none) */

	/* x86 nested virtualization (docs/nested.md) */
	int has_nested;              /* some VM is nested in another */
	union vt_gregs l2_init[VT_MAX_VMS][VT_MAX_VCPUS]; /* per L2 VM and L1 vCPU: the guest state L1 writes
							     into VMCS12 before the first VM entry ('vcpu L2.N') */
	int nvpid12;                 /* distinct non-zero VPID12 values L1 uses (VT_X86_VPID12S at most) */
	uint16_t vpid12[4];

	/* exploration: a program per vCPU and one for the host */
	int has_programs;
	int nprog[VT_MAX_VCPUS + 1];
	struct vt_event prog[VT_MAX_VCPUS + 1][VT_MAX_PROG];
	struct vt_bounds bounds;
	int fine;                    /* enter in fine-grained phases */
	int explicit_schedule;       /* script: no automatic re-entry; every enter is written */

	/* performance mode */
	struct vt_workload wl;       /* wl.line != 0: a workload instead of a schedule */
	struct vt_tlb_geom tlb;      /* finite TLB geometry (tlb.line != 0: declared) */
};

/* Option ids (values in model->opt).  See src/options.c for names and ranges. */
enum vt_opt {
	VT_OPT_VPID,          /* x86 VMX: enable_vpid */
	VT_OPT_ASIDS,         /* x86 SVM: number of usable ASIDs per pCPU */
	VT_OPT_FLUSHBYASID,   /* x86 SVM: CPUID FlushByAsid */
	VT_OPT_FB,            /* arm64: HCR_EL2.FB */
	VT_OPT_CNP,           /* arm64: CnP sharing of TLB entries */
	VT_OPT_VMID_BITS,     /* arm64: VMID width */
	VT_OPT_SMT8,          /* ppc: SMT8 big cores as two TLB groups */
	VT_OPT_GTSE,          /* ppc: guest may issue tlbie */
	VT_OPT_VHE,           /* arm64: VHE host (VTTBR loaded at vcpu_load) */
	VT_OPT_PV_TLB_FLUSH,  /* x86: KVM_FEATURE_PV_TLB_FLUSH with steal time */
	VT_OPT_KVM_PHASES,    /* x86: vcpu->mode handshake, requests/IPIs and MMU-notifier invalidations phase by phase */
	VT_OPT_LAZY_SPTES,    /* x86 TDP: roots and new pages start without SPTEs; accesses fault them in */
	VT_OPT_VPID02,        /* x86 nVMX: KVM has a vpid02 for L2 (enter_vmx_operation's allocate_vpid) */
	VT_OPT_ARCH_SPARE1,   /* free for an architecture's own option */
	VT_OPT_ARCH_SPARE2,
	VT_OPT_ARCH_SPARE3,
	VT_OPT_TLBI_RANGE,    /* arm64: FEAT_TLBIRANGE (system_supports_tlb_range) */
	VT_OPT_S2FWB,         /* arm64: FEAT_S2FWB (stage2_has_fwb) */
	VT_OPT_TTL,           /* arm64: FEAT_TTL (TLBI level hints are used) */
	VT_OPT_COUNT
};

struct vt_option_decl {
	const char *name;
	enum vt_opt id;
	uint32_t archs;       /* bit per enum vt_arch where it applies */
	uint32_t def;
	uint32_t min;
	uint32_t max;
	int boolean;          /* takes on/off */
	const char *help;
	uint32_t backends;    /* bit per enum vt_backend it has an effect on; 0: every backend of its archs */
};

/* Option by name, or NULL; the whole table through vt_option_at(i) until NULL. */
const struct vt_option_decl *vt_option_lookup(const char *name);
const struct vt_option_decl *vt_option_at(int i);
/* Set every option of the model's architecture to its default. */
void vt_options_default(struct vt_model *m);

/* Universe lookups; all return -1 when absent. */
int vt_model_va_index(const struct vt_model *m, uint64_t va);
int vt_model_space(const struct vt_model *m, const char *name);
int vt_model_vm(const struct vt_model *m, const char *name);
int vt_model_s2_find(const struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa);

/*
 * Builders used by the parser.  They grow the universes and return the new
 * index, or -1 when a limit is reached (the caller reports it).
 */
int vt_model_add_va(struct vt_model *m, uint64_t va);
int vt_model_add_pte(struct vt_model *m, int space, uint64_t va, uint64_t gpa, int global);
int vt_model_add_s2(struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa);
/* A stage-2 table entry at 'level' (1 or 2); never merged with a leaf. */
int vt_model_add_s2_table(struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa, int level);

/*
 * Enumerate T and U and compute every mask.  Returns 0, or -1 with a
 * message in err when a universe exceeds its limit.
 */
int vt_model_finish(struct vt_model *m, char *err, size_t errlen);

void vt_model_free(struct vt_model *m);

/* Printable name of vCPU v ("vm.idx"). */
void vt_model_vcpu_name(const struct vt_model *m, int v, char *buf, size_t len);

/* The hpa an unspecified gpa of a VM maps to: distinct per VM, easy to read. */
uint64_t vt_model_default_hpa(int vm, uint64_t gpa);

#endif
