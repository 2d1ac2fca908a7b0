/*
 * The explorer's state store (see include/vtlb/visited.h): canonical form
 * with pCPU symmetry, tree-compressed exact storage, hash compaction and
 * bitstate hashing.
 *
 * Tables.  Every table (one per section type, the node table, the root
 * table) is an interning table of fixed-size records split into stripes.
 * A stripe keeps its records in chunks (the first ones small and doubling,
 * later ones of one size, so little is allocated beyond what is used) and
 * an open-addressed index of 32-bit slots: the record's local index + 1 in
 * the low bits and a few more bits of its hash in the high bits, so that a
 * probe rarely reads a record that does not match.  A record's id is its
 * local index and its stripe; the chunk directory is replaced (never
 * changed) when it grows, so a reader without the lock sees a directory
 * that holds every record it can know of.
 */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS and MAP_NORESERVE, madvise */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"
#include "vtlb/visited.h"

#define SB 6                              /* stripe bits */
#define NST (1u << SB)
#define LOCAL_BITS (32 - SB)
#define LOCAL_LIMIT ((1u << LOCAL_BITS) - 1) /* local index + 1 must stay below */
#define TAG_MASK (~0u << LOCAL_BITS)
#define S0_SHIFT 4                        /* the first chunk holds 16 records */
#define CHUNK_BYTES_MAX (256u << 10)

/* ---- hashing --------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/*
 * A hash of a whole number of 64-bit words: two independent lanes (even
 * and odd words), each word xored in, multiplied by an odd constant and
 * rotated (so that high bits reach the low ones at the next multiply),
 * combined and finalised by mix64.  Three operations a word with two
 * multiplies in flight: sections are hashed on every step.
 */
static uint64_t hash_words(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t a = seed ^ (uint64_t)n, b = ~seed;
	size_t i = 0;
	/* unrolled twice (the same sequence per lane): less loop overhead */
	for (; i + 32 <= n; i += 32) {
		uint64_t w0, w1, w2, w3;
		memcpy(&w0, p + i, 8);
		memcpy(&w1, p + i + 8, 8);
		memcpy(&w2, p + i + 16, 8);
		memcpy(&w3, p + i + 24, 8);
		a = rotl64((a ^ w0) * 0x9e3779b97f4a7c15ull, 31);
		b = rotl64((b ^ w1) * 0xc2b2ae3d27d4eb4full, 29);
		a = rotl64((a ^ w2) * 0x9e3779b97f4a7c15ull, 31);
		b = rotl64((b ^ w3) * 0xc2b2ae3d27d4eb4full, 29);
	}
	for (; i + 16 <= n; i += 16) {
		uint64_t w0, w1;
		memcpy(&w0, p + i, 8);
		memcpy(&w1, p + i + 8, 8);
		a = rotl64((a ^ w0) * 0x9e3779b97f4a7c15ull, 31);
		b = rotl64((b ^ w1) * 0xc2b2ae3d27d4eb4full, 29);
	}
	if (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		a = rotl64((a ^ w) * 0x9e3779b97f4a7c15ull, 31);
	}
	return mix64(a ^ mix64(b));
}

static inline uint64_t load64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/*
 * Are two sections (len a multiple of 8) equal?  The first word first: a
 * changed vCPU section usually differs there (its run state and program
 * counter), and a pCPU section is two words; only the rest goes to memcmp.
 */
static inline bool sect_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (load64(a) != load64(b))
		return false;
	if (len == 16)
		return load64(a + 8) == load64(b + 8);
	return memcmp(a + 8, b + 8, len - 8) == 0;
}

/* A root record's ids, in the order key_of packs them (k[0] = ids 0 and 1, k[1] = ids 2 and 3). */
static inline void root_ids(const uint8_t *rec, uint32_t ids[4])
{
	uint64_t k0 = load64(rec), k1 = load64(rec + 8);
	ids[0] = (uint32_t)(k0 >> 32);
	ids[1] = (uint32_t)k0;
	ids[2] = (uint32_t)(k1 >> 32);
	ids[3] = (uint32_t)k1;
}

/* ---- interning tables --------------------------------------------------------- */

struct chunkdir {
	struct chunkdir *prev;   /* the directory this one replaced (freed at the end) */
	uint32_t n;
	uint8_t *chunk[];
};

/* A cache line (or two) of its own: its lock and counts are written by whichever worker holds it. */
struct stripe {
	_Alignas(64) pthread_mutex_t lock;
	uint32_t *slot;
	uint32_t cap;            /* slots, a power of two (0: none yet) */
	uint32_t n;              /* records */
	uint32_t nchunks;
	uint32_t have;           /* records the chunks hold */
	uint32_t dircap;
	_Atomic(struct chunkdir *) dir;
	/*
	 * slot and cap - 1 as last published, for vt_visited_prefetch without
	 * the lock: a resize may replace them meanwhile, and a prefetch of the
	 * old array is only a wasted hint.
	 */
	_Atomic(uint32_t *) pf_slot;
	atomic_uint pf_mask;
};

struct itab {
	size_t rec;              /* record bytes */
	size_t keylen;           /* the first keylen bytes are the key */
	uint64_t seed;           /* of the hash of longer keys */
	unsigned g;              /* chunks 0..g-1 double in size; the later ones hold 16 << g records */
	struct stripe st[NST];
};

struct vt_visited {
	const struct vt_model *m;
	enum vt_store_kind kind;
	bool single;                 /* one thread uses the store: no locks */
	bool symmetric;
	uint64_t max_memory;
	/*
	 * Counters every worker writes, on a cache line of their own: beside
	 * the read-mostly fields (the leaves, above all), each write would take
	 * those from the other workers' caches.
	 */
	_Alignas(64) atomic_uint_fast64_t memory;
	atomic_uint_fast64_t peak;   /* the most 'memory' has been */
	atomic_uint_fast64_t states;
	atomic_uint_fast64_t qn;     /* the queue's length */
	atomic_size_t arena_used;
	/*
	 * The records, index slots and queue live in one reserved range
	 * (huge pages where the kernel gives them: the store's accesses are
	 * random, and with 4 KiB pages most of them also miss the TLB).
	 * NULL when the range could not be reserved: malloc then.
	 */
	_Alignas(64) uint8_t *arena;
	size_t arena_size;
	int nleaf;
	struct {
		uint8_t type;
		int8_t pcpu;         /* under symmetry, the pCPU of a pCPU or TLB-domain section; else -1 */
		uint8_t pad[2];      /* 8 bytes a leaf: indexed by a shift */
		uint16_t off;        /* in struct vt_state */
		uint16_t len;
	} leaf[VT_SECTIONS_MAX];
	int dom_leaf;                /* the leaf of TLB domain 0 */
	uint64_t dom_leaves;         /* the TLB domains' leaves */
	uint64_t pcpu_leaves;        /* the leaves with a pCPU (leaf[i].pcpu >= 0) */
	int nlevel;                  /* tree levels below the root */
	int level_size[VT_SECTIONS_MAX]; /* level l's ids grouped by four into level l + 1's */
#define GROUPS_MAX ((VT_SECTIONS_MAX + 3) / 4)
#define LEVELS_MAX 2 /* fewer than 64 leaves (a uint64_t mask): at most two levels of groups below the root */
	uint64_t group_mask[LEVELS_MAX][GROUPS_MAX]; /* [l][j]: level l's ids in level l + 1's id j */
	uint8_t group_cnt[LEVELS_MAX][GROUPS_MAX];   /* [l][j]: how many */
	struct itab sect[5];
	struct itab node4;           /* groups of up to four ids (NODE_NONE after the last) */
	struct itab root;
	/*
	 * The ids of new states in the order they were added (exact store,
	 * when asked for): a breadth-first search's queue.  Fixed-size chunks,
	 * so that a position never moves.
	 */
	bool queue;
	pthread_mutex_t qlock;
	_Atomic(uint32_t *) *qdir;
	_Atomic uint64_t *bits;      /* bitstate */
	unsigned bits_log2;
	unsigned k;
	struct vt_state init;
};

/* Would allocating 'more' bytes pass the cap?  If not, count them. */
static bool take(struct vt_visited *vs, uint64_t more)
{
	uint64_t cur = atomic_load(&vs->memory);
	do {
		if (cur + more > vs->max_memory)
			return false;
	} while (!atomic_compare_exchange_weak(&vs->memory, &cur, cur + more));
	uint64_t peak = atomic_load(&vs->peak);
	while (cur + more > peak && !atomic_compare_exchange_weak(&vs->peak, &peak, cur + more))
		;
	return true;
}

