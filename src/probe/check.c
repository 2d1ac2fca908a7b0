/*
 * Checking a probe run against the oracle.
 *
 * The scenario's script is replayed through vt_step() exactly as the runner
 * does (vCPUs the script keeps running re-enter after every exit); at each
 * access the vCPU's permitted set (vt_oracle_usable) restricted to the VA is
 * what the architecture lets the access return.  A fault is permitted when
 * the vCPU's current page table has no entry for the VA (a walk finds
 * nothing): the oracle always permits the current mapping, so a fault with
 * a present entry is not one the architecture allows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/probe.h"
#include "vtlb/run.h"
#include "vtlb/step.h"

static void enter_running(const struct vt_model *m, struct vt_state *s, const bool *hold)
{
	for (int w = 0; w < m->nvcpus; w++) {
		struct vt_event en;
		struct vt_verdict v;
		if (vt_run_reentry(m, s, hold, w, 0, &en))
			(void)vt_step(m, s, &en, NULL, &v);
	}
}

static void observe(const struct vt_model *m, const struct vt_state *s, int v, const struct vt_probe_image *img,
		    uint32_t word, struct vt_probe_access *a)
{
	struct vt_set ok = vt_oracle_usable(m, s, v);
	VT_SET_FOREACH(t, &ok) {
		const struct vt_pte *p = &m->pte[m->t[t].p];
		if (m->va[p->va] != a->va)
			continue;
		int dup = 0;
		for (int i = 0; i < a->npermitted; i++)
			dup |= a->permitted[i] == p->gpa;
		if (!dup && a->npermitted < 8)
			a->permitted[a->npermitted++] = p->gpa;
	}
	struct vt_gctx g;
	vt_vcpu_gctx(m, s, v, &g);
	if (g.space >= 0)
		VT_U64_FOREACH(p, s->pt[g.space])
			if (m->va[m->pte[p].va] == a->va) {
				a->has_current = 1;
				a->current = m->pte[p].gpa;
			}
	a->fault_ok = !a->has_current;
	a->word = word;
	if ((word & 0xffff0000u) == VT_PROBE_MARK && (int)(word & 0xffff) < img->nframes) {
		a->kind = VT_PROBE_OBS_GPA;
		a->gpa = img->frame_gpa[word & 0xffff];
		for (int i = 0; i < a->npermitted; i++)
			a->ok |= a->permitted[i] == a->gpa;
		a->stale = a->ok && (!a->has_current || a->current != a->gpa);
	} else if (word == (VT_PROBE_FAULT | 14)) {
		a->kind = VT_PROBE_OBS_FAULT;
		a->ok = (uint8_t)a->fault_ok;
	} else {
		a->kind = VT_PROBE_OBS_OTHER;
	}
}

int vt_probe_check(const struct vt_model *m, const struct vt_probe_image *img, const uint32_t *words, int nwords,
		   struct vt_probe_check *c)
{
	memset(c, 0, sizeof(*c));
	c->refused_slot = c->faulted_slot = -1;
	if (nwords != img->nslots + 3 || words[0] != VT_PROBE_MAGIC_START ||
	    words[img->nslots + 2] != VT_PROBE_MAGIC_END) {
		snprintf(c->why, sizeof(c->why), "the guest's results are malformed (%d words)", nwords);
		return -1;
	}
	uint32_t status = words[img->nslots + 1];
	if (status != VT_PROBE_DONE) {
		snprintf(c->why, sizeof(c->why), "the guest faulted while setting up (word 0x%08x)", status);
		return -1;
	}
	for (int i = 0; i < img->nslots; i++) {
		uint32_t w = words[1 + i];
		if (img->slot[i].code != VT_OP_ACCESS && !img->slot[i].model_fault &&
		    (w & 0xff000000u) == VT_PROBE_FAULT)
			break;        /* refused: the run ended here (reported below) */
		if (w == 0) {
			snprintf(c->why, sizeof(c->why), "the guest did not reach operation %d (line %u)", i,
				 img->slot[i].line);
			return -1;
		}
	}
	struct vt_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(c->why, sizeof(c->why), "out of memory");
		return -1;
	}
	bool hold[VT_MAX_VCPUS] = {0};
	vt_state_init(m, s);
	int slot = 0;
	for (int i = 0; i < m->nscript; i++) {
		const struct vt_event *ev = &m->script[i];
		if (ev->kind == VT_EV_CHECK)
			continue;
		struct vt_verdict v;
		enum vt_step_err e = vt_step(m, s, ev, NULL, &v);
		if (e != VT_STEP_OK) {
			snprintf(c->why, sizeof(c->why), "line %u: the script does not run in the model: %s", ev->line,
				 e == VT_STEP_ERR_LIMIT ? vt_limit_str(s->meta.limit) : vt_step_strerror(e));
			free(s);
			return -1;
		}
		if (ev->kind == VT_EV_LOAD)
			hold[ev->vcpu] = !(ev->flags & VT_EVF_ENTER);
		if (ev->vcpu >= 0 && s->vcpu[ev->vcpu].run == VT_RUN_GUEST)
			hold[ev->vcpu] = false;
		if (slot < img->nslots && img->slot[slot].event == i) {
			uint32_t word = words[1 + slot];
			int impl_fault = (word & 0xff000000u) == VT_PROBE_FAULT;
			if (ev->op.code != VT_OP_ACCESS && impl_fault && !img->slot[slot].model_fault) {
				/* the implementation refused an operation the architecture allows:
				 * what follows no longer runs the scenario */
				c->refused_slot = slot;
				break;
			}
			if (ev->op.code != VT_OP_ACCESS && !impl_fault && img->slot[slot].model_fault &&
			    c->faulted_slot < 0) {
				c->faulted_slot = slot;
				c->failures++;
			}
			if (ev->op.code == VT_OP_ACCESS) {
				struct vt_probe_access *a = &c->acc[c->naccess++];
				a->slot = slot;
				a->step = s->meta.step;
				a->line = ev->line;
				a->va = ev->op.a;
				observe(m, s, ev->vcpu, img, words[1 + slot], a);
				c->failures += !a->ok;
				c->stale += a->stale;
			}
			slot++;
		}
		if (!m->explicit_schedule)
			enter_running(m, s, hold);
	}
	free(s);
	return 0;
}
