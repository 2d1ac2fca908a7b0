/*
 * The explorer (see include/vtlb/explore.h).
 *
 * Search.  A depth-first search over state values.  The visited set keys a
 * state by a 64-bit hash of its canonical bytes and keeps those bytes
 * (zero-run compressed) so that a collision is resolved by comparison and
 * never skips a state.  Each entry remembers the smallest depth at which the
 * state was reached (a shallower revisit explores it again, with the larger
 * remaining budget) and its sleep set.
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
 * stuttering step early would not).  Shrinking keeps host operations: each
 * vCPU's and the host's operations must stay a prefix of their program.
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

#include "internal.h"
#include "vtlb/explore.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/trace.h"

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
static int put_choices(const struct vt_model *m, int v, struct vt_event *out, int n, int max)
{
	if (n < max)
		choice(&out[n++], VT_EV_PUT, v, -1, 0);
	if (vt_tracks_thread(m) && n < max)
		choice(&out[n++], VT_EV_PUT, v, -1, VT_EVF_USER);
	return n;
}

int vt_explore_choices(const struct vt_model *m, const struct vt_state *s, const struct vt_bounds *b,
		       struct vt_event *out, int max)
{
	int n = 0;
	/* never silently fewer choices than the state has */
	assert(max >= MAX_CHOICES);
	for (int v = 0; v < m->nvcpus; v++) {
		if (!m->nprog[v])
			continue;
		const struct vt_vcpu_state *vs = &s->vcpu[v];
		bool done = prog_done(m, s, v);
		bool may_put = s->preemptions < b->preemptions;
		/*
		 * A vCPU keeps running after its program ends (its guest idles), so
		 * scheduling never depends on how far the program got.
		 */
		switch (vs->run) {
		case VT_RUN_IDLE:
			for (int p = 0; p < m->npcpus && n < max; p++) {
				if (s->pcpu[p].vcpu >= 0 || !(m->vm[m->vcpu_vm[v]].pcpus & VT_BIT(p)))
					continue;
				if (vs->last_pcpu >= 0 && vs->last_pcpu != p && s->migrations >= b->migrations)
					continue;
				choice(&out[n++], VT_EV_LOAD, v, p, 0);
			}
			break;
		case VT_RUN_LOADED:
			if (n < max)
				choice(&out[n++], VT_EV_ENTER, v, -1, m->fine ? VT_EVF_STEP : 0);
			if (may_put)
				n = put_choices(m, v, out, n, max);
			break;
		case VT_RUN_GUEST:
			if (!done && n < max) {
				out[n] = m->prog[v][vs->pc];
				out[n].flags = 0;
				n++;
			}
			if (may_put)
				n = put_choices(m, v, out, n, max);
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
	return n;
}

enum vt_step_err vt_explore_apply(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev,
				  struct vt_trace *tr, struct vt_verdict *v)
{
	int w = ev->vcpu;
	bool migrating = ev->kind == VT_EV_LOAD && s->vcpu[w].last_pcpu >= 0 && s->vcpu[w].last_pcpu != ev->pcpu;
	bool preempting = ev->kind == VT_EV_PUT;
	enum vt_step_err e = vt_step(m, s, ev, tr, v);
	if (e != VT_STEP_OK)
		return e;
	if (ev->kind == VT_EV_GUEST && (ev->flags & VT_EVF_VMM))
		s->host_pc++;
	else if (ev->kind == VT_EV_GUEST)
		s->vcpu[w].pc++;
	else if (ev->kind == VT_EV_HOST && s->host_phase == 0)
		s->host_pc++;
	if (migrating && s->migrations < UINT8_MAX)
		s->migrations++;
	if (preempting && s->preemptions < UINT8_MAX)
		s->preemptions++;
	return VT_STEP_OK;
}

/* ---- canonical bytes, compression, hashing ------------------------------- */

/*
 * The canonical bytes, word by word: each non-zero 64-bit word is written
 * after the count of zero words before it (a byte; a run longer than 255
 * continues with a literal zero word), and the count of trailing zero words
 * ends the output.  Inputs have one fixed length, so the encoding is
 * injective: equal outputs mean equal states.  Returns the length.
 */
static size_t compress(const uint8_t *in, size_t n, uint8_t *out)
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

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h ^= w;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	uint64_t w = 0;
	memcpy(&w, p + i, n - i);
	h ^= w;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return h;
}

