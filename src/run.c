/*
 * The scripted runner and its report printer; see run.h.
 *
 * A script describes vCPUs that keep running: after every event, a vCPU the
 * script has put in the guest and that left it (an intercepted operation, an
 * IPI from a remote flush) is entered again, each as its own step marked
 * "auto" in the trace.  A vCPU placed with 'load' (rather than 'run') is held
 * outside the guest until the script says 'enter'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/run.h"

static void runtime_error(const struct vt_model *m, const struct vt_event *ev, struct vt_diag *d, const char *what)
{
	char buf[160];
	vt_event_format(m, ev, buf, sizeof(buf));
	snprintf(d->file, sizeof(d->file), "%s", m->file);
	d->line = ev->line;
	d->col = ev->col ? ev->col : 1;
	snprintf(d->msg, sizeof(d->msg), "cannot %s: %s", buf, what);
}

static bool va_is(const struct vt_model *m, int u, uint64_t va)
{
	return m->va[m->pte[m->t[m->u[u].t].p].va] == va;
}

/* Does the violation satisfy the expectation? */
static bool expectation_met(const struct vt_model *m, const struct vt_run_result *r)
{
	const struct vt_expect *e = &m->expect;
	switch (e->kind) {
	case VT_EXP_CLEAN:
		return r->verdict.kind == VT_V_OK;
	case VT_EXP_STALE:
	case VT_EXP_BREACH:
		if (r->verdict.kind != (e->kind == VT_EXP_STALE ? VT_V_STALE : VT_V_BREACH))
			return false;
		if (e->vcpu >= 0 && r->verdict.vcpu != e->vcpu)
			return false;
		if (e->has_va && (r->verdict.u < 0 || !va_is(m, r->verdict.u, e->va)))
			return false;
		return true;
	default:
		return false;
	}
}

/* What the hardware could return to v at va now, as "GPA x (HPA y), ..." or "nothing". */
static void hw_seen_va(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, char *buf, size_t len)
{
	struct vt_set u = vt_hw_usable(m, s, v);
	size_t o = 0;
	buf[0] = 0;
	VT_SET_FOREACH(x, &u) {
		const struct vt_pte *p = &m->pte[m->t[m->u[x].t].p];
		if (m->va[p->va] != va || o >= len)
			continue;
		char one[96];
		snprintf(one, sizeof(one), "GPA 0x%" PRIx64 " (HPA 0x%" PRIx64 ")", p->gpa, m->s2[m->u[x].s].hpa);
		if (strstr(buf, one))
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", one);
	}
	if (!buf[0])
		snprintf(buf, len, "nothing");
}

/* What the hardware could translate for guest-physical gpa for v now: "HPA x, ..." or "nothing". */
static void hw_seen_gpa(const struct vt_model *m, const struct vt_state *s, int v, uint64_t gpa, char *buf,
			size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int j = 0; j < m->ns && o < len; j++)
		if (m->s2[j].gpa == gpa && !m->s2[j].table && m->s2[j].vm == m->vcpu_vm[v] && vt_hw_reaches_gpa(m, s, v, gpa, m->s2[j].hpa))
			o += (size_t)snprintf(buf + o, len - o, "%sHPA 0x%" PRIx64, o ? ", " : "", m->s2[j].hpa);
	if (!buf[0])
		snprintf(buf, len, "nothing");
}

static void permitted_at(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, char *buf,
			 size_t len);

/* Could the hardware return va -> gpa -> hpa to v now? */
static bool hw_returns_hpa(const struct vt_model *m, const struct vt_state *s, int v, int va, uint64_t gpa,
			   uint64_t hpa)
{
	struct vt_set u = vt_hw_usable(m, s, v);
	VT_SET_FOREACH(x, &u) {
		const struct vt_pte *p = &m->pte[m->t[m->u[x].t].p];
		if (p->va == va && p->gpa == gpa && m->s2[m->u[x].s].hpa == hpa)
			return true;
	}
	return false;
}

