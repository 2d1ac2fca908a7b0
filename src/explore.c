/*
 * The explorer (see include/vtlb/explore.h).
 *
 * Search.  Breadth-first by default (bfs_expand: level by level, each state
 * expanded once at its smallest depth, shortest counterexamples), or
 * depth-first (--dfs, and the lossy stores).  The visited set (visited.c)
 * stores each state exactly, tree-compressed, so no state is ever wrongly
 * skipped.  Depth-first, each entry remembers the smallest depth at which
 * the state was reached (a shallower revisit explores it again, with the
 * larger remaining budget) and its sleep set.
 *
 * Partial-order reduction: sleep sets (Godefroid) over guest operations of
 * different vCPUs, with independence checked where it is used: two guest
 * operations are independent at s when both orders are enabled, neither
 * exposes a violation, and both orders reach byte-identical states.  This is
 * conditional independence (Godefroid & Pirottin, 1993), under which sleep
 * sets still visit every reachable state.  Scheduling and host events are
 * always treated as dependent.  With a state cache, sleep sets save steps
 * into states already seen, not states: commuted orders have the same
 * length, so they stay sound under a depth bound (an ample set that takes a
 * stuttering step early would not).  Both orders skip loads onto pCPUs
 * interchangeable with a lower free one (pCPU symmetry:
 * vt_explore_skip_load), which also saves only steps.
 * Shrinking keeps host operations: each vCPU's and the host's operations
 * must stay a prefix of their program.
 *
 * Bounds: depth (steps), preemptions (a vCPU taken off its pCPU) and
 * migrations (a vCPU loaded on a pCPU other than its last).  Both
 * counters live in the state.  A counterexample is shrunk by removing steps
 * (keeping every program a prefix of itself) and renaming pCPUs to the
 * fewest, each candidate replayed through the same step function.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore_int.h"
#include "internal.h"
#include "vtlb/explore.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/trace.h"
#include "vtlb/visited.h"

#define MAX_CHOICES VT_EXPLORE_MAX_CHOICES
#define HOST VT_MAX_VCPUS

/* ---- choices ------------------------------------------------------------- */

static bool prog_done(const struct vt_model *m, const struct vt_state *s, int v)
{
	return s->vcpu[v].pc >= m->nprog[v];
}

static void choice(struct vt_event *e, uint8_t kind, int v, int p, uint8_t flags)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->vcpu = (int8_t)v;
	e->pcpu = (int8_t)p;
	e->flags = flags;
	e->op.space = -1;
	e->op.target = -1;
}

/*
 * The ways a vCPU thread leaves its pCPU: preempted inside KVM_RUN, and,
 * where the backend's decisions tell them apart, returning to userspace.
 */
static inline int put_choices(bool tracks_thread, int v, struct vt_event *out, int n, int max)
{
	if (n < max)
		choice(&out[n++], VT_EV_PUT, v, -1, 0);
	if (tracks_thread && n < max)
		choice(&out[n++], VT_EV_PUT, v, -1, VT_EVF_USER);
	return n;
}

int vt_explore_choices(const struct vt_model *m, const struct vt_state *s, const struct vt_bounds *b,
		       struct vt_event *out, int max)
{
	int n = 0;
	/* never silently fewer choices than the state has */
	assert(max >= MAX_CHOICES);
	const int nv = m->nvcpus;
	const bool tracks_thread = vt_tracks_thread(m);
	const bool may_put = s->preemptions < b->preemptions;
	const bool may_migrate = s->migrations < b->migrations;
	const uint64_t free_pcpus = vt_explore_free_pcpus(m, s);
	for (int v = 0; v < nv; v++) {
		if (!m->nprog[v])
			continue;
		const struct vt_vcpu_state *vs = &s->vcpu[v];
		bool done = prog_done(m, s, v);
		/*
		 * A vCPU keeps running after its program ends (its guest idles), so
		 * scheduling never depends on how far the program got.
		 */
		switch (vs->run) {
		case VT_RUN_IDLE: {
			/* a free pCPU of its VM; another than the last one only while migrations remain */
			uint64_t to = free_pcpus & m->vm[m->vcpu_vm[v]].pcpus;
			if (vs->last_pcpu >= 0 && !may_migrate)
				to &= VT_BIT(vs->last_pcpu);
			VT_U64_FOREACH(p, to)
				if (n < max)
					choice(&out[n++], VT_EV_LOAD, v, p, 0);
			break;
		}
		case VT_RUN_LOADED:
			if (n < max)
				choice(&out[n++], VT_EV_ENTER, v, -1, m->fine ? VT_EVF_STEP : 0);
			if (may_put)
				n = put_choices(tracks_thread, v, out, n, max);
			break;
		case VT_RUN_GUEST:
			if (!done && n < max) {
				out[n] = m->prog[v][vs->pc];
				out[n].flags &= VT_EVF_L2; /* the level a nested guest's operation runs at */
				n++;
			}
			if (may_put)
				n = put_choices(tracks_thread, v, out, n, max);
			break;
		default:
			break;
		}
	}
	if (s->host_pc < m->nprog[HOST] && n < max) {
		out[n] = m->prog[HOST][s->host_pc];
		/* a VMM register write is a guest event done by the host program */
		out[n].flags = (out[n].flags & VT_EVF_VMM) | (m->fine && out[n].kind == VT_EV_HOST ? VT_EVF_STEP : 0);
		n++;
	}
	/* While the operation in progress has yielded its lock, the next one may run whole on another thread. */
	if (s->host_phase && !s->host_nested && s->host_pc + 1 < m->nprog[HOST] && n < max) {
		const struct vt_event *nx = &m->prog[HOST][s->host_pc + 1];
		if (nx->kind == VT_EV_HOST && vt_host_concurrent(s, &nx->op)) {
			out[n] = *nx;
			out[n].flags = 0;
			n++;
		}
	}
	return n;
}

#ifndef NDEBUG
void vt_explore_twin_check(const struct vt_model *m, const struct vt_state *s, const struct vt_event *c,
			   const int8_t *twin)
{
	/* debug builds only: three states allocated for each skipped load */
	struct vt_state *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *r = malloc(sizeof(*r));
	if (a && b && r) {
		struct vt_event cq = *c;
		cq.pcpu = twin[c->pcpu];
		struct vt_verdict va, vb;
		vt_state_copy(m, a, s);
		vt_state_copy(m, b, s);
		enum vt_step_err ea = vt_explore_apply(m, a, c, NULL, &va);
		enum vt_step_err eb = vt_explore_apply(m, b, &cq, NULL, &vb);
		assert(ea == eb);
		if (ea == VT_STEP_OK) {
			vt_state_swap_pcpus(m, a, r, c->pcpu, cq.pcpu);
			assert(va.kind == vb.kind && vt_state_same(m, r, b));
		}
	}
	free(a);
	free(b);
	free(r);
}
#endif

/*
 * vt_explore_apply, inline for take (every transition of a search): the
 * step, then the exploration's own counters.
 */
static inline __attribute__((always_inline)) enum vt_step_err
explore_apply(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev, struct vt_trace *tr,
	      struct vt_verdict *v)
{
	int w = ev->vcpu;
	bool migrating = false, nested = false;
	if (ev->kind == VT_EV_LOAD)
		migrating = s->vcpu[w].last_pcpu >= 0 && s->vcpu[w].last_pcpu != ev->pcpu;
	else if (ev->kind == VT_EV_HOST)
		nested = vt_host_concurrent(s, &ev->op) && memcmp(&ev->op, &s->host_cur, sizeof(ev->op)) != 0;
	enum vt_step_err e = vt_step(m, s, ev, tr, v);
	if (e != VT_STEP_OK)
		return e;
	switch (ev->kind) {
	case VT_EV_GUEST:
		if (ev->flags & VT_EVF_VMM)
			s->host_pc++;
		else
			s->vcpu[w].pc++;
		break;
	case VT_EV_HOST:
		if (nested) {
			s->host_nested = 1;
		} else if (s->host_phase == 0) {
			s->host_pc = (uint8_t)(s->host_pc + 1 + s->host_nested);
			s->host_nested = 0;
		}
		break;
	case VT_EV_LOAD:
		if (migrating && s->migrations < UINT8_MAX)
			s->migrations++;
		break;
	case VT_EV_PUT:
		if (s->preemptions < UINT8_MAX)
			s->preemptions++;
		break;
	default:
		break;
	}
	return VT_STEP_OK;
}

enum vt_step_err vt_explore_apply(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev,
				  struct vt_trace *tr, struct vt_verdict *v)
{
	return explore_apply(m, s, ev, tr, v);
}

/* ---- the search ---------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct frame {
	struct vt_state s;
	struct vt_event choice[MAX_CHOICES];
	int n;
	int next;                /* the choice being explored now (progress estimate) */
	struct vt_event taken;   /* the event that led here */
	int dot_id;              /* --dot: this state's node */
};

