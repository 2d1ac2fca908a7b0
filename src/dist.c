/*
 * The explorer over many ranks: the layered breadth-first search with
 * states partitioned by hash, and swarm mode (see include/vtlb/dist.h).
 *
 * A state belongs to the rank its hash picks: the hash of its canonical
 * bytes (vt_explore_canon), the same in every process.  Each rank keeps
 * the states it owns in the explorer's own exact store (visited.c: tree
 * compressed, its sections and nodes interned in tables of this rank's),
 * keyed from the state's value when it arrives, and beside it the
 * reference to the state each was first reached from, by entry number
 * (the order the rank stored them in).  Entry numbers never change, so a
 * reference to a state on another rank stays valid for the whole search.
 *
 * The queue of states still to expand holds, per state, its entry number,
 * its id in the store and the renaming of pCPUs from the state as it was
 * reached to the representative the store holds: 16 bytes.  A state is
 * decoded and renamed back, so it is expanded exactly as it was reached,
 * not as its symmetry representative: a traced-back path then replays step
 * for step.  A state travels to its owner as its value (pack_state).
 *
 * In swarm mode the store counts the union of the states the searches
 * stored, each search keeping a set of its own; that set and the search
 * for the least counterexample's are sets of canonical bytes (struct
 * dset: in chunks, an entry per state, an open-addressing table of entry
 * numbers).
 *
 * A message is a batch of records after a one-byte type; records are read
 * with memcpy (no alignment): parent reference u64 (swarm: NO_PARENT), value
 * length u16, value.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore_int.h"
#include "vtlb/dist.h"
#include "vtlb/explore.h"
#include "vtlb/visited.h"

#define MAX_CHOICES VT_EXPLORE_MAX_CHOICES
#define CHUNK ((size_t)1 << 20)
#define NO_PARENT UINT64_MAX
#define KEY_MAX (2 * VT_STATE_CANON_LEN + 16)
#define VALUE_MAX (VT_STATE_CANON_LEN + VT_STATE_CANON_LEN / 8 + 16)

enum { MSG_DATA = 1, MSG_END, MSG_STOP };

_Static_assert(MAX_CHOICES < 256, "a choice index fits a parent reference's byte");
_Static_assert(VALUE_MAX < 65536, "a value's length fits a record's 16 bits");
_Static_assert(KEY_MAX >= sizeof(struct vt_state), "canonical bytes fit the key buffer");

/* ---- memory budget of one rank ------------------------------------------- */

/* What a rank allocates besides its store counts against the store's cap (vt_visited_reserve). */
struct budget {
	struct vt_visited *vs;
};

static bool budget_take(struct budget *b, uint64_t more)
{
	return b->vs && vt_visited_reserve(b->vs, more);
}

static void budget_give(struct budget *b, uint64_t less)
{
	if (less)
		vt_visited_unreserve(b->vs, less);
}

/* ---- growable byte buffers (queues and outgoing batches) ------------------ */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *q, struct budget *bu, size_t more)
{
	if (q->len + more <= q->cap)
		return 0;
	size_t cap = q->cap ? q->cap * 2 : 4096;
	if (cap < q->len + more)
		cap = q->len + more;
	if (!budget_take(bu, cap - q->cap))
		return -1;
	uint8_t *p = realloc(q->p, cap);
	if (!p) {
		budget_give(bu, cap - q->cap);
		return -1;
	}
	q->p = p;
	q->cap = cap;
	return 0;
}

static void buf_put(struct buf *q, const void *p, size_t n)
{
	memcpy(q->p + q->len, p, n);
	q->len += n;
}

static void buf_free(struct buf *q, struct budget *bu)
{
	budget_give(bu, q->cap);
	free(q->p);
	memset(q, 0, sizeof(*q));
}

/* ---- the exact set of states a rank owns ---------------------------------- */

struct dent {
	uint64_t hash;
	uint64_t loc;        /* arena offset << 16 | length */
	uint64_t parent;     /* rank << 48 | entry << 8 | choice, or NO_PARENT */
};

struct dset {
	uint64_t *slot;      /* high 32 bits of the hash << 32 | entry number + 1; 0: empty */
	size_t cap;          /* power of two */
	struct dent *ent;
	size_t n, ent_cap;
	uint8_t **chunk;
	size_t nchunk, chunk_cap, pos;
	struct budget *bu;
};

static int dset_init(struct dset *d, struct budget *bu)
{
	memset(d, 0, sizeof(*d));
	d->bu = bu;
	d->cap = 1 << 10;
	if (!budget_take(bu, d->cap * sizeof(*d->slot)))
		return -1;
	if (!(d->slot = calloc(d->cap, sizeof(*d->slot)))) {
		budget_give(bu, d->cap * sizeof(*d->slot));
		return -1;
	}
	return 0;
}

static void dset_fini(struct dset *d)
{
	budget_give(d->bu, d->cap * sizeof(*d->slot) + d->ent_cap * sizeof(*d->ent) + d->nchunk * CHUNK +
				   d->chunk_cap * sizeof(*d->chunk));
	for (size_t i = 0; i < d->nchunk; i++)
		free(d->chunk[i]);
	free(d->chunk);
	free(d->ent);
	free(d->slot);
	memset(d, 0, sizeof(*d));
}

static const uint8_t *dset_key(const struct dset *d, uint64_t i, size_t *len)
{
	uint64_t off = d->ent[i].loc >> 16;
	*len = d->ent[i].loc & 0xffff;
	return d->chunk[off / CHUNK] + off % CHUNK;
}