#define ARENA_ALIGN 64
#define HUGE_PAGE ((size_t)2 << 20)

/* Reserve the store's range: the cap and a little more (alignment), never made resident until used. */
static void arena_reserve(struct vt_visited *vs)
{
	/*
	 * Sanitizer builds use it too (make check runs them): AddressSanitizer
	 * does not see inside it, but what the store writes there is checked
	 * by the state counts every test compares.
	 */
#if defined(MAP_ANONYMOUS) && defined(MAP_NORESERVE)
	if (vs->max_memory > SIZE_MAX / 4)
		return;
	/*
	 * Under an address-space limit (ulimit -v) the reservation would take
	 * room that thread stacks and the rest of the program need: malloc.
	 */
	struct rlimit as;
	if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
		return;
	size_t size = (size_t)vs->max_memory + vs->max_memory / 8 + 4 * HUGE_PAGE;
	size = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (p == MAP_FAILED)
		return;
	/* start on a huge-page boundary: unmap the head and tail around it */
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + size + HUGE_PAGE > a + size)
		munmap((void *)(a + size), (uintptr_t)p + size + HUGE_PAGE - (a + size));
#ifdef MADV_HUGEPAGE
	(void)madvise((void *)a, size, MADV_HUGEPAGE);
#endif
	vs->arena = (uint8_t *)a;
	vs->arena_size = size;
#else
	(void)vs;
#endif
}

/* Bytes for the store (zero when fresh from the range; zeroed when 'zero' on the malloc path).  NULL: none. */
static void *store_alloc(struct vt_visited *vs, size_t bytes, bool zero)
{
	if (!vs->arena)
		return zero ? calloc(1, bytes) : malloc(bytes);
	size_t len = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	size_t off = atomic_fetch_add(&vs->arena_used, len);
	if (off + len > vs->arena_size)
		return NULL;
	return vs->arena + off;
}

/* Give back bytes from store_alloc: in the range, the whole pages they cover go back to the kernel. */
static void store_free(struct vt_visited *vs, void *p, size_t bytes)
{
	if (!vs->arena) {
		free(p);
		return;
	}
#ifdef MADV_DONTNEED
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), b = ((uintptr_t)p + bytes) & ~(pg - 1);
	if (p && b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
#else
	(void)p, (void)bytes;
#endif
}

static void itab_init(struct itab *t, size_t rec, size_t keylen, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->rec = rec;
	t->keylen = keylen;
	t->seed = seed;
	t->g = 0;
	while (t->g < 12 && ((size_t)1 << (S0_SHIFT + t->g + 1)) * rec <= CHUNK_BYTES_MAX)
		t->g++;
	for (unsigned i = 0; i < NST; i++)
		pthread_mutex_init(&t->st[i].lock, NULL);
}

static void itab_fini(struct vt_visited *vs, struct itab *t)
{
	for (unsigned i = 0; i < NST; i++) {
		struct stripe *s = &t->st[i];
		struct chunkdir *d = atomic_load(&s->dir);
		if (d && !vs->arena)
			for (uint32_t c = 0; c < d->n; c++)
				free(d->chunk[c]);
		while (d) {
			struct chunkdir *p = d->prev;
			free(d);
			d = p;
		}
		if (!vs->arena)
			free(s->slot);
		pthread_mutex_destroy(&s->lock);
	}
}

/*
 * The hash a key is placed by: 8-byte keys (lossy root keys) are mixed,
 * 16-byte ones (groups of four ids, exact root keys) folded into one word
 * and mixed, longer ones (sections) hashed.
 */
static inline uint64_t itab_hash(const struct itab *t, const void *key)
{
	if (t->keylen == 8)
		return mix64(load64(key));
	if (t->keylen == 16)
		return mix64(load64(key) ^ t->seed ^ rotl64(load64((const uint8_t *)key + 8) * 0x9e3779b97f4a7c15ull, 32));
	return hash_words(key, t->keylen, t->seed);
}

static inline size_t chunk_records(const struct itab *t, unsigned c)
{
	return (size_t)1 << (S0_SHIFT + (c < t->g ? c : t->g));
}

static inline uint8_t *rec_in(const struct itab *t, const struct chunkdir *d, uint32_t local)
{
	uint32_t q = (local >> S0_SHIFT) + 1;
	unsigned c = 31u - (unsigned)__builtin_clz(q);
	if (c < t->g)
		return d->chunk[c] + (size_t)(local - (((1u << c) - 1) << S0_SHIFT)) * t->rec;
	uint32_t off = local - (((1u << t->g) - 1) << S0_SHIFT);
	unsigned sh = S0_SHIFT + t->g;
	return d->chunk[t->g + (off >> sh)] + (size_t)(off & ((1u << sh) - 1)) * t->rec;
}

static inline uint8_t *itab_get(struct itab *t, uint32_t id)
{
	struct stripe *s = &t->st[id & (NST - 1)];
	return rec_in(t, atomic_load_explicit(&s->dir, memory_order_acquire), id >> SB);
}

/* Stripe lock held: make room for one more record.  0, or -1 at the cap or the index range. */
static int stripe_reserve(struct vt_visited *vs, struct itab *t, struct stripe *s)
{
	if (s->n + 1 >= LOCAL_LIMIT)
		return -1;
	if ((uint64_t)(s->n + 1) * 5 > (uint64_t)s->cap * 4) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		if (!take(vs, (uint64_t)cap * 4))
			return -1;
		uint32_t *n = store_alloc(vs, (size_t)cap * 4, true);
		if (!n)
			return -1;
		for (uint32_t i = 0; i < s->cap; i++) {
			uint32_t v = s->slot[i];
			if (!v)
				continue;
			uint8_t *r = rec_in(t, atomic_load_explicit(&s->dir, memory_order_relaxed), (v & ~TAG_MASK) - 1);
			uint32_t j = (uint32_t)itab_hash(t, r) & (cap - 1);
			while (n[j])
				j = (j + 1) & (cap - 1);
			n[j] = v;
		}
		store_free(vs, s->slot, (size_t)s->cap * 4);
		s->slot = n;
		s->cap = cap;
		atomic_store_explicit(&s->pf_slot, n, memory_order_relaxed);
		atomic_store_explicit(&s->pf_mask, cap - 1, memory_order_relaxed);
	}
	/* a new chunk when the record would not fit */
	if (s->n < s->have)
		return 0;
	size_t bytes = chunk_records(t, s->nchunks) * t->rec;
	struct chunkdir *old = atomic_load_explicit(&s->dir, memory_order_relaxed);
	uint32_t dircap = s->dircap;
	if (s->nchunks + 1 > dircap)
		dircap = dircap ? dircap * 2 : 8;
	if (!take(vs, bytes + (dircap != s->dircap ? sizeof(struct chunkdir) + dircap * sizeof(uint8_t *) : 0)))
		return -1;
	uint8_t *chunk = store_alloc(vs, bytes, false);
	if (!chunk)
		return -1;
	struct chunkdir *d = old;
	if (dircap != s->dircap || !old) {
		d = malloc(sizeof(*d) + dircap * sizeof(uint8_t *));
		if (!d) {
			store_free(vs, chunk, 0);
			return -1;
		}
		d->prev = old;
		d->n = s->nchunks;
		if (old)
			memcpy(d->chunk, old->chunk, old->n * sizeof(uint8_t *));
		s->dircap = dircap;
	}
	/*
	 * Adding a chunk pointer past d->n does not disturb a reader of d: it
	 * only reads pointers below the records it knows of.
	 */
	d->chunk[s->nchunks] = chunk;
	s->have += (uint32_t)chunk_records(t, s->nchunks);
	d->n = ++s->nchunks;
	atomic_store_explicit(&s->dir, d, memory_order_release);
	return 0;
}

/* Stripe lock held: the record with this key, or NULL; *pos: its slot or the empty one that ends the probe. */
static uint8_t *stripe_find(struct itab *t, struct stripe *s, const void *key, uint64_t h, uint32_t *pos,
			    uint32_t *local)
{
	if (!s->cap) {
		*pos = UINT32_MAX;
		return NULL;
	}
	uint32_t tag = (uint32_t)(h >> 20) & TAG_MASK;
	struct chunkdir *d = atomic_load_explicit(&s->dir, memory_order_relaxed);
	for (uint32_t j = (uint32_t)h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		uint32_t v = s->slot[j];
		if (!v) {
			*pos = j;
			return NULL;
		}
		if ((v & TAG_MASK) != tag)
			continue;
		uint8_t *r = rec_in(t, d, (v & ~TAG_MASK) - 1);
		if (t->keylen == 8 ? load64(r) == load64(key) : sect_eq(r, key, t->keylen)) {
			*pos = j;
			*local = (v & ~TAG_MASK) - 1;
			return r;
		}
	}
}

