/*
 * Ops tables: the one place where architectures and hypervisor backends plug
 * into the common engine, in the manner of KVM's kvm_x86_ops.  Common code
 * never switches on the architecture; it calls through these tables.
 *
 *   vt_arch_ops    the guest-visible architecture: registers, the guest
 *                  operations a scenario can name, the current context
 *   vt_oracle_ops  what the architecture requires each guest operation to
 *                  invalidate from the vCPU's permitted set (the spec)
 *   vt_hw_ops      the hardware TLB: tags, lookup, fill, the scope of every
 *                  invalidation instruction, natively executed guest ops
 *   vt_hv_ops      the hypervisor (KVM's logic for one backend): vcpu_load,
 *                  entry with request servicing, exits and their emulation,
 *                  host stage-2 changes with their remote flushes
 *
 * The oracle tables never see hw or hv state; hw never decides policy; hv
 * never reads the oracle's sets.
 */
#ifndef VTLB_OPS_H
#define VTLB_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtlb/model.h"
#include "vtlb/state.h"

struct vt_parser;
struct vt_trace;

/* ---- guest architecture ---------------------------------------------- */

/* Result of executing a guest operation's architectural part. */
enum vt_exec {
	VT_EXEC_OK,     /* took effect */
	VT_EXEC_FAULT,  /* the architecture faults it (#GP, #UD...): no effect */
	VT_EXEC_COUNT
};

struct vt_op_decl {
	const char *name;        /* first word in the scenario */
	uint16_t code;
	/* parse the operands after the name; report errors through the parser */
	int (*parse)(struct vt_parser *p, struct vt_op *op);
	const char *syntax;      /* one-line usage, for errors and docs */
};

struct vt_arch_ops {
	const char *name;
	const char *ctx_word;    /* what the guest's own tag is called: pcid, asid, pid */
	uint32_t ctx_max;        /* its largest value (x86: 12-bit PCIDs) */
	uint64_t gpa_limit;      /* guest-physical addresses lie below it; 0: the model sets no bound */
	const struct vt_op_decl *ops;
	int nops;
	/* Contexts a space's translations may be tagged with (at most 2); NULL: only its own. */
	int (*ctx_variants)(const struct vt_model *m, int space, uint32_t out[2]);
	/* The register file of a vCPU nobody declared (power-on, translation off). */
	void (*reset_regs)(union vt_gregs *r);
	/* Parse the register words of a 'vcpu' declaration into r. */
	int (*parse_vcpu)(struct vt_parser *p, union vt_gregs *r);
	/* The translation context the registers select. */
	void (*gctx)(const struct vt_model *m, const union vt_gregs *r, struct vt_gctx *out);
	/*
	 * Architectural effect of op on the vCPU's registers (validates first).
	 * On VT_EXEC_FAULT nothing changed and *why names the fault and the
	 * rule that raised it (a static string); a restriction of the model
	 * rather than the architecture starts with "model:".
	 */
	enum vt_exec (*exec)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			     const char **why);
	/*
	 * Optional: interrupts sent between vCPUs of a guest (a TLB shootdown's
	 * IPI, which exec records in the target's guest state).  Takes the next
	 * pending one of vCPU v, which is in the guest, into *handler: the
	 * operation its handler runs.  The engine runs it as v's own guest
	 * operation at once: a vCPU in the guest takes an IPI before it does
	 * anything else, and one outside the guest takes it when it enters.  The
	 * sender waits for that in the guest, so nothing it does later is
	 * visible to the target first.
	 */
	bool (*take_ipi)(const struct vt_model *m, struct vt_state *s, int v, struct vt_op *handler);
	/*
	 * Optional (nested virtualization): the level vCPU v runs at, 1 (its
	 * own guest) or 2 (the L2 guest it entered); the L2 VM in *l2vm.
	 */
	int (*level)(const struct vt_model *m, const struct vt_state *s, int v, int *l2vm);
	/* Optional: may the VMM write registers with the operation declared as d ('vmm VCPU: OP')? */
	bool (*vmm_writes)(const struct vt_op_decl *d);
	/* Optional: is d only ever the VMM's (never a guest operation)? */
	bool (*vmm_only)(const struct vt_op_decl *d);
	/* Format op as scenario text (without the "vcpu:" prefix). */
	void (*fmt_op)(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len);
	/* Format the registers that matter for translation. */
	void (*fmt_regs)(const struct vt_model *m, const union vt_gregs *r, char *buf, size_t len);
};

