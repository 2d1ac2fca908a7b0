/*
 * vtlb: the command line.  Argument parsing, file discovery and printing
 * only; everything else is in the library.
 *
 * Exit codes (README's table): 0 every expectation held, or every search was
 * clean or incomplete; 1 an expectation failed or a stale access / breach was
 * found; 2 bad input or usage, or --emit could not write (2 wins over 1);
 * 3 explore --strict and a search was incomplete (1 and 2 win over 3).
 * Every option is checked against the commands it does something for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtlb/dist.h"
#include "vtlb/explore.h"
#include "vtlb/fixes.h"
#include "vtlb/model.h"
#include "vtlb/ops.h"
#include "vtlb/probe.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/vtlb.h"
#include "cost_cmd.h"

static const char usage[] =
	"usage: vtlb <command> [options] [args]\n"
	"\n"
	"Runs KVM's guest-TLB management on a simulated machine and reports any vCPU\n"
	"that could use a translation its architecture says is gone.\n"
	"\n"
	"commands:\n"
	"  run FILE|DIR...      run scenario scripts, one line each; a directory means every\n"
	"                       *.vtlb below it (sorted, hidden entries skipped)\n"
	"  explore FILE|DIR...  search every interleaving of the scenarios' programs within bounds\n"
	"  probe FILE|DIR...    run x86 scenarios as real guests (KVM, QEMU TCG); check them against the oracle\n"
	"  fixes                list the named fixes: NAME ARCH KIND [RELEASES] ORIGIN -- RULE\n"
	"  options              list the scenario options per architecture\n"
	"  cost FILE|DIR...     what each flush policy costs, side by side ('vtlb cost --help')\n"
	"Only regular files are scenarios (at most 1 MiB, lines of at most 4096 characters);\n"
	"anything else, a dangling link or a directory cycle is one error, and the run goes on.\n"
	"Files without a script are skipped by 'run', files without programs by 'explore';\n"
	"the summary counts them.\n"
	"\n"
	"options (run and explore):\n"
	"  --revert NAME        restore the logic from before fix NAME (repeatable); a scenario\n"
	"                       of NAME's architecture must be among those run\n"
	"  --kernel VERSION     only the fixes mainline VERSION had (vX.Y, v2.6.Z); also 'fixes'\n"
	"  --json               machine-readable output (also for 'fixes' and 'options')\n"
	"  -q, --quiet          print only failures, errors and the summary\n"
	"run options:\n"
	"  --trace              print the full trace of every scenario, not only of failures\n"
	"\n"
	"explore options:\n";

/* The help text is two strings: ISO C caps a string literal at 4,095 characters. */
static const char usage_explore[] =
	"  --depth N            at most N steps per interleaving, 1 to 512 (default: the\n"
	"                       scenario's 'bounds', else 48)\n"
	"  --preemptions N      at most N preemptions of a vCPU with work left (default: the\n"
	"                       scenario's, else 2)\n"
	"  --migrations N       at most N loads of a vCPU on another pCPU than its last (default:\n"
	"                       the scenario's, else 2)\n"
	"  --jobs N             worker threads, 1 to 64 (default 1)\n"
	"  --bfs, --dfs         search order (default --bfs: every state at its smallest depth,\n"
	"                       no re-exploration, shortest counterexamples; --dfs uses sleep sets)\n"
	"  --lossy hc|bitstate  store 64-bit fingerprints (hc) or 3 bits per state (bitstate) instead\n"
	"                       of whole states, for searches larger than memory; depth-first; never\n"
	"                       exhaustive: reports a bound on the probability of an omission\n"
	"  --random N           sample N random interleavings instead of all (never exhaustive)\n"
	"  --seed S             random mode seed (default 1)\n"
	"  --max-memory SIZE    cap the search's memory (the visited set, depth-first frames and\n"
	"                       queued work), suffix K, M or G (default 2G, per file); reaching\n"
	"                       it ends that search incomplete (--json: peak_memory, the most held)\n"
	"  --time-limit SEC     stop each file's search after SEC seconds (incomplete)\n"
	"  --no-por             take every step: no sleep sets (--dfs, --lossy) and, with pCPU\n"
	"                       symmetry, every load onto interchangeable pCPUs, not one (as\n"
	"                       --dot does); the same states, more steps (for measurement)\n"
	"  --no-symmetry        no pCPU symmetry reduction (for measurement)\n"
	"  --no-shrink          report the counterexample as found\n"
	"  --emit FILE          write the counterexample as a scenario that 'vtlb run' replays;\n"
	"                       one scenario only.  Afterwards FILE holds this search's\n"
	"                       counterexample, or, when it found none, is removed if it was\n"
	"                       a regular file (an older one would look current)\n"
	"  --dot FILE           write the explored state graph (Graphviz) of a search of at most\n"
	"                       10000 states; one scenario, not with --random\n"
	"  --progress           progress on stderr: on a terminal one line updated in place (the\n"
	"                       default there), else one line a second\n"
	"  --strict             exit 3 when a search is incomplete\n"
	"  --mpi                one search over the ranks of an MPI job (build/vtlb-mpi under\n"
	"                       mpirun; breadth-first, states partitioned by hash; --max-memory\n"
	"                       is per rank)\n"
	"  --swarm N            N independent randomised bounded searches (seeds from --seed),\n"
	"                       their distinct states counted together (never exhaustive)\n"
	"  --swarm-states N     states each swarm search may store (default 65536)\n"
	"\n"
	"\n";

/* (a third string: ISO C guarantees string literals of 4095 characters only) */
static const char usage_more[] =
	"probe options (also --revert, --json, --trace, -q):\n"
	"  --repeat N           run each probe N times per back-end, 1 to 10000 (default 1)\n"
	"  --backend NAME       kvm, tcg or all (default all)\n"
	"  --timeout SEC        seconds per guest run, 1 to 10000 (default 20)\n"
	"An option given to a command it does nothing for is an error.\n"
	"\n"
	"  -h, --help           this text\n"
	"  --version            print the version\n"
	"\n"
	"Numbers are written as in scenarios: decimal or 0x hexadecimal (010 is ten).\n"
	"\n"
	"exit status: 0 every expectation held (run) or every search was clean or\n"
	"incomplete (explore; an incomplete search is never reported as clean); 1 an\n"
	"expectation failed or a stale access or breach was found (explore: in a file\n"
	"without 'expect found'); 2 bad input or\n"
	"usage, or --emit could not write (wins over 1); 3 (explore --strict) a search\n"
	"was incomplete and nothing worse happened; 77 (probe) no back-end could run\n"
	"any probe.  Warnings (file:line:col: warning: on stderr) never change it.\n"
	"See docs/scenarios.md for the scenario language and docs/fixes.md for the fixes.\n";

/* --dot is for small searches: a graph beyond this many states is unreadable anyway. */
#define DOT_MAX_STATES 10000

struct opts {
	struct vt_fixset reverted;   /* --revert */
	const char *kernel;          /* --kernel */
	struct vt_fixset kernel_reverted; /* the fixes that release lacked (every architecture) */
	int json;
	int trace;
	int quiet;
	int strict;
	const char *emit;
	const char *dot;
	int diag_to_stderr;          /* stderr is not the file stdout goes to */
	struct vt_explore_opts x;
	struct vt_probe_opts p;
	int mpi;                 /* distributed (vt_explore_dist over d.net) */
	struct vt_dist_opts d;
	int rank;                /* this process's rank: only rank 0 writes files */
};

/* --revert and --kernel together (the scenario parser keeps the fixes of its architecture). */
static struct vt_fixset all_reverted(const struct opts *o)
{
	return vt_fixset_union(o->reverted, o->kernel_reverted);
}

static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vtlb: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'vtlb --help')\n");
	return 2;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- file discovery ------------------------------------------------------ */

/*
 * What a walk found, in order: a scenario to load, or an entry that could not
 * be used (err: the reason).  Errors stay in place so that each is reported
 * where it sorts and everything after it still runs.
 */
struct entry {
	char *path;
	char *err;
};

struct paths {
	struct entry *v;
	size_t n, cap;
};

static int paths_add(struct paths *ps, const char *p, const char *err)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct entry *v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n].path = strdup(p);
	ps->v[ps->n].err = err ? strdup(err) : NULL;
	if (!ps->v[ps->n].path || (err && !ps->v[ps->n].err)) {
		free(ps->v[ps->n].path);
		free(ps->v[ps->n].err);
		return -1;
	}
	ps->n++;
	return 0;
}

