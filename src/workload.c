/*
 * Workloads: a seeded generator of long runs for performance mode.
 *
 * A scenario with a 'workload' line names no schedule.  The generator keeps
 * every pCPU busy (vCPUs beyond the pCPUs wait: overcommit), re-enters every
 * vCPU that left the guest (an intercepted operation, a kick), and otherwise
 * draws a class by its weight:
 *
 *   access   a running vCPU reads a VA its current address space maps (if
 *            it maps none, one its VM maps elsewhere: a page fault)
 *   op       a running vCPU performs the next operation of its program, in a
 *            cycle (a vCPU without a program runs the program of the nearest
 *            vCPU of its VM below it that has one, so 'program g.0' can edit
 *            page tables and 'program g.1' be what every other vCPU does):
 *            context switches, munmap-style edits and the guest's own
 *            invalidations and shootdowns, written in the scenario's language
 *   preempt  the host preempts a vCPU (vcpu_put) and loads a waiting vCPU of
 *            a VM allowed there, or the same one again
 *   migrate  a vCPU moves to another pCPU; the vCPU there, if any, takes its
 *            place (two preemptions and two loads)
 *   host     the next operation of the host program, in a cycle: stage-2
 *            reclaim (host: unmap) and refault (host: remap)
 *
 * Every event goes through vt_step(), like a script's.  The same seed gives
 * the same run.
 */
#include <string.h>

#include "internal.h"
#include "vtlb/cost.h"
#include "vtlb/step.h"

void vt_wl_init(struct vt_wl_gen *g, const struct vt_model *m, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->m = m;
	g->rng = seed;
	for (int v = 0; v < m->nvcpus; v++) {
		g->prog_of[v] = -1;
		if (m->nprog[v]) {
			g->prog_of[v] = (int8_t)v;
			continue;
		}
		/* the program of the nearest vCPU of its VM below it that has one */
		const struct vt_vm *vm = &m->vm[m->vcpu_vm[v]];
		for (int w = v - 1; w >= vm->first_vcpu; w--)
			if (m->nprog[w]) {
				g->prog_of[v] = (int8_t)w;
				break;
			}
	}
	for (int p = 0; p < m->np; p++)
		g->vas[m->pte[p].vm] |= VT_BIT(m->pte[p].va);
}

static uint32_t rnd(struct vt_wl_gen *g, uint32_t n)
{
	return n ? (uint32_t)(vt_rand_next(&g->rng) % n) : 0;
}

static void ev_init(struct vt_event *ev, uint8_t kind, int v, int p)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->vcpu = (int8_t)v;
	ev->pcpu = (int8_t)p;
	ev->op.space = -1;
	ev->op.target = -1;
}

static bool allowed(const struct vt_model *m, int v, int p)
{
	return (m->vm[m->vcpu_vm[v]].pcpus >> p) & 1;
}

/* A waiting vCPU that may run on p, drawn at random; -1 if none. */
static int pick_idle(struct vt_wl_gen *g, const struct vt_state *s, int p)
{
	int c[VT_MAX_VCPUS], n = 0;
	for (int v = 0; v < g->m->nvcpus; v++)
		if (s->vcpu[v].run == VT_RUN_IDLE && allowed(g->m, v, p))
			c[n++] = v;
	return n ? c[rnd(g, (uint32_t)n)] : -1;
}

/* A vCPU in guest mode, drawn at random (with a program if 'prog'); -1 if none. */
static int pick_running(struct vt_wl_gen *g, const struct vt_state *s, bool prog)
{
	int c[VT_MAX_VCPUS], n = 0;
	for (int v = 0; v < g->m->nvcpus; v++)
		if (s->vcpu[v].run == VT_RUN_GUEST && (!prog || g->prog_of[v] >= 0))
			c[n++] = v;
	return n ? c[rnd(g, (uint32_t)n)] : -1;
}

static int gen_access(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	int v = pick_running(g, s, false);
	if (v < 0)
		return -1;
	/* a VA its current space maps, if any (else one its VM maps somewhere: a fault) */
	struct vt_gctx gc;
	vt_vcpu_gctx(g->m, s, v, &gc);
	uint64_t vas = 0;
	if (gc.paging && gc.space >= 0)
		VT_U64_FOREACH(p, s->pt[gc.space])
			vas |= VT_BIT(g->m->pte[p].va);
	if (!vas)
		vas = g->vas[g->m->vcpu_vm[v]];
	if (!vas)
		return -1;
	int k = (int)rnd(g, (uint32_t)__builtin_popcountll(vas));
	int va = -1;
	VT_U64_FOREACH(i, vas)
		if (k-- == 0) {
			va = (int)i;
			break;
		}
	ev_init(ev, VT_EV_GUEST, v, -1);
	ev->flags = VT_EVF_ENTER;
	ev->op.code = VT_OP_ACCESS;
	ev->op.a = g->m->va[va];
	return 0;
}

