/*
 * The engine: one step function for scripted runs, exploration and replay.
 *
 * A step applies one event through the layers, in the order the machine
 * would: a guest operation first changes the guest's registers (the
 * architecture), the oracle removes what the manual says the operation
 * invalidates, and then either the hypervisor intercepts it (VM exit and
 * KVM's emulation) or the hardware executes it natively on the tags loaded
 * on that pCPU.  After every step the maximal TLBs fill: the oracle of every
 * vCPU whose translation is on may cache whatever its current context maps
 * (the architecture lets a TLB fill at any time, speculatively), and every
 * hardware TLB domain with a vCPU in guest mode may cache whatever that
 * vCPU's walk returns, under the tag loaded there.  Then the invariant is
 * checked for every vCPU in guest mode.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/step.h"

/* ---- sets -------------------------------------------------------------- */

uint64_t vt_space_pt(const struct vt_model *m, const struct vt_state *s, int space)
{
	uint64_t r = s->pt[space];
	VT_U64_FOREACH(t, s->links[space])
		r |= s->pt[t];
	return r;
}

struct vt_set vt_live_t(const struct vt_model *m, const struct vt_state *s, int space, int ctx, bool global_ok)
{
	struct vt_set r = {{0}};
	if (space < 0 || ctx < 0)
		return r;
	VT_U64_FOREACH(p, vt_space_pt(m, s, space)) {
		int g = global_ok && m->pte[p].g;
		int t = m->tix[ctx][p][g];
		if (t >= 0)
			vt_set_add(&r, (unsigned)t);
	}
	return r;
}

void vt_vcpu_gctx(const struct vt_model *m, const struct vt_state *s, int v, struct vt_gctx *g)
{
	m->aops->gctx(m, &s->vcpu[v].g, g);
}

struct vt_set vt_live_vcpu(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_view w;
	vt_view_of(m, s, v, &w);
	return w.live;
}

void vt_view_of(const struct vt_model *m, const struct vt_state *s, int v, struct vt_view *w)
{
	struct vt_set none = {{0}};
	vt_vcpu_gctx(m, s, v, &w->g);
	w->live = w->g.paging ? vt_live_t(m, s, w->g.space, w->g.ctx, w->g.global_ok) : none;
}

static inline bool gctx_eq(const struct vt_gctx *a, const struct vt_gctx *b)
{
	return a->paging == b->paging && a->space == b->space && a->ctx == b->ctx && a->global_ok == b->global_ok;
}

/* Whether a view's live set depends on the page tables (vt_live_t: a space and a context). */
static inline bool reads_pt(const struct vt_gctx *g)
{
	return g->paging && g->space >= 0 && g->ctx >= 0;
}

/*
 * The views of the last settle on this thread, with what they were derived
 * from.  A view is a function of the model, the vCPU's registers
 * (vt_arch_ops.gctx) and, when it reads them, its space's page tables
 * (vt_space_pt): a vCPU whose registers and tables are as they were then
 * has the same view.  In an exploration consecutive steps start from the
 * same parent or from a parent and its child, and most vCPUs keep theirs.
 */
struct view_memo {
	const struct vt_model *m;
	uint64_t serial;                      /* m->serial: another model at the same address is another */
	struct {
		union vt_gregs regs;          /* the registers the view came from */
		uint64_t pt;                  /* vt_space_pt of 'space' then */
		int8_t space;                 /* the space whose tables it read (reads_pt); -1: none */
	} in[VT_MAX_VCPUS];
	struct vt_view w[VT_MAX_VCPUS];
};
static _Thread_local struct view_memo memo;

static const struct vt_view *view_compute(const struct vt_model *m, const struct vt_state *s, int v);

/* memo_for's miss: every vCPU's entry computed from s, in vCPU order (view_at). */
static void __attribute__((noinline)) memo_fill(const struct vt_model *m, const struct vt_state *s)
{
	memo.m = m;
	memo.serial = m->serial;
	for (int v = 0; v < m->nvcpus; v++)
		(void)view_compute(m, s, v);
}

/*
 * Start using the thread's memo for m and s: another model replaces every
 * entry, computed from s, so that each of m's vCPUs has one (view_at tests
 * no validity flag).
 */
static inline void memo_for(const struct vt_model *m, const struct vt_state *s)
{
	if (memo.m != m || memo.serial != m->serial)
		memo_fill(m, s);
}

/* view_at's miss: compute v's view and remember what it came from. */
static const struct vt_view *view_compute(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_view *w = memo.w;
	const union vt_gregs *r = &s->vcpu[v].g;
	vt_vcpu_gctx(m, s, v, &w[v].g);
	int k = 0;
	while (k < v && !gctx_eq(&w[k].g, &w[v].g))
		k++;
	if (k < v) {
		w[v].live = w[k].live;
	} else {
		struct vt_set none = {{0}};
		w[v].live = w[v].g.paging ? vt_live_t(m, s, w[v].g.space, w[v].g.ctx, w[v].g.global_ok) : none;
	}
	memo.in[v].regs = *r;
	memo.in[v].space = reads_pt(&w[v].g) ? w[v].g.space : -1;
	memo.in[v].pt = reads_pt(&w[v].g) ? vt_space_pt(m, s, w[v].g.space) : 0;
	return &w[v];
}

