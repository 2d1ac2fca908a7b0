/*
 * Cost runs: counters attached to vt_step() through a trace observer, the
 * over-flush measure, the finite TLB's misses on the run's accesses, and
 * the cost table that turns counts into estimated cycles.  See cost.h.
 *
 * Over-flush.  Just before an invalidation instruction runs (its trace
 * record arrives first, ops.h), the observer copies the TLB domains; at the
 * next record, or when the step lets the TLBs fill, it compares: every
 * combined entry the instruction removed whose translation the oracle of a
 * vCPU using that tag in that domain still permits, with its stage-2 page
 * still mapped by the host, was flushed for nothing -- unless that vCPU's
 * own guest operation invalidated the translation and the instruction is
 * the hypervisor serving that request (until the vCPU is back in the
 * guest); so was every guest-physical entry the host still maps.  Which vCPUs use a tag is
 * observed, not assumed: a vCPU in guest mode on a pCPU of the domain with
 * that tag loaded uses it, until the domain holds no entry under that tag
 * any more (a VPID is one vCPU's, an EPTP, VMID or LPID the vCPUs of the VM
 * that ran there; an SVM ASID number handed to another vCPU after a
 * generation rollover starts afresh).  Native guest invalidations are the
 * guest's own requests and are not counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/cost.h"
#include "vtlb/ops.h"
#include "vtlb/run.h"
#include "vtlb/step.h"

/* ---- cost table ---------------------------------------------------------- */

const struct vt_cost_entry *vt_cost_find(const struct vt_cost_table *t, const char *name)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0)
			return &t->e[i];
	return NULL;
}

int vt_cost_table_load(const char *path, struct vt_cost_table *t, struct vt_diag *d)
{
	memset(t, 0, sizeof(*t));
	memset(d, 0, sizeof(*d));
	snprintf(t->file, sizeof(t->file), "%s", path);
	snprintf(d->file, sizeof(d->file), "%s", path);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(d->msg, sizeof(d->msg), "cannot open: %s", strerror(errno));
		return -1;
	}
	char buf[1024];
	uint32_t line = 0;
	int rc = 0;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		d->line = line;
		size_t len = strlen(buf);
		if (len == sizeof(buf) - 1 && buf[len - 1] != '\n') {
			d->col = (uint32_t)len;
			snprintf(d->msg, sizeof(d->msg), "line longer than %zu characters", sizeof(buf) - 2);
			rc = -1;
			break;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '\r')
			continue;
		char *name = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		size_t nlen = (size_t)(p - name);
		while (*p == ' ' || *p == '\t')
			p++;
		if (nlen >= sizeof(t->e[0].name)) {
			d->col = 1;
			snprintf(d->msg, sizeof(d->msg), "a name has at most %zu characters", sizeof(t->e[0].name) - 1);
			rc = -1;
			break;
		}
		char *end;
		errno = 0;
		double cyc = strtod(p, &end);
		if (end == p || errno || cyc < 0 || cyc > 1e12 || (*end && !strchr(" \t\r\n", *end))) {
			d->col = (uint32_t)(p - buf) + 1;
			snprintf(d->msg, sizeof(d->msg), "expected a number of cycles after '%.*s'", (int)nlen, name);
			rc = -1;
			break;
		}
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		char *src = p;
		size_t slen = strlen(src);
		while (slen && (src[slen - 1] == '\n' || src[slen - 1] == '\r' || src[slen - 1] == ' '))
			src[--slen] = 0;
		if (!slen) {
			d->col = (uint32_t)(p - buf) + 1;
			snprintf(d->msg, sizeof(d->msg), "every figure needs a source (or 'assumption: why')");
			rc = -1;
			break;
		}
		struct vt_cost_entry *e = NULL;
		for (int i = 0; i < t->n; i++)
			if (strlen(t->e[i].name) == nlen && memcmp(t->e[i].name, name, nlen) == 0)
				e = &t->e[i];
		if (!e) {
			if (t->n == VT_COST_MAX) {
				d->col = 1;
				snprintf(d->msg, sizeof(d->msg), "at most %d figures", VT_COST_MAX);
				rc = -1;
				break;
			}
			e = &t->e[t->n++];
		}
		memcpy(e->name, name, nlen);
		e->name[nlen] = 0;
		e->cycles = cyc;
		e->assumed = strncmp(src, "assumption", 10) == 0;
		snprintf(e->source, sizeof(e->source), "%s", src);
	}
	fclose(f);
	if (rc == 0) {
		d->line = 0;
		d->msg[0] = 0;
	}
	return rc;
}