/* Stripe lock held, key absent: add a record (its key copied, the rest zero).  NULL at the cap. */
static uint8_t *stripe_add(struct vt_visited *vs, struct itab *t, struct stripe *s, const void *key, uint64_t h,
			   uint32_t *local)
{
	if (stripe_reserve(vs, t, s) < 0)
		return NULL;
	uint32_t j = (uint32_t)h & (s->cap - 1);
	while (s->slot[j])
		j = (j + 1) & (s->cap - 1);
	*local = s->n++;
	uint8_t *r = rec_in(t, atomic_load_explicit(&s->dir, memory_order_relaxed), *local);
	memcpy(r, key, t->keylen);
	memset(r + t->keylen, 0, t->rec - t->keylen);
	s->slot[j] = ((uint32_t)(h >> 20) & TAG_MASK) | (*local + 1);
	return r;
}

/* Intern a key: its id.  -1 at the memory cap. */
static int itab_intern(struct vt_visited *vs, struct itab *t, const void *key, uint64_t h, uint32_t *id)
{
	unsigned si = (unsigned)(h >> (64 - SB));
	struct stripe *s = &t->st[si];
	uint32_t pos, local;
	if (!vs->single)
		pthread_mutex_lock(&s->lock);
	uint8_t *r = stripe_find(t, s, key, h, &pos, &local);
	if (!r)
		r = stripe_add(vs, t, s, key, h, &local);
	if (!vs->single)
		pthread_mutex_unlock(&s->lock);
	if (!r)
		return -1;
	*id = (local << SB) | si;
	return 0;
}

static uint64_t itab_records(struct itab *t)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < NST; i++) {
		pthread_mutex_lock(&t->st[i].lock);
		n += t->st[i].n;
		pthread_mutex_unlock(&t->st[i].lock);
	}
	return n;
}

/* ---- root records ------------------------------------------------------------ */

/*
 * A root record: the key (the exact store's up to four root ids, 16 bytes;
 * a lossy store's fingerprint, 8), then, depth-first, a root_meta.
 * Breadth-first (with a queue) it is the key alone: states arrive in order
 * of depth, and the sleep sets are not used.
 */
/* A state's sections are bits of one word (the same-as-the-parent masks). */
_Static_assert(VT_SECTIONS_MAX < 64, "a section mask is a uint64_t");

struct root_meta {
	uint16_t depth;      /* smallest depth seen */
	uint8_t sleep;       /* guest transitions never explored from here */
	uint8_t pad[5];
};

/* ---- pCPU symmetry ------------------------------------------------------------- */

/*
 * pCPUs are interchangeable when each is its own TLB domain, every VM may
 * use every one, and the backend renames its own pCPU indices (and keys
 * them for the representative: vt_hv_ops.pcpu_refs).
 */
bool vt_symmetry_applies(const struct vt_model *m)
{
	if (!m->hv->permute_pcpus || !m->hv->pcpu_refs || m->npcpus < 2)
		return false;
	for (int p = 0; p < m->npcpus; p++)
		if (m->domain_of[p] != p)
			return false;
	uint64_t all = VT_BIT(m->npcpus) - 1;
	for (int i = 0; i < m->nvms; i++)
		if ((m->vm[i].pcpus & all) != all)
			return false;
	/* a host instrument names its pCPU: the pCPUs are no longer interchangeable */
	for (int i = 0; i < m->nprog[VT_MAX_VCPUS]; i++)
		if (m->prog[VT_MAX_VCPUS][i].op.code == VT_OP_HOST_INSN)
			return false;
	return true;
}

struct vt_canon {
	struct vt_state tmp, tmp2; /* tmp2: vt_canon_twins's swaps, debug builds' checks (a renamed child's ids) */
	/* recently interned sections and nodes: no lock for values seen before */
#define SCACHE 4096
	struct {
		uint64_t h;
		const uint8_t *rec; /* the interned record (records never move) */
		uint32_t id;
		uint32_t type;   /* section type + 1; 0: empty */
	} sc[SCACHE];
	/*
	 * Nodes by their four ids.  A miss costs two random reads of the
	 * node table, which a prefetch hides only partly on a virtual machine
	 * (bench/README.md, seventh pass): 2^16 entries (1.5 MiB a thread)
	 * miss 3.9% of the whole of scale-vmx-4vcpu's node look-ups, 2^14 8.7%.
	 */
#define NCACHE_BITS 16
#define NODE_NONE UINT32_MAX     /* no id: never a record's (ids stay below 2^32 - 2^SB) */
#define NCACHE (1u << NCACHE_BITS)
	struct {
		uint64_t lo, hi;
		uint32_t id1;    /* node id + 1; 0: empty */
	} nc4[NCACHE];
	/*
	 * The last state decoded (the parent of the states keyed next) and
	 * the ids of its tree, level by level (0: the leaves): a section equal
	 * to the parent's at the same place has the parent's id, and a node
	 * whose children are all unchanged is the parent's node, so a step
	 * costs lookups only along the paths of the sections it changed.
	 */
	const struct vt_state *base;
	uint32_t lv[LEVELS_MAX + 1][VT_SECTIONS_MAX];
	/*
	 * The scratch state keyed last (vt_visited_key_scratch) against the
	 * base, and its sections equal to the base's (bit i: leaf i): what
	 * vt_visited_restore copies back.  NULL when unknown.
	 */
	const struct vt_state *scratch;
	uint64_t scratch_same;
	/*
	 * Per leaf, the last two distinct sections keyed there (the
	 * interned records, which never move): siblings often write the
	 * same new value to a section, and a comparison is cheaper than a
	 * hash and a cache lookup.
	 */
	struct {
		const uint8_t *rec;
		uint32_t id;
	} recent[VT_SECTIONS_MAX][2];
	/*
	 * Per section type, the section that last replaced the one with id
	 * 'from' in a step with the same hint (section_id, vt_canon_hint): a
	 * step often changes a section the same way.
	 */
#define TCACHE_BITS 12
	uint64_t step;       /* vt_canon_hint's (its low 29 bits count), mixed into the key's top 29 bits */
	struct {
		uint64_t key;    /* (from << 3 | type) ^ step */
		const uint8_t *rec;
		uint32_t id;
	} tc[1u << TCACHE_BITS];
	/*
	 * vt_visited_prefetch_parents: the root records of the queue
	 * positions after the last one it was called for, at position %
	 * PF_RING, up to pf_next (excluded).
	 */
#define PF_AHEAD 4
#define PF_RING 8
	_Static_assert(PF_RING > PF_AHEAD, "the ring holds the positions up to PF_AHEAD on");
	const uint8_t *pf[PF_RING];
	uint64_t pf_next;
	/*
	 * Renamed sections: the id of the section with id 'from' (of a type)
	 * after a renaming of the pCPUs (renamed_id).  A section's renaming
	 * depends on its own bytes alone (vt_hv_ops.permute_pcpus renames the
	 * indices a value holds); debug builds check every hit.
	 */
#define RCACHE_BITS 12
	struct {
		uint64_t key;    /* from << 32 | renaming << 3 | type */
		uint32_t id1;    /* the renamed section's id + 1; 0: empty */
	} rc[1u << RCACHE_BITS];
};

/* 8 bytes as a big-endian number: compares as memcmp compares them. */
static inline uint64_t load_be64(const void *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(load64(p));
#else
	return load64(p);
#endif
}

/* memcmp's order of two 16-byte records, without the call. */
static inline int cmp16(const void *a, const void *b)
{
	uint64_t x = load_be64(a), y = load_be64(b);
	if (x == y) {
		x = load_be64((const uint8_t *)a + 8);
		y = load_be64((const uint8_t *)b + 8);
	}
	return x < y ? -1 : x > y;
}

/*
 * pCPU p's sort key, in the order compared: the vCPUs that last ran on p and
 * those loaded on p (vref[p], from the vCPU sections: cheap, and steadier
 * than what p holds, so that a child is more often in its parent's order
 * and needs no renaming), p's record, its TLB domain, and the backend's
 * references (refs[p], vt_hv_ops.pcpu_refs).  Together they hold every
 * entry of p and every reference to p that the renaming changes.
 */
#define VREF_LAST 8
_Static_assert(VT_MAX_VCPUS <= VREF_LAST && VREF_LAST + VT_MAX_VCPUS <= 16, "two vCPU sets in 16 bits");