/* ---- the visited set ------------------------------------------------------ */

struct entry {
	uint64_t hash;       /* 0: empty */
	uint64_t off;        /* into the arena */
	uint16_t len;
	uint16_t depth;      /* smallest depth seen */
	uint8_t sleep;       /* guest transitions never explored from here */
	uint8_t pad[3];
};

/*
 * The visited set is split into independent stripes, each with its own
 * lock, table and arena; the top bits of a state's hash pick the stripe, so
 * workers rarely wait for each other.  Totals are atomic so that progress
 * reports can read them without a lock.
 */
#define NSTRIPES 64

struct stripe {
	pthread_mutex_t lock;
	struct entry *tab;
	size_t cap;          /* power of two */
	size_t used;
	uint8_t *arena;
	size_t arena_len;
	size_t arena_cap;
};

struct visited {
	struct stripe st[NSTRIPES];
	uint64_t max_memory;
	atomic_uint_fast64_t used;    /* states stored */
	atomic_uint_fast64_t memory;  /* bytes allocated */
	atomic_uint_fast64_t stored;  /* bytes used: compressed states and entries */
};

static int visited_init(struct visited *vs, uint64_t max_memory)
{
	memset(vs, 0, sizeof(*vs));
	vs->max_memory = max_memory;
	int ok = 1;
	for (int i = 0; i < NSTRIPES; i++) {
		struct stripe *t = &vs->st[i];
		pthread_mutex_init(&t->lock, NULL);
		t->cap = 1 << 8;
		t->tab = calloc(t->cap, sizeof(*t->tab));
		t->arena_cap = 1 << 14;
		t->arena = malloc(t->arena_cap);
		ok &= t->tab && t->arena;
		atomic_fetch_add(&vs->memory, t->cap * sizeof(struct entry) + t->arena_cap);
	}
	return ok ? 0 : -1;
}

static void visited_fini(struct visited *vs)
{
	for (int i = 0; i < NSTRIPES; i++) {
		free(vs->st[i].tab);
		free(vs->st[i].arena);
		pthread_mutex_destroy(&vs->st[i].lock);
	}
}

static uint64_t visited_memory(struct visited *vs)
{
	return atomic_load(&vs->memory);
}

/* Would allocating 'more' bytes pass the cap? */
static bool over_cap(struct visited *vs, uint64_t more)
{
	return atomic_load(&vs->memory) + more > vs->max_memory;
}

static int stripe_grow(struct visited *vs, struct stripe *t)
{
	size_t cap = t->cap * 2;
	if (over_cap(vs, (uint64_t)t->cap * sizeof(struct entry)))
		return -1;
	struct entry *n = calloc(cap, sizeof(*n));
	if (!n)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->tab[i].hash)
			continue;
		size_t j = t->tab[i].hash & (cap - 1);
		while (n[j].hash)
			j = (j + 1) & (cap - 1);
		n[j] = t->tab[i];
	}
	free(t->tab);
	t->tab = n;
	atomic_fetch_add(&vs->memory, (uint64_t)t->cap * sizeof(struct entry));
	t->cap = cap;
	return 0;
}

enum visit {
	VISIT_NEW,      /* explore every transition not asleep */
	VISIT_SHALLOWER,/* seen deeper before: explore every transition not asleep */
	VISIT_EXTRA,    /* explore only the guest transitions in *extra */
	VISIT_SKIP,
	VISIT_FULL,     /* the memory cap was reached */
};