const char *vt_cost_walk_name(const struct vt_model *m)
{
	return m->backend == VT_BE_VMX_SHADOW || m->backend == VT_BE_SVM_SHADOW ? "walk.1d" : "walk.2d";
}

static double figure(const struct vt_cost_table *t, const char *name, uint64_t count, int *missing, int *assumed)
{
	if (!count)
		return 0;
	const struct vt_cost_entry *e = vt_cost_find(t, name);
	if (!e) {
		(*missing)++;
		return 0;
	}
	if (e->assumed)
		(*assumed)++;
	return e->cycles * (double)count;
}

double vt_cost_cycles(const struct vt_model *m, const struct vt_cost_table *t, const struct vt_cost_counters *c,
		      int *missing, int *assumed)
{
	*missing = *assumed = 0;
	double cyc = 0;
	char name[64];
	for (unsigned i = 0; i < m->hw->ninsns && i < VT_TRACE_MAX_INSNS; i++) {
		if (!m->hw->insn_names[i])
			continue;
		snprintf(name, sizeof(name), "insn.%s", m->hw->insn_names[i]);
		cyc += figure(t, name, c->insn[i], missing, assumed);
	}
	cyc += figure(t, "exit", c->exits, missing, assumed);
	cyc += figure(t, "ipi", c->kicks, missing, assumed);
	cyc += figure(t, "root", c->roots, missing, assumed);
	cyc += figure(t, vt_cost_walk_name(m), c->misses, missing, assumed);
	return cyc;
}

/* ---- the observer --------------------------------------------------------- */

#define OWNERS 64

struct cost_ctx {
	const struct vt_model *m;
	struct vt_state *s;
	struct vt_cost_counters *c;
	struct vt_ftlb ftlb;
	int open;                       /* an instruction's effect is being measured */
	unsigned insn;
	struct vt_tlb_dom before[VT_MAX_DOMAINS];
	struct vt_state copy;           /* scratch for a miss's walk */
	struct vt_set before_perm[VT_MAX_VCPUS]; /* permitted sets when the step began */
	struct vt_set asked[VT_MAX_VCPUS];       /* what the guest's own operations invalidated, not yet served */
	int nowners[VT_MAX_DOMAINS];
	struct {
		uint32_t key;
		uint32_t vcpus;
	} owner[VT_MAX_DOMAINS][OWNERS];
};

static int ndoms(const struct vt_model *m)
{
	return m->ndomains < VT_MAX_DOMAINS ? m->ndomains : VT_MAX_DOMAINS;
}

static uint32_t owners_of(const struct cost_ctx *x, int d, uint32_t key)
{
	for (int i = 0; i < x->nowners[d]; i++)
		if (x->owner[d][i].key == key)
			return x->owner[d][i].vcpus;
	return 0;
}

/* Record which vCPU uses which tag in which domain (the ones in guest mode now). */
static void observe_owners(struct cost_ctx *x)
{
	const struct vt_model *m = x->m;
	const struct vt_state *s = x->s;
	for (int p = 0; p < m->npcpus; p++) {
		int v = s->pcpu[p].vcpu;
		uint32_t key = s->pcpu[p].key;
		if (v < 0 || key == VT_KEY_NONE || s->vcpu[v].run != VT_RUN_GUEST)
			continue;
		int d = m->domain_of[p];
		int i;
		for (i = 0; i < x->nowners[d]; i++)
			if (x->owner[d][i].key == key)
				break;
		if (i == x->nowners[d]) {
			if (i == OWNERS)
				continue; /* unknown owners: counted for every vCPU of the entry's VM */
			x->owner[d][i].key = key;
			x->owner[d][i].vcpus = 0;
			x->nowners[d]++;
		}
		x->owner[d][i].vcpus |= 1u << v;
	}
}

/*
 * Forget the users of tags no longer in a domain's TLB: a tag number that
 * comes back (an SVM ASID after a generation rollover, a VMID after a
 * rollover) may belong to someone else.
 */
static void prune_owners(struct cost_ctx *x)
{
	const struct vt_state *s = x->s;
	for (int d = 0; d < ndoms(x->m); d++) {
		int w = 0;
		for (int i = 0; i < x->nowners[d]; i++) {
			bool held = false;
			for (int k = 0; k < VT_MAX_SLOTS && s->dom[d].slot[k].key != VT_KEY_NONE; k++)
				if (s->dom[d].slot[k].key == x->owner[d][i].key)
					held = !vt_set_empty(&s->dom[d].slot[k].u) || s->dom[d].slot[k].s;
			if (held)
				x->owner[d][w++] = x->owner[d][i];
		}
		x->nowners[d] = w;
	}
}

