/*
 * The explorer: every interleaving of guest operations and hypervisor
 * scheduling decisions within bounds, or a minimal counterexample.
 *
 * A scenario for exploration gives each vCPU a program and leaves the
 * schedule open.  At each state the choices are: load an idle vCPU (one
 * that has a program; it keeps running after the program ends, as its guest
 * idles) on any free pCPU its VM may use, enter a loaded vCPU (one
 * fine-grained phase with "phases fine"), preempt a vCPU, run the next
 * operation of a vCPU in the guest, or run the next host operation.  The
 * search is a depth-first search over the state value with a visited set
 * (the full state is kept, compressed, so no state is skipped on a hash
 * collision), sleep sets for guest operations that commute (checked by
 * stepping both orders), and optionally symmetry over interchangeable pCPUs.
 * Bounds: depth, preemptions, migrations.  Nothing here knows an
 * architecture.
 */
#ifndef VTLB_EXPLORE_H
#define VTLB_EXPLORE_H

#include <stdint.h>
#include <stdio.h>

#include "vtlb/model.h"
#include "vtlb/step.h"
#include "vtlb/visited.h"

#define VT_EXPLORE_DEFAULT_DEPTH 48
#define VT_EXPLORE_DEFAULT_PREEMPTIONS 2
#define VT_EXPLORE_DEFAULT_MIGRATIONS 2
#define VT_EXPLORE_MAX_DEPTH 512
/* Every vCPU loading on every pCPU, plus the host: the most choices a state can have. */
#define VT_EXPLORE_MAX_CHOICES (VT_MAX_VCPUS * VT_MAX_PCPUS + 1)

struct vt_explore_opts {
	struct vt_bounds bounds;     /* a zero field takes the scenario's bound, then the default */
	int has_depth, has_preemptions, has_migrations;
	uint64_t max_memory;         /* bytes the visited set may use (0: 2 GiB) */
	double time_limit;           /* seconds (0: none) */
	int jobs;                    /* worker threads (0 or 1: one) */
	int por;                     /* reduce the steps taken, not the states: sleep sets for commuting
	                                guest operations (depth-first), one load per class of
	                                interchangeable pCPUs (pCPU symmetry, not with --dot) */
	int symmetry;                /* treat interchangeable pCPUs as one (when the backend allows) */
	uint64_t random_walks;       /* > 0: random mode, this many walks */
	uint64_t seed;               /* random mode seed */
	int shrink;                  /* shrink a counterexample before reporting it */
	int dfs;                     /* depth-first (0: breadth-first; a lossy store is always depth-first) */
	enum vt_store_kind store;    /* exact (0), or lossy: hash compaction, bitstate */
	unsigned bitstate_k;         /* bitstate: bits per state (0: 3) */
	int progress;                /* report progress once a second */
	FILE *progress_out;
	int progress_tty;            /* progress_out is a terminal: one line rewritten in place */
	int progress_width;          /* its width in columns (0: unknown) */
	size_t dot_max;              /* > 0: record the state graph (r->dot), at most this many states */
};

enum vt_explore_status {
	VT_EXPLORE_CLEAN,        /* exhaustive within the bounds: no violation */
	VT_EXPLORE_VIOLATION,    /* a counterexample */
	VT_EXPLORE_INCOMPLETE,   /* stopped early (memory, time, random mode): no claim */
	VT_EXPLORE_ERROR,        /* the model cannot be explored (e.g. TLB slot limit) */
};

/*
 * Search coverage: how often the search took each program operation and
 * each kind of scheduling decision, so that a search that never reached an
 * interesting step says so.  Counted on the transitions the search takes
 * (not on the extra steps of commutation checks); a state re-explored at a
 * smaller depth counts again, so only zero versus non-zero is meaningful
 * across runs.  Phases are the backend's fine-grained phase numbers
 * (vcpu->phase, host_phase) before the step, clamped to the last slot.
 */
#define VT_EXPLORE_COV_PHASES 16

struct vt_explore_coverage {
	uint64_t op[VT_MAX_VCPUS + 1][VT_MAX_PROG]; /* program operations taken (host: started) */
	uint64_t host_done[VT_MAX_PROG];             /* host operations completed */
	uint64_t host_phase[VT_MAX_PROG][VT_EXPLORE_COV_PHASES]; /* 'phases fine' host steps by phase */
	uint64_t load[VT_MAX_VCPUS];                 /* loads on the pCPU last used (or a first load) */
	uint64_t migrate[VT_MAX_VCPUS];              /* loads on another pCPU */
	uint64_t enter[VT_MAX_VCPUS];                /* entries completed (the vCPU reached the guest) */
	uint64_t enter_phase[VT_MAX_VCPUS][VT_EXPLORE_COV_PHASES]; /* 'phases fine' entry steps by phase */
	uint64_t preempt[VT_MAX_VCPUS];
};

/* What coverage needs to know of a state before a step (the step changes it in place). */
struct vt_explore_cov_pre {
	uint8_t pc, host_pc, host_phase, phase;
	int8_t last_pcpu;
};

void vt_explore_cov_pre(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev,
			struct vt_explore_cov_pre *pre);
/* Count the step ev, taken from a state described by pre, that led to s. */
void vt_explore_cov_note(struct vt_explore_coverage *c, const struct vt_model *m,
			 const struct vt_explore_cov_pre *pre, const struct vt_event *ev, const struct vt_state *s);
