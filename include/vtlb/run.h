/*
 * The scripted runner: replays a scenario's events through vt_step(),
 * re-enters vCPUs that the script keeps running, evaluates the inline checks,
 * stops at the first stale access or breach, and compares the outcome with
 * the scenario's expectation.  vt_run_report() is the printer for results.
 */
#ifndef VTLB_RUN_H
#define VTLB_RUN_H

#include <stdio.h>

#include "vtlb/model.h"
#include "vtlb/scenario.h"
#include "vtlb/state.h"
#include "vtlb/step.h"
#include "vtlb/trace.h"

enum vt_status {
	VT_PASS = 0,   /* the expectation held */
	VT_FAIL = 1,   /* it did not, or a check failed */
	VT_ERROR = 2,  /* bad input: the script cannot run (diag says where) */
};

struct vt_run_result {
	enum vt_status status;
	struct vt_verdict verdict;   /* first violation, or kind VT_V_OK */
	size_t verdict_rec;          /* trace index of the violation record */
	uint32_t verdict_line;       /* scenario line of the event that exposed it */
	uint32_t steps;
	uint32_t faults;             /* guest operations that faulted as 'expect fault' allows */
	uint32_t fault_line;         /* a fault the script did not mean: its line (the run failed there) */
	char why[512];               /* for VT_FAIL: what went wrong, one line */
	struct vt_trace trace;
	struct vt_state state;       /* final state (after the violation, if any) */
};

/*
 * A script keeps its vCPUs running: after each step, a vCPU that is loaded
 * and not held outside the guest (a 'load' without 'run' holds it)
 * re-enters.  True when vCPU w does; *en is then that ENTER event
 * (VT_EVF_AUTO, attributed to the script line 'line').
 */
bool vt_run_reentry(const struct vt_model *m, const struct vt_state *s, const bool *hold, int w, uint32_t line,
		    struct vt_event *en);

/*
 * Run m's script.  Returns the status; on VT_ERROR d holds file:line:col.
 * The result owns its trace: release with vt_run_result_fini().
 */
enum vt_status vt_run(const struct vt_model *m, struct vt_run_result *res, struct vt_diag *d);
void vt_run_result_fini(struct vt_run_result *res);

/*
 * Run an explicit list of events (no re-entry added, no expectation): the
 * status is VT_PASS when no violation occurred, VT_FAIL when one did.  Used
 * to replay and explain a counterexample.
 */
enum vt_status vt_run_events(const struct vt_model *m, const struct vt_event *ev, int n, struct vt_run_result *res,
			     struct vt_diag *d);

/*
 * Does replaying ev[0..n) (as vt_run_events) make a guest operation fault?
 * 1 yes, 0 no, -1 the events do not replay.  An emitted counterexample
 * then says 'expect fault', so that 'vtlb run' accepts the fault.
 */
int vt_events_fault(const struct vt_model *m, const struct vt_event *ev, int n);

/* One-line description of the verdict ("STALE ..." / "BREACH ..."), no newline. */
void vt_verdict_format(const struct vt_model *m, const struct vt_run_result *res, char *buf, size_t len);

/* Print a result: the STALE/BREACH line and the trace when 'detail'. */
void vt_run_report(FILE *f, const struct vt_model *m, const struct vt_run_result *res, int detail);
/* The same as one JSON object, with d's warnings (d may be NULL). */
void vt_run_report_json(FILE *f, const struct vt_model *m, const struct vt_run_result *res, int with_trace,
			const struct vt_diag *d);
/* A JSON member ',"warnings":[{"line":L,"col":C,"message":M},...]' for d's warnings (nothing if d is NULL). */
void vt_diag_warnings_json(FILE *f, const struct vt_diag *d);

#endif
