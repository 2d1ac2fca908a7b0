/*
 * vtlb cost: the command line of performance mode.  Parses its options,
 * runs every scenario under each configuration (src/cost.c), and prints the
 * side-by-side table, JSON, CSV, and the SVG charts (tools/svg.c).  No
 * logic beyond arranging and printing the library's counters.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cost_cmd.h"
#include "vtlb/cost.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/scenario.h"
#include "vtlb/vtlb.h"

#define MAX_CONFIGS 8
#define MAX_SETS 16
#define MAX_SWEEP 64

struct config {
	char label[64];
	struct vt_fixset reverted;
};

struct copts {
	struct config cfg[MAX_CONFIGS];
	int ncfg;
	struct vt_fixset revert_set; /* --revert: the second column */
	const char *costs;
	struct vt_cost_opts run;
	const char *set[MAX_SETS];
	int nset;
	char sweep_name[VT_NAME];
	int64_t sweep_lo, sweep_hi;
	int sweep;
	const char *metric;
	int json, csv;
	const char *plot;
};

static const char cost_usage[] =
	"usage: vtlb cost [options] FILE|DIR...\n"
	"\n"
	"Runs each scenario (its workload, or its script) under every configuration and\n"
	"prints the costs side by side: invalidations by instruction, VM exits, kicks,\n"
	"requests, over-flush (entries flushed that the architecture still permitted),\n"
	"finite-TLB misses and estimated cycles.  The first column has every fix.\n"
	"\n"
	"  --revert NAME          add a column with NAME reverted (repeatable: one column, all of them)\n"
	"  --config [LABEL:]revert=A,B   add a column with fixes A and B reverted (repeatable)\n"
	"  --config [LABEL:]kernel=VERSION  add a column with exactly the fixes release VERSION had\n"
	"  --kernel VERSION       the same as --config kernel=VERSION\n"
	"  --costs FILE           cost table (default data/costs/default.costs)\n"
	"  --tlb N                finite TLB entries per domain (default: the scenario's, else 64)\n"
	"  --tlb-ways W           associativity (default: fully associative)\n"
	"  --tlb-policy lru|random  replacement (random is seeded by the workload seed)\n"
	"  --steps N              workload length override\n"
	"  --seed S               workload seed override\n"
	"  --set NAME=VALUE       scenario parameter ${NAME} (repeatable)\n"
	"  --sweep NAME=A..B      run once per value of ${NAME}; a line chart with --plot\n"
	"  --metric M             what --sweep reports: overflush, overflush-gpa, cycles,\n"
	"                         misses, exits, invalidations, kicks (default overflush)\n"
	"  --json | --csv         machine-readable output\n"
	"  --plot FILE.svg        bar charts per scenario and configuration (line chart with --sweep)\n"
	"\n"
	"exit status: 0 done; 1 some configuration let a vCPU use a stale translation or\n"
	"reach a freed page (the table says where); 2 bad input or usage.\n";

static int cerr(const char *fmt, const char *arg)
{
	fprintf(stderr, "vtlb cost: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'vtlb cost --help')\n");
	return 2;
}

static void diag_print(const struct vt_diag *d)
{
	if (d->line)
		fprintf(stderr, "%s:%u:%u: error: %s\n", d->file, d->line, d->col ? d->col : 1, d->msg);
	else
		fprintf(stderr, "%s: error: %s\n", d->file, d->msg);
}

/* ---- files ------------------------------------------------------------------ */

struct flist {
	char **v;
	size_t n, cap;
};

static int flist_add(struct flist *l, const char *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n] = strdup(p);
	return l->v[l->n] ? (int)l->n++ * 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories being walked, innermost first: a cycle through symbolic links is not followed. */
struct frame {
	dev_t dev;
	ino_t ino;
	const struct frame *up;
};

/*
 * Add path, or every *.vtlb below a directory (sorted, hidden entries
 * skipped), the way 'vtlb run' collects: only regular files are scenarios.
 * Returns 0, or -1 after printing an error for an entry that cannot be used
 * (the walk goes on).
 */