struct search {
	const struct vt_model *m;
	const struct vt_explore_opts *o;
	struct vt_bounds b;
	int symmetric;
	bool twins;                      /* skip loads onto interchangeable pCPUs (vt_explore_skip_load) */
	atomic_uint_fast64_t checks;
	struct vt_visited *vs;
	atomic_int stop;
	atomic_uint_fast64_t transitions;
	atomic_uint_fast64_t pruned;
	atomic_uint max_depth;
	double start;
	double last_progress;
	int progress_shown;      /* a terminal progress line is on screen (under found_lock) */
	pthread_mutex_t found_lock;
	int found;
	int error;
	const char *why;
	struct vt_event *path;
	int npath;
	struct vt_verdict verdict;
	uint64_t found_walk;     /* random mode: walk index of the reported violation */
	/*
	 * The work queue: states handed from a busy worker to an idle one.  A
	 * worker donates a child instead of searching it itself only while
	 * another worker is waiting ('hungry'), so one job never queues.
	 */
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;
	struct work **q;
	int nq, qcap;
	int idle, nworkers, q_done;
	/* held while the workers are started: they wait here until all that could be are (start_workers) */
	pthread_mutex_t start_gate;
	atomic_int hungry;
	atomic_uint_fast64_t next_walk;
	struct vt_explore_coverage cov; /* the workers' coverage, summed as each one ends (under found_lock) */
	struct vt_explore_dot *dot;     /* --dot: the graph being recorded, or NULL */
	int dot_full;
	int bfs;                 /* breadth-first (progress reports levels) */
	const struct vt_state *init; /* the initial state (debug checks of vt_state_copy's precondition) */
	atomic_int cut;          /* a state at the depth bound was reached (lossy bitstate: see vt_explore) */
	/*
	 * Breadth-first search: level 'level' is the store's queue from
	 * position qlo to qhi; workers take batches from 'next' on.  The
	 * first violation found: its parent's id and the choice.
	 */
	pthread_barrier_t barrier;
	unsigned level;
	int bfs_done;
	uint64_t qlo, qhi;
	uint64_t qstart[VT_EXPLORE_MAX_DEPTH + 2]; /* queue position where each level starts */
	atomic_uint_fast64_t next;
	uint32_t bad_parent;
	int bad_choice;
	unsigned bad_level;
	int jobs;
	atomic_int tracing;      /* bfs_least is looking for the counterexample (progress) */
	const char *least_why;   /* bfs_least gave up: why */
};

struct work {
	struct vt_state s;
	unsigned depth;
	uint8_t sleep;
	int nprefix;
	struct vt_event prefix[VT_EXPLORE_MAX_DEPTH];
};

/*
 * A worker's counts not yet added to the search's.  Every step adding to
 * one shared counter would move its cache line, and the read-mostly fields
 * beside it, between the workers' cores at every step: each worker adds
 * its counts every TALLY_BATCH steps and when it ends.
 */
struct tally {
	uint64_t steps, pruned, checks;
	uint64_t ticks; /* check_limits calls */
};
#define TALLY_BATCH 256

static void tally_flush(struct search *S, struct tally *t)
{
	atomic_fetch_add_explicit(&S->transitions, t->steps, memory_order_relaxed);
	atomic_fetch_add_explicit(&S->pruned, t->pruned, memory_order_relaxed);
	atomic_fetch_add_explicit(&S->checks, t->checks, memory_order_relaxed);
	t->steps = t->pruned = t->checks = 0;
}

static void wake_all(struct search *S);

static void report(struct search *S, const struct vt_event *prefix, int nprefix, const struct frame *fr, int nfr,
		   const struct vt_event *last, const struct vt_verdict *v, uint64_t walk)
{
	pthread_mutex_lock(&S->found_lock);
	if (!S->found || walk < S->found_walk) {
		int n = nprefix + nfr + 1;
		struct vt_event *p = malloc((size_t)n * sizeof(*p));
		if (p) {
			memcpy(p, prefix, (size_t)nprefix * sizeof(*p));
			for (int i = 0; i < nfr; i++)
				p[nprefix + i] = fr[i + 1].taken;
			p[n - 1] = *last;
			free(S->path);
			S->path = p;
			S->npath = n;
			S->verdict = *v;
			S->found = 1;
			S->found_walk = walk;
		}
	}
	pthread_mutex_unlock(&S->found_lock);
	if (!S->o->random_walks) {
		atomic_store(&S->stop, 1);
		wake_all(S);
	}
}

static void stop_error(struct search *S, const char *why)
{
	pthread_mutex_lock(&S->found_lock);
	if (!S->error) {
		S->error = 1;
		S->why = why;
	}
	pthread_mutex_unlock(&S->found_lock);
	atomic_store(&S->stop, 1);
	wake_all(S);
}

/* A limit was reached: the search stops, incomplete, for the first reason given. */
static void stop_incomplete(struct search *S, const char *why)
{
	pthread_mutex_lock(&S->found_lock);
	if (!S->why)
		S->why = why;
	pthread_mutex_unlock(&S->found_lock);
	atomic_store(&S->stop, 1);
	wake_all(S);
}

static void memory_full(struct search *S)
{
	stop_incomplete(S, "memory cap reached");
}

/*
 * Where the reporting DFS worker is: its stack (frames 0..k, fr[0] at depth
 * base) and, with one job, an estimate of the fraction of the bounded search
 * tree done, from the choice being explored at each level (Knuth's
 * estimator: level j contributes next_j / n_j of what the levels above
 * leave).  It ignores states the visited set will cut short, so it is a
 * rough guide that only ever moves forward, not a promise.
 */
struct progress_at {
	const struct frame *fr;
	int k;
	unsigned base;
};

static double tree_done(const struct progress_at *at)
{
	double done = 0, weight = 1;
	for (int j = 0; j < at->k; j++) {
		const struct frame *f = &at->fr[j];
		if (f->n <= 0)
			break;
		done += weight * (double)f->next / (double)f->n;
		weight /= (double)f->n;
	}
	return done;
}

/*
 * One progress report, at most once a second (twice on a terminal): the
 * file, states and their rate, transitions, the frontier (this worker's DFS
 * stack and the work queue), memory, time, and an estimate where a bound
 * allows one: random walks done of all, the time limit, the memory cap, and
 * with one job the share of the search tree done.  On a terminal the line
 * is rewritten in place and cleared when the search ends (vt_explore).
 */
static void progress(struct search *S, const struct progress_at *at)
{
	const struct vt_explore_opts *o = S->o;
	if (!o->progress || pthread_mutex_trylock(&S->found_lock) != 0)
		return;
	double t = now();
	if (t - S->last_progress >= (o->progress_tty ? 0.5 : 1.0)) {
		S->last_progress = t;
		double el = t - S->start;
		uint64_t states = vt_visited_states(S->vs), mem = vt_visited_memory(S->vs);
		unsigned long long queued;
		double level_done = 0;
		if (S->bfs) {
			/* breadth-first: states stored but not yet expanded, and the share of this level done */
			uint64_t next = atomic_load(&S->next), q = vt_visited_queued(S->vs);
			if (next > S->qhi)
				next = S->qhi;
			queued = q > next ? (unsigned long long)(q - next) : 0ull;
			if (S->qhi > S->qlo)
				level_done = (double)(next - S->qlo) / (double)(S->qhi - S->qlo);
		} else {
			pthread_mutex_lock(&S->q_lock);
			queued = (unsigned long long)S->nq;
			pthread_mutex_unlock(&S->q_lock);
		}
		char line[512], est[160] = "";
		size_t n = 0;
		uint64_t w = atomic_load(&S->next_walk);
		if (w > o->random_walks)
			w = o->random_walks;
		if (o->random_walks && w)
			n += (size_t)snprintf(est + n, sizeof(est) - n, ", ~%.0f s left",
					      el * (double)(o->random_walks - w) / (double)w);
		else if (!o->random_walks && S->bfs)
			n += (size_t)snprintf(est + n, sizeof(est) - n, ", level ~%.1f%%", 100.0 * level_done);
		else if (!o->random_walks && at && S->nworkers == 1)
			n += (size_t)snprintf(est + n, sizeof(est) - n, ", tree ~%.1f%%", 100.0 * tree_done(at));
		if (o->time_limit > 0 && n < sizeof(est))
			n += (size_t)snprintf(est + n, sizeof(est) - n, ", time limit in %.0f s",
					      o->time_limit > el ? o->time_limit - el : 0.0);
		if (o->max_memory && n < sizeof(est))
			snprintf(est + n, sizeof(est) - n, ", %.0f%% of --max-memory",
				 100.0 * (double)mem / (double)o->max_memory);
		const char *file = S->m->file;
		if (o->progress_tty && strrchr(file, '/'))
			file = strrchr(file, '/') + 1; /* a terminal line is short: the name only */
		/* the frontier: depth-first, this worker's stack; breadth-first, the level being expanded */
		unsigned stack = S->bfs ? S->level : at ? at->base + (unsigned)at->k : 0u;
		const char *where = S->bfs ? "level" : "stack";
		if (atomic_load(&S->tracing) && o->progress_tty)
			snprintf(line, sizeof(line), "%s: violation at depth %u: the counterexample one job reports, %.0f s",
				 file, S->bad_level + 1, el);
		else if (atomic_load(&S->tracing))
			snprintf(line, sizeof(line),
				 "vtlb explore %s: violation at depth %u; looking for the counterexample one job reports, %.1f s",
				 file, S->bad_level + 1, el);
		else if (o->random_walks && o->progress_tty)
			snprintf(line, sizeof(line), "%s: walk %llu/%llu, %.0f s%s", file, (unsigned long long)w,
				 (unsigned long long)o->random_walks, el, est);
		else if (o->random_walks)
			snprintf(line, sizeof(line), "vtlb explore %s: walk %llu/%llu, %llu transitions, depth %u, %.1f s%s",
				 file, (unsigned long long)w, (unsigned long long)o->random_walks,
				 (unsigned long long)atomic_load(&S->transitions), atomic_load(&S->max_depth), el, est);
		else if (o->progress_tty)
			snprintf(line, sizeof(line), "%s: %llu states, %.0f/s, %s %u, queue %llu%s, %.0f s", file,
				 (unsigned long long)states, el > 0 ? (double)states / el : 0.0, where, stack, queued, est,
				 el);
		else
			snprintf(line, sizeof(line),
				 "vtlb explore %s: %llu states (%.0f/s), %llu transitions, %s %u, queue %llu, depth %u, "
				 "%.1f MiB, %.1f s%s",
				 file, (unsigned long long)states, el > 0 ? (double)states / el : 0.0,
				 (unsigned long long)atomic_load(&S->transitions), where, stack, queued, atomic_load(&S->max_depth),
				 (double)mem / 1048576.0, el, est);
		if (o->progress_tty) {
			/* one line rewritten in place: never wider than the terminal, or it would scroll */
			if (o->progress_width > 1 && strlen(line) >= (size_t)o->progress_width)
				line[o->progress_width - 1] = 0;
			fprintf(o->progress_out, "\r%s\033[K", line);
			S->progress_shown = 1;
		} else {
			fprintf(o->progress_out, "%s\n", line);
		}
		fflush(o->progress_out);
	}
	pthread_mutex_unlock(&S->found_lock);
}