static int dset_grow(struct dset *d)
{
	size_t cap = d->cap * 2;
	if (!budget_take(d->bu, d->cap * sizeof(*d->slot)))
		return -1;
	uint64_t *s = calloc(cap, sizeof(*s));
	if (!s) {
		budget_give(d->bu, d->cap * sizeof(*d->slot));
		return -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		size_t j = d->ent[i].hash & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = (d->ent[i].hash >> 32) << 32 | (i + 1);
	}
	free(d->slot);
	d->slot = s;
	d->cap = cap;
	return 0;
}

/* Is the state with canonical bytes k there?  Its entry number, or the free slot where it would go. */
static bool dset_find(const struct dset *d, const uint8_t *k, size_t len, uint64_t h, uint64_t *idx, size_t *slot)
{
	size_t j = h & (d->cap - 1);
	for (;; j = (j + 1) & (d->cap - 1)) {
		uint64_t sl = d->slot[j];
		if (!sl)
			break;
		if (sl >> 32 != h >> 32)
			continue;
		uint64_t i = (sl & 0xffffffff) - 1;
		const struct dent *e = &d->ent[i];
		size_t l;
		if (e->hash != h || (e->loc & 0xffff) != len)
			continue;
		if (memcmp(dset_key(d, i, &l), k, len) != 0)
			continue;
		*idx = i;
		return true;
	}
	*slot = j;
	return false;
}

/*
 * Find the state with canonical bytes k, or add it with 'parent'.  Returns
 * 1 (added), 0 (already there) or -1 (the memory budget is spent, or more
 * states than one rank can number: not added); *idx is its entry number.
 */
static int dset_add(struct dset *d, const uint8_t *k, size_t len, uint64_t h, uint64_t parent, uint64_t *idx)
{
	size_t j;
	if (dset_find(d, k, len, h, idx, &j))
		return 0;
	if (d->n >= UINT32_MAX - 1)
		return -1;
	if ((d->n + 1) * 4 > d->cap * 3) {
		if (dset_grow(d) < 0)
			return -1;
		j = h & (d->cap - 1);
		while (d->slot[j])
			j = (j + 1) & (d->cap - 1);
	}
	if (d->n == d->ent_cap) {
		size_t cap = d->ent_cap ? d->ent_cap * 2 : 1024;
		if (!budget_take(d->bu, (cap - d->ent_cap) * sizeof(*d->ent)))
			return -1;
		struct dent *e = realloc(d->ent, cap * sizeof(*e));
		if (!e) {
			budget_give(d->bu, (cap - d->ent_cap) * sizeof(*d->ent));
			return -1;
		}
		d->ent = e;
		d->ent_cap = cap;
	}
	if (!d->nchunk || d->pos + len > CHUNK) {
		if (d->nchunk == d->chunk_cap) {
			size_t cap = d->chunk_cap ? d->chunk_cap * 2 : 16;
			if (!budget_take(d->bu, (cap - d->chunk_cap) * sizeof(*d->chunk)))
				return -1;
			uint8_t **c = realloc(d->chunk, cap * sizeof(*c));
			if (!c) {
				budget_give(d->bu, (cap - d->chunk_cap) * sizeof(*d->chunk));
				return -1;
			}
			d->chunk = c;
			d->chunk_cap = cap;
		}
		if (!budget_take(d->bu, CHUNK))
			return -1;
		d->chunk[d->nchunk] = malloc(CHUNK);
		if (!d->chunk[d->nchunk]) {
			budget_give(d->bu, CHUNK);
			return -1;
		}
		d->nchunk++;
		d->pos = 0;
	}
	uint64_t off = (uint64_t)(d->nchunk - 1) * CHUNK + d->pos;
	memcpy(d->chunk[d->nchunk - 1] + d->pos, k, len);
	d->pos += len;
	struct dent *e = &d->ent[d->n];
	e->hash = h;
	e->loc = off << 16 | len;
	e->parent = parent;
	d->slot[j] = (h >> 32) << 32 | (d->n + 1);
	*idx = d->n++;
	return 1;
}

/* ---- a state's value on the wire and in the queue ------------------------- */

/*
 * A state's value: its canonical part within the used part (vt_state_gather,
 * a few KiB), zero-run encoded (vt_explore_compress).  g: scratch of
 * sizeof(struct vt_state) bytes.
 */
static size_t pack_state(const struct vt_model *m, const struct vt_state *s, uint8_t *g, uint8_t *out)
{
	return vt_explore_compress(g, vt_state_gather(m, s, g), out);
}

/*
 * The inverse of pack_state into s, whose unused part holds the power-on
 * values (its metadata is left as it is: keying does not read it).  -1 if
 * malformed.
 */
static int unpack_state(const struct vt_model *m, const uint8_t *in, size_t n, uint8_t *g, struct vt_state *s)
{
	size_t o = 0, i = 0;
	for (;;) {
		if (i >= n)
			return -1;
		size_t z = (size_t)in[i++] * 8;
		if (o + z > sizeof(struct vt_state))
			return -1;
		memset(g + o, 0, z);
		o += z;
		if (i == n)
			return vt_state_scatter(m, g, o, s) ? 0 : -1;
		if (i + 8 > n || o + 8 > sizeof(struct vt_state))
			return -1;
		memcpy(g + o, in + i, 8);
		i += 8;
		o += 8;
	}
}

/* ---- the search ------------------------------------------------------------ */

struct member_hit;

