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

#include "vtlb/fixes.h"
#include "vtlb/model.h"
#include "vtlb/ops.h"
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
	"  fixes                list the named fixes: NAME ARCH KIND ORIGIN -- RULE\n"
	"  options              list the scenario options per architecture\n"
	"\n"
	"options:\n"
	"  --revert NAME        restore the logic from before fix NAME (repeatable)\n"
	"  --json               machine-readable output\n"
	"  --trace              print the full trace of every scenario, not only of failures\n"
	"  -q, --quiet          print only failures and the summary\n"
	"  -h, --help           this text\n"
	"  --version            print the version\n"
	"\n"
	"exit status: 0 every expectation held; 1 an expectation failed or a stale\n"
	"access was found; 2 bad input or usage.\n"
	"See docs/scenarios.md for the scenario language and docs/fixes.md for the fixes.\n";

struct opts {
	uint64_t reverted;
	int json;
	int trace;
	int quiet;
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
	if (r->verdict.kind == VT_V_OK) {
		snprintf(buf, len, "clean as expected (%u steps)", r->steps);
		return;
	}
	vt_model_vcpu_name(m, r->verdict.vcpu, vn, sizeof(vn));
	snprintf(buf, len, "%s as expected: %s at step %u", r->verdict.kind == VT_V_STALE ? "stale" : "breach", vn,
		 r->verdict.step);
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
			if (o->json)
				printf("{\"file\":\"%s\",\"status\":\"skipped\"}", ps.v[i]);
			else if (!o->quiet)
				printf("skip  %-48s program only: use 'vtlb explore'\n", ps.v[i]);
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
			vt_run_report_json(stdout, m, &r, o->trace || st == VT_FAIL);
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

int main(int argc, char **argv)
{
	struct opts o = {0};
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
			o.reverted |= (uint64_t)1 << f;
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
	if (!cmd) {
		fputs(usage, stderr);
		rc = 2;
	} else if (strcmp(cmd, "run") == 0) {
		rc = cmd_run(&o, nargs, args);
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
