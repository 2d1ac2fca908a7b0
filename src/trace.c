/*
 * Trace records and the one printer that renders them, as indented text or
 * as JSON.  Names come from the ops tables (request names from the
 * hypervisor, instruction names and tag formats from the hardware, guest
 * operations from the architecture), so the printer knows no architecture.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/trace.h"

void vt_trace_init(struct vt_trace *tr)
{
	memset(tr, 0, sizeof(*tr));
}

void vt_trace_fini(struct vt_trace *tr)
{
	for (size_t i = 0; i < tr->nstrs; i++)
		free(tr->strs[i]);
	free(tr->strs);
	free(tr->rec);
	memset(tr, 0, sizeof(*tr));
}

void vt_trace_reset(struct vt_trace *tr)
{
	for (size_t i = 0; i < tr->nstrs; i++)
		free(tr->strs[i]);
	tr->nstrs = 0;
	tr->n = 0;
	tr->oom = 0;
	tr->step = 0;
	tr->root_loads = 0;
	tr->exits = 0;
	memset(tr->insn_count, 0, sizeof(tr->insn_count));
}

static struct vt_trace_rec *trace_push(struct vt_trace *tr)
{
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 256;
		struct vt_trace_rec *r = realloc(tr->rec, cap * sizeof(*r));
		if (!r) {
			tr->oom = 1;
			return NULL;
		}
		tr->rec = r;
		tr->cap = cap;
	}
	struct vt_trace_rec *r = &tr->rec[tr->n++];
	memset(r, 0, sizeof(*r));
	r->step = tr->step;
	return r;
}

void vt_trace_record(struct vt_trace *tr, uint8_t kind, int vcpu, int pcpu, uint32_t code, uint32_t key, uint64_t a,
		     uint64_t b, const char *text)
{
	if (kind == VT_TR_INSN && code < VT_TRACE_MAX_INSNS)
		tr->insn_count[code]++;
	if (kind == VT_TR_EXIT)
		tr->exits++;
	struct vt_trace_rec rec;
	memset(&rec, 0, sizeof(rec));
	rec.step = tr->step;
	rec.kind = kind;
	rec.vcpu = (int8_t)vcpu;
	rec.pcpu = (int8_t)pcpu;
	rec.code = code;
	rec.key = key;
	rec.a = a;
	rec.b = b;
	rec.text = text;
	if (tr->probe)
		tr->probe->rec(tr->probe->ctx, &rec);
	if (tr->no_records)
		return;
	struct vt_trace_rec *r = trace_push(tr);
	if (r)
		*r = rec;
}

void vt_trace_event(struct vt_trace *tr, const struct vt_event *ev)
{
	if (!tr)
		return;
	struct vt_trace_rec rec;
	memset(&rec, 0, sizeof(rec));
	rec.step = tr->step;
	rec.kind = VT_TR_EVENT;
	rec.vcpu = ev->vcpu;
	rec.pcpu = ev->kind == VT_EV_GUEST && (ev->flags & VT_EVF_L2) ? -1 : ev->pcpu; /* there pcpu is the L2 VM */
	rec.ev = *ev;
	if (tr->probe)
		tr->probe->rec(tr->probe->ctx, &rec);
	if (tr->no_records)
		return;
	struct vt_trace_rec *r = trace_push(tr);
	if (r)
		*r = rec;
}

void vt_trace_settle(struct vt_trace *tr)
{
	if (tr && tr->probe && tr->probe->settle)
		tr->probe->settle(tr->probe->ctx);
}

const char *vt_trace_strdup(struct vt_trace *tr, const char *text)
{
	if (!tr || tr->no_records)
		return NULL; /* nothing is stored: no record will point at it */
	if (tr->nstrs == tr->capstrs) {
		size_t cap = tr->capstrs ? tr->capstrs * 2 : 64;
		char **v = realloc(tr->strs, cap * sizeof(*v));
		if (!v) {
			tr->oom = 1;
			return NULL;
		}
		tr->strs = v;
		tr->capstrs = cap;
	}
	size_t n = strlen(text) + 1;
	char *c = malloc(n);
	if (!c) {
		tr->oom = 1;
		return NULL;
	}
	memcpy(c, text, n);
	tr->strs[tr->nstrs++] = c;
	return c;
}