/* Is combined entry u, removed from (d, key), one the architecture still lets a user of that tag use? */
static bool still_permitted(const struct cost_ctx *x, int d, uint32_t key, int u)
{
	const struct vt_model *m = x->m;
	const struct vt_state *s = x->s;
	int t = m->u[u].t, j = m->u[u].s;
	int vm = m->t[t].vm;
	if (!(s->vm[vm].s2 & VT_BIT(j)) || !(s->s_perm & VT_BIT(j)))
		return false;
	uint32_t who = owners_of(x, d, key);
	for (int v = m->vm[vm].first_vcpu; v < m->vm[vm].first_vcpu + m->vm[vm].nvcpus; v++) {
		if (who && !(who & (1u << v)))
			continue;
		if (vt_set_has(&s->vcpu[v].permitted, (unsigned)t) && !vt_set_has(&x->asked[v], (unsigned)t))
			return true;
	}
	return false;
}

/* Compare the domains with the copy taken before the open instruction. */
static void close_insn(struct cost_ctx *x)
{
	if (!x->open)
		return;
	x->open = 0;
	const struct vt_model *m = x->m;
	const struct vt_state *s = x->s;
	struct vt_cost_counters *c = x->c;
	for (int d = 0; d < ndoms(m); d++) {
		vt_ftlb_sync(&x->ftlb, d, &s->dom[d]);
		const struct vt_tlb_dom *b = &x->before[d];
		for (int i = 0; i < VT_MAX_SLOTS && b->slot[i].key != VT_KEY_NONE; i++) {
			const struct vt_tlb_slot *old = &b->slot[i];
			struct vt_set nu = {{0}};
			uint64_t ns = 0;
			for (int k = 0; k < VT_MAX_SLOTS && s->dom[d].slot[k].key != VT_KEY_NONE; k++)
				if (s->dom[d].slot[k].key == old->key) {
					nu = s->dom[d].slot[k].u;
					ns = s->dom[d].slot[k].s;
				}
			struct vt_set gone = vt_set_minus(&old->u, &nu);
			uint64_t sgone = old->s & ~ns;
			VT_SET_FOREACH(u, &gone) {
				c->removed_u++;
				if (still_permitted(x, d, old->key, (int)u)) {
					c->overflush_u++;
					c->overflush_insn[x->insn]++;
					c->overflush_vm[m->t[m->u[u].t].vm]++;
				}
			}
			VT_U64_FOREACH(j, sgone) {
				c->removed_s++;
				int vm = m->s2[j].vm;
				if ((s->vm[vm].s2 & VT_BIT(j)) && (s->s_perm & VT_BIT(j))) {
					c->overflush_s++;
					c->overflush_insn[x->insn]++;
					c->overflush_vm[vm]++;
				}
			}
		}
	}
}

static bool projection_permitted(const struct vt_model *m, const struct vt_state *s, int v, int t)
{
	struct vt_set ok = vt_oracle_usable(m, s, v);
	if (vt_set_has(&ok, (unsigned)t))
		return true;
	const struct vt_pte *pt = &m->pte[m->t[t].p];
	struct vt_set same = vt_set_inter(&ok, &m->t_va[pt->va]);
	VT_SET_FOREACH(y, &same)
		if (m->pte[m->t[y].p].gpa == pt->gpa)
			return true;
	return false;
}

