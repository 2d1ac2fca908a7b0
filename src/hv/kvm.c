/*
 * KVM's generic request machinery; see kvm.h.
 *
 * vcpu->mode (OUTSIDE_GUEST_MODE / IN_GUEST_MODE / EXITING_GUEST_MODE) is
 * kept for every vCPU.  By default the handshake is atomic: a vCPU is in
 * IN_GUEST_MODE exactly while it runs guest code, and a kicked vCPU exits
 * within the requesting step, which is what KVM_REQUEST_WAIT guarantees to
 * the requester when kvm_make_all_cpus_request() returns.  With 'option
 * kvm-phases' the entry path's last part (mode store, barrier,
 * kvm_vcpu_exit_request) and the requester's set-bit / cmpxchg / IPI / wait
 * are phases of their own, so other steps run between them
 * (docs/design.md, "Requests and kicks, phase by phase").
 */
#include "hv/kvm.h"
#include "internal.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"

void vt_kvm_serve_request(struct vt_state *s, int v, unsigned req, struct vt_trace *tr)
{
	vt_kvm_clear_request(s, v, req);
	vt_trace_add(tr, VT_TR_SERVICE, v, s->vcpu[v].pcpu, req, 0, 0, 0, NULL);
}

/* kvm_vcpu_exiting_guest_mode: smp_mb__before_atomic(); cmpxchg(&vcpu->mode, IN_GUEST_MODE, EXITING_GUEST_MODE). */
enum vt_mode vt_kvm_exiting_guest_mode(struct vt_state *s, int v)
{
	enum vt_mode old = (enum vt_mode)s->vcpu[v].mode;
	if (old == VT_MODE_IN_GUEST)
		s->vcpu[v].mode = VT_MODE_EXITING;
	return old;
}

/*
 * kvm_request_needs_ipi: with KVM_REQUEST_WAIT every vCPU not outside guest
 * mode gets the IPI (the requester must know it has left, or is reading
 * shadow tables with IRQs off); without it only one that was IN_GUEST_MODE
 * (one already EXITING has an IPI on its way).  A vCPU not loaded anywhere
 * (vcpu->cpu == -1) gets none.
 */
bool vt_kvm_request_needs_ipi(struct vt_state *s, int v, bool wait)
{
	enum vt_mode old = vt_kvm_exiting_guest_mode(s, v);
	if (s->vcpu[v].pcpu < 0)
		return false;
	return wait ? old != VT_MODE_OUTSIDE : old == VT_MODE_IN_GUEST;
}

/* The vCPU takes the IPI: from guest mode that is a VM exit. */
static void take_ipi(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	vt_trace_note(tr, v, vs->pcpu, "kicked by IPI: exits guest mode");
	vt_trace_add(tr, VT_TR_EXIT, v, vs->pcpu, 0, 1, 0, 0, NULL);
	m->hv->exit(m, s, v, tr);
	vs->run = VT_RUN_LOADED;
	vs->mode = VT_MODE_OUTSIDE;
}

/*
 * The IPI of kvm_kick_many_cpus / kvm_vcpu_kick arrives on v's pCPU: a vCPU
 * in the guest exits at once; one between vcpu->mode = IN_GUEST_MODE and the
 * VM entry has IRQs off, so it stays pending until that vCPU cancels the
 * entry or enters (and exits at once); anywhere else IRQs are on and the
 * (empty) handler runs at once.
 */
void vt_kvm_deliver_ipi(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	if (vs->run == VT_RUN_GUEST) {
		take_ipi(m, s, v, tr);
	} else if (vs->entry != VT_ENTRY_NONE) {
		vs->ipi = 1;
		vt_trace_note(tr, v, vs->pcpu, "IPI arrives with IRQs off (entry in progress): pending");
	}
}

void vt_kvm_kick(const struct vt_model *m, struct vt_state *s, int v, struct vt_trace *tr)
{
	/* kvm_arch_vcpu_should_kick: the cmpxchg found IN_GUEST_MODE */
	if (vt_kvm_exiting_guest_mode(s, v) != VT_MODE_IN_GUEST || s->vcpu[v].pcpu < 0)
		return;
	vt_kvm_deliver_ipi(m, s, v, tr);
}

void vt_kvm_make_all_cpus_request(const struct vt_model *m, struct vt_state *s, int vm, unsigned req,
				  struct vt_trace *tr)
{
	const struct vt_vm *d = &m->vm[vm];
	for (int v = d->first_vcpu; v < d->first_vcpu + d->nvcpus; v++) {
		vt_kvm_make_request(s, v, req, tr);
		if (vt_kvm_request_needs_ipi(s, v, true))
			vt_kvm_deliver_ipi(m, s, v, tr);
	}
}

/* ---- phase by phase (option kvm-phases) ---------------------------------- */

int vt_kvm_request_phases(const struct vt_model *m, int vm)
{
	return 2 * m->vm[vm].nvcpus + 2;
}

