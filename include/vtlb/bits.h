/*
 * Fixed-width bitsets over the enumerated universes of a model.
 *
 * Both sides of every check are sets: the translations a TLB domain may hold
 * and the translations the architecture permits a vCPU to observe.  A scenario
 * names a small universe, so every set is a few machine words and every
 * invalidation is a mask-and-clear.  vt_set is 128 bits (guest translations T
 * and combined translations U); stage-2 translations S and page-table entries P
 * fit in a plain uint64_t.
 */
#ifndef VTLB_BITS_H
#define VTLB_BITS_H

#include <stdbool.h>
#include <stdint.h>

#define VT_SET_WORDS 2
#define VT_SET_BITS (64 * VT_SET_WORDS)

struct vt_set {
	uint64_t w[VT_SET_WORDS];
};

static inline void vt_set_add(struct vt_set *s, unsigned i)
{
	s->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline void vt_set_del(struct vt_set *s, unsigned i)
{
	s->w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static inline bool vt_set_has(const struct vt_set *s, unsigned i)
{
	return (s->w[i / 64] >> (i % 64)) & 1;
}

static inline bool vt_set_empty(const struct vt_set *s)
{
	uint64_t acc = 0;
	for (int i = 0; i < VT_SET_WORDS; i++)
		acc |= s->w[i];
	return acc == 0;
}

static inline void vt_set_or(struct vt_set *d, const struct vt_set *s)
{
	for (int i = 0; i < VT_SET_WORDS; i++)
		d->w[i] |= s->w[i];
}

static inline void vt_set_and(struct vt_set *d, const struct vt_set *s)
{
	for (int i = 0; i < VT_SET_WORDS; i++)
		d->w[i] &= s->w[i];
}

/* d &= ~s: the invalidation primitive. */
static inline void vt_set_clear(struct vt_set *d, const struct vt_set *s)
{
	for (int i = 0; i < VT_SET_WORDS; i++)
		d->w[i] &= ~s->w[i];
}

static inline struct vt_set vt_set_inter(const struct vt_set *a, const struct vt_set *b)
{
	struct vt_set r;
	for (int i = 0; i < VT_SET_WORDS; i++)
		r.w[i] = a->w[i] & b->w[i];
	return r;
}

static inline struct vt_set vt_set_union(const struct vt_set *a, const struct vt_set *b)
{
	struct vt_set r;
	for (int i = 0; i < VT_SET_WORDS; i++)
		r.w[i] = a->w[i] | b->w[i];
	return r;
}

static inline struct vt_set vt_set_minus(const struct vt_set *a, const struct vt_set *b)
{
	struct vt_set r;
	for (int i = 0; i < VT_SET_WORDS; i++)
		r.w[i] = a->w[i] & ~b->w[i];
	return r;
}

static inline bool vt_set_eq(const struct vt_set *a, const struct vt_set *b)
{
	for (int i = 0; i < VT_SET_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

static inline int vt_set_count(const struct vt_set *s)
{
	int n = 0;
	for (int i = 0; i < VT_SET_WORDS; i++)
		n += __builtin_popcountll(s->w[i]);
	return n;
}

/* Index of the lowest set bit at or above 'from', or -1. */
static inline int vt_set_next(const struct vt_set *s, int from)
{
	for (int i = from < 0 ? 0 : from; i < VT_SET_BITS;) {
		uint64_t w = s->w[i / 64] >> (i % 64);
		if (w)
			return i + __builtin_ctzll(w);
		i = (i / 64 + 1) * 64;
	}
	return -1;
}

/*
 * VT_SET_FOREACH's cursor: the members not visited yet (a copy of the set
 * taken when the loop starts), the current one, and whether the body ran
 * to its end (a break in the body ends the whole loop).
 */
struct vt_set_it {
	struct vt_set left;
	int at;
	int done;
};

static inline struct vt_set_it vt_set_it_first(const struct vt_set *s)
{
	struct vt_set_it it = {*s, -1, 1};
	it.at = vt_set_next(&it.left, 0);
	return it;
}

static inline void vt_set_it_next(struct vt_set_it *it)
{
	uint64_t *w = &it->left.w[it->at / 64];
	*w &= *w - 1;
	it->at = vt_set_next(&it->left, it->at);
}

/* Each member i of s, in increasing order; s is read once, when the loop starts. */
#define VT_SET_FOREACH(i, s) \
	for (struct vt_set_it _it_##i = vt_set_it_first(s); _it_##i.at >= 0 && _it_##i.done; vt_set_it_next(&_it_##i)) \
		for (int i = (_it_##i.done = 0, _it_##i.at); !_it_##i.done; _it_##i.done = 1)

/* Each set bit i of x, lowest first; x is read once.  A break ends the whole loop. */
#define VT_U64_FOREACH(i, x) \
	for (uint64_t _m_##i = (x), _d_##i = 1; _m_##i && _d_##i; _m_##i &= _m_##i - 1) \
		for (int i = (_d_##i = 0, __builtin_ctzll(_m_##i)); !_d_##i; _d_##i = 1)

#endif