/* A guest access: look it up in the finite TLB; on a miss, walk and fill. */
static void finite_access(struct cost_ctx *x, int v, int p, uint64_t va)
{
	const struct vt_model *m = x->m;
	const struct vt_state *s = x->s;
	struct vt_cost_counters *c = x->c;
	struct vt_gctx g;
	vt_vcpu_gctx(m, s, v, &g);
	uint32_t key = s->pcpu[p].key;
	int vai = vt_model_va_index(m, va);
	if (!g.paging || g.ctx < 0 || key == VT_KEY_NONE || vai < 0)
		return;
	c->accesses++;
	int d = m->domain_of[p];
	vt_ftlb_sync(&x->ftlb, d, &s->dom[d]);
	struct vt_set ru;
	uint64_t rs2;
	m->hw->reach(m, s, p, &g, &ru, &rs2);
	vt_set_and(&ru, &m->u_va[vai]);
	int hit = vt_ftlb_lookup(&x->ftlb, d, (uint32_t)vai, key, &ru);
	if (hit >= 0) {
		c->hits++;
		if (!projection_permitted(m, s, v, m->u[hit].t))
			c->finite_stale++;
		return;
	}
	c->misses++;
	/* the walk, on a copy: a shadow walk updates KVM's tables, which only the step may do */
	memcpy(&x->copy, s, sizeof(x->copy));
	struct vt_set wu;
	uint64_t ws2;
	struct vt_view ww;
	vt_view_of(m, &x->copy, v, &ww);
	m->hv->walk(m, &x->copy, v, &ww, &wu, &ws2);
	vt_set_and(&wu, &m->u_va[vai]);
	int u = vt_set_next(&wu, 0);
	if (u < 0) {
		c->faults++;
		return;
	}
	c->evictions += (uint64_t)vt_ftlb_insert(&x->ftlb, d, (uint32_t)vai, key, u);
}

static void probe_rec(void *ctx, const struct vt_trace_rec *r)
{
	struct cost_ctx *x = ctx;
	struct vt_cost_counters *c = x->c;
	close_insn(x);
	observe_owners(x);
	switch (r->kind) {
	case VT_TR_EVENT:
		for (int v = 0; v < x->m->nvcpus; v++)
			x->before_perm[v] = x->s->vcpu[v].permitted;
		break;
	case VT_TR_INSN:
		if (r->code < VT_TRACE_MAX_INSNS) {
			c->insn[r->code]++;
			x->open = 1;
			x->insn = r->code;
			memcpy(x->before, x->s->dom, sizeof(x->before[0]) * (size_t)ndoms(x->m));
		}
		break;
	case VT_TR_EXIT:
		c->exits++;
		if (r->code)
			c->exits_intercept++;
		else if (r->key == 1)
			c->kicks++;
		else
			c->exits_preempt++;
		break;
	case VT_TR_REQ:
		if (r->code < VT_COST_MAX_REQS)
			c->req_made[r->code]++;
		break;
	case VT_TR_SERVICE:
		if (r->code < VT_COST_MAX_REQS)
			c->req_serviced[r->code]++;
		break;
	case VT_TR_ACCESS:
		if (r->vcpu >= 0 && r->pcpu >= 0)
			finite_access(x, r->vcpu, r->pcpu, r->a);
		break;
	default:
		break;
	}
}

/*
 * Before the TLBs fill: the finite TLB loses what the step removed from the
 * maximal one (instructions, and guest invalidations run natively), before
 * the maximal TLB refills it.
 */
static void probe_settle(void *ctx)
{
	struct cost_ctx *x = ctx;
	const struct vt_state *s = x->s;
	close_insn(x);
	prune_owners(x);
	observe_owners(x);
	for (int d = 0; d < ndoms(x->m); d++)
		vt_ftlb_sync(&x->ftlb, d, &s->dom[d]);
	/*
	 * What the guest's own operations removed in this step is theirs to
	 * lose: a hypervisor flush that serves it is not over-flush.  It is
	 * served once the vCPU is back in the guest (KVM services requests at
	 * entry; a native invalidation acted at once).
	 */
	for (int v = 0; v < x->m->nvcpus; v++) {
		struct vt_set gone = vt_set_minus(&x->before_perm[v], &s->vcpu[v].permitted);
		vt_set_or(&x->asked[v], &gone);
		x->before_perm[v] = s->vcpu[v].permitted;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			memset(&x->asked[v], 0, sizeof(x->asked[v]));
	}
}

/* ---- the run -------------------------------------------------------------- */

static void run_error(const struct vt_model *m, const struct vt_event *ev, const struct vt_state *s,
		      enum vt_step_err e, struct vt_diag *d)
{
	char buf[160];
	vt_event_format(m, ev, buf, sizeof(buf));
	snprintf(d->file, sizeof(d->file), "%s", m->file);
	d->line = ev->line ? ev->line : m->wl.line;
	d->col = ev->col ? ev->col : 1;
	snprintf(d->msg, sizeof(d->msg), "step %" PRIu32 ": cannot %s: %s", s->meta.step + 1, buf,
		 e == VT_STEP_ERR_LIMIT ? vt_limit_str(s->meta.limit) : vt_step_strerror(e));
}