void vt_trace_check(struct vt_trace *tr, const struct vt_event *ev, bool held, const char *seen)
{
	if (!tr || tr->no_records)
		return;
	const char *text = vt_trace_strdup(tr, seen);
	struct vt_trace_rec *r = trace_push(tr);
	if (!r)
		return;
	r->kind = VT_TR_CHECK;
	r->vcpu = ev->vcpu;
	r->pcpu = -1;
	r->code = held;
	r->text = text;
	r->ev = *ev;
}

/* ---- formatting -------------------------------------------------------- */

static const char *req_name(const struct vt_model *m, uint32_t code)
{
	return code < m->hv->nreqs ? m->hv->req_names[code] : "request?";
}

static const char *insn_name(const struct vt_model *m, uint32_t code)
{
	return code < m->hw->ninsns && m->hw->insn_names[code] ? m->hw->insn_names[code] : "insn?";
}

/* A check as the scenario writes it. */
static void check_format(const struct vt_model *m, const struct vt_event *ev, char *buf, size_t len)
{
	static const char *const verbs[VT_CHK_COUNT] = {
		[VT_CHK_PERMITS] = "permits",	 [VT_CHK_NPERMITS] = "denies",	    [VT_CHK_HW] = "hits",
		[VT_CHK_NHW] = "misses",	 [VT_CHK_HW_GPA] = "hits-gpa",	    [VT_CHK_NHW_GPA] = "misses-gpa",
		[VT_CHK_HW_HPA] = "hits",	 [VT_CHK_NHW_HPA] = "misses",
	};
	const struct vt_op *o = &ev->op;
	char vn[32];
	vt_event_vcpu_name(m, ev, vn, sizeof(vn));
	switch (o->code) {
	case VT_CHK_COUNT_INSN:
		snprintf(buf, len, "check count %s %" PRIu64, insn_name(m, (uint32_t)o->a), o->b);
		return;
	case VT_CHK_ROOTS:
	case VT_CHK_EXITS:
		snprintf(buf, len, "check %s %" PRIu64, o->code == VT_CHK_ROOTS ? "roots" : "exits", o->b);
		return;
	case VT_CHK_HW_HPA:
	case VT_CHK_NHW_HPA:
		snprintf(buf, len, "check %s %s 0x%" PRIx64 " -> 0x%" PRIx64 " -> 0x%" PRIx64, vn, verbs[o->code],
			 o->target >= 0 && o->target < m->nvas ? m->va[o->target] : 0, o->a, o->b);
		return;
	default:
		if (o->code >= VT_CHK_COUNT || !verbs[o->code]) {
			snprintf(buf, len, "check ?");
			return;
		}
		if (o->b == UINT64_MAX)
			snprintf(buf, len, "check %s %s 0x%" PRIx64, vn, verbs[o->code], o->a);
		else
			snprintf(buf, len, "check %s %s 0x%" PRIx64 " -> 0x%" PRIx64, vn, verbs[o->code], o->a, o->b);
	}
}

void vt_event_vcpu_name(const struct vt_model *m, const struct vt_event *ev, char *buf, size_t len)
{
	vt_model_vcpu_name(m, ev->vcpu, buf, len);
	/* an L2 guest's operation names the L2 vCPU (L2VM.N), which runs on L1's vCPU N */
	if ((ev->kind == VT_EV_GUEST || ev->kind == VT_EV_CHECK) && (ev->flags & VT_EVF_L2) && ev->pcpu >= 0 &&
	    ev->pcpu < m->nvms)
		snprintf(buf, len, "%s.%d", m->vm[ev->pcpu].name, ev->vcpu - m->vm[ev->pcpu].first_vcpu);
}