static int paths_error(struct paths *ps, const char *p, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static int paths_error(struct paths *ps, const char *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return paths_add(ps, p, msg);
}

static void paths_free(struct paths *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].path);
		free(ps->v[i].err);
	}
	free(ps->v);
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

/* A directory on the path from the walk's root: cycles are found by identity. */
struct dir_frame {
	dev_t dev;
	ino_t ino;
	const char *path;
	const struct dir_frame *up;
};

/*
 * stat() 'path', following symbolic links; on failure add the reason as an
 * error entry and return -1 (-2 when out of memory).
 */
static int stat_entry(struct paths *ps, const char *path, struct stat *st)
{
	if (stat(path, st) == 0)
		return 0;
	int e = errno;
	struct stat lst;
	int rc;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		if (e == ENOENT)
			rc = paths_error(ps, path, "dangling symbolic link (its target does not exist)");
		else
			rc = paths_error(ps, path, "cannot follow symbolic link: %s", strerror(e));
	} else {
		rc = paths_error(ps, path, "cannot open: %s", strerror(e));
	}
	return rc < 0 ? -2 : -1;
}

static int walk(struct paths *ps, const char *path, const struct dir_frame *up);

/*
 * Add 'path' (or, for a directory, every *.vtlb below it, sorted, hidden
 * entries skipped).  'top': named on the command line, so any name is a
 * scenario.  Only regular files are scenarios; every entry that cannot be
 * used becomes one error entry.  Returns -1 only when out of memory.
 */
static int collect(struct paths *ps, const char *path, int top, const struct dir_frame *up)
{
	struct stat st;
	int rc = stat_entry(ps, path, &st);
	if (rc == -2)
		return -1;
	if (rc < 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		for (const struct dir_frame *f = up; f; f = f->up)
			if (f->dev == st.st_dev && f->ino == st.st_ino)
				return paths_error(ps, path,
						   "directory cycle: it leads back to '%s', which is being walked; "
						   "not followed", f->path);
		struct dir_frame me = {st.st_dev, st.st_ino, path, up};
		return walk(ps, path, &me);
	}
	if (!top && !ends_with(path, ".vtlb"))
		return 0;
	if (!S_ISREG(st.st_mode))
		return paths_error(ps, path, "not a regular file (%s): only regular files are scenarios",
				   vt_scenario_file_kind((unsigned)st.st_mode));
	return paths_add(ps, path, NULL);
}

static int walk(struct paths *ps, const char *path, const struct dir_frame *up)
{
	DIR *d = opendir(path);
	if (!d)
		return paths_error(ps, path, "cannot read directory: %s", strerror(errno));
	char **sub = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				rc = paths_error(ps, path, "cannot read directory: %s", strerror(errno));
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 32;
			char **v = realloc(sub, c * sizeof(*v));
			if (!v) {
				rc = -1;
				break;
			}
			sub = v;
			cap = c;
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		sub[n] = malloc(len);
		if (!sub[n]) {
			rc = -1;
			break;
		}
		snprintf(sub[n], len, "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(sub, n, sizeof(*sub), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = collect(ps, sub[i], 0, up);
		free(sub[i]);
	}
	free(sub);
	return rc;
}

static int collect_all(struct paths *ps, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (collect(ps, argv[i], 1, NULL) < 0) {
			fprintf(stderr, "vtlb: out of memory\n");
			return -1;
		}
	return 0;
}

/*
 * --revert NAME applies to scenarios of NAME's architecture; as a 'revert'
 * line in a file of another architecture is an error, so is a --revert that
 * no scenario of this invocation can use.  'explore' selects which files
 * count: those with programs (explore) or with a script (run).
 */
static int check_reverts(const struct opts *o, const struct paths *ps, int explore)
{
	if (vt_fixset_is_empty(o->reverted))
		return 0;
	unsigned archs = 0;
	for (size_t i = 0; i < ps->n; i++) {
		struct vt_diag d;
		if (ps->v[i].err)
			continue;
		struct vt_model *m = vt_scenario_load(ps->v[i].path, VT_FIXSET_NONE, &d);
		if (!m)
			continue;
		if (explore ? m->has_programs && !m->wl.line : m->nscript > 0)
			archs |= 1u << m->arch;
		vt_model_free(m);
	}
	for (unsigned i = 0; i < VT_FIX_COUNT; i++) {
		const struct vt_fix_info *f = vt_fix_info(i);
		if (!vt_fixset_has(o->reverted, i) || !f || (archs & (1u << f->arch)))
			continue;
		return usage_error("--revert %s: it is a fix of %s, and no %s scenario %s given (files that cannot "
				   "be read or parsed do not count)",
				   f->name, vt_arch_name(f->arch), vt_arch_name(f->arch),
				   explore ? "with programs to explore was" : "with a script to run was");
	}
	return 0;
}

/* ---- errors ---------------------------------------------------------------- */

/*
 * One error of one file: in text, the ERROR line carries file:line:col and
 * the message (so stdout alone says everything); the same diagnostic goes to
 * stderr in the compiler format, unless stderr is where stdout goes.
 */