/*
 * v's view of s (memo_for(m, s) first): the memo's when its registers and
 * tables are as they were then, else computed now.  Views of vCPUs before
 * v must already be current: two vCPUs in the same context (space, tag,
 * global bit) map the same translations, and the second copies the
 * first's.
 */
static inline const struct vt_view *view_at(const struct vt_model *m, const struct vt_state *s, int v)
{
	int sp = memo.in[v].space;
	if (memcmp(&memo.in[v].regs, &s->vcpu[v].g, sizeof(union vt_gregs)) == 0 &&
	    (sp < 0 || memo.in[v].pt == vt_space_pt(m, s, sp))) {
#ifndef NDEBUG
		struct vt_view now;
		vt_view_of(m, s, v, &now);
		assert(gctx_eq(&now.g, &memo.w[v].g) && vt_set_eq(&now.live, &memo.w[v].live) &&
		       "view_at: a memo hit is the view computed now");
#endif
		return &memo.w[v];
	}
	return view_compute(m, s, v);
}

/*
 * Every vCPU's view of s, once per step, after the step's own changes and
 * the hypervisor's page faults: from there to the end of the check nothing
 * changes a guest register or a guest page table (the oracle fills change
 * permitted sets, the walks KVM's own tables, the TLB fills the TLBs).
 * Returns the thread's memo, valid until the next call.  (settle computes
 * them in its oracle-fill pass, the same way.)
 */
static const struct vt_view *views(const struct vt_model *m, const struct vt_state *s)
{
	memo_for(m, s);
	for (int v = 0; v < m->nvcpus; v++)
		(void)view_at(m, s, v);
	return memo.w;
}

struct vt_set vt_compose_s2(const struct vt_model *m, const struct vt_state *s, const struct vt_set *t)
{
	struct vt_set r;
	vt_compose_into(m, s, t, &r);
	return r;
}

void vt_walk_nested(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w, struct vt_set *u,
		    uint64_t *s2)
{
	vt_walk_2d(m, s, v, w, u, s2);
}

struct vt_set vt_ctx_value_umask(const struct vt_model *m, uint32_t value)
{
	struct vt_set r = {{0}};
	for (int c = 0; c < m->nctx; c++)
		if (m->ctx[c].value == value)
			vt_set_or(&r, &m->u_ctx[c]);
	return r;
}

uint64_t vt_pt_va(const struct vt_model *m, const struct vt_state *s, int space, int va)
{
	uint64_t r = 0;
	VT_U64_FOREACH(p, s->pt[space])
		if (m->pte[p].va == va)
			r |= VT_BIT(p);
	return r;
}

void vt_trace_reverted(struct vt_trace *tr, int vcpu, unsigned fix, const char *what)
{
	vt_trace_add(tr, VT_TR_FIX, vcpu, -1, fix, 0, 0, 0, what);
}

/* ---- queries ----------------------------------------------------------- */

/*
 * What v may observe in context g (vt_oracle_ops.usable, or the engine's:
 * its permitted translations of its context and global ones, in its VM):
 * the translations, the guest-physical entries still permitted and those
 * of its own guest-physical space.
 */
static inline void oracle_ok(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_gctx *g,
			     struct vt_set *ok, uint64_t *s_ok, uint64_t *s_mine)
{
	struct vt_set r = {{0}};
	if (m->step_hooks.oracle_usable && m->step_hooks.oracle_usable(m, s, v, &r, s_ok, s_mine)) {
		*ok = r;
		return;
	}
	*s_ok = UINT64_MAX;
	*s_mine = m->s_vm[m->vcpu_vm[v]];
	if (g->paging && g->ctx >= 0)
		r = vt_set_inter(&m->t_ctx_vm[g->ctx][m->vcpu_vm[v]], &s->vcpu[v].permitted);
	*ok = r;
}

struct vt_set vt_oracle_usable(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_gctx g;
	struct vt_set r;
	uint64_t s_ok, s_mine;
	vt_vcpu_gctx(m, s, v, &g);
	oracle_ok(m, s, v, &g, &r, &s_ok, &s_mine);
	return r;
}

struct vt_set vt_hw_usable(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_set u = {{0}};
	uint64_t s2 = 0;
	int p = s->vcpu[v].pcpu;
	if (s->vcpu[v].run != VT_RUN_GUEST || p < 0)
		return u;
	struct vt_gctx g;
	vt_vcpu_gctx(m, s, v, &g);
	m->hw->reach(m, s, p, &g, &u, &s2);
	return u;
}