void vt_event_format(const struct vt_model *m, const struct vt_event *ev, char *buf, size_t len)
{
	char vn[32], op[160];
	vt_event_vcpu_name(m, ev, vn, sizeof(vn));
	const struct vt_op *o = &ev->op;
	switch (ev->kind) {
	case VT_EV_LOAD:
		snprintf(buf, len, "%s %s on %d", (ev->flags & VT_EVF_ENTER) ? "run" : "load", vn, ev->pcpu);
		return;
	case VT_EV_ENTER:
		snprintf(buf, len, "enter %s%s", vn, (ev->flags & VT_EVF_STEP) ? " phase" : "");
		return;
	case VT_EV_PUT:
		snprintf(buf, len, "%s %s", (ev->flags & VT_EVF_USER) ? "leave" : "preempt", vn);
		return;
	case VT_EV_CHECK:
		check_format(m, ev, buf, len);
		return;
	case VT_EV_HOST:
		if (o->code == VT_OP_HOST_UNMAP) {
			snprintf(buf, len, "host: unmap %s 0x%" PRIx64, m->vm[o->target].name, o->a);
		} else if (o->code == VT_OP_HOST_UNMAP_RANGE) {
			snprintf(buf, len, "host: unmap-range %s 0x%" PRIx64 " +0x%" PRIx64, m->vm[o->target].name, o->a,
				 o->b);
		} else if (o->code == VT_OP_HOST_ZAP_ALL) {
			snprintf(buf, len, "host: zap-all %s", m->vm[o->target].name);
		} else if (o->code == VT_OP_HOST_ZAP || o->code == VT_OP_HOST_NX_RECOVER) {
			const char *w = o->code == VT_OP_HOST_ZAP ? "zap" : "nx-recover";
			if (o->a == o->b)
				snprintf(buf, len, "host: %s %s 0x%" PRIx64, w, m->vm[o->target].name, o->a);
			else
				snprintf(buf, len, "host: %s %s 0x%" PRIx64 " 0x%" PRIx64, w, m->vm[o->target].name, o->a,
					 o->b);
		} else if (o->code == VT_OP_HOST_INSN) {
			unsigned insn = (unsigned)(o->b >> 32);
			snprintf(buf, len, "host: %s on %d key %u%s", insn_name(m, insn),
				 o->target, (unsigned)(o->b & 0xffffffffu), "");
			if (o->a) {
				size_t n = strlen(buf);
				snprintf(buf + n, len - n, " va 0x%" PRIx64, o->a);
			}
		} else {
			snprintf(buf, len, "host: %s %s 0x%" PRIx64 " -> 0x%" PRIx64,
				 o->code == VT_OP_HOST_RAW_REMAP ? "remap-noflush" : "remap", m->vm[o->target].name, o->a,
				 m->s2[o->b].hpa);
		}
		return;
	case VT_EV_GUEST:
		break;
	default:
		snprintf(buf, len, "?");
		return;
	}
	switch (o->code) {
	case VT_OP_MAP: {
		const struct vt_pte *p = &m->pte[o->b];
		snprintf(op, sizeof(op), "map %s 0x%" PRIx64 " -> 0x%" PRIx64 "%s", m->space[o->space].name,
			 m->va[p->va], p->gpa, p->g ? " global" : "");
		break;
	}
	case VT_OP_UNMAP:
		snprintf(op, sizeof(op), "unmap %s 0x%" PRIx64, m->space[o->space].name, o->a);
		break;
	case VT_OP_ACCESS:
		snprintf(op, sizeof(op), "access 0x%" PRIx64, o->a);
		break;
	case VT_OP_LINK:
	case VT_OP_UNLINK:
		snprintf(op, sizeof(op), "%s %s %s", o->code == VT_OP_LINK ? "link" : "unlink", m->space[o->space].name,
			 m->space[o->b].name);
		break;
	default:
		m->aops->fmt_op(m, o, op, sizeof(op));
		break;
	}
	snprintf(buf, len, "%s%s: %s", (ev->flags & VT_EVF_VMM) ? "vmm " : "", vn, op);
}

