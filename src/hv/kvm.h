/*
 * KVM's generic vCPU request machinery (virt/kvm/kvm_main.c,
 * include/linux/kvm_host.h, Documentation/virt/kvm/vcpu-requests.rst),
 * shared by every backend.  Requests are bits in vcpu->requests; they are
 * made by events, and serviced (test-and-clear, "check") on the way into the
 * guest.  A broadcast request kicks every target in guest mode out with an
 * IPI, so it services the request before it runs guest code again.
 *
 * With 'option kvm-phases' the same protocol runs phase by phase: the
 * requester's steps (vt_kvm_request_phase) and the vCPU's last entry steps
 * (vt_kvm_entry_step) are separate steps, and docs/design.md ("Requests
 * and kicks, phase by phase") draws who may run between them.
 */
#ifndef VTLB_HV_KVM_H
#define VTLB_HV_KVM_H

#include <stdbool.h>

#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

/* kvm_make_request.  Inline: vcpu_load makes one on most loads. */
static inline void vt_kvm_make_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr)
{
	s->vcpu[v].requests |= 1u << req;
	vt_trace_add(tr, VT_TR_REQ, v, s->vcpu[v].pcpu, req, (uint32_t)v, 0, 0, NULL);
}
/* kvm_test_request / kvm_clear_request */
static inline bool vt_kvm_test_request(const struct vt_state *s, int v, unsigned req)
{
	return (s->vcpu[v].requests >> req) & 1;
}

static inline void vt_kvm_clear_request(struct vt_state *s, int v, unsigned req)
{
	s->vcpu[v].requests &= ~(1u << req);
}

/* The service of a pending request: clear it and trace it (vt_kvm_check_request). */
void vt_kvm_serve_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr);

/*
 * kvm_check_request: test and clear; traces the service.  Inline: the entry
 * path asks for a dozen requests of which usually none is pending.
 */
static inline bool vt_kvm_check_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr)
{
	if (!vt_kvm_test_request(s, v, req))
		return false;
	vt_kvm_serve_request(s, v, req, tr);
	return true;
}

/*
 * kvm_make_all_cpus_request (KVM_REQUEST_WAIT), atomically: set req on every
 * vCPU of vm and IPI those not outside guest mode; a vCPU in the guest exits
 * within the step.  Returns when every target is outside the guest or has
 * the request pending.
 */
void vt_kvm_make_all_cpus_request(const struct vt_model *m, struct vt_state *s, int vm, unsigned req,
				  struct vt_trace *tr);

/* kvm_vcpu_kick of one vCPU: IPI it if the cmpxchg found it IN_GUEST_MODE. */
void vt_kvm_kick(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);

/* kvm_vcpu_exiting_guest_mode: the cmpxchg IN_GUEST_MODE -> EXITING_GUEST_MODE; the old mode. */
enum vt_mode vt_kvm_exiting_guest_mode(struct vt_state *s, int v);
/* kvm_request_needs_ipi: the cmpxchg and the IPI decision, with or without KVM_REQUEST_WAIT. */
bool vt_kvm_request_needs_ipi(struct vt_state *s, int v, bool wait);
/* An IPI reaches v's pCPU: exit from the guest, pending while IRQs are off in the entry, else nothing. */
void vt_kvm_deliver_ipi(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);

/*
 * kvm_make_all_cpus_request phase by phase, for hypervisor code that runs
 * it as part of a phased host operation.  There are
 * vt_kvm_request_phases(m, vm) phases, k = 0, 1, ...:
 *   k = 2i      set req on vCPU i of the VM (__kvm_make_request)
 *   k = 2i + 1  kvm_request_needs_ipi(vCPU i): cmpxchg, IPI decision (s->kick_mask)
 *   k = 2n      kvm_kick_many_cpus sends the IPIs
 *   k = 2n + 1  with KVM_REQUEST_WAIT, the wait for every acknowledgement
 * vt_kvm_request_phase runs phase k and returns true, or false when it
 * cannot run yet (the wait, while vt_kvm_request_waiting says so).
 */
int vt_kvm_request_phases(const struct vt_model *m, int vm);
bool vt_kvm_request_phase(const struct vt_model *m, struct vt_state *s, int vm, unsigned req, bool wait, int k,
			  struct vt_trace *tr);
bool vt_kvm_request_waiting(const struct vt_model *m, const struct vt_state *s, int vm);

/*
 * The last part of vcpu_enter_guest (x86) / kvm_arch_vcpu_ioctl_run
 * (arm64), after the requests are serviced, one phase per call:
 *   VT_ENTRY_NONE      vcpu->mode = IN_GUEST_MODE; full barrier  -> MODE_SET
 *   VT_ENTRY_MODE_SET  kvm_vcpu_exit_request(): cancel, or enter
 * With 'fix' reverted the barrier is missing and the mode store may be seen
 * after the requests load: the first phase reads the requests while others
 * still see OUTSIDE_GUEST_MODE (-> CHECKED), the second makes the store
 * visible and enters.  Returns what the caller does next.
 */
enum vt_kvm_entry {
	VT_KVM_ENTRY_MORE,     /* a phase remains (IRQs off) */
	VT_KVM_ENTRY_CANCEL,   /* back to the request block */
	VT_KVM_ENTRY_IN,       /* VM entry */
};
enum vt_kvm_entry vt_kvm_entry_step(const struct vt_model *m, struct vt_state *s, int v, unsigned fix,
				    struct vt_trace *tr);

#endif
