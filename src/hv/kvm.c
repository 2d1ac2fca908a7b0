/*
 * KVM's generic request machinery; see kvm.h.  The vcpu->mode handshake
 * (OUTSIDE_GUEST_MODE / IN_GUEST_MODE / EXITING_GUEST_MODE) is modelled at
 * the granularity of steps: a vCPU in guest mode that is kicked exits within
 * the requesting step, which is what KVM_REQUEST_WAIT guarantees to the
 * requester when kvm_make_all_cpus_request() returns.
 */
#include "hv/kvm.h"
#include "internal.h"
#include "vtlb/ops.h"

void vt_kvm_make_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr)
{
	s->vcpu[v].requests |= 1u << req;
	vt_trace_add(tr, VT_TR_REQ, v, s->vcpu[v].pcpu, req, (uint32_t)v, 0, 0, NULL);
}

bool vt_kvm_test_request(const struct vt_state *s, int v, unsigned req)
{
	return (s->vcpu[v].requests >> req) & 1;
}

void vt_kvm_clear_request(struct vt_state *s, int v, unsigned req)
{
	s->vcpu[v].requests &= ~(1u << req);
}

bool vt_kvm_check_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr)
{
	if (!vt_kvm_test_request(s, v, req))
		return false;
	vt_kvm_clear_request(s, v, req);
	vt_trace_add(tr, VT_TR_SERVICE, v, s->vcpu[v].pcpu, req, 0, 0, 0, NULL);
	return true;
}

void vt_kvm_kick(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	if (vs->run != VT_RUN_GUEST)
		return;
	vt_trace_note(tr, v, vs->pcpu, "kicked by IPI: exits guest mode");
	vt_trace_add(tr, VT_TR_EXIT, v, vs->pcpu, 0, 1, 0, 0, NULL);
	m->hv->exit(m, s, v, tr);
	vs->run = VT_RUN_LOADED;
	vs->mode = VT_MODE_OUTSIDE;
}

void vt_kvm_make_all_cpus_request(const struct vt_model *m, struct vt_state *s, int vm, unsigned req,
				  struct vt_trace *tr)
{
	const struct vt_vm *d = &m->vm[vm];
	for (int v = d->first_vcpu; v < d->first_vcpu + d->nvcpus; v++) {
		vt_kvm_make_request(s, v, req, tr);
		vt_kvm_kick(m, s, v, tr);
	}
}
