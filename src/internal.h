/*
 * Helpers shared by the layers inside the library; not part of the public
 * API.  They compute sets from the model and the state and have no policy.
 */
#ifndef VTLB_INTERNAL_H
#define VTLB_INTERNAL_H

#include <assert.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"
#include "vtlb/ops.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

#define VT_BIT(i) ((uint64_t)1 << (i))
#define VT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Translations (over T) the page table of 'space' provides under context
 * 'ctx', global bits honoured only if global_ok.
 */
/* The guest page table of a space: its own entries and those of the tables linked below it. */
uint64_t vt_space_pt(const struct vt_model *m, const struct vt_state *s, int space);
struct vt_set vt_live_t(const struct vt_model *m, const struct vt_state *s, int space, int ctx, bool global_ok);

/* The same for a vCPU's current context (empty when translation is off). */
struct vt_set vt_live_vcpu(const struct vt_model *m, const struct vt_state *s, int v);

/* Pair each translation in t with the VM's current stage-2 entry for its page (over U). */
struct vt_set vt_compose_s2(const struct vt_model *m, const struct vt_state *s, const struct vt_set *t);

/* The same into *r, inline for the walks of every step. */
static inline void vt_compose_into(const struct vt_model *m, const struct vt_state *s, const struct vt_set *t,
				   struct vt_set *r)
{
	*r = (struct vt_set){{0}};
	VT_SET_FOREACH(x, t) {
		/* only the VM's current entries for x's page pair with it (s_of_t: uix[x][j] >= 0) */
		uint64_t cur = s->vm[m->t[x].vm].s2 & m->s_of_t[x];
		VT_U64_FOREACH(j, cur)
			vt_set_add(r, (unsigned)m->uix[x][j]);
	}
}

/*
 * A two-dimensional hardware walk (EPT, NPT, stage 2, partition scope) for
 * vCPU v: the guest's current tables composed with the current stage 2.
 * vt_walk_nested is the ops-table form; the inline one is for a backend's
 * walk that adds to it.
 */
static inline void vt_walk_2d(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_view *w,
			      struct vt_set *u, uint64_t *s2)
{
	vt_compose_into(m, s, &w->live, u);
	*s2 = s->vm[m->vcpu_vm[v]].s2;
}

void vt_walk_nested(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		    uint64_t *s2);

/* v's view of the state as it is now: its context and what the context maps (struct vt_view). */
void vt_view_of(const struct vt_model *m, const struct vt_state *s, int v, struct vt_view *w);

/*
 * Combined entries (over U) tagged with context value 'value' in any VM:
 * hardware matches the PCID/ASID/PID it is given, the tag slot says whose
 * it is.
 */
struct vt_set vt_ctx_value_umask(const struct vt_model *m, uint32_t value);

/*
 * What a hardware lookup in context g may use: its context's entries and
 * global ones (the model's table, vt_model_finish).  g->ctx must be >= 0.
 */
static inline struct vt_set vt_usable_umask(const struct vt_model *m, const struct vt_gctx *g)
{
	return m->u_usable[g->ctx];
}

/*
 * The slot lookup (vt_tlb_index is this, out of line) and an inline form
 * of vt_tlb_fill (state.c) for the lookups and fills of every step, same
 * results: a domain's used slots come first, sorted by key (vtlb/state.h).
 * A fill that needs a new slot is state.c's.
 */
static inline int vt_tlb_slot_index(const struct vt_state *s, int d, uint32_t key)
{
	const struct vt_tlb_slot *sl = s->dom[d].slot;
	for (int i = 0; i < VT_MAX_SLOTS; i++) {
		if (sl[i].key == key)
			return i;
		if (sl[i].key == VT_KEY_NONE || sl[i].key > key)
			return -1;
	}
	return -1;
}

static inline int vt_tlb_fill_fast(struct vt_state *s, int d, uint32_t key, const struct vt_set *u, uint64_t s2)
{
	if (vt_set_empty(u) && !s2)
		return 0;
	int i = vt_tlb_slot_index(s, d, key);
	if (i < 0)
		return vt_tlb_fill(s, d, key, u, s2);
	struct vt_tlb_slot *sl = &s->dom[d].slot[i];
	struct vt_set o = sl->u;
	vt_set_or(&o, u);
	/* a fill that adds nothing writes nothing (and marks nothing) */
	if (vt_set_eq(&o, &sl->u) && !(s2 & ~sl->s))
		return 0;
	vt_dom_mark(s, d);
	sl->u = o;
	sl->s |= s2;
	return 0;
}

/*
 * Remove the entries in umask (over U) and the stage-2 ones in smask from
 * slot sl of domain d.  A removal that finds nothing writes nothing (and
 * marks nothing); true when it changed the slot.
 */
static inline bool vt_tlb_slot_remove(struct vt_state *s, int d, struct vt_tlb_slot *sl, const struct vt_set *umask,
				      uint64_t smask)
{
	struct vt_set u = vt_set_minus(&sl->u, umask);
	uint64_t s2 = sl->s & ~smask;
	if (s2 == sl->s && vt_set_eq(&u, &sl->u))
		return false;
	vt_dom_mark(s, d);
	sl->u = u;
	sl->s = s2;
	return true;
}

/* PTE entries (over P) of space mapping the VA with index va. */
uint64_t vt_pt_va(const struct vt_model *m, const struct vt_state *s, int space, int va);

/* Let every TLB fill what it may now (the oracle and the hardware); see step.c. */
void vt_state_settle(const struct vt_model *m, struct vt_state *s);

/*
 * Does m tell a preempted vCPU thread from one that returned to userspace
 * (vt_hv_ops.tracks_thread, resolved once by vt_model_finish)?
 */
static inline bool vt_tracks_thread(const struct vt_model *m)
{
	assert(m->step_hooks.tracks_thread == (m->hv->tracks_thread && m->hv->tracks_thread(m)));
	return m->step_hooks.tracks_thread;
}

/* Is the named fix in place (not reverted) in this model?  Inline: the hypervisors ask it on every entry. */
static inline bool vt_fixed(const struct vt_model *m, unsigned fix)
{
	return !vt_fixset_has(m->reverted, fix);
}

/*
 * Record that a reverted fix changed the outcome: a trace record naming the
 * fix and what the old logic did instead.
 */
void vt_trace_reverted(struct vt_trace *tr, int vcpu, unsigned fix, const char *what);

#endif
