/*
 * vtlb: the command line.  Argument parsing, file discovery and printing
 * only; everything else is in the library.
 *
 * Exit codes: 0 every expectation held (or the search was clean and
 * exhaustive), 1 an expectation failed or a stale access / breach was found,
 * 2 bad input or usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtlb/explore.h"
#include "vtlb/fixes.h"
#include "vtlb/model.h"
#include "vtlb/ops.h"
#include "vtlb/probe.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/vtlb.h"

static const char usage[] =
	"usage: vtlb <command> [options] [args]\n"
	"\n"
	"Runs KVM's guest-TLB management on a simulated machine and reports any vCPU\n"
	"that could use a translation its architecture says is gone.\n"
	"\n"
	"commands:\n"
	"  run FILE|DIR...      run scenarios (*.vtlb; directories recursively), one line each\n"
	"  explore FILE|DIR...  search every interleaving of the scenarios' programs within bounds\n"
	"  probe FILE|DIR...    run x86 scenarios as real guests (KVM, QEMU TCG); check them against the oracle\n"
	"  fixes                list the named fixes: NAME ARCH KIND ORIGIN -- RULE\n"
	"  options              list the scenario options per architecture\n"
	"\n"
	"options:\n"
	"  --revert NAME        restore the logic from before fix NAME (repeatable)\n"
	"  --json               machine-readable output\n"
	"  --trace              print the full trace of every scenario, not only of failures\n"
	"  -q, --quiet          print only failures and the summary\n"
	"\n"
	"explore options:\n"
	"  --depth N            at most N steps per interleaving (default: the scenario's, else 48)\n"
	"  --preemptions N      at most N preemptions of a vCPU with work left (default 2)\n"
	"  --migrations N       at most N loads of a vCPU on another pCPU than its last (default 2)\n"
	"  --jobs N             worker threads (default: 1)\n"
	"  --random N           sample N random interleavings instead of all (never exhaustive)\n"
	"  --seed S             random mode seed (default 1)\n"
	"  --max-memory SIZE    cap the visited set (e.g. 512M, 2G); reaching it ends the search incomplete\n"
	"  --time-limit SEC     stop after SEC seconds (incomplete)\n"
	"  --no-por             no partial-order reduction (for measurement)\n"
	"  --no-symmetry        no pCPU symmetry reduction (for measurement)\n"
	"  --no-shrink          report the counterexample as found\n"
	"  --emit FILE          write the counterexample as a scenario that 'vtlb run' replays\n"
	"  --progress           progress on stderr once a second (default on a terminal)\n"
	"  --strict             exit 3 when a search is incomplete\n"
	"\n"
	"probe options:\n"
	"  --repeat N           run each probe N times per back-end (default 1)\n"
	"  --backend NAME       kvm, tcg or all (default all)\n"
	"  --timeout SEC        seconds per guest run (default 20)\n"
	"  -h, --help           this text\n"
	"  --version            print the version\n"
	"\n"
	"exit status: 0 every expectation held (run) or every search was clean or\n"
	"incomplete (explore; an incomplete search is never reported as clean); 1 an\n"
	"expectation failed or a stale access or breach was found; 2 bad input or\n"
	"usage; 3 (explore --strict) a search was incomplete; 77 (probe) no back-end\n"
	"could run any probe.\n"
	"See docs/scenarios.md for the scenario language and docs/fixes.md for the fixes.\n";

struct opts {
	struct vt_fixset reverted;
	int json;
	int trace;
	int quiet;
	int strict;
	const char *emit;
	struct vt_explore_opts x;
	struct vt_probe_opts p;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vtlb: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'vtlb --help')\n");
	return 2;
}

/* ---- file discovery ------------------------------------------------------ */

struct paths {
	char **v;
	size_t n, cap;
};

static int paths_add(struct paths *ps, const char *p)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		char **v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n] = strdup(p);
	if (!ps->v[ps->n])
		return -1;
	ps->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int collect(struct paths *ps, const char *path, int top)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (top || ends_with(path, ".vtlb"))
			return paths_add(ps, path);
		return 0;
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: error: cannot open directory: %s\n", path, strerror(errno));
		return -1;
	}
	struct paths sub = {0};
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t n = strlen(path) + strlen(e->d_name) + 2;
		char *full = malloc(n);
		if (!full) {
			rc = -1;
			break;
		}
		snprintf(full, n, "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
		rc = paths_add(&sub, full);
		free(full);
		if (rc < 0)
			break;
	}
	closedir(d);
	qsort(sub.v, sub.n, sizeof(*sub.v), cmp_str);
	for (size_t i = 0; i < sub.n; i++) {
		if (rc == 0)
			rc = collect(ps, sub.v[i], 0);
		free(sub.v[i]);
	}
	free(sub.v);
	return rc;
}

