/*
 * Performance mode: what a flush policy costs a guest.
 *
 * A cost run feeds a scenario's script, or its seeded workload
 * (src/workload.c), to the same vt_step() as every other run, and counts
 * through a trace observer (struct vt_trace_probe) what happened:
 *
 *   - every invalidation instruction, by instruction (the names carry the
 *     scope: invvpid.addr / .single / .all ...), VM exits by cause, kicks
 *     (IPIs that force a vCPU out of the guest), KVM requests made and
 *     serviced;
 *   - over-flush: entries an instruction removed from a hardware TLB that
 *     the architecture still permitted a vCPU that uses that tag (its
 *     oracle still holds the translation, and the host still maps the
 *     stage-2 page).  Exact on the maximal TLB: the TLB domains are compared
 *     just before and just after each instruction.  Guest-physical
 *     (stage-2-only) entries are counted separately.
 *   - misses of a finite TLB (src/tlb_finite.c: per-domain capacity,
 *     associativity, LRU or seeded random replacement) on the run's guest
 *     accesses.  The finite TLB only ever holds entries the maximal TLB
 *     holds (it is pruned against it before every lookup), so a hit is
 *     always an answer the maximal model allows; each hit is also checked
 *     against the oracle ('finite_stale' counts hits it does not permit).
 *   - estimated cycles: each count times its figure in a cost table
 *     (data/costs/default.costs), every figure with its source or marked
 *     as an assumption.
 *
 * Correctness stays with the maximal TLB: stale and breach verdicts of the
 * steps are counted, never hidden.
 */
#ifndef VTLB_COST_H
#define VTLB_COST_H

#include <stdint.h>

#include "vtlb/model.h"
#include "vtlb/scenario.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

/* ---- finite TLB (src/tlb_finite.c) -------------------------------------- */

#define VT_FTLB_DEFAULT_ENTRIES 64

struct vt_ftlb_entry {
	uint32_t key;        /* hardware tag (VT_KEY_NONE: free) */
	int16_t u;           /* combined entry (over U) */
	int16_t pad;
	uint64_t stamp;      /* last use (LRU) */
};

struct vt_ftlb {
	uint32_t entries;    /* per domain */
	uint32_t ways;
	uint32_t sets;
	uint32_t policy;     /* enum vt_tlb_policy */
	int ndomains;
	uint64_t clock;
	uint64_t rng;
	struct vt_ftlb_entry *e; /* [ndomains][sets][ways] */
};

/* Set up an empty finite TLB (g->entries 0: the default; ways 0: fully associative). Returns 0 or -1 (memory). */
int vt_ftlb_init(struct vt_ftlb *f, const struct vt_tlb_geom *g, int ndomains, uint64_t seed);
void vt_ftlb_fini(struct vt_ftlb *f);

/* Drop from domain d every entry the maximal TLB domain 'max' no longer holds. */
void vt_ftlb_sync(struct vt_ftlb *f, int d, const struct vt_tlb_dom *max);

/*
 * Look up: an entry of domain d under 'key' whose combined entry is in
 * 'cand' (the translations usable for this access).  On a hit the entry
 * becomes the most recently used and its U index is returned; -1 on a miss.
 * 'set' is the set index (the VA's index modulo the number of sets).
 */
int vt_ftlb_lookup(struct vt_ftlb *f, int d, uint32_t set, uint32_t key, const struct vt_set *cand);

/* Insert u under key after a miss, evicting by the policy when the set is full. Returns 1 if it evicted. */
int vt_ftlb_insert(struct vt_ftlb *f, int d, uint32_t set, uint32_t key, int u);

/* ---- cost table ---------------------------------------------------------- */

#define VT_COST_MAX 96

struct vt_cost_entry {
	char name[40];       /* exit, ipi, walk.2d, walk.1d, insn.NAME ... */
	double cycles;
	int assumed;         /* no published figure: an assumption the user should measure */
	char source[320];
};

struct vt_cost_table {
	char file[256];
	int n;
	struct vt_cost_entry e[VT_COST_MAX];
};

/*
 * Load a cost table: one figure a line, "NAME CYCLES SOURCE..." where SOURCE
 * is the rest of the line and starts with "assumption" when no published
 * figure exists; '#' starts a comment.  Returns 0, or -1 with *d filled
 * (file:line:col).
 */
int vt_cost_table_load(const char *path, struct vt_cost_table *t, struct vt_diag *d);

/* The entry for name, or NULL. */
const struct vt_cost_entry *vt_cost_find(const struct vt_cost_table *t, const char *name);

/* ---- counters and the run ------------------------------------------------ */

#define VT_COST_MAX_REQS 32

