/*
 * Unit tests of the distributed explorer (vt_explore_dist) without MPI:
 * the ranks are threads joined by an in-process transport with the same
 * contract as tools/vtlb_mpi.c (per-pair FIFO, nonblocking sends,
 * collective reductions), so the layered search, its termination, the
 * trace-back across ranks and swarm mode run under the sanitizers of
 * `make check` whether or not MPI is installed.
 *
 * dist.count: the hand-counted space of explore.count ((k + 3)^2 states,
 * depth 2 (k + 2)) on 1 to 4 ranks.  dist.same: every bundled exploration
 * scenario named below stores exactly the states the depth-first search
 * stores (pCPU symmetry off: its representatives may depend on arrival
 * order).  dist.violation: with the fix reverted every rank count finds the
 * violation at the shortest depth, the same counterexample (unshrunk), and
 * it replays.
 * dist.swarm: a swarm's results do not depend on the number of ranks.
 * dist.cap: a memory cap ends every rank INCOMPLETE, never clean, never hung.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/dist.h"
#include "vtlb/explore.h"
#include "vtlb/fixes.h"
#include "vtlb/vtlb.h"

#define MAXR 4

/* ---- the in-process transport ---------------------------------------------- */

struct msg {
	struct msg *next;
	int from;
	void *buf;
	size_t len;
};

#define ACC_MAX ((int)(sizeof(struct vt_explore_coverage) / sizeof(uint64_t)))

struct hub {
	int n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct msg *head[MAXR], *tail[MAXR];
	size_t inflight[MAXR];       /* bytes sent by rank i, not yet received */
	uint64_t acc[ACC_MAX], res[ACC_MAX]; /* all-reduce: the largest is the search coverage */
	int arrived;
	unsigned gen;
	void *bc;
};

struct tnet {
	struct vt_net net;
	struct hub *h;
};