/* ---- oracle ----------------------------------------------------------- */

struct vt_oracle_ops {
	/*
	 * Remove from the permitted sets what op requires to be invalidated.
	 * 'old' holds the registers from before op executed; s holds the new.
	 */
	void (*guest_op)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 const union vt_gregs *old);
	/* Optional: the same for a register write by the VMM (VT_EVF_VMM). */
	void (*vmm_op)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old);
	/*
	 * Optional: fill v's permitted sets from its current context, instead
	 * of the engine's (permitted |= what the context maps now).  w is v's
	 * view of this step (what its context maps now: w->live).
	 */
	void (*fill)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w);
	/*
	 * Optional: what v may observe in its current context, when it is not
	 * the engine's (permitted, in the vCPU's VM): the translations (over T,
	 * already restricted to the context), the stage-2 / guest-physical
	 * entries the architecture still permits (over S; a reachable entry
	 * outside it is stale), and the stage-2 entries of v's guest-physical
	 * space (over S; any other reachable one is a breach).  Returns false
	 * to use the engine's.
	 */
	bool (*usable)(const struct vt_model *m, const struct vt_state *s, int v, struct vt_set *t, uint64_t *s_ok,
		       uint64_t *s_mine);
	/*
	 * Optional: whether fill and usable can differ from the engine's in
	 * model m.  False lets every step skip them (vt_model_finish resolves
	 * m->step_hooks); absent, they are always called.
	 */
	bool (*hooks_act)(const struct vt_model *m);
};

/* ---- hardware ---------------------------------------------------------- */

struct vt_hw_ops {
	const char *name;
	const char *const *insn_names;   /* by instruction code; NULL for codes this hardware lacks */
	unsigned ninsns;
	/* TLB domain of a pCPU (NULL: every pCPU has its own TLB). */
	int (*domain)(const struct vt_model *m, int pcpu);
	/*
	 * How many TLB domains the state uses, if more than the pCPUs' own
	 * (e.g. a TLB shared by every PE under CnP); NULL: just those.
	 */
	int (*ndomains)(const struct vt_model *m);
	/*
	 * Optional: when a lookup on pcpu also reads TLB domain d, besides its
	 * own, what d is for it ("shared TLB", "ERAT"); NULL when it does not
	 * (and for every d when this is NULL).  For the trace of an access.
	 */
	const char *(*lookup_dom)(const struct vt_model *m, int pcpu, int d);
	/* Effects of a guest op that ran natively (was not intercepted). */
	void (*native)(const struct vt_model *m, struct vt_state *s, int pcpu, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr);
	/*
	 * Entries a lookup by the guest context g, running on pcpu under the
	 * tag loaded there, could return: combined entries usable for g's
	 * context (u) and stage-2 entries the walk could use (s2).
	 */
	void (*reach)(const struct vt_model *m, const struct vt_state *s, int pcpu, const struct vt_gctx *g,
		      struct vt_set *u, uint64_t *s2);
	/* Insert what a walk on pcpu can produce now, under the loaded tag. */
	int (*fill)(const struct vt_model *m, struct vt_state *s, int pcpu, const struct vt_set *u, uint64_t s2);
	/*
	 * Execute an invalidation instruction with its architectural scope.
	 * It records the instruction (vt_trace_insn) before changing any TLB,
	 * so that a trace observer sees the TLBs as the instruction found them.
	 */
	void (*insn)(const struct vt_model *m, struct vt_state *s, int pcpu, unsigned insn, uint32_t key,
		     uint64_t arg, struct vt_trace *tr);
	void (*fmt_key)(uint32_t key, char *buf, size_t len);
	/* The operand of an instruction, as its manual names it ("VPID 1", "EPTP 1"). */
	void (*fmt_operand)(unsigned insn, uint32_t key, char *buf, size_t len);
	/*
	 * Optional: the operand together with the instruction's argument
	 * register, for instructions whose argument is more than an address
	 * (an arm64 range or level-hinted TLBI); false: format as usual.
	 */
	bool (*fmt_insn_arg)(unsigned insn, uint32_t key, uint64_t arg, char *buf, size_t len);
};