/* to += from */
void vt_explore_cov_merge(struct vt_explore_coverage *to, const struct vt_explore_coverage *from);

struct vt_explore_result {
	enum vt_explore_status status;
	const char *why;             /* INCOMPLETE / ERROR: why */
	struct vt_bounds bounds;     /* the bounds used */
	uint64_t states;             /* distinct states stored */
	uint64_t transitions;        /* steps taken */
	uint64_t pruned;             /* transitions skipped: by sleep sets (depth-first) and loads onto
	                                interchangeable pCPUs (vt_explore_opts.por) */
	uint64_t checks;             /* commutation checks (each steps both orders) */
	int symmetric;               /* pCPU symmetry was used */
	uint32_t max_depth;          /* deepest state reached */
	uint64_t memory;             /* bytes held by the visited set (allocated capacity) */
	uint64_t peak_memory;        /* the most bytes held at once against max_memory: the store, depth-first
	                                frames and queued work, least-counterexample tables (per rank:
	                                vt_explore_dist's most of any rank) */
	uint64_t state_bytes;        /* bytes in use: records and index slots of every table */
	uint64_t nodes;              /* exact store: tree nodes */
	int dfs;                     /* the search ran depth-first */
	enum vt_store_kind store;
	double omission;             /* lossy: bound on P(a state was wrongly taken as seen) */
	int cut;                     /* the depth bound was reached (some state had unexplored successors) */
	double seconds;
	uint64_t walks;              /* random mode: walks done */
	int ranks;                   /* vt_explore_dist: ranks that shared the search (0: not distributed) */
	uint64_t rank_memory;        /* vt_explore_dist: the most bytes any one rank held (visited set and queues) */
	uint64_t swarm;              /* swarm mode: searches run (r->states counts distinct states over all) */
	uint64_t swarm_found;        /* swarm mode: searches that found a violation */
	struct vt_verdict verdict;   /* VIOLATION: of the (shrunk) counterexample */
	struct vt_event *path;       /* VIOLATION: the counterexample, in order */
	int npath;
	int npath_found;             /* its length before shrinking */
	const char *path_unstable;   /* VIOLATION: why another run with the same options could report another
	                                counterexample (jobs, ranks, the time limit), or NULL */
	struct vt_explore_coverage coverage;
	struct vt_explore_dot *dot;  /* opts.dot_max: the recorded graph (vt_explore_dot_write) */
	int dot_full;                /* the graph passed opts.dot_max states: the search stopped */
};

/*
 * The explored state graph (opts.dot_max > 0).  Nodes are states by their
 * canonical bytes, numbered in order of discovery (0: the initial state);
 * edges are the distinct transitions taken, labelled by the choice; a state
 * that violates the invariant is marked.  Past opts.dot_max states the
 * search stops (r->dot_full) and the graph should not be written.
 */
struct vt_explore_dot;
struct vt_explore_dot *vt_explore_dot_new(size_t max_nodes);
void vt_explore_dot_free(struct vt_explore_dot *d);
int vt_explore_dot_node(struct vt_explore_dot *d, const uint8_t *c, size_t len, uint64_t h);
/* Record the transition ev from node 'from' to the state c; returns its node, or -1 when full. */
int vt_explore_dot_edge(struct vt_explore_dot *d, int from, const uint8_t *c, size_t len, uint64_t h,
			const struct vt_event *ev, bool violating);
/* The node of a state already recorded, or -1. */
int vt_explore_dot_find(struct vt_explore_dot *d, const uint8_t *c, size_t len, uint64_t h);
/* Mark the transition ev from 'from' to 'to' as a step of the counterexample. */
int vt_explore_dot_path(struct vt_explore_dot *d, int from, int to, const struct vt_event *ev);
bool vt_explore_dot_full(const struct vt_explore_dot *d);
int vt_explore_dot_nodes(const struct vt_explore_dot *d);
/* Write Graphviz text; returns 0, or -1 on a write error. */
int vt_explore_dot_write(FILE *f, struct vt_explore_dot *d, const struct vt_model *m,
			 const struct vt_explore_result *r);

/* Explore m.  Returns r->status; r owns r->path (vt_explore_result_fini). */
enum vt_explore_status vt_explore(const struct vt_model *m, const struct vt_explore_opts *o,
				  struct vt_explore_result *r);
void vt_explore_result_fini(struct vt_explore_result *r);

/*
 * Write the counterexample as a scenario file that 'vtlb run' replays to the
 * same violation: the original declarations, 'schedule explicit', one line
 * per step, and the expectation.  Returns 0, or -1 if the source cannot be
 * read.
 */
int vt_explore_emit(FILE *f, const struct vt_model *m, struct vt_fixset cli_reverted, const struct vt_explore_result *r);

/*
 * The enabled choices at s; 'max' must be at least VT_EXPLORE_MAX_CHOICES,
 * so that no choice is ever dropped.  Exposed for tests: the choices are the
 * explorer's whole notion of what can happen next.
 */
int vt_explore_choices(const struct vt_model *m, const struct vt_state *s, const struct vt_bounds *b,
		       struct vt_event *out, int max);

/* Apply a choice the way the explorer does (step, then advance program counters and bounds). */
enum vt_step_err vt_explore_apply(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev,
				  struct vt_trace *tr, struct vt_verdict *v);

#endif
