/*
 * What the explorer (explore.c) shares with its other drivers — the
 * distributed breadth-first search and the swarm (dist.c) — so that every
 * driver uses one notion of bounds, one canonical state identity and one
 * shrinker.  Not public API.
 */
#ifndef VTLB_EXPLORE_INT_H
#define VTLB_EXPLORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtlb/explore.h"
#include "vtlb/visited.h"

/* The bounds a search of m with options o uses (option, else scenario, else default). */
void vt_explore_bounds(const struct vt_model *m, const struct vt_explore_opts *o, struct vt_bounds *b);

/* Does the search key states by their pCPU-symmetry representative? */
bool vt_explore_symmetric(const struct vt_model *m, const struct vt_explore_opts *o);

/*
 * The zero-run encoding of n bytes (n a multiple of 8) into out, which
 * holds at least n + n / 8 + 1 bytes; injective for a fixed n.  Returns the
 * length.
 */
size_t vt_explore_compress(const uint8_t *in, size_t n, uint8_t *out);

/*
 * The canonical bytes of s (of its representative when 'symmetric'), as the
 * explorer's store defines them (vt_canon_model_bytes), zero-run encoded
 * into buf, which holds at least 2 * VT_STATE_CANON_LEN + 16 bytes; *h their
 * hash.  Equal bytes mean the same state.  c is scratch
 * (vt_canon_new(NULL)).  Returns the length.
 */
size_t vt_explore_canon(const struct vt_model *m, bool symmetric, const struct vt_state *s, struct vt_canon *c,
			uint8_t *buf, uint64_t *h);

/* Replay a path from the initial state; true when its last step, and no earlier one, violates (*out). */
bool vt_explore_replay(const struct vt_model *m, const struct vt_event *p, int n, struct vt_verdict *out);

/* Shrink a counterexample in place, keeping a violation of want's kind.  Returns the new length. */
int vt_explore_shrink(const struct vt_model *m, struct vt_event *p, int n, const struct vt_verdict *want);

#endif
