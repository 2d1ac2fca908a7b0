/*
 * `vtlb probe`: build the guest once per scenario, run it on each selected
 * back-end N times, check every run against the oracle, print the verdict.
 *
 * Per back-end a probe is *conformant* (every access in every run returned
 * a translation the oracle permits), a *failure* (some access did not, or the
 * guest did not finish), *refused* (the implementation faulted an operation
 * the architecture allows, so the rest of the scenario cannot run there:
 * reported, never counted as conformant), or *skipped* (the back-end is
 * absent, or lacks a feature the probe needs).  "stale observed" counts the accesses where the
 * implementation returned a translation the oracle permits only as a stale
 * one (not the current page table's), so a report shows whether the probe
 * was sensitive at all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/probe.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/trace.h"

struct acc_sum {
	int stale_runs;
	int fail_runs;
};

static void fmt_seen(const struct vt_probe_access *a, char *buf, size_t len)
{
	if (a->kind == VT_PROBE_OBS_GPA)
		snprintf(buf, len, "GPA 0x%" PRIx64, a->gpa);
	else if (a->kind == VT_PROBE_OBS_FAULT)
		snprintf(buf, len, "a page fault");
	else if ((a->word & 0xff000000u) == VT_PROBE_FAULT)
		snprintf(buf, len, "exception %u", a->word & 0xff);
	else
		snprintf(buf, len, "word 0x%08x", a->word);
}

static void fmt_permitted(const struct vt_probe_access *a, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < a->npermitted && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%sGPA 0x%" PRIx64, i ? " or " : "", a->permitted[i]);
	if (a->fault_ok && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%sa page fault", a->npermitted ? " or " : "");
	if (!o)
		snprintf(buf, len, "nothing");
}

static void print_access(FILE *out, const struct vt_probe_access *a, const struct acc_sum *sum, int runs)
{
	char seen[64], perm[256];
	fmt_seen(a, seen, sizeof(seen));
	fmt_permitted(a, perm, sizeof(perm));
	fprintf(out, "        step %u (line %u): access 0x%" PRIx64 " saw %s%s; permitted: %s", a->step, a->line, a->va,
		seen, !a->ok ? " [NOT PERMITTED]" : a->stale ? " [stale]" : "", perm);
	if (sum && runs > 1 && (sum->stale_runs || sum->fail_runs))
		fprintf(out, " (stale in %d, not permitted in %d of %d runs)", sum->stale_runs, sum->fail_runs, runs);
	fprintf(out, "\n");
}

static void json_access(FILE *out, const struct vt_probe_access *a, const struct acc_sum *sum, int first)
{
	char seen[64];
	if (a->kind == VT_PROBE_OBS_GPA)
		snprintf(seen, sizeof(seen), "0x%" PRIx64, a->gpa);
	else if (a->kind == VT_PROBE_OBS_FAULT)
		snprintf(seen, sizeof(seen), "fault");
	else
		snprintf(seen, sizeof(seen), "word 0x%08x", a->word);
	fprintf(out, "%s{\"step\":%u,\"line\":%u,\"va\":\"0x%" PRIx64 "\",\"seen\":\"%s\",\"permitted\":[", first ? "" : ",",
		a->step, a->line, a->va, seen);
	for (int i = 0; i < a->npermitted; i++)
		fprintf(out, "%s\"0x%" PRIx64 "\"", i ? "," : "", a->permitted[i]);
	fprintf(out, "],\"fault_permitted\":%s,\"ok\":%s,\"stale\":%s,\"stale_runs\":%d,\"failed_runs\":%d}",
		a->fault_ok ? "true" : "false", a->ok ? "true" : "false", a->stale ? "true" : "false", sum->stale_runs,
		sum->fail_runs);
}

static enum vt_probe_rc run_once(enum vt_probe_be be, const struct vt_probe_image *img, uint32_t *w, int n,
				 int timeout, char *msg, size_t len)
{
	if (be == VT_PROBE_KVM)
		return vt_probe_run_kvm(img, w, n, timeout, msg, len);
	return vt_probe_run_tcg(img, w, n, timeout, msg, len);
}

static void json_head(FILE *out, const char *path, const char *be, const char *status, int *printed)
{
	fprintf(out, "%s{\"file\":", *printed ? "," : "");
	vt_json_str(out, path);
	fprintf(out, ",\"backend\":\"%s\",\"status\":\"%s\"", be, status);
	*printed = 1;
}


static void probe_be(const struct vt_probe_opts *o, const struct vt_model *m, const struct vt_probe_image *img,
		     enum vt_probe_be be, const char *path, FILE *out, struct vt_probe_tally *t)
{
	const char *bn = vt_probe_be_name(be);
	int nw = img->nslots + 3;
	uint32_t *w = calloc((size_t)nw, sizeof(*w));
	uint32_t *w0 = calloc((size_t)nw, sizeof(*w0));
	struct vt_probe_check *c = malloc(sizeof(*c));
	struct vt_probe_check *c0 = malloc(sizeof(*c0));
	struct acc_sum *sum = calloc(VT_PROBE_MAX_SLOTS, sizeof(*sum));
	char msg[512] = "";
	int runs = 0, deterministic = 1, failures = 0, stale = 0, bad = 0, refused = 0;
	enum vt_probe_rc rc = VT_PROBE_RUN_OK;
	if (!w || !w0 || !c || !c0 || !sum) {
		snprintf(msg, sizeof(msg), "out of memory");
		rc = VT_PROBE_RUN_FAILED;
	}
	for (int r = 0; r < o->repeat && rc == VT_PROBE_RUN_OK; r++) {
		memset(w, 0, (size_t)nw * sizeof(*w));
		rc = run_once(be, img, w, nw, o->timeout, msg, sizeof(msg));
		if (rc != VT_PROBE_RUN_OK)
			break;
		if (vt_probe_check(m, img, w, nw, c) < 0) {
			snprintf(msg, sizeof(msg), "%s", c->why);
			rc = VT_PROBE_RUN_FAILED;
			break;
		}
		if (r == 0) {
			memcpy(w0, w, (size_t)nw * sizeof(*w));
			memcpy(c0, c, sizeof(*c));
		} else if (memcmp(w0, w, (size_t)nw * sizeof(*w)) != 0) {
			deterministic = 0;
		}
		if (c->refused_slot >= 0) {
			const struct vt_probe_slot *sl = &img->slot[c->refused_slot];
			char op[96];
			m->aops->fmt_op(m, &m->script[sl->event].op, op, sizeof(op));
			snprintf(msg, sizeof(msg),
				 "the implementation faulted '%s' (line %u, exception %u), which the architecture allows; "
				 "the rest of the scenario cannot run there",
				 op, sl->line, w[1 + c->refused_slot] & 0xff);
			rc = VT_PROBE_RUN_UNSUPPORTED;
			refused = 1;
			break;
		}
		if (c->faulted_slot >= 0 && c0->faulted_slot < 0)
			c0->faulted_slot = c->faulted_slot;
		for (int i = 0; i < c->naccess; i++) {
			sum[i].stale_runs += c->acc[i].stale;
			sum[i].fail_runs += !c->acc[i].ok;
			/* keep a failing observation for the report */
			if (!c->acc[i].ok && c0->acc[i].ok)
				c0->acc[i] = c->acc[i];
		}
		runs++;
	}
	if (rc == VT_PROBE_RUN_OK) {
		t->ran++;
		for (int i = 0; i < c0->naccess; i++) {
			failures += sum[i].fail_runs > 0;
			stale += sum[i].stale_runs > 0;
		}
		failures += c0->faulted_slot >= 0;
		bad = failures > 0;
		if (bad)
			t->failed[be]++;
		else
			t->conformant[be]++;
	} else if (rc == VT_PROBE_RUN_FAILED) {
		t->failed[be]++;
	} else if (refused) {
		t->refused[be]++;
	} else {
		t->skipped[be]++;
	}

	if (o->json) {
		if (rc == VT_PROBE_RUN_OK) {
			json_head(out, path, bn, bad ? "failure" : "conformant", &t->json_printed);
			fprintf(out, ",\"runs\":%d,\"deterministic\":%s,\"accesses\":%d,\"stale_observed\":%d,\"failures\":%d,"
				     "\"observations\":[",
				runs, deterministic ? "true" : "false", c0->naccess, stale, failures);
			for (int i = 0; i < c0->naccess; i++)
				json_access(out, &c0->acc[i], &sum[i], i == 0);
			fprintf(out, "]}");
		} else {
			json_head(out, path, bn, rc == VT_PROBE_RUN_FAILED ? "error" : refused ? "refused" : "skipped",
				  &t->json_printed);
			fprintf(out, ",\"message\":");
			vt_json_str(out, msg);
			fprintf(out, "}");
		}
	} else if (rc == VT_PROBE_RUN_OK) {
		if (bad || !o->quiet) {
			fprintf(out, "%s %-4s %-44s %d access%s, %d stale observed, %d conformance failure%s; %s over %d run%s\n",
				bad ? "FAIL " : "ok   ", bn, path, c0->naccess, c0->naccess == 1 ? "" : "es", stale, failures,
				failures == 1 ? "" : "s", deterministic ? "deterministic" : "NOT deterministic", runs,
				runs == 1 ? "" : "s");
		}
		for (int i = 0; i < c0->naccess; i++) {
			if (!c0->acc[i].ok) {
				char seen[64], perm[256];
				fmt_seen(&c0->acc[i], seen, sizeof(seen));
				fmt_permitted(&c0->acc[i], perm, sizeof(perm));
				fprintf(out,
					"      conformance failure: step %u (line %u): access 0x%" PRIx64
					" saw %s; the oracle permits %s\n",
					c0->acc[i].step, c0->acc[i].line, c0->acc[i].va, seen, perm);
			}
		}
		if (c0->faulted_slot >= 0) {
			const struct vt_probe_slot *sl = &img->slot[c0->faulted_slot];
			char op[96];
			m->aops->fmt_op(m, &m->script[sl->event].op, op, sizeof(op));
			fprintf(out, "      conformance failure: line %u: '%s' ran, but the architecture (as modelled) faults it\n",
				sl->line, op);
		}
		if (o->trace)
			for (int i = 0; i < c0->naccess; i++)
				print_access(out, &c0->acc[i], &sum[i], runs);
	} else if (rc == VT_PROBE_RUN_FAILED) {
		fprintf(out, "FAIL  %-4s %-44s the guest did not finish: %s\n", bn, path, msg);
	} else if (refused || !o->quiet) {
		fprintf(out, "%s %-4s %-44s %s\n", refused ? "REFUS" : "skip ", bn, path, msg);
	}
	free(w);
	free(w0);
	free(c);
	free(c0);
	free(sum);
}