/* ---- run ------------------------------------------------------------------- */

static void print_diag(const struct vt_diag *d)
{
	if (d->line)
		fprintf(stderr, "%s:%u:%u: error: %s\n", d->file, d->line, d->col, d->msg);
	else
		fprintf(stderr, "%s: error: %s\n", d->file, d->msg);
}

/*
 * Warnings: the scenario runs, but a line probably does not say what its
 * author meant.  They never change the exit status.
 */
static void print_warnings(const struct vt_diag *d)
{
	for (uint32_t i = 0; i < d->nwarn; i++)
		fprintf(stderr, "%s:%u:%u: warning: %s\n", d->file, d->warn[i].line, d->warn[i].col, d->warn[i].msg);
	if (d->warn_dropped)
		fprintf(stderr, "%s: warning: %u more warning%s not shown\n", d->file, d->warn_dropped,
			d->warn_dropped == 1 ? "" : "s");
}

static void json_diag(const struct vt_diag *d)
{
	printf("{\"file\":");
	vt_json_str(stdout, d->file);
	printf(",\"status\":\"error\",\"error\":{\"line\":%u,\"col\":%u,\"message\":", d->line, d->col);
	vt_json_str(stdout, d->msg);
	printf("}}");
}

static void summary_line(const struct vt_model *m, const struct vt_run_result *r, char *buf, size_t len)
{
	char vn[32];
	if (r->status == VT_FAIL) {
		snprintf(buf, len, "%s", r->why);
		return;
	}
	char faults[48] = "";
	if (r->faults)
		snprintf(faults, sizeof(faults), ", %u fault%s as expected", r->faults, r->faults == 1 ? "" : "s");
	if (r->verdict.kind == VT_V_OK) {
		snprintf(buf, len, "clean as expected (%u steps%s)", r->steps, faults);
		return;
	}
	vt_model_vcpu_name(m, r->verdict.vcpu, vn, sizeof(vn));
	snprintf(buf, len, "%s as expected: %s at step %u%s", r->verdict.kind == VT_V_STALE ? "stale" : "breach", vn,
		 r->verdict.step, faults);
}

static int cmd_run(const struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	int bad = 0;
	if (argc == 0)
		return usage_error("%s", "run: give at least one scenario file or directory");
	for (int i = 0; i < argc; i++)
		if (collect(&ps, argv[i], 1) < 0)
			bad = 1;
	int pass = 0, fail = 0, err = bad;
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		struct vt_diag d;
		struct vt_model *m = vt_scenario_load(ps.v[i], o->reverted, &d);
		if (o->json && i)
			printf(",");
		if (m && !o->json)
			print_warnings(&d);
		if (!m) {
			err++;
			if (o->json)
				json_diag(&d);
			else {
				printf("ERROR %s\n", ps.v[i]);
				print_diag(&d);
			}
			continue;
		}
		if (!m->nscript) {
			/* an exploration scenario: nothing scripted to run */
			vt_model_free(m);
			if (o->json) {
				printf("{\"file\":");
				vt_json_str(stdout, ps.v[i]);
				printf(",\"status\":\"skipped\"}");
			} else if (!o->quiet) {
				printf("skip  %-48s program only: use 'vtlb explore'\n", ps.v[i]);
			}
			continue;
		}
		struct vt_run_result r;
		enum vt_status st = vt_run(m, &r, &d);
		if (st == VT_ERROR) {
			err++;
			if (o->json)
				json_diag(&d);
			else {
				printf("ERROR %s\n", ps.v[i]);
				print_diag(&d);
			}
		} else if (o->json) {
			vt_run_report_json(stdout, m, &r, o->trace || st == VT_FAIL, &d);
		} else {
			char line[600];
			summary_line(m, &r, line, sizeof(line));
			if (st == VT_PASS && !o->quiet)
				printf("ok    %-48s %s\n", ps.v[i], line);
			if (st == VT_FAIL)
				printf("FAIL  %-48s %s\n", ps.v[i], line);
			if (st == VT_FAIL || o->trace)
				vt_run_report(stdout, m, &r, 1);
		}
		if (st == VT_PASS)
			pass++;
		else if (st == VT_FAIL)
			fail++;
		vt_run_result_fini(&r);
		vt_model_free(m);
	}
	int total = pass + fail + err;
	if (o->json)
		printf("],\"summary\":{\"total\":%d,\"passed\":%d,\"failed\":%d,\"errors\":%d}}\n", total, pass, fail,
		       err);
	else
		printf("%d scenario%s: %d passed, %d failed, %d error%s\n", total, total == 1 ? "" : "s", pass, fail,
		       err, err == 1 ? "" : "s");
	for (size_t i = 0; i < ps.n; i++)
		free(ps.v[i]);
	free(ps.v);
	return err ? 2 : fail ? 1 : 0;
}