/* ---- hypervisor -------------------------------------------------------- */

struct vt_hv_ops {
	const char *name;
	const char *const *req_names;    /* indexed by request bit */
	unsigned nreqs;
	const void *priv;                /* the backend's own hook table (e.g. x86 vendor ops) */
	/* vCPU creation (kvm_arch_vcpu_create and the RESET that follows). */
	void (*vcpu_init)(const struct vt_model *m, struct vt_state *s, int v);
	/* vcpu_load of v on pcpu (kvm_arch_vcpu_load: from KVM_RUN's vcpu_load and from kvm_sched_in). */
	void (*load)(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr);
	/*
	 * Optional.  Do this configuration's decisions depend on how a vCPU
	 * thread left its pCPU: preempted inside KVM_RUN (kvm_sched_out, then
	 * kvm_sched_in) or returned to userspace (vcpu_put, then a KVM_RUN
	 * ioctl's vcpu_load)?  Only then does the engine keep
	 * vt_vcpu_state.in_run, call sched_in, and the explorer offer both ways
	 * out; elsewhere the two are the same step and are not told apart.
	 */
	bool (*tracks_thread)(const struct vt_model *m);
	/* Optional: kvm_arch_sched_in of v on pcpu, before load (kvm_sched_in). */
	void (*sched_in)(const struct vt_model *m, struct vt_state *s, int v, int pcpu, struct vt_trace *tr);
	/*
	 * Run the entry path (request servicing, root reload, VM entry).  With
	 * one_phase, do only the next fine-grained phase.  Returns true when v
	 * is now in the guest, false if phases remain.
	 */
	bool (*enter)(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr);
	/* VM exit of a running v (before an exit is handled or v is put). */
	void (*exit)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* vcpu_put of v, which is outside the guest. */
	void (*put)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/*
	 * Optional: the VMM wrote v's registers from userspace (x86
	 * KVM_SET_SREGS; registers already updated, old = before).
	 */
	void (*vmm_op)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr);
	/* Does op exit to the hypervisor under this backend's configuration? */
	bool (*intercepts)(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op,
			   const union vt_gregs *old);
	/* Emulate an intercepted op (registers already updated; old = before). */
	void (*handle)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr);
	/*
	 * A host-side change (stage-2 unmap/remap) with its remote flush.  With
	 * one_phase, do only the next fine-grained phase (progress is kept in
	 * s->host_phase); return true when the operation is complete.
	 */
	bool (*host_op)(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
			struct vt_trace *tr);
	/*
	 * Optional: the host operation in progress cannot take its next phase
	 * now (it waits for IPI acknowledgements: kvm_make_all_cpus_request
	 * with KVM_REQUEST_WAIT, option kvm-phases).  Some vCPU step unblocks it.
	 */
	bool (*host_blocked)(const struct vt_model *m, const struct vt_state *s);
	/*
	 * Optional: does a guest write to an upper-level page-table entry (a
	 * link or unlink of a table) exit?  If so, 'handle' emulates it.
	 */
	bool (*pt_trap)(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_op *op);
	/*
	 * Optional: a guest store to a page-table entry (map/unmap) by v, seen
	 * just before it lands (s->pt is still the old table): the hypervisor
	 * notes what it may miss (x86 shadow paging: a store through a stale
	 * writable alias of a write-protected table).  It never exits.
	 */
	void (*pt_store)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			 struct vt_trace *tr);
	/*
	 * Optional: page faults the hypervisor takes before the hardware can
	 * walk for v (in guest mode), e.g. shadow paging linking a table its
	 * shadow tables lack; a fault exits and re-enters within the step.
	 */
	void (*fault)(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);
	/* Optional: whether fault can do anything in model m (false: never called; absent: always). */
	bool (*fault_acts)(const struct vt_model *m);
	/*
	 * Optional: a guest access to va by v (in guest mode) that misses the
	 * TLB and faults in the hypervisor's tables (x86 TDP: an EPT/NPT
	 * violation on a zapped SPTE, kvm_tdp_mmu_map); exits and re-enters
	 * within the step.
	 */
	void (*access)(const struct vt_model *m, struct vt_state *s, int v, uint64_t va, struct vt_trace *tr);
	/*
	 * What a hardware walk for v can return now: guest+stage-2 tables, or
	 * KVM's shadow tables.  w is v's view of the current state (vt_view_of).
	 */
	void (*walk)(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		     uint64_t *s2);
	/*
	 * Optional: rename pCPUs in the backend's own state (pCPU p becomes
	 * map[p]); the engine renames its fields.  A backend that provides it
	 * declares its logic symmetric under pCPU renaming, which lets the
	 * explorer treat interchangeable pCPUs as one.  The explorer's keying
	 * relies on two rules, checked by debug builds only (src/visited.c,
	 * leaf_ids): it renames only the header, VM and vCPU sections (a pCPU
	 * or TLB-domain section holds no pCPU index), and each section's new
	 * bytes depend only on its old bytes and map.
	 */
	void (*permute_pcpus)(const struct vt_model *m, struct vt_state *s, const int8_t *map);
	/*
	 * With permute_pcpus (symmetry needs both): for each pCPU p, add to
	 * refs[p] (the whole word is the backend's, zero on entry) an exact
	 * encoding, not a hash, of everything permute_pcpus moves or renames
	 * for p: the backend's per-pCPU entries at p and the set of its
	 * entries that name p.  So two pCPUs with equal refs (and equal engine
	 * parts) swap without changing the state, and refs never depend on
	 * how pCPUs are numbered (the renamed state's refs[map[p]] is refs[p]).
	 */
	void (*pcpu_refs)(const struct vt_model *m, const struct vt_state *s, uint64_t *refs);
	/*
	 * The bytes of the state's per-backend unions this backend (with its
	 * hardware layer) uses: its member of union vt_hv_global, of
	 * vt_vm_state.h and of vt_vcpu_state.h.  The rest of each union keeps
	 * its power-on value, so the explorer leaves it out of a state's
	 * sections (vt_state_sect_len); 0 for a union the backend has no
	 * member of.
	 */
	uint16_t global_bytes, vm_bytes, vcpu_bytes;
};