static enum visit visited_check(struct visited *vs, const uint8_t *c, size_t len, uint64_t h, unsigned depth,
				uint8_t sleep, uint8_t *extra)
{
	if (!h)
		h = 1;
	enum visit r = VISIT_NEW;
	struct stripe *t = &vs->st[h >> 58];
	pthread_mutex_lock(&t->lock);
	size_t j = h & (t->cap - 1);
	for (;; j = (j + 1) & (t->cap - 1)) {
		struct entry *e = &t->tab[j];
		if (!e->hash)
			break;
		if (e->hash != h || e->len != len || memcmp(t->arena + e->off, c, len) != 0)
			continue;
		if (depth < e->depth) {
			e->depth = (uint16_t)depth;
			e->sleep = sleep;
			r = VISIT_SHALLOWER;
		} else {
			*extra = e->sleep & (uint8_t)~sleep;
			e->sleep &= sleep;
			r = *extra ? VISIT_EXTRA : VISIT_SKIP;
		}
		pthread_mutex_unlock(&t->lock);
		return r;
	}
	/* insert */
	if (over_cap(vs, 0))
		goto full;
	if (t->arena_len + len > t->arena_cap) {
		size_t cap = t->arena_cap * 2;
		uint8_t *a = NULL;
		if (!over_cap(vs, t->arena_cap))
			a = realloc(t->arena, cap);
		if (!a)
			goto full;
		atomic_fetch_add(&vs->memory, t->arena_cap);
		t->arena = a;
		t->arena_cap = cap;
	}
	if ((t->used + 1) * 4 > t->cap * 3) {
		if (stripe_grow(vs, t) < 0)
			goto full;
		j = h & (t->cap - 1);
		while (t->tab[j].hash)
			j = (j + 1) & (t->cap - 1);
	}
	struct entry *e = &t->tab[j];
	e->hash = h;
	e->off = t->arena_len;
	e->len = (uint16_t)len;
	e->depth = (uint16_t)depth;
	e->sleep = sleep;
	memcpy(t->arena + t->arena_len, c, len);
	t->arena_len += len;
	t->used++;
	atomic_fetch_add(&vs->used, 1);
	atomic_fetch_add(&vs->stored, len + sizeof(struct entry));
	pthread_mutex_unlock(&t->lock);
	return VISIT_NEW;
full:
	pthread_mutex_unlock(&t->lock);
	return VISIT_FULL;
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
	struct vt_event taken;   /* the event that led here */
};

struct search {
	const struct vt_model *m;
	const struct vt_explore_opts *o;
	struct vt_bounds b;
	int symmetric;
	atomic_uint_fast64_t checks;
	struct visited vs;
	atomic_int stop;
	atomic_uint_fast64_t transitions;
	atomic_uint_fast64_t pruned;
	atomic_uint max_depth;
	double start;
	double last_progress;
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
	atomic_int hungry;
	atomic_uint_fast64_t next_walk;
};

struct work {
	struct vt_state s;
	unsigned depth;
	uint8_t sleep;
	int nprefix;
	struct vt_event prefix[VT_EXPLORE_MAX_DEPTH];
};

/*
 * pCPU symmetry: pCPUs are interchangeable when each is its own TLB domain,
 * every VM may use every one, and the backend renames its own pCPU indices.
 * A state's representative sorts the pCPUs by what they hold (loaded vCPU,
 * tag, backend data, TLB contents, which vCPUs last ran there) and orders
 * pCPUs that tie by the least canonical bytes (see representative()), so
 * that it depends on the state alone: state counts do not depend on the
 * order in which a search (or its workers) reached the states.
 */
