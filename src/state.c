/*
 * Power-on state and the hardware TLB slot discipline.
 *
 * A TLB domain holds up to VT_MAX_SLOTS tags (VPID+EPTP, ASID, VMID, LPID),
 * each with a set of combined entries and a set of stage-2 entries.  Used
 * slots come first, sorted by key, and a slot that becomes empty is
 * released, so two states with the same TLB contents are byte-identical.
 * The maximal TLB never evicts; running out of slots is a model limit that
 * the step reports rather than hides.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "vtlb/state.h"

int vt_tlb_index(const struct vt_state *s, int d, uint32_t key)
{
	return vt_tlb_slot_index(s, d, key); /* the inline form the step uses (internal.h) */
}

struct vt_tlb_slot *vt_tlb_find(struct vt_state *s, int d, uint32_t key)
{
	int i = vt_tlb_index(s, d, key);
	vt_dom_mark(s, d); /* the slot returned may be written */
	return i < 0 ? NULL : &s->dom[d].slot[i];
}

int vt_tlb_fill(struct vt_state *s, int d, uint32_t key, const struct vt_set *u, uint64_t s2)
{
	if (vt_set_empty(u) && !s2)
		return 0;
	struct vt_tlb_slot *sl = vt_tlb_find(s, d, key);
	if (!sl) {
		struct vt_tlb_slot *slots = s->dom[d].slot;
		if (slots[VT_MAX_SLOTS - 1].key != VT_KEY_NONE)
			return -1;
		int at = 0;
		while (slots[at].key != VT_KEY_NONE && slots[at].key < key)
			at++;
		memmove(&slots[at + 1], &slots[at], sizeof(*slots) * (size_t)(VT_MAX_SLOTS - 1 - at));
		memset(&slots[at], 0, sizeof(*slots));
		slots[at].key = key;
		sl = &slots[at];
	}
	vt_set_or(&sl->u, u);
	sl->s |= s2;
	return 0;
}

void vt_tlb_tidy(struct vt_state *s, int d)
{
	vt_dom_mark(s, d);
	struct vt_tlb_slot *slots = s->dom[d].slot;
	int w = 0, r = 0;
	for (; r < VT_MAX_SLOTS; r++) {
		if (slots[r].key == VT_KEY_NONE)
			break;
		if (vt_set_empty(&slots[r].u) && !slots[r].s)
			continue;
		if (w != r)
			slots[w] = slots[r];
		w++;
	}
	/*
	 * Slots from the first empty key on are already released (this
	 * function's invariant), unless the domain was never tidied (a state
	 * being initialised: its slots are zero, keys included).
	 */
	int end = r < VT_MAX_SLOTS && slots[r].key == VT_KEY_NONE && !slots[r].s && vt_set_empty(&slots[r].u) ? r : VT_MAX_SLOTS;
	for (; w < end; w++) {
		memset(&slots[w], 0, sizeof(slots[w]));
		slots[w].key = VT_KEY_NONE;
	}
}

#define USED_PARTS(m, s)                                                                              \
	{                                                                                             \
		{(const uint8_t *)(s), offsetof(struct vt_state, vm)},                               \
		{(const uint8_t *)(s)->vm, (size_t)(m)->nvms * sizeof((s)->vm[0])},                  \
		{(const uint8_t *)(s)->vcpu, (size_t)(m)->nvcpus * sizeof((s)->vcpu[0])},            \
		{(const uint8_t *)(s)->pcpu, (size_t)(m)->npcpus * sizeof((s)->pcpu[0])},            \
		{(const uint8_t *)(s)->dom, (size_t)(m)->ndomains * sizeof((s)->dom[0])},            \
	}

struct part {
	const uint8_t *p;
	size_t n;
};

void vt_state_copy(const struct vt_model *m, struct vt_state *dst, const struct vt_state *src)
{
	const struct part from[] = USED_PARTS(m, src);
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		memcpy((uint8_t *)dst + (from[i].p - (const uint8_t *)src), from[i].p, from[i].n);
}

/* gathered parts are whole 8-byte words, as the zero-run encoding (vt_explore_compress) needs */
_Static_assert((offsetof(struct vt_state, vm) - VT_STATE_CANON_OFF) % 8 == 0 && sizeof(struct vt_vm_state) % 8 == 0 &&
		       sizeof(struct vt_vcpu_state) % 8 == 0 && sizeof(struct vt_pcpu_state) % 8 == 0 &&
		       sizeof(struct vt_tlb_dom) % 8 == 0,
	       "the used part is whole 8-byte words");
size_t vt_state_gather(const struct vt_model *m, const struct vt_state *s, uint8_t *out)
{
	const struct part from[] = USED_PARTS(m, s);
	size_t g = 0;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		/* the first part from 'pt' on: the metadata is not the state's identity */
		size_t skip = i == 0 ? VT_STATE_CANON_OFF : 0;
		memcpy(out + g, from[i].p + skip, from[i].n - skip);
		g += from[i].n - skip;
	}
	return g;
}

bool vt_state_scatter(const struct vt_model *m, const uint8_t *in, size_t n, struct vt_state *s)
{
	const struct part to[] = USED_PARTS(m, s);
	size_t g = 0;
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
		g += to[i].n - (i == 0 ? VT_STATE_CANON_OFF : 0);
	if (g != n)
		return false;
	g = 0;
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		size_t skip = i == 0 ? VT_STATE_CANON_OFF : 0;
		memcpy((uint8_t *)to[i].p + skip, in + g, to[i].n - skip);
		g += to[i].n - skip;
	}
	return true;
}