/* Backend lookup: the four tables for a backend, or NULL entries if it is not built. */
void vt_backend_ops(enum vt_backend be, const struct vt_arch_ops **a, const struct vt_oracle_ops **o,
		    const struct vt_hw_ops **h, const struct vt_hv_ops **v);
/* A backend's name is the words a scenario writes after 'arch' ("x86 vmx ept"). */
const char *vt_backend_name(enum vt_backend be);
enum vt_arch vt_backend_arch(enum vt_backend be);
/* Does the host map guest memory with KVM's TDP MMU roots (x86 with EPT or NPT)? */
bool vt_backend_tdp(enum vt_backend be);

/* The registered tables. */
extern const struct vt_arch_ops vt_x86_arch_ops;
extern const struct vt_oracle_ops vt_x86_oracle_ops;
extern const struct vt_hw_ops vt_vmx_hw_ops;
extern const struct vt_hw_ops vt_svm_hw_ops;
extern const struct vt_arch_ops vt_arm64_arch_ops;
extern const struct vt_oracle_ops vt_arm64_oracle_ops;
extern const struct vt_hw_ops vt_arm64_hw_ops;
extern const struct vt_hv_ops vt_kvm_arm64_ops;
extern const struct vt_arch_ops vt_ppc_arch_ops;
extern const struct vt_oracle_ops vt_ppc_oracle_ops;
extern const struct vt_hw_ops vt_ppc_hw_ops;
extern const struct vt_hv_ops vt_kvm_ppc_ops;

#endif