bool vt_run_reentry(const struct vt_model *m, const struct vt_state *s, const bool *hold, int w, uint32_t line,
		    struct vt_event *en)
{
	if (w < 0 || w >= m->nvcpus || s->vcpu[w].run != VT_RUN_LOADED || hold[w])
		return false;
	memset(en, 0, sizeof(*en));
	en->kind = VT_EV_ENTER;
	en->vcpu = (int8_t)w;
	en->pcpu = -1;
	en->flags = VT_EVF_AUTO;
	en->line = line;
	return true;
}

/*
 * Evaluate a check.  'seen' receives what was observed (for the trace and
 * the failure message), 'why' the failure message.
 */
static bool check_holds(const struct vt_model *m, const struct vt_state *s, const struct vt_trace *tr,
			const struct vt_event *ev, char *seen, size_t slen, char *why, size_t len)
{
	const struct vt_op *o = &ev->op;
	char vn[32], gpa[48], at[160];
	vt_event_vcpu_name(m, ev, vn, sizeof(vn));
	if (o->b == UINT64_MAX)
		snprintf(gpa, sizeof(gpa), "any GPA");
	else
		snprintf(gpa, sizeof(gpa), "GPA 0x%" PRIx64, o->b);
	bool ok;
	switch (o->code) {
	case VT_CHK_PERMITS:
	case VT_CHK_NPERMITS:
		ok = vt_oracle_permits(m, s, ev->vcpu, o->a, o->b);
		permitted_at(m, s, ev->vcpu, o->a, at, sizeof(at));
		snprintf(seen, slen, "at VA 0x%" PRIx64 " the architecture permits %s", o->a, at);
		snprintf(why, len, "check failed: the architecture %s %s to use VA 0x%" PRIx64 " -> %s (it permits %s)",
			 ok ? "still permits" : "does not permit", vn, o->a, gpa, at);
		return o->code == VT_CHK_PERMITS ? ok : !ok;
	case VT_CHK_HW:
	case VT_CHK_NHW:
		ok = vt_hw_returns(m, s, ev->vcpu, o->a, o->b);
		hw_seen_va(m, s, ev->vcpu, o->a, at, sizeof(at));
		snprintf(seen, slen, "for VA 0x%" PRIx64 " the hardware could return %s", o->a, at);
		snprintf(why, len, "check failed: the hardware %s VA 0x%" PRIx64 " -> %s to %s (it could return %s)",
			 ok ? "can still return" : "cannot return", o->a, gpa, vn, at);
		return o->code == VT_CHK_HW ? ok : !ok;
	case VT_CHK_HW_HPA:
	case VT_CHK_NHW_HPA: {
		uint64_t va = m->va[o->target];
		ok = hw_returns_hpa(m, s, ev->vcpu, o->target, o->a, o->b);
		hw_seen_va(m, s, ev->vcpu, va, at, sizeof(at));
		snprintf(seen, slen, "for VA 0x%" PRIx64 " the hardware could return %s", va, at);
		snprintf(why, len,
			 "check failed: the hardware %s VA 0x%" PRIx64 " -> GPA 0x%" PRIx64 " -> HPA 0x%" PRIx64
			 " to %s (it could return %s)",
			 ok ? "can still return" : "cannot return", va, o->a, o->b, vn, at);
		return o->code == VT_CHK_HW_HPA ? ok : !ok;
	}
	case VT_CHK_COUNT_INSN: {
		uint32_t n = o->a < VT_TRACE_MAX_INSNS ? tr->insn_count[o->a] : 0;
		snprintf(seen, slen, "%s ran %u time%s", m->hw->insn_names[o->a], n, n == 1 ? "" : "s");
		snprintf(why, len, "check failed: %s ran %u time%s, expected %" PRIu64, m->hw->insn_names[o->a], n,
			 n == 1 ? "" : "s", o->b);
		return n == o->b;
	}
	case VT_CHK_ROOTS:
		snprintf(seen, slen, "%u new root%s built", tr->root_loads, tr->root_loads == 1 ? "" : "s");
		snprintf(why, len, "check failed: %u new root%s built, expected %" PRIu64, tr->root_loads,
			 tr->root_loads == 1 ? "" : "s", o->b);
		return tr->root_loads == o->b;
	case VT_CHK_EXITS:
		snprintf(seen, slen, "%u VM exit%s", tr->exits, tr->exits == 1 ? "" : "s");
		snprintf(why, len, "check failed: %u VM exit%s, expected %" PRIu64, tr->exits,
			 tr->exits == 1 ? "" : "s", o->b);
		return tr->exits == o->b;
	case VT_CHK_HW_GPA:
	case VT_CHK_NHW_GPA: {
		bool hit = vt_hw_reaches_gpa(m, s, ev->vcpu, o->a, o->b);
		char hpa[48];
		if (o->b == UINT64_MAX)
			snprintf(hpa, sizeof(hpa), "any HPA");
		else
			snprintf(hpa, sizeof(hpa), "HPA 0x%" PRIx64, o->b);
		hw_seen_gpa(m, s, ev->vcpu, o->a, at, sizeof(at));
		snprintf(seen, slen, "for GPA 0x%" PRIx64 " the hardware could return %s", o->a, at);
		snprintf(why, len, "check failed: the hardware %s translate GPA 0x%" PRIx64 " -> %s for %s (it could return %s)",
			 hit ? "can still" : "cannot", o->a, hpa, vn, at);
		return o->code == VT_CHK_HW_GPA ? hit : !hit;
	}
	default:
		snprintf(seen, slen, "unknown check");
		snprintf(why, len, "check failed: unknown check");
		return false;
	}
}