struct dist {
	const struct vt_model *m;
	const struct vt_explore_opts *o;
	const struct vt_net *net;
	int me, n;
	struct vt_bounds b;
	bool symmetric;
	bool twins;          /* skip loads onto interchangeable pCPUs (vt_explore_skip_load) */
	size_t batch;
	struct budget bu;
	struct vt_visited *store; /* the states this rank owns (swarm: the union); the cap all allocations count against */
	struct vt_canon *skey;   /* keys into store */
	uint64_t *parent;        /* layers: per entry, the reference to the state it was first reached from */
	size_t nparent, parent_cap;
	struct vt_state *arrived; /* layers: a state from another rank, unpacked */
	struct vt_state *rep;    /* layers: the representative being expanded (skey's base) */
	struct buf next;         /* layers: the next layer's states: struct qent */
	struct buf *out;         /* per destination rank: the batch being filled */
	uint8_t *key, *val;
	struct vt_canon *canon;          /* scratch for canonical bytes */
	struct vt_state *child;
	uint64_t transitions;
	uint64_t pruned;     /* loads skipped onto interchangeable pCPUs */
	double start;
	int ends;                /* end markers received in this layer */
	int stop;                /* stop expanding (found, limit, memory, time, or told to) */
	int full, timeout, err;
	int neterr;              /* the transport failed: stop waiting for it */
	unsigned limit;
	int found;
	uint64_t found_parent;   /* layers: the entry the violating step left */
	unsigned found_choice;
	int swarm;
	unsigned max_depth;      /* swarm: the deepest state a search stored */
	struct vt_explore_coverage cov; /* what this rank's steps took; summed over the ranks at the end */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The hash a state's owner is picked by: of its canonical bytes, unencoded (the same in every process). */
static uint64_t owner_hash(struct dist *D, const struct vt_state *s)
{
	size_t n = vt_canon_model_bytes(D->m, D->symmetric, D->canon, s, D->key, NULL);
	return vt_canon_hash(D->key, n);
}

static int owner(const struct dist *D, uint64_t h)
{
	return (int)(((h >> 32) * (uint64_t)D->n) >> 32);
}

static uint64_t parent_ref(int rank, uint64_t idx, unsigned choice)
{
	return (uint64_t)rank << 48 | idx << 8 | choice;
}

static void set_full(struct dist *D)
{
	D->full = 1;
	D->stop = 1;
}

/* A queued state: see the top of this file. */
struct qent {
	uint64_t entry;
	uint32_t id;          /* in the store */
	uint32_t renaming;    /* 4 bits a pCPU: the index pCPU p has in the representative */
};
_Static_assert(VT_MAX_PCPUS <= 8, "a renaming fits 32 bits");

/*
 * A state this rank owns, s (or NULL: its value packed in val), to store;
 * layers, when new, also to queue.  Swarm: the store counts the union of
 * the states the searches stored, and nothing is queued.
 */
static void take_state(struct dist *D, uint64_t parent, const uint8_t *val, size_t vlen, const struct vt_state *s)
{
	if (!s) {
		if (unpack_state(D->m, val, vlen, D->key, D->arrived) < 0) {
			D->err = 1;
			return;
		}
		s = D->arrived;
	}
	struct vt_key k;
	uint8_t extra;
	int8_t map[VT_MAX_PCPUS];
	struct qent q = {.entry = D->nparent};
	/* FULL also when the store's ids run out: below 2^32, so an entry number fits a parent reference */
	enum vt_visit r = VT_VISIT_FULL;
	if (vt_visited_key(D->store, D->skey, s, &k, map) == 0)
		r = vt_visited_insert(D->store, &k, 0, 0, &extra, &q.id);
	if (r == VT_VISIT_FULL) {
		set_full(D);
		return;
	}
	if (r != VT_VISIT_NEW || D->swarm)
		return;
	if (D->nparent == D->parent_cap) {
		size_t cap = D->parent_cap ? D->parent_cap * 2 : 1024, more = (cap - D->parent_cap) * sizeof(uint64_t);
		uint64_t *p = NULL;
		if (budget_take(&D->bu, more) && !(p = realloc(D->parent, cap * sizeof(*p))))
			budget_give(&D->bu, more);
		if (!p) {
			set_full(D);
			return;
		}
		D->parent = p;
		D->parent_cap = cap;
	}
	D->parent[D->nparent++] = parent;
	for (int p = 0; p < D->m->npcpus; p++)
		q.renaming |= (uint32_t)map[p] << (4 * p);
	if (buf_reserve(&D->next, &D->bu, sizeof(q)) < 0) {
		set_full(D);
		return;
	}
	buf_put(&D->next, &q, sizeof(q));
}

static void handle_data(struct dist *D, const uint8_t *p, size_t len)
{
	size_t i = 1;
	while (i < len) {
		uint64_t word; /* the parent reference (swarm: NO_PARENT) */
		uint16_t l;    /* the value's length */
		if (i + 10 > len) {
			D->err = 1;
			return;
		}
		memcpy(&word, p + i, 8);
		memcpy(&l, p + i + 8, 2);
		i += 10;
		if (i + l > len) {
			D->err = 1;
			return;
		}
		take_state(D, word, p + i, l, NULL);
		i += l;
	}
}

static void handle(struct dist *D, uint8_t *p, size_t len)
{
	if (len < 1)
		D->err = 1;
	else if (p[0] == MSG_DATA)
		handle_data(D, p, len);
	else if (p[0] == MSG_END)
		D->ends++;
	else if (p[0] == MSG_STOP)
		D->stop = 1;
	else
		D->err = 1;
	free(p);
}

/* Handle every message waiting (block: wait for at least one). */
static void poll_net(struct dist *D, int block)
{
	for (;;) {
		void *p;
		size_t len;
		int from;
		int r = D->net->recv(D->net->ctx, block, &from, &p, &len);
		if (r < 0) {
			D->err = D->neterr = 1;
			D->stop = 1;
			return;
		}
		if (r == 0)
			return;
		handle(D, p, len);
		block = 0;
	}
}

static int send_msg(struct dist *D, int to, uint8_t type)
{
	uint8_t *p = malloc(1);
	if (!p)
		return -1;
	p[0] = type;
	return D->net->send(D->net->ctx, to, p, 1);
}

/* Send the batch for 'to', if it holds records. */
static void send_batch(struct dist *D, int to)
{
	struct buf *q = &D->out[to];
	if (q->len <= 1)
		return;
	budget_give(&D->bu, q->cap);
	if (D->net->send(D->net->ctx, to, q->p, q->len) < 0)
		D->err = 1;
	memset(q, 0, sizeof(*q));
}

/* A record for a state owned by rank 'to' (not this one): its parent reference and its value. */
static void post_state(struct dist *D, int to, uint64_t parent, const uint8_t *val, size_t len)
{
	struct buf *q = &D->out[to];
	/*
	 * A batch is sized once for its largest content, so it never grows:
	 * a buffer the size of a doubled batch would come from mmap and cost
	 * page faults on every batch.
	 */
	if (buf_reserve(q, &D->bu, q->cap ? 11 + len : D->batch + 11 + VALUE_MAX) < 0) {
		set_full(D);
		return;
	}
	if (!q->len) {
		uint8_t t = MSG_DATA;
		buf_put(q, &t, 1);
	}
	uint16_t l = (uint16_t)len;
	buf_put(q, &parent, 8);
	buf_put(q, &l, 2);
	buf_put(q, val, len);
	if (q->len >= D->batch)
		send_batch(D, to);
}

/*
 * Between states: take what arrived, keep the bytes in flight bounded (a
 * receiver that falls behind slows its senders), check the time limit.
 */
static void between(struct dist *D, uint64_t *tick)
{
	if ((++*tick & 63) != 0)
		return;
	poll_net(D, 0);
	size_t cap = D->batch * 64 * (size_t)D->n;
	while (D->net->pending(D->net->ctx) > cap && !D->neterr) {
		poll_net(D, 0);
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
	if (D->o->time_limit > 0 && now() - D->start > D->o->time_limit) {
		D->timeout = 1;
		D->stop = 1;
	}
}

/* End a layer (or the swarm's only phase): every batch out, an end marker to every rank, all of theirs in. */
static void end_phase(struct dist *D)
{
	for (int r = 0; r < D->n; r++) {
		if (r == D->me)
			continue;
		send_batch(D, r);
		if (send_msg(D, r, MSG_END) < 0)
			D->err = 1;
	}
	while (D->ends < D->n - 1 && !D->neterr)
		poll_net(D, 1);
	D->ends = 0;
	if (D->net->flush(D->net->ctx) < 0)
		D->err = 1;
}

static void tell_stop(struct dist *D)
{
	for (int r = 0; r < D->n; r++)
		if (r != D->me && send_msg(D, r, MSG_STOP) < 0)
			D->err = 1;
}

/* A successor reached by choice 'choice' from entry 'from' (parent reference), to its owner. */
static void deliver(struct dist *D, const struct vt_state *s, uint64_t parent)
{
	int to = D->me; /* one rank: every state is its own, no hash needed */
	if (D->n > 1)
		to = owner(D, owner_hash(D, s));
	if (to == D->me)
		take_state(D, parent, NULL, 0, s);
	else
		post_state(D, to, parent, D->val, pack_state(D->m, s, D->key, D->val));
}

/* Expand the states of layer 'depth' this rank owns (queued in cur). */
static void expand_layer(struct dist *D, const struct buf *cur, unsigned depth, struct vt_state *s)
{
	struct vt_event ch[MAX_CHOICES];
	uint64_t tick = 0;
	size_t i = 0;
	while (i < cur->len && !D->stop) {
		struct qent q;
		int8_t back[VT_MAX_PCPUS];
		memcpy(&q, cur->p + i, sizeof(q));
		i += sizeof(q);
		const uint64_t idx = q.entry;
		/* the representative, renamed back to the state as it was reached */
		vt_visited_decode(D->store, D->skey, q.id, D->rep);
		for (int p = 0; p < VT_MAX_PCPUS; p++)
			back[p] = (int8_t)p;
		for (int p = 0; p < D->m->npcpus; p++)
			back[q.renaming >> (4 * p) & 15] = (int8_t)p;
		vt_state_permute_pcpus(D->m, D->rep, s, back);
		s->meta.step = depth;
		int n = vt_explore_choices(D->m, s, &D->b, ch, MAX_CHOICES);
		struct vt_twins tw = {.any = D->twins ? -1 : 0};
		for (int c = 0; c < n && !D->stop; c++) {
			if (vt_explore_skip_load(D->m, D->canon, s, ch, c, &tw)) {
				D->pruned++;
				continue;
			}
			vt_state_copy(D->m, D->child, s); /* the used part: the rest keeps its power-on values */
			struct vt_verdict v;
			struct vt_explore_cov_pre pre;
			vt_explore_cov_pre(D->m, s, &ch[c], &pre);
			enum vt_step_err e = vt_explore_apply(D->m, D->child, &ch[c], NULL, &v);
			D->transitions++;
			if (e == VT_STEP_OK)
				vt_explore_cov_note(&D->cov, D->m, &pre, &ch[c], D->child);
			if (e == VT_STEP_ERR_LIMIT) {
				D->limit = D->child->meta.limit;
				D->stop = 1;
				tell_stop(D);
				break;
			}
			if (e != VT_STEP_OK)
				continue;
			if (v.kind != VT_V_OK) {
				D->found = 1;
				D->found_parent = idx;
				D->found_choice = (unsigned)c;
				D->stop = 1;
				tell_stop(D);
				break;
			}
			deliver(D, D->child, parent_ref(D->me, idx, (unsigned)c));
		}
		between(D, &tick);
	}
}

/*
 * Trace the violating step back to the initial state through the parent
 * references (collectively: the rank holding each state answers), and
 * replay the choices into events.  Returns the length, or -1.
 */
static int trace_back(struct dist *D, int winner, struct vt_event *path)
{
	const struct vt_model *m = D->m;
	uint8_t choice[VT_EXPLORE_MAX_DEPTH + 2];
	unsigned nmax = D->b.depth + 1;
	int n = 0, bad = 0;
	uint64_t v[2] = {0, 0};
	if (D->me == winner) {
		v[0] = D->found_parent;
		v[1] = D->found_choice;
	}
	if (D->net->allreduce(D->net->ctx, v, 2, VT_NET_SUM) < 0)
		return -1;
	uint64_t rank = (uint64_t)winner, idx = v[0];
	choice[n++] = (uint8_t)v[1];
	/* every rank sees the same answers, so all leave this loop together */
	for (;;) {
		uint64_t p[2] = {0, 0}; /* parent reference + 1 (0: the initial state), error */
		if ((uint64_t)D->me == rank) {
			if (idx < D->nparent)
				p[0] = D->parent[idx] + 1;
			else
				p[1] = 1;
		}
		if (D->net->allreduce(D->net->ctx, p, 2, VT_NET_SUM) < 0 || p[1])
			return -1;
		if (p[0] == 0)
			break;
		if ((unsigned)n >= nmax)
			return -1;
		p[0]--;
		choice[n++] = (uint8_t)(p[0] & 0xff);
		rank = p[0] >> 48;
		idx = (p[0] >> 8) & ((1ull << 40) - 1);
	}
	struct vt_state *s = malloc(sizeof(*s));
	if (!s)
		return -1;
	struct vt_event ch[MAX_CHOICES];
	vt_state_init(m, s);
	for (int i = 0; i < n && !bad; i++) {
		int k = vt_explore_choices(m, s, &D->b, ch, MAX_CHOICES);
		unsigned c = choice[n - 1 - i];
		struct vt_verdict vv;
		if ((int)c >= k || vt_explore_apply(m, s, &ch[c], NULL, &vv) != VT_STEP_OK ||
		    (vv.kind != VT_V_OK) != (i == n - 1))
			bad = 1;
		else
			path[i] = ch[c];
	}
	free(s);
	return bad ? -1 : n;
}

/* least_path: a state of the path, its choices and the next one to try */
struct lframe {
	struct vt_state s;
	struct vt_event ch[MAX_CHOICES];
	int n, next;
};

/*
 * The counterexample, the same on every rank and from run to run: the
 * least sequence of choice indices among the paths of L + 1 steps whose
 * last step violates (layer L's expansion found one, every shallower layer
 * having come out clean, so none is shorter), whichever rank found one
 * first and whatever order the states arrived in.  Each rank computes it
 * alone, by a depth-first search from the initial state, choices in
 * order.  A state with no violation k steps on has none nearer either, so
 * it is recorded dead for k steps (its canonical bytes in a set of the
 * search's own, within the memory budget; the entry's parent field holds
 * k) and not searched again for as many or fewer.  Returns the length, or
 * 0 when the time limit passes first or memory runs out.
 */
static int least_path(struct dist *D, unsigned L, struct vt_event *path)
{
	const struct vt_model *m = D->m;
	/* the frames count against --max-memory, with the search's own set */
	const uint64_t frames = (uint64_t)(L + 1) * sizeof(struct lframe);
	if (!budget_take(&D->bu, frames))
		return 0;
	struct lframe *fr = malloc(frames);
	struct dset dead;
	if (!fr || dset_init(&dead, &D->bu) < 0) {
		free(fr);
		budget_give(&D->bu, frames);
		return 0;
	}
	int rc = 0;
	uint64_t tick = 0, h, idx;
	size_t slot;
	vt_state_init(m, &fr[0].s);
	for (int k = 0, push = 1; k >= 0;) {
		struct lframe *f = &fr[k];
		const unsigned left = L - (unsigned)k; /* steps to a violating parent */
		if (push) {
			f->n = vt_explore_choices(m, &f->s, &D->b, f->ch, MAX_CHOICES);
			f->next = 0;
			push = 0;
		}
		if (f->next == f->n) {
			size_t klen = vt_explore_canon(m, D->symmetric, &f->s, D->canon, D->key, &h);
			int a = dset_add(&dead, D->key, klen, h, left, &idx);
			if (a < 0)
				break;
			if (!a && dead.ent[idx].parent < left)
				dead.ent[idx].parent = left;
			k--;
			continue;
		}
		int i = f->next++;
		struct vt_verdict v;
		memcpy(D->child, &f->s, sizeof(*D->child));
		if (vt_explore_apply(m, D->child, &f->ch[i], NULL, &v) != VT_STEP_OK)
			continue;
		if (!left) {
			if (v.kind == VT_V_OK)
				continue;
			for (unsigned j = 0; j <= L; j++)
				path[j] = fr[j].ch[fr[j].next - 1];
			rc = (int)L + 1;
			break;
		}
		if (v.kind != VT_V_OK)
			continue; /* none is nearer */
		size_t klen = vt_explore_canon(m, D->symmetric, D->child, D->canon, D->key, &h);
		if (dset_find(&dead, D->key, klen, h, &idx, &slot) && dead.ent[idx].parent >= left - 1)
			continue;
		memcpy(&fr[k + 1].s, D->child, sizeof(fr[k + 1].s));
		k++;
		push = 1;
		if ((++tick & 1023) == 0 && D->o->time_limit > 0 && now() - D->start > D->o->time_limit)
			break;
	}
	dset_fini(&dead);
	free(fr);
	budget_give(&D->bu, frames);
	return rc;
}

static void progress(struct dist *D, unsigned depth, uint64_t states, uint64_t layer)
{
	if (!D->o->progress || D->me != 0 || !D->o->progress_out)
		return;
	double t = now() - D->start;
	fprintf(D->o->progress_out, "vtlb explore: layer %u: %llu states (%llu new, %.0f/s) over %d rank%s, %.1f s\n",
		depth, (unsigned long long)states, (unsigned long long)layer, t > 0 ? (double)states / t : 0.0, D->n,
		D->n == 1 ? "" : "s", t);
	fflush(D->o->progress_out);
}

/* The layered search.  Fills r except the path; returns the winning rank of a violation, or -1. */
static int layers(struct dist *D, struct vt_explore_result *r, const struct vt_state *init)
{
	struct vt_state *s = malloc(sizeof(*s));
	struct buf cur = {0};
	int winner = -1;
	if (!s)
		D->err = 1;
	else
		vt_state_init(D->m, s); /* power-on values beyond the used part: renaming copies only that part */
	if (owner(D, owner_hash(D, init)) == D->me)
		take_state(D, NO_PARENT, NULL, 0, init);
	uint64_t total[2] = {D->next.len ? 1 : 0, 0};
	D->net->allreduce(D->net->ctx, total, 1, VT_NET_SUM);
	uint64_t states = total[0];
	for (unsigned depth = 0;; depth++) {
		buf_free(&cur, &D->bu);
		cur = D->next;
		memset(&D->next, 0, sizeof(D->next));
		r->max_depth = depth;
		if (depth >= D->b.depth)
			break;
		if (!D->err)
			expand_layer(D, &cur, depth, s);
		end_phase(D);
		uint64_t mx[5] = {D->found ? (uint64_t)(D->n - D->me) : 0, D->limit, (uint64_t)D->full,
				  (uint64_t)D->timeout, (uint64_t)D->err};
		uint64_t sum[1] = {D->nparent};
		if (D->net->allreduce(D->net->ctx, mx, 5, VT_NET_MAX) < 0 ||
		    D->net->allreduce(D->net->ctx, sum, 1, VT_NET_SUM) < 0)
			mx[4] = 1;
		uint64_t layer = sum[0] - states;
		states = sum[0];
		progress(D, depth + 1, states, layer);
		D->limit = (unsigned)mx[1];
		D->full = (int)mx[2];
		D->timeout = (int)mx[3];
		D->err = (int)mx[4];
		if (mx[0]) {
			winner = D->n - (int)mx[0];
			r->max_depth = depth + 1;
			break;
		}
		if (D->limit || D->full || D->timeout || D->err || !layer)
			break;
	}
	buf_free(&cur, &D->bu);
	buf_free(&D->next, &D->bu);
	free(s);
	return winner;
}

/* ---- swarm mode ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct mframe {
	struct vt_state s;
	struct vt_event ch[MAX_CHOICES];
	int n, next;
	struct vt_event taken;
};

struct member_hit {
	uint64_t member;         /* UINT64_MAX: none */
	int npath;
	struct vt_event *path;
};

/*
 * Swarm search number i: a depth-first search in an order drawn from its
 * own seed, storing at most 'budget' states; every state it stores is also
 * counted, once, in the swarm's union at its owner.
 */
static void member(struct dist *D, uint64_t i, uint64_t budget, struct mframe *fr, struct member_hit *hit,
		   uint64_t *found_by, uint64_t *stored)
{
	const struct vt_model *m = D->m;
	uint64_t rng = D->o->seed ^ (i * 0xd1342543de82ef95ull), tick = 0, idx;
	struct dset local;
	if (dset_init(&local, &D->bu) < 0) {
		set_full(D);
		return;
	}
	vt_state_init(m, &fr[0].s);
	uint64_t h;
	size_t klen = vt_explore_canon(m, D->symmetric, &fr[0].s, D->canon, D->key, &h);
	if (dset_add(&local, D->key, klen, h, NO_PARENT, &idx) < 0)
		set_full(D);
	deliver(D, &fr[0].s, NO_PARENT);
	int k = 0;
	fr[0].n = -1;
	while (k >= 0 && !D->stop) {
		struct mframe *f = &fr[k];
		if (f->n < 0) {
			f->n = (unsigned)k < D->b.depth ? vt_explore_choices(m, &f->s, &D->b, f->ch, MAX_CHOICES) : 0;
			for (int a = f->n - 1; a > 0; a--) {
				int b = (int)(splitmix(&rng) % (uint64_t)(a + 1));
				struct vt_event t = f->ch[a];
				f->ch[a] = f->ch[b];
				f->ch[b] = t;
			}
			f->next = 0;
		}
		if (f->next >= f->n) {
			k--;
			continue;
		}
		const struct vt_event *c = &f->ch[f->next++];
		struct mframe *g = &fr[k + 1];
		memcpy(&g->s, &f->s, sizeof(g->s));
		struct vt_verdict v;
		struct vt_explore_cov_pre pre;
		vt_explore_cov_pre(m, &f->s, c, &pre);
		enum vt_step_err e = vt_explore_apply(m, &g->s, c, NULL, &v);
		D->transitions++;
		if (e == VT_STEP_OK)
			vt_explore_cov_note(&D->cov, m, &pre, c, &g->s);
		if (e == VT_STEP_ERR_LIMIT) {
			D->limit = g->s.meta.limit;
			D->stop = 1;
			tell_stop(D);
			break;
		}
		if (e != VT_STEP_OK)
			continue;
		if (v.kind != VT_V_OK) {
			(*found_by)++;
			if (i < hit->member) {
				struct vt_event *p = malloc(((size_t)k + 1) * sizeof(*p));
				if (p) {
					for (int j = 0; j < k; j++)
						p[j] = fr[j + 1].taken;
					p[k] = *c;
					free(hit->path);
					hit->path = p;
					hit->npath = k + 1;
					hit->member = i;
				}
			}
			break;
		}
		klen = vt_explore_canon(m, D->symmetric, &g->s, D->canon, D->key, &h);
		int a = dset_add(&local, D->key, klen, h, NO_PARENT, &idx);
		if (a < 0) {
			set_full(D);
			break;
		}
		if (a == 1) {
			deliver(D, &g->s, NO_PARENT);
			g->taken = *c;
			g->n = -1;
			k++;
			if ((unsigned)k > D->max_depth)
				D->max_depth = (unsigned)k;
			if (local.n >= budget)
				break;
		}
		between(D, &tick);
	}
	*stored += local.n;
	dset_fini(&local);
}

static void swarm(struct dist *D, const struct vt_dist_opts *d, struct vt_explore_result *r, struct member_hit *hit)
{
	uint64_t budget = d->swarm_states ? d->swarm_states : 65536;
	/* the frames count against --max-memory, as the depth-first explorer's do */
	const uint64_t frames = ((uint64_t)D->b.depth + 2) * sizeof(struct mframe);
	struct mframe *fr = NULL;
	uint64_t found_by = 0, stored = 0;
	hit->member = UINT64_MAX;
	bool taken = budget_take(&D->bu, frames);
	if (!taken)
		set_full(D);
	else if (!(fr = malloc(frames)))
		D->err = 1;
	for (uint64_t i = (uint64_t)D->me; fr && i < d->swarm && !D->stop; i += (uint64_t)D->n)
		member(D, i, budget, fr, hit, &found_by, &stored);
	if (taken)
		budget_give(&D->bu, frames);
	free(fr);
	end_phase(D);
	uint64_t mn[1] = {hit->member};
	uint64_t mx[5] = {D->limit, (uint64_t)D->full, (uint64_t)D->timeout, (uint64_t)D->err, D->max_depth};
	uint64_t sum[1] = {found_by};
	if (D->net->allreduce(D->net->ctx, mn, 1, VT_NET_MIN) < 0 || D->net->allreduce(D->net->ctx, mx, 5, VT_NET_MAX) < 0 ||
	    D->net->allreduce(D->net->ctx, sum, 1, VT_NET_SUM) < 0)
		mx[3] = 1;
	D->limit = (unsigned)mx[0];
	D->full = (int)mx[1];
	D->timeout = (int)mx[2];
	D->err = (int)mx[3];
	r->max_depth = (uint32_t)mx[4];
	r->swarm = d->swarm;
	r->swarm_found = sum[0];
	r->walks = d->swarm;
	/* the lowest-numbered search's counterexample, from the rank that ran it */
	if (mn[0] != UINT64_MAX && !D->err) {
		int root = (int)(mn[0] % (uint64_t)D->n);
		uint64_t len = D->me == root ? (uint64_t)hit->npath : 0;
		if (D->net->bcast(D->net->ctx, root, &len, sizeof(len)) < 0 || !len || len > D->b.depth + 1u) {
			D->err = 1;
			return;
		}
		if (D->me != root) {
			free(hit->path);
			hit->path = calloc(len, sizeof(*hit->path));
			hit->npath = (int)len;
		}
		if (!hit->path || D->net->bcast(D->net->ctx, root, hit->path, len * sizeof(*hit->path)) < 0)
			D->err = 1;
		hit->member = mn[0];
	} else {
		hit->member = UINT64_MAX;
	}
}

/* ---- the entry point ------------------------------------------------------- */

static int local_send(void *ctx, int to, void *buf, size_t len)
{
	free(buf);
	return -1;
}

static int local_recv(void *ctx, int block, int *from, void **buf, size_t *len)
{
	return block ? -1 : 0;
}

static size_t local_pending(void *ctx)
{
	return 0;
}

static int local_flush(void *ctx)
{
	return 0;
}

static int local_allreduce(void *ctx, uint64_t *v, int n, enum vt_net_op op)
{
	return 0;
}

static int local_bcast(void *ctx, int root, void *buf, size_t len)
{
	return 0;
}

static const struct vt_net local_net = {
	.rank = 0,
	.size = 1,
	.send = local_send,
	.recv = local_recv,
	.pending = local_pending,
	.flush = local_flush,
	.allreduce = local_allreduce,
	.bcast = local_bcast,
};

const struct vt_net *vt_net_local(void)
{
	return &local_net;
}

enum vt_explore_status vt_explore_dist(const struct vt_model *m, const struct vt_explore_opts *o,
				       const struct vt_dist_opts *d, struct vt_explore_result *r)
{
	struct dist *D = calloc(1, sizeof(*D));
	struct vt_state *init = malloc(sizeof(*init));
	struct member_hit hit = {UINT64_MAX, 0, NULL};
	memset(r, 0, sizeof(*r));
	if (!D || !init) {
		free(D);
		free(init);
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		return r->status;
	}
	D->m = m;
	D->o = o;
	D->net = d->net ? d->net : vt_net_local();
	D->me = D->net->rank;
	D->n = D->net->size;
	D->swarm = d->swarm > 0;
	D->batch = d->batch ? d->batch : 64 << 10;
	D->start = now();
	vt_explore_bounds(m, o, &D->b);
	D->symmetric = vt_explore_symmetric(m, o);
	D->twins = D->symmetric && o->por;
	r->bounds = D->b;
	r->symmetric = D->symmetric;
	r->ranks = D->n;
	D->out = calloc((size_t)D->n, sizeof(*D->out));
	D->key = malloc(KEY_MAX);
	D->val = malloc(VALUE_MAX);
	D->canon = vt_canon_new(NULL);
	D->child = malloc(sizeof(*D->child));
	D->arrived = malloc(sizeof(*D->arrived));
	D->rep = malloc(sizeof(*D->rep));
	/* the cap is per rank; everything else the rank allocates counts against the store's */
	D->store = vt_visited_new(m, VT_STORE_EXACT, D->symmetric, o->max_memory ? o->max_memory : (2ull << 30), 0);
	D->bu.vs = D->store;
	if (D->store) {
		vt_visited_single(D->store, true);
		D->skey = vt_canon_new(D->store);
	}
	/*
	 * Every rank decides alike: a failure here is agreed on before
	 * anything is sent.  The store's queue of ids is not read here, but
	 * with it a root record is 16 bytes, not 24 (with a depth and sleep
	 * set); a cap too small for its first chunk ends the search at once,
	 * incomplete, as a cap too small for the first state does.
	 */
	uint64_t bad[2] = {!D->out || !D->key || !D->val || !D->canon || !D->child || !D->arrived || !D->rep ||
				   !D->skey,
			   0};
	if (!bad[0])
		bad[1] = vt_visited_keep_queue(D->store) < 0;
	D->net->allreduce(D->net->ctx, bad, 2, VT_NET_MAX);
	if (bad[0]) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "out of memory";
		goto done;
	}
	if (bad[1])
		set_full(D);
	vt_state_init(m, init);
	/* power-on values beyond the used part, which unpack_state and vt_state_copy leave */
	vt_state_init(m, D->arrived);
	vt_state_init(m, D->child);
	struct vt_verdict v0;
	vt_check(m, init, &v0);
	if (v0.kind != VT_V_OK) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "the initial state already violates the invariant";
		goto done;
	}

	int winner = -1;
	if (D->full)
		; /* no room to begin */
	else if (D->swarm)
		swarm(D, d, r, &hit);
	else
		winner = layers(D, r, init);

	uint64_t peak = vt_visited_peak(D->store);
	uint64_t sum[6] = {vt_visited_states(D->store), D->transitions, peak, D->pruned,
			   vt_visited_stored(D->store), vt_visited_nodes(D->store)},
		 mx[1] = {peak};
	D->net->allreduce(D->net->ctx, sum, 6, VT_NET_SUM);
	D->net->allreduce(D->net->ctx, mx, 1, VT_NET_MAX);
	r->states = sum[0];
	r->transitions = sum[1];
	r->memory = sum[2];
	r->pruned = sum[3];
	r->state_bytes = sum[4];
	r->nodes = sum[5];
	r->rank_memory = mx[0];
	r->peak_memory = mx[0]; /* --max-memory is per rank */
	/* coverage: every counter is a u64, summed over the ranks */
	D->net->allreduce(D->net->ctx, (uint64_t *)&D->cov, (int)(sizeof(D->cov) / sizeof(uint64_t)), VT_NET_SUM);
	r->coverage = D->cov;

	struct vt_event *path = NULL;
	int npath = 0;
	const char *unstable = NULL;
	if (winner >= 0) {
		path = malloc(((size_t)D->b.depth + 1) * sizeof(*path));
		npath = path ? least_path(D, r->max_depth - 1, path) : 0;
		/*
		 * A rank past the time limit or out of memory (1): every rank
		 * traces the violation found back.  A rank with no room for the
		 * path (2): every rank fails alike, since trace_back is collective.
		 */
		uint64_t gave_up[1] = {!path ? 2 : npath <= 0};
		if (D->net->allreduce(D->net->ctx, gave_up, 1, VT_NET_MAX) < 0 || gave_up[0] == 2)
			npath = -1;
		else if (gave_up[0]) {
			npath = trace_back(D, winner, path);
			/* the lowest rank that found a violation: which one can depend on timing */
			if (D->n > 1)
				unstable = "the search for the least one ran past the time limit or found no room on a rank";
		}
		if (npath < 0) {
			free(path);
			path = NULL;
			D->err = 1;
		}
	} else if (D->swarm && hit.member != UINT64_MAX) {
		path = hit.path;
		npath = hit.npath;
		hit.path = NULL;
		/*
		 * The lowest search that found one, among those a stop left run:
		 * on several ranks, timing decides which ran (one rank runs them
		 * in order, each to its end).
		 */
		if (D->n > 1 && (D->timeout || D->full))
			unstable = "the time limit or a memory cap stopped some searches before they ran";
	}
	if (D->err) {
		r->status = VT_EXPLORE_ERROR;
		r->why = "the distributed search failed (transport error or internal inconsistency)";
		free(path);
	} else if (D->limit) {
		r->status = VT_EXPLORE_ERROR;
		r->why = vt_limit_str(D->limit);
		free(path);
	} else if (path) {
		r->status = VT_EXPLORE_VIOLATION;
		r->npath_found = npath;
		r->path_unstable = unstable;
		struct vt_verdict want;
		if (!vt_explore_replay(m, path, npath, &want)) {
			r->status = VT_EXPLORE_ERROR;
			r->why = "the counterexample does not replay (internal error)";
			free(path);
		} else {
			r->npath = o->shrink ? vt_explore_shrink(m, path, npath, &want) : npath;
			r->path = path;
			if (!vt_explore_replay(m, r->path, r->npath, &r->verdict))
				r->verdict = want;
		}
	} else if (D->full) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = D->swarm ? "swarm mode (and the count of distinct states hit the memory cap: a lower bound)"
				  : "memory cap reached";
	} else if (D->timeout) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = "time limit reached";
	} else if (D->swarm) {
		r->status = VT_EXPLORE_INCOMPLETE;
		r->why = "swarm mode samples the state space with bounded randomised searches; it proves nothing";
	} else {
		r->status = VT_EXPLORE_CLEAN;
	}
done:
	r->seconds = now() - D->start;
	if (D->out)
		for (int i = 0; i < D->n; i++)
			buf_free(&D->out[i], &D->bu);
	budget_give(&D->bu, D->parent_cap * sizeof(*D->parent));
	free(D->parent);
	vt_canon_free(D->skey);
	vt_visited_free(D->store);
	free(D->arrived);
	free(D->rep);
	free(D->out);
	free(D->key);
	free(D->val);
	vt_canon_free(D->canon);
	free(D->child);
	free(hit.path);
	free(init);
	enum vt_explore_status st = r->status;
	free(D);
	return st;
}