/* ---- explore --------------------------------------------------------------- */

static void bounds_text(const struct vt_bounds *b, char *buf, size_t len)
{
	snprintf(buf, len, "depth %u, %u preemption%s, %u migration%s", b->depth, b->preemptions,
		 b->preemptions == 1 ? "" : "s", b->migrations, b->migrations == 1 ? "" : "s");
}

static void stats_text(const struct vt_explore_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%llu states, %llu transitions (%llu pruned by POR, %llu commutation checks%s), max depth %u, %.1f MiB, %.2f s",
		 (unsigned long long)r->states, (unsigned long long)r->transitions, (unsigned long long)r->pruned,
		 (unsigned long long)r->checks, r->symmetric ? ", pCPU symmetry" : "", r->max_depth,
		 (double)r->memory / 1048576.0, r->seconds);
}

static void explore_json(const struct vt_model *m, const struct vt_explore_result *r, const struct vt_run_result *rr,
			 const struct vt_diag *d)
{
	static const char *const st[] = {"clean", "violation", "incomplete", "error"};
	printf("{\"file\":");
	vt_json_str(stdout, m->file);
	printf(",\"status\":\"%s\",\"exhaustive\":%s", st[r->status], r->status == VT_EXPLORE_CLEAN ? "true" : "false");
	printf(",\"bounds\":{\"depth\":%u,\"preemptions\":%u,\"migrations\":%u}", r->bounds.depth,
	       r->bounds.preemptions, r->bounds.migrations);
	printf(",\"states\":%llu,\"transitions\":%llu,\"pruned\":%llu,\"checks\":%llu,\"symmetry\":%s,\"max_depth\":%u,"
	       "\"memory\":%llu,\"seconds\":%.3f",
	       (unsigned long long)r->states, (unsigned long long)r->transitions, (unsigned long long)r->pruned,
	       (unsigned long long)r->checks, r->symmetric ? "true" : "false", r->max_depth, (unsigned long long)r->memory,
	       r->seconds);
	if (r->walks)
		printf(",\"walks\":%llu", (unsigned long long)r->walks);
	vt_diag_warnings_json(stdout, d);
	if (r->why) {
		printf(",\"why\":");
		vt_json_str(stdout, r->why);
	}
	if (rr) {
		char line[1024];
		vt_verdict_format(m, rr, line, sizeof(line));
		printf(",\"verdict\":");
		vt_json_str(stdout, line);
		printf(",\"steps\":%d,\"steps_found\":%d,\"counterexample\":[", r->npath, r->npath_found);
		for (int i = 0; i < r->npath; i++) {
			vt_event_format(m, &r->path[i], line, sizeof(line));
			printf("%s", i ? "," : "");
			vt_json_str(stdout, line);
		}
		printf("],\"trace\":");
		vt_trace_print_json(stdout, m, &rr->trace, 0, rr->trace.n);
	}
	printf("}");
}

