/*
 * The explorer's state store: a state's canonical form and the set of
 * states seen, usable by one search or by one rank of a distributed one.
 *
 * Canonical form.  A state's identity is its canonical part (from 'pt' on)
 * less the array elements the model never uses, cut into sections: the
 * header (page tables, host program position, machine-wide hypervisor
 * state), one per VM, per vCPU, per pCPU and per TLB domain.  With pCPU
 * symmetry the state is first replaced by the representative of its orbit
 * under pCPU renaming, which depends on the state's value alone.
 *
 * Exact store (tree compression, after Blom, Lisser, van de Pol and Weber,
 * "A database approach to distributed state-space generation", 2007, and
 * Laarman, van de Pol and Weber, "Parallel recursive state compression",
 * 2011):
 *
 *   state ──► sections ──► leaf ids (one table of distinct values per
 *                          section type: header, VM, vCPU, pCPU, domain)
 *   leaf ids folded by fours while more than four remain:
 *   (l0 l1 l2 l3) (l4 l5 l6 l7) ... then (n0 n1 n2 n3) ...
 *   each group an id in a node table, up to the last four ids or fewer:
 *   the root key
 *   root key ──► the root table: one record per state (16 bytes; 24
 *                depth-first, with the smallest depth and the sleep set)
 *
 * Every table compares whole values, so equal keys mean equal states and no
 * state is ever wrongly skipped.  Neighbouring states share most of their
 * tree: a new state usually adds its root record and one or two nodes.
 *
 * Lossy stores, for searches larger than memory: hash compaction keeps a
 * 64-bit fingerprint of the leaf ids per state; bitstate hashing sets k bits
 * per state in one bit array.  A state whose fingerprint (or bits) matches
 * another's is wrongly taken as seen; vt_visited_omission() bounds the
 * probability that this happened, from the store's parameters.
 *
 * Every table is split into stripes, each with its own lock, picked by the
 * top bits of a value's hash, so that worker threads rarely wait for each
 * other.  A record, once added, never moves or changes its key: ids can be
 * read without a lock by a thread that learnt them after they were added.
 */
#ifndef VTLB_VISITED_H
#define VTLB_VISITED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtlb/model.h"
#include "vtlb/state.h"

enum vt_store_kind {
	VT_STORE_EXACT,     /* tree compression: no omission */
	VT_STORE_HC,        /* hash compaction: 64-bit fingerprints */
	VT_STORE_BITSTATE,  /* bitstate hashing: k bits per state */
	VT_STORE_COUNT
};

/* What inserting a state found. */
enum vt_visit {
	VT_VISIT_NEW,        /* not seen before: stored */
	VT_VISIT_SHALLOWER,  /* seen at a greater depth: depth and sleep set replaced */
	VT_VISIT_EXTRA,      /* seen, but with guest transitions asleep that are not asleep now (*extra) */
	VT_VISIT_SKIP,       /* seen: nothing more to do */
	VT_VISIT_FULL,       /* the memory cap (or a table's index range) was reached; nothing stored */
};

#define VT_SECTIONS_MAX (1 + VT_MAX_VMS + VT_MAX_VCPUS + VT_MAX_PCPUS + VT_MAX_DOMAINS)

/*
 * A state's key: the ids at the root of its tree, up to four (exact), or a
 * fingerprint in k[0] (lossy; k[1] is 0).
 */
struct vt_key {
	uint64_t k[2];
	uint64_t h;          /* a hash of k: picks the stripe and slot (bitstate: the first bit) */
};

struct vt_visited;
struct vt_canon;             /* one thread's scratch space and caches */

/* Does pCPU symmetry apply to m (interchangeable pCPUs, see visited.c)? */
bool vt_symmetry_applies(const struct vt_model *m);

/*
 * A new store for m's states, allocating at most max_memory bytes in all
 * (a bitstate array takes a quarter of it, rounded down to a power of two).
 * bitstate_k: bits per state (bitstate only).  NULL when out of memory.
 */
