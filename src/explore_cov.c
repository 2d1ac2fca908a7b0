/*
 * Search coverage (see include/vtlb/explore.h): which program operations
 * and which scheduling decisions a search took.  Each worker counts into
 * its own record and the records are summed once the workers are done, so
 * the counters need no locks and no atomics.
 */
#include <string.h>

#include "vtlb/explore.h"

static unsigned phase_slot(unsigned ph)
{
	return ph < VT_EXPLORE_COV_PHASES ? ph : VT_EXPLORE_COV_PHASES - 1;
}

void vt_explore_cov_pre(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev,
			struct vt_explore_cov_pre *pre)
{
	(void)m;
	memset(pre, 0, sizeof(*pre));
	pre->host_pc = s->host_pc;
	pre->host_phase = s->host_phase;
	pre->last_pcpu = -1;
	if (ev->vcpu >= 0 && ev->vcpu < VT_MAX_VCPUS) {
		pre->pc = s->vcpu[ev->vcpu].pc;
		pre->phase = s->vcpu[ev->vcpu].phase;
		pre->last_pcpu = s->vcpu[ev->vcpu].last_pcpu;
	}
}

void vt_explore_cov_note(struct vt_explore_coverage *c, const struct vt_model *m,
			 const struct vt_explore_cov_pre *pre, const struct vt_event *ev, const struct vt_state *s)
{
	int v = ev->vcpu;
	switch (ev->kind) {
	case VT_EV_LOAD:
		if (pre->last_pcpu >= 0 && pre->last_pcpu != ev->pcpu)
			c->migrate[v]++;
		else
			c->load[v]++;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			c->enter[v]++;
		break;
	case VT_EV_ENTER:
		if (ev->flags & VT_EVF_STEP)
			c->enter_phase[v][phase_slot(pre->phase)]++;
		if (s->vcpu[v].run == VT_RUN_GUEST)
			c->enter[v]++;
		break;
	case VT_EV_PUT:
		c->preempt[v]++;
		break;
	case VT_EV_GUEST:
		if (ev->flags & VT_EVF_VMM) {
			/* a VMM register write: a step of the host program */
			if (pre->host_pc < m->nprog[VT_MAX_VCPUS]) {
				c->op[VT_MAX_VCPUS][pre->host_pc]++;
				c->host_done[pre->host_pc]++;
			}
			break;
		}
		if (pre->pc < m->nprog[v])
			c->op[v][pre->pc]++;
		break;
	case VT_EV_HOST:
		if (pre->host_pc >= m->nprog[VT_MAX_VCPUS])
			break;
		if (pre->host_phase && pre->host_pc + 1 < m->nprog[VT_MAX_VCPUS] &&
		    memcmp(&ev->op, &m->prog[VT_MAX_VCPUS][pre->host_pc].op, sizeof(ev->op)) != 0) {
			/* the next operation, run on another thread while this one yielded */
			c->op[VT_MAX_VCPUS][pre->host_pc + 1]++;
			c->host_done[pre->host_pc + 1]++;
			break;
		}
		if (pre->host_phase == 0)
			c->op[VT_MAX_VCPUS][pre->host_pc]++;
		if (ev->flags & VT_EVF_STEP)
			c->host_phase[pre->host_pc][phase_slot(pre->host_phase)]++;
		if (s->host_pc != pre->host_pc)
			c->host_done[pre->host_pc]++;
		break;
	default:
		break;
	}
}

void vt_explore_cov_merge(struct vt_explore_coverage *to, const struct vt_explore_coverage *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;
	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}