/* One record as a line of text (without indentation or newline). */
static void rec_text(const struct vt_model *m, const struct vt_trace_rec *r, char *buf, size_t len)
{
	char vn[32], k[160];
	vt_model_vcpu_name(m, r->vcpu, vn, sizeof(vn));
	switch (r->kind) {
	case VT_TR_EVENT:
		vt_event_format(m, &r->ev, buf, len);
		return;
	case VT_TR_EXIT:
		if (r->code)
			snprintf(buf, len, "%s: VM exit (intercepted)", vn);
		else if (r->key == 1)
			snprintf(buf, len, "%s: VM exit (IPI)", vn);
		else if (r->key == 2)
			snprintf(buf, len, "%s: VM exit, KVM_RUN returns to userspace", vn);
		else
			snprintf(buf, len, "%s: VM exit (preempted)", vn);
		return;
	case VT_TR_REQ: {
		char tn[32];
		vt_model_vcpu_name(m, (int)r->key, tn, sizeof(tn));
		snprintf(buf, len, "%s: kvm_make_request(%s)", tn, req_name(m, r->code));
		return;
	}
	case VT_TR_SERVICE:
		snprintf(buf, len, "%s: services %s", vn, req_name(m, r->code));
		return;
	case VT_TR_INSN:
		if (m->hw->fmt_insn_arg && m->hw->fmt_insn_arg(r->code, r->key, r->a, k, sizeof(k))) {
			snprintf(buf, len, "pCPU %d: %s [%s]", r->pcpu, insn_name(m, r->code), k);
			return;
		}
		m->hw->fmt_operand(r->code, r->key, k, sizeof(k));
		if (r->a)
			snprintf(buf, len, "pCPU %d: %s [%s] va 0x%" PRIx64, r->pcpu, insn_name(m, r->code), k, r->a);
		else
			snprintf(buf, len, "pCPU %d: %s [%s]", r->pcpu, insn_name(m, r->code), k);
		return;
	case VT_TR_NOTE:
		if (r->vcpu >= 0)
			snprintf(buf, len, "%s: %s", vn, r->text ? r->text : "");
		else
			snprintf(buf, len, "%s", r->text ? r->text : "");
		return;
	case VT_TR_FIX: {
		const struct vt_fix_info *f = vt_fix_info(r->code);
		snprintf(buf, len, "reverted %s: %s", f ? f->name : "?", r->text ? r->text : "");
		return;
	}
	case VT_TR_FAULT:
		snprintf(buf, len, "%s: faults (%s); no effect", vn, r->text ? r->text : "");
		return;
	case VT_TR_ACCESS:
		snprintf(buf, len, "%s: access 0x%" PRIx64 ": the hardware could answer with %" PRIu64 " translation%s%s", vn,
			 r->a, r->b, r->b == 1 ? "" : "s", r->b ? ":" : "");
		return;
	case VT_TR_CHECK: {
		char c[160];
		check_format(m, &r->ev, c, sizeof(c));
		snprintf(buf, len, "%s: %s: %s", c, r->code ? "held" : "FAILED", r->text ? r->text : "");
		return;
	}
	case VT_TR_STALE:
		snprintf(buf, len, "%s on pCPU %d: stale translation reachable", vn, r->pcpu);
		return;
	case VT_TR_BREACH:
		snprintf(buf, len, "%s on pCPU %d: unmapped host page reachable", vn, r->pcpu);
		return;
	default:
		snprintf(buf, len, "?");
	}
}