/* The time limit and a progress report, now. */
static bool check_now(struct search *S, const struct progress_at *at)
{
	if (atomic_load(&S->stop))
		return true;
	if (S->o->time_limit > 0 && now() - S->start > S->o->time_limit) {
		stop_incomplete(S, "time limit reached");
		return true;
	}
	progress(S, at);
	return false;
}

/* The same, at every 1,024th call by a worker. */
static bool check_limits(struct search *S, const struct progress_at *at, struct tally *t)
{
	if (atomic_load_explicit(&S->stop, memory_order_relaxed))
		return true;
	if ((++t->ticks & 1023) == 0)
		return check_now(S, at);
	return false;
}

/*
 * Are guest events a and b (of different vCPUs) independent at s?  sa is
 * s after a (already computed).
 */
static bool independent(struct search *S, struct tally *t, const struct vt_state *s, const struct vt_state *sa,
			const struct vt_event *a, const struct vt_event *b, struct vt_state *tmp1,
			struct vt_state *tmp2)
{
	const struct vt_model *m = S->m;
	struct vt_verdict v;
	vt_state_copy(m, tmp1, sa);
	if (vt_explore_apply(m, tmp1, b, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	vt_state_copy(m, tmp2, s);
	if (vt_explore_apply(m, tmp2, b, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	if (vt_explore_apply(m, tmp2, a, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	t->checks++;
	return vt_state_same(m, tmp1, tmp2);
}

/*
 * Take choice c from s (in place): the step every search mode takes, and the
 * one place its coverage is counted.
 */
static enum vt_step_err take(struct search *S, struct vt_explore_coverage *cov, struct tally *t, struct vt_state *s,
			     const struct vt_event *c, struct vt_verdict *v)
{
	const struct vt_model *m = S->m;
	struct vt_explore_cov_pre pre;
	explore_cov_pre(m, s, c, &pre);
	enum vt_step_err e = explore_apply(m, s, c, NULL, v);
	if (++t->steps == TALLY_BATCH)
		tally_flush(S, t);
	if (e == VT_STEP_OK)
		explore_cov_note(cov, m, &pre, c, s);
	return e;
}

static void cov_publish(struct search *S, const struct vt_explore_coverage *cov)
{
	pthread_mutex_lock(&S->found_lock);
	vt_explore_cov_merge(&S->cov, cov);
	pthread_mutex_unlock(&S->found_lock);
}

/* --dot: the canonical bytes of s (of its representative) and their hash. */
static size_t dot_canon(struct search *S, struct vt_canon *c, const struct vt_state *s, uint8_t *buf, uint64_t *h)
{
	size_t n = vt_canon_bytes(S->vs, c, s, buf, NULL);
	*h = vt_canon_hash(buf, n);
	return n;
}

/* --dot: the graph passed its state limit; the search stops (incomplete) and nothing is written. */
static void dot_stop(struct search *S)
{
	pthread_mutex_lock(&S->found_lock);
	S->dot_full = 1;
	if (!S->why)
		S->why = "the --dot state limit was reached";
	pthread_mutex_unlock(&S->found_lock);
	atomic_store(&S->stop, 1);
	wake_all(S);
}

/* --dot: record the transition c from node 'from' to the state s; false when the graph is full. */
static bool dot_transition(struct search *S, struct vt_canon *canon, uint8_t *buf, int from, const struct vt_state *s,
			   const struct vt_event *c, bool bad)
{
	uint64_t h;
	size_t len = dot_canon(S, canon, s, buf, &h);
	if (vt_explore_dot_edge(S->dot, from, buf, len, h, c, bad) < 0) {
		dot_stop(S);
		return false;
	}
	return true;
}

struct worker {
	struct search *S;
	struct vt_explore_coverage *cov; /* this worker's own counts */
	struct tally tally;
	uint8_t *dbuf;                   /* --dot: a state's canonical bytes */
	struct frame *fr;        /* [depth bound + 2], address space only beyond fr[ready - 1] */
	unsigned ready;          /* frames set to power-on values and counted against --max-memory */
	struct vt_canon *canon;
	struct vt_state *tmp1, *tmp2, *child;
	const struct vt_event *prefix;
	int nprefix;
	unsigned base;           /* depth of fr[0] */
};

static bool donate(struct worker *W, int k, const struct vt_state *child, const struct vt_event *c, uint8_t sleep);

/*
 * Make frames fr[0..n-1] usable.  A frame is about 10 KiB, and the bound
 * can be 512 deep: frames are set up (and count against --max-memory, as
 * the store does) only when the search first goes that deep.  False when
 * the cap leaves no room.
 */
static bool frames_ready(struct worker *W, unsigned n)
{
	if (n <= W->ready)
		return true;
	if (!vt_visited_reserve(W->S->vs, (uint64_t)(n - W->ready) * sizeof(*W->fr)))
		return false;
	/* power-on values beyond the used part: vt_state_copy copies only that part */
	for (; W->ready < n; W->ready++)
		vt_state_init(W->S->m, &W->fr[W->ready].s);
	return true;
}

/* Explore from fr[k] (its state is set), with sleep set 'sleep'. */
static void dfs(struct worker *W, int k, uint8_t sleep)
{
	struct search *S = W->S;
	const struct vt_model *m = S->m;
	struct frame *f = &W->fr[k];
	unsigned depth = W->base + (unsigned)k;
	struct progress_at at = {W->fr, k, W->base};
	if (check_limits(S, &at, &W->tally))
		return;
	unsigned md = atomic_load(&S->max_depth);
	while (depth > md && !atomic_compare_exchange_weak(&S->max_depth, &md, depth))
		;
	struct vt_key key;
	uint8_t extra = 0;
	/*
	 * At the depth bound nothing will be explored from here: record the
	 * state as if every transition were asleep, so that its stored sleep
	 * set still says what was never explored.
	 */
	bool at_bound = depth >= S->b.depth;
	enum vt_visit vis = VT_VISIT_FULL;
	if (vt_visited_key(S->vs, W->canon, &f->s, &key, NULL) == 0)
		vis = vt_visited_insert(S->vs, &key, depth, at_bound ? 0xff : sleep, &extra, NULL);
	if (vis == VT_VISIT_FULL) {
		memory_full(S);
		return;
	}
	if (S->dot) {
		uint64_t h;
		size_t len = dot_canon(S, W->canon, &f->s, W->dbuf, &h);
		if ((f->dot_id = vt_explore_dot_node(S->dot, W->dbuf, len, h)) < 0) {
			dot_stop(S);
			return;
		}
	}
	if (vis == VT_VISIT_SKIP)
		return;
	if (at_bound) {
		atomic_store(&S->cut, 1);
		return;
	}
	if (!frames_ready(W, (unsigned)k + 2)) {
		memory_full(S);
		return;
	}
	f->n = vt_explore_choices(m, &f->s, &S->b, f->choice, MAX_CHOICES);
	uint8_t done = 0; /* guest transitions explored so far from here */
	struct vt_twins tw = {.any = S->twins ? -1 : 0};
	for (int i = 0; i < f->n && !atomic_load(&S->stop); i++) {
		const struct vt_event *c = &f->choice[i];
		bool guest = c->kind == VT_EV_GUEST;
		f->next = i;
		/* a load's child starts with no sleep set: its twin's child is the same search */
		if (vt_explore_skip_load(m, W->canon, &f->s, f->choice, i, &tw)) {
			W->tally.pruned++;
			continue;
		}
		uint8_t bit = guest ? (uint8_t)(1u << c->vcpu) : 0;
		if (guest && (sleep & bit)) {
			W->tally.pruned++;
			continue;
		}
		if (vis == VT_VISIT_EXTRA && !(guest && (extra & bit)))
			continue;
		struct frame *g = &W->fr[k + 1];
		vt_state_copy(m, &g->s, &f->s);
		struct vt_verdict v;
		enum vt_step_err e = take(S, W->cov, &W->tally, &g->s, c, &v);
		assert(vt_state_unused_is_init(m, &g->s, S->init));
		if (e == VT_STEP_ERR_LIMIT) {
			stop_error(S, vt_limit_str(g->s.meta.limit));
			return;
		}
		if (e != VT_STEP_OK)
			continue;
		if (S->dot && !dot_transition(S, W->canon, W->dbuf, f->dot_id, &g->s, c, v.kind != VT_V_OK))
			return;
		g->taken = *c;
		if (v.kind != VT_V_OK) {
			report(S, W->prefix, W->nprefix, W->fr, k, c, &v, 0);
			return;
		}
		uint8_t child_sleep = 0;
		if (S->o->por && guest) {
			uint8_t cand = (uint8_t)((sleep | done) & ~bit);
			for (int j = 0; j < f->n && cand; j++) {
				const struct vt_event *b = &f->choice[j];
				if (b->kind != VT_EV_GUEST || !(cand & (1u << b->vcpu)))
					continue;
				cand &= (uint8_t)~(1u << b->vcpu);
				if (independent(S, &W->tally, &f->s, &g->s, c, b, W->tmp1, W->tmp2))
					child_sleep |= (uint8_t)(1u << b->vcpu);
			}
		}
		if (!donate(W, k, &g->s, c, child_sleep))
			dfs(W, k + 1, child_sleep);
		done |= bit;
	}
}

static int worker_init(struct worker *W, struct search *S)
{
	memset(W, 0, sizeof(*W));
	W->S = S;
	W->fr = calloc(S->b.depth + 2, sizeof(*W->fr));
	W->canon = vt_canon_new(S->vs);
	W->tmp1 = malloc(sizeof(struct vt_state));
	W->tmp2 = malloc(sizeof(struct vt_state));
	W->child = malloc(sizeof(struct vt_state));
	W->cov = calloc(1, sizeof(*W->cov));
	if (S->dot && !(W->dbuf = malloc(sizeof(struct vt_state))))
		return -1;
	if (!(W->fr && W->canon && W->tmp1 && W->tmp2 && W->child && W->cov))
		return -1;
	vt_state_init(S->m, W->tmp1);
	vt_state_init(S->m, W->tmp2);
	vt_state_init(S->m, W->child);
	return 0;
}

static void worker_fini(struct worker *W)
{
	tally_flush(W->S, &W->tally);
	if (W->cov)
		cov_publish(W->S, W->cov);
	free(W->cov);
	free(W->dbuf);
	vt_visited_unreserve(W->S->vs, (uint64_t)W->ready * sizeof(*W->fr));
	free(W->fr);
	vt_canon_free(W->canon);
	free(W->tmp1);
	free(W->tmp2);
	free(W->child);
}

/* Wake every worker waiting for work (the search stops). */
static void wake_all(struct search *S)
{
	pthread_mutex_lock(&S->q_lock);
	pthread_cond_broadcast(&S->q_cond);
	pthread_mutex_unlock(&S->q_lock);
}

static int queue_push(struct search *S, struct work *w)
{
	pthread_mutex_lock(&S->q_lock);
	if (S->nq == S->qcap) {
		int cap = S->qcap ? S->qcap * 2 : 16;
		struct work **q = realloc(S->q, (size_t)cap * sizeof(*q));
		if (!q) {
			pthread_mutex_unlock(&S->q_lock);
			return -1;
		}
		S->q = q;
		S->qcap = cap;
	}
	S->q[S->nq++] = w;
	pthread_cond_signal(&S->q_cond);
	pthread_mutex_unlock(&S->q_lock);
	return 0;
}

/* The next work item, or NULL when the search is over (nothing queued and nobody working, or stopped). */
static struct work *queue_pop(struct search *S)
{
	struct work *w = NULL;
	pthread_mutex_lock(&S->q_lock);
	for (;;) {
		if (S->nq > 0) {
			w = S->q[--S->nq];
			break;
		}
		if (S->q_done || atomic_load(&S->stop)) {
			pthread_cond_broadcast(&S->q_cond);
			break;
		}
		if (S->idle + 1 == S->nworkers) {
			S->q_done = 1;
			pthread_cond_broadcast(&S->q_cond);
			break;
		}
		S->idle++;
		atomic_store(&S->hungry, S->idle);
		pthread_cond_wait(&S->q_cond, &S->q_lock);
		S->idle--;
		atomic_store(&S->hungry, S->idle);
	}
	pthread_mutex_unlock(&S->q_lock);
	return w;
}

/* Hand the child reached by c from fr[k] to an idle worker, if one waits. */
static bool donate(struct worker *W, int k, const struct vt_state *child, const struct vt_event *c, uint8_t sleep)
{
	struct search *S = W->S;
	if (atomic_load(&S->hungry) == 0 || !vt_visited_reserve(S->vs, sizeof(struct work)))
		return false; /* this worker goes on with the child itself */
	struct work *w = malloc(sizeof(*w));
	if (!w) {
		vt_visited_unreserve(S->vs, sizeof(*w));
		return false;
	}
	memcpy(&w->s, child, sizeof(*child));
	w->depth = W->base + (unsigned)k + 1;
	w->sleep = sleep;
	w->nprefix = 0;
	memcpy(w->prefix, W->prefix, (size_t)W->nprefix * sizeof(w->prefix[0]));
	w->nprefix = W->nprefix;
	for (int i = 1; i <= k; i++)
		w->prefix[w->nprefix++] = W->fr[i].taken;
	w->prefix[w->nprefix++] = *c;
	if (queue_push(S, w) < 0) {
		free(w);
		vt_visited_unreserve(S->vs, sizeof(*w));
		return false;
	}
	return true;
}

/*
 * Start up to 'jobs' workers (S->start_gate held: they wait for it); how many
 * started.  A search runs with the workers it has, which changes no
 * result; with none it stops with an error.
 */
static int start_workers(struct search *S, pthread_t *th, int jobs, void *(*fn)(void *))
{
	int n = 0;
	while (n < jobs && pthread_create(&th[n], NULL, fn, S) == 0)
		n++;
	if (!n)
		stop_error(S, "no worker thread could be started");
	return n;
}

/* A worker's first step: wait until every worker that could be started is. */
static void wait_start(struct search *S)
{
	pthread_mutex_lock(&S->start_gate);
	pthread_mutex_unlock(&S->start_gate);
}

static void *dfs_thread(void *arg)
{
	struct search *S = arg;
	wait_start(S);
	struct worker W;
	if (worker_init(&W, S) < 0) {
		stop_error(S, "out of memory");
		worker_fini(&W);
		wake_all(S);
		return NULL;
	}
	struct work *w;
	while ((w = queue_pop(S))) {
		if (frames_ready(&W, 1)) {
			memcpy(&W.fr[0].s, &w->s, sizeof(w->s));
			W.prefix = w->prefix;
			W.nprefix = w->nprefix;
			W.base = w->depth;
			dfs(&W, 0, w->sleep);
		} else {
			memory_full(S);
		}
		free(w);
		vt_visited_unreserve(S->vs, sizeof(*w));
	}
	worker_fini(&W);
	return NULL;
}

/* ---- breadth-first search --------------------------------------------------- */

/*
 * Level by level: every state of level d is expanded (each exactly once)
 * before any of level d + 1, so a state is stored at its smallest depth, the
 * depth bound is exact without re-exploring anything, and the first
 * violation is found at the smallest depth.  The queue is the store itself:
 * the ids of its states in the order they were added (vt_visited_keep_queue),
 * with no parent pointers (bfs_path finds the path again).  States are
 * expanded from their representative (pCPU symmetry); a counterexample is
 * mapped back to the real pCPUs when it is rebuilt.  Sleep sets are not
 * used here: with the relation checked where it is used they cost more
 * steps than they save (docs/design.md, "Partial-order reduction").  Loads onto
 * interchangeable pCPUs are skipped (vt_explore_skip_load), except for
 * --dot, whose graph keeps every load's edge.
 */
/* Insert a child found at the next level; false (the search stops) when the store is full. */
static bool bfs_insert(struct search *S, const struct vt_key *key)
{
	uint8_t extra;
	if (vt_visited_insert(S->vs, key, S->level + 1, 0, &extra, NULL) != VT_VISIT_FULL)
		return true;
	memory_full(S);
	return false;
}

/*
 * The step from state id by its choice i violates (i is the least such
 * choice of id).  One job expands the level in queue order, so the first
 * violation is the least (parent, choice); several stop where they are
 * (bfs_path then looks for the counterexample one job reports).
 */
static void bfs_violation(struct search *S, uint32_t id, int i)
{
	pthread_mutex_lock(&S->found_lock);
	if (!S->found) {
		S->found = 1;
		S->bad_parent = id;
		S->bad_choice = i;
		S->bad_level = S->level;
	}
	pthread_mutex_unlock(&S->found_lock);
	atomic_store(&S->stop, 1);
}

/*
 * Make child the parent rep (decoded with c) again, ready for a step: the
 * child last keyed against rep gets back only the sections it changed
 * (vt_visited_restore), any other is copied whole; no TLB domain written
 * yet (meta.dom_w, for vt_visited_key_scratch).
 */
static inline void bfs_child(struct search *S, struct vt_canon *c, const struct vt_state *rep,
			     struct vt_state *child)
{
	if (!vt_visited_restore(S->vs, c, child, rep))
		vt_state_copy(S->m, child, rep);
	child->meta.dom_w = 0;
}

/*
 * Expand one state of the current level.  A child's key is inserted only
 * after the next child is keyed (or when the expansion ends, whatever the
 * way): its index slot is prefetched meanwhile, since a large store's
 * slots are rarely in the cache.  The children are inserted in the same
 * order as without the delay.
 */
static void bfs_expand(struct worker *W, uint32_t id, struct vt_state *cur, struct vt_state *child,
		       struct vt_event *ch)
{
	struct search *S = W->S;
	const struct vt_model *m = S->m;
	struct vt_key pend;
	bool have = false;
#define FLUSH() (!have || (have = false, bfs_insert(S, &pend)))
	vt_visited_decode(S->vs, W->canon, id, cur);
	cur->meta.step = S->level;
	int from = -1;
	if (S->dot) {
		uint64_t h;
		size_t len = dot_canon(S, W->canon, cur, W->dbuf, &h);
		if ((from = vt_explore_dot_node(S->dot, W->dbuf, len, h)) < 0) {
			dot_stop(S);
			return;
		}
	}
	int n = vt_explore_choices(m, cur, &S->b, ch, MAX_CHOICES);
	struct vt_twins tw = {.any = S->twins ? -1 : 0};
	for (int i = 0; i < n && !atomic_load_explicit(&S->stop, memory_order_relaxed); i++) {
		if (vt_explore_skip_load(m, W->canon, cur, ch, i, &tw)) {
			W->tally.pruned++;
			continue;
		}
		bfs_child(S, W->canon, cur, child);
		struct vt_verdict v;
		enum vt_step_err e = take(S, W->cov, &W->tally, child, &ch[i], &v);
		assert(vt_state_unused_is_init(m, child, S->init));
		if (e == VT_STEP_ERR_LIMIT) {
			if (FLUSH())
				stop_error(S, vt_limit_str(child->meta.limit));
			return;
		}
		if (e != VT_STEP_OK)
			continue;
		if (S->dot && !dot_transition(S, W->canon, W->dbuf, from, child, &ch[i], v.kind != VT_V_OK)) {
			(void)FLUSH();
			return;
		}
		if (v.kind != VT_V_OK) {
			/* the least violating choice of this parent: the rest are not needed */
			if (FLUSH())
				bfs_violation(S, id, i);
			return;
		}
		struct vt_key key;
		/* the same event from the same section often makes the same section again: 20 bits */
		_Static_assert(VT_EV_COUNT <= 16 && VT_MAX_VCPUS < 16 && VT_MAX_PCPUS < 16, "4 bits each");
		vt_canon_hint(W->canon, (uint64_t)ch[i].kind | (uint64_t)(ch[i].vcpu + 1) << 4 |
						(uint64_t)(ch[i].pcpu + 1) << 8 | (uint64_t)ch[i].flags << 12);
		/* the child is scratch: keying may rename its pCPU references in place */
		if (vt_visited_key_scratch(S->vs, W->canon, child, &key) < 0) {
			(void)FLUSH();
			memory_full(S);
			return;
		}
		if (!FLUSH())
			return;
		vt_visited_prefetch(S->vs, &key);
		pend = key;
		have = true;
	}
	(void)FLUSH();
#undef FLUSH
}

/* One thread (the barrier's serial one): set up the next level, or end the search. */
static void bfs_next_level(struct search *S, bool first)
{
	S->qlo = first ? 0 : S->qhi;
	S->qhi = vt_visited_queued(S->vs);
	if (!first)
		S->level++;
	S->qstart[S->level] = S->qlo;
	S->qstart[S->level + 1] = S->qhi;
	atomic_store(&S->next, S->qlo);
	bool any = S->qhi > S->qlo;
	if (any && S->level > atomic_load(&S->max_depth))
		atomic_store(&S->max_depth, S->level);
	if (any && S->level >= S->b.depth)
		atomic_store(&S->cut, 1);
	S->bfs_done = !any || S->level >= S->b.depth || atomic_load(&S->stop) || check_now(S, NULL);
}

/*
 * The step from rep (decoded with c) by event e, into child (bfs_child): 1
 * when it is a transition of the search (a step without violation) to a
 * stored state, whose id is then *to; 0 when not; -1 when out of memory.
 */
static int bfs_step_to(struct search *S, struct vt_canon *c, const struct vt_state *rep, struct vt_state *child,
		       const struct vt_event *e, uint32_t *to)
{
	struct vt_verdict v;
	struct vt_key k;
	bfs_child(S, c, rep, child);
	assert(vt_state_unused_is_init(S->m, child, S->init));
	if (vt_explore_apply(S->m, child, e, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return 0;
	if (vt_visited_key_scratch(S->vs, c, child, &k) < 0)
		return -1;
	return vt_visited_find(S->vs, &k, to) ? 1 : 0;
}

/*
 * How many states of a level from queue position lo to hi a worker takes
 * at a time: 64, fewer where the level is small, so that each worker gets
 * about eight batches of it.
 */
static uint64_t bfs_batch(const struct search *S, uint64_t lo, uint64_t hi)
{
	uint64_t b = (hi - lo) / (8 * (uint64_t)S->jobs);
	return b < 1 ? 1 : b > 64 ? 64 : b;
}

static void *bfs_thread(void *arg)
{
	struct search *S = arg;
	wait_start(S);
	struct worker W;
	struct vt_event ch[MAX_CHOICES];
	int ok = worker_init(&W, S) == 0;
	if (!ok)
		stop_error(S, "out of memory");
	while (!S->bfs_done) {
		const uint64_t batch = bfs_batch(S, S->qlo, S->qhi);
		for (uint64_t i; ok && (i = atomic_fetch_add(&S->next, batch)) < S->qhi;) {
			uint64_t end = i + batch < S->qhi ? i + batch : S->qhi;
			for (; i < end && !atomic_load_explicit(&S->stop, memory_order_relaxed); i++) {
				vt_visited_prefetch_parents(S->vs, W.canon, i, S->qhi);
				bfs_expand(&W, vt_visited_queue_at(S->vs, i), W.tmp1, W.tmp2, ch);
			}
			if (check_now(S, NULL))
				break;
		}
		if (pthread_barrier_wait(&S->barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
			bfs_next_level(S, false);
		pthread_barrier_wait(&S->barrier);
	}
	worker_fini(&W);
	return NULL;
}

/*
 * One job: the path to the violation found (S->bad_parent, S->bad_choice).
 * The store keeps no parent pointers: for each level from L - 1 down to 0
 * the level is expanded again, in queue order, until a state is found with
 * a successor equal to the one known at the next level.  In queue order,
 * that is the path one job first reached the state by.
 */
static int bfs_trace(struct search *S, struct vt_canon *c, struct vt_state *rep, struct vt_state *child,
		     uint32_t *ids, uint8_t *choices)
{
	unsigned L = S->bad_level;
	struct vt_event ch[MAX_CHOICES];
	ids[L] = S->bad_parent;
	choices[L] = (uint8_t)S->bad_choice;
	for (unsigned l = L; l-- > 0;) {
		bool found = false;
		for (uint64_t q = S->qstart[l]; q < S->qstart[l + 1] && !found; q++) {
			uint32_t id = vt_visited_queue_at(S->vs, q), to;
			vt_visited_decode(S->vs, c, id, rep);
			int n = vt_explore_choices(S->m, rep, &S->b, ch, MAX_CHOICES);
			for (int i = 0; i < n && !found; i++) {
				int r = bfs_step_to(S, c, rep, child, &ch[i], &to);
				if (r < 0)
					return -1;
				if (r && to == ids[l + 1]) {
					ids[l] = id;
					choices[l] = (uint8_t)i;
					found = true;
				}
			}
		}
		if (!found)
			return -1;
	}
	return 0;
}

/* bfs_least: the states known to lead to no violation, each with the most steps it was searched for */
struct dead {
	uint64_t *slot; /* id + 1 << 32 | steps + 1, or 0 */
	size_t cap, n;
	struct vt_visited *vs; /* counts slot's bytes against --max-memory (NULL: a table that never grows) */
};

static size_t dead_slot(const struct dead *d, uint32_t id)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & (d->cap - 1);
}

static uint32_t dead_get(const struct dead *d, uint32_t id)
{
	for (size_t j = dead_slot(d, id);; j = (j + 1) & (d->cap - 1)) {
		if (!d->slot[j])
			return 0;
		if (d->slot[j] >> 32 == (uint64_t)id + 1)
			return (uint32_t)d->slot[j];
	}
}

static int dead_put(struct dead *d, uint32_t id, uint32_t steps)
{
	if (2 * (d->n + 1) > d->cap) {
		if (!vt_visited_reserve(d->vs, 2 * d->cap * sizeof(uint64_t)))
			return -1;
		struct dead g = {calloc(2 * d->cap, sizeof(uint64_t)), 2 * d->cap, 0, NULL};
		if (!g.slot) {
			vt_visited_unreserve(d->vs, 2 * d->cap * sizeof(uint64_t));
			return -1;
		}
		/* half full at most: these never grow g */
		for (size_t j = 0; j < d->cap; j++)
			if (d->slot[j])
				(void)dead_put(&g, (uint32_t)((d->slot[j] >> 32) - 1), (uint32_t)d->slot[j] - 1);
		free(d->slot);
		vt_visited_unreserve(d->vs, d->cap * sizeof(uint64_t));
		g.vs = d->vs;
		*d = g;
	}
	size_t j = dead_slot(d, id);
	while (d->slot[j] && d->slot[j] >> 32 != (uint64_t)id + 1)
		j = (j + 1) & (d->cap - 1);
	d->n += !d->slot[j];
	d->slot[j] = ((uint64_t)id + 1) << 32 | (steps + 1);
	return 0;
}

/* A state of bfs_least's path: its representative, choices and the next one to try. */
struct lexframe {
	struct vt_state s;
	struct vt_event ch[MAX_CHOICES];
	int n, next;
	uint32_t id;
};

/*
 * Several jobs: the counterexample one job would report, whichever order
 * the workers stored the states in.  One job reaches each state first by
 * the least sequence of choice indices among its shortest paths (parents
 * in queue order, choices in order, by induction on the level), so it
 * reports the least such sequence among the shortest paths to a
 * violation: L + 1 steps, L being the level whose expansion found one.
 * A depth-first search from the initial state, choices in order, finds
 * that sequence first.  Every path of L + 1 steps to a violation is a
 * shortest one, and no violation is nearer, so a state from which no
 * violation lies k steps on lies none nearer either: such a state is
 * recorded as dead for k steps and not searched again for as many or fewer.
 * Its frames and table count against --max-memory.  0; 1 when the time
 * limit passes first or its own tables find no room (S->least_why says
 * which); -1 when the store's does.
 */
static int bfs_least(struct search *S, struct vt_canon *c, struct vt_state *child, uint32_t *ids,
		     uint8_t *choices)
{
	const struct vt_model *m = S->m;
	const unsigned L = S->bad_level;
	const uint64_t frames = (uint64_t)(L + 1) * sizeof(struct lexframe), slots = 1024 * sizeof(uint64_t);
	struct lexframe *fr = NULL;
	struct dead dead = {NULL, 1024, 0, S->vs};
	int rc = 1; /* out of room for its own tables: bfs_path traces the found violation back instead */
	uint64_t pushed = 0;
	S->least_why = "the search for the least one found no room for its tables";
	if (!vt_visited_reserve(S->vs, frames))
		return rc;
	if (!vt_visited_reserve(S->vs, slots)) {
		vt_visited_unreserve(S->vs, frames);
		return rc;
	}
	fr = malloc(frames);
	dead.slot = calloc(1024, sizeof(uint64_t));
	if (!fr || !dead.slot)
		goto out;
	atomic_store(&S->tracing, 1);
	for (int k = 0, push = 1; k >= 0;) {
		struct lexframe *f = &fr[k];
		if (push) {
			f->id = k ? ids[k] : vt_visited_queue_at(S->vs, 0);
			vt_visited_decode(S->vs, c, f->id, &f->s);
			f->n = vt_explore_choices(m, &f->s, &S->b, f->ch, MAX_CHOICES);
			f->next = 0;
			push = 0;
		}
		if (f->next == f->n) {
			/* no violation L + 1 - k steps on from here */
			if (dead_put(&dead, f->id, L - (unsigned)k) < 0)
				goto out; /* rc 1 */
			k--;
			continue;
		}
		int i = f->next++;
		struct vt_verdict v;
		vt_state_copy(m, child, &f->s);
		assert(vt_state_unused_is_init(m, child, S->init));
		if (vt_explore_apply(m, child, &f->ch[i], NULL, &v) != VT_STEP_OK)
			continue;
		if ((unsigned)k == L) {
			if (v.kind == VT_V_OK)
				continue;
			for (unsigned j = 0; j <= L; j++) {
				ids[j] = fr[j].id;
				choices[j] = (uint8_t)(fr[j].next - 1);
			}
			rc = 0;
			goto out;
		}
		struct vt_key key;
		uint32_t to;
		if (v.kind != VT_V_OK)
			continue; /* none is nearer: the levels before L were searched whole */
		if (vt_visited_key(S->vs, c, child, &key, NULL) < 0) {
			rc = -1;
			goto out;
		}
		if (!vt_visited_find(S->vs, &key, &to))
			continue;
		uint32_t known = dead_get(&dead, to); /* steps + 1 it is dead for, or 0 */
		if (known && known - 1 >= L - (unsigned)k - 1)
			continue;
		ids[k + 1] = to;
		k++;
		push = 1;
		if ((++pushed & 1023) == 0) {
			progress(S, NULL);
			if (S->o->time_limit > 0 && now() - S->start > S->o->time_limit) {
				S->least_why = "the search for the least one ran past the time limit";
				rc = 1;
				goto out;
			}
		}
	}
	/* every path of L + 1 steps searched: the workers' violation should have been one */
	assert(!"bfs_least found no violation L + 1 steps from the initial state");
	S->least_why = "the search for the least one found none (an internal inconsistency)";
out:
	atomic_store(&S->tracing, 0);
	vt_canon_forget(c); /* its base was a frame */
	free(fr);
	free(dead.slot);
	vt_visited_unreserve(S->vs, frames + dead.cap * sizeof(uint64_t));
	if (rc != 1)
		S->least_why = NULL;
	return rc;
}

/*
 * The counterexample of a breadth-first search, paid only when a violation
 * is found: the states and choices of its path (bfs_trace, at most one more
 * pass over the levels searched; bfs_least, a depth-first search that
 * leaves most of them alone on the searches measured).  The choices found
 * are those of representatives; the path is then replayed from the real
 * initial state, each choice's pCPU renamed back (the model does not
 * depend on pCPU numbering where symmetry applies).  0, or -1 when out of
 * memory.
 */
static int bfs_path(struct search *S)
{
	const struct vt_model *m = S->m;
	unsigned L = S->bad_level;
	uint32_t ids[VT_EXPLORE_MAX_DEPTH + 1];
	uint8_t choices[VT_EXPLORE_MAX_DEPTH + 1]; /* choices[j]: taken at ids[j] */
	struct vt_state *real = malloc(sizeof(*real)), *rep = malloc(sizeof(*rep)), *child = malloc(sizeof(*child));
	struct vt_canon *c = vt_canon_new(S->vs);
	struct vt_event *path = malloc((size_t)(L + 1) * sizeof(*path));
	struct vt_event ch[MAX_CHOICES];
	int rc = -1;
	if (!real || !rep || !child || !c || !path)
		goto out;
	/* bfs_child copies only the used part into child (vt_state_copy): the rest must be power-on */
	vt_state_init(m, child);
	/* one job, or bfs_least gave up: the path to the violation the search found */
	int least = 1;
	if (S->jobs > 1) {
		uint64_t held = vt_visited_memory(S->vs);
		least = bfs_least(S, c, child, ids, choices);
		/* what it reserved against --max-memory is given back */
		assert(vt_visited_memory(S->vs) == held);
		(void)held;
	}
	if (least < 0 || (least > 0 && bfs_trace(S, c, rep, child, ids, choices) < 0))
		goto out;
	/* rep changes below without c: keys no longer reuse what they share with it */
	vt_canon_forget(c);
	vt_state_init(m, real);
	for (unsigned j = 0; j <= L; j++) {
		int8_t map[VT_MAX_PCPUS], inv[VT_MAX_PCPUS];
		struct vt_key kr;
		vt_visited_decode(S->vs, NULL, ids[j], rep);
		int nc = vt_explore_choices(m, rep, &S->b, ch, MAX_CHOICES);
		if (choices[j] >= nc || vt_visited_key(S->vs, c, real, &kr, map) < 0)
			goto out;
		assert(vt_visited_key_is(S->vs, ids[j], &kr));
		for (int p = 0; p < m->npcpus; p++)
			inv[map[p]] = (int8_t)p;
		struct vt_event e = ch[choices[j]];
		if (e.kind == VT_EV_LOAD && e.pcpu >= 0)
			e.pcpu = inv[e.pcpu];
		struct vt_verdict v;
		if (vt_explore_apply(m, real, &e, NULL, &v) != VT_STEP_OK)
			goto out;
		path[j] = e;
		if (j == L) {
			if (v.kind == VT_V_OK)
				goto out;
			S->verdict = v;
		}
	}
	free(S->path);
	S->path = path;
	S->npath = (int)L + 1;
	path = NULL;
	rc = 0;
out:
	free(real);
	free(rep);
	free(child);
	free(path);
	vt_canon_free(c);
	return rc;
}

/* ---- random mode ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void *random_thread(void *arg)
{
	struct search *S = arg;
	wait_start(S);
	const struct vt_model *m = S->m;
	struct vt_state *s = malloc(sizeof(*s));
	struct vt_state *init = malloc(sizeof(*init));
	struct vt_event *path = malloc(S->b.depth * sizeof(*path) + sizeof(*path));
	struct vt_event ch[MAX_CHOICES];
	struct vt_explore_coverage *cov = calloc(1, sizeof(*cov));
	struct tally t = {0};
	if (!s || !init || !path || !cov) {
		stop_error(S, "out of memory");
		goto out;
	}
	vt_state_init(m, init);
	for (;;) {
		uint64_t w = atomic_fetch_add(&S->next_walk, 1);
		if (w >= S->o->random_walks || atomic_load(&S->stop))
			break;
		pthread_mutex_lock(&S->found_lock);
		int beyond = S->found && w > S->found_walk;
		pthread_mutex_unlock(&S->found_lock);
		if (beyond)
			break;
		uint64_t rng = S->o->seed ^ (w * 0xd1342543de82ef95ull);
		memcpy(s, init, sizeof(*s));
		for (unsigned d = 0; d < S->b.depth; d++) {
			int n = vt_explore_choices(m, s, &S->b, ch, MAX_CHOICES);
			if (!n)
				break;
			const struct vt_event *c = &ch[splitmix(&rng) % (uint64_t)n];
			struct vt_verdict v;
			enum vt_step_err e = take(S, cov, &t, s, c, &v);
			if (e == VT_STEP_ERR_LIMIT) {
				stop_error(S, vt_limit_str(s->meta.limit));
				goto out;
			}
			if (e != VT_STEP_OK)
				break;
			path[d] = *c;
			unsigned md = atomic_load(&S->max_depth);
			while (d + 1 > md && !atomic_compare_exchange_weak(&S->max_depth, &md, d + 1))
				;
			if (v.kind != VT_V_OK) {
				report(S, path, (int)d, NULL, 0, c, &v, w);
				break;
			}
		}
		if (check_limits(S, NULL, &t))
			break;
	}
out:
	tally_flush(S, &t);
	if (cov)
		cov_publish(S, cov);
	free(cov);
	free(s);
	free(init);
	free(path);
	return NULL;
}

/*
 * --dot: mark the counterexample, as found (before shrinking), in the graph.
 * Each of its steps is a transition the search took and recorded, so every
 * state on it is a node already.
 */
static void dot_mark_path(struct search *S, struct vt_explore_dot *dot)
{
	const struct vt_model *m = S->m;
	struct vt_state *s = malloc(sizeof(*s));
	uint8_t *buf = malloc(sizeof(struct vt_state));
	struct vt_canon *c = vt_canon_new(S->vs);
	if (s && buf && c) {
		uint64_t h;
		int8_t map[VT_MAX_PCPUS];
		vt_state_init(m, s);
		size_t len = vt_canon_bytes(S->vs, c, s, buf, map);
		int from = vt_explore_dot_find(dot, buf, len, vt_canon_hash(buf, len));
		for (int i = 0; i < S->npath && from >= 0; i++) {
			struct vt_verdict v;
			/*
			 * Breadth-first expands representatives, so its edges are
			 * labelled in the representative's pCPU numbering.
			 */
			struct vt_event label = S->path[i];
			if (S->bfs && label.kind == VT_EV_LOAD && label.pcpu >= 0)
				label.pcpu = map[label.pcpu];
			if (vt_explore_apply(m, s, &S->path[i], NULL, &v) != VT_STEP_OK)
				break;
			len = vt_canon_bytes(S->vs, c, s, buf, map);
			h = vt_canon_hash(buf, len);
			/*
			 * The edge (and its state) may be new: with --jobs the path is
			 * the one a single job reports (bfs_least), which the workers
			 * may have stopped before taking.
			 */
			int to = vt_explore_dot_edge(dot, from, buf, len, h, &label, v.kind != VT_V_OK);
			if (to < 0 || vt_explore_dot_path(dot, from, to, &label) < 0)
				break;
			from = to;
		}
	}
	free(s);
	free(buf);
	vt_canon_free(c);
}

/* ---- shrinking ------------------------------------------------------------ */

/* Replay a path with the run semantics; the violation it ends in, if any. */
static bool replay(const struct vt_model *m, const struct vt_event *p, int n, struct vt_verdict *out)
{
	struct vt_state *s = malloc(sizeof(*s));
	bool hit = false;
	if (!s)
		return false;
	vt_state_init(m, s);
	for (int i = 0; i < n; i++) {
		struct vt_verdict v;
		if (vt_step(m, s, &p[i], NULL, &v) != VT_STEP_OK)
			break;
		if (v.kind != VT_V_OK) {
			hit = i == n - 1;
			*out = v;
			break;
		}
	}
	free(s);
	return hit;
}

static bool same_op(const struct vt_event *a, const struct vt_event *b)
{
	return a->op.code == b->op.code && a->op.flags == b->op.flags && a->op.space == b->op.space &&
	       a->op.target == b->op.target && a->op.a == b->op.a && a->op.b == b->op.b;
}

/* Every vCPU's guest operations are a prefix of its program, in order. */
static bool programs_respected(const struct vt_model *m, const struct vt_event *p, int n)
{
	int pc[VT_MAX_VCPUS] = {0};
	for (int i = 0; i < n; i++) {
		if (p[i].kind != VT_EV_GUEST || (p[i].flags & VT_EVF_VMM))
			continue;
		int v = p[i].vcpu;
		if (pc[v] >= m->nprog[v] || !same_op(&p[i], &m->prog[v][pc[v]]))
			return false;
		pc[v]++;
	}
	return true;
}

static int shrink(const struct vt_model *m, struct vt_event *p, int n, const struct vt_verdict *want)
{
	struct vt_event *c = malloc((size_t)n * sizeof(*c));
	if (!c)
		return n;
	bool changed = true;
	while (changed) {
		changed = false;
		/* drop single steps, latest first */
		for (int i = n - 2; i >= 0; i--) {
			if (p[i].kind == VT_EV_HOST || (p[i].flags & VT_EVF_VMM))
				continue;
			memcpy(c, p, (size_t)i * sizeof(*c));
			memcpy(c + i, p + i + 1, (size_t)(n - i - 1) * sizeof(*c));
			struct vt_verdict v;
			if (programs_respected(m, c, n - 1) && replay(m, c, n - 1, &v) && v.kind == want->kind) {
				memcpy(p, c, (size_t)(n - 1) * sizeof(*c));
				n--;
				changed = true;
			}
		}
		/* drop adjacent pairs (a preemption and the load that undoes it), latest first */
		for (int i = n - 3; i >= 0; i--) {
			if (p[i].kind == VT_EV_HOST || p[i + 1].kind == VT_EV_HOST || ((p[i].flags | p[i + 1].flags) & VT_EVF_VMM))
				continue;
			memcpy(c, p, (size_t)i * sizeof(*c));
			memcpy(c + i, p + i + 2, (size_t)(n - i - 2) * sizeof(*c));
			struct vt_verdict v;
			if (programs_respected(m, c, n - 2) && replay(m, c, n - 2, &v) && v.kind == want->kind) {
				memcpy(p, c, (size_t)(n - 2) * sizeof(*c));
				n -= 2;
				changed = true;
				i = i > n - 2 ? n - 2 : i;
			}
		}
		/* use the lowest-numbered pCPUs: rename pCPU a to b (swapping) */
		for (int a = m->npcpus - 1; a > 0; a--) {
			for (int b = 0; b < a; b++) {
				bool used_a = false;
				for (int i = 0; i < n; i++)
					used_a |= p[i].kind == VT_EV_LOAD && p[i].pcpu == a;
				if (!used_a)
					break;
				memcpy(c, p, (size_t)n * sizeof(*c));
				for (int i = 0; i < n; i++) {
					if (c[i].kind != VT_EV_LOAD)
						continue;
					if (c[i].pcpu == a)
						c[i].pcpu = (int8_t)b;
					else if (c[i].pcpu == b)
						c[i].pcpu = (int8_t)a;
				}
				struct vt_verdict v;
				bool lower = false;
				int maxp_old = 0, maxp_new = 0;
				for (int i = 0; i < n; i++)
					if (p[i].kind == VT_EV_LOAD) {
						maxp_old = p[i].pcpu > maxp_old ? p[i].pcpu : maxp_old;
						maxp_new = c[i].pcpu > maxp_new ? c[i].pcpu : maxp_new;
					}
				lower = maxp_new < maxp_old;
				if (lower && replay(m, c, n, &v) && v.kind == want->kind) {
					memcpy(p, c, (size_t)n * sizeof(*c));
					changed = true;
				}
			}
		}
	}
	free(c);
	return n;
}

/* ---- entry points ---------------------------------------------------------- */

static uint32_t pick(int has, uint32_t opt, uint32_t scen, uint32_t def)
{
	if (has)
		return opt;
	return scen != VT_BOUND_UNSET ? scen : def;
}

enum vt_explore_status vt_explore(const struct vt_model *m, const struct vt_explore_opts *o,
				  struct vt_explore_result *r)
{
	memset(r, 0, sizeof(*r));
	struct search *S = calloc(1, sizeof(*S));
	if (!S) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		return r->status;
	}
	S->m = m;
	S->o = o;
	vt_explore_bounds(m, o, &S->b);
	r->bounds = S->b;
	S->symmetric = vt_explore_symmetric(m, o);
	/* a --dot graph keeps every edge */
	S->twins = S->symmetric && o->por && !o->dot_max;
	r->symmetric = S->symmetric;
	r->store = o->store;
	/* a lossy store cannot give back states: it runs depth-first */
	r->dfs = o->dfs || o->store != VT_STORE_EXACT;
	S->bfs = !r->dfs && !o->random_walks;
	pthread_mutex_init(&S->found_lock, NULL);
	pthread_mutex_init(&S->start_gate, NULL);
	pthread_mutex_init(&S->q_lock, NULL);
	pthread_cond_init(&S->q_cond, NULL);
	/* without a cap: 2 GiB, of which a bit array takes a quarter (2^31 bits) */
	S->vs = vt_visited_new(m, o->store, S->symmetric, o->max_memory ? o->max_memory : (2ull << 30), o->bitstate_k);
	if (!S->vs) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	if (o->dot_max && !o->random_walks && !(S->dot = vt_explore_dot_new(o->dot_max))) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	S->start = S->last_progress = now();
	int jobs = o->jobs > 1 ? o->jobs : 1;
	if (jobs > 64)
		jobs = 64;
	S->jobs = jobs;
	/* one worker: the store's locks are never contended (the main thread only waits for it) */
	vt_visited_single(S->vs, jobs == 1);

	struct vt_state *init = malloc(sizeof(*init));
	if (!init) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	vt_state_init(m, init);
	S->init = init;
	struct vt_verdict v0;
	vt_check(m, init, &v0);
	if (v0.kind != VT_V_OK) {
		/* the initial state itself violates: an empty counterexample cannot be shown as steps */
		r->status = VT_EXPLORE_ERROR;
		r->why = "the initial state already violates the invariant";
		free(init);
		goto done;
	}

	pthread_t th[64];
	int n;
	if (o->random_walks) {
		pthread_mutex_lock(&S->start_gate);
		n = start_workers(S, th, jobs, random_thread);
		pthread_mutex_unlock(&S->start_gate);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	} else if (!r->dfs) {
		struct vt_canon *c = vt_canon_new(S->vs);
		struct vt_key k;
		uint8_t extra;
		if (!c || vt_visited_keep_queue(S->vs) < 0 || vt_visited_key(S->vs, c, init, &k, NULL) < 0 ||
		    vt_visited_insert(S->vs, &k, 0, 0, &extra, NULL) != VT_VISIT_NEW) {
			S->why = "memory cap reached";
		} else {
			pthread_mutex_lock(&S->start_gate);
			n = start_workers(S, th, jobs, bfs_thread);
			/* the barrier counts the workers there are */
			if (n)
				pthread_barrier_init(&S->barrier, NULL, (unsigned)n);
			bfs_next_level(S, true);
			pthread_mutex_unlock(&S->start_gate);
			for (int i = 0; i < n; i++)
				pthread_join(th[i], NULL);
			if (n)
				pthread_barrier_destroy(&S->barrier);
			if (S->found && !S->error && bfs_path(S) < 0)
				stop_error(S, "the counterexample could not be rebuilt (out of memory?)");
		}
		vt_canon_free(c);
	} else if (!vt_visited_reserve(S->vs, sizeof(struct work))) {
		S->why = "memory cap reached";
	} else {
		struct work *w0 = malloc(sizeof(*w0));
		if (!w0) {
			r->status = VT_EXPLORE_ERROR;
			r->why = "out of memory";
			free(init);
			goto done;
		}
		memcpy(&w0->s, init, sizeof(*init));
		w0->depth = 0;
		w0->sleep = 0;
		w0->nprefix = 0;
		pthread_mutex_lock(&S->start_gate);
		n = start_workers(S, th, jobs, dfs_thread);
		S->nworkers = n;
		queue_push(S, w0);
		pthread_mutex_unlock(&S->start_gate);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		/* what a stopped search left queued: the memory reported is the store's */
		for (; S->nq > 0; S->nq--) {
			free(S->q[S->nq - 1]);
			vt_visited_unreserve(S->vs, sizeof(struct work));
		}
	}
	free(init);

	r->states = vt_visited_states(S->vs);
	r->transitions = atomic_load(&S->transitions);
	r->pruned = atomic_load(&S->pruned);
	r->checks = atomic_load(&S->checks);
	r->coverage = S->cov;
	r->dot = S->dot;
	r->dot_full = S->dot_full;
	S->dot = NULL;
	r->max_depth = atomic_load(&S->max_depth);
	r->memory = vt_visited_memory(S->vs);
	r->peak_memory = vt_visited_peak(S->vs);
	r->state_bytes = vt_visited_stored(S->vs);
	r->nodes = vt_visited_nodes(S->vs);
	r->omission = vt_visited_omission(S->vs);
	r->cut = atomic_load(&S->cut);
	r->walks = o->random_walks ? (atomic_load(&S->next_walk) < o->random_walks ? atomic_load(&S->next_walk)
										  : o->random_walks)
				   : 0;
	if (S->error) {
		r->status = VT_EXPLORE_ERROR;
		r->why = S->why;
	} else if (S->found) {
		r->status = VT_EXPLORE_VIOLATION;
		if (r->dot)
			dot_mark_path(S, r->dot);
		r->npath_found = S->npath;
		if (r->dfs && jobs > 1 && !o->random_walks)
			r->path_unstable = "depth-first with several jobs: the first violation a worker found";
		else if (o->random_walks && jobs > 1 && S->why)
			r->path_unstable = "the time limit can stop a lower-numbered walk before it finds its violation";
		else
			r->path_unstable = S->least_why;
		r->npath = o->shrink ? shrink(m, S->path, S->npath, &S->verdict) : S->npath;
		r->path = S->path;
		S->path = NULL;
		if (!replay(m, r->path, r->npath, &r->verdict))
			r->verdict = S->verdict;
	} else if (S->why) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = S->why;
	} else if (o->store != VT_STORE_EXACT && !o->random_walks) {
		/* a lossy search is never exhaustive: the tool prints the bound on an omission */
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = o->store == VT_STORE_HC ? "lossy search (hash compaction)" : "lossy search (bitstate hashing)";
	} else if (o->random_walks) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = "random mode samples interleavings; it proves nothing";
	} else {
		r->status = VT_EXPLORE_CLEAN;
	}
done:
	if (S->progress_shown) {
		fprintf(o->progress_out, "\r\033[K");
		fflush(o->progress_out);
	}
	r->seconds = now() - S->start;
	vt_visited_free(S->vs);
	for (int i = 0; i < S->nq; i++)
		free(S->q[i]);
	free(S->q);
	free(S->path);
	vt_explore_dot_free(S->dot);
	pthread_mutex_destroy(&S->found_lock);
	pthread_mutex_destroy(&S->start_gate);
	pthread_mutex_destroy(&S->q_lock);
	pthread_cond_destroy(&S->q_cond);
	enum vt_explore_status st = r->status;
	free(S);
	return st;
}

/* ---- for the other search drivers (explore_int.h) ------------------------- */

void vt_explore_bounds(const struct vt_model *m, const struct vt_explore_opts *o, struct vt_bounds *b)
{
	b->depth = pick(o->has_depth, o->bounds.depth, m->bounds.depth, VT_EXPLORE_DEFAULT_DEPTH);
	b->preemptions = pick(o->has_preemptions, o->bounds.preemptions, m->bounds.preemptions,
			      VT_EXPLORE_DEFAULT_PREEMPTIONS);
	b->migrations = pick(o->has_migrations, o->bounds.migrations, m->bounds.migrations,
			     VT_EXPLORE_DEFAULT_MIGRATIONS);
	if (b->depth > VT_EXPLORE_MAX_DEPTH)
		b->depth = VT_EXPLORE_MAX_DEPTH;
}

/*
 * The zero-run encoding: each nonzero 8-byte word is preceded by the
 * number of zero words before it (a run longer than 255 words is split),
 * and a last count ends it.
 */
size_t vt_explore_compress(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	unsigned z = 0;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, in + i, 8);
		if (!w && z < 255) {
			z++;
			continue;
		}
		out[o++] = (uint8_t)z;
		memcpy(out + o, &w, 8);
		o += 8;
		z = 0;
	}
	out[o++] = (uint8_t)z;
	return o;
}

bool vt_explore_symmetric(const struct vt_model *m, const struct vt_explore_opts *o)
{
	return o->symmetry && vt_symmetry_applies(m);
}

size_t vt_explore_canon(const struct vt_model *m, bool symmetric, const struct vt_state *s, struct vt_canon *c,
			uint8_t *buf, uint64_t *h)
{
	uint8_t g[sizeof(struct vt_state)];
	size_t n = vt_canon_model_bytes(m, symmetric, c, s, g, NULL);
	size_t len = vt_explore_compress(g, n, buf);
	*h = vt_canon_hash(buf, len);
	return len;
}

bool vt_explore_replay(const struct vt_model *m, const struct vt_event *p, int n, struct vt_verdict *out)
{
	return replay(m, p, n, out);
}

int vt_explore_shrink(const struct vt_model *m, struct vt_event *p, int n, const struct vt_verdict *want)
{
	return shrink(m, p, n, want);
}

void vt_explore_result_fini(struct vt_explore_result *r)
{
	free(r->path);
	r->path = NULL;
	vt_explore_dot_free(r->dot);
	r->dot = NULL;
}

int vt_explore_emit(FILE *f, const struct vt_model *m, struct vt_fixset cli_reverted, const struct vt_explore_result *r)
{
	FILE *in = fopen(m->file, "r");
	if (!in)
		return -1;
	char line[VT_MAX_LINE + 2];
	bool in_prog = false;
	while (fgets(line, sizeof(line), in)) {
		char w[32] = "";
		if (sscanf(line, " %31s", w) != 1) {
			fputs(line, f);
			continue;
		}
		if (in_prog) {
			if (strcmp(w, "end") == 0)
				in_prog = false;
			continue;
		}
		if (strcmp(w, "program") == 0) {
			in_prog = true;
			continue;
		}
		if (!strcmp(w, "bounds") || !strcmp(w, "phases") || !strcmp(w, "expect") || !strcmp(w, "schedule"))
			continue;
		fputs(line, f);
		if (!strchr(line, '\n'))
			fputc('\n', f);
	}
	fclose(in);
	fprintf(f, "\n# Counterexample found by 'vtlb explore' (%d step%s, shrunk from %d),\n", r->npath,
		r->npath == 1 ? "" : "s", r->npath_found);
	fprintf(f, "# one line per step; replay it with 'vtlb run'.\n");
	for (unsigned i = 0; i < VT_FIX_COUNT; i++)
		if (vt_fixset_has(cli_reverted, i) && vt_fix_info(i) && vt_fix_info(i)->arch == m->arch)
			fprintf(f, "revert %s\n", vt_fix_info(i)->name);
	fprintf(f, "schedule explicit\n");
	char buf[256];
	for (int i = 0; i < r->npath; i++) {
		vt_event_format(m, &r->path[i], buf, sizeof(buf));
		fprintf(f, "%s%s\n", buf, r->path[i].kind == VT_EV_HOST && (r->path[i].flags & VT_EVF_STEP) ? " phase" : "");
	}
	char vn[32];
	vt_model_vcpu_name(m, r->verdict.vcpu, vn, sizeof(vn));
	if (vt_events_fault(m, r->path, r->npath) > 0)
		fprintf(f, "expect fault                   # a program operation faults on this path\n");
	if (r->verdict.kind == VT_V_STALE) {
		const struct vt_pte *p = &m->pte[m->t[m->u[r->verdict.u].t].p];
		fprintf(f, "expect stale %s 0x%llx\n", vn, (unsigned long long)m->va[p->va]);
	} else {
		fprintf(f, "expect breach %s\n", vn);
	}
	return 0;
}