/* The sort keys of one state's pCPUs; the backend's refs words are made on first use. */
struct pkeys {
	const struct vt_model *m;
	const struct vt_state *s;
	bool have_refs;
	uint16_t vref[VT_MAX_PCPUS];
	uint64_t refs[VT_MAX_PCPUS];
};

static inline void pkeys_init(struct pkeys *k, const struct vt_model *m, const struct vt_state *s)
{
	k->m = m;
	k->s = s;
	k->have_refs = false;
	memset(k->vref, 0, sizeof(k->vref));
	for (int v = 0; v < m->nvcpus; v++) {
		int lp = s->vcpu[v].last_pcpu, p = s->vcpu[v].pcpu;
		if (lp >= 0 && lp < m->npcpus)
			k->vref[lp] |= (uint16_t)VT_BIT(VREF_LAST + v);
		if (p >= 0 && p < m->npcpus)
			k->vref[p] |= (uint16_t)VT_BIT(v);
	}
}

static void pkeys_refs(struct pkeys *k)
{
	memset(k->refs, 0, sizeof(k->refs));
	k->m->hv->pcpu_refs(k->m, k->s, k->refs);
	k->have_refs = true;
}

/*
 * Order pCPUs a and b by what names them and what they hold; 0 when they
 * tie.  The backend's refs words are only needed between pCPUs whose
 * other parts are equal.
 */
static inline int pkey_cmp(struct pkeys *k, int a, int b)
{
	const struct vt_state *s = k->s;
	if (k->vref[a] != k->vref[b])
		return k->vref[a] < k->vref[b] ? -1 : 1;
	int c = sizeof(s->pcpu[0]) == 16 ? cmp16(&s->pcpu[a], &s->pcpu[b])
					 : memcmp(&s->pcpu[a], &s->pcpu[b], sizeof(s->pcpu[0]));
	if (!c)
		c = memcmp(&s->dom[a], &s->dom[b], sizeof(s->dom[0]));
	if (!c) {
		if (!k->have_refs)
			pkeys_refs(k);
		c = k->refs[a] < k->refs[b] ? -1 : k->refs[a] > k->refs[b];
	}
	return c;
}

/* Does renaming pCPUs a and b into each other leave s as it is? */
static bool swap_is_automorphism(const struct vt_model *m, const struct vt_state *s, int a, int b,
				 struct vt_state *tmp)
{
	vt_state_swap_pcpus(m, s, tmp, a, b);
	return vt_state_same(m, tmp, s);
}

/* Debug builds: swapping two pCPUs that tie leaves the state as it is (ord: the sorted pCPUs). */
static inline void ties_are_automorphisms(struct pkeys *k, const int8_t *ord, struct vt_canon *c)
{
#ifndef NDEBUG
	for (int t = 1; t < k->m->npcpus; t++)
		assert(pkey_cmp(k, ord[t - 1], ord[t]) != 0 ||
		       swap_is_automorphism(k->m, k->s, ord[t - 1], ord[t], &c->tmp2));
#else
	(void)k, (void)ord, (void)c;
#endif
}

/*
 * The renaming that reaches the representative of s's orbit under pCPU
 * renaming (map[p]: the new index of pCPU p; false when it is the
 * identity and s is the representative): the pCPUs sorted by
 * what names them and what they hold (struct pkeys: the vCPUs that last
 * ran there and those loaded there, the record, the TLB domain, the
 * backend's references and per-pCPU entries).
 *
 * Why the sort alone is canonical.  The key is complete: it holds every
 * per-pCPU entry and, as a set, every reference to the pCPU that
 * vt_state_permute_pcpus renames.  Each reference names one pCPU, so two
 * pCPUs whose keys are equal have equal entries and no reference at all;
 * swapping them leaves s as it is (asserted below in debug builds), and
 * so does any order of a tie group.  The key names vCPUs and pending
 * entries, never pCPUs, so renaming s renames its keys with it: every
 * state of an orbit sorts to the same representative, whatever order a
 * search reached it in.  And whatever the key, the result is a renaming
 * of s: two states of different orbits are never merged.
 */
static bool pcpu_order(const struct vt_model *m, struct vt_canon *c, const struct vt_state *s, int8_t *map)
{
	int n = m->npcpus;
	struct pkeys k;                 /* the backend's refs words are set on first use */
	pkeys_init(&k, m, s);
	int8_t ord[VT_MAX_PCPUS];       /* the pCPU placed at each sorted position */
	/* the sorted prefix: most states are already sorted (map stays the identity) */
	int i = 1;
	while (i < n && pkey_cmp(&k, i - 1, i) <= 0)
		i++;
	for (int p = 0; p < n; p++)
		ord[p] = (int8_t)p;
	if (i == n) {
		ties_are_automorphisms(&k, ord, c);
		return false;
	}
	/*
	 * Insertion sort of the rest (stable: tied pCPUs keep their order):
	 * at most 8 pCPUs.  pCPU i goes before i - 1, so the order is not
	 * the identity.
	 */
	for (; i < n; i++) {
		int j = i;
		for (; j > 0 && pkey_cmp(&k, ord[j - 1], i) > 0; j--)
			ord[j] = ord[j - 1];
		ord[j] = (int8_t)i;
	}
	ties_are_automorphisms(&k, ord, c);
	for (int t = 0; t < n; t++)
		map[ord[t]] = (int8_t)t;
	return true;
}

/* The representative itself: s, or its renaming in c->tmp. */
static const struct vt_state *representative(const struct vt_model *m, struct vt_canon *c,
					     const struct vt_state *s, int8_t *map)
{
	if (!pcpu_order(m, c, s, map))
		return s;
	vt_state_permute_pcpus(m, s, &c->tmp, map);
	return &c->tmp;
}

static const struct vt_state *canon_state(const struct vt_model *m, bool symmetric, struct vt_canon *c,
					  const struct vt_state *s, int8_t *map)
{
	int8_t local[VT_MAX_PCPUS];
	if (!map)
		map = local;
	for (int p = 0; p < VT_MAX_PCPUS; p++)
		map[p] = (int8_t)p;
	return symmetric ? representative(m, c, s, map) : s;
}

size_t vt_canon_bytes(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s, uint8_t *out,
		      int8_t *map)
{
	return vt_state_gather(vs->m, canon_state(vs->m, vs->symmetric, c, s, map), out);
}

size_t vt_canon_model_bytes(const struct vt_model *m, bool symmetric, struct vt_canon *c, const struct vt_state *s,
			    uint8_t *out, int8_t *map)
{
	return vt_state_gather(m, canon_state(m, symmetric, c, s, map), out);
}

uint64_t vt_canon_hash(const uint8_t *bytes, size_t n)
{
	uint64_t h = hash_words(bytes, n & ~(size_t)7, 0x6a09e667f3bcc909ull);
	uint64_t tail = 0;
	memcpy(&tail, bytes + (n & ~(size_t)7), n & 7);
	return mix64(h ^ tail);
}


/* ---- keys -------------------------------------------------------------------- */


static int section_id_hashed(struct vt_visited *vs, struct vt_canon *c, int i, const uint8_t *p, uint32_t *id,
			     const uint8_t **rec);

/* The entry of a direct-mapped cache of 2^bits entries for a key (Fibonacci hashing: the product's top bits). */
static inline size_t cache_slot(uint64_t key, unsigned bits)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

/*
 * The id of the section p at leaf i, where the base held the section with
 * id 'from' (without a base, any id: it only picks a cache entry, and a
 * hit is compared whole): one of the last two keyed there, the one that
 * replaced 'from' last time in a step with the same hint (vt_canon_hint),
 * or by its hash.
 */
static int section_id(struct vt_visited *vs, struct vt_canon *c, int i, const uint8_t *p, uint32_t from,
		      uint32_t *id)
{
	size_t len = vs->leaf[i].len;
	if (c->recent[i][0].rec && sect_eq(c->recent[i][0].rec, p, len)) {
		*id = c->recent[i][0].id;
		return 0;
	}
	const uint8_t *rec = c->recent[i][1].rec;
	uint64_t key = ((uint64_t)from << 3 | vs->leaf[i].type) ^ c->step;
	size_t ti = cache_slot(key, TCACHE_BITS);
	if (rec && sect_eq(rec, p, len)) {
		*id = c->recent[i][1].id;
	} else if (c->tc[ti].rec && c->tc[ti].key == key && sect_eq(c->tc[ti].rec, p, len)) {
		*id = c->tc[ti].id;
		rec = c->tc[ti].rec;
	} else if (section_id_hashed(vs, c, i, p, id, &rec) < 0) {
		return -1;
	} else {
		c->tc[ti].key = key;
		c->tc[ti].rec = rec;
		c->tc[ti].id = *id;
	}
	c->recent[i][1] = c->recent[i][0];
	c->recent[i][0].rec = rec;
	c->recent[i][0].id = *id;
	return 0;
}