void vt_trace_print(FILE *f, const struct vt_model *m, const struct vt_trace *tr, size_t from, size_t to)
{
	char line[512];
	for (size_t i = from; i < to && i < tr->n; i++) {
		const struct vt_trace_rec *r = &tr->rec[i];
		if (r->kind == VT_TR_CHECK) {
			/* not a step: the check line, then its result */
			check_format(m, &r->ev, line, sizeof(line));
			fprintf(f, "        %-44s  (line %u)\n", line, r->ev.line);
			fprintf(f, "          %s: %s\n", r->code ? "held" : "FAILED", r->text ? r->text : "");
			continue;
		}
		rec_text(m, r, line, sizeof(line));
		if (r->kind == VT_TR_EVENT) {
			if (r->ev.line)
				fprintf(f, "  %4u  %-44s  (line %u)\n", r->step, line, r->ev.line);
			else
				fprintf(f, "  %4u  %s\n", r->step, line);
		} else {
			fprintf(f, "          %s\n", line);
		}
		if (r->kind == VT_TR_ACCESS && r->text) {
			/* one answer per line */
			for (const char *a = r->text; *a;) {
				size_t n = strcspn(a, "\n");
				fprintf(f, "            %.*s\n", (int)n, a);
				a += n + (a[n] == '\n');
			}
		}
	}
	if (tr->oom)
		fprintf(f, "          (trace truncated: out of memory)\n");
}

static const char *const kind_names[VT_TR_COUNT] = {
	[VT_TR_EVENT] = "event", [VT_TR_EXIT] = "exit",	  [VT_TR_REQ] = "request", [VT_TR_SERVICE] = "service",
	[VT_TR_INSN] = "flush",	 [VT_TR_NOTE] = "note",	  [VT_TR_FIX] = "reverted", [VT_TR_FAULT] = "fault",
	[VT_TR_ACCESS] = "access", [VT_TR_STALE] = "stale", [VT_TR_BREACH] = "breach", [VT_TR_CHECK] = "check",
};

void vt_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void vt_trace_print_json(FILE *f, const struct vt_model *m, const struct vt_trace *tr, size_t from, size_t to)
{
	char line[512];
	fputc('[', f);
	int first = 1;
	for (size_t i = from; i < to && i < tr->n; i++) {
		const struct vt_trace_rec *r = &tr->rec[i];
		rec_text(m, r, line, sizeof(line));
		fprintf(f, "%s{\"step\":%u,\"kind\":", first ? "" : ",", r->step);
		vt_json_str(f, r->kind < VT_TR_COUNT ? kind_names[r->kind] : "?");
		if (r->vcpu >= 0) {
			char vn[32];
			vt_model_vcpu_name(m, r->vcpu, vn, sizeof(vn));
			fprintf(f, ",\"vcpu\":");
			vt_json_str(f, vn);
		}
		if (r->pcpu >= 0)
			fprintf(f, ",\"pcpu\":%d", r->pcpu);
		if (r->kind == VT_TR_INSN) {
			fprintf(f, ",\"insn\":");
			vt_json_str(f, insn_name(m, r->code));
		} else if (r->kind == VT_TR_REQ || r->kind == VT_TR_SERVICE) {
			fprintf(f, ",\"request\":");
			vt_json_str(f, req_name(m, r->code));
		} else if (r->kind == VT_TR_FIX) {
			const struct vt_fix_info *fi = vt_fix_info(r->code);
			fprintf(f, ",\"fix\":");
			vt_json_str(f, fi ? fi->name : "?");
		}
		if ((r->kind == VT_TR_EVENT || r->kind == VT_TR_CHECK) && r->ev.line)
			fprintf(f, ",\"line\":%u", r->ev.line);
		if (r->kind == VT_TR_CHECK) {
			fprintf(f, ",\"held\":%s,\"seen\":", r->code ? "true" : "false");
			vt_json_str(f, r->text ? r->text : "");
		}
		if (r->kind == VT_TR_ACCESS) {
			fprintf(f, ",\"answers\":[");
			for (const char *a = r->text ? r->text : ""; *a;) {
				size_t n = strcspn(a, "\n");
				char one[256];
				snprintf(one, sizeof(one), "%.*s", (int)n, a);
				fprintf(f, "%s", a == r->text ? "" : ",");
				vt_json_str(f, one);
				a += n + (a[n] == '\n');
			}
			fprintf(f, "]");
		}
		fprintf(f, ",\"text\":");
		vt_json_str(f, line);
		fputc('}', f);
		first = 0;
	}
	fputc(']', f);
}