/* Is t's observable result (va -> gpa) among the translations in ok? */
static bool projection_ok(const struct vt_model *m, const struct vt_set *ok, int t)
{
	const struct vt_pte *pt = &m->pte[m->t[t].p];
	struct vt_set same = vt_set_inter(ok, &m->t_va[pt->va]);
	VT_SET_FOREACH(x, &same)
		if (m->pte[m->t[x].p].gpa == pt->gpa)
			return true;
	return false;
}

static bool va_matches(const struct vt_model *m, int t, uint64_t va, uint64_t gpa)
{
	const struct vt_pte *p = &m->pte[m->t[t].p];
	return m->va[p->va] == va && (gpa == UINT64_MAX || p->gpa == gpa);
}

bool vt_oracle_permits(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, uint64_t gpa)
{
	struct vt_set ok = vt_oracle_usable(m, s, v);
	VT_SET_FOREACH(t, &ok)
		if (va_matches(m, t, va, gpa))
			return true;
	return false;
}

bool vt_hw_returns(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, uint64_t gpa)
{
	struct vt_set u = vt_hw_usable(m, s, v);
	VT_SET_FOREACH(x, &u)
		if (va_matches(m, m->u[x].t, va, gpa))
			return true;
	return false;
}

bool vt_hw_reaches_gpa(const struct vt_model *m, const struct vt_state *s, int v, uint64_t gpa, uint64_t hpa)
{
	int p = s->vcpu[v].pcpu;
	if (s->vcpu[v].run != VT_RUN_GUEST || p < 0)
		return false;
	struct vt_gctx g;
	struct vt_set u;
	uint64_t s2 = 0;
	vt_vcpu_gctx(m, s, v, &g);
	m->hw->reach(m, s, p, &g, &u, &s2);
	VT_U64_FOREACH(j, s2)
		if (m->s2[j].gpa == gpa && !m->s2[j].table && (hpa == UINT64_MAX || m->s2[j].hpa == hpa))
			return true;
	return false;
}

/* The invariant, for every vCPU in guest mode; w: every vCPU's view of s (views). */
static inline __attribute__((always_inline)) void check(const struct vt_model *m, const struct vt_state *s,
							const struct vt_view *w, struct vt_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = VT_V_OK;
	out->vcpu = -1;
	out->pcpu = -1;
	out->u = -1;
	out->s = -1;
	out->step = s->meta.step;
	for (int v = 0; v < m->nvcpus; v++) {
		if (s->vcpu[v].run != VT_RUN_GUEST)
			continue;
		int p = s->vcpu[v].pcpu;
		struct vt_set u = {{0}};
		uint64_t s2 = 0;
		m->hw->reach(m, s, p, &w[v].g, &u, &s2);
		if (vt_set_empty(&u) && !s2)
			continue; /* the hardware can return nothing to v: nothing to check */
		/* a nested guest's own guest-physical mappings may be stale too (vt_oracle_ops.usable) */
		struct vt_set ok;
		uint64_t s_ok, s_mine;
		oracle_ok(m, s, v, &w[v].g, &ok, &s_ok, &s_mine);
		VT_SET_FOREACH(x, &u) {
			int t = m->u[x].t;
			if (!vt_set_has(&ok, (unsigned)t) && !projection_ok(m, &ok, t)) {
				out->kind = VT_V_STALE;
				out->vcpu = (int8_t)v;
				out->pcpu = (int8_t)p;
				out->u = (int16_t)x;
				return;
			}
			if (!(s_ok & VT_BIT(m->u[x].s))) {
				/* the linear part is permitted, the guest-physical one no longer */
				out->kind = VT_V_STALE;
				out->vcpu = (int8_t)v;
				out->pcpu = (int8_t)p;
				out->u = (int16_t)x;
				out->s = (int16_t)m->u[x].s;
				return;
			}
			if (!(s->s_perm & VT_BIT(m->u[x].s))) {
				out->kind = VT_V_BREACH;
				out->vcpu = (int8_t)v;
				out->pcpu = (int8_t)p;
				out->u = (int16_t)x;
				out->s = (int16_t)m->u[x].s;
				return;
			}
		}
		/* A guest-physical entry of another VM is a breach as much as an unmapped page. */
		uint64_t bad = s2 & ~(s->s_perm & s_mine);
		if (bad) {
			out->kind = VT_V_BREACH;
			out->vcpu = (int8_t)v;
			out->pcpu = (int8_t)p;
			out->s = (int16_t)__builtin_ctzll(bad);
			return;
		}
	}
}

void vt_check(const struct vt_model *m, const struct vt_state *s, struct vt_verdict *out)
{
	check(m, s, views(m, s), out);
}

/* ---- filling ----------------------------------------------------------- */