static int explore_one(const struct opts *o, const char *path, int *clean, int *viol, int *incomplete, int first)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_load(path, o->reverted, &d);
	if (o->json && !first)
		printf(",");
	if (m && !o->json)
		print_warnings(&d);
	if (!m) {
		if (o->json)
			json_diag(&d);
		else {
			printf("ERROR %s\n", path);
			print_diag(&d);
		}
		return 2;
	}
	if (!m->has_programs) {
		if (o->json) {
			printf("{\"file\":");
			vt_json_str(stdout, path);
			printf(",\"status\":\"skipped\"}");
		} else if (!o->quiet) {
			printf("skip  %-48s a script, no programs: use 'vtlb run'\n", path);
		}
		vt_model_free(m);
		return 0;
	}
	struct vt_explore_result r;
	enum vt_explore_status st = vt_explore(m, &o->x, &r);
	char bt[128], stt[256];
	bounds_text(&r.bounds, bt, sizeof(bt));
	stats_text(&r, stt, sizeof(stt));
	int rc = 0;
	if (st == VT_EXPLORE_VIOLATION) {
		struct vt_run_result *rr = malloc(sizeof(*rr));
		if (!rr) {
			vt_explore_result_fini(&r);
			vt_model_free(m);
			return 2;
		}
		if (vt_run_events(m, r.path, r.npath, rr, &d) != VT_FAIL || rr->verdict.kind == VT_V_OK) {
			/* the counterexample must replay to its violation; anything else is a bug here */
			fprintf(stderr, "%s: error: the counterexample does not replay (internal error)\n", path);
			vt_run_result_fini(rr);
			free(rr);
			vt_explore_result_fini(&r);
			vt_model_free(m);
			return 2;
		}
		rr->verdict_line = 0;
		(*viol)++;
		rc = 1;
		if (o->json) {
			explore_json(m, &r, rr, &d);
		} else {
			printf("FOUND %-48s counterexample in %d steps (found at %d)\n", path, r.npath, r.npath_found);
			vt_run_report(stdout, m, rr, 1);
			printf("  searched: %s; %s\n", bt, stt);
		}
		if (o->emit) {
			FILE *f = fopen(o->emit, "w");
			if (!f || vt_explore_emit(f, m, o->reverted, &r) < 0) {
				fprintf(stderr, "vtlb: cannot write %s\n", o->emit);
				rc = 2;
			} else if (!o->json) {
				printf("  wrote %s: replay with 'vtlb run %s%s'\n", o->emit, o->emit, "");
			}
			if (f)
				fclose(f);
		}
		vt_run_result_fini(rr);
		free(rr);
	} else if (st == VT_EXPLORE_CLEAN) {
		(*clean)++;
		if (o->json)
			explore_json(m, &r, NULL, &d);
		else if (!o->quiet)
			printf("clean %-48s exhaustive within %s: %s\n", path, bt, stt);
	} else if (st == VT_EXPLORE_INCOMPLETE) {
		(*incomplete)++;
		rc = o->strict ? 3 : 0;
		if (o->json)
			explore_json(m, &r, NULL, &d);
		else
			printf("INCOMPLETE %-43s no violation found, NOT exhaustive (%s); %s: %s\n", path, r.why, bt, stt);
	} else {
		rc = 2;
		if (o->json)
			explore_json(m, &r, NULL, &d);
		else {
			printf("ERROR %s\n", path);
			fprintf(stderr, "%s: error: %s\n", path, r.why);
		}
	}
	vt_explore_result_fini(&r);
	vt_model_free(m);
	return rc;
}

static int cmd_explore(const struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	int worst = 0;
	if (argc == 0)
		return usage_error("%s", "explore: give at least one scenario file or directory");
	for (int i = 0; i < argc; i++)
		if (collect(&ps, argv[i], 1) < 0)
			worst = 2;
	if (o->emit && ps.n != 1)
		return usage_error("%s", "--emit needs exactly one scenario");
	int clean = 0, viol = 0, inc = 0, err = worst ? 1 : 0;
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		int rc = explore_one(o, ps.v[i], &clean, &viol, &inc, i == 0);
		if (rc == 2)
			err++;
		if (rc == 2 || (rc == 1 && worst != 2) || (rc == 3 && worst == 0))
			worst = rc;
	}
	if (o->json)
		printf("],\"summary\":{\"clean\":%d,\"violations\":%d,\"incomplete\":%d,\"errors\":%d}}\n", clean, viol,
		       inc, err);
	else
		printf("%zu file%s: %d clean (exhaustive), %d with a violation, %d incomplete, %d error%s\n", ps.n,
		       ps.n == 1 ? "" : "s", clean, viol, inc, err, err == 1 ? "" : "s");
	for (size_t i = 0; i < ps.n; i++)
		free(ps.v[i]);
	free(ps.v);
	return worst;
}

/* ---- probe ------------------------------------------------------------------ */

static int cmd_probe(struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	struct vt_probe_tally t = {0};
	if (argc == 0)
		return usage_error("%s", "probe: give at least one scenario file or directory");
	for (int i = 0; i < argc; i++)
		if (collect(&ps, argv[i], 1) < 0)
			t.errors++;
	o->p.json = o->json;
	o->p.trace = o->trace;
	o->p.quiet = o->quiet;
	o->p.reverted = o->reverted;
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		vt_probe_file(&o->p, ps.v[i], stdout, &t);
		free(ps.v[i]);
	}
	free(ps.v);
	fflush(stdout);
	return vt_probe_summary(&o->p, &t, stdout);
}

