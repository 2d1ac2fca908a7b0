/*
 * KVM's generic vCPU request machinery (virt/kvm/kvm_main.c,
 * include/linux/kvm_host.h, Documentation/virt/kvm/vcpu-requests.rst),
 * shared by every backend.  Requests are bits in vcpu->requests; they are
 * made by events, and serviced (test-and-clear, "check") on the way into the
 * guest.  A broadcast request kicks every target in guest mode out with an
 * IPI, so it services the request before it runs guest code again.
 */
#ifndef VTLB_HV_KVM_H
#define VTLB_HV_KVM_H

#include <stdbool.h>

#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

/* kvm_make_request */
void vt_kvm_make_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr);
/* kvm_check_request: test and clear; traces the service. */
bool vt_kvm_check_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr);
/* kvm_test_request / kvm_clear_request */
bool vt_kvm_test_request(const struct vt_state *s, int v, unsigned req);
void vt_kvm_clear_request(struct vt_state *s, int v, unsigned req);

/*
 * kvm_make_all_cpus_request: set req on every vCPU of vm and kick those in
 * guest mode (kvm_kick_many_cpus): they exit and service it before entering
 * again.  Returns when every target is outside the guest or has the request
 * pending (the KVM_REQUEST_WAIT guarantee).
 */
void vt_kvm_make_all_cpus_request(const struct vt_model *m, struct vt_state *s, int vm, unsigned req,
				  struct vt_trace *tr);

/* kvm_vcpu_kick of one vCPU: force it out of guest mode if it is in it. */
void vt_kvm_kick(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr);

#endif