struct vt_visited *vt_visited_new(const struct vt_model *m, enum vt_store_kind kind, bool symmetric,
				  uint64_t max_memory, unsigned bitstate_k);
void vt_visited_free(struct vt_visited *vs);

/* A thread's scratch space for canonical forms; one per thread. */
struct vt_canon *vt_canon_new(struct vt_visited *vs);
void vt_canon_free(struct vt_canon *c);
/*
 * A hint for the keys c computes next: a number below 2^29 naming the step
 * that made the states (equal for steps that tend to change a section the
 * same way, 0 for none; the bits above are ignored).  Only c's cache of
 * section replacements uses it: a section that a step with the same hint
 * made from the same section before is found without hashing it.  Keys
 * never depend on it.
 */
void vt_canon_hint(struct vt_canon *c, uint64_t step);

/*
 * Where pCPU symmetry applies (vt_symmetry_applies): twin[p], for each
 * pCPU p, the first lower pCPU of 'among' with p's sort key when p is in
 * 'among' and swapping the two leaves s as it is (checked), else p.  Then
 * an event naming p leads to a renaming of the state the same event
 * naming twin[p] leads to.  False when every twin[p] is p (twin is then
 * not necessarily set).  c is scratch.
 */
bool vt_canon_twins(const struct vt_model *m, struct vt_canon *c, const struct vt_state *s, uint64_t among,
		    int8_t *twin);

/*
 * The canonical bytes of s (sections of its representative, concatenated)
 * into out (at least sizeof(struct vt_state) bytes); returns their length.
 * map (may be NULL) receives the renaming that reached the representative:
 * map[p] is the new index of pCPU p.  Equal bytes iff same orbit.
 */
size_t vt_canon_bytes(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s, uint8_t *out,
		      int8_t *map);

/*
 * The same, without a store: the canonical bytes of s for a search of m
 * (symmetric: keyed by pCPU-symmetry representatives).  A vt_canon made with
 * vt_canon_new(NULL) is enough.
 */
size_t vt_canon_model_bytes(const struct vt_model *m, bool symmetric, struct vt_canon *c, const struct vt_state *s,
			    uint8_t *out, int8_t *map);

/*
 * A hash of canonical bytes that is the same in every process (unlike a
 * key, whose ids depend on the order a store saw the values): what a
 * distributed search partitions states by.
 */
uint64_t vt_canon_hash(const uint8_t *bytes, size_t n);

/*
 * The key of s (interning its sections and tree nodes): equal keys iff
 * equal canonical bytes, within one store.  map as above.
 * Returns 0, or -1 when the memory cap stops a table from growing.
 */
/*
 * single: from now on only one thread at a time uses the store (interning,
 * keys, inserts), so its stripe locks are not taken.  Off by default.
 */
void vt_visited_single(struct vt_visited *vs, bool single);

int vt_visited_key(struct vt_visited *vs, struct vt_canon *c, const struct vt_state *s, struct vt_key *k,
		   int8_t *map);
/*
 * The same for a state the caller no longer needs: s may be left changed
 * (its references to pCPUs renamed in place, its pCPU and TLB-domain
 * sections not moved: neither s nor its representative), fit only for
 * vt_visited_restore or a whole copy.
 * s must be one step from the state last decoded with c, taken with
 * s->meta.dom_w cleared before it: the TLB domains it does not mark are
 * taken as the parent's without being compared (debug builds compare).
 */
int vt_visited_key_scratch(struct vt_visited *vs, struct vt_canon *c, struct vt_state *s, struct vt_key *k);

/*
 * Make dst (the scratch state keyed last with c, since changed by nothing)
 * equal to src (the state c last decoded) by copying only the sections
 * keying found different from the base it was keyed against, those an
 * incremental decode into that base changed since, and the meta.  False,
 * copying nothing, when c does not know dst's sections: the caller copies
 * it whole.
 */
bool vt_visited_restore(struct vt_visited *vs, struct vt_canon *c, struct vt_state *dst, const struct vt_state *src);