/* ---- fixes / options --------------------------------------------------- */

static int cmd_fixes(const struct opts *o)
{
	if (o->json)
		printf("[");
	int first = 1;
	for (unsigned i = 0; i < VT_FIX_COUNT; i++) {
		const struct vt_fix_info *f = vt_fix_info(i);
		if (!f)
			continue;
		if (o->json) {
			printf("%s{\"name\":", first ? "" : ",");
			vt_json_str(stdout, f->name);
			printf(",\"arch\":\"%s\",\"kind\":\"%s\",\"modelled\":%s,\"origin\":", vt_arch_name(f->arch),
			       vt_fix_kind_name(f->kind), f->modelled ? "true" : "false");
			vt_json_str(stdout, f->origin);
			printf(",\"rule\":");
			vt_json_str(stdout, f->rule);
			printf(",\"partners\":");
			vt_json_str(stdout, f->partners ? f->partners : "");
			printf(",\"scenario\":");
			vt_json_str(stdout, f->scenario ? f->scenario : "");
			printf("}");
		} else {
			printf("%-28s %-6s %-12s %s -- %s%s%s%s\n", f->name, vt_arch_name(f->arch), vt_fix_kind_name(f->kind),
			       f->origin, f->rule, f->partners ? " [partners: " : "", f->partners ? f->partners : "",
			       f->partners ? "]" : "");
		}
		first = 0;
	}
	if (o->json)
		printf("]\n");
	return 0;
}