static bool symmetry_applies(const struct vt_model *m)
{
	if (!m->hv->permute_pcpus || m->npcpus < 2)
		return false;
	for (int p = 0; p < m->npcpus; p++)
		if (m->domain_of[p] != p)
			return false;
	uint64_t all = VT_BIT(m->npcpus) - 1;
	for (int i = 0; i < m->nvms; i++)
		if ((m->vm[i].pcpus & all) != all)
			return false;
	/* a host instrument names its pCPU: the pCPUs are no longer interchangeable */
	for (int i = 0; i < m->nprog[HOST]; i++)
		if (m->prog[HOST][i].op.code == VT_OP_HOST_INSN)
			return false;
	return true;
}

struct pkey {
	int p;
	uint64_t last;
	const struct vt_state *s;
};

/* Order pCPUs by what they hold; 0 for two pCPUs that tie. */
static int pkey_cmp_value(const struct pkey *x, const struct pkey *y)
{
	int c = memcmp(&x->s->pcpu[x->p], &y->s->pcpu[y->p], sizeof(x->s->pcpu[0]));
	if (!c)
		c = memcmp(&x->s->dom[x->p], &y->s->dom[y->p], sizeof(x->s->dom[0]));
	if (!c)
		c = x->last < y->last ? -1 : x->last > y->last;
	return c;
}

static int pkey_cmp(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;
	int c = pkey_cmp_value(x, y);
	return c ? c : x->p - y->p;
}

static size_t gather(const struct vt_model *m, const struct vt_state *s, uint8_t *out);

/* Does renaming pCPUs a and b into each other leave s as it is? */
static bool swap_is_automorphism(const struct vt_model *m, const struct vt_state *s, int a, int b,
				 struct vt_state *tmp)
{
	int8_t map[VT_MAX_PCPUS];
	for (int p = 0; p < m->npcpus; p++)
		map[p] = (int8_t)p;
	map[a] = (int8_t)b;
	map[b] = (int8_t)a;
	vt_state_permute_pcpus(m, s, tmp, map);
	return memcmp((const uint8_t *)tmp + VT_STATE_CANON_OFF, (const uint8_t *)s + VT_STATE_CANON_OFF,
		      VT_STATE_CANON_LEN) == 0;
}

struct sym_search {
	const struct vt_model *m;
	const struct vt_state *s;
	struct vt_state *cand;
	uint8_t *gbuf, *best;
	size_t nbest;
	int8_t order[VT_MAX_PCPUS];      /* pCPU placed at each sorted position */
	int8_t best_order[VT_MAX_PCPUS];
	int group[VT_MAX_PCPUS];         /* tie group of each sorted position */
	bool fixed[VT_MAX_PCPUS];        /* its group is fully symmetric: any order gives the same state */
	int8_t pool[VT_MAX_PCPUS];       /* the pCPUs of each sorted position's group, in sorted order */
};

/* Try every order of the non-symmetric tie groups from sorted position i on; keep the least bytes. */
static void sym_enumerate(struct sym_search *q, int i, uint32_t used)
{
	const struct vt_model *m = q->m;
	if (i == m->npcpus) {
		int8_t map[VT_MAX_PCPUS];
		for (int k = 0; k < m->npcpus; k++)
			map[q->order[k]] = (int8_t)k;
		vt_state_permute_pcpus(m, q->s, q->cand, map);
		size_t n = gather(m, q->cand, q->gbuf);
		if (!q->nbest || memcmp(q->gbuf, q->best, n) < 0) {
			memcpy(q->best, q->gbuf, n);
			q->nbest = n;
			memcpy(q->best_order, q->order, sizeof(q->order));
		}
		return;
	}
	if (q->fixed[i]) {
		q->order[i] = q->pool[i];
		sym_enumerate(q, i + 1, used);
		return;
	}
	for (int k = 0; k < m->npcpus; k++) {
		int p = q->pool[k];
		if (q->group[k] != q->group[i] || (used & (1u << p)))
			continue;
		q->order[i] = (int8_t)p;
		sym_enumerate(q, i + 1, used | (1u << p));
	}
}