static int apply(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev, struct vt_trace *tr,
		 struct vt_cost_counters *c, struct vt_diag *d)
{
	struct vt_verdict v;
	uint64_t fs = c->finite_stale;
	enum vt_step_err e = vt_step(m, s, ev, tr, &v);
	if (e != VT_STEP_OK) {
		run_error(m, ev, s, e, d);
		return -1;
	}
	c->steps++;
	if (c->finite_stale != fs && v.kind != VT_V_STALE)
		c->finite_unseen++;
	if (v.kind != VT_V_OK) {
		if (v.kind == VT_V_STALE)
			c->stale_steps++;
		else
			c->breach_steps++;
		if (!c->first_violation)
			c->first_violation = s->meta.step;
	}
	return 0;
}

int vt_cost_run(const struct vt_model *m, const struct vt_cost_opts *o, struct vt_cost_counters *c,
		struct vt_diag *d)
{
	memset(c, 0, sizeof(*c));
	memset(d, 0, sizeof(*d));
	struct cost_ctx *x = calloc(1, sizeof(*x));
	struct vt_state *s = malloc(sizeof(*s));
	if (!x || !s) {
		free(x);
		free(s);
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		return -1;
	}
	struct vt_tlb_geom geom = m->tlb;
	if (o && o->tlb.entries) {
		geom.entries = o->tlb.entries;
		geom.ways = o->tlb.ways;
	}
	if (o && o->tlb_policy_set)
		geom.policy = o->tlb.policy;
	uint64_t seed = o && o->seed_set ? o->seed : m->wl.seed;
	x->m = m;
	x->s = s;
	x->c = c;
	if (vt_ftlb_init(&x->ftlb, &geom, ndoms(m), seed) < 0) {
		free(x);
		free(s);
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		return -1;
	}
	struct vt_trace_probe probe = {.ctx = x, .rec = probe_rec, .settle = probe_settle};
	struct vt_trace tr;
	vt_trace_init(&tr);
	tr.probe = &probe;
	tr.no_records = 1;
	vt_state_init(m, s);
	int rc = 0;
	if (m->wl.line) {
		struct vt_wl_gen *g = malloc(sizeof(*g));
		if (!g) {
			snprintf(d->msg, sizeof(d->msg), "out of memory");
			rc = -1;
		} else {
			vt_wl_init(g, m, seed);
			uint32_t n = o && o->steps ? o->steps : m->wl.steps;
			struct vt_event ev;
			uint32_t infra_run = 0;
			for (uint32_t i = 0; i < n && rc == 0;) {
				if (vt_wl_next(g, s, &ev) < 0) {
					snprintf(d->file, sizeof(d->file), "%s", m->file);
					d->line = m->wl.line;
					d->col = 1;
					snprintf(d->msg, sizeof(d->msg), "the workload cannot go on at step %u: no vCPU can run", i + 1);
					rc = -1;
					break;
				}
				rc = apply(m, s, &ev, &tr, c, d);
				if (!g->infra) {
					i++;
					c->events++;
					infra_run = 0;
				} else if (++infra_run > 64u * VT_MAX_VCPUS && rc == 0) {
					/* re-entries that never reach the guest: report, never spin */
					snprintf(d->file, sizeof(d->file), "%s", m->file);
					d->line = m->wl.line;
					d->col = 1;
					snprintf(d->msg, sizeof(d->msg), "the workload stalled at event %u: vCPUs do not get back into the guest", i + 1);
					rc = -1;
				}
			}
			free(g);
		}
	} else {
		/* the script, with the runner's re-entry of vCPUs it keeps running (src/run.c) */
		bool hold[VT_MAX_VCPUS] = {0};
		for (int i = 0; i < m->nscript && rc == 0; i++) {
			const struct vt_event *ev = &m->script[i];
			if (ev->kind == VT_EV_CHECK)
				continue;
			if ((rc = apply(m, s, ev, &tr, c, d)) < 0)
				break;
			c->events++;
			if (ev->kind == VT_EV_LOAD)
				hold[ev->vcpu] = !(ev->flags & VT_EVF_ENTER);
			if (ev->vcpu >= 0 && s->vcpu[ev->vcpu].run == VT_RUN_GUEST)
				hold[ev->vcpu] = false;
			for (int w = 0; w < m->nvcpus && rc == 0 && !m->explicit_schedule; w++) {
				struct vt_event en;
				if (vt_run_reentry(m, s, hold, w, ev->line, &en))
					rc = apply(m, s, &en, &tr, c, d);
			}
		}
	}
	c->roots = tr.root_loads;
	vt_trace_fini(&tr);
	vt_ftlb_fini(&x->ftlb);
	free(x);
	free(s);
	return rc;
}