static enum vt_status run_events(const struct vt_model *m, const struct vt_event *script, int nscript,
				 bool auto_enter, bool faults_matter, struct vt_run_result *res, struct vt_diag *d);

enum vt_status vt_run(const struct vt_model *m, struct vt_run_result *res, struct vt_diag *d)
{
	return run_events(m, m->script, m->nscript, !m->explicit_schedule, true, res, d);
}

enum vt_status vt_run_events(const struct vt_model *m, const struct vt_event *ev, int n, struct vt_run_result *res,
			     struct vt_diag *d)
{
	enum vt_status st = run_events(m, ev, n, false, false, res, d);
	/* no expectation applies: report whether a violation was found */
	if (st != VT_ERROR)
		res->status = res->verdict.kind == VT_V_OK ? VT_PASS : VT_FAIL;
	res->why[0] = 0;
	return res->status;
}

/*
 * A guest operation of the script faulted (trace record r).  Unless the
 * script says it means it ('expect fault', for that vCPU), this fails the
 * run: a fault has no effect, so a script that did not mean it checks
 * something other than what it says.  Returns true when the run must stop.
 */
static bool fault_fails(const struct vt_model *m, const struct vt_event *ev, const struct vt_trace_rec *r,
			struct vt_run_result *res)
{
	const struct vt_expect *xf = &m->expect_fault;
	if (xf->kind == VT_EXP_FAULT && (xf->vcpu < 0 || xf->vcpu == r->vcpu)) {
		res->faults++;
		return false;
	}
	char op[160], vn[32];
	vt_event_format(m, ev, op, sizeof(op));
	if (xf->kind == VT_EXP_FAULT) {
		vt_model_vcpu_name(m, xf->vcpu, vn, sizeof(vn));
		snprintf(res->why, sizeof(res->why), "'%s' faulted (line %u): %s; 'expect fault %s' (line %u) covers only %s",
			 op, ev->line, r->text ? r->text : "?", vn, xf->line, vn);
	} else {
		snprintf(res->why, sizeof(res->why),
			 "'%s' faulted (line %u): %s; it had no effect (write 'expect fault' if the script means it)",
			 op, ev->line, r->text ? r->text : "?");
	}
	res->fault_line = ev->line;
	res->status = VT_FAIL;
	return true;
}