static int section_id_hashed(struct vt_visited *vs, struct vt_canon *c, int i, const uint8_t *p, uint32_t *id,
			     const uint8_t **rec)
{
	unsigned type = vs->leaf[i].type;
	size_t len = vs->leaf[i].len;
	uint64_t h = hash_words(p, len, vs->sect[type].seed);
	size_t ci = (size_t)(h ^ (h >> 17)) & (SCACHE - 1);
	if (c->sc[ci].type == type + 1 && c->sc[ci].h == h && memcmp(c->sc[ci].rec, p, len) == 0) {
		*id = c->sc[ci].id;
		*rec = c->sc[ci].rec;
		return 0;
	}
	if (itab_intern(vs, &vs->sect[type], p, h, id) < 0)
		return -1;
	c->sc[ci].h = h;
	c->sc[ci].rec = *rec = itab_get(&vs->sect[type], *id);
	c->sc[ci].id = *id;
	c->sc[ci].type = type + 1;
	return 0;
}

/* The id of a group of 2 to 4 ids (the rest of its record NODE_NONE). */
static int node4_id(struct vt_visited *vs, struct vt_canon *c, const uint32_t *ids, int cnt, uint32_t *id)
{
	/* element by element: a copy of a variable length is a rep movs */
	uint32_t g[4] = {ids[0], ids[1], cnt > 2 ? ids[2] : NODE_NONE, cnt > 3 ? ids[3] : NODE_NONE};
	uint64_t lo = (uint64_t)g[0] << 32 | g[1], hi = (uint64_t)g[2] << 32 | g[3];
	size_t ci = cache_slot(lo ^ rotl64(hi, 29), NCACHE_BITS);
	if (c->nc4[ci].id1 && c->nc4[ci].lo == lo && c->nc4[ci].hi == hi) {
		*id = c->nc4[ci].id1 - 1;
		return 0;
	}
	if (itab_intern(vs, &vs->node4, g, itab_hash(&vs->node4, g), id) < 0)
		return -1;
	c->nc4[ci].lo = lo;
	c->nc4[ci].hi = hi;
	c->nc4[ci].id1 = *id + 1;
	return 0;
}

/*
 * The id of the section at leaf i (not a pCPU's or a TLB domain's) of a
 * state renamed by the renaming 'ren' (map packed by renaming_code), whose
 * bytes p held the section with id 'from' before: cached, so a section the
 * renaming alone changed costs no hash.
 */
static int renamed_id(struct vt_visited *vs, struct vt_canon *c, int i, uint32_t from, uint32_t ren,
		      const uint8_t *p, uint32_t *id)
{
	uint64_t key = (uint64_t)from << 32 | (uint64_t)ren << 3 | vs->leaf[i].type;
	size_t ci = cache_slot(key, RCACHE_BITS);
	if (c->rc[ci].id1 && c->rc[ci].key == key) {
		*id = c->rc[ci].id1 - 1;
		assert(sect_eq(itab_get(&vs->sect[vs->leaf[i].type], *id), p, vs->leaf[i].len));
		return 0;
	}
	if (section_id(vs, c, i, p, from, id) < 0)
		return -1;
	c->rc[ci].key = key;
	c->rc[ci].id1 = *id + 1;
	return 0;
}

/* A renaming of the pCPUs in one word: 3 bits a pCPU. */
_Static_assert(VT_MAX_PCPUS <= 8 && 3 * VT_MAX_PCPUS + 3 <= 32, "a renaming and a section type in 32 bits");
static inline uint32_t renaming_code(const int8_t *map, int n)
{
	uint32_t r = 0;
	for (int p = 0; p < n; p++)
		r |= (uint32_t)map[p] << (3 * p);
	return r;
}

bool vt_canon_twins(const struct vt_model *m, struct vt_canon *c, const struct vt_state *s, uint64_t among,
		    int8_t *twin)
{
	assert(vt_symmetry_applies(m));
	/*
	 * A vCPU that last ran on a pCPU leads that pCPU's sort key (pkeys),
	 * and it last ran on one pCPU only: such a pCPU ties with none.
	 */
	for (int v = 0; v < m->nvcpus; v++)
		if (s->vcpu[v].last_pcpu >= 0)
			among &= ~VT_BIT(s->vcpu[v].last_pcpu);
	if (!(among & (among - 1)))
		return false; /* fewer than two left */
	for (int p = 0; p < m->npcpus; p++)
		twin[p] = (int8_t)p;
	struct pkeys k;
	pkeys_init(&k, m, s);
	bool any = false;
	VT_U64_FOREACH(p, among) {
		/*
		 * Equal keys should make the swap an automorphism (pcpu_order);
		 * the swap is checked, so that a key missing a part can cost
		 * steps, never states.
		 */
		VT_U64_FOREACH(q, among & (VT_BIT(p) - 1)) {
			if (twin[q] == q && pkey_cmp(&k, q, p) == 0) {
				if (swap_is_automorphism(m, s, q, p, &c->tmp2)) {
					twin[p] = (int8_t)q;
					any = true;
				}
				break;
			}
		}
	}
	return any;
}

/*
 * The leaf ids of the representative of s into cur: s itself, or when
 * 'moved' (s itself, writable) s renamed by map.  s is the child of c->base,
 * or any state when there is no base.  *same: bit i when leaf i has the
 * base's id at that place; *phys: bit i when s's own section at leaf i
 * still equals the base's (what vt_visited_restore need not copy).
 *
 * The leaves are compared with the base's first, at the same place (equal
 * bytes, equal id), then only those that differ are looked up.  When
 * moved, s is renamed in place (vt_state_rename_pcpu_refs) but its pCPU
 * and TLB-domain sections stay where they are: leaf i of pCPU q is read
 * from pCPU inv[q]'s place, and a section equal to the base's before the
 * renaming has the renamed id of the base's (renamed_id).
 */
static inline int leaf_ids(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s,
			   struct vt_state *moved, const int8_t *map, const int8_t *inv, uint64_t kept, uint32_t *cur,
			   uint64_t *same, uint64_t *phys)
{
	const int n = vs->nleaf;
	const uint8_t *a = (const uint8_t *)s, *b = (const uint8_t *)c->base;
	const uint32_t *lv0 = c->lv[0];
	const uint64_t all = VT_BIT(n) - 1;
	uint64_t eq = 0;
	if (b) {
		/* the TLB domains the step did not write are the parent's */
		for (uint64_t d = kept; d; d &= d - 1)
			assert(sect_eq(a + vs->leaf[__builtin_ctzll(d)].off, b + vs->leaf[__builtin_ctzll(d)].off,
				       vs->leaf[__builtin_ctzll(d)].len));
		eq = kept;
		for (uint64_t d = all & ~kept; d; d &= d - 1) {
			int i = __builtin_ctzll(d);
			size_t off = vs->leaf[i].off;
			if (sect_eq(a + off, b + off, vs->leaf[i].len))
				eq |= VT_BIT(i);
		}
	}
	if (!moved) {
		memcpy(cur, lv0, sizeof(c->lv[0]));
		for (uint64_t d = all & ~eq; d; d &= d - 1) {
			int i = __builtin_ctzll(d);
			if (section_id(vs, c, i, a + vs->leaf[i].off, lv0[i], &cur[i]) < 0)
				return -1;
			/* the base's id at this place: the base's tree nodes above it can be reused */
			if (b && cur[i] == lv0[i])
				eq |= VT_BIT(i);
		}
		*same = *phys = eq;
		return 0;
	}
#ifndef NDEBUG
	struct vt_state *rep = &c->tmp2;
	vt_state_permute_pcpus(vs->m, s, rep, map);
#endif
	vt_state_rename_pcpu_refs(vs->m, moved, map);
	uint32_t ren = renaming_code(map, vs->m->npcpus);
	uint64_t sm = 0, bit = 1;
	for (int i = 0; i < n; i++, bit <<= 1) {
		int q = vs->leaf[i].pcpu;
		if (q >= 0) {
			/* pCPU inv[q]'s section, which the renaming does not change */
			int j = i - q + inv[q];
			if (eq >> j & 1)
				cur[i] = lv0[j];
			else if (section_id(vs, c, i, a + vs->leaf[j].off, lv0[j], &cur[i]) < 0)
				return -1;
		} else if (eq >> i & 1) {
			if (renamed_id(vs, c, i, lv0[i], ren, a + vs->leaf[i].off, &cur[i]) < 0)
				return -1;
		} else if (section_id(vs, c, i, a + vs->leaf[i].off, lv0[i], &cur[i]) < 0) {
			return -1;
		}
		/* the id is the representative's section's */
		assert(sect_eq(itab_get(&vs->sect[vs->leaf[i].type], cur[i]), (const uint8_t *)rep + vs->leaf[i].off,
			       vs->leaf[i].len));
		if (cur[i] == lv0[i])
			sm |= bit;
	}
	if (!b)
		sm = 0; /* no base: no parent's ids to reuse */
	*same = sm;
	/* the other leaves hold the renamed sections in place: equal to the base's where their ids are */
	*phys = (eq & vs->pcpu_leaves) | (sm & ~vs->pcpu_leaves);
	return 0;
}

