/*
 * A finite TLB for performance mode: per TLB domain, 'entries' entries in
 * 'sets' sets of 'ways' ways, replaced by LRU or by a seeded random choice.
 * An entry is a (hardware tag, combined translation) pair.
 *
 * It never decides correctness.  It holds a subset of the maximal TLB
 * (include/vtlb/state.h): vt_ftlb_sync() drops every entry the maximal TLB
 * no longer holds before each lookup, so an invalidation frees its entries
 * exactly as it removes them from the maximal side, and a hit is always an
 * answer the maximal model could give.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/cost.h"

uint64_t vt_rand_next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int vt_ftlb_init(struct vt_ftlb *f, const struct vt_tlb_geom *g, int ndomains, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->entries = g->entries ? g->entries : VT_FTLB_DEFAULT_ENTRIES;
	f->ways = g->ways && f->entries % g->ways == 0 ? g->ways : f->entries;
	f->sets = f->entries / f->ways;
	f->policy = g->policy;
	f->ndomains = ndomains;
	f->rng = seed ^ 0x5eedf1a7e5ull;
	size_t n = (size_t)ndomains * f->entries;
	f->e = malloc(n * sizeof(*f->e));
	if (!f->e)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memset(&f->e[i], 0, sizeof(f->e[i]));
		f->e[i].key = VT_KEY_NONE;
	}
	return 0;
}

void vt_ftlb_fini(struct vt_ftlb *f)
{
	free(f->e);
	f->e = NULL;
}

static struct vt_ftlb_entry *set_of(struct vt_ftlb *f, int d, uint32_t set)
{
	return &f->e[((size_t)d * f->sets + set % f->sets) * f->ways];
}

void vt_ftlb_sync(struct vt_ftlb *f, int d, const struct vt_tlb_dom *max)
{
	struct vt_ftlb_entry *e = &f->e[(size_t)d * f->entries];
	for (uint32_t i = 0; i < f->entries; i++) {
		if (e[i].key == VT_KEY_NONE)
			continue;
		bool held = false;
		for (int k = 0; k < VT_MAX_SLOTS && max->slot[k].key != VT_KEY_NONE; k++)
			if (max->slot[k].key == e[i].key) {
				held = vt_set_has(&max->slot[k].u, (unsigned)e[i].u);
				break;
			}
		if (!held)
			e[i].key = VT_KEY_NONE;
	}
}

int vt_ftlb_lookup(struct vt_ftlb *f, int d, uint32_t set, uint32_t key, const struct vt_set *cand)
{
	struct vt_ftlb_entry *e = set_of(f, d, set);
	int best = -1;
	for (uint32_t w = 0; w < f->ways; w++)
		if (e[w].key == key && vt_set_has(cand, (unsigned)e[w].u) && (best < 0 || e[w].stamp > e[best].stamp))
			best = (int)w;
	if (best < 0)
		return -1;
	e[best].stamp = ++f->clock;
	return e[best].u;
}

int vt_ftlb_insert(struct vt_ftlb *f, int d, uint32_t set, uint32_t key, int u)
{
	struct vt_ftlb_entry *e = set_of(f, d, set);
	uint32_t victim = f->ways;
	for (uint32_t w = 0; w < f->ways; w++) {
		if (e[w].key == key && e[w].u == u) {
			victim = w; /* already there (it cannot have hit: not a candidate) */
			break;
		}
		if (e[w].key == VT_KEY_NONE && victim == f->ways)
			victim = w;
	}
	int evicted = 0;
	if (victim == f->ways) {
		evicted = 1;
		if (f->policy == VT_TLB_RANDOM) {
			victim = (uint32_t)(vt_rand_next(&f->rng) % f->ways);
		} else {
			victim = 0;
			for (uint32_t w = 1; w < f->ways; w++)
				if (e[w].stamp < e[victim].stamp)
					victim = w;
		}
	}
	e[victim].key = key;
	e[victim].u = (int16_t)u;
	e[victim].stamp = ++f->clock;
	return evicted;
}