int vt_events_fault(const struct vt_model *m, const struct vt_event *ev, int n)
{
	struct vt_run_result *res = malloc(sizeof(*res));
	struct vt_diag d;
	if (!res)
		return -1;
	int r = run_events(m, ev, n, false, false, res, &d) == VT_ERROR ? -1 : 0;
	for (size_t i = 0; i < res->trace.n && r == 0; i++)
		if (res->trace.rec[i].kind == VT_TR_FAULT)
			r = 1;
	vt_run_result_fini(res);
	free(res);
	return r;
}

static enum vt_status run_events(const struct vt_model *m, const struct vt_event *script, int nscript,
				 bool auto_enter, bool faults_matter, struct vt_run_result *res, struct vt_diag *d)
{
	memset(res, 0, sizeof(*res));
	vt_trace_init(&res->trace);
	res->verdict.kind = VT_V_OK;
	res->verdict.u = res->verdict.s = -1;
	struct vt_state *s = &res->state;
	struct vt_trace *tr = &res->trace;
	bool hold[VT_MAX_VCPUS] = {0};
	vt_state_init(m, s);
	vt_check(m, s, &res->verdict);

	for (int i = 0; i < nscript && res->verdict.kind == VT_V_OK; i++) {
		const struct vt_event *ev = &script[i];
		if (ev->kind == VT_EV_CHECK) {
			char why[sizeof(res->why) - 16], seen[400];
			bool held = check_holds(m, s, tr, ev, seen, sizeof(seen), why, sizeof(why));
			vt_trace_check(tr, ev, held, seen);
			if (!held) {
				snprintf(res->why, sizeof(res->why), "%s (line %u)", why, ev->line);
				res->status = VT_FAIL;
				res->steps = s->meta.step;
				return res->status;
			}
			continue;
		}
		struct vt_verdict v;
		size_t first_rec = tr->n;
		enum vt_step_err e = vt_step(m, s, ev, tr, &v);
		if (e != VT_STEP_OK) {
			runtime_error(m, ev, d, e == VT_STEP_ERR_LIMIT ? vt_limit_str(s->meta.limit) : vt_step_strerror(e));
			res->status = VT_ERROR;
			return res->status;
		}
		for (size_t k = first_rec; k < tr->n && faults_matter && ev->kind == VT_EV_GUEST; k++) {
			if (tr->rec[k].kind == VT_TR_FAULT && fault_fails(m, ev, &tr->rec[k], res)) {
				res->steps = s->meta.step;
				return res->status;
			}
		}
		if (ev->kind == VT_EV_LOAD)
			hold[ev->vcpu] = !(ev->flags & VT_EVF_ENTER);
		if (ev->vcpu >= 0 && s->vcpu[ev->vcpu].run == VT_RUN_GUEST)
			hold[ev->vcpu] = false;
		if (v.kind != VT_V_OK) {
			res->verdict = v;
			res->verdict_rec = tr->n ? tr->n - 1 : 0;
			res->verdict_line = ev->line;
			break;
		}
		/* vCPUs the script keeps running re-enter the guest. */
		for (int w = 0; w < m->nvcpus && res->verdict.kind == VT_V_OK && auto_enter; w++) {
			struct vt_event en;
			if (!vt_run_reentry(m, s, hold, w, ev->line, &en))
				continue;
			e = vt_step(m, s, &en, tr, &v);
			if (e != VT_STEP_OK) {
				runtime_error(m, &en, d, e == VT_STEP_ERR_LIMIT ? vt_limit_str(s->meta.limit) : vt_step_strerror(e));
				res->status = VT_ERROR;
				return res->status;
			}
			if (v.kind != VT_V_OK) {
				res->verdict = v;
				res->verdict_rec = tr->n ? tr->n - 1 : 0;
				res->verdict_line = ev->line;
			}
		}
	}
	res->steps = s->meta.step;
	if (tr->oom) {
		snprintf(d->file, sizeof(d->file), "%s", m->file);
		snprintf(d->msg, sizeof(d->msg), "out of memory while tracing");
		res->status = VT_ERROR;
		return res->status;
	}
	if (expectation_met(m, res) && faults_matter && m->expect_fault.kind == VT_EXP_FAULT && !res->faults) {
		char vn[32] = "";
		if (m->expect_fault.vcpu >= 0) {
			strcpy(vn, " of ");
			vt_model_vcpu_name(m, m->expect_fault.vcpu, vn + 4, sizeof(vn) - 4);
		}
		res->status = VT_FAIL;
		snprintf(res->why, sizeof(res->why), "expected a fault (line %u), but no guest operation%s faulted",
			 m->expect_fault.line, vn);
	} else if (expectation_met(m, res)) {
		res->status = VT_PASS;
	} else {
		res->status = VT_FAIL;
		if (m->expect.kind == VT_EXP_CLEAN)
			snprintf(res->why, sizeof(res->why), "expected clean (line %u)", m->expect.line);
		else if (res->verdict.kind == VT_V_OK)
			snprintf(res->why, sizeof(res->why), "expected %s (line %u), but the run was clean",
				 m->expect.kind == VT_EXP_STALE ? "a stale access" : "a breach", m->expect.line);
		else
			snprintf(res->why, sizeof(res->why), "expected a different %s (line %u)",
				 m->expect.kind == VT_EXP_STALE ? "stale access" : "breach", m->expect.line);
	}
	return res->status;
}