/*
 * vt_tlb_tidy(s, d) changes nothing when every slot before the first free
 * key holds some entry and that free slot is clear (its invariant, which
 * most steps keep in most domains): tested here, inline, before calling it.
 */
static inline bool dom_tidy(const struct vt_state *s, int d)
{
	const struct vt_tlb_slot *sl = s->dom[d].slot;
	for (int i = 0; i < VT_MAX_SLOTS; i++, sl++) {
		bool empty = !sl->s && vt_set_empty(&sl->u);
		if (sl->key == VT_KEY_NONE)
			return empty;
		if (empty)
			return false;
	}
	return true;
}

/* The hardware fill for v in guest mode: what its walk returns, on its pCPU; < 0: no free tag slot. */
static inline int walk_fill(const struct vt_model *m, struct vt_state *s, int v, const struct vt_view *w)
{
	struct vt_set u;
	uint64_t s2;
	m->hv->walk(m, s, v, w, &u, &s2);
	return m->hw->fill(m, s, s->vcpu[v].pcpu, &u, s2);
}

/*
 * Let every TLB fill what it may.  The oracle fills for every vCPU whose
 * translation is on, running or not: from the guest's point of view a
 * descheduled vCPU is still executing and may cache its context.  The
 * hardware fills only where a vCPU is in guest mode.
 */
static inline __attribute__((always_inline)) int settle(const struct vt_model *m, struct vt_state *s,
						       const struct vt_view **views_out, struct vt_trace *tr)
{
	const int nv = m->nvcpus, nd = m->ndomains; /* read once: the stores to s could alias them */
	if (m->step_hooks.hv_fault)
		for (int v = 0; v < nv; v++)
			if (s->vcpu[v].run == VT_RUN_GUEST)
				m->step_hooks.hv_fault(m, s, v, tr);
	/* each view just before its vCPU's oracle fill: a fill changes no register or page table (views) */
	memo_for(m, s);
	const struct vt_view *w = memo.w;
	*views_out = w;
	if (m->step_hooks.oracle_fill) {
		for (int v = 0; v < nv; v++)
			m->step_hooks.oracle_fill(m, s, v, view_at(m, s, v));
		for (int v = 0; v < nv; v++)
			if (s->vcpu[v].run == VT_RUN_GUEST && walk_fill(m, s, v, &w[v]) < 0)
				return -1;
	} else {
		/*
		 * The engine's oracle fill, in the same pass as the walks: it
		 * writes only permitted sets, which no walk reads (the
		 * hypervisor does not see the oracle), and a walk writes none.
		 * After a fill that fails, the oracle fills still run, as above.
		 */
		int full = 0;
		for (int v = 0; v < nv; v++) {
			vt_set_or(&s->vcpu[v].permitted, &view_at(m, s, v)->live);
			if (s->vcpu[v].run == VT_RUN_GUEST && !full)
				full = walk_fill(m, s, v, &w[v]) < 0;
		}
		if (full)
			return -1;
	}
	/*
	 * Only a domain written since meta.dom_w was last cleared can be
	 * untidy: it is cleared only in a state whose domains are all tidy
	 * (a stored state's child), and vt_state_init marks every domain.
	 */
	for (uint32_t dw = s->meta.dom_w & (uint32_t)(VT_BIT(nd) - 1); dw; dw &= dw - 1) {
		int d = __builtin_ctz(dw);
		if (!dom_tidy(s, d))
			vt_tlb_tidy(s, d);
	}
#ifndef NDEBUG
	for (int d = 0; d < nd; d++)
		assert(dom_tidy(s, d) && "settle: a TLB domain no step marked is tidy");
#endif
	return 0;
}

void vt_state_settle(const struct vt_model *m, struct vt_state *s)
{
	const struct vt_view *w;
	(void)settle(m, s, &w, NULL);
}

/* ---- events ------------------------------------------------------------ */

