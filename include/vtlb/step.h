/*
 * The step function: the only way state changes.
 *
 * Scripted runs, the explorer and replay all feed events to vt_step().  A
 * step applies one event through the layers (guest → oracle → hypervisor or
 * native hardware), then lets every TLB fill what it may (the maximal TLB:
 * the oracle for every vCPU whose translation is on, the hardware for every
 * vCPU in guest mode), then checks the invariant: no vCPU in guest mode can
 * reach a translation its architecture no longer permits (stale), and no
 * vCPU can reach a host page whose stage-2 removal has completed (breach).
 */
#ifndef VTLB_STEP_H
#define VTLB_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

enum vt_verdict_kind {
	VT_V_OK,
	VT_V_STALE,   /* hardware could return a translation the architecture removed */
	VT_V_BREACH,  /* hardware could reach a host page the host has unmapped and flushed */
	VT_V_COUNT
};

struct vt_verdict {
	uint8_t kind;
	int8_t vcpu;
	int8_t pcpu;
	uint8_t pad;
	int16_t u;      /* offending combined entry, or -1 */
	int16_t s;      /* offending stage-2 entry (breach), or -1 */
	uint32_t step;  /* step number at which it was found */
};

/* Why an event cannot be applied in a state. */
enum vt_step_err {
	VT_STEP_OK,
	VT_STEP_ERR_VCPU_BUSY,      /* load: vCPU already loaded */
	VT_STEP_ERR_PCPU_BUSY,      /* load: pCPU already has a vCPU */
	VT_STEP_ERR_PCPU_DENIED,    /* load: pCPU not allowed for this VM */
	VT_STEP_ERR_NOT_LOADED,     /* enter/put: vCPU not loaded */
	VT_STEP_ERR_NOT_RUNNING,    /* guest op: vCPU not in the guest */
	VT_STEP_ERR_IN_GUEST,       /* enter: already in the guest */
	VT_STEP_ERR_LIMIT,          /* a model limit was hit (vt_limit_str says which); the state is unusable */
	VT_STEP_ERR_HOST_BUSY,      /* host op: another host operation is still in progress */
	VT_STEP_ERR_NOT_IDLE,       /* VMM register write: the vCPU's thread is not in userspace */
	VT_STEP_ERR_LEVEL,          /* guest op: the vCPU runs the other level (L1 vs its L2) */
	VT_STEP_ERR_BAD_EVENT,
	VT_STEP_ERR_HOST_WAIT,      /* host op: waiting for IPI acknowledgements (option kvm-phases) */
	VT_STEP_ERR_IRQS_OFF,       /* preempt: the vCPU is between vcpu->mode = IN_GUEST_MODE and VM entry */
	VT_STEP_ERR_VMM_L2,         /* VMM register write: the vCPU is in guest mode (runs its L2); not modelled */
	VT_STEP_ERR_COUNT
};

const char *vt_step_strerror(enum vt_step_err e);

/* What a model limit means, for messages. */
const char *vt_limit_str(unsigned limit);

/* Can ev be applied in s?  VT_STEP_OK or the reason it cannot. */
enum vt_step_err vt_step_enabled(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev);

/*
 * Apply ev to s.  On VT_STEP_OK, *v holds the verdict of the invariant
 * check after the step.  On an error s is unchanged unless the error is
 * VT_STEP_ERR_LIMIT (the state is then unusable; s->meta.limit says why).
 */
enum vt_step_err vt_step(const struct vt_model *m, struct vt_state *s, const struct vt_event *ev,
			 struct vt_trace *tr, struct vt_verdict *v);

/* ---- queries used by the runner, checks and printers ------------------ */

/* The guest context of vCPU v now. */
void vt_vcpu_gctx(const struct vt_model *m, const struct vt_state *s, int v, struct vt_gctx *g);

/* Translations (over T) the oracle lets v use for its current context. */
struct vt_set vt_oracle_usable(const struct vt_model *m, const struct vt_state *s, int v);

/* Combined entries (over U) the hardware could return to v for its current context. */
struct vt_set vt_hw_usable(const struct vt_model *m, const struct vt_state *s, int v);

/* Does the oracle permit v to see va -> gpa (any gpa if gpa == UINT64_MAX)? */
bool vt_oracle_permits(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, uint64_t gpa);

/* Could the hardware return va -> gpa to v (any gpa if gpa == UINT64_MAX)? */
bool vt_hw_returns(const struct vt_model *m, const struct vt_state *s, int v, uint64_t va, uint64_t gpa);

/* Could the hardware translate guest-physical gpa (to hpa, or any if UINT64_MAX) for v? */
bool vt_hw_reaches_gpa(const struct vt_model *m, const struct vt_state *s, int v, uint64_t gpa, uint64_t hpa);

/* Check the invariant now, without stepping. */
void vt_check(const struct vt_model *m, const struct vt_state *s, struct vt_verdict *v);

#endif
