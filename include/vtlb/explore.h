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
	int por;                     /* sleep sets for commuting guest operations */
	int symmetry;                /* treat interchangeable pCPUs as one (when the backend allows) */
	uint64_t random_walks;       /* > 0: random mode, this many walks */
	uint64_t seed;               /* random mode seed */
	int shrink;                  /* shrink a counterexample before reporting it */
	int dfs;                     /* depth-first (0: breadth-first; a lossy store is always depth-first) */
	enum vt_store_kind store;    /* exact (0), or lossy: hash compaction, bitstate */
	unsigned bitstate_k;         /* bitstate: bits per state (0: 3) */
	int progress;                /* report progress once a second */
	FILE *progress_out;
};

enum vt_explore_status {
	VT_EXPLORE_CLEAN,        /* exhaustive within the bounds: no violation */
	VT_EXPLORE_VIOLATION,    /* a counterexample */
	VT_EXPLORE_INCOMPLETE,   /* stopped early (memory, time, random mode): no claim */
	VT_EXPLORE_ERROR,        /* the model cannot be explored (e.g. TLB slot limit) */
};

struct vt_explore_result {
	enum vt_explore_status status;
	const char *why;             /* INCOMPLETE / ERROR: why */
	struct vt_bounds bounds;     /* the bounds used */
	uint64_t states;             /* distinct states stored */
	uint64_t transitions;        /* steps taken */
	uint64_t pruned;             /* transitions skipped by sleep sets */
	uint64_t checks;             /* commutation checks (each steps both orders) */
	int symmetric;               /* pCPU symmetry was used */
	uint32_t max_depth;          /* deepest state reached */
	uint64_t memory;             /* bytes held by the visited set (allocated capacity) */
	uint64_t state_bytes;        /* bytes in use: records and index slots of every table */
	uint64_t nodes;              /* exact store: tree nodes */
	int dfs;                     /* the search ran depth-first */
	enum vt_store_kind store;
	double omission;             /* lossy: bound on P(a state was wrongly taken as seen) */
	int cut;                     /* the depth bound was reached (some state had unexplored successors) */
	double seconds;
	uint64_t walks;              /* random mode: walks done */
	struct vt_verdict verdict;   /* VIOLATION: of the (shrunk) counterexample */
	struct vt_event *path;       /* VIOLATION: the counterexample, in order */
	int npath;
	int npath_found;             /* its length before shrinking */
};

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