static const char *const step_errors[VT_STEP_ERR_COUNT] = {
	[VT_STEP_OK] = "ok",
	[VT_STEP_ERR_VCPU_BUSY] = "the vCPU is already loaded on a pCPU",
	[VT_STEP_ERR_PCPU_BUSY] = "the pCPU already has a vCPU loaded",
	[VT_STEP_ERR_PCPU_DENIED] = "the pCPU is not one this VM may use",
	[VT_STEP_ERR_NOT_LOADED] = "the vCPU is not loaded on a pCPU",
	[VT_STEP_ERR_NOT_RUNNING] = "the vCPU is not running in the guest",
	[VT_STEP_ERR_IN_GUEST] = "the vCPU is already in the guest",
	[VT_STEP_ERR_LIMIT] = "a model limit was hit",
	[VT_STEP_ERR_HOST_BUSY] = "another host operation is still in progress (finish it with 'phase' steps first)",
	[VT_STEP_ERR_NOT_IDLE] = "the VMM can write the vCPU's registers only while its thread is in userspace ('leave' it first)",
	[VT_STEP_ERR_LEVEL] = "the vCPU runs the other level: an L2 operation needs its L1's VM entry (vmlaunch) "
			      "first, an L1 operation the L2's VM exit (vmexit)",
	[VT_STEP_ERR_BAD_EVENT] = "malformed event",
	[VT_STEP_ERR_HOST_WAIT] = "the host operation waits until every vCPU it sent an IPI has taken it (advance the vCPU "
				  "with 'enter VCPU phase' first)",
	[VT_STEP_ERR_VMM_L2] = "model: the VMM writes the registers of a vCPU in guest mode (KVM_SET_SREGS would write L2's "
			       "state, and a change of SMM would first leave nested operation, kvm_leave_nested); not modelled: "
			       "let L2 exit to L1 (vmexit) first",
	[VT_STEP_ERR_IRQS_OFF] = "the vCPU is between vcpu->mode = IN_GUEST_MODE and VM entry, with preemption and IRQs "
				 "off (finish it with 'enter VCPU phase' first)",
};

static const char *const limits[VT_LIMIT_COUNT] = {
	[VT_LIMIT_NONE] = "no limit",
	[VT_LIMIT_TLB_SLOTS] = "model limit: a hardware TLB domain ran out of tag slots (at most 8 tags per domain)",
	[VT_LIMIT_PENDING] = "model limit: too many hardware invalidations in flight at once",
	[VT_LIMIT_ORACLE_PENDING] = "model limit: too many guest invalidations awaiting their barrier",
	[VT_LIMIT_IPIS] = "model limit: too many IPIs pending for one vCPU (at most 2)",
	[VT_LIMIT_TDP_ROOTS] = "model limit: a VM needs more than 4 TDP roots at once",
	[VT_LIMIT_VMIDS] = "model limit: no free VMID after a rollover (raise 'option vmid-bits')",
};

const char *vt_limit_str(unsigned limit)
{
	return limit < VT_LIMIT_COUNT ? limits[limit] : "model limit";
}

const char *vt_step_strerror(enum vt_step_err e)
{
	return (unsigned)e < VT_STEP_ERR_COUNT ? step_errors[e] : "unknown error";
}

/* vt_step_enabled, inline for vt_step. */
static inline __attribute__((always_inline)) enum vt_step_err
step_enabled(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev)
{
	int v = ev->vcpu;
	if (ev->kind != VT_EV_HOST && (v < 0 || v >= m->nvcpus))
		return VT_STEP_ERR_BAD_EVENT;
	switch (ev->kind) {
	case VT_EV_LOAD: {
		int p = ev->pcpu;
		if (p < 0 || p >= m->npcpus)
			return VT_STEP_ERR_BAD_EVENT;
		if (s->vcpu[v].run != VT_RUN_IDLE)
			return VT_STEP_ERR_VCPU_BUSY;
		if (s->pcpu[p].vcpu >= 0)
			return VT_STEP_ERR_PCPU_BUSY;
		if (!(m->vm[m->vcpu_vm[v]].pcpus & VT_BIT(p)))
			return VT_STEP_ERR_PCPU_DENIED;
		return VT_STEP_OK;
	}
	case VT_EV_ENTER:
		if (s->vcpu[v].run == VT_RUN_IDLE)
			return VT_STEP_ERR_NOT_LOADED;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			return VT_STEP_ERR_IN_GUEST;
		return VT_STEP_OK;
	case VT_EV_PUT:
		if (s->vcpu[v].run == VT_RUN_IDLE)
			return VT_STEP_ERR_NOT_LOADED;
		return s->vcpu[v].entry != VT_ENTRY_NONE ? VT_STEP_ERR_IRQS_OFF : VT_STEP_OK;
	case VT_EV_GUEST:
		if (ev->flags & VT_EVF_VMM) { /* the VMM's ioctl: the vCPU's thread is in userspace */
			if (s->vcpu[v].run != VT_RUN_IDLE || s->vcpu[v].in_run)
				return VT_STEP_ERR_NOT_IDLE;
			int l2vm;
			if (m->has_nested && m->aops->level && m->aops->level(m, s, v, &l2vm) == 2)
				return VT_STEP_ERR_VMM_L2;
			return VT_STEP_OK;
		}
		if (s->vcpu[v].run != VT_RUN_GUEST)
			return VT_STEP_ERR_NOT_RUNNING;
		if (m->has_nested && m->aops->level) {
			int l2vm;
			int level = m->aops->level(m, s, v, &l2vm);
			bool want2 = (ev->flags & VT_EVF_L2) != 0;
			if (level != (want2 ? 2 : 1) || (want2 && l2vm != ev->pcpu))
				return VT_STEP_ERR_LEVEL;
		}
		return VT_STEP_OK;
	case VT_EV_HOST:
		/* A host operation in progress must be finished before another starts. */
		if (s->host_phase && ev->op.code != VT_OP_HOST_INSN && ev->op.code != VT_OP_HOST_RAW_REMAP &&
		    memcmp(&ev->op, &s->host_cur, sizeof(ev->op)) != 0 && !vt_host_concurrent(s, &ev->op))
			return VT_STEP_ERR_HOST_BUSY;
		if (s->host_phase && ev->op.code != VT_OP_HOST_INSN && ev->op.code != VT_OP_HOST_RAW_REMAP &&
		    m->hv->host_blocked && m->hv->host_blocked(m, s))
			return VT_STEP_ERR_HOST_WAIT;
		return VT_STEP_OK;
	default:
		return VT_STEP_ERR_BAD_EVENT;
	}
}