static void report_error(const struct opts *o, const char *file, uint32_t line, uint32_t col, const char *msg)
{
	if (o->json) {
		printf("{\"file\":");
		vt_json_str(stdout, file);
		printf(",\"status\":\"error\",\"error\":{\"line\":%u,\"col\":%u,\"message\":", line, col);
		vt_json_str(stdout, msg);
		printf("}}");
		return;
	}
	if (line)
		printf("ERROR %s:%u:%u: %s\n", file, line, col, msg);
	else
		printf("ERROR %s: %s\n", file, msg);
	if (o->diag_to_stderr) {
		fflush(stdout);
		if (line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", file, line, col, msg);
		else
			fprintf(stderr, "%s: error: %s\n", file, msg);
	}
}

static void report_diag(const struct opts *o, const struct vt_diag *d)
{
	report_error(o, d->file, d->line, d->col, d->msg);
}

/*
 * Warnings: the scenario runs, but a line probably does not say what its
 * author meant.  They never change the exit status; --json carries them in
 * the file's result.
 */
static void print_warnings(const struct opts *o, const struct vt_diag *d)
{
	if (o->json)
		return;
	for (uint32_t i = 0; i < d->nwarn; i++)
		fprintf(stderr, "%s:%u:%u: warning: %s\n", d->file, d->warn[i].line, d->warn[i].col, d->warn[i].msg);
	if (d->warn_dropped)
		fprintf(stderr, "%s: warning: %u more warning%s not shown\n", d->file, d->warn_dropped,
			d->warn_dropped == 1 ? "" : "s");
}

static void report_skip(const struct opts *o, const char *path, const char *why)
{
	if (o->json) {
		printf("{\"file\":");
		vt_json_str(stdout, path);
		printf(",\"status\":\"skipped\",\"why\":");
		vt_json_str(stdout, why);
		printf("}");
	} else if (!o->quiet) {
		printf("skip  %-48s %s\n", path, why);
	}
}

/* ---- run ------------------------------------------------------------------- */

static void summary_line(const struct vt_model *m, const struct vt_run_result *r, char *buf, size_t len)
{
	char vn[32];
	if (r->status == VT_FAIL) {
		snprintf(buf, len, "%s", r->why);
		return;
	}
	char faults[48] = "";
	if (r->faults)
		snprintf(faults, sizeof(faults), ", %u fault%s as expected", r->faults, plural(r->faults));
	if (r->verdict.kind == VT_V_OK) {
		snprintf(buf, len, "clean as expected (%u step%s%s)", r->steps, plural(r->steps), faults);
		return;
	}
	vt_model_vcpu_name(m, r->verdict.vcpu, vn, sizeof(vn));
	snprintf(buf, len, "%s as expected: %s at step %u%s", r->verdict.kind == VT_V_STALE ? "stale" : "breach", vn,
		 r->verdict.step, faults);
}

static int cmd_run(const struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	if (argc == 0)
		return usage_error("%s", "run: give at least one scenario file or directory");
	if (collect_all(&ps, argc, argv) < 0 || check_reverts(o, &ps, 0)) {
		paths_free(&ps);
		return 2;
	}
	int pass = 0, fail = 0, err = 0, skip = 0, skip_wl = 0;
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		struct vt_diag d;
		if (o->json && i)
			printf(",");
		if (ps.v[i].err) {
			err++;
			report_error(o, ps.v[i].path, 0, 0, ps.v[i].err);
			continue;
		}
		struct vt_model *m = vt_scenario_load(ps.v[i].path, all_reverted(o), &d);
		if (!m) {
			err++;
			report_diag(o, &d);
			continue;
		}
		print_warnings(o, &d);
		if (!m->nscript) {
			/* an exploration scenario or a workload: nothing scripted to run */
			int wl = m->wl.line != 0;
			vt_model_free(m);
			skip++;
			skip_wl += wl;
			report_skip(o, ps.v[i].path,
				    wl ? "a workload, no script: use 'vtlb cost'" : "program only, no script: use 'vtlb explore'");
			continue;
		}
		struct vt_run_result r;
		enum vt_status st = vt_run(m, &r, &d);
		if (st == VT_ERROR) {
			err++;
			report_diag(o, &d);
		} else if (o->json) {
			vt_run_report_json(stdout, m, &r, o->trace || st == VT_FAIL, &d);
		} else {
			char line[600];
			summary_line(m, &r, line, sizeof(line));
			if (st == VT_PASS && !o->quiet)
				printf("ok    %-48s %s\n", ps.v[i].path, line);
			if (st == VT_FAIL)
				printf("FAIL  %-48s %s\n", ps.v[i].path, line);
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
	int total = pass + fail + err + skip;
	if (o->json)
		printf("],\"summary\":{\"total\":%d,\"passed\":%d,\"failed\":%d,\"errors\":%d,\"skipped\":%d}}\n", total,
		       pass, fail, err, skip);
	else
		printf("%d scenario%s: %d passed, %d failed, %d error%s, %d skipped%s\n", total, plural((uint64_t)total),
		       pass, fail, err, plural((uint64_t)err), skip,
		       !skip          ? ""
		       : !skip_wl     ? " (programs only: 'vtlb explore' runs them)"
		       : skip_wl == skip ? " (workloads: 'vtlb cost' runs them)"
					 : " (programs: 'vtlb explore' runs them; workloads: 'vtlb cost')");
	paths_free(&ps);
	return err ? 2 : fail ? 1 : 0;
}

/* ---- explore --------------------------------------------------------------- */

static void bounds_text(const struct vt_bounds *b, char *buf, size_t len)
{
	snprintf(buf, len, "depth %u, %u preemption%s, %u migration%s", b->depth, b->preemptions,
		 plural(b->preemptions), b->migrations, plural(b->migrations));
}

/* How the search went through the states: in the summary, and in --json's "order". */
static const char *const order_names[][2] = {
	{"breadth-first", "bfs"}, {"depth-first", "dfs"}, {"random walks", "random"}};

static int search_order(const struct vt_explore_result *r)
{
	if (r->swarm)
		return 1; /* depth-first searches, randomly seeded */
	return r->walks ? 2 : r->dfs ? 1 : 0;
}

static void stats_text(const struct vt_explore_result *r, char *buf, size_t len)
{
	char por[96] = "";
	if (r->dfs)
		snprintf(por, sizeof(por), ", %llu pruned by POR, %llu commutation check%s", (unsigned long long)r->pruned,
			 (unsigned long long)r->checks, plural(r->checks));
	else if (r->pruned)
		snprintf(por, sizeof(por), ", %llu load%s onto interchangeable pCPUs skipped",
			 (unsigned long long)r->pruned, plural(r->pruned));
	snprintf(buf, len, "%llu state%s, %llu transition%s (%s%s%s), max depth %u, %.1f MiB (%.0f B/state), %.2f s",
		 (unsigned long long)r->states, plural(r->states), (unsigned long long)r->transitions,
		 plural(r->transitions), order_names[search_order(r)][0], por, r->symmetric ? ", pCPU symmetry" : "",
		 r->max_depth, (double)r->memory / 1048576.0, r->states ? (double)r->memory / (double)r->states : 0.0,
		 r->seconds);
	size_t n = strlen(buf);
	if (r->swarm)
		snprintf(buf + n, len - n, "; swarm of %llu searches (%llu found a violation), states counted over all",
			 (unsigned long long)r->swarm, (unsigned long long)r->swarm_found);
	n = strlen(buf);
	if (r->ranks > 1)
		snprintf(buf + n, len - n, "; %d ranks, at most %.1f MiB on one", r->ranks,
			 (double)r->rank_memory / 1048576.0);
}

/* A lossy search: what it is and the bound on an omission (never "exhaustive"). */
static void lossy_text(const struct vt_explore_result *r, char *buf, size_t len)
{
	if (r->store == VT_STORE_EXACT) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "; lossy: P(some state omitted by a %s collision) <= %.3g%s",
		 r->store == VT_STORE_HC ? "fingerprint" : "bitstate", r->omission,
		 r->store == VT_STORE_BITSTATE && r->cut
			 ? "; the depth bound was reached and bitstate keeps no depths, so a state first reached"
			   " deeper than its shortest path may have been cut short"
			 : "");
}

/*
 * What --emit did for one search.  After a search, FILE holds that search's
 * counterexample or, when it found none, no longer exists: an older
 * counterexample left in place would look current.
 */
struct emit_result {
	int written;        /* the counterexample is in the file */
	int removed;        /* no counterexample: an older regular file was removed */
	char err[320];      /* why writing (or removing) failed, or "" */
};

static void emit_json(const struct opts *o, const struct emit_result *e)
{
	if (!o->emit)
		return;
	printf(",\"emit\":{\"file\":");
	vt_json_str(stdout, o->emit);
	printf(",\"written\":%s,\"removed\":%s", e->written ? "true" : "false", e->removed ? "true" : "false");
	if (e->err[0]) {
		printf(",\"error\":");
		vt_json_str(stdout, e->err);
	}
	printf("}");
}

static void emit_text(const struct opts *o, const struct emit_result *e)
{
	if (!o->emit || o->json)
		return;
	if (e->err[0])
		printf("  --emit: %s\n", e->err);
	else if (e->written)
		printf("  wrote %s: replay with 'vtlb run %s'\n", o->emit, o->emit);
	else if (e->removed)
		printf("  --emit: no counterexample, nothing written; removed the older %s\n", o->emit);
	else
		printf("  --emit: no counterexample, nothing written to %s\n", o->emit);
}

static void emit_write(const struct opts *o, const struct vt_model *m, const struct vt_explore_result *r,
		       struct emit_result *e)
{
	/*
	 * O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of
	 * blocking in open(); writes then block as usual.
	 */
	int fd = open(o->emit, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_NOCTTY, 0666);
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		int err = errno;
		snprintf(e->err, sizeof(e->err), "cannot write %s: %s%s; nothing written", o->emit, strerror(err),
			 err == ENXIO ? " (a FIFO nobody reads)" : "");
		if (fd >= 0)
			close(fd);
		return;
	}
	errno = 0;
	int bad = vt_explore_emit(f, m, all_reverted(o), r) < 0 || fflush(f) != 0 || ferror(f);
	int err = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (!bad) {
		e->written = 1;
		return;
	}
	if (o->diag_to_stderr)
		fprintf(stderr, "vtlb: cannot write %s: %s\n", o->emit, err ? strerror(err) : "write error");
	/* a partial counterexample must not stay behind looking whole */
	struct stat st;
	if (stat(o->emit, &st) == 0 && S_ISREG(st.st_mode))
		remove(o->emit);
	snprintf(e->err, sizeof(e->err), "cannot write %s: %s; nothing written", o->emit,
		 err ? strerror(err) : "write error");
}