void vt_run_result_fini(struct vt_run_result *res)
{
	vt_trace_fini(&res->trace);
}

/* What the oracle lets v use at va now, as "VA x -> GPA y, ..." or "nothing". */
static void permitted_at(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, char *buf,
			 size_t len)
{
	struct vt_set ok = vt_oracle_usable(m, s, v);
	size_t o = 0;
	uint64_t seen[8];
	int nseen = 0;
	buf[0] = 0;
	VT_SET_FOREACH(t, &ok) {
		const struct vt_pte *p = &m->pte[m->t[t].p];
		if (m->va[p->va] != va)
			continue;
		int dup = 0;
		for (int i = 0; i < nseen; i++)
			dup |= seen[i] == p->gpa;
		if (dup || nseen == 8)
			continue;
		seen[nseen++] = p->gpa;
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%sGPA 0x%" PRIx64, nseen > 1 ? " or " : "", p->gpa);
	}
	if (!nseen)
		snprintf(buf, len, "no translation (a fresh walk would fault or see the new mapping)");
}

void vt_verdict_format(const struct vt_model *m, const struct vt_run_result *res, char *buf, size_t len)
{
	const struct vt_verdict *v = &res->verdict;
	char vn[80], key[64], perm[256], where[32] = "";
	vt_model_vcpu_name(m, v->vcpu, vn, sizeof(vn));
	int l2vm = -1;
	if (m->has_nested && m->aops->level && v->vcpu >= 0 && m->aops->level(m, &res->state, v->vcpu, &l2vm) == 2 &&
	    l2vm >= 0) {
		/* the L2 guest that vCPU runs */
		char l1n[32];
		memcpy(l1n, vn, sizeof(l1n));
		l1n[sizeof(l1n) - 1] = 0;
		snprintf(vn, sizeof(vn), "%s.%d (the L2 on %s)", m->vm[l2vm].name, v->vcpu - m->vm[l2vm].first_vcpu, l1n);
	}
	if (res->verdict_line)
		snprintf(where, sizeof(where), " (line %u)", res->verdict_line);
	int p = v->pcpu;
	uint32_t k = p >= 0 ? res->state.pcpu[p].key : VT_KEY_NONE;
	if (k != VT_KEY_NONE)
		m->hw->fmt_key(k, key, sizeof(key));
	else
		snprintf(key, sizeof(key), "-");
	if (v->kind == VT_V_STALE && v->s >= 0) {
		/* a nested guest's guest-physical mapping (L2 GPA -> L1 page) that L1 has invalidated */
		const struct vt_cu *u = &m->u[v->u];
		const struct vt_pte *pt = &m->pte[m->t[u->t].p];
		const struct vt_s2 *s2 = &m->s2[v->s];
		snprintf(buf, len,
			 "STALE step %u%s: vCPU %s on pCPU %d can use VA 0x%" PRIx64 " -> GPA 0x%" PRIx64 " of %s -> HPA 0x%" PRIx64
			 " from the TLB [%s]; the guest-physical mapping GPA 0x%" PRIx64 " -> HPA 0x%" PRIx64
			 " is no longer permitted (its hypervisor invalidated it: INVEPT)",
			 v->step, where, vn, p, m->va[pt->va], pt->gpa, m->vm[s2->vm].name, s2->hpa, key, s2->gpa, s2->hpa);
	} else if (v->kind == VT_V_STALE) {
		const struct vt_cu *u = &m->u[v->u];
		const struct vt_pte *pt = &m->pte[m->t[u->t].p];
		uint64_t va = m->va[pt->va];
		permitted_at(m, &res->state, v->vcpu, va, perm, sizeof(perm));
		snprintf(buf, len,
			 "STALE step %u%s: vCPU %s on pCPU %d can use VA 0x%" PRIx64 " -> GPA 0x%" PRIx64
			 " (HPA 0x%" PRIx64 ") from the TLB [%s]; the architecture permits %s",
			 v->step, where, vn, p, va, pt->gpa, m->s2[u->s].hpa, key, perm);
	} else if (v->kind == VT_V_BREACH) {
		const struct vt_s2 *s2 = &m->s2[v->s];
		bool foreign = v->vcpu >= 0 && s2->vm != m->vcpu_vm[v->vcpu];
		if (s2->table && !foreign) {
			snprintf(buf, len,
				 "BREACH step %u%s: vCPU %s on pCPU %d can walk through the cached level-%u stage-2 table "
				 "entry for GPA 0x%" PRIx64 " of VM %s into its table page, HPA 0x%" PRIx64
				 " [%s], after the host freed that page",
				 v->step, where, vn, p, s2->level, s2->gpa, m->vm[s2->vm].name, s2->hpa, key);
			return;
		}
		snprintf(buf, len,
			 "BREACH step %u%s: vCPU %s on pCPU %d can reach HPA 0x%" PRIx64 " (GPA 0x%" PRIx64
			 " of VM %s) [%s] %s",
			 v->step, where, vn, p, s2->hpa, s2->gpa, m->vm[s2->vm].name, key,
			 foreign ? "although that page belongs to another VM"
				 : "after the host unmapped it and its flush completed");
	} else {
		snprintf(buf, len, "clean");
	}
}