struct vt_cost_counters {
	uint64_t steps;              /* vt_step calls, re-entries included */
	uint64_t events;             /* workload events (its length), or script events */
	uint64_t insn[VT_TRACE_MAX_INSNS];
	uint64_t exits;              /* all VM exits */
	uint64_t exits_intercept;    /* the guest's operation exited */
	uint64_t exits_preempt;      /* the host preempted the vCPU */
	uint64_t kicks;              /* exits forced by an IPI (kvm_vcpu_kick) */
	uint64_t roots;              /* new roots / contexts built by the hypervisor (x86 kvm_mmu_load) */
	uint64_t req_made[VT_COST_MAX_REQS];
	uint64_t req_serviced[VT_COST_MAX_REQS];
	uint64_t removed_u;          /* combined/linear entries instructions removed */
	uint64_t removed_s;          /* guest-physical entries instructions removed */
	uint64_t overflush_u;        /* ... of which the architecture still permitted */
	uint64_t overflush_s;        /* ... of which the host still mapped */
	uint64_t overflush_insn[VT_TRACE_MAX_INSNS]; /* over-flush (u + s) by the instruction that removed it */
	uint64_t overflush_vm[VT_MAX_VMS];          /* over-flush (u + s) by the VM that lost it */
	uint64_t accesses;           /* guest accesses with translation on */
	uint64_t hits, misses;       /* finite TLB */
	uint64_t faults;             /* misses whose walk found no translation (no fill) */
	uint64_t evictions;          /* finite TLB capacity evictions */
	uint64_t finite_stale;       /* finite hits the oracle does not permit (0 unless the maximal model finds stale) */
	uint64_t finite_unseen;      /* steps with a stale finite hit after which the maximal model saw nothing: always 0 */
	uint64_t stale_steps;        /* steps after which the maximal model found a stale access */
	uint64_t breach_steps;       /* ... a breach */
	uint32_t first_violation;    /* step of the first one, 0: none */
};

struct vt_cost_opts {
	struct vt_tlb_geom tlb;      /* overrides the scenario's where entries != 0 */
	int tlb_policy_set;          /* policy given on the command line */
	uint32_t steps;              /* overrides the workload's length (0: keep) */
	int seed_set;
	uint64_t seed;               /* overrides the workload's seed */
};

/*
 * Run m (its workload if it has one, else its script, re-entering vCPUs the
 * way 'vtlb run' does) with the counters attached.  Returns 0, or -1 with *d
 * filled when the run cannot go on (a model limit, a scripted event that
 * does not apply).
 */
int vt_cost_run(const struct vt_model *m, const struct vt_cost_opts *o, struct vt_cost_counters *c,
		struct vt_diag *d);

/*
 * Estimated cycles of a run: each counter times its figure.  'missing' gets
 * the number of counted kinds with no figure in the table (counted as 0),
 * 'assumed' the number of figures used that are assumptions.
 */
double vt_cost_cycles(const struct vt_model *m, const struct vt_cost_table *t, const struct vt_cost_counters *c,
		      int *missing, int *assumed);

/* The cost-table name of the walk a miss costs on this backend: "walk.2d" or "walk.1d" (shadow paging). */
const char *vt_cost_walk_name(const struct vt_model *m);

/* ---- workloads (src/workload.c) ------------------------------------------- */

struct vt_wl_gen {
	const struct vt_model *m;
	uint64_t rng;
	uint32_t pc[VT_MAX_VCPUS + 1];   /* next op of each program (cyclic); [VT_MAX_VCPUS]: host */
	int8_t prog_of[VT_MAX_VCPUS];    /* whose program a vCPU runs (its own, else its VM's first), -1 */
	uint64_t vas[VT_MAX_VMS];        /* VA indexes each VM maps anywhere */
	int infra;                       /* the last event re-entered or placed a vCPU (not part of the workload's length) */
	int nq;                          /* queued events (a preemption or migration is several) */
	int qi;
	struct vt_event q[4];
};

/* Prepare a generator for m's workload with seed. */
void vt_wl_init(struct vt_wl_gen *g, const struct vt_model *m, uint64_t seed);

/*
 * The next event for state s.  Returns 0, or -1 when nothing can run (no
 * vCPU can be placed).  g->infra is set when the event only re-enters a
 * vCPU that left the guest or places a waiting one on an idle pCPU: such
 * events depend on the hypervisor's policy (kicks) and do not count towards
 * the workload's length, so every configuration runs the same workload.
 */
int vt_wl_next(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev);

/* A seeded PRNG (splitmix64): the next value of *x. */
uint64_t vt_rand_next(uint64_t *x);

#endif