void vt_probe_file(const struct vt_probe_opts *o, const char *path, FILE *out, struct vt_probe_tally *t)
{
	struct vt_diag d;
	t->files++;
	struct vt_model *m = vt_scenario_load(path, o->reverted, &d);
	char err[256];
	uint32_t line = 0;
	struct vt_probe_image *img = NULL;
	if (m && m->nscript) {
		/* a script that cannot run in the model is bad input, as for 'vtlb run' */
		struct vt_run_result *rr = malloc(sizeof(*rr));
		enum vt_status st = rr ? vt_run(m, rr, &d) : VT_ERROR;
		if (!rr) {
			snprintf(d.file, sizeof(d.file), "%s", path);
			d.line = d.col = 0;
			snprintf(d.msg, sizeof(d.msg), "out of memory");
		}
		if (rr)
			vt_run_result_fini(rr);
		free(rr);
		if (st == VT_ERROR) {
			vt_model_free(m);
			m = NULL;
		}
	}
	if (m) {
		img = malloc(sizeof(*img));
		if (!img) {
			vt_model_free(m);
			m = NULL;
			snprintf(d.file, sizeof(d.file), "%s", path);
			d.line = d.col = 0;
			snprintf(d.msg, sizeof(d.msg), "out of memory");
		} else if (vt_probe_build(m, img, &line, err, sizeof(err)) < 0) {
			snprintf(d.file, sizeof(d.file), "%s", path);
			d.line = line;
			d.col = 1;
			snprintf(d.msg, sizeof(d.msg), "%s", err);
			vt_model_free(m);
			m = NULL;
		}
	}
	if (!m) {
		t->errors++;
		if (o->json) {
			json_head(out, path, "-", "error", &t->json_printed);
			fprintf(out, ",\"error\":{\"line\":%u,\"col\":%u,\"message\":", d.line, d.col);
			vt_json_str(out, d.msg);
			fprintf(out, "}}");
		} else {
			fprintf(out, "ERROR %s\n", path);
		}
		if (d.line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", d.file, d.line, d.col, d.msg);
		else
			fprintf(stderr, "%s: error: %s\n", d.file, d.msg);
		free(img);
		return;
	}
	for (int be = 0; be < VT_PROBE_BE_COUNT; be++)
		if (o->backends & (1u << be))
			probe_be(o, m, img, (enum vt_probe_be)be, path, out, t);
	vt_probe_image_fini(img);
	free(img);
	vt_model_free(m);
}

int vt_probe_summary(const struct vt_probe_opts *o, const struct vt_probe_tally *t, FILE *out)
{
	int failed = 0;
	for (int be = 0; be < VT_PROBE_BE_COUNT; be++)
		failed += t->failed[be];
	if (o->json) {
		fprintf(out, "],\"summary\":{\"files\":%d,\"errors\":%d", t->files, t->errors);
		for (int be = 0; be < VT_PROBE_BE_COUNT; be++)
			if (o->backends & (1u << be))
				fprintf(out, ",\"%s\":{\"conformant\":%d,\"failed\":%d,\"refused\":%d,\"skipped\":%d}",
					vt_probe_be_name((enum vt_probe_be)be), t->conformant[be], t->failed[be],
					t->refused[be], t->skipped[be]);
		fprintf(out, "}}\n");
	} else {
		fprintf(out, "%d probe%s:", t->files, t->files == 1 ? "" : "s");
		for (int be = 0; be < VT_PROBE_BE_COUNT; be++)
			if (o->backends & (1u << be))
				fprintf(out, " %s %d conformant, %d failed, %d refused, %d skipped;",
					vt_probe_be_name((enum vt_probe_be)be), t->conformant[be], t->failed[be], t->refused[be],
					t->skipped[be]);
		fprintf(out, " %d error%s\n", t->errors, t->errors == 1 ? "" : "s");
	}
	if (t->errors)
		return 2;
	if (failed)
		return 1;
	if (!t->ran) {
		if (!o->json)
			fprintf(stderr, "vtlb probe: no back-end could run any probe (no /dev/kvm, no qemu-system-x86_64, "
					"or every probe needs a feature they lack)\n");
		return 77;
	}
	return 0;
}
