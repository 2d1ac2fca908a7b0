/*
 * Search coverage (see include/vtlb/explore.h): which program operations
 * and which scheduling decisions a search took.  Each worker counts into
 * its own record and the records are summed once the workers are done, so
 * the counters need no locks and no atomics.
 */
#include "explore_int.h"
#include "vtlb/explore.h"

void vt_explore_cov_pre(const struct vt_model *m, const struct vt_state *s, const struct vt_event *ev,
			struct vt_explore_cov_pre *pre)
{
	explore_cov_pre(m, s, ev, pre);
}

void vt_explore_cov_note(struct vt_explore_coverage *c, const struct vt_model *m,
			 const struct vt_explore_cov_pre *pre, const struct vt_event *ev, const struct vt_state *s)
{
	explore_cov_note(c, m, pre, ev, s);
}

void vt_explore_cov_merge(struct vt_explore_coverage *to, const struct vt_explore_coverage *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;
	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}