static int gen_op(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	int v = pick_running(g, s, true);
	if (v < 0)
		return -1;
	int w = g->prog_of[v];
	*ev = g->m->prog[w][g->pc[v] % (uint32_t)g->m->nprog[w]];
	g->pc[v]++;
	ev->vcpu = (int8_t)v;
	ev->flags = VT_EVF_ENTER;
	return 0;
}

static int gen_preempt(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	int v = pick_running(g, s, false);
	if (v < 0)
		return -1;
	int p = s->vcpu[v].pcpu;
	ev_init(ev, VT_EV_PUT, v, -1);
	/* the host's scheduler: another waiting vCPU if there is one, else this one again */
	int w = pick_idle(g, s, p);
	ev_init(&g->q[0], VT_EV_LOAD, w >= 0 ? w : v, p);
	g->q[0].flags = VT_EVF_ENTER;
	g->nq = 1;
	g->qi = 0;
	return 0;
}

static int gen_migrate(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	const struct vt_model *m = g->m;
	int v = pick_running(g, s, false);
	if (v < 0 || m->npcpus < 2)
		return -1;
	int p = s->vcpu[v].pcpu;
	int c[VT_MAX_PCPUS], n = 0;
	for (int q = 0; q < m->npcpus; q++) {
		int w = s->pcpu[q].vcpu;
		if (q != p && allowed(m, v, q) && (w < 0 || allowed(m, w, p)))
			c[n++] = q;
	}
	if (!n)
		return -1;
	int q = c[rnd(g, (uint32_t)n)];
	int w = s->pcpu[q].vcpu;
	ev_init(ev, VT_EV_PUT, v, -1);
	g->nq = 0;
	g->qi = 0;
	if (w >= 0)
		ev_init(&g->q[g->nq++], VT_EV_PUT, w, -1);
	ev_init(&g->q[g->nq], VT_EV_LOAD, v, q);
	g->q[g->nq++].flags = VT_EVF_ENTER;
	if (w >= 0) {
		ev_init(&g->q[g->nq], VT_EV_LOAD, w, p);
		g->q[g->nq++].flags = VT_EVF_ENTER;
	}
	return 0;
}

static int gen_host(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	int n = g->m->nprog[VT_MAX_VCPUS];
	if (!n)
		return -1;
	*ev = g->m->prog[VT_MAX_VCPUS][g->pc[VT_MAX_VCPUS]++ % (uint32_t)n];
	ev->flags = 0;
	return 0;
}

int vt_wl_next(struct vt_wl_gen *g, const struct vt_state *s, struct vt_event *ev)
{
	const struct vt_model *m = g->m;
	g->infra = 0;
	if (g->qi < g->nq) {
		*ev = g->q[g->qi++];
		return 0;
	}
	/* vCPUs that left the guest go back in; idle pCPUs get a waiting vCPU */
	g->infra = 1;
	for (int v = 0; v < m->nvcpus; v++)
		if (s->vcpu[v].run == VT_RUN_LOADED) {
			ev_init(ev, VT_EV_ENTER, v, -1);
			return 0;
		}
	for (int p = 0; p < m->npcpus; p++)
		if (s->pcpu[p].vcpu < 0) {
			int v = pick_idle(g, s, p);
			if (v >= 0) {
				ev_init(ev, VT_EV_LOAD, v, p);
				ev->flags = VT_EVF_ENTER;
				return 0;
			}
		}
	g->infra = 0;
	static int (*const gen[VT_WL_COUNT])(struct vt_wl_gen *, const struct vt_state *, struct vt_event *) = {
		[VT_WL_ACCESS] = gen_access, [VT_WL_OP] = gen_op,     [VT_WL_PREEMPT] = gen_preempt,
		[VT_WL_MIGRATE] = gen_migrate, [VT_WL_HOST] = gen_host,
	};
	uint32_t w[VT_WL_COUNT];
	memcpy(w, m->wl.w, sizeof(w));
	for (;;) {
		uint64_t sum = 0;
		for (int c = 0; c < VT_WL_COUNT; c++)
			sum += w[c];
		if (!sum)
			return -1;
		uint64_t r = vt_rand_next(&g->rng) % sum;
		int c = 0;
		while (r >= w[c]) {
			r -= w[c];
			c++;
		}
		if (gen[c](g, s, ev) == 0)
			return 0;
		w[c] = 0; /* not applicable now: draw among the others */
	}
}