static int cmd_options(const struct opts *o)
{
	for (int i = 0; vt_option_at(i); i++) {
		const struct vt_option_decl *d = vt_option_at(i);
		char arch[32] = "";
		for (int a = 0; a < VT_ARCH_COUNT; a++)
			if (d->archs & (1u << a))
				snprintf(arch + strlen(arch), sizeof(arch) - strlen(arch), "%s%s", arch[0] ? "," : "",
					 vt_arch_name((enum vt_arch)a));
		if (d->boolean)
			printf("%-12s %-6s on|off (default %s)  %s\n", d->name, arch, d->def ? "on" : "off", d->help);
		else
			printf("%-12s %-6s %u..%u (default %u)  %s\n", d->name, arch, d->min, d->max, d->def, d->help);
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *out, int size_suffix)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (size_suffix && *end) {
		int sh = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : -1;
		if (sh < 0 || end[1])
			return -1;
		if (v > (~0ull >> sh))
			return -1;
		v <<= sh;
		end++;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int has_seed = 0;
	o.x.por = 1;
	o.x.symmetry = 1;
	o.x.shrink = 1;
	o.x.seed = 1;
	o.x.progress = isatty(2);
	o.x.progress_out = stderr;
	o.p.repeat = 1;
	o.p.timeout = 20;
	o.p.backends = (1u << VT_PROBE_BE_COUNT) - 1;
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0;
	const char *cmd = NULL;
	if (!args)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			free(args);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("vtlb %s\n", VTLB_VERSION);
			free(args);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			o.json = 1;
		} else if (strcmp(a, "--trace") == 0) {
			o.trace = 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = 1;
		} else if (!strcmp(a, "--depth") || !strcmp(a, "--preemptions") || !strcmp(a, "--migrations") ||
			   !strcmp(a, "--jobs") || !strcmp(a, "--random") || !strcmp(a, "--seed") ||
			   !strcmp(a, "--max-memory") || !strcmp(a, "--time-limit")) {
			uint64_t v;
			if (i + 1 >= argc || parse_u64(argv[i + 1], &v, !strcmp(a, "--max-memory")) < 0) {
				free(args);
				return usage_error("%s needs a non-negative number", a);
			}
			i++;
			if (!strcmp(a, "--depth")) {
				if (v < 1 || v > VT_EXPLORE_MAX_DEPTH) {
					free(args);
					return usage_error("%s", "--depth must be 1 to 512");
				}
				o.x.bounds.depth = (uint32_t)v;
				o.x.has_depth = 1;
			} else if (!strcmp(a, "--preemptions") || !strcmp(a, "--migrations")) {
				if (v > 255) {
					free(args);
					return usage_error("%s goes up to 255", a);
				}
				if (a[2] == 'p') {
					o.x.bounds.preemptions = (uint32_t)v;
					o.x.has_preemptions = 1;
				} else {
					o.x.bounds.migrations = (uint32_t)v;
					o.x.has_migrations = 1;
				}
			} else if (!strcmp(a, "--jobs")) {
				if (v < 1 || v > 64) {
					free(args);
					return usage_error("%s", "--jobs must be 1 to 64");
				}
				o.x.jobs = (int)v;
			} else if (!strcmp(a, "--random")) {
				if (v < 1) {
					free(args);
					return usage_error("%s", "--random needs at least one walk");
				}
				o.x.random_walks = v;
			} else if (!strcmp(a, "--seed")) {
				o.x.seed = v;
				has_seed = 1;
			} else if (!strcmp(a, "--max-memory")) {
				if (v < 1) {
					free(args);
					return usage_error("%s", "--max-memory must be positive");
				}
				o.x.max_memory = v;
			} else {
				if (v < 1) {
					free(args);
					return usage_error("%s", "--time-limit must be at least 1 second");
				}
				o.x.time_limit = (double)v;
			}
		} else if (!strcmp(a, "--repeat") || !strcmp(a, "--timeout")) {
			uint64_t v;
			if (i + 1 >= argc || parse_u64(argv[i + 1], &v, 0) < 0 || v < 1 || v > 10000) {
				free(args);
				return usage_error("%s needs a number from 1 to 10000", a);
			}
			i++;
			if (a[2] == 'r')
				o.p.repeat = (int)v;
			else
				o.p.timeout = (int)v;
		} else if (strcmp(a, "--backend") == 0) {
			const char *b = i + 1 < argc ? argv[++i] : "";
			if (!strcmp(b, "kvm"))
				o.p.backends = 1u << VT_PROBE_KVM;
			else if (!strcmp(b, "tcg"))
				o.p.backends = 1u << VT_PROBE_TCG;
			else if (!strcmp(b, "all"))
				o.p.backends = (1u << VT_PROBE_BE_COUNT) - 1;
			else {
				free(args);
				return usage_error("--backend takes kvm, tcg or all, not '%s'", b);
			}
		} else if (strcmp(a, "--no-por") == 0) {
			o.x.por = 0;
		} else if (strcmp(a, "--no-symmetry") == 0) {
			o.x.symmetry = 0;
		} else if (strcmp(a, "--no-shrink") == 0) {
			o.x.shrink = 0;
		} else if (strcmp(a, "--progress") == 0) {
			o.x.progress = 1;
		} else if (strcmp(a, "--strict") == 0) {
			o.strict = 1;
		} else if (strcmp(a, "--emit") == 0) {
			if (i + 1 >= argc) {
				free(args);
				return usage_error("%s", "--emit needs a file name");
			}
			o.emit = argv[++i];
		} else if (strcmp(a, "--revert") == 0 || strncmp(a, "--revert=", 9) == 0) {
			const char *name = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!name) {
				free(args);
				return usage_error("%s", "--revert needs a fix name");
			}
			int f = vt_fix_lookup(name);
			if (f < 0) {
				free(args);
				return usage_error("unknown fix '%s' (see 'vtlb fixes')", name);
			}
			vt_fixset_add(&o.reverted, (unsigned)f);
		} else if (a[0] == '-' && a[1]) {
			free(args);
			return usage_error("unknown option '%s'", a);
		} else if (!cmd) {
			cmd = a;
		} else {
			args[nargs++] = argv[i];
		}
	}
	int rc;
	if (has_seed && !o.x.random_walks) {
		free(args);
		return usage_error("%s", "--seed only applies with --random");
	}
	if (!cmd) {
		fputs(usage, stderr);
		rc = 2;
	} else if (strcmp(cmd, "run") == 0) {
		rc = cmd_run(&o, nargs, args);
	} else if (strcmp(cmd, "explore") == 0) {
		rc = cmd_explore(&o, nargs, args);
	} else if (strcmp(cmd, "probe") == 0) {
		rc = cmd_probe(&o, nargs, args);
	} else if (strcmp(cmd, "fixes") == 0) {
		rc = nargs ? usage_error("%s", "fixes takes no arguments") : cmd_fixes(&o);
	} else if (strcmp(cmd, "options") == 0) {
		rc = nargs ? usage_error("%s", "options takes no arguments") : cmd_options(&o);
	} else {
		rc = usage_error("unknown command '%s'", cmd);
	}
	free(args);
	return rc;
}
