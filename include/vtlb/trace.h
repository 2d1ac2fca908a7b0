/*
 * Typed trace records and their one printer.
 *
 * Every step appends what happened, layer by layer: the event, the VM exit
 * it caused, each KVM request made and serviced, each invalidation
 * instruction with its scope, each hypervisor decision worth reading, where
 * a reverted fix changed the outcome, and the verdict.  A trace is what a
 * finding is explained with; a counterexample is a trace.  The printer
 * renders records as text or as JSON objects.  A NULL trace records nothing
 * (the explorer runs without one and replays a path to explain it).
 */
#ifndef VTLB_TRACE_H
#define VTLB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vtlb/model.h"

enum vt_tr_kind {
	VT_TR_EVENT,    /* ev: the event applied */
	VT_TR_EXIT,     /* VM exit; code = op code that caused it, or 0 with key 0 preemption, 1 IPI, 2 return to userspace */
	VT_TR_REQ,      /* request made; code = bit, key = target vCPU */
	VT_TR_SERVICE,  /* request serviced; code = bit */
	VT_TR_INSN,     /* invalidation executed; code = insn, key = tag, a = operand */
	VT_TR_NOTE,     /* hypervisor or hardware decision; text */
	VT_TR_FIX,      /* a reverted fix took effect; code = fix, text = what happened instead */
	VT_TR_FAULT,    /* the guest op faulted; code = op code, text = the fault and its rule */
	VT_TR_ACCESS,   /* guest access: a = va, b = number of hardware answers, text = each answer */
	VT_TR_STALE,    /* verdict: code = u, key = t permitted? a = va */
	VT_TR_BREACH,   /* verdict: code = u or s */
	VT_TR_CHECK,    /* a scenario check (ev), evaluated between steps: code = 1 held, 0 failed; text = what was seen */
	VT_TR_COUNT
};

struct vt_trace_rec {
	uint32_t step;
	uint8_t kind;
	int8_t vcpu;
	int8_t pcpu;
	uint8_t pad;
	uint32_t code;
	uint32_t key;
	uint64_t a;
	uint64_t b;
	const char *text;      /* static string, one the trace owns (vt_trace_textf), or NULL */
	struct vt_event ev;    /* VT_TR_EVENT and VT_TR_CHECK */
};

#define VT_TRACE_MAX_INSNS 64

/*
 * An observer of a trace (the perf layer's cost counters).  It sees every
 * record as it is added, before it is stored; records of hardware
 * instructions arrive before the instruction changes any TLB (vt_hw_ops.insn
 * records first, then applies its scope).  'settle' is called by vt_step
 * after the event's layers ran and before the TLBs fill.  The observer must
 * not change the state.
 */
struct vt_trace_probe {
	void *ctx;
	void (*rec)(void *ctx, const struct vt_trace_rec *r);
	void (*settle)(void *ctx);
};

struct vt_trace {
	struct vt_trace_rec *rec;
	size_t n;
	size_t cap;
	int oom;                              /* a record was dropped: allocation failed */
	uint32_t step;                        /* step number stamped on new records */
	uint32_t insn_count[VT_TRACE_MAX_INSNS];
	uint32_t root_loads;                  /* hypervisor: new roots / contexts built */
	uint32_t exits;                       /* VM exits */
	char **strs;                          /* texts the trace owns (vt_trace_textf) */
	size_t nstrs, capstrs;
	const struct vt_trace_probe *probe;   /* observer, or NULL */
	int no_records;                       /* count and observe only; store nothing (long runs) */
};

void vt_trace_init(struct vt_trace *tr);
void vt_trace_fini(struct vt_trace *tr);
void vt_trace_reset(struct vt_trace *tr);

/* vt_trace_add's record, out of line: tr must not be NULL. */
void vt_trace_record(struct vt_trace *tr, uint8_t kind, int vcpu, int pcpu, uint32_t code, uint32_t key,
		     uint64_t a, uint64_t b, const char *text);

/*
 * Append a record (no-op on a NULL trace).  Records are stamped with
 * tr->step.  Inline, as are the wrappers below: an exploration runs
 * without a trace, and the layers' calls then cost one test.
 */
static inline void vt_trace_add(struct vt_trace *tr, uint8_t kind, int vcpu, int pcpu, uint32_t code, uint32_t key,
				uint64_t a, uint64_t b, const char *text)
{
	if (tr)
		vt_trace_record(tr, kind, vcpu, pcpu, code, key, a, b, text);
}
void vt_trace_event(struct vt_trace *tr, const struct vt_event *ev);
/* Record a check event and its result; 'seen' is copied. */
void vt_trace_check(struct vt_trace *tr, const struct vt_event *ev, bool held, const char *seen);
/*
 * A copy of 'text' that the trace owns until vt_trace_fini (for a record's
 * text), or NULL when tr is NULL or memory ran out (tr->oom is then set).
 */
const char *vt_trace_strdup(struct vt_trace *tr, const char *text);

/* Tell the observer, if any, that the step is about to let the TLBs fill. */
void vt_trace_settle(struct vt_trace *tr);

/* Convenience wrappers used by the layers. */
static inline void vt_trace_note(struct vt_trace *tr, int vcpu, int pcpu, const char *text)
{
	vt_trace_add(tr, VT_TR_NOTE, vcpu, pcpu, 0, 0, 0, 0, text);
}

static inline void vt_trace_insn(struct vt_trace *tr, int pcpu, unsigned insn, uint32_t key, uint64_t arg)
{
	vt_trace_add(tr, VT_TR_INSN, -1, pcpu, insn, key, arg, 0, NULL);
}

/* Print records [from, to) as text, one or more lines each, indented. */
void vt_trace_print(FILE *f, const struct vt_model *m, const struct vt_trace *tr, size_t from, size_t to);
/* Print records [from, to) as a JSON array. */
void vt_trace_print_json(FILE *f, const struct vt_model *m, const struct vt_trace *tr, size_t from, size_t to);

/* Format one event as scenario text ("run g.0 on 1", "g.0: invlpg 0x1000"). */
void vt_event_format(const struct vt_model *m, const struct vt_event *ev, char *buf, size_t len);
/* The vCPU an event names: L2VM.N for an L2 guest operation or a check written that way, else VM.N. */
void vt_event_vcpu_name(const struct vt_model *m, const struct vt_event *ev, char *buf, size_t len);

/* JSON string escaping helper for printers. */
void vt_json_str(FILE *f, const char *s);

#endif