/*
 * The representative of s's orbit under pCPU renaming, and the renaming
 * that reaches it (map[p]: the new index of pCPU p).  The pCPUs are sorted
 * by what they hold; pCPUs that tie are ordered so that the canonical bytes
 * are least.  A tie group whose members can be swapped without changing
 * the state (checked by swapping neighbours) is left in any order; only the
 * others are enumerated.  Every step depends on the state's value alone,
 * never on pCPU numbering, so every state of an orbit gets the same
 * representative, whatever order the search reached it in.
 */
static const struct vt_state *representative(const struct vt_model *m, const struct vt_state *s,
					     struct vt_state *tmp, struct vt_state *tmp2, uint8_t *gbuf,
					     uint8_t *best, int8_t *map)
{
	struct pkey k[VT_MAX_PCPUS];
	bool identity = true, ties = false;
	for (int p = 0; p < m->npcpus; p++) {
		k[p].p = p;
		k[p].s = s;
		k[p].last = 0;
		for (int v = 0; v < m->nvcpus; v++)
			if (s->vcpu[v].last_pcpu == p)
				k[p].last |= VT_BIT(v);
	}
	qsort(k, (size_t)m->npcpus, sizeof(k[0]), pkey_cmp);
	struct sym_search q = {.m = m, .s = s, .cand = tmp2, .gbuf = gbuf, .best = best};
	int g = 0;
	for (int i = 0; i < m->npcpus; i++) {
		if (i > 0 && pkey_cmp_value(&k[i - 1], &k[i]) != 0)
			g++;
		q.group[i] = g;
		q.pool[i] = (int8_t)k[i].p;
		q.fixed[i] = true;
	}
	for (int i = 1; i < m->npcpus; i++) {
		if (q.group[i] != q.group[i - 1])
			continue;
		ties = true;
		if (!swap_is_automorphism(m, s, k[i - 1].p, k[i].p, tmp2))
			for (int j = 0; j < m->npcpus; j++)
				if (q.group[j] == q.group[i])
					q.fixed[j] = false;
	}
	bool enumerate = false;
	for (int i = 0; i < m->npcpus; i++)
		enumerate |= !q.fixed[i];
	if (ties && enumerate) {
		sym_enumerate(&q, 0, 0);
		for (int i = 0; i < m->npcpus; i++)
			k[i].p = q.best_order[i];
	}
	for (int i = 0; i < m->npcpus; i++) {
		map[k[i].p] = (int8_t)i;
		identity &= k[i].p == i;
	}
	if (identity)
		return s;
	vt_state_permute_pcpus(m, s, tmp, map);
	return tmp;
}

/*
 * The identity of a state: its canonical part, less the array elements the
 * model never uses (VMs, vCPUs, pCPUs and TLB domains beyond its counts),
 * which are the same in every state of a search.  Each section is a whole
 * number of 8-byte words.
 */
static size_t gather(const struct vt_model *m, const struct vt_state *s, uint8_t *out)
{
	size_t g = 0;
#define GATHER(from, bytes)                              \
	do {                                             \
		memcpy(out + g, (from), (bytes));         \
		g += (bytes);                            \
	} while (0)
	GATHER((const uint8_t *)s + VT_STATE_CANON_OFF, offsetof(struct vt_state, vm) - VT_STATE_CANON_OFF);
	GATHER(s->vm, (size_t)m->nvms * sizeof(s->vm[0]));
	GATHER(s->vcpu, (size_t)m->nvcpus * sizeof(s->vcpu[0]));
	GATHER(s->pcpu, (size_t)m->npcpus * sizeof(s->pcpu[0]));
	GATHER(s->dom, (size_t)m->ndomains * sizeof(s->dom[0]));
#undef GATHER
	return g;
}