static int t_send(void *ctx, int to, void *buf, size_t len)
{
	struct tnet *t = ctx;
	struct hub *h = t->h;
	struct msg *m = malloc(sizeof(*m));
	if (!m) {
		free(buf);
		return -1;
	}
	m->next = NULL;
	m->from = t->net.rank;
	m->buf = buf;
	m->len = len;
	pthread_mutex_lock(&h->lock);
	if (h->tail[to])
		h->tail[to]->next = m;
	else
		h->head[to] = m;
	h->tail[to] = m;
	h->inflight[t->net.rank] += len;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

static int t_recv(void *ctx, int block, int *from, void **buf, size_t *len)
{
	struct tnet *t = ctx;
	struct hub *h = t->h;
	int me = t->net.rank;
	pthread_mutex_lock(&h->lock);
	while (block && !h->head[me])
		pthread_cond_wait(&h->cond, &h->lock);
	struct msg *m = h->head[me];
	if (m) {
		h->head[me] = m->next;
		if (!m->next)
			h->tail[me] = NULL;
		h->inflight[m->from] -= m->len;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	if (!m)
		return 0;
	*from = m->from;
	*buf = m->buf;
	*len = m->len;
	free(m);
	return 1;
}

static size_t t_pending(void *ctx)
{
	struct tnet *t = ctx;
	pthread_mutex_lock(&t->h->lock);
	size_t n = t->h->inflight[t->net.rank];
	pthread_mutex_unlock(&t->h->lock);
	return n;
}

static int t_flush(void *ctx)
{
	struct tnet *t = ctx;
	pthread_mutex_lock(&t->h->lock);
	while (t->h->inflight[t->net.rank])
		pthread_cond_wait(&t->h->cond, &t->h->lock);
	pthread_mutex_unlock(&t->h->lock);
	return 0;
}

/* Every rank arrives; the last one publishes; all leave with the result. */
static void t_barrier(struct hub *h)
{
	unsigned gen = h->gen;
	if (++h->arrived == h->n) {
		memcpy(h->res, h->acc, sizeof(h->res));
		h->arrived = 0;
		h->gen++;
		pthread_cond_broadcast(&h->cond);
	} else {
		while (h->gen == gen)
			pthread_cond_wait(&h->cond, &h->lock);
	}
}

static int t_allreduce(void *ctx, uint64_t *v, int n, enum vt_net_op op)
{
	struct tnet *t = ctx;
	struct hub *h = t->h;
	if (n > ACC_MAX)
		return -1;
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < n; i++) {
		if (!h->arrived)
			h->acc[i] = v[i];
		else if (op == VT_NET_SUM)
			h->acc[i] += v[i];
		else if (op == VT_NET_MAX)
			h->acc[i] = v[i] > h->acc[i] ? v[i] : h->acc[i];
		else
			h->acc[i] = v[i] < h->acc[i] ? v[i] : h->acc[i];
	}
	t_barrier(h);
	memcpy(v, h->res, (size_t)n * sizeof(*v));
	pthread_mutex_unlock(&h->lock);
	return 0;
}

static int t_bcast(void *ctx, int root, void *buf, size_t len)
{
	struct tnet *t = ctx;
	struct hub *h = t->h;
	pthread_mutex_lock(&h->lock);
	if (t->net.rank == root)
		h->bc = buf;
	t_barrier(h);
	if (t->net.rank != root)
		memcpy(buf, h->bc, len);
	t_barrier(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* ---- running a search on n thread ranks ------------------------------------ */

struct rank_run {
	struct tnet t;
	const struct vt_model *m;
	const struct vt_explore_opts *o;
	struct vt_dist_opts d;
	struct vt_explore_result r;
};

static void *rank_main(void *arg)
{
	struct rank_run *rr = arg;
	vt_explore_dist(rr->m, rr->o, &rr->d, &rr->r);
	return NULL;
}

/*
 * Explore m on n ranks; *r is rank 0's result.  Returns 1 when every rank
 * reported the same status, states and transitions.
 */
static int run_ranks(const struct vt_model *m, const struct vt_explore_opts *o, int n, uint64_t swarm,
		     struct vt_explore_result *r)
{
	struct hub h;
	struct rank_run rr[MAXR];
	pthread_t th[MAXR];
	memset(&h, 0, sizeof(h));
	h.n = n;
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.cond, NULL);
	for (int i = 0; i < n; i++) {
		memset(&rr[i], 0, sizeof(rr[i]));
		rr[i].t.h = &h;
		rr[i].t.net = (struct vt_net){
			.rank = i,
			.size = n,
			.ctx = &rr[i].t,
			.send = t_send,
			.recv = t_recv,
			.pending = t_pending,
			.flush = t_flush,
			.allreduce = t_allreduce,
			.bcast = t_bcast,
		};
		rr[i].m = m;
		rr[i].o = o;
		rr[i].d.net = &rr[i].t.net;
		rr[i].d.swarm = swarm;
		rr[i].d.swarm_states = 40;
		rr[i].d.batch = 512; /* small batches: many messages, many interleavings */
		pthread_create(&th[i], NULL, rank_main, &rr[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	int same = 1;
	for (int i = 1; i < n; i++) {
		same &= rr[i].r.status == rr[0].r.status && rr[i].r.states == rr[0].r.states &&
			rr[i].r.transitions == rr[0].r.transitions && rr[i].r.npath == rr[0].r.npath;
		vt_explore_result_fini(&rr[i].r);
	}
	*r = rr[0].r;
	for (int i = 0; i < MAXR; i++)
		if (h.head[i])
			same = 0; /* a message nobody received */
	pthread_mutex_destroy(&h.lock);
	pthread_cond_destroy(&h.cond);
	return same;
}

static struct vt_explore_opts opts(void)
{
	struct vt_explore_opts o;
	memset(&o, 0, sizeof(o));
	o.por = 1;
	o.symmetry = 0;
	o.shrink = 1;
	o.seed = 7;
	return o;
}

/* ---- the tests -------------------------------------------------------------- */

static void test_count(int k)
{
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "arch x86 vmx ept\n"
			 "machine pcpus 2\n"
			 "vm a vcpus 1 pcpus 0\n"
			 "vm b vcpus 1 pcpus 1\n"
			 "space A vm a pcid 0\n"
			 "space B vm b pcid 0\n"
			 "map A 0x1000 -> 0x5000\n"
			 "map B 0x1000 -> 0x6000\n"
			 "vcpu a.0 long cr3 A\n"
			 "vcpu b.0 long cr3 B\n"
			 "bounds depth 100 preemptions 0 migrations 0\n");
	for (int v = 0; v < 2; v++) {
		n += snprintf(text + n, sizeof(text) - (size_t)n, "program %s\n", v ? "b.0" : "a.0");
		for (int i = 0; i < k; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "invlpg 0x2000\n");
		n += snprintf(text + n, sizeof(text) - (size_t)n, "end\n");
	}
	struct vt_model *m = tap_parse(text, VT_FIXSET_NONE);
	if (!tap_ok(m != NULL, "dist.count.k%d.parses", k))
		return;
	struct vt_explore_opts o = opts();
	for (int ranks = 1; ranks <= MAXR; ranks++) {
		struct vt_explore_result r;
		int same = run_ranks(m, &o, ranks, 0, &r);
		uint64_t want = (uint64_t)(k + 3) * (uint64_t)(k + 3);
		tap_ok(same, "dist.count.k%d.r%d.ranks-agree", k, ranks);
		tap_ok(r.status == VT_EXPLORE_CLEAN, "dist.count.k%d.r%d.clean", k, ranks);
		tap_ok(r.states == want, "dist.count.k%d.r%d.states (%llu, want %llu)", k, ranks,
		       (unsigned long long)r.states, (unsigned long long)want);
		/* breadth-first: each state expanded once, so every transition is counted once */
		tap_ok(r.transitions == (uint64_t)(2 * (k + 2) * (k + 3)), "dist.count.k%d.r%d.transitions (%llu)", k,
		       ranks, (unsigned long long)r.transitions);
		tap_ok(r.max_depth == (uint32_t)(2 * (k + 2)), "dist.count.k%d.r%d.depth (%u)", k, ranks, r.max_depth);
		vt_explore_result_fini(&r);
	}
	/* a depth bound below the deepest state: exactly the states within it */
	o.has_depth = 1;
	o.bounds.depth = 3;
	struct vt_explore_result r1, r3;
	vt_explore(m, &o, &r1);
	run_ranks(m, &o, 3, 0, &r3);
	tap_ok(r3.states == r1.states && r3.status == VT_EXPLORE_CLEAN,
	       "dist.count.k%d.depth3.same-as-dfs (%llu vs %llu)", k, (unsigned long long)r3.states,
	       (unsigned long long)r1.states);
	vt_explore_result_fini(&r1);
	vt_explore_result_fini(&r3);
	vt_model_free(m);
}

static const char *const files[] = {
	"scenarios/explore/vmx-migrate-flush.vtlb",
	"scenarios/explore/svm-cpu-new-asid.vtlb",
	"scenarios/explore/arm64-vmid-lockless.vtlb",
	"scenarios/explore/ppc-smt8.vtlb",
};

static void test_same(const char *file)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_load(file, VT_FIXSET_NONE, &d);
	const char *name = strrchr(file, '/') + 1;
	if (!tap_ok(m != NULL, "dist.same.%s.loads", name))
		return;
	struct vt_explore_opts o = opts();
	struct vt_explore_result r1, rn;
	vt_explore(m, &o, &r1);
	for (int ranks = 1; ranks <= MAXR; ranks += 1 + (ranks > 1)) {
		int same = run_ranks(m, &o, ranks, 0, &rn);
		tap_ok(same, "dist.same.%s.r%d.ranks-agree", name, ranks);
		tap_ok(rn.status == VT_EXPLORE_CLEAN && r1.status == VT_EXPLORE_CLEAN, "dist.same.%s.r%d.clean", name,
		       ranks);
		tap_ok(rn.states == r1.states, "dist.same.%s.r%d.states (%llu, dfs %llu)", name, ranks,
		       (unsigned long long)rn.states, (unsigned long long)r1.states);
		/* coverage: the same operations reached and decisions taken (counts differ: no sleep sets) */
		int cov_same = 1;
		const uint64_t *a = (const uint64_t *)&rn.coverage, *b = (const uint64_t *)&r1.coverage;
		for (size_t i = 0; i < sizeof(rn.coverage) / sizeof(uint64_t); i++)
			cov_same &= !a[i] == !b[i];
		tap_ok(cov_same, "dist.same.%s.r%d.coverage-agrees-with-dfs", name, ranks);
		vt_explore_result_fini(&rn);
	}
	vt_explore_result_fini(&r1);

	/* the fix the scenario names, reverted: a violation, at the shortest depth, on any rank count */
	int fix = m->pins[0];
	vt_model_free(m);
	if (fix < 0 || vt_fix_info((unsigned)fix)->kind == VT_FIX_COST)
		return;
	struct vt_fixset rev = VT_FIXSET_NONE;
	vt_fixset_add(&rev, (unsigned)fix);
	m = vt_scenario_load(file, rev, &d);
	if (!m)
		return;
	o.shrink = 0;
	struct vt_explore_result base;
	run_ranks(m, &o, 1, 0, &base);
	for (int ranks = 1; ranks <= MAXR; ranks += 2) {
		struct vt_explore_result rv;
		run_ranks(m, &o, ranks, 0, &rv);
		struct vt_verdict v;
		tap_ok(rv.status == VT_EXPLORE_VIOLATION, "dist.violation.%s.r%d.found", name, ranks);
		tap_ok(rv.npath > 0 && rv.npath == base.npath, "dist.violation.%s.r%d.shortest (%d steps, 1 rank %d)",
		       name, ranks, rv.npath, base.npath);
		struct vt_run_result *run = malloc(sizeof(*run));
		int replays = run && vt_run_events(m, rv.path, rv.npath, run, &d) == VT_FAIL && run->verdict.kind != VT_V_OK;
		tap_ok(replays, "dist.violation.%s.r%d.replays", name, ranks);
		/* the least choices among the shortest paths, whichever rank found a violation first */
		int same_path = rv.npath == base.npath;
		for (int j = 0; same_path && j < rv.npath; j++) {
			char x[256], y[256];
			vt_event_format(m, &rv.path[j], x, sizeof(x));
			vt_event_format(m, &base.path[j], y, sizeof(y));
			same_path = strcmp(x, y) == 0;
		}
		tap_ok(same_path, "dist.violation.%s.r%d.same-counterexample", name, ranks);
		if (run)
			vt_run_result_fini(run);
		free(run);
		(void)v;
		vt_explore_result_fini(&rv);
	}
	vt_explore_result_fini(&base);
	vt_model_free(m);
}

static void test_swarm(void)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_load(files[0], VT_FIXSET_NONE, &d);
	if (!tap_ok(m != NULL, "dist.swarm.loads"))
		return;
	struct vt_explore_opts o = opts();
	struct vt_explore_result r1, r3, all;
	run_ranks(m, &o, 1, 6, &r1);
	int same = run_ranks(m, &o, 3, 6, &r3);
	tap_ok(same, "dist.swarm.ranks-agree");
	tap_ok(r1.status == VT_EXPLORE_INCOMPLETE && r3.status == VT_EXPLORE_INCOMPLETE,
	       "dist.swarm.never-exhaustive");
	tap_ok(r1.states == r3.states && r1.transitions == r3.transitions,
	       "dist.swarm.same-on-1-and-3-ranks (%llu states, %llu transitions)", (unsigned long long)r1.states,
	       (unsigned long long)r3.states);
	vt_explore(m, &o, &all);
	tap_ok(r1.states > 40 && r1.states <= all.states, "dist.swarm.coverage-within-space (%llu of %llu)",
	       (unsigned long long)r1.states, (unsigned long long)all.states);
	o.seed = 8;
	struct vt_explore_result r2;
	run_ranks(m, &o, 2, 6, &r2);
	tap_ok(r2.transitions != r1.transitions || r2.states != r1.states, "dist.swarm.seed-matters");
	vt_explore_result_fini(&r1);
	vt_explore_result_fini(&r2);
	vt_explore_result_fini(&r3);
	vt_explore_result_fini(&all);
	vt_model_free(m);

	struct vt_fixset rev = VT_FIXSET_NONE;
	vt_fixset_add(&rev, VT_FIX_X86_VMX_MIGRATE_FLUSH);
	m = vt_scenario_load(files[0], rev, &d);
	if (!m)
		return;
	o.seed = 7;
	run_ranks(m, &o, 1, 6, &r1);
	run_ranks(m, &o, 3, 6, &r3);
	tap_ok(r1.status == VT_EXPLORE_VIOLATION && r3.status == VT_EXPLORE_VIOLATION && r1.swarm_found > 0 &&
		       r1.swarm_found == r3.swarm_found && r1.npath == r3.npath,
	       "dist.swarm.violation-same-on-1-and-3-ranks (%llu searches found it)",
	       (unsigned long long)r1.swarm_found);
	vt_explore_result_fini(&r1);
	vt_explore_result_fini(&r3);
	vt_model_free(m);
}

static void test_cap(void)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_load("scenarios/explore/ppc-smt8.vtlb", VT_FIXSET_NONE, &d);
	if (!tap_ok(m != NULL, "dist.cap.loads"))
		return;
	struct vt_explore_opts o = opts();
	for (int ranks = 1; ranks <= 2; ranks++) {
		struct vt_explore_result r;
		o.max_memory = 0;
		run_ranks(m, &o, ranks, 0, &r);
		/* memory: the ranks' peaks summed; peak_memory: the largest */
		tap_ok(r.status == VT_EXPLORE_CLEAN && r.peak_memory <= r.memory &&
			       r.peak_memory * (uint64_t)ranks >= r.memory,
		       "dist.cap.r%d.uncapped-clean", ranks);
		/* half of what a rank held at most */
		o.max_memory = r.peak_memory / 2;
		vt_explore_result_fini(&r);
		int same = run_ranks(m, &o, ranks, 0, &r);
		tap_ok(same, "dist.cap.r%d.ranks-agree", ranks);
		tap_ok(r.status == VT_EXPLORE_INCOMPLETE, "dist.cap.r%d.incomplete", ranks);
		tap_ok(r.peak_memory <= o.max_memory, "dist.cap.r%d.within-cap (%llu of %llu bytes)", ranks,
		       (unsigned long long)r.peak_memory, (unsigned long long)o.max_memory);
		vt_explore_result_fini(&r);
	}
	vt_model_free(m);
}

int main(void)
{
	test_count(1);
	test_count(3);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		test_same(files[i]);
	test_swarm();
	test_cap();
	return tap_done();
}
