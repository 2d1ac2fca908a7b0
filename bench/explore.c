/*
 * The exploration benchmark: for every exploration scenario given on the
 * command line (`make bench` passes scenarios/explore and bench/scenarios), the
 * clean exhaustive search with every fix in place (breadth-first: states,
 * transitions, states per second, bytes per state stored and allocated),
 * the depth-first search with sleep sets (its states must be the same), the
 * breadth-first one without pCPU symmetry, and for the fix each scenario
 * names, the time to the first counterexample with that fix reverted.
 * Times are the best of three runs (wall clock, one job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtlb/explore.h"
#include "vtlb/vtlb.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double best_of(const struct vt_model *m, const struct vt_explore_opts *o, struct vt_explore_result *out)
{
	double best = 1e30;
	for (int i = 0; i < 3; i++) {
		struct vt_explore_result r;
		double t0 = now();
		vt_explore(m, o, &r);
		double t = now() - t0;
		if (t < best)
			best = t;
		if (i == 2)
			*out = r;
		else
			vt_explore_result_fini(&r);
	}
	return best;
}

int main(int argc, char **argv)
{
	double total_clean = 0, worst_find = 0;
	printf("%-28s %9s %10s %8s %9s %5s %5s | %9s %9s %9s | %-26s %8s %5s\n", "scenario", "states", "transitions",
	       "time s", "states/s", "B/st", "alloc", "DFS st", "DFS tr", "no-sym st", "fix reverted", "found s",
	       "steps");
	for (int i = 1; i < argc; i++) {
		struct vt_diag d;
		struct vt_model *m = vt_scenario_load(argv[i], VT_FIXSET_NONE, &d);
		if (!m) {
			fprintf(stderr, "%s:%u:%u: %s\n", d.file, d.line, d.col, d.msg);
			return 2;
		}
		if (!m->has_programs) {
			vt_model_free(m);
			continue;
		}
		struct vt_explore_opts o;
		memset(&o, 0, sizeof(o));
		o.por = 1;
		o.symmetry = 1;
		o.shrink = 1;
		struct vt_explore_result r, rn, rs;
		double t = best_of(m, &o, &r);
		total_clean += t;
		o.dfs = 1;
		best_of(m, &o, &rn);
		o.dfs = 0;
		o.symmetry = 0;
		best_of(m, &o, &rs);
		o.symmetry = 1;
		const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		char fixname[64] = "-", found[32] = "-", steps[16] = "-";
		int fix = m->pins[0];
		if (fix >= 0 && vt_fix_info((unsigned)fix)->kind != VT_FIX_COST) {
			struct vt_fixset rev = VT_FIXSET_NONE;
			vt_fixset_add(&rev, (unsigned)fix);
			struct vt_model *mr = vt_scenario_load(argv[i], rev, &d);
			struct vt_explore_result rv;
			double tf = best_of(mr, &o, &rv);
			snprintf(fixname, sizeof(fixname), "%s", vt_fix_info((unsigned)fix)->name);
			if (rv.status == VT_EXPLORE_VIOLATION) {
				snprintf(found, sizeof(found), "%.4f", tf);
				snprintf(steps, sizeof(steps), "%d", rv.npath);
				if (tf > worst_find)
					worst_find = tf;
			} else {
				snprintf(found, sizeof(found), "NOT FOUND");
			}
			vt_explore_result_fini(&rv);
			vt_model_free(mr);
		}
		printf("%-28s %9llu %10llu %8.4f %9.0f %5.0f %5.0f | %9llu %9llu %9llu | %-26s %8s %5s%s\n", name,
		       (unsigned long long)r.states, (unsigned long long)r.transitions, t, (double)r.states / t,
		       r.states ? (double)r.state_bytes / (double)r.states : 0.0,
		       r.states ? (double)r.memory / (double)r.states : 0.0, (unsigned long long)rn.states,
		       (unsigned long long)rn.transitions, (unsigned long long)rs.states, fixname, found, steps,
		       r.status == VT_EXPLORE_CLEAN && rn.status == VT_EXPLORE_CLEAN ? "" : "  (NOT CLEAN)");
		vt_explore_result_fini(&r);
		vt_explore_result_fini(&rn);
		vt_explore_result_fini(&rs);
		vt_model_free(m);
	}
	printf("\nall clean exhaustive searches: %.3f s; slowest time to a counterexample: %.4f s\n", total_clean,
	       worst_find);
	return 0;
}