static size_t canon(const struct search *S, const struct vt_state *s, struct vt_state *tmp, struct vt_state *tmp2,
		    uint8_t *buf, uint64_t *h)
{
	const struct vt_model *m = S->m;
	uint8_t g1[sizeof(struct vt_state)], g2[sizeof(struct vt_state)];
	int8_t map[VT_MAX_PCPUS];
	if (S->symmetric)
		s = representative(m, s, tmp, tmp2, g1, g2, map);
	size_t g = gather(m, s, g1);
	size_t n = compress(g1, g, buf);
	*h = hash_bytes(buf, n);
	return n;
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

static void progress(struct search *S)
{
	if (!S->o->progress || pthread_mutex_trylock(&S->found_lock) != 0)
		return;
	double t = now();
	if (t - S->last_progress >= 1.0) {
		S->last_progress = t;
		uint64_t states = atomic_load(&S->vs.used), mem = visited_memory(&S->vs);
		fprintf(S->o->progress_out,
			"vtlb explore: %llu states (%.0f/s), %llu transitions, depth %u, %.1f MiB, %.1f s\n",
			(unsigned long long)states, (double)states / (t - S->start),
			(unsigned long long)atomic_load(&S->transitions), atomic_load(&S->max_depth),
			(double)mem / 1048576.0, t - S->start);
		fflush(S->o->progress_out);
	}
	pthread_mutex_unlock(&S->found_lock);
}

static bool check_limits(struct search *S)
{
	if (atomic_load(&S->stop))
		return true;
	if ((atomic_load(&S->transitions) & 1023) == 0) {
		if (S->o->time_limit > 0 && now() - S->start > S->o->time_limit) {
			pthread_mutex_lock(&S->found_lock);
			if (!S->why)
				S->why = "time limit reached";
			pthread_mutex_unlock(&S->found_lock);
			atomic_store(&S->stop, 1);
			wake_all(S);
			return true;
		}
		progress(S);
	}
	return false;
}

/*
 * Are guest events a and b (of different vCPUs) independent at s?  sa is
 * s after a (already computed).
 */
static bool independent(struct search *S, const struct vt_state *s, const struct vt_state *sa,
			const struct vt_event *a, const struct vt_event *b, struct vt_state *tmp1,
			struct vt_state *tmp2)
{
	const struct vt_model *m = S->m;
	struct vt_verdict v;
	memcpy(tmp1, sa, sizeof(*tmp1));
	if (vt_explore_apply(m, tmp1, b, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	memcpy(tmp2, s, sizeof(*tmp2));
	if (vt_explore_apply(m, tmp2, b, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	if (vt_explore_apply(m, tmp2, a, NULL, &v) != VT_STEP_OK || v.kind != VT_V_OK)
		return false;
	atomic_fetch_add(&S->checks, 1);
	return memcmp((const uint8_t *)tmp1 + VT_STATE_CANON_OFF, (const uint8_t *)tmp2 + VT_STATE_CANON_OFF,
		      VT_STATE_CANON_LEN) == 0;
}

struct worker {
	struct search *S;
	struct frame *fr;        /* [depth bound + 1] */
	uint8_t *cbuf;
	struct vt_state *tmp1, *tmp2, *child;
	const struct vt_event *prefix;
	int nprefix;
	unsigned base;           /* depth of fr[0] */
};

static bool donate(struct worker *W, int k, const struct vt_state *child, const struct vt_event *c, uint8_t sleep);

/* Explore from fr[k] (its state is set), with sleep set 'sleep'. */
static void dfs(struct worker *W, int k, uint8_t sleep)
{
	struct search *S = W->S;
	const struct vt_model *m = S->m;
	struct frame *f = &W->fr[k];
	unsigned depth = W->base + (unsigned)k;
	if (check_limits(S))
		return;
	unsigned md = atomic_load(&S->max_depth);
	while (depth > md && !atomic_compare_exchange_weak(&S->max_depth, &md, depth))
		;
	uint64_t h;
	size_t len = canon(S, &f->s, W->tmp1, W->child, W->cbuf, &h);
	uint8_t extra = 0;
	/*
	 * At the depth bound nothing will be explored from here: record the
	 * state as if every transition were asleep, so that its stored sleep
	 * set still says what was never explored.
	 */
	bool at_bound = depth >= S->b.depth;
	enum visit vis = visited_check(&S->vs, W->cbuf, len, h, depth, at_bound ? 0xff : sleep, &extra);
	if (vis == VISIT_SKIP)
		return;
	if (vis == VISIT_FULL) {
		pthread_mutex_lock(&S->found_lock);
		if (!S->why)
			S->why = "memory cap reached";
		pthread_mutex_unlock(&S->found_lock);
		atomic_store(&S->stop, 1);
		wake_all(S);
		return;
	}
	if (at_bound)
		return;
	f->n = vt_explore_choices(m, &f->s, &S->b, f->choice, MAX_CHOICES);
	uint8_t done = 0; /* guest transitions explored so far from here */
	for (int i = 0; i < f->n && !atomic_load(&S->stop); i++) {
		const struct vt_event *c = &f->choice[i];
		bool guest = c->kind == VT_EV_GUEST;
		uint8_t bit = guest ? (uint8_t)(1u << c->vcpu) : 0;
		if (guest && (sleep & bit)) {
			atomic_fetch_add(&S->pruned, 1);
			continue;
		}
		if (vis == VISIT_EXTRA && !(guest && (extra & bit)))
			continue;
		struct frame *g = &W->fr[k + 1];
		memcpy(&g->s, &f->s, sizeof(g->s));
		struct vt_verdict v;
		enum vt_step_err e = vt_explore_apply(m, &g->s, c, NULL, &v);
		atomic_fetch_add(&S->transitions, 1);
		if (e == VT_STEP_ERR_LIMIT) {
			stop_error(S, vt_limit_str(g->s.meta.limit));
			return;
		}
		if (e != VT_STEP_OK)
			continue;
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
				if (independent(S, &f->s, &g->s, c, b, W->tmp1, W->tmp2))
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
	W->cbuf = malloc(2 * VT_STATE_CANON_LEN + 16);
	W->tmp1 = malloc(sizeof(struct vt_state));
	W->tmp2 = malloc(sizeof(struct vt_state));
	W->child = malloc(sizeof(struct vt_state));
	return W->fr && W->cbuf && W->tmp1 && W->tmp2 && W->child ? 0 : -1;
}

static void worker_fini(struct worker *W)
{
	free(W->fr);
	free(W->cbuf);
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
	if (atomic_load(&S->hungry) == 0)
		return false;
	struct work *w = malloc(sizeof(*w));
	if (!w)
		return false;
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
		return false;
	}
	return true;
}

static void *dfs_thread(void *arg)
{
	struct search *S = arg;
	struct worker W;
	if (worker_init(&W, S) < 0) {
		stop_error(S, "out of memory");
		worker_fini(&W);
		wake_all(S);
		return NULL;
	}
	struct work *w;
	while ((w = queue_pop(S))) {
		memcpy(&W.fr[0].s, &w->s, sizeof(w->s));
		W.prefix = w->prefix;
		W.nprefix = w->nprefix;
		W.base = w->depth;
		dfs(&W, 0, w->sleep);
		free(w);
	}
	worker_fini(&W);
	return NULL;
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
	const struct vt_model *m = S->m;
	struct vt_state *s = malloc(sizeof(*s));
	struct vt_state *init = malloc(sizeof(*init));
	struct vt_event *path = malloc(S->b.depth * sizeof(*path) + sizeof(*path));
	struct vt_event ch[MAX_CHOICES];
	if (!s || !init || !path) {
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
			enum vt_step_err e = vt_explore_apply(m, s, c, NULL, &v);
			atomic_fetch_add(&S->transitions, 1);
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
		if (check_limits(S))
			break;
	}
out:
	free(s);
	free(init);
	free(path);
	return NULL;
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
	S->b.depth = pick(o->has_depth, o->bounds.depth, m->bounds.depth, VT_EXPLORE_DEFAULT_DEPTH);
	S->b.preemptions = pick(o->has_preemptions, o->bounds.preemptions, m->bounds.preemptions,
				VT_EXPLORE_DEFAULT_PREEMPTIONS);
	S->b.migrations = pick(o->has_migrations, o->bounds.migrations, m->bounds.migrations,
			       VT_EXPLORE_DEFAULT_MIGRATIONS);
	if (S->b.depth > VT_EXPLORE_MAX_DEPTH)
		S->b.depth = VT_EXPLORE_MAX_DEPTH;
	r->bounds = S->b;
	S->symmetric = o->symmetry && symmetry_applies(m);
	r->symmetric = S->symmetric;
	pthread_mutex_init(&S->found_lock, NULL);
	pthread_mutex_init(&S->q_lock, NULL);
	pthread_cond_init(&S->q_cond, NULL);
	if (visited_init(&S->vs, o->max_memory ? o->max_memory : (2ull << 30)) < 0) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	S->start = S->last_progress = now();
	int jobs = o->jobs > 1 ? o->jobs : 1;
	if (jobs > 64)
		jobs = 64;

	struct vt_state *init = malloc(sizeof(*init));
	if (!init) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	vt_state_init(m, init);
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
	if (o->random_walks) {
		for (int i = 0; i < jobs; i++)
			pthread_create(&th[i], NULL, random_thread, S);
		for (int i = 0; i < jobs; i++)
			pthread_join(th[i], NULL);
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
		S->nworkers = jobs;
		queue_push(S, w0);
		for (int i = 0; i < jobs; i++)
			pthread_create(&th[i], NULL, dfs_thread, S);
		for (int i = 0; i < jobs; i++)
			pthread_join(th[i], NULL);
	}
	free(init);

	r->states = atomic_load(&S->vs.used);
	r->transitions = atomic_load(&S->transitions);
	r->pruned = atomic_load(&S->pruned);
	r->checks = atomic_load(&S->checks);
	r->max_depth = atomic_load(&S->max_depth);
	r->memory = visited_memory(&S->vs);
	r->state_bytes = atomic_load(&S->vs.stored);
	r->walks = o->random_walks ? (atomic_load(&S->next_walk) < o->random_walks ? atomic_load(&S->next_walk)
										  : o->random_walks)
				   : 0;
	if (S->error) {
		r->status = VT_EXPLORE_ERROR;
		r->why = S->why;
	} else if (S->found) {
		r->status = VT_EXPLORE_VIOLATION;
		r->npath_found = S->npath;
		r->npath = o->shrink ? shrink(m, S->path, S->npath, &S->verdict) : S->npath;
		r->path = S->path;
		S->path = NULL;
		if (!replay(m, r->path, r->npath, &r->verdict))
			r->verdict = S->verdict;
	} else if (S->why) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = S->why;
	} else if (o->random_walks) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = "random mode samples interleavings; it proves nothing";
	} else {
		r->status = VT_EXPLORE_CLEAN;
	}
done:
	r->seconds = now() - S->start;
	visited_fini(&S->vs);
	for (int i = 0; i < S->nq; i++)
		free(S->q[i]);
	free(S->q);
	free(S->path);
	pthread_mutex_destroy(&S->found_lock);
	pthread_mutex_destroy(&S->q_lock);
	pthread_cond_destroy(&S->q_cond);
	enum vt_explore_status st = r->status;
	free(S);
	return st;
}

void vt_explore_result_fini(struct vt_explore_result *r)
{
	free(r->path);
	r->path = NULL;
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
		if (vt_fixset_has(cli_reverted, i) && vt_fix_info(i))
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