enum vt_step_err vt_step_enabled(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev)
{
	return step_enabled(m, s, ev);
}

/*
 * For the trace: each translation the hardware could return to v at va, one
 * per line, as VA -> GPA -> HPA, where it is held (TLB domain and tag) and
 * whether the architecture still permits it.
 */
static void access_answers(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va,
			   const struct vt_set *u, char *buf, size_t len)
{
	int p = s->vcpu[v].pcpu;
	uint32_t key = s->pcpu[p].key;
	struct vt_set ok = vt_oracle_usable(m, s, v);
	char k[64];
	size_t o = 0;
	buf[0] = 0;
	m->hw->fmt_key(key, k, sizeof(k));
	VT_SET_FOREACH(x, u) {
		int t = m->u[x].t;
		if (!va_matches(m, t, va, UINT64_MAX) || o >= len)
			continue;
		const struct vt_pte *pt = &m->pte[m->t[t].p];
		o += (size_t)snprintf(buf + o, len - o, "%sVA 0x%" PRIx64 " -> GPA 0x%" PRIx64 " -> HPA 0x%" PRIx64 " from",
				      o ? "\n" : "", va, pt->gpa, m->s2[m->u[x].s].hpa);
		int where = 0;
		for (int d = 0; d < m->ndomains && o < len; d++) {
			/* the pCPU's own TLB, and those its lookup also reads (arm64 CnP, a POWER thread's ERAT) */
			const char *what = d == m->domain_of[p] ? "TLB"
					   : m->hw->lookup_dom ? m->hw->lookup_dom(m, p, d)
							       : NULL;
			if (!what)
				continue;
			for (int i = 0; i < VT_MAX_SLOTS && s->dom[d].slot[i].key != VT_KEY_NONE && o < len; i++)
				if (s->dom[d].slot[i].key == key && vt_set_has(&s->dom[d].slot[i].u, (unsigned)x)) {
					o += (size_t)snprintf(buf + o, len - o, "%s %s %d [%s]", where ? "," : "", what, d, k);
					where = 1;
				}
		}
		if (o < len && !where)
			o += (size_t)snprintf(buf + o, len - o, " a cache outside the TLB (an I-cache line) [%s]", k);
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s",
					      vt_set_has(&ok, (unsigned)t) || projection_ok(m, &ok, t)
						      ? " (permitted)"
						      : " (NOT permitted: stale)");
	}
}

/* Page-table edits are the guest's own business: no exit, no flush. */
static void guest_pt_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			struct vt_trace *tr)
{
	int va = vt_model_va_index(m, op->a);
	switch (op->code) {
	case VT_OP_MAP:
		s->pt[op->space] &= ~vt_pt_va(m, s, op->space, va);
		s->pt[op->space] |= VT_BIT(op->b);
		break;
	case VT_OP_UNMAP:
		if (va >= 0)
			s->pt[op->space] &= ~vt_pt_va(m, s, op->space, va);
		break;
	case VT_OP_LINK:
		s->links[op->space] |= (uint16_t)(1u << op->b);
		break;
	case VT_OP_UNLINK:
		s->links[op->space] &= (uint16_t)~(1u << op->b);
		break;
	case VT_OP_ACCESS: {
		if (m->hv->access)
			m->hv->access(m, s, v, op->a, tr);
		struct vt_set u = vt_hw_usable(m, s, v);
		int n = 0;
		VT_SET_FOREACH(x, &u)
			if (va_matches(m, m->u[x].t, op->a, UINT64_MAX))
				n++;
		const char *text = NULL;
		if (tr && !tr->no_records && n) {
			char buf[2048];
			access_answers(m, s, v, op->a, &u, buf, sizeof(buf));
			text = vt_trace_strdup(tr, buf);
		}
		vt_trace_add(tr, VT_TR_ACCESS, v, s->vcpu[v].pcpu, 0, 0, op->a, (uint64_t)n, text);
		break;
	}
	default:
		break;
	}
}

