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
#include <string.h>

#include "vtlb/explore.h"
#include "vtlb/state.h"
#include "vtlb/visited.h"

/* The bounds a search of m with options o uses (option, else scenario, else default). */
void vt_explore_bounds(const struct vt_model *m, const struct vt_explore_opts *o, struct vt_bounds *b);

/* Does the search key states by their pCPU-symmetry representative? */
bool vt_explore_symmetric(const struct vt_model *m, const struct vt_explore_opts *o);

/*
 * Debug builds: the skipped load c reaches, after swapping its pCPU and
 * its twin, the state the load onto the twin reaches, with a verdict of
 * the same kind (asserted).
 */
#ifndef NDEBUG
void vt_explore_twin_check(const struct vt_model *m, const struct vt_state *s, const struct vt_event *c,
			   const int8_t *twin);
#else
static inline void vt_explore_twin_check(const struct vt_model *m, const struct vt_state *s,
					 const struct vt_event *c, const int8_t *twin)
{
	(void)m, (void)s, (void)c, (void)twin;
}
#endif

/* The pCPUs no vCPU is loaded on, a bit each. */
static inline uint64_t vt_explore_free_pcpus(const struct vt_model *m, const struct vt_state *s)
{
	uint64_t free_pcpus = 0;
	for (int p = 0; p < m->npcpus; p++)
		if (s->pcpu[p].vcpu < 0)
			free_pcpus |= (uint64_t)1 << p;
	return free_pcpus;
}

/*
 * One parent's skipped loads (vt_explore_skip_load), worked out at its
 * first load that follows another of the same vCPU.
 */
struct vt_twins {
	int8_t twin[VT_MAX_PCPUS];       /* vt_canon_twins's, when any is 1 */
	int any;                     /* -1: not worked out yet; 0: no load skipped; 1: some */
};

/*
 * Does a search skip choice ch[i] of s, a load onto a pCPU
 * interchangeable with a lower free one?  Where pCPU symmetry applies, two
 * free pCPUs whose swap leaves s as it is (vt_canon_twins) are
 * interchangeable: loading a vCPU on either reaches one representative,
 * with a verdict of the same kind.  The search takes the load onto the
 * lower one: symmetry needs every VM to span every pCPU, and the twin
 * is no vCPU's last pCPU, so where the vCPU may load on ch[i]'s pCPU it
 * may load on the twin, and vt_explore_choices lists a vCPU's loads
 * together, by pCPU.  So the states are the same, and so is the least
 * violating choice.  t starts with any = -1 where the search skips loads
 * (pCPU symmetry, vt_explore_opts.por), 0 elsewhere.
 */
static inline bool vt_explore_skip_load(const struct vt_model *m, struct vt_canon *cn, const struct vt_state *s,
					const struct vt_event *ch, int i, struct vt_twins *t)
{
	const struct vt_event *c = &ch[i];
	/* a vCPU's first load has no lower twin */
	if (!t->any || c->kind != VT_EV_LOAD || !i || ch[i - 1].kind != VT_EV_LOAD || ch[i - 1].vcpu != c->vcpu)
		return false;
	/* the twins among the free pCPUs (vt_canon_twins) */
	if (t->any < 0)
		t->any = vt_canon_twins(m, cn, s, vt_explore_free_pcpus(m, s), t->twin);
	if (!t->any || t->twin[c->pcpu] == c->pcpu)
		return false;
	vt_explore_twin_check(m, s, c, t->twin);
	return true;
}

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

/*
 * Coverage around one step (vt_explore_cov_pre and vt_explore_cov_note), in
 * the inline form the drivers call on every transition.
 */
static inline unsigned explore_cov_phase_slot(unsigned ph)
{
	return ph < VT_EXPLORE_COV_PHASES ? ph : VT_EXPLORE_COV_PHASES - 1;
}

static inline void explore_cov_pre(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev,
				   struct vt_explore_cov_pre *pre)
{
	(void)m;
	memset(pre, 0, sizeof(*pre));
	pre->host_pc = s->host_pc;
	pre->host_phase = s->host_phase;
	pre->last_pcpu = -1;
	if (ev->vcpu >= 0 && ev->vcpu < VT_MAX_VCPUS) {
		pre->pc = s->vcpu[ev->vcpu].pc;
		pre->phase = s->vcpu[ev->vcpu].phase;
		pre->last_pcpu = s->vcpu[ev->vcpu].last_pcpu;
	}
}

static inline void explore_cov_note(struct vt_explore_coverage *c, const struct vt_model *m,
				    const struct vt_explore_cov_pre *pre, const struct vt_event *ev, const struct vt_state *s)
{
	int v = ev->vcpu;
	switch (ev->kind) {
	case VT_EV_LOAD:
		if (pre->last_pcpu >= 0 && pre->last_pcpu != ev->pcpu)
			c->migrate[v]++;
		else
			c->load[v]++;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			c->enter[v]++;
		break;
	case VT_EV_ENTER:
		if (ev->flags & VT_EVF_STEP)
			c->enter_phase[v][explore_cov_phase_slot(pre->phase)]++;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			c->enter[v]++;
		break;
	case VT_EV_PUT:
		c->preempt[v]++;
		break;
	case VT_EV_GUEST:
		if (ev->flags & VT_EVF_VMM) {
			/* a VMM register write: a step of the host program */
			if (pre->host_pc < m->nprog[VT_MAX_VCPUS]) {
				c->op[VT_MAX_VCPUS][pre->host_pc]++;
				c->host_done[pre->host_pc]++;
			}
			break;
		}
		if (pre->pc < m->nprog[v])
			c->op[v][pre->pc]++;
		break;
	case VT_EV_HOST:
		if (pre->host_pc >= m->nprog[VT_MAX_VCPUS])
			break;
		if (pre->host_phase && pre->host_pc + 1 < m->nprog[VT_MAX_VCPUS] &&
		    memcmp(&ev->op, &m->prog[VT_MAX_VCPUS][pre->host_pc].op, sizeof(ev->op)) != 0) {
			/* the next operation, run on another thread while this one yielded */
			c->op[VT_MAX_VCPUS][pre->host_pc + 1]++;
			c->host_done[pre->host_pc + 1]++;
			break;
		}
		if (pre->host_phase == 0)
			c->op[VT_MAX_VCPUS][pre->host_pc]++;
		if (ev->flags & VT_EVF_STEP)
			c->host_phase[pre->host_pc][explore_cov_phase_slot(pre->host_phase)]++;
		if (s->host_pc != pre->host_pc)
			c->host_done[pre->host_pc]++;
		break;
	default:
		break;
	}
}

#endif