static void emit_none(const struct opts *o, struct emit_result *e)
{
	struct stat st;
	if (lstat(o->emit, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (remove(o->emit) == 0)
		e->removed = 1;
	else
		snprintf(e->err, sizeof(e->err), "no counterexample, nothing written; cannot remove the older %s: %s",
			 o->emit, strerror(errno));
}

static const char *expect_word(const struct vt_model *m)
{
	return m->expect.kind == VT_EXP_FOUND ? "found" : m->expect.kind == VT_EXP_CLEAN ? "clean" : "none";
}

/* ---- search coverage ---------------------------------------------------- */

static void cov_vcpu_name(const struct vt_model *m, int v, char *buf, size_t len)
{
	if (v == VT_MAX_VCPUS)
		snprintf(buf, len, "host");
	else
		vt_model_vcpu_name(m, v, buf, len);
}

/* The program operation (v, i) as written, without the 'VCPU:' prefix. */
static void cov_op_text(const struct vt_model *m, int v, int i, char *buf, size_t len)
{
	char t[256];
	vt_event_format(m, &m->prog[v][i], t, sizeof(t));
	const char *c = strstr(t, ": ");
	snprintf(buf, len, "%s", c ? c + 2 : t);
}

/* Could the search ever migrate v (a bound above 0 and two pCPUs its VM may use)? */
static int cov_may_migrate(const struct vt_model *m, const struct vt_explore_result *r, int v)
{
	uint64_t p = m->vm[m->vcpu_vm[v]].pcpus & (((uint64_t)1 << m->npcpus) - 1);
	return r->bounds.migrations > 0 && (p & (p - 1)) != 0;
}

/* Append to buf (len bytes, *n used so far), never past its end. */
static void cov_cat(char *buf, size_t len, size_t *n, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
static void cov_cat(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	if (*n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = *n + (size_t)k < len ? *n + (size_t)k : len - 1;
}

/* " 0,1,3" (the phases with a count), or " none". */
static void cov_phase_list(const uint64_t *ph, char *buf, size_t len, size_t *n)
{
	int any = 0;
	for (int i = 0; i < VT_EXPLORE_COV_PHASES; i++)
		if (ph[i]) {
			cov_cat(buf, len, n, "%s%d", any ? "," : " ", i);
			any = 1;
		}
	if (!any)
		cov_cat(buf, len, n, " none");
}

/*
 * One line: program operations reached out of all, host operations
 * completed, the scheduling decisions never taken that the bounds allowed
 * (load, enter, preempt, migrate per vCPU with a program) and, with
 * 'phases fine', the fine-grained phases each entry path and host
 * operation went through.
 */
static void coverage_text(const struct vt_model *m, const struct vt_explore_result *r, char *buf, size_t len)
{
	const struct vt_explore_coverage *c = &r->coverage;
	int total = 0, reached = 0, hosts = m->nprog[VT_MAX_VCPUS], hdone = 0;
	char never[512] = "", missed[1024] = "";
	size_t nn = 0, nm = 0, n = 0;
	for (int v = 0; v <= VT_MAX_VCPUS; v++) {
		if (v < m->nvcpus || v == VT_MAX_VCPUS)
			for (int i = 0; i < m->nprog[v]; i++) {
				total++;
				if (c->op[v][i]) {
					reached++;
				} else {
					char vn[32], op[256];
					cov_vcpu_name(m, v, vn, sizeof(vn));
					cov_op_text(m, v, i, op, sizeof(op));
					cov_cat(missed, sizeof(missed), &nm, "%s%s #%d '%s' (line %u)", nm ? ", " : "", vn, i + 1,
						op, m->prog[v][i].line);
				}
			}
		if (v == VT_MAX_VCPUS || v >= m->nvcpus || !m->nprog[v])
			continue;
		char vn[32];
		vt_model_vcpu_name(m, v, vn, sizeof(vn));
		const char *kinds[4];
		int nk = 0;
		if (!c->load[v] && !c->migrate[v])
			kinds[nk++] = "load";
		if (!c->enter[v])
			kinds[nk++] = "enter";
		if (!c->preempt[v] && r->bounds.preemptions > 0)
			kinds[nk++] = "preempt";
		if (!c->migrate[v] && cov_may_migrate(m, r, v))
			kinds[nk++] = "migrate";
		for (int k = 0; k < nk; k++)
			cov_cat(never, sizeof(never), &nn, "%s%s %s", nn ? ", " : "", vn, kinds[k]);
	}
	for (int i = 0; i < hosts; i++)
		hdone += c->host_done[i] != 0;
	cov_cat(buf, len, &n, "coverage: %d/%d program operations reached", reached, total);
	if (nm)
		cov_cat(buf, len, &n, " (never: %s)", missed);
	if (hosts)
		cov_cat(buf, len, &n, ", %d/%d host operations completed", hdone, hosts);
	if (nn)
		cov_cat(buf, len, &n, "; never taken: %s", never);
	else
		cov_cat(buf, len, &n, "; every load, enter, preempt and migrate the bounds allow was taken");
	if (!m->fine)
		return;
	cov_cat(buf, len, &n, "; phases taken:");
	for (int v = 0; v < m->nvcpus; v++) {
		if (!m->nprog[v])
			continue;
		char vn[32];
		vt_model_vcpu_name(m, v, vn, sizeof(vn));
		cov_cat(buf, len, &n, " %s enter", vn);
		cov_phase_list(c->enter_phase[v], buf, len, &n);
	}
	for (int i = 0; i < hosts; i++) {
		cov_cat(buf, len, &n, " host #%d", i + 1);
		cov_phase_list(c->host_phase[i], buf, len, &n);
	}
}

static void cov_phases_json(const uint64_t *ph)
{
	int last = -1;
	for (int i = 0; i < VT_EXPLORE_COV_PHASES; i++)
		if (ph[i])
			last = i;
	printf("[");
	for (int i = 0; i <= last; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)ph[i]);
	printf("]");
}

/* Every counter: per program operation how often it was taken, per vCPU each decision kind. */
static void coverage_json(const struct vt_model *m, const struct vt_explore_result *r)
{
	const struct vt_explore_coverage *c = &r->coverage;
	int total = 0, reached = 0;
	printf(",\"coverage\":{\"programs\":[");
	int first = 1;
	for (int v = 0; v <= VT_MAX_VCPUS; v++) {
		if ((v >= m->nvcpus && v != VT_MAX_VCPUS) || !m->nprog[v])
			continue;
		char vn[32];
		cov_vcpu_name(m, v, vn, sizeof(vn));
		printf("%s{\"vcpu\":", first ? "" : ",");
		vt_json_str(stdout, vn);
		printf(",\"ops\":[");
		for (int i = 0; i < m->nprog[v]; i++) {
			char op[256];
			cov_op_text(m, v, i, op, sizeof(op));
			total++;
			reached += c->op[v][i] != 0;
			printf("%s{\"index\":%d,\"line\":%u,\"op\":", i ? "," : "", i + 1, m->prog[v][i].line);
			vt_json_str(stdout, op);
			printf(",\"reached\":%s,\"taken\":%llu", c->op[v][i] ? "true" : "false",
			       (unsigned long long)c->op[v][i]);
			if (v == VT_MAX_VCPUS) {
				printf(",\"completed\":%llu,\"phases\":", (unsigned long long)c->host_done[i]);
				cov_phases_json(c->host_phase[i]);
			}
			printf("}");
		}
		printf("]}");
		first = 0;
	}
	printf("],\"decisions\":[");
	first = 1;
	for (int v = 0; v < m->nvcpus; v++) {
		if (!m->nprog[v])
			continue;
		char vn[32];
		vt_model_vcpu_name(m, v, vn, sizeof(vn));
		printf("%s{\"vcpu\":", first ? "" : ",");
		vt_json_str(stdout, vn);
		printf(",\"load\":%llu,\"migrate\":%llu,\"enter\":%llu,\"enter_phases\":", (unsigned long long)c->load[v],
		       (unsigned long long)c->migrate[v], (unsigned long long)c->enter[v]);
		cov_phases_json(c->enter_phase[v]);
		printf(",\"preempt\":%llu}", (unsigned long long)c->preempt[v]);
		first = 0;
	}
	printf("],\"reached\":%d,\"operations\":%d}", reached, total);
}

/* met: 1 the file's expectation held, 0 it did not, -1 no expectation (or no claim either way) */
static void explore_json(const struct opts *o, const struct vt_model *m, const struct vt_explore_result *r,
			 const struct vt_run_result *rr, const struct emit_result *e, const struct vt_diag *d, int met)
{
	static const char *const st[] = {"clean", "violation", "incomplete", "error"};
	printf("{\"file\":");
	vt_json_str(stdout, m->file);
	printf(",\"status\":\"%s\",\"exhaustive\":%s", st[r->status], r->status == VT_EXPLORE_CLEAN ? "true" : "false");
	printf(",\"expect\":\"%s\"", expect_word(m));
	if (met >= 0)
		printf(",\"as_expected\":%s", met ? "true" : "false");
	printf(",\"bounds\":{\"depth\":%u,\"preemptions\":%u,\"migrations\":%u}", r->bounds.depth,
	       r->bounds.preemptions, r->bounds.migrations);
	printf(",\"states\":%llu,\"transitions\":%llu,\"pruned\":%llu,\"checks\":%llu,\"symmetry\":%s,\"max_depth\":%u,"
	       "\"memory\":%llu,\"peak_memory\":%llu,\"stored_bytes\":%llu,\"seconds\":%.3f,\"order\":\"%s\","
	       "\"store\":\"%s\"",
	       (unsigned long long)r->states, (unsigned long long)r->transitions, (unsigned long long)r->pruned,
	       (unsigned long long)r->checks, r->symmetric ? "true" : "false", r->max_depth, (unsigned long long)r->memory,
	       (unsigned long long)r->peak_memory,
	       (unsigned long long)r->state_bytes, r->seconds, order_names[search_order(r)][1], vt_store_name(r->store));
	if (r->store != VT_STORE_EXACT)
		printf(",\"lossy\":true,\"omission_bound\":%.6g,\"depth_bound_reached\":%s", r->omission,
		       r->cut ? "true" : "false");
	if (r->walks)
		printf(",\"walks\":%llu", (unsigned long long)r->walks);
	if (r->ranks)
		printf(",\"ranks\":%d,\"rank_memory\":%llu", r->ranks, (unsigned long long)r->rank_memory);
	if (r->swarm)
		printf(",\"swarm\":%llu,\"swarm_found\":%llu", (unsigned long long)r->swarm,
		       (unsigned long long)r->swarm_found);
	vt_diag_warnings_json(stdout, d);
	if (r->status != VT_EXPLORE_ERROR)
		coverage_json(m, r);
	if (r->why) {
		printf(",\"why\":");
		vt_json_str(stdout, r->why);
	}
	if (rr) {
		char line[1024];
		vt_verdict_format(m, rr, line, sizeof(line));
		printf(",\"verdict\":");
		vt_json_str(stdout, line);
		printf(",\"counterexample_stable\":%s", r->path_unstable ? "false" : "true");
		if (r->path_unstable) {
			printf(",\"counterexample_note\":");
			vt_json_str(stdout, r->path_unstable);
		}
		printf(",\"steps\":%d,\"steps_found\":%d,\"counterexample\":[", r->npath, r->npath_found);
		for (int i = 0; i < r->npath; i++) {
			vt_event_format(m, &r->path[i], line, sizeof(line));
			printf("%s", i ? "," : "");
			vt_json_str(stdout, line);
		}
		printf("],\"trace\":");
		vt_trace_print_json(stdout, m, &rr->trace, 0, rr->trace.n);
	}
	emit_json(o, e);
	printf("}");
}

/* A counterexample that another run with the same options could report differently. */
static void unstable_note(const struct vt_explore_result *r)
{
	if (r->path_unstable)
		printf("  note: this counterexample can change from run to run (%s)\n",
		       r->path_unstable);
}

enum { X_CLEAN, X_VIOLATION, X_INCOMPLETE, X_ERROR, X_SKIPPED, X_NKINDS };
/* besides the kinds: files with an 'expect' line whose expectation held, or did not */
enum { X_MET = X_NKINDS, X_UNMET, X_NCOUNTS };

/* --dot: write the recorded graph, or say why nothing was written.  Returns 0 or 2. */
static int write_dot(const char *path, const struct vt_model *m, struct vt_explore_result *r)
{
	if (r->dot_full) {
		fprintf(stderr, "vtlb: --dot: %s has more than %d states; %s not written (use smaller bounds)\n", m->file,
			DOT_MAX_STATES, path);
		return 2;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vtlb: --dot: cannot write %s: %s\n", path, strerror(errno));
		return 2;
	}
	int bad = vt_explore_dot_write(f, r->dot, m, r) < 0;
	int err = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (bad) {
		fprintf(stderr, "vtlb: --dot: cannot write %s: %s\n", path, strerror(err));
		return 2;
	}
	return 0;
}


/* Explore one file; returns its exit status (0, 1, 2 or 3) and counts it in n[]. */
static int explore_one(const struct opts *o, const char *path, int n[X_NCOUNTS])
{
	struct vt_diag d;
	struct emit_result em = {0};
	struct vt_model *m = vt_scenario_load(path, all_reverted(o), &d);
	if (!m) {
		n[X_ERROR]++;
		report_diag(o, &d);
		if (o->emit) {
			emit_none(o, &em);
			emit_text(o, &em);
		}
		return 2;
	}
	print_warnings(o, &d);
	if (!m->has_programs || m->wl.line) {
		n[X_SKIPPED]++;
		report_skip(o, path, m->wl.line ? "a workload, nothing to explore: use 'vtlb cost'"
						: "no programs to explore (a script: use 'vtlb run')");
		if (o->emit) {
			emit_none(o, &em);
			emit_text(o, &em);
		}
		vt_model_free(m);
		return em.err[0] ? 2 : 0;
	}
	struct vt_explore_result r;
	enum vt_explore_status st = o->mpi || o->d.swarm ? vt_explore_dist(m, &o->x, &o->d, &r) : vt_explore(m, &o->x, &r);
	char bt[128], stt[512], cov[2048];
	bounds_text(&r.bounds, bt, sizeof(bt));
	stats_text(&r, stt, sizeof(stt));
	coverage_text(m, &r, cov, sizeof(cov));
	int rc = 0;
	struct vt_run_result *rr = NULL;
	if (st == VT_EXPLORE_VIOLATION) {
		rr = malloc(sizeof(*rr));
		if (!rr || vt_run_events(m, r.path, r.npath, rr, &d) != VT_FAIL || rr->verdict.kind == VT_V_OK) {
			/* the counterexample must replay to its violation; anything else is a bug here */
			if (rr)
				vt_run_result_fini(rr);
			free(rr);
			rr = NULL;
			st = r.status = VT_EXPLORE_ERROR;
			r.why = "the counterexample does not replay (internal error)";
		} else {
			rr->verdict_line = 0;
		}
	}
	if (o->emit && o->rank == 0) {
		if (st == VT_EXPLORE_VIOLATION)
			emit_write(o, m, &r, &em);
		else
			emit_none(o, &em);
	}
	/*
	 * 'expect found' is met by a violation, 'expect clean' by an exhaustive
	 * clean search; no expectation is read as 'clean' for the exit code
	 * (as before expectations existed) but printed as the bare result.
	 */
	int met = -1; /* -1: no expectation, or an incomplete search under 'expect clean' (no claim) */
	if (m->expect.kind == VT_EXP_FOUND)
		met = st == VT_EXPLORE_VIOLATION;
	else if (m->expect.kind == VT_EXP_CLEAN && (st == VT_EXPLORE_VIOLATION || st == VT_EXPLORE_CLEAN))
		met = st == VT_EXPLORE_CLEAN;
	if (st == VT_EXPLORE_ERROR)
		met = -1;
	if (met == 1)
		n[X_MET]++;
	else if (met == 0)
		n[X_UNMET]++;
	if (st == VT_EXPLORE_VIOLATION) {
		n[X_VIOLATION]++;
		rc = em.err[0] ? 2 : met == 1 ? 0 : 1;
		if (o->json) {
			explore_json(o, m, &r, rr, &em, &d, met);
		} else if (met == 1) {
			if (!o->quiet) {
				char line[1024];
				vt_verdict_format(m, rr, line, sizeof(line));
				printf("ok    %-48s found as expected (line %u): counterexample in %d step%s (found at %d)\n",
				       path, m->expect.line, r.npath, plural((uint64_t)r.npath), r.npath_found);
				if (o->trace)
					vt_run_report(stdout, m, rr, 1);
				else
					printf("  %s\n", line);
				printf("  searched: %s; %s\n", bt, stt);
				unstable_note(&r);
			}
		} else {
			if (met == 0)
				printf("FAIL  %-48s expected clean (line %u): counterexample in %d step%s (found at %d)\n", path,
				       m->expect.line, r.npath, plural((uint64_t)r.npath), r.npath_found);
			else
				printf("FOUND %-48s counterexample in %d step%s (found at %d)\n", path, r.npath,
				       plural((uint64_t)r.npath), r.npath_found);
			vt_run_report(stdout, m, rr, 1);
			printf("  searched: %s; %s\n", bt, stt);
			unstable_note(&r);
		}
		vt_run_result_fini(rr);
		free(rr);
	} else if (st == VT_EXPLORE_CLEAN) {
		n[X_CLEAN]++;
		rc = met == 0 ? 1 : 0;
		if (o->json)
			explore_json(o, m, &r, NULL, &em, &d, met);
		else if (met == 0)
			printf("FAIL  %-48s expected found (line %u), but clean: exhaustive within %s: %s\n", path,
			       m->expect.line, bt, stt);
		else if (met == 1 && !o->quiet)
			printf("ok    %-48s clean as expected, exhaustive within %s: %s\n", path, bt, stt);
		else if (!o->quiet)
			printf("clean %-48s exhaustive within %s: %s\n", path, bt, stt);
		if (!o->json && (met == 0 || !o->quiet))
			printf("  %s\n", cov);
	} else if (st == VT_EXPLORE_INCOMPLETE) {
		n[X_INCOMPLETE]++;
		rc = met == 0 ? 1 : o->strict ? 3 : 0;
		if (o->json)
			explore_json(o, m, &r, NULL, &em, &d, met);
		else if (met == 0)
			printf("FAIL  %-48s expected found (line %u), but none found and NOT exhaustive (%s); %s: %s\n", path,
			       m->expect.line, r.why, bt, stt);
		else
		{
			char lt[256];
			lossy_text(&r, lt, sizeof(lt));
			printf("INCOMPLETE %-43s no violation found, NOT exhaustive (%s%s); %s: %s\n", path, r.why, lt, bt,
			       stt);
		}
		if (!o->json)
			printf("  %s\n", cov);
	} else {
		n[X_ERROR]++;
		rc = 2;
		if (o->json)
			explore_json(o, m, &r, NULL, &em, &d, met);
		else
			report_error(o, path, 0, 0, r.why ? r.why : "search failed");
	}
	if (o->dot && st != VT_EXPLORE_ERROR && r.dot) {
		int w = write_dot(o->dot, m, &r);
		if (w > rc)
			rc = w;
	} else if (o->dot) {
		fprintf(stderr, "vtlb: --dot: %s not written (the search failed)\n", o->dot);
	}
	if (em.err[0] && st != VT_EXPLORE_VIOLATION)
		rc = 2;
	emit_text(o, &em);
	vt_explore_result_fini(&r);
	vt_model_free(m);
	return rc;
}

/*
 * Before a search that may take minutes: can --emit's FILE be written?  A
 * directory, a missing parent directory or the scenario itself is a usage
 * error now rather than a lost counterexample later.
 */
static int check_emit(const struct opts *o, const struct paths *ps)
{
	if (!o->emit)
		return 0;
	if (ps->n != 1)
		return usage_error("--emit needs exactly one scenario (%zu given)", ps->n);
	struct stat st, sc;
	if (stat(o->emit, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return usage_error("--emit %s: it is a directory; give a file name", o->emit);
		if (!ps->v[0].err && stat(ps->v[0].path, &sc) == 0 && sc.st_dev == st.st_dev && sc.st_ino == st.st_ino)
			return usage_error("--emit %s: it is the scenario being explored; give another file", o->emit);
		return 0;
	}
	if (errno != ENOENT)
		return usage_error("--emit %s: %s", o->emit, strerror(errno));
	/* the file may be created: does its directory exist? */
	char dir[4096];
	const char *slash = strrchr(o->emit, '/');
	if (!slash)
		return 0;
	size_t k = slash == o->emit ? 1 : (size_t)(slash - o->emit);
	if (k >= sizeof(dir))
		return usage_error("--emit %s: path too long", o->emit);
	memcpy(dir, o->emit, k);
	dir[k] = 0;
	if (stat(dir, &st) != 0)
		return usage_error("--emit %s: cannot write in %s: %s", o->emit, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return usage_error("--emit %s: %s is not a directory", o->emit, dir);
	return 0;
}

/* "; N as expected, M not" when some file had an expectation, else "" */
static const char *expect_summary(int met, int unmet)
{
	static char buf[64];
	if (!met && !unmet)
		return "";
	snprintf(buf, sizeof(buf), "; %d as expected, %d not", met, unmet);
	return buf;
}

static int cmd_explore(const struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	int worst = 0;
	if (argc == 0)
		return usage_error("%s", "explore: give at least one scenario file or directory");
	if (collect_all(&ps, argc, argv) < 0 || check_emit(o, &ps) || check_reverts(o, &ps, 1)) {
		paths_free(&ps);
		return 2;
	}
	const char *misuse = o->dot && ps.n != 1 ? "--dot needs exactly one scenario"
			     : o->dot && o->x.random_walks ? "--dot draws an exhaustive search, not --random walks"
			     : o->dot && (o->mpi || o->d.swarm)
				     ? "--dot draws the depth-first explorer's graph, not a swarm's or a distributed search's"
				     : NULL;
	if (misuse) {
		paths_free(&ps);
		return usage_error("%s", misuse);
	}
	int n[X_NCOUNTS] = {0};
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		int rc;
		if (o->json && i)
			printf(",");
		if (ps.v[i].err) {
			n[X_ERROR]++;
			report_error(o, ps.v[i].path, 0, 0, ps.v[i].err);
			rc = 2;
		} else {
			rc = explore_one(o, ps.v[i].path, n);
		}
		if (rc == 2 || (rc == 1 && worst != 2) || (rc == 3 && worst == 0))
			worst = rc;
	}
	int total = n[X_CLEAN] + n[X_VIOLATION] + n[X_INCOMPLETE] + n[X_ERROR] + n[X_SKIPPED];
	if (o->json)
		printf("],\"summary\":{\"total\":%d,\"clean\":%d,\"violations\":%d,\"incomplete\":%d,\"errors\":%d,"
		       "\"skipped\":%d,\"as_expected\":%d,\"not_as_expected\":%d}}\n",
		       total, n[X_CLEAN], n[X_VIOLATION], n[X_INCOMPLETE], n[X_ERROR], n[X_SKIPPED], n[X_MET], n[X_UNMET]);
	else
		printf("%d file%s: %d clean (exhaustive), %d with a violation, %d incomplete, %d error%s, %d skipped%s%s\n",
		       total, plural((uint64_t)total), n[X_CLEAN], n[X_VIOLATION], n[X_INCOMPLETE], n[X_ERROR],
		       plural((uint64_t)n[X_ERROR]), n[X_SKIPPED],
		       n[X_SKIPPED] ? " (scripts, no programs: 'vtlb run' runs them)" : "",
		       expect_summary(n[X_MET], n[X_UNMET]));
	paths_free(&ps);
	return worst;
}

/* ---- probe ------------------------------------------------------------------ */

static int cmd_probe(struct opts *o, int argc, char **argv)
{
	struct paths ps = {0};
	struct vt_probe_tally t = {0};
	if (argc == 0)
		return usage_error("%s", "probe: give at least one scenario file or directory");
	if (collect_all(&ps, argc, argv) < 0 || check_reverts(o, &ps, 0)) {
		paths_free(&ps);
		return 2;
	}
	o->p.json = o->json;
	o->p.trace = o->trace;
	o->p.quiet = o->quiet;
	o->p.reverted = all_reverted(o);
	if (o->json)
		printf("{\"version\":\"%s\",\"results\":[", VTLB_VERSION);
	for (size_t i = 0; i < ps.n; i++) {
		if (ps.v[i].err) {
			t.errors++;
			if (o->json && t.json_printed)
				printf(",");
			t.json_printed = 1;
			report_error(o, ps.v[i].path, 0, 0, ps.v[i].err);
			continue;
		}
		vt_probe_file(&o->p, ps.v[i].path, stdout, &t);
	}
	paths_free(&ps);
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
		char rel[192];
		vt_fix_releases(f, rel, sizeof(rel));
		int in_kernel = o->kernel ? vt_fix_in_kernel(f, vt_kernel_parse(o->kernel)) : -1;
		if (in_kernel == 0 && !o->json)
			snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "; absent in %s", o->kernel);
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
			const char *rels[3] = {f->since, f->hole, f->until};
			static const char *const keys[3] = {"since", "hole", "until"};
			for (int k = 0; k < 3; k++) {
				printf(",\"%s\":", keys[k]);
				if (rels[k])
					vt_json_str(stdout, rels[k]);
				else
					printf("null");
			}
			printf(",\"releases\":");
			vt_json_str(stdout, rel);
			printf(",\"verified\":%s", f->verified ? "true" : "false");
			if (in_kernel >= 0)
				printf(",\"in_kernel\":%s", in_kernel ? "true" : "false");
			printf("}");
		} else {
			printf("%-28s %-6s %-12s [%s] %s -- %s%s%s%s%s\n", f->name, vt_arch_name(f->arch),
			       vt_fix_kind_name(f->kind), rel, f->origin, f->rule, f->partners ? " [partners: " : "",
			       f->partners ? f->partners : "", f->partners ? "]" : "", f->modelled ? "" : " [named, not modelled]");
		}
		first = 0;
	}
	if (o->json)
		printf("]\n");
	return 0;
}

static int cmd_options(const struct opts *o)
{
	if (o->json)
		printf("[");
	for (int i = 0; vt_option_at(i); i++) {
		const struct vt_option_decl *d = vt_option_at(i);
		char arch[32] = "";
		for (int a = 0; a < VT_ARCH_COUNT; a++)
			if (d->archs & (1u << a))
				snprintf(arch + strlen(arch), sizeof(arch) - strlen(arch), "%s%s", arch[0] ? "," : "",
					 vt_arch_name((enum vt_arch)a));
		if (o->json) {
			printf("%s{\"name\":", i ? "," : "");
			vt_json_str(stdout, d->name);
			printf(",\"archs\":[");
			for (int a = 0, first = 1; a < VT_ARCH_COUNT; a++)
				if (d->archs & (1u << a)) {
					printf("%s\"%s\"", first ? "" : ",", vt_arch_name((enum vt_arch)a));
					first = 0;
				}
			if (d->boolean)
				printf("],\"type\":\"bool\",\"default\":%s", d->def ? "true" : "false");
			else
				printf("],\"type\":\"number\",\"default\":%u,\"min\":%u,\"max\":%u", d->def, d->min, d->max);
			printf(",\"help\":");
			vt_json_str(stdout, d->help);
			printf("}");
		} else if (d->boolean) {
			printf("%-12s %-6s on|off (default %s)  %s\n", d->name, arch, d->def ? "on" : "off", d->help);
		} else {
			printf("%-12s %-6s %u..%u (default %u)  %s\n", d->name, arch, d->min, d->max, d->def, d->help);
		}
	}
	if (o->json)
		printf("]\n");
	return 0;
}

/*
 * A command-line number: the scenario syntax (vt_parse_number_text: decimal or
 * 0x hexadecimal; 010 is ten), and for sizes one suffix K, M or G (KiB, MiB,
 * GiB).
 */
static int parse_number(const char *opt, const char *s, uint64_t *out, int size_suffix)
{
	size_t n = strlen(s);
	int sh = 0;
	if (size_suffix && n > 1) {
		char c = s[n - 1];
		sh = c == 'K' || c == 'k' ? 10 : c == 'M' || c == 'm' ? 20 : c == 'G' || c == 'g' ? 30 : 0;
		if (sh)
			n--;
	}
	uint64_t v;
	int rc = vt_parse_number_text(s, n, &v);
	if (rc == 0 && sh && v > (UINT64_MAX >> sh))
		rc = VT_NUM_OVERFLOW;
	if (rc == VT_NUM_OVERFLOW) {
		usage_error("%s %s: does not fit in 64 bits", opt, s);
		return -1;
	}
	if (rc < 0) {
		usage_error("%s needs a number (decimal, or hexadecimal after 0x%s), found '%s'", opt,
			    size_suffix ? "; suffix K, M or G" : "", s);
		return -1;
	}
	*out = v << sh;
	return 0;
}

/* ---- options and commands ------------------------------------------------ */

enum { CMD_RUN = 1, CMD_EXPLORE = 2, CMD_FIXES = 4, CMD_OPTIONS = 8, CMD_PROBE = 16 };

static const struct {
	const char *name;
	unsigned cmds;       /* the commands it does something for */
} option_scope[] = {
	{"--revert", CMD_RUN | CMD_EXPLORE | CMD_PROBE},
	{"--kernel", CMD_RUN | CMD_EXPLORE | CMD_PROBE | CMD_FIXES},
	{"--json", CMD_RUN | CMD_EXPLORE | CMD_FIXES | CMD_OPTIONS | CMD_PROBE},
	{"--trace", CMD_RUN | CMD_PROBE},
	{"-q", CMD_RUN | CMD_EXPLORE | CMD_PROBE},
	{"--quiet", CMD_RUN | CMD_EXPLORE | CMD_PROBE},
	{"--depth", CMD_EXPLORE},
	{"--preemptions", CMD_EXPLORE},
	{"--migrations", CMD_EXPLORE},
	{"--jobs", CMD_EXPLORE},
	{"--random", CMD_EXPLORE},
	{"--seed", CMD_EXPLORE},
	{"--max-memory", CMD_EXPLORE},
	{"--time-limit", CMD_EXPLORE},
	{"--no-por", CMD_EXPLORE},
	{"--bfs", CMD_EXPLORE},
	{"--dfs", CMD_EXPLORE},
	{"--lossy", CMD_EXPLORE},
	{"--no-symmetry", CMD_EXPLORE},
	{"--no-shrink", CMD_EXPLORE},
	{"--emit", CMD_EXPLORE},
	{"--dot", CMD_EXPLORE},
	{"--progress", CMD_EXPLORE},
	{"--strict", CMD_EXPLORE},
	{"--mpi", CMD_EXPLORE},
	{"--swarm", CMD_EXPLORE},
	{"--swarm-states", CMD_EXPLORE},
	{"--repeat", CMD_PROBE},
	{"--backend", CMD_PROBE},
	{"--timeout", CMD_PROBE},
};

#define NOPTIONS (sizeof(option_scope) / sizeof(option_scope[0]))

static const char *const cmd_names[] = {"run", "explore", "fixes", "options", "probe"};

static int option_index(const char *a)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(a, option_scope[i].name) == 0)
			return (int)i;
	return -1;
}