static int key_of(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s, struct vt_key *k,
		  int8_t *map, struct vt_state *own)
{
	int8_t local[VT_MAX_PCPUS], inv[VT_MAX_PCPUS];
	if (!map)
		map = local;
	c->scratch = NULL;
	bool moved = false;
	if (own) {
		/* the caller's scratch state: renamed where it is (leaf_ids) */
		for (int p = 0; p < VT_MAX_PCPUS; p++)
			map[p] = (int8_t)p;
		if (vs->symmetric && (moved = pcpu_order(vs->m, c, own, map)))
			for (int p = 0; p < vs->m->npcpus; p++)
				inv[map[p]] = (int8_t)p;
	} else {
		s = canon_state(vs->m, vs->symmetric, c, s, map);
	}
	uint32_t cur[VT_SECTIONS_MAX];
	uint64_t same, phys; /* same, bit i: cur[i] is the base's at this level */
	/* the leaves of the TLB domains a scratch child's step did not write (vt_visited_key_scratch) */
	uint64_t kept = own && c->base ? (uint64_t)(uint16_t)~own->meta.dom_w << vs->dom_leaf & vs->dom_leaves : 0;
	if (leaf_ids(vs, c, s, moved ? own : NULL, map, inv, kept, cur, &same, &phys) < 0)
		return -1;
	if (own && c->base) {
		c->scratch = own;
		c->scratch_same = phys;
	}
	if (vs->kind != VT_STORE_EXACT) {
		/* a fingerprint of the leaf ids; a second, independent hash picks the slot or bits */
		k->k[0] = hash_words((const uint8_t *)cur, (size_t)vs->nleaf * 4 & ~(size_t)7, 0x5bd1e995u);
		if (vs->nleaf & 1)
			k->k[0] = mix64(k->k[0] ^ cur[vs->nleaf - 1]);
		k->k[1] = 0;
		k->h = mix64(k->k[0]);
		return 0;
	}
	for (int l = 1; l <= vs->nlevel; l++) {
		const int ng = vs->level_size[l];
		const uint32_t *lvl = c->lv[l];
		const uint64_t *gm = vs->group_mask[l - 1];
		const uint8_t *gc = vs->group_cnt[l - 1];
		uint64_t up = 0;
		for (int j = 0; j < ng; j++) {
			const int i = 4 * j;
			if ((same & gm[j]) == gm[j]) {
				/* the parent's node (or, alone in its group, the parent's id passed up) */
				cur[j] = lvl[j];
				up |= VT_BIT(j);
			} else if (gc[j] == 1) {
				cur[j] = cur[i];
			} else if (node4_id(vs, c, &cur[i], gc[j], &cur[j]) < 0) {
				return -1;
			}
		}
		same = up;
	}
	int n = vs->level_size[vs->nlevel];
	/* the root: up to four ids, the rest NODE_NONE */
	for (int i = n; i < 4; i++)
		cur[i] = NODE_NONE;
	k->k[0] = (uint64_t)cur[0] << 32 | cur[1];
	k->k[1] = (uint64_t)cur[2] << 32 | cur[3];
	k->h = itab_hash(&vs->root, k->k);
	return 0;
}

int vt_visited_key(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s, struct vt_key *k,
		   int8_t *map)
{
	return key_of(vs, c, s, k, map, NULL);
}

int vt_visited_key_scratch(struct vt_visited *vs, struct vt_canon *c, struct vt_state *s, struct vt_key *k)
{
	return key_of(vs, c, s, k, NULL, s);
}

bool vt_visited_restore(struct vt_visited *vs, struct vt_canon *c, struct vt_state *dst, const struct vt_state *src)
{
	if (!c->scratch || c->scratch != dst || c->base != src)
		return false;
	c->scratch = NULL;
	memcpy(dst, src, VT_STATE_CANON_OFF);
	for (uint64_t diff = ~c->scratch_same & (VT_BIT(vs->nleaf) - 1); diff; diff &= diff - 1) {
		int i = __builtin_ctzll(diff);
		memcpy((uint8_t *)dst + vs->leaf[i].off, (const uint8_t *)src + vs->leaf[i].off, vs->leaf[i].len);
	}
	assert(vt_state_same(vs->m, dst, src));
	return true;
}

/* ---- insert ------------------------------------------------------------------ */

/*
 * Queue chunks: the first ones double from 2^10 ids up to 2^20, later ones
 * hold 2^20 each (4 MiB), so a small search allocates little and a large one
 * wastes at most one chunk.
 */
#define Q0 10
#define QG 11                    /* doubling chunks: 2^10 .. 2^20 ids */
#define QFIX 20
#define QBASE ((((uint64_t)1 << QG) - 1) << Q0) /* ids in the doubling chunks */
#define QCHUNKS (QG + (1u << (32 - QFIX)))      /* 2^32 positions and more */

/* Position -> chunk c (of len ids) and the offset in it. */
static inline uint64_t queue_pos(uint64_t pos, unsigned *c, size_t *len)
{
	if (pos < QBASE) {
		*c = 63u - (unsigned)__builtin_clzll((pos >> Q0) + 1);
		*len = (size_t)1 << (Q0 + *c);
		return pos - ((((uint64_t)1 << *c) - 1) << Q0);
	}
	*c = QG + (unsigned)((pos - QBASE) >> QFIX);
	*len = (size_t)1 << QFIX;
	return (pos - QBASE) & (((uint64_t)1 << QFIX) - 1);
}

static int queue_add(struct vt_visited *vs, uint32_t id)
{
	uint64_t pos = atomic_fetch_add(&vs->qn, 1);
	unsigned c;
	size_t len;
	uint64_t off = queue_pos(pos, &c, &len);
	if (c >= QCHUNKS)
		return -1;
	_Atomic(uint32_t *) *slot = &vs->qdir[c];
	uint32_t *chunk = atomic_load_explicit(slot, memory_order_acquire);
	if (!chunk) {
		pthread_mutex_lock(&vs->qlock);
		chunk = atomic_load_explicit(slot, memory_order_relaxed);
		if (!chunk && take(vs, (uint64_t)4 * len)) {
			chunk = store_alloc(vs, 4 * len, false);
			atomic_store_explicit(slot, chunk, memory_order_release);
		}
		pthread_mutex_unlock(&vs->qlock);
		if (!chunk)
			return -1;
	}
	chunk[off] = id;
	return 0;
}

uint64_t vt_visited_queued(struct vt_visited *vs)
{
	uint64_t n = atomic_load(&vs->qn);
	return n < vt_visited_states(vs) ? n : vt_visited_states(vs);
}

uint32_t vt_visited_queue_at(struct vt_visited *vs, uint64_t pos)
{
	unsigned c;
	size_t len;
	uint64_t off = queue_pos(pos, &c, &len);
	return atomic_load_explicit(&vs->qdir[c], memory_order_acquire)[off];
}

void vt_visited_prefetch_parents(struct vt_visited *vs, struct vt_canon *c, uint64_t pos, uint64_t end)
{
	/*
	 * Two stages: the root record PF_AHEAD places on, and the top nodes
	 * of the state two places on, whose root record the first stage
	 * fetched two expansions ago.  Only the nodes that differ from the
	 * state before it: decoding is incremental (vt_visited_decode).  The
	 * root records' addresses wait in c's ring, each found once.
	 */
	const uint64_t far = pos + PF_AHEAD;
	if (c->pf_next != far) {
		/* not the position after the last call's: fill the ring */
		for (uint64_t q = pos + 1; q < far && q < end; q++)
			c->pf[q % PF_RING] = itab_get(&vs->root, vt_visited_queue_at(vs, q));
	}
	if (far < end) {
		const uint8_t *r = itab_get(&vs->root, vt_visited_queue_at(vs, far));
		__builtin_prefetch(r);
		c->pf[far % PF_RING] = r;
		c->pf_next = far + 1;
	} else {
		c->pf_next = end;
	}
	if (pos + 2 >= end || vs->nlevel == 0)
		return;
	const int top = vs->level_size[vs->nlevel];
	const uint8_t *gc = vs->group_cnt[vs->nlevel - 1];
	uint32_t x[4], y[4];
	root_ids(c->pf[(pos + 1) % PF_RING], x);
	root_ids(c->pf[(pos + 2) % PF_RING], y);
	for (int i = 0; i < top; i++)
		if (x[i] != y[i] && gc[i] > 1)
			__builtin_prefetch(itab_get(&vs->node4, y[i]));
}