void vt_run_report(FILE *f, const struct vt_model *m, const struct vt_run_result *res, int detail)
{
	char line[1024];
	if (res->verdict.kind != VT_V_OK) {
		vt_verdict_format(m, res, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (detail) {
		fprintf(f, "  trace (%s, %s):\n", vt_backend_name(m->backend), m->title[0] ? m->title : m->file);
		if (!vt_fixset_is_empty(m->reverted)) {
			fprintf(f, "  reverted:");
			for (unsigned i = 0; i < VT_FIX_COUNT; i++)
				if (vt_fixset_has(m->reverted, i) && vt_fix_info(i))
					fprintf(f, " %s", vt_fix_info(i)->name);
			fprintf(f, "\n");
		}
		vt_trace_print(f, m, &res->trace, 0, res->trace.n);
	}
}

void vt_diag_warnings_json(FILE *f, const struct vt_diag *d)
{
	if (!d)
		return;
	fprintf(f, ",\"warnings\":[");
	for (uint32_t i = 0; i < d->nwarn; i++) {
		fprintf(f, "%s{\"line\":%u,\"col\":%u,\"message\":", i ? "," : "", d->warn[i].line, d->warn[i].col);
		vt_json_str(f, d->warn[i].msg);
		fprintf(f, "}");
	}
	fprintf(f, "]");
	if (d->warn_dropped)
		fprintf(f, ",\"warnings_dropped\":%u", d->warn_dropped);
}

void vt_run_report_json(FILE *f, const struct vt_model *m, const struct vt_run_result *res, int with_trace,
			const struct vt_diag *d)
{
	static const char *const st[] = {"pass", "fail", "error"};
	static const char *const ex[VT_EXP_COUNT] = {"none", "clean", "stale", "breach", "fault", "found"};
	char line[1024];
	fprintf(f, "{\"file\":");
	vt_json_str(f, m->file);
	fprintf(f, ",\"backend\":");
	vt_json_str(f, vt_backend_name(m->backend));
	fprintf(f, ",\"status\":\"%s\",\"expect\":\"%s\",\"steps\":%u", st[res->status], ex[m->expect.kind], res->steps);
	fprintf(f, ",\"expect_fault\":%s,\"faults\":%u", m->expect_fault.kind == VT_EXP_FAULT ? "true" : "false", res->faults);
	fprintf(f, ",\"reverted\":[");
	int first = 1;
	for (unsigned i = 0; i < VT_FIX_COUNT; i++)
		if (vt_fixset_has(m->reverted, i) && vt_fix_info(i)) {
			fprintf(f, "%s", first ? "" : ",");
			vt_json_str(f, vt_fix_info(i)->name);
			first = 0;
		}
	fprintf(f, "]");
	vt_diag_warnings_json(f, d);
	if (res->verdict.kind != VT_V_OK) {
		char vn[32];
		vt_model_vcpu_name(m, res->verdict.vcpu, vn, sizeof(vn));
		vt_verdict_format(m, res, line, sizeof(line));
		fprintf(f, ",\"verdict\":{\"kind\":\"%s\",\"step\":%u,\"line\":%u,\"vcpu\":",
			res->verdict.kind == VT_V_STALE ? "stale" : "breach", res->verdict.step, res->verdict_line);
		vt_json_str(f, vn);
		fprintf(f, ",\"pcpu\":%d", res->verdict.pcpu);
		if (res->verdict.u >= 0) {
			const struct vt_pte *pt = &m->pte[m->t[m->u[res->verdict.u].t].p];
			fprintf(f, ",\"va\":\"0x%" PRIx64 "\",\"gpa\":\"0x%" PRIx64 "\",\"hpa\":\"0x%" PRIx64 "\"",
				m->va[pt->va], pt->gpa, m->s2[m->u[res->verdict.u].s].hpa);
		}
		fprintf(f, ",\"text\":");
		vt_json_str(f, line);
		fprintf(f, "}");
	}
	if (res->why[0]) {
		fprintf(f, ",\"why\":");
		vt_json_str(f, res->why);
	}
	fprintf(f, ",\"invalidations\":{");
	first = 1;
	for (unsigned i = 0; i < m->hw->ninsns && i < VT_TRACE_MAX_INSNS; i++)
		if (res->trace.insn_count[i] && m->hw->insn_names[i]) {
			fprintf(f, "%s", first ? "" : ",");
			vt_json_str(f, m->hw->insn_names[i]);
			fprintf(f, ":%u", res->trace.insn_count[i]);
			first = 0;
		}
	fprintf(f, "},\"root_loads\":%u", res->trace.root_loads);
	if (with_trace) {
		fprintf(f, ",\"trace\":");
		vt_trace_print_json(f, m, &res->trace, 0, res->trace.n);
	}
	fprintf(f, "}");
}