static void guest_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
		     struct vt_trace *tr)
{
	union vt_gregs old = s->vcpu[v].g;
	if (op->code < VT_OP_ARCH) {
		if ((op->code == VT_OP_MAP || op->code == VT_OP_UNMAP) && m->hv->pt_store)
			m->hv->pt_store(m, s, v, op, tr);
		guest_pt_op(m, s, v, op, tr);
		/* Upper-level page-table writes may be write-protected by the hypervisor. */
		if ((op->code == VT_OP_LINK || op->code == VT_OP_UNLINK) && m->hv->pt_trap && m->hv->pt_trap(m, s, v, op)) {
			vt_trace_add(tr, VT_TR_EXIT, v, s->vcpu[v].pcpu, op->code, 0, 0, 0, NULL);
			m->hv->exit(m, s, v, tr);
			s->vcpu[v].run = VT_RUN_LOADED;
			s->vcpu[v].mode = VT_MODE_OUTSIDE;
			m->hv->handle(m, s, v, op, &old, tr);
		}
		return;
	}
	const char *why = "the architecture faults this operation";
	if (m->aops->exec(m, s, v, op, &why) == VT_EXEC_FAULT) {
		vt_trace_add(tr, VT_TR_FAULT, v, s->vcpu[v].pcpu, op->code, 0, 0, 0, why);
		return;
	}
	m->oracle->guest_op(m, s, v, op, &old);
	if (m->hv->intercepts(m, s, v, op, &old)) {
		vt_trace_add(tr, VT_TR_EXIT, v, s->vcpu[v].pcpu, op->code, 0, 0, 0, NULL);
		m->hv->exit(m, s, v, tr);
		s->vcpu[v].run = VT_RUN_LOADED;
		s->vcpu[v].mode = VT_MODE_OUTSIDE;
		m->hv->handle(m, s, v, op, &old, tr);
	} else {
		m->hw->native(m, s, s->vcpu[v].pcpu, op, &old, tr);
	}
}

/*
 * A register write by the VMM (KVM_SET_SREGS), not by the guest: the same
 * architectural validity, the oracle's and KVM's own rules for it.
 */
static void vmm_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op, struct vt_trace *tr)
{
	union vt_gregs old = s->vcpu[v].g;
	const char *why = "the VMM's register values are invalid";
	if (m->aops->exec(m, s, v, op, &why) == VT_EXEC_FAULT) {
		/* KVM_SET_SREGS fails; nothing changes (the runner reports it as a fault) */
		vt_trace_add(tr, VT_TR_FAULT, v, -1, op->code, 0, 0, 0, why);
		return;
	}
	if (m->oracle->vmm_op)
		m->oracle->vmm_op(m, s, v, op, &old);
	if (m->hv->vmm_op)
		m->hv->vmm_op(m, s, v, op, &old, tr);
}

/* Every vCPU in the guest takes its pending IPIs (vt_arch_ops.take_ipi), in vCPU order. */
static void deliver_ipis(const struct vt_model *m, struct vt_state *s, struct vt_trace *tr)
{
	bool (*take_ipi)(const struct vt_model *, struct vt_state *, int, struct vt_op *) = m->aops->take_ipi;
	if (!take_ipi)
		return;
	const int nv = m->nvcpus; /* read once: the stores to s could alias it */
	for (int t = 0; t < nv; t++) {
		struct vt_op h;
		while (s->vcpu[t].run == VT_RUN_GUEST && take_ipi(m, s, t, &h)) {
			vt_trace_note(tr, t, s->vcpu[t].pcpu, "takes the IPI: its handler runs");
			guest_op(m, s, t, &h, tr);
		}
	}
}

/*
 * Host operations.  Two are instruments for pinning hardware rules, not
 * hypervisor behaviour: one raw instruction on a pCPU, and a stage-2 change
 * with no flush at all (the old mapping then stays permitted: the host has
 * not claimed it is gone).  Everything else is the hypervisor's.
 */
static void host_op(const struct vt_model *m, struct vt_state *s, const struct vt_op *op, bool one_phase,
		    struct vt_trace *tr)
{
	if (op->code == VT_OP_HOST_INSN) {
		m->hw->insn(m, s, op->target, (unsigned)(op->b >> 32), (uint32_t)op->b, op->a, tr);
		return;
	}
	if (op->code == VT_OP_HOST_RAW_REMAP) {
		int vm = op->target;
		s->vm[vm].s2 &= ~m->s_gpa[op->b];
		s->vm[vm].s2 |= VT_BIT(op->b);
		s->s_perm |= VT_BIT(op->b);
		return;
	}
	if (vt_host_concurrent(s, op) && memcmp(op, &s->host_cur, sizeof(*op)) != 0) {
		/* Another host thread, while the operation in progress has dropped its lock: it runs whole. */
		vt_trace_note(tr, -1, -1, "another host thread, while the operation in progress has yielded");
		(void)m->hv->host_op(m, s, op, false, tr);
		return;
	}
	if (!s->host_phase)
		s->host_cur = *op;
	if (m->hv->host_op(m, s, op, one_phase, tr)) {
		s->host_phase = 0;
		memset(&s->host_cur, 0, sizeof(s->host_cur));
	} else {
		vt_trace_note(tr, -1, -1, "host operation in progress");
	}
}