int vt_visited_keep_queue(struct vt_visited *vs)
{
	if (vs->kind != VT_STORE_EXACT || vt_visited_states(vs) || !take(vs, QCHUNKS * sizeof(*vs->qdir)))
		return -1;
	vs->root.rec = vs->root.keylen;
	vs->qdir = calloc(QCHUNKS, sizeof(*vs->qdir));
	if (!vs->qdir)
		return -1;
	vs->queue = true;
	return 0;
}

static enum vt_visit bitstate_insert(struct vt_visited *vs, const struct vt_key *k)
{
	uint64_t mask = ((uint64_t)1 << vs->bits_log2) - 1;
	uint64_t h1 = k->h, h2 = mix64(k->k[0] ^ 0x2545f4914f6cdd1dull) | 1;
	bool fresh = false;
	/* one lock per key's stripe: two workers inserting the same state cannot both find it new */
	pthread_mutex_t *lock = &vs->root.st[k->h >> (64 - SB)].lock;
	pthread_mutex_lock(lock);
	for (unsigned i = 0; i < vs->k; i++) {
		uint64_t b = (h1 + i * h2) & mask;
		uint64_t bit = (uint64_t)1 << (b & 63);
		if (!(atomic_fetch_or_explicit(&vs->bits[b >> 6], bit, memory_order_relaxed) & bit))
			fresh = true;
	}
	pthread_mutex_unlock(lock);
	if (!fresh)
		return VT_VISIT_SKIP;
	atomic_fetch_add(&vs->states, 1);
	return VT_VISIT_NEW;
}

enum vt_visit vt_visited_insert(struct vt_visited *vs, const struct vt_key *k, unsigned depth, uint8_t sleep,
				uint8_t *extra, uint32_t *id)
{
	if (vs->kind == VT_STORE_BITSTATE)
		return bitstate_insert(vs, k);
	unsigned si = (unsigned)(k->h >> (64 - SB));
	struct stripe *s = &vs->root.st[si];
	uint32_t pos, local;
	enum vt_visit r;
	if (!vs->single)
		pthread_mutex_lock(&s->lock);
	uint8_t *rec = stripe_find(&vs->root, s, k->k, k->h, &pos, &local);
	/* depth-first, the record's depth and sleep set after its key */
	struct root_meta *e = rec ? (struct root_meta *)(rec + vs->root.keylen) : NULL;
	if (rec && vs->queue) {
		r = VT_VISIT_SKIP;
	} else if (rec) {
		if (depth < e->depth) {
			e->depth = (uint16_t)depth;
			e->sleep = sleep;
			r = VT_VISIT_SHALLOWER;
		} else {
			*extra = e->sleep & (uint8_t)~sleep;
			e->sleep &= sleep;
			r = *extra ? VT_VISIT_EXTRA : VT_VISIT_SKIP;
		}
	} else {
		rec = stripe_add(vs, &vs->root, s, k->k, k->h, &local);
		if (rec && !vs->queue) {
			e = (struct root_meta *)(rec + vs->root.keylen);
			e->depth = (uint16_t)depth;
			e->sleep = sleep;
		}
		if (rec) {
			r = VT_VISIT_NEW;
		} else {
			r = VT_VISIT_FULL;
		}
	}
	if (!vs->single)
		pthread_mutex_unlock(&s->lock);
	if (r == VT_VISIT_NEW) {
		if (vs->queue && queue_add(vs, (local << SB) | si) < 0)
			return VT_VISIT_FULL; /* XXX: stored but never expanded; the search stops incomplete */
		atomic_fetch_add(&vs->states, 1);
	}
	if (id && r != VT_VISIT_FULL)
		*id = (local << SB) | si;
	return r;
}

bool vt_visited_find(struct vt_visited *vs, const struct vt_key *k, uint32_t *id)
{
	assert(vs->kind == VT_STORE_EXACT);
	unsigned si = (unsigned)(k->h >> (64 - SB));
	struct stripe *s = &vs->root.st[si];
	uint32_t pos, local;
	if (!vs->single)
		pthread_mutex_lock(&s->lock);
	bool found = stripe_find(&vs->root, s, k->k, k->h, &pos, &local) != NULL;
	if (!vs->single)
		pthread_mutex_unlock(&s->lock);
	if (found)
		*id = (local << SB) | si;
	return found;
}

void vt_visited_prefetch(struct vt_visited *vs, const struct vt_key *k)
{
	if (vs->kind == VT_STORE_BITSTATE)
		return;
	struct stripe *s = &vs->root.st[k->h >> (64 - SB)];
	/*
	 * The address as an integer: the array may have been replaced since,
	 * and the mask read may be the new array's (twice the old one's).
	 */
	uintptr_t slot = (uintptr_t)atomic_load_explicit(&s->pf_slot, memory_order_relaxed);
	uint32_t mask = atomic_load_explicit(&s->pf_mask, memory_order_relaxed);
	if (slot)
		__builtin_prefetch((const void *)(slot + sizeof(uint32_t) * ((uint32_t)k->h & mask)));
}

/* ---- decoding ------------------------------------------------------------------ */

bool vt_visited_key_is(struct vt_visited *vs, uint32_t id, const struct vt_key *k)
{
	return memcmp(itab_get(&vs->root, id), k->k, vs->root.keylen) == 0;
}

void vt_visited_decode(struct vt_visited *vs, struct vt_canon *c, uint32_t id, struct vt_state *out)
{
	assert(vs->kind == VT_STORE_EXACT);
	const uint8_t *root = itab_get(&vs->root, id);
	/* decoding into the last state decoded: only the subtrees whose ids changed */
	bool inc = c && c->base == out;
	uint32_t cur[VT_SECTIONS_MAX], nxt[VT_SECTIONS_MAX];
	int top = vs->level_size[vs->nlevel];
	uint64_t diff = 0;
	uint32_t ids[4];
	root_ids(root, ids);
	for (int i = 0; i < top; i++) {
		cur[i] = ids[i];
		diff |= (uint64_t)(!inc || cur[i] != c->lv[vs->nlevel][i]) << i;
	}
	if (c)
		memcpy(c->lv[vs->nlevel], cur, (size_t)top * sizeof(cur[0]));
	/* unfold the levels, the last one first */
	for (int l = vs->nlevel - 1; l >= 0; l--) {
		int below = vs->level_size[l], above = vs->level_size[l + 1];
		uint64_t nd = 0;
		for (int i = 0; i < above; i++) {
			int b = 4 * i, cnt = vs->group_cnt[l][i];
			if (cnt == 1) {
				nxt[b] = cur[i];
				nd |= (diff >> i & 1) << b;
			} else if (diff >> i & 1) {
				memcpy(&nxt[b], itab_get(&vs->node4, cur[i]), (size_t)cnt * sizeof(nxt[0]));
				for (int k = b; k < b + cnt; k++)
					nd |= (uint64_t)(!inc || nxt[k] != c->lv[l][k]) << k;
			} else {
				memcpy(&nxt[b], &c->lv[l][b], (size_t)cnt * sizeof(nxt[0]));
			}
		}
		memcpy(cur, nxt, (size_t)below * sizeof(cur[0]));
		if (c)
			memcpy(c->lv[l], cur, (size_t)below * sizeof(cur[0]));
		diff = nd;
	}
	if (!inc)
		memcpy(out, &vs->init, sizeof(*out));
	for (uint64_t d = diff & (VT_BIT(vs->nleaf) - 1); d; d &= d - 1) {
		int i = __builtin_ctzll(d);
		memcpy((uint8_t *)out + vs->leaf[i].off, itab_get(&vs->sect[vs->leaf[i].type], cur[i]),
		       vs->leaf[i].len);
	}
	out->meta.step = 0;
	out->meta.limit = 0;
	if (c) {
		/*
		 * A scratch state keyed against the old base now differs from
		 * the new one where it differed from the old one or where the
		 * old and the new base differ: vt_visited_restore still copies
		 * back only those sections.
		 */
		if (inc && c->scratch)
			c->scratch_same &= ~diff;
		else
			c->scratch = NULL;
		c->base = out;
	}
}

