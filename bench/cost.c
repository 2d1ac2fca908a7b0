/*
 * The cost-run benchmark: the simulator's own speed on long runs.  For
 * every workload scenario given on the command line (`make bench` passes
 * scenarios/cost/), one cost run of 10^5 and one of 10^6 workload events
 * with every fix in place: vt_step calls per second (workload events plus
 * the re-entries the hypervisor causes), with the finite TLB and every
 * counter attached.  Times are the best of three runs (wall clock).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vtlb/cost.h"
#include "vtlb/vtlb.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int rc = 0;
	printf("%-36s %9s %10s %9s %12s\n", "scenario", "events", "steps", "time s", "steps/s");
	for (int i = 1; i < argc; i++) {
		struct vt_diag d;
		struct vt_model *m = vt_scenario_load(argv[i], VT_FIXSET_NONE, &d);
		if (!m) {
			fprintf(stderr, "%s:%u:%u: error: %s\n", d.file, d.line, d.col, d.msg);
			rc = 2;
			continue;
		}
		if (!m->wl.line) {
			vt_model_free(m);
			continue;
		}
		const char *base = strrchr(argv[i], '/');
		base = base ? base + 1 : argv[i];
		for (uint32_t n = 100000; n <= 1000000; n *= 10) {
			struct vt_cost_opts o;
			memset(&o, 0, sizeof(o));
			o.steps = n;
			double best = 1e30;
			struct vt_cost_counters c;
			for (int k = 0; k < 3; k++) {
				double t0 = now();
				if (vt_cost_run(m, &o, &c, &d) < 0) {
					fprintf(stderr, "%s: error: %s\n", argv[i], d.msg);
					rc = 2;
					break;
				}
				double t = now() - t0;
				if (t < best)
					best = t;
			}
			printf("%-36s %9u %10llu %9.3f %12.0f\n", base, n, (unsigned long long)c.steps, best,
			       (double)c.steps / best);
			fflush(stdout);
		}
		vt_model_free(m);
	}
	return rc;
}