/* Is stderr the file stdout goes to (a terminal, or 2>&1)? */
static int same_output(void)
{
	struct stat a, b;
	return fstat(1, &a) == 0 && fstat(2, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

#ifdef VTLB_MPI
/* build/vtlb-mpi: tools/vtlb_mpi.c starts MPI and calls this with its transport. */
int vtlb_main(int argc, char **argv);
const struct vt_net *vtlb_mpi_net(void);

int vtlb_main(int argc, char **argv)
#else
int main(int argc, char **argv)
#endif
{
	struct opts o = {0};
	int has_seed = 0, has_order = 0;
	int seen[NOPTIONS] = {0};
	o.x.por = 1;
	o.x.symmetry = 1;
	o.x.shrink = 1;
	o.x.seed = 1;
	o.x.progress = isatty(2);
	o.x.progress_out = stderr;
	/* on a terminal one line is rewritten in place; to a file or pipe one line a second */
	o.x.progress_tty = isatty(2);
#ifdef TIOCGWINSZ
	struct winsize ws;
	if (o.x.progress_tty && ioctl(2, TIOCGWINSZ, &ws) == 0)
		o.x.progress_width = ws.ws_col;
#endif
	o.diag_to_stderr = !same_output();
	o.p.repeat = 1;
	o.p.timeout = 20;
	o.p.backends = (1u << VT_PROBE_BE_COUNT) - 1;
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0;
	const char *cmd = NULL;
	int rc = 2;
	if (!args)
		return 2;
	if (argc > 1 && strcmp(argv[1], "cost") == 0) {
		free(args);
		return vt_cli_cost(argc - 2, argv + 2);
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			fputs(usage_explore, stdout);
			fputs(usage_more, stdout);
			free(args);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("vtlb %s\n", VTLB_VERSION);
			free(args);
			return 0;
		}
		if (a[0] != '-' || !a[1]) {
			if (!cmd)
				cmd = a;
			else
				args[nargs++] = argv[i];
			continue;
		}
		int k = option_index(strncmp(a, "--revert=", 9) == 0   ? "--revert"
				     : strncmp(a, "--kernel=", 9) == 0 ? "--kernel"
									: a);
		if (k < 0) {
			usage_error("unknown option '%s'", a);
			goto out;
		}
		seen[k] = 1;
		if (strcmp(a, "--json") == 0) {
			o.json = 1;
		} else if (strcmp(a, "--trace") == 0) {
			o.trace = 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = 1;
		} else if (!strcmp(a, "--depth") || !strcmp(a, "--preemptions") || !strcmp(a, "--migrations") ||
			   !strcmp(a, "--jobs") || !strcmp(a, "--random") || !strcmp(a, "--seed") ||
			   !strcmp(a, "--max-memory") || !strcmp(a, "--time-limit") || !strcmp(a, "--swarm") ||
			   !strcmp(a, "--swarm-states")) {
			uint64_t v = 0;
			if (i + 1 >= argc) {
				usage_error("%s needs a number", a);
				goto out;
			}
			if (parse_number(a, argv[++i], &v, !strcmp(a, "--max-memory")) < 0)
				goto out;
			if (!strcmp(a, "--depth")) {
				if (v < 1 || v > VT_EXPLORE_MAX_DEPTH) {
					usage_error("--depth must be 1 to %d", VT_EXPLORE_MAX_DEPTH);
					goto out;
				}
				o.x.bounds.depth = (uint32_t)v;
				o.x.has_depth = 1;
			} else if (!strcmp(a, "--preemptions") || !strcmp(a, "--migrations")) {
				if (v > 255) {
					usage_error("%s goes up to 255", a);
					goto out;
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
					usage_error("%s", "--jobs must be 1 to 64");
					goto out;
				}
				o.x.jobs = (int)v;
			} else if (!strcmp(a, "--random")) {
				if (v < 1) {
					usage_error("%s", "--random needs at least one walk");
					goto out;
				}
				o.x.random_walks = v;
			} else if (!strcmp(a, "--seed")) {
				o.x.seed = v;
				has_seed = 1;
			} else if (!strcmp(a, "--swarm") || !strcmp(a, "--swarm-states")) {
				if (v < 1) {
					usage_error("%s needs at least 1", a);
					goto out;
				}
				if (a[7])
					o.d.swarm_states = v;
				else
					o.d.swarm = v;
			} else if (!strcmp(a, "--max-memory")) {
				if (v < 1) {
					usage_error("%s", "--max-memory must be positive");
					goto out;
				}
				o.x.max_memory = v;
			} else {
				if (v < 1) {
					usage_error("%s", "--time-limit must be at least 1 second");
					goto out;
				}
				o.x.time_limit = (double)v;
			}
		} else if (!strcmp(a, "--repeat") || !strcmp(a, "--timeout")) {
			uint64_t v = 0;
			if (i + 1 >= argc) {
				usage_error("%s needs a number", a);
				goto out;
			}
			if (parse_number(a, argv[++i], &v, 0) < 0)
				goto out;
			if (v < 1 || v > 10000) {
				usage_error("%s must be 1 to 10000", a);
				goto out;
			}
			if (a[2] == 'r')
				o.p.repeat = (int)v;
			else
				o.p.timeout = (int)v;
		} else if (strcmp(a, "--backend") == 0) {
			const char *b = i + 1 < argc ? argv[++i] : "";
			if (!strcmp(b, "kvm")) {
				o.p.backends = 1u << VT_PROBE_KVM;
			} else if (!strcmp(b, "tcg")) {
				o.p.backends = 1u << VT_PROBE_TCG;
			} else if (!strcmp(b, "all")) {
				o.p.backends = (1u << VT_PROBE_BE_COUNT) - 1;
			} else {
				usage_error("--backend takes kvm, tcg or all, not '%s'", b);
				goto out;
			}
		} else if (strcmp(a, "--no-por") == 0) {
			o.x.por = 0;
		} else if (strcmp(a, "--bfs") == 0) {
			o.x.dfs = 0;
			has_order = 1;
		} else if (strcmp(a, "--dfs") == 0) {
			o.x.dfs = 1;
			has_order = 1;
		} else if (strcmp(a, "--lossy") == 0) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "hc") && strcmp(argv[i + 1], "bitstate"))) {
				usage_error("%s", "--lossy needs 'hc' or 'bitstate'");
				goto out;
			}
			o.x.store = !strcmp(argv[++i], "hc") ? VT_STORE_HC : VT_STORE_BITSTATE;
		} else if (strcmp(a, "--no-symmetry") == 0) {
			o.x.symmetry = 0;
		} else if (strcmp(a, "--no-shrink") == 0) {
			o.x.shrink = 0;
		} else if (strcmp(a, "--progress") == 0) {
			o.x.progress = 1;
		} else if (strcmp(a, "--mpi") == 0) {
			o.mpi = 1;
		} else if (strcmp(a, "--strict") == 0) {
			o.strict = 1;
		} else if (strcmp(a, "--dot") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				usage_error("%s", "--dot needs a file name");
				goto out;
			}
			o.dot = argv[++i];
			o.x.dot_max = DOT_MAX_STATES;
		} else if (strcmp(a, "--emit") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				usage_error("%s", "--emit needs a file name");
				goto out;
			}
			o.emit = argv[++i];
		} else if (strcmp(a, "--revert") == 0 || strncmp(a, "--revert=", 9) == 0) {
			const char *name = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!name) {
				usage_error("%s", "--revert needs a fix name");
				goto out;
			}
			int f = vt_fix_lookup(name);
			if (f < 0) {
				usage_error("unknown fix '%s' (see 'vtlb fixes')", name);
				goto out;
			}
			if (!vt_fix_info((unsigned)f)->modelled) {
				free(args);
				return usage_error("fix '%s' is named in the catalogue but not modelled: reverting it "
						   "would change nothing", name);
			}
			vt_fixset_add(&o.reverted, (unsigned)f);
		} else if (strcmp(a, "--kernel") == 0 || strncmp(a, "--kernel=", 9) == 0) {
			const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				usage_error("%s", "--kernel needs a release, e.g. v5.15");
				goto out;
			}
			if (o.kernel) {
				usage_error("%s", "--kernel given twice");
				goto out;
			}
			uint32_t kv = vt_kernel_parse(v);
			if (!kv) {
				usage_error("--kernel: '%s' is not a mainline release (vX.Y from v3.0, v2.6.Z before)", v);
				goto out;
			}
			o.kernel = v;
			o.kernel_reverted = vt_kernel_reverted(kv);
		} else {
			usage_error("option '%s' is not handled (internal error)", a);
			goto out;
		}
	}
	if (!cmd) {
		fputs(usage, stderr);
		fputs(usage_explore, stderr);
		fputs(usage_more, stderr);
		goto out;
	}
	unsigned c = 0;
	for (unsigned i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (strcmp(cmd, cmd_names[i]) == 0)
			c = 1u << i;
	if (!c) {
		usage_error("unknown command '%s'", cmd);
		goto out;
	}
	/* an option that would do nothing for this command is an error, not a no-op */
	for (size_t k = 0; k < NOPTIONS; k++) {
		if (!seen[k] || (option_scope[k].cmds & c))
			continue;
		char where[64] = "";
		for (unsigned i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
			if (option_scope[k].cmds & (1u << i))
				snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s'%s'",
					 where[0] ? " and " : "", cmd_names[i]);
		usage_error("%s does nothing for '%s': it applies to %s", option_scope[k].name, cmd, where);
		goto out;
	}
#ifdef VTLB_MPI
	o.mpi = c == CMD_EXPLORE; /* vtlb-mpi explores over its ranks: --mpi is implied */
#endif
	if (has_seed && !o.x.random_walks && !o.d.swarm) {
		usage_error("%s", "--seed only applies with --random or --swarm");
		goto out;
	}
	if (o.d.swarm_states && !o.d.swarm) {
		usage_error("%s", "--swarm-states only applies with --swarm");
		goto out;
	}
	if (o.d.swarm && o.x.random_walks) {
		usage_error("%s", "--swarm and --random are two different samplers: give one");
		goto out;
	}
	if ((o.mpi || o.d.swarm) && o.x.jobs > 1) {
		usage_error("%s", "--jobs does not combine with --mpi or --swarm (run one rank per core)");
		goto out;
	}
	if (o.mpi && o.x.random_walks) {
		usage_error("%s", "--random does not combine with --mpi (use --swarm)");
		goto out;
	}
#ifdef VTLB_MPI
	o.d.net = vtlb_mpi_net();
	o.rank = o.d.net->rank;
	if (o.rank != 0)
		o.x.progress = 0;
#else
	if (o.mpi) {
		usage_error("%s", "--mpi needs build/vtlb-mpi (built where mpicc is installed), run under mpirun");
		goto out;
	}
#endif
	if (o.x.store != VT_STORE_EXACT && has_order && !o.x.dfs) {
		usage_error("%s", "--lossy searches depth-first: it cannot be combined with --bfs");
		goto out;
	}
	if (!o.x.por && (o.d.swarm || (!o.x.symmetry && !o.x.dfs && o.x.store == VT_STORE_EXACT && !o.x.random_walks))) {
		usage_error("%s", o.d.swarm ? "--no-por does nothing with --swarm (its searches skip no step)"
					    : "--no-por does nothing breadth-first with --no-symmetry (it skips only loads onto "
					      "interchangeable pCPUs): add --dfs");
		goto out;
	}
	if ((o.mpi || o.d.swarm) && (o.x.dfs || o.x.store != VT_STORE_EXACT)) {
		usage_error("%s", o.x.dfs && o.x.store == VT_STORE_EXACT
					  ? "--dfs does not combine with --mpi or --swarm (they choose their own order)"
					  : "--lossy does not combine with --mpi or --swarm (they store states exactly)");
		goto out;
	}
	if (c == CMD_RUN)
		rc = cmd_run(&o, nargs, args);
	else if (c == CMD_EXPLORE)
		rc = cmd_explore(&o, nargs, args);
	else if (c == CMD_PROBE)
		rc = cmd_probe(&o, nargs, args);
	else if (c == CMD_FIXES)
		rc = nargs ? usage_error("%s", "fixes takes no arguments") : cmd_fixes(&o);
	else
		rc = nargs ? usage_error("%s", "options takes no arguments") : cmd_options(&o);
out:
	free(args);
	return rc;
}