/*
 * Insert-or-find.  depth and sleep are what the search reached the state
 * with; a revisit at a smaller depth replaces both (SHALLOWER), otherwise
 * the stored sleep set becomes the intersection and *extra the guest
 * transitions that were asleep before and are not now.  With a queue
 * (vt_visited_keep_queue: states arrive in order of depth) a state seen is
 * SKIP.  *id (may be NULL) receives the state's id (exact and hash
 * compaction).  Bitstate stores keep no depth or sleep set: a state seen is
 * SKIP.
 */
enum vt_visit vt_visited_insert(struct vt_visited *vs, const struct vt_key *k, unsigned depth, uint8_t sleep,
				uint8_t *extra, uint32_t *id);

/*
 * Count bytes the caller allocates beside the store against its cap: false
 * (nothing counted) when they would pass it.  vt_visited_unreserve gives
 * them back.
 */
bool vt_visited_reserve(struct vt_visited *vs, uint64_t bytes);
void vt_visited_unreserve(struct vt_visited *vs, uint64_t bytes);

/* Exact store: is k stored?  Its id into *id when it is. */
bool vt_visited_find(struct vt_visited *vs, const struct vt_key *k, uint32_t *id);

/*
 * A hint: k will be inserted soon; start loading the index slot it probes
 * first (a large store's slots are rarely in the cache).  Safe while other
 * threads insert: at worst it loads a line of an index just replaced, or
 * one past its end.
 */
void vt_visited_prefetch(struct vt_visited *vs, const struct vt_key *k);

/*
 * Exact store: write the state with this id into out (its representative;
 * meta.step = 0).  With c (may be NULL), out becomes c's base: keys computed
 * with c afterwards reuse the ids of the sections and nodes they share with
 * it, as long as out is not changed (vt_canon_forget() ends that).
 */
void vt_visited_decode(struct vt_visited *vs, struct vt_canon *c, uint32_t id, struct vt_state *out);
void vt_canon_forget(struct vt_canon *c);

/* Exact store: is k the key of the state with this id? */
bool vt_visited_key_is(struct vt_visited *vs, uint32_t id, const struct vt_key *k);

/*
 * Exact store: keep the ids of new states in the order they were added (4
 * bytes per state), a breadth-first search's queue; call before inserting.
 * Root records then keep no depth or sleep set.
 * 0, or -1 (a lossy store, or out of memory).  vt_visited_queued(): how many;
 * vt_visited_queue_at(): the id at a position below that.
 */
int vt_visited_keep_queue(struct vt_visited *vs);
uint64_t vt_visited_queued(struct vt_visited *vs);
uint32_t vt_visited_queue_at(struct vt_visited *vs, uint64_t pos);
/*
 * A hint before the state at queue position pos is decoded with c, end
 * being the end of its level: prefetch what decoding the states a few
 * places on will read (their root records and top tree nodes), which a
 * large store rarely has in the cache.  Changes nothing but c's record of
 * the positions it has seen.
 */
void vt_visited_prefetch_parents(struct vt_visited *vs, struct vt_canon *c, uint64_t pos, uint64_t end);

/* Statistics. */
uint64_t vt_visited_states(struct vt_visited *vs);
uint64_t vt_visited_memory(struct vt_visited *vs);    /* bytes allocated */
uint64_t vt_visited_peak(struct vt_visited *vs);      /* the most bytes counted at once (vt_visited_reserve too) */
uint64_t vt_visited_stored(struct vt_visited *vs);    /* bytes in use: records and index slots */
uint64_t vt_visited_nodes(struct vt_visited *vs);     /* exact: tree nodes; others: 0 */

/*
 * Lossy stores: an upper bound on the probability that at least one state
 * was wrongly taken as seen (and its successors perhaps never explored),
 * from the number of states and the store's parameters.  Exact: 0.
 */
double vt_visited_omission(struct vt_visited *vs);
const char *vt_store_name(enum vt_store_kind kind);

#endif