bool vt_state_same(const struct vt_model *m, const struct vt_state *a, const struct vt_state *b)
{
	const struct part pa[] = USED_PARTS(m, a);
	for (size_t i = 0; i < sizeof(pa) / sizeof(pa[0]); i++) {
		size_t off = (size_t)(pa[i].p - (const uint8_t *)a), n = pa[i].n;
		if (i == 0) {
			off = VT_STATE_CANON_OFF;
			n -= VT_STATE_CANON_OFF;
		}
		if (memcmp((const uint8_t *)a + off, (const uint8_t *)b + off, n) != 0)
			return false;
	}
	return true;
}

size_t vt_state_sect_len(const struct vt_model *m, int type)
{
	switch (type) {
	case 0:
		return offsetof(struct vt_state, hg) + m->hv->global_bytes - VT_STATE_CANON_OFF;
	case 1:
		return offsetof(struct vt_vm_state, h) + m->hv->vm_bytes;
	case 2:
		return offsetof(struct vt_vcpu_state, h) + m->hv->vcpu_bytes;
	case 3:
		return sizeof(struct vt_pcpu_state);
	default:
		return sizeof(struct vt_tlb_dom);
	}
}

/* Do the bytes from 'from' on, up to 'to', hold init's values? */
static bool tail_is_init(const struct vt_state *s, const struct vt_state *init, size_t from, size_t to)
{
	return memcmp((const uint8_t *)s + from, (const uint8_t *)init + from, to - from) == 0;
}

bool vt_state_unused_is_init(const struct vt_model *m, const struct vt_state *s, const struct vt_state *init)
{
	const struct part used[] = USED_PARTS(m, s);
	size_t at = 0;
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		size_t off = (size_t)(used[i].p - (const uint8_t *)s);
		if (memcmp((const uint8_t *)s + at, (const uint8_t *)init + at, off - at) != 0)
			return false;
		at = off + used[i].n;
	}
	if (memcmp((const uint8_t *)s + at, (const uint8_t *)init + at, sizeof(*s) - at) != 0)
		return false;
	/* the other backends' parts of the unions (vt_state_sect_len leaves them out of a section) */
	if (!tail_is_init(s, init, VT_STATE_CANON_OFF + vt_state_sect_len(m, 0), offsetof(struct vt_state, vm)))
		return false;
	for (int i = 0; i < m->nvms; i++) {
		size_t o = offsetof(struct vt_state, vm) + (size_t)i * sizeof(s->vm[0]);
		if (!tail_is_init(s, init, o + vt_state_sect_len(m, 1), o + sizeof(s->vm[0])))
			return false;
	}
	for (int v = 0; v < m->nvcpus; v++) {
		size_t o = offsetof(struct vt_state, vcpu) + (size_t)v * sizeof(s->vcpu[0]);
		if (!tail_is_init(s, init, o + vt_state_sect_len(m, 2), o + sizeof(s->vcpu[0])))
			return false;
	}
	return true;
}

/* The references to pCPUs in s (the engine's and the backend's) renamed by map. */
void vt_state_rename_pcpu_refs(const struct vt_model *m, struct vt_state *s, const int8_t *map)
{
	for (int v = 0; v < m->nvcpus; v++) {
		if (s->vcpu[v].pcpu >= 0)
			s->vcpu[v].pcpu = map[s->vcpu[v].pcpu];
		if (s->vcpu[v].last_pcpu >= 0)
			s->vcpu[v].last_pcpu = map[s->vcpu[v].last_pcpu];
	}
	if (m->hv->permute_pcpus)
		m->hv->permute_pcpus(m, s, map);
}

void vt_state_permute_pcpus(const struct vt_model *m, const struct vt_state *in, struct vt_state *out,
			    const int8_t *map)
{
	vt_state_copy(m, out, in);
	for (int p = 0; p < m->npcpus; p++) {
		out->pcpu[map[p]] = in->pcpu[p];
		out->dom[m->domain_of[map[p]]] = in->dom[m->domain_of[p]];
	}
	vt_state_rename_pcpu_refs(m, out, map);
}

void vt_state_swap_pcpus(const struct vt_model *m, const struct vt_state *in, struct vt_state *out, int a, int b)
{
	int8_t map[VT_MAX_PCPUS];
	for (int p = 0; p < VT_MAX_PCPUS; p++)
		map[p] = (int8_t)p;
	map[a] = (int8_t)b;
	map[b] = (int8_t)a;
	vt_state_permute_pcpus(m, in, out, map);
}

void vt_state_init(const struct vt_model *m, struct vt_state *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < m->nspaces; i++)
	{
		s->pt[i] = m->init_pt[i];
		s->links[i] = m->init_links[i];
	}
	for (int i = 0; i < m->nvms; i++)
		s->vm[i].s2 = m->init_s2 & m->s_vm[i];
	s->s_perm = m->init_s2;
	for (int v = 0; v < VT_MAX_VCPUS; v++) {
		s->vcpu[v].pcpu = -1;
		s->vcpu[v].last_pcpu = -1;
	}
	for (int p = 0; p < VT_MAX_PCPUS; p++) {
		s->pcpu[p].vcpu = -1;
		s->pcpu[p].key = VT_KEY_NONE;
	}
	for (int d = 0; d < VT_MAX_DOMAINS; d++)
		vt_tlb_tidy(s, d);
	for (int v = 0; v < m->nvcpus; v++) {
		s->vcpu[v].g = m->vcpu_init[v];
		m->hv->vcpu_init(m, s, v);
	}
	vt_state_settle(m, s);
}