/* ---- the store ------------------------------------------------------------------ */

struct vt_visited *vt_visited_new(const struct vt_model *m, enum vt_store_kind kind, bool symmetric,
				  uint64_t max_memory, unsigned bitstate_k)
{
	/* cache-line aligned (its hot counters and stripes): calloc promises less */
	struct vt_visited *vs = aligned_alloc(_Alignof(struct vt_visited), sizeof(*vs));
	if (!vs)
		return NULL;
	memset(vs, 0, sizeof(*vs));
	vs->m = m;
	vs->kind = kind;
	vs->symmetric = symmetric;
	vs->max_memory = max_memory;
	if (kind == VT_STORE_EXACT || kind == VT_STORE_HC)
		arena_reserve(vs);
	vt_state_init(m, &vs->init);
	int n = 0;
	vs->leaf[n].type = 0;
	vs->leaf[n].pcpu = -1;
	vs->leaf[n].off = (uint16_t)VT_STATE_CANON_OFF;
	vs->leaf[n++].len = (uint16_t)vt_state_sect_len(m, 0);
#define SECTIONS(ty, arr, cnt)                                                          \
	for (int i = 0; i < (cnt); i++, n++) {                                          \
		vs->leaf[n].type = (ty);                                                \
		vs->leaf[n].pcpu = (int8_t)((ty) >= 3 && symmetric && i < m->npcpus ? i : -1); \
		vs->leaf[n].off = (uint16_t)(offsetof(struct vt_state, arr) + (size_t)i * sizeof(vs->init.arr[0])); \
		vs->leaf[n].len = (uint16_t)vt_state_sect_len(m, (ty));                 \
	}
	SECTIONS(1, vm, m->nvms)
	SECTIONS(2, vcpu, m->nvcpus)
	SECTIONS(3, pcpu, m->npcpus)
	vs->dom_leaf = n;
	vs->dom_leaves = (VT_BIT(m->ndomains) - 1) << n;
	SECTIONS(4, dom, m->ndomains)
#undef SECTIONS
	vs->nleaf = n;
	for (int i = 0; i < n; i++)
		if (vs->leaf[i].pcpu >= 0)
			vs->pcpu_leaves |= VT_BIT(i);
	vs->level_size[0] = n;
	int l = 0;
	while (vs->level_size[l] > 4) {
		/* groups of four while more than four ids remain; the root holds the last four or fewer */
		vs->level_size[l + 1] = (vs->level_size[l] + 3) / 4;
		assert(l < LEVELS_MAX && vs->level_size[l + 1] <= GROUPS_MAX);
		for (int j = 0; j < vs->level_size[l + 1]; j++) {
			int cnt = vs->level_size[l] - 4 * j < 4 ? vs->level_size[l] - 4 * j : 4;
			vs->group_mask[l][j] = (VT_BIT(cnt) - 1) << (4 * j);
			vs->group_cnt[l][j] = (uint8_t)cnt;
		}
		l++;
	}
	vs->nlevel = l;
	for (int ty = 0; ty < 5; ty++) {
		size_t len = vt_state_sect_len(m, ty);
		itab_init(&vs->sect[ty], len, len, (uint64_t)ty + 1);
	}
	itab_init(&vs->node4, 16, 16, 5);
	size_t keylen = kind == VT_STORE_EXACT ? 16 : 8;
	itab_init(&vs->root, keylen + sizeof(struct root_meta), keylen, 6);
	pthread_mutex_init(&vs->qlock, NULL);
	/* the fixed overhead counts, but a cap smaller than it still runs (and stops at once) */
	atomic_fetch_add(&vs->memory, sizeof(*vs));
	if (kind == VT_STORE_BITSTATE) {
		vs->k = bitstate_k ? bitstate_k : 3;
		uint64_t bytes = 1 << 12;
		while (bytes * 2 <= max_memory / 4)
			bytes *= 2;
		vs->bits_log2 = 0;
		while (((uint64_t)1 << vs->bits_log2) < bytes * 8)
			vs->bits_log2++;
		/* calloc: pages the search never touches are never made resident */
		atomic_fetch_add(&vs->memory, bytes);
		if (!(vs->bits = calloc(bytes / 8, 8))) {
			vt_visited_free(vs);
			return NULL;
		}
	}
	atomic_store(&vs->peak, atomic_load(&vs->memory));
	return vs;
}

void vt_visited_free(struct vt_visited *vs)
{
	if (!vs)
		return;
	for (int i = 0; i < 5; i++)
		itab_fini(vs, &vs->sect[i]);
	itab_fini(vs, &vs->node4);
	itab_fini(vs, &vs->root);
	if (vs->qdir) {
		if (!vs->arena)
			for (unsigned i = 0; i < QCHUNKS; i++)
				free(atomic_load(&vs->qdir[i]));
		free((void *)vs->qdir);
	}
	if (vs->arena)
		munmap(vs->arena, vs->arena_size);
	pthread_mutex_destroy(&vs->qlock);
	free((void *)vs->bits);
	free(vs);
}

bool vt_visited_reserve(struct vt_visited *vs, uint64_t bytes)
{
	return take(vs, bytes);
}

void vt_visited_unreserve(struct vt_visited *vs, uint64_t bytes)
{
	assert(atomic_load(&vs->memory) >= bytes);
	atomic_fetch_sub(&vs->memory, bytes);
}

struct vt_canon *vt_canon_new(struct vt_visited *vs)
{
	(void)vs;
	return calloc(1, sizeof(struct vt_canon));
}

void vt_canon_hint(struct vt_canon *c, uint64_t step)
{
	/*
	 * Above the 35 bits of from << 3 | type, so a hint never makes two of
	 * those keys equal; the product's low 29 bits depend only on step's.
	 */
	c->step = step * 0x9e3779b97f4a7c15ull << 35;
}

void vt_canon_forget(struct vt_canon *c)
{
	c->base = NULL;
}

void vt_canon_free(struct vt_canon *c)
{
	free(c);
}

void vt_visited_single(struct vt_visited *vs, bool single)
{
	vs->single = single;
}

uint64_t vt_visited_states(struct vt_visited *vs)
{
	return atomic_load(&vs->states);
}

uint64_t vt_visited_peak(struct vt_visited *vs)
{
	return atomic_load(&vs->peak);
}

uint64_t vt_visited_memory(struct vt_visited *vs)
{
	return atomic_load(&vs->memory);
}

uint64_t vt_visited_nodes(struct vt_visited *vs)
{
	return vs->kind == VT_STORE_EXACT ? itab_records(&vs->node4) : 0;
}

uint64_t vt_visited_stored(struct vt_visited *vs)
{
	uint64_t b = 0;
	for (int i = 0; i < 5; i++)
		b += itab_records(&vs->sect[i]) * (vs->sect[i].rec + 4);
	b += itab_records(&vs->node4) * (16 + 4);
	if (vs->kind == VT_STORE_BITSTATE)
		b += ((uint64_t)1 << vs->bits_log2) / 8;
	else
		b += itab_records(&vs->root) * (vs->root.rec + 4);
	if (vs->queue)
		b += vt_visited_states(vs) * 4;
	return b;
}

double vt_visited_omission(struct vt_visited *vs)
{
	double n = (double)vt_visited_states(vs);
	switch (vs->kind) {
	case VT_STORE_HC:
		/* a state is lost only if its 64-bit fingerprint equals an earlier state's: at most C(n,2) / 2^64 */
		return fmin(1.0, n * (n - 1) / 2.0 / 18446744073709551616.0);
	case VT_STORE_BITSTATE: {
		/*
		 * The i-th new state is lost if all its k bits are already set:
		 * at most (1 - e^(-k i / m))^k, increasing in i.  The sum over the
		 * n states (bounded by a right Riemann sum in 1024 steps) bounds the
		 * expected number of omissions, hence the probability of one.
		 */
		double mbits = (double)((uint64_t)1 << vs->bits_log2), k = vs->k, sum = 0;
		double w = n / 1024.0;
		for (int i = 1; i <= 1024; i++)
			sum += w * pow(1.0 - exp(-k * (w * i) / mbits), k);
		return fmin(1.0, sum);
	}
	default:
		return 0.0;
	}
}

const char *vt_store_name(enum vt_store_kind kind)
{
	static const char *const names[] = {"exact", "hash compaction", "bitstate"};
	return kind < VT_STORE_COUNT ? names[kind] : "?";
}