bool vt_kvm_request_phase(const struct vt_model *m, struct vt_state *s, int vm, unsigned req, bool wait, int k,
			  struct vt_trace *tr)
{
	const struct vt_vm *d = &m->vm[vm];
	int n = d->nvcpus;
	if (k < 2 * n) {
		int v = d->first_vcpu + k / 2;
		if (!(k & 1)) {
			/* kvm_make_vcpu_request: __kvm_make_request (smp_wmb, set_bit) */
			vt_kvm_make_request(s, v, req, tr);
			return true;
		}
		/* kvm_request_needs_ipi: smp_mb__before_atomic, the cmpxchg, the decision */
		enum vt_mode old = (enum vt_mode)s->vcpu[v].mode;
		bool ipi = vt_kvm_request_needs_ipi(s, v, wait);
		static const char *const names[VT_MODE_COUNT] = {"OUTSIDE_GUEST_MODE", "IN_GUEST_MODE",
								  "EXITING_GUEST_MODE", "READING_SHADOW_PAGE_TABLES"};
		if (tr && !tr->no_records) {
			char vn[32], buf[160];
			vt_model_vcpu_name(m, v, vn, sizeof(vn));
			snprintf(buf, sizeof(buf), "kvm_vcpu_exiting_guest_mode(%s) was %s: %s", vn, names[old],
				 ipi ? "IPI its pCPU" : "no IPI");
			vt_trace_note(tr, -1, -1, vt_trace_strdup(tr, buf));
		}
		if (ipi)
			s->kick_mask |= (uint8_t)(1u << k / 2);
		return true;
	}
	if (k == 2 * n) {
		/* kvm_kick_many_cpus: smp_call_function_many(cpu_kick_mask, ack_kick, NULL, wait) sends */
		if (!s->kick_mask)
			vt_trace_note(tr, -1, -1, "kvm_kick_many_cpus: no IPI to send");
		for (int i = 0; i < n; i++)
			if (s->kick_mask & (1u << i))
				vt_kvm_deliver_ipi(m, s, d->first_vcpu + i, tr);
		if (!wait)
			s->kick_mask = 0;
		return true;
	}
	/* ... and, with KVM_REQUEST_WAIT, waits until every target has run ack_kick */
	if (vt_kvm_request_waiting(m, s, vm))
		return false;
	if (s->kick_mask)
		vt_trace_note(tr, -1, -1, "kvm_kick_many_cpus: every IPI acknowledged; the requester goes on");
	s->kick_mask = 0;
	return true;
}

bool vt_kvm_request_waiting(const struct vt_model *m, const struct vt_state *s, int vm)
{
	const struct vt_vm *d = &m->vm[vm];
	for (int i = 0; i < d->nvcpus; i++)
		if ((s->kick_mask & (1u << i)) && s->vcpu[d->first_vcpu + i].ipi)
			return true;
	return false;
}

/* kvm_vcpu_exit_request (x86.c; kvm_vcpu_exit_request in arm.c alike): kicked, or a request pending. */
static bool exit_request(const struct vt_vcpu_state *vs)
{
	return vs->mode == VT_MODE_EXITING || vs->requests != 0;
}

/* The entry is cancelled: mode back to OUTSIDE_GUEST_MODE, IRQs on, a pending IPI taken. */
static enum vt_kvm_entry entry_cancel(struct vt_state *s, int v, struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	vs->mode = VT_MODE_OUTSIDE;
	vs->entry = VT_ENTRY_NONE;
	vt_trace_note(tr, v, vs->pcpu,
		      vs->ipi ? "kvm_vcpu_exit_request: kicked or a request pending: entry cancelled; IRQs on: takes the IPI"
			      : "kvm_vcpu_exit_request: kicked or a request pending: entry cancelled");
	vs->ipi = 0;
	return VT_KVM_ENTRY_CANCEL;
}

enum vt_kvm_entry vt_kvm_entry_step(const struct vt_model *m, struct vt_state *s, int v, unsigned fix,
				    struct vt_trace *tr)
{
	struct vt_vcpu_state *vs = &s->vcpu[v];
	int p = vs->pcpu;
	switch (vs->entry) {
	case VT_ENTRY_NONE:
		if (vt_fixed(m, fix)) {
			/* smp_store_release(&vcpu->mode, IN_GUEST_MODE); ...; smp_mb__after_srcu_read_unlock() */
			vs->mode = VT_MODE_IN_GUEST;
			vs->entry = VT_ENTRY_MODE_SET;
			vt_trace_note(tr, v, p, "vcpu->mode = IN_GUEST_MODE; full barrier: visible before the requests are read");
			return VT_KVM_ENTRY_MORE;
		}
		/* no barrier: the load of vcpu->requests passes the store of vcpu->mode (a store buffer) */
		vt_trace_reverted(tr, v, fix,
				  "vcpu->mode = IN_GUEST_MODE waits in the store buffer while kvm_vcpu_exit_request reads "
				  "the requests");
		if (exit_request(vs))
			return entry_cancel(s, v, tr);
		vs->entry = VT_ENTRY_CHECKED;
		vt_trace_note(tr, v, p, "kvm_vcpu_exit_request: nothing pending (others still see OUTSIDE_GUEST_MODE)");
		return VT_KVM_ENTRY_MORE;
	case VT_ENTRY_MODE_SET:
		/* an IPI pending here means a requester's cmpxchg made the mode EXITING first */
		if (exit_request(vs) || vs->ipi)
			return entry_cancel(s, v, tr);
		vs->entry = VT_ENTRY_NONE;
		vt_trace_note(tr, v, p, "kvm_vcpu_exit_request: nothing pending: VM entry");
		return VT_KVM_ENTRY_IN;
	default:
		/* VT_ENTRY_CHECKED: the store drains (VM entry is serializing) and the vCPU enters */
		vs->mode = VT_MODE_IN_GUEST;
		vs->entry = VT_ENTRY_NONE;
		if (vs->ipi) {
			vs->ipi = 0;
			vs->mode = VT_MODE_OUTSIDE;
			vt_trace_note(tr, v, p, "VM entry with an IPI pending: it exits at once and takes it");
			return VT_KVM_ENTRY_CANCEL;
		}
		vt_trace_note(tr, v, p, "vcpu->mode = IN_GUEST_MODE becomes visible; VM entry");
		return VT_KVM_ENTRY_IN;
	}
}