static int gather(struct flist *l, const char *path, int top, const struct frame *up)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		size_t n = strlen(path);
		if (!top && !(n > 5 && strcmp(path + n - 5, ".vtlb") == 0))
			return 0;
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "%s: error: not a regular file: only regular files are scenarios\n", path);
			return -1;
		}
		return flist_add(l, path);
	}
	for (const struct frame *f = up; f; f = f->up)
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			fprintf(stderr, "%s: error: directory cycle: not followed\n", path);
			return -1;
		}
	struct frame me = {st.st_dev, st.st_ino, up};
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	struct flist sub = {0};
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
		if (flist_add(&sub, buf) < 0)
			rc = -1;
	}
	closedir(d);
	if (sub.n)
		qsort(sub.v, sub.n, sizeof(*sub.v), cmp_str);
	for (size_t i = 0; i < sub.n; i++) {
		if (gather(l, sub.v[i], 0, &me) < 0)
			rc = -1;
		free(sub.v[i]);
	}
	free(sub.v);
	return rc;
}

/* ---- configurations ------------------------------------------------------- */

static void reverted_label(struct vt_fixset rev, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	if (vt_fixset_is_empty(rev)) {
		snprintf(buf, len, "all fixes");
		return;
	}
	o += (size_t)snprintf(buf + o, len - o, "revert ");
	for (unsigned i = 0; i < VT_FIX_COUNT && o < len; i++)
		if (vt_fixset_has(rev, i) && vt_fix_info(i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o > 7 ? "+" : "", vt_fix_info(i)->name);
}

/* "[LABEL:]revert=A,B" or "[LABEL:]kernel=VERSION" */
static int parse_config(const char *s, struct config *c)
{
	memset(c, 0, sizeof(*c));
	const char *colon = strchr(s, ':');
	const char *body = s;
	if (colon) {
		size_t n = (size_t)(colon - s);
		if (n == 0 || n >= sizeof(c->label))
			return cerr("--config: a label has 1 to 63 characters: '%s'", s);
		memcpy(c->label, s, n);
		body = colon + 1;
	}
	if (strncmp(body, "kernel=", 7) == 0) {
		/* the fixes a mainline release lacked (vt_kernel_reverted), and nothing else */
		uint32_t k = vt_kernel_parse(body + 7);
		if (!k)
			return cerr("--config: '%s' is not a kernel release (vX.Y)", body + 7);
		c->reverted = vt_kernel_reverted(k);
		if (!c->label[0])
			snprintf(c->label, sizeof(c->label), "kernel %.50s", body + 7);
		return 0;
	}
	if (strncmp(body, "revert=", 7) != 0)
		return cerr("--config: expected '[LABEL:]revert=A,B' or '[LABEL:]kernel=VERSION', got '%s'", s);
	char names[512];
	snprintf(names, sizeof(names), "%s", body + 7);
	for (char *tok = strtok(names, ","); tok; tok = strtok(NULL, ",")) {
		int f = vt_fix_lookup(tok);
		if (f < 0)
			return cerr("--config: unknown fix '%s' (see 'vtlb fixes')", tok);
		vt_fixset_add(&c->reverted, (unsigned)f);
	}
	if (!c->label[0])
		reverted_label(c->reverted, c->label, sizeof(c->label));
	return 0;
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* ---- the metrics a sweep or a bar chart shows ---------------------------- */

static uint64_t total_insns(const struct vt_cost_counters *c)
{
	uint64_t n = 0;
	for (int i = 0; i < VT_TRACE_MAX_INSNS; i++)
		n += c->insn[i];
	return n;
}

static int metric_known(const char *m)
{
	static const char *const names[] = {"overflush", "overflush-gpa", "cycles", "misses", "exits", "invalidations", "kicks"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(m, names[i]) == 0)
			return 1;
	return 0;
}

static double metric(const char *name, const struct vt_cost_counters *c, double cycles)
{
	if (!strcmp(name, "overflush"))
		return (double)(c->overflush_u + c->overflush_s);
	if (!strcmp(name, "overflush-gpa"))
		return (double)c->overflush_s;
	if (!strcmp(name, "cycles"))
		return cycles;
	if (!strcmp(name, "misses"))
		return (double)c->misses;
	if (!strcmp(name, "exits"))
		return (double)c->exits;
	if (!strcmp(name, "kicks"))
		return (double)c->kicks;
	return (double)total_insns(c);
}

/* ---- one scenario ------------------------------------------------------------ */

struct result {
	struct vt_cost_counters c;
	double cycles;
	int missing, assumed;
};

static int colw = 20;

static void print_row(const char *name, const struct result *r, int n, uint64_t (*get)(const struct vt_cost_counters *),
		      int always)
{
	int any = always;
	for (int i = 0; i < n; i++)
		any |= get(&r[i].c) != 0;
	if (!any)
		return;
	printf("  %-50s", name);
	for (int i = 0; i < n; i++)
		printf(" %*" PRIu64, colw, get(&r[i].c));
	printf("\n");
}

#define GETTER(f) \
	static uint64_t get_##f(const struct vt_cost_counters *c) { return c->f; }
GETTER(steps)
GETTER(events)
GETTER(exits)
GETTER(exits_intercept)
GETTER(exits_preempt)
GETTER(kicks)
GETTER(roots)
GETTER(removed_u)
GETTER(removed_s)
GETTER(overflush_u)
GETTER(overflush_s)
GETTER(accesses)
GETTER(hits)
GETTER(misses)
GETTER(faults)
GETTER(evictions)
GETTER(finite_stale)
GETTER(finite_unseen)
GETTER(stale_steps)
GETTER(breach_steps)

static void print_table(const struct vt_model *m, const struct copts *o, const struct result *r,
			const struct vt_cost_table *t)
{
	int n = o->ncfg;
	colw = 14;
	for (int i = 0; i < n; i++)
		if ((int)strlen(o->cfg[i].label) > colw)
			colw = (int)strlen(o->cfg[i].label);
	printf("%s  (%s", m->file, vt_backend_name(m->backend));
	if (m->wl.line)
		printf("; workload %" PRIu32 " steps, seed %" PRIu64, o->run.steps ? o->run.steps : m->wl.steps,
		       o->run.seed_set ? o->run.seed : m->wl.seed);
	else
		printf("; script");
	uint32_t ent = o->run.tlb.entries ? o->run.tlb.entries : m->tlb.entries ? m->tlb.entries : VT_FTLB_DEFAULT_ENTRIES;
	uint32_t ways = o->run.tlb.entries ? o->run.tlb.ways : m->tlb.ways;
	uint32_t pol = o->run.tlb_policy_set ? o->run.tlb.policy : m->tlb.policy;
	printf("; finite TLB %u entries per domain, ", ent);
	if (ways && ways != ent)
		printf("%u-way", ways);
	else
		printf("fully associative");
	printf(", %s)\n", pol == VT_TLB_RANDOM ? "random" : "LRU");
	if (m->title[0])
		printf("  %s\n", m->title);
	printf("  %-50s", "");
	for (int i = 0; i < n; i++)
		printf(" %*s", colw, o->cfg[i].label);
	printf("\n");
	print_row("workload events", r, n, get_events, 1);
	print_row("steps (events and re-entries)", r, n, get_steps, 1);
	printf("  invalidations executed (by instruction; the name is the scope)\n");
	for (unsigned k = 0; k < m->hw->ninsns && k < VT_TRACE_MAX_INSNS; k++) {
		int any = 0;
		for (int i = 0; i < n; i++)
			any |= r[i].c.insn[k] != 0;
		if (!any || !m->hw->insn_names[k])
			continue;
		char nm[64];
		char op[48];
		m->hw->fmt_operand(k, 0, op, sizeof(op));
		snprintf(nm, sizeof(nm), "  %s", m->hw->insn_names[k]);
		printf("  %-50s", nm);
		for (int i = 0; i < n; i++)
			printf(" %*" PRIu64, colw, r[i].c.insn[k]);
		printf("\n");
	}
	print_row("VM exits", r, n, get_exits, 1);
	print_row("  intercepted guest operations", r, n, get_exits_intercept, 0);
	print_row("  preemptions", r, n, get_exits_preempt, 0);
	print_row("  kicks (IPI to a vCPU in guest mode)", r, n, get_kicks, 1);
	print_row("new roots built (kvm_mmu_load)", r, n, get_roots, 0);
	for (unsigned q = 0; q < m->hv->nreqs && q < VT_COST_MAX_REQS; q++) {
		int any = 0;
		for (int i = 0; i < n; i++)
			any |= r[i].c.req_made[q] || r[i].c.req_serviced[q];
		if (!any)
			continue;
		char nm[80];
		snprintf(nm, sizeof(nm), "made/serviced %s", m->hv->req_names[q]);
		printf("  %-50.50s", nm);
		for (int i = 0; i < n; i++) {
			char cell[48];
			snprintf(cell, sizeof(cell), "%" PRIu64 " / %" PRIu64, r[i].c.req_made[q], r[i].c.req_serviced[q]);
			printf(" %*s", colw, cell);
		}
		printf("\n");
	}
	print_row("entries removed by invalidations", r, n, get_removed_u, 1);
	print_row("  over-flush: still permitted to the guest", r, n, get_overflush_u, 1);
	print_row("guest-physical entries removed", r, n, get_removed_s, 0);
	print_row("  over-flush: still mapped by the host", r, n, get_overflush_s, 0);
	for (int vm = 0; m->nvms > 1 && vm < m->nvms; vm++) {
		char nm[64];
		snprintf(nm, sizeof(nm), "over-flush (both kinds) lost by VM %s", m->vm[vm].name);
		printf("  %-50s", nm);
		for (int i = 0; i < n; i++)
			printf(" %*" PRIu64, colw, r[i].c.overflush_vm[vm]);
		printf("\n");
	}
	print_row("guest accesses (translation on)", r, n, get_accesses, 1);
	print_row("  finite-TLB hits", r, n, get_hits, 0);
	print_row("  finite-TLB misses (walks)", r, n, get_misses, 1);
	print_row("  of which faults (nothing mapped)", r, n, get_faults, 0);
	print_row("  capacity evictions", r, n, get_evictions, 0);
	print_row("  hits the architecture does not permit", r, n, get_finite_stale, 0);
	print_row("  of which the maximal model missed (a bug)", r, n, get_finite_unseen, 0);
	printf("  %-50s", "estimated cycles");
	for (int i = 0; i < n; i++) {
		char cell[48];
		snprintf(cell, sizeof(cell), "%.0f%s", r[i].cycles, r[i].assumed || r[i].missing ? " *" : "");
		printf(" %*s", colw, cell);
	}
	printf("\n");
	print_row("steps with a stale translation (maximal)", r, n, get_stale_steps, 1);
	print_row("steps with a breach (maximal)", r, n, get_breach_steps, 0);
	/* what the cycle estimate rests on */
	int missing = 0, assumed = 0;
	for (int i = 0; i < n; i++) {
		missing |= r[i].missing;
		assumed |= r[i].assumed;
	}
	if (missing || assumed) {
		printf("  * the estimate uses figures marked as assumptions%s in %s:\n",
		       missing ? " or counts with no figure (counted as 0)" : "", t->file);
		char name[64];
		for (unsigned k = 0; k < m->hw->ninsns && k < VT_TRACE_MAX_INSNS; k++) {
			int any = 0;
			for (int i = 0; i < n; i++)
				any |= r[i].c.insn[k] != 0;
			if (!any || !m->hw->insn_names[k])
				continue;
			snprintf(name, sizeof(name), "insn.%s", m->hw->insn_names[k]);
			const struct vt_cost_entry *e = vt_cost_find(t, name);
			if (!e)
				printf("      %-28s no figure: measure it and add it with --costs\n", name);
			else if (e->assumed)
				printf("      %-28s %8.0f  %s\n", name, e->cycles, e->source);
		}
		const char *base[] = {"exit", "ipi", vt_cost_walk_name(m), "root"};
		for (int b = 0; b < 4; b++) {
			uint64_t used = 0;
			for (int i = 0; i < n; i++)
				used += b == 0 ? r[i].c.exits : b == 1 ? r[i].c.kicks : b == 2 ? r[i].c.misses : r[i].c.roots;
			if (!used)
				continue;
			const struct vt_cost_entry *e = vt_cost_find(t, base[b]);
			if (!e)
				printf("      %-28s no figure: measure it and add it with --costs\n", base[b]);
			else if (e->assumed)
				printf("      %-28s %8.0f  %s\n", base[b], e->cycles, e->source);
		}
	}
	for (int i = 0; i < n; i++)
		if (r[i].c.first_violation)
			printf("  note: '%s' let a vCPU use a stale translation or reach a freed page first at step %" PRIu32
			       " (vtlb run/explore shows how)\n",
			       o->cfg[i].label, r[i].c.first_violation);
}

static void json_counters(const struct vt_model *m, const struct result *r)
{
	const struct vt_cost_counters *c = &r->c;
	printf("{\"events\":%" PRIu64 ",\"steps\":%" PRIu64 ",\"invalidations\":{", c->events, c->steps);
	int first = 1;
	for (unsigned k = 0; k < m->hw->ninsns && k < VT_TRACE_MAX_INSNS; k++)
		if (c->insn[k] && m->hw->insn_names[k]) {
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", m->hw->insn_names[k], c->insn[k]);
			first = 0;
		}
	printf("},\"overflush_by_insn\":{");
	first = 1;
	for (unsigned k = 0; k < m->hw->ninsns && k < VT_TRACE_MAX_INSNS; k++)
		if (c->overflush_insn[k] && m->hw->insn_names[k]) {
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", m->hw->insn_names[k], c->overflush_insn[k]);
			first = 0;
		}
	printf("},\"overflush_by_vm\":{");
	for (int vm = 0; vm < m->nvms; vm++)
		printf("%s\"%s\":%" PRIu64, vm ? "," : "", m->vm[vm].name, c->overflush_vm[vm]);
	printf("},\"requests_made\":{");
	first = 1;
	for (unsigned q = 0; q < m->hv->nreqs && q < VT_COST_MAX_REQS; q++)
		if (c->req_made[q]) {
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", m->hv->req_names[q], c->req_made[q]);
			first = 0;
		}
	printf("},\"requests_serviced\":{");
	first = 1;
	for (unsigned q = 0; q < m->hv->nreqs && q < VT_COST_MAX_REQS; q++)
		if (c->req_serviced[q]) {
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", m->hv->req_names[q], c->req_serviced[q]);
			first = 0;
		}
	printf("},\"exits\":%" PRIu64 ",\"exits_intercepted\":%" PRIu64 ",\"exits_preempted\":%" PRIu64
	       ",\"kicks\":%" PRIu64 ",\"roots\":%" PRIu64 ",\"removed\":%" PRIu64 ",\"overflush\":%" PRIu64 ",\"removed_gpa\":%" PRIu64
	       ",\"overflush_gpa\":%" PRIu64 ",\"accesses\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
	       ",\"faults\":%" PRIu64 ",\"evictions\":%" PRIu64 ",\"finite_stale\":%" PRIu64 ",\"finite_unseen\":%" PRIu64
	       ",\"stale_steps\":%" PRIu64 ",\"breach_steps\":%" PRIu64 ",\"cycles\":%.0f,\"cycles_figures_assumed\":%d"
	       ",\"cycles_figures_missing\":%d}",
	       c->exits, c->exits_intercept, c->exits_preempt, c->kicks, c->roots, c->removed_u, c->overflush_u, c->removed_s,
	       c->overflush_s, c->accesses, c->hits, c->misses, c->faults, c->evictions, c->finite_stale, c->finite_unseen,
	       c->stale_steps, c->breach_steps, r->cycles, r->assumed, r->missing);
}

static void csv_rows(const struct vt_model *m, const char *label, const char *param, const struct result *r)
{
	const struct vt_cost_counters *c = &r->c;
#define ROW(name, val) printf("%s,%s,%s,%s,%" PRIu64 "\n", m->file, label, param, name, (uint64_t)(val))
	ROW("events", c->events);
	ROW("steps", c->steps);
	for (unsigned k = 0; k < m->hw->ninsns && k < VT_TRACE_MAX_INSNS; k++)
		if (m->hw->insn_names[k] && c->insn[k]) {
			char nm[64];
			snprintf(nm, sizeof(nm), "insn.%s", m->hw->insn_names[k]);
			ROW(nm, c->insn[k]);
		}
	ROW("exits", c->exits);
	ROW("kicks", c->kicks);
	ROW("roots", c->roots);
	ROW("removed", c->removed_u);
	ROW("overflush", c->overflush_u);
	ROW("removed_gpa", c->removed_s);
	ROW("overflush_gpa", c->overflush_s);
	ROW("accesses", c->accesses);
	ROW("misses", c->misses);
	ROW("faults", c->faults);
	ROW("finite_stale", c->finite_stale);
	ROW("stale_steps", c->stale_steps);
	ROW("breach_steps", c->breach_steps);
	ROW("cycles", r->cycles + 0.5);
#undef ROW
}

/* Run one file under every configuration.  Returns 0, 1 (a violation), 2 (error), 3 (nothing to run). */
static int run_file(const struct copts *o, const char *path, const char *const *set, int nset,
		    const struct vt_cost_table *t, struct result *r, struct vt_model **mout)
{
	int viol = 0;
	*mout = NULL;
	for (int i = 0; i < o->ncfg; i++) {
		struct vt_diag d;
		struct vt_model *m = vt_scenario_load_params(path, o->cfg[i].reverted, set, nset, &d);
		if (!m) {
			diag_print(&d);
			return 2;
		}
		/* warnings once per file (every configuration parses the same text) */
		for (uint32_t w = 0; i == 0 && w < d.nwarn; w++)
			fprintf(stderr, "%s:%u:%u: warning: %s\n", d.file, d.warn[w].line, d.warn[w].col, d.warn[w].msg);
		if (i == 0 && d.warn_dropped)
			fprintf(stderr, "%s: warning: %u more warning%s not shown\n", d.file, d.warn_dropped,
				d.warn_dropped == 1 ? "" : "s");
		if (!m->nscript && !m->wl.line) {
			/* an exploration scenario: no schedule, no workload, nothing to count */
			vt_model_free(m);
			return 3;
		}
		if (vt_cost_run(m, &o->run, &r[i].c, &d) < 0) {
			diag_print(&d);
			vt_model_free(m);
			return 2;
		}
		r[i].cycles = vt_cost_cycles(m, t, &r[i].c, &r[i].missing, &r[i].assumed);
		viol |= r[i].c.stale_steps || r[i].c.breach_steps;
		if (i == 0)
			*mout = m;
		else
			vt_model_free(m);
	}
	return viol;
}

/* ---- default cost table -------------------------------------------------------- */

static const char *default_costs(char *buf, size_t len)
{
	const char *rel = "data/costs/default.costs";
	if (access(rel, R_OK) == 0)
		return rel;
	/* next to the binary: build/vtlb -> data/, build/rel/vtlb -> data/ */
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = 0;
			snprintf(buf, len, "%s/%s", exe, rel);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return rel;
}

int vt_cli_cost(int argc, char **argv)
{
	struct copts o;
	memset(&o, 0, sizeof(o));
	o.metric = "overflush";
	struct flist files = {0};
	const char *args[256];
	int nargs = 0, rc = 0;
	struct config extra[MAX_CONFIGS];
	int nextra = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(cost_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--csv")) {
			o.csv = 1;
		} else if (!strcmp(a, "--revert")) {
			if (!v)
				return cerr("%s", "--revert needs a fix name");
			int f = vt_fix_lookup(v);
			if (f < 0)
				return cerr("unknown fix '%s' (see 'vtlb fixes')", v);
			vt_fixset_add(&o.revert_set, (unsigned)f);
			i++;
		} else if (!strcmp(a, "--config") || !strcmp(a, "--kernel")) {
			char kbuf[96];
			if (!v)
				return cerr("%s", "--config needs '[LABEL:]revert=A,B' or 'kernel=VERSION'; --kernel a VERSION");
			if (!strcmp(a, "--kernel")) {
				snprintf(kbuf, sizeof(kbuf), "kernel=%.80s", v);
				v = kbuf;
			}
			if (nextra == MAX_CONFIGS - 2)
				return cerr("%s", "at most 6 --config columns");
			if (parse_config(v, &extra[nextra]) != 0)
				return 2;
			nextra++;
			i++;
		} else if (!strcmp(a, "--costs")) {
			if (!v)
				return cerr("%s", "--costs needs a file");
			o.costs = v;
			i++;
		} else if (!strcmp(a, "--plot")) {
			if (!v)
				return cerr("%s", "--plot needs a file name (FILE.svg)");
			o.plot = v;
			i++;
		} else if (!strcmp(a, "--metric")) {
			if (!v || !metric_known(v))
				return cerr("--metric: one of overflush, overflush-gpa, cycles, misses, exits, invalidations, kicks (got '%s')",
					    v ? v : "");
			o.metric = v;
			i++;
		} else if (!strcmp(a, "--tlb") || !strcmp(a, "--tlb-ways") || !strcmp(a, "--steps") ||
			   !strcmp(a, "--seed")) {
			if (!v || parse_num(v, &x) < 0)
				return cerr("%s needs a non-negative number", a);
			i++;
			if (!strcmp(a, "--tlb")) {
				if (x < 1 || x > 4096)
					return cerr("%s", "--tlb: 1 to 4096 entries");
				o.run.tlb.entries = (uint32_t)x;
			} else if (!strcmp(a, "--tlb-ways")) {
				if (x < 1 || x > 4096)
					return cerr("%s", "--tlb-ways: 1 to 4096");
				o.run.tlb.ways = (uint32_t)x;
			} else if (!strcmp(a, "--steps")) {
				if (x < 1 || x > 100000000)
					return cerr("%s", "--steps: 1 to 100000000");
				o.run.steps = (uint32_t)x;
			} else {
				o.run.seed = x;
				o.run.seed_set = 1;
			}
		} else if (!strcmp(a, "--tlb-policy")) {
			if (v && !strcmp(v, "lru"))
				o.run.tlb.policy = VT_TLB_LRU;
			else if (v && !strcmp(v, "random"))
				o.run.tlb.policy = VT_TLB_RANDOM;
			else
				return cerr("--tlb-policy: 'lru' or 'random' (got '%s')", v ? v : "");
			o.run.tlb_policy_set = 1;
			i++;
		} else if (!strcmp(a, "--set")) {
			if (!v || !strchr(v, '='))
				return cerr("%s", "--set needs NAME=VALUE");
			if (o.nset == MAX_SETS)
				return cerr("%s", "at most 16 --set");
			o.set[o.nset++] = v;
			i++;
		} else if (!strcmp(a, "--sweep")) {
			const char *eq = v ? strchr(v, '=') : NULL;
			const char *dots = eq ? strstr(eq, "..") : NULL;
			if (!eq || !dots || eq == v || (size_t)(eq - v) >= sizeof(o.sweep_name))
				return cerr("--sweep needs NAME=A..B (got '%s')", v ? v : "");
			memcpy(o.sweep_name, v, (size_t)(eq - v));
			char lo[32], *end;
			size_t ln = (size_t)(dots - eq - 1);
			if (ln == 0 || ln >= sizeof(lo))
				return cerr("--sweep needs NAME=A..B (got '%s')", v);
			memcpy(lo, eq + 1, ln);
			lo[ln] = 0;
			o.sweep_lo = strtoll(lo, &end, 10);
			if (*end)
				return cerr("--sweep: A is not a number in '%s'", v);
			o.sweep_hi = strtoll(dots + 2, &end, 10);
			if (*end || dots[2] == 0)
				return cerr("--sweep: B is not a number in '%s'", v);
			if (o.sweep_hi < o.sweep_lo || o.sweep_hi - o.sweep_lo >= MAX_SWEEP)
				return cerr("--sweep: A <= B, at most 64 values ('%s')", v);
			o.sweep = 1;
			i++;
		} else if (a[0] == '-' && a[1]) {
			return cerr("unknown option '%s'", a);
		} else if (nargs < 256) {
			args[nargs++] = a;
		}
	}
	if (!nargs)
		return cerr("%s", "give at least one scenario file or directory");
	if (o.json && o.csv)
		return cerr("%s", "--json and --csv exclude each other");
	if (o.run.tlb.ways && !o.run.tlb.entries)
		return cerr("%s", "--tlb-ways needs --tlb");
	if (o.run.tlb.ways && o.run.tlb.entries % o.run.tlb.ways)
		return cerr("%s", "--tlb-ways must divide --tlb");
	/* columns: every fix; the --revert set; each --config */
	snprintf(o.cfg[0].label, sizeof(o.cfg[0].label), "all fixes");
	o.ncfg = 1;
	if (!vt_fixset_is_empty(o.revert_set)) {
		o.cfg[o.ncfg].reverted = o.revert_set;
		reverted_label(o.revert_set, o.cfg[o.ncfg].label, sizeof(o.cfg[o.ncfg].label));
		o.ncfg++;
	}
	for (int i = 0; i < nextra; i++)
		o.cfg[o.ncfg++] = extra[i];

	char pathbuf[4200];
	struct vt_cost_table *t = malloc(sizeof(*t));
	if (!t)
		return 2;
	struct vt_diag d;
	if (vt_cost_table_load(o.costs ? o.costs : default_costs(pathbuf, sizeof(pathbuf)), t, &d) < 0) {
		diag_print(&d);
		free(t);
		return 2;
	}
	for (int i = 0; i < nargs; i++)
		if (gather(&files, args[i], 1, NULL) < 0)
			rc = 2;
	struct vt_svg_doc *svg = NULL;
	if (o.plot && !(svg = vt_svg_new()))
		rc = 2;
	if (o.json) {
		printf("{\"version\":\"%s\",\"costs\":", VTLB_VERSION);
		vt_json_str(stdout, t->file);
		printf(",\"results\":[");
	}
	if (o.csv)
		printf("file,config,%s,metric,value\n", o.sweep ? o.sweep_name : "param");
	int nres = 0;
	for (size_t f = 0; f < files.n && rc != 2; f++) {
		int nval = o.sweep ? (int)(o.sweep_hi - o.sweep_lo + 1) : 1;
		double series[MAX_CONFIGS][MAX_SWEEP];
		double xs[MAX_SWEEP];
		int done = 0;
		for (int k = 0; k < nval && rc != 2; k++) {
			const char *set[MAX_SETS + 1];
			char sv[64];
			int nset = o.nset;
			memcpy(set, o.set, sizeof(o.set[0]) * (size_t)o.nset);
			if (o.sweep) {
				snprintf(sv, sizeof(sv), "%s=%" PRId64, o.sweep_name, o.sweep_lo + k);
				set[nset++] = sv;
			}
			struct result r[MAX_CONFIGS];
			struct vt_model *m;
			memset(r, 0, sizeof(r));
			int st = run_file(&o, files.v[f], set, nset, t, r, &m);
			if (st == 2) {
				rc = 2;
				break;
			}
			if (st == 3) {
				if (!o.json && !o.csv)
					printf("skip  %s: programs only, no script or workload: use 'vtlb explore'\n\n", files.v[f]);
				break;
			}
			if (st == 1 && rc == 0)
				rc = 1;
			char param[32] = "";
			if (o.sweep)
				snprintf(param, sizeof(param), "%" PRId64, o.sweep_lo + k);
			xs[k] = (double)(o.sweep_lo + k);
			for (int i = 0; i < o.ncfg; i++)
				series[i][k] = metric(o.metric, &r[i].c, r[i].cycles);
			if (o.json) {
				printf("%s{\"file\":", nres ? "," : "");
				vt_json_str(stdout, m->file);
				printf(",\"backend\":\"%s\"", vt_backend_name(m->backend));
				if (o.sweep)
					printf(",\"param\":{\"%s\":%" PRId64 "}", o.sweep_name, o.sweep_lo + k);
				printf(",\"columns\":[");
				for (int i = 0; i < o.ncfg; i++) {
					printf("%s{\"label\":", i ? "," : "");
					vt_json_str(stdout, o.cfg[i].label);
					printf(",\"reverted\":[");
					int first = 1;
					for (unsigned b = 0; b < VT_FIX_COUNT; b++)
						if (vt_fixset_has(vt_fixset_union(m->reverted, o.cfg[i].reverted), b) && vt_fix_info(b)) {
							printf("%s\"%s\"", first ? "" : ",", vt_fix_info(b)->name);
							first = 0;
						}
					printf("],\"counters\":");
					json_counters(m, &r[i]);
					printf("}");
				}
				printf("]}");
			} else if (o.csv) {
				for (int i = 0; i < o.ncfg; i++)
					csv_rows(m, o.cfg[i].label, param, &r[i]);
			} else {
				if (o.sweep)
					printf("[%s=%" PRId64 "] ", o.sweep_name, o.sweep_lo + k);
				print_table(m, &o, r, t);
				printf("\n");
			}
			nres++;
			done++;
			if (svg && !o.sweep) {
				const char *labels[MAX_CONFIGS];
				struct vt_svg_bars b;
				memset(&b, 0, sizeof(b));
				for (int i = 0; i < o.ncfg; i++) {
					labels[i] = o.cfg[i].label;
					b.v[0][i] = (double)(r[i].c.overflush_u + r[i].c.overflush_s);
					b.v[1][i] = (double)total_insns(&r[i].c);
					b.v[2][i] = (double)r[i].c.exits;
					b.v[3][i] = (double)r[i].c.misses;
					b.v[4][i] = r[i].cycles;
				}
				b.title = m->file;
				b.subtitle = m->title;
				b.labels = labels;
				b.nseries = o.ncfg;
				vt_svg_add_bars(svg, &b);
			}
			vt_model_free(m);
		}
		if (svg && o.sweep && rc != 2 && done == nval) {
			const char *labels[MAX_CONFIGS];
			for (int i = 0; i < o.ncfg; i++)
				labels[i] = o.cfg[i].label;
			const double *ys[MAX_CONFIGS];
			for (int i = 0; i < o.ncfg; i++)
				ys[i] = series[i];
			vt_svg_add_lines(svg, files.v[f], o.sweep_name, o.metric, xs, ys, labels, o.ncfg, nval);
		}
	}
	if (o.json)
		printf("]}\n");
	if (svg) {
		if (rc != 2 && vt_svg_write(svg, o.plot) < 0) {
			fprintf(stderr, "%s: error: cannot write: %s\n", o.plot, strerror(errno));
			rc = 2;
		}
		vt_svg_free(svg);
	}
	for (size_t f = 0; f < files.n; f++)
		free(files.v[f]);
	free(files.v);
	free(t);
	return rc;
}