static void enter(const struct vt_model *m, struct vt_state *s, int v, bool one_phase, struct vt_trace *tr)
{
	if (m->hv->enter(m, s, v, one_phase, tr)) {
		s->vcpu[v].run = VT_RUN_GUEST;
		s->vcpu[v].mode = VT_MODE_IN_GUEST;
		if (tr)
			vt_trace_add(tr, VT_TR_NOTE, v, s->vcpu[v].pcpu, 0, 0, 0, 0, "enters the guest");
	}
}

enum vt_step_err vt_step(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev,
			 struct vt_trace *tr, struct vt_verdict *verdict)
{
	enum vt_step_err e = step_enabled(m, s, ev);
	if (e != VT_STEP_OK)
		return e;
	int v = ev->vcpu;
	s->meta.step++;
	if (tr) { /* an exploration runs without a trace: not even the calls */
		tr->step = s->meta.step;
		vt_trace_event(tr, ev);
	}

	switch (ev->kind) {
	case VT_EV_LOAD: {
		int p = ev->pcpu;
		struct vt_vcpu_state *vs = &s->vcpu[v];
		vs->run = VT_RUN_LOADED;
		vs->pcpu = (int8_t)p;
		vs->mode = VT_MODE_OUTSIDE;
		s->pcpu[p].vcpu = (int8_t)v;
		if (vt_tracks_thread(m)) {
			/* kvm_sched_in (virt/kvm/kvm_main.c) calls kvm_arch_sched_in first; vcpu_load does not. */
			if (vs->in_run && m->hv->sched_in)
				m->hv->sched_in(m, s, v, p, tr);
			vs->in_run = 1;
		}
		m->hv->load(m, s, v, p, tr);
		if (ev->flags & VT_EVF_ENTER)
			enter(m, s, v, false, tr);
		break;
	}
	case VT_EV_ENTER:
		enter(m, s, v, (ev->flags & VT_EVF_STEP) != 0, tr);
		break;
	case VT_EV_PUT: {
		struct vt_vcpu_state *vs = &s->vcpu[v];
		int p = vs->pcpu;
		if (vs->run == VT_RUN_GUEST) {
			vt_trace_add(tr, VT_TR_EXIT, v, p, 0, (ev->flags & VT_EVF_USER) ? 2 : 0, 0, 0, NULL);
			m->hv->exit(m, s, v, tr);
		}
		vs->run = VT_RUN_LOADED;
		vs->mode = VT_MODE_OUTSIDE;
		if (vt_tracks_thread(m))
			vs->in_run = !(ev->flags & VT_EVF_USER); /* vcpu->preempted, for kvm_arch_vcpu_put */
		m->hv->put(m, s, v, tr);
		vs->run = VT_RUN_IDLE;
		vs->pcpu = -1;
		vs->phase = 0;
		vs->last_pcpu = (int8_t)p;
		s->pcpu[p].vcpu = -1;
		break;
	}
	case VT_EV_GUEST:
		if (ev->flags & VT_EVF_VMM) {
			vmm_op(m, s, v, &ev->op, tr);
			break;
		}
		guest_op(m, s, v, &ev->op, tr);
		if ((ev->flags & VT_EVF_ENTER) && s->vcpu[v].run == VT_RUN_LOADED)
			enter(m, s, v, false, tr);
		break;
	case VT_EV_HOST:
		host_op(m, s, &ev->op, (ev->flags & VT_EVF_STEP) != 0, tr);
		break;
	default:
		return VT_STEP_ERR_BAD_EVENT;
	}

	deliver_ipis(m, s, tr);
	if (tr)
		vt_trace_settle(tr);
	const struct vt_view *w;
	if (settle(m, s, &w, tr) < 0)
		vt_state_limit(&s->meta, VT_LIMIT_TLB_SLOTS);
	if (s->meta.limit)
		return VT_STEP_ERR_LIMIT;
	check(m, s, w, verdict);
	if (verdict->kind == VT_V_STALE)
		vt_trace_add(tr, VT_TR_STALE, verdict->vcpu, verdict->pcpu, (uint32_t)verdict->u, 0, 0, 0, NULL);
	else if (verdict->kind == VT_V_BREACH)
		vt_trace_add(tr, VT_TR_BREACH, verdict->vcpu, verdict->pcpu, (uint32_t)verdict->u,
			     (uint32_t)verdict->s, 0, 0, NULL);
	return VT_STEP_OK;
}
