/*
 * The scenario words of performance mode (vtlb cost): 'workload', 'tlb' and
 * 'param', and the ${NAME} substitution that 'param', --set and --sweep
 * feed.  Kept apart from src/scenario.c, which calls in here for these
 * words; the syntax is in docs/scenarios.md ("Performance mode: workloads").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "scenario_perf.h"
#include "vtlb/scenario.h"

static int perf_end(struct vt_parser *p)
{
	if (vt_parse_at_end(p))
		return 0;
	return vt_parse_error(p, "unexpected '%.*s' at end of line", (int)p->tok[p->cur].len, p->tok[p->cur].s);
}

static const char *const wl_class_names[VT_WL_COUNT] = {
	[VT_WL_ACCESS] = "access", [VT_WL_OP] = "op", [VT_WL_PREEMPT] = "preempt",
	[VT_WL_MIGRATE] = "migrate", [VT_WL_HOST] = "host",
};

/*
 * workload steps N [seed S] [access W] [op W] [preempt W] [migrate W] [host W]
 * tlb entries N [ways W] [lru | random]
 * param NAME VALUE     (a default for ${NAME}; substituted before parsing)
 */
int vt_perf_decl(struct vt_parser *p, int events)
{
	struct vt_model *m = p->m;
	uint64_t x;
	if (vt_tok_is(p, 0, "param")) {
		char name[VT_NAME];
		if (vt_parse_word(p, "a parameter name", name, sizeof(name)) < 0)
			return -1;
		if (vt_parse_at_end(p))
			return vt_parse_error(p, "expected the parameter's default value");
		p->cur++;
		return perf_end(p);
	}
	if (events)
		return vt_parse_error_at(p, 0, "'%s' is a declaration and must come before the first event",
					 vt_tok_is(p, 0, "tlb") ? "tlb" : "workload");
	if (vt_tok_is(p, 0, "tlb")) {
		if (m->tlb.line)
			return vt_parse_error_at(p, 0, "'tlb' given twice");
		m->tlb.line = p->line;
		if (vt_parse_expect(p, "entries") < 0 || vt_parse_number(p, "a number of entries", &x) < 0)
			return -1;
		if (x < 1 || x > 4096)
			return vt_parse_error_at(p, p->cur - 1, "a TLB has 1 to 4096 entries per domain");
		m->tlb.entries = (uint32_t)x;
		while (!vt_parse_at_end(p)) {
			if (vt_parse_accept(p, "lru")) {
				m->tlb.policy = VT_TLB_LRU;
			} else if (vt_parse_accept(p, "random")) {
				m->tlb.policy = VT_TLB_RANDOM;
			} else if (vt_parse_accept(p, "ways")) {
				if (vt_parse_number(p, "a number of ways", &x) < 0)
					return -1;
				if (x < 1 || x > m->tlb.entries || m->tlb.entries % x)
					return vt_parse_error_at(p, p->cur - 1, "ways must divide the number of entries");
				m->tlb.ways = (uint32_t)x;
			} else {
				return vt_parse_error(p, "expected 'ways N', 'lru' or 'random'");
			}
		}
		return 0;
	}
	if (m->wl.line)
		return vt_parse_error_at(p, 0, "'workload' given twice");
	m->wl.line = p->line;
	m->wl.seed = 1;
	m->wl.w[VT_WL_ACCESS] = 1;
	if (vt_parse_expect(p, "steps") < 0 || vt_parse_number(p, "a number of steps", &x) < 0)
		return -1;
	if (x < 1 || x > 100000000)
		return vt_parse_error_at(p, p->cur - 1, "a workload has 1 to 100000000 steps");
	m->wl.steps = (uint32_t)x;
	int weights = 0;
	while (!vt_parse_at_end(p)) {
		if (vt_parse_accept(p, "seed")) {
			if (vt_parse_number(p, "a seed", &m->wl.seed) < 0)
				return -1;
			continue;
		}
		int c = -1;
		for (int i = 0; i < VT_WL_COUNT; i++)
			if (vt_parse_accept(p, wl_class_names[i]))
				c = i;
		if (c < 0)
			return vt_parse_error(p, "expected 'seed S' or a weight: 'access', 'op', 'preempt', 'migrate' or 'host' W");
		if (vt_parse_number(p, "a weight", &x) < 0)
			return -1;
		if (x > 1000000)
			return vt_parse_error_at(p, p->cur - 1, "a weight is at most 1000000");
		if (!weights++)
			memset(m->wl.w, 0, sizeof(m->wl.w));
		m->wl.w[c] = (uint32_t)x;
	}
	uint64_t sum = 0;
	for (int i = 0; i < VT_WL_COUNT; i++)
		sum += m->wl.w[i];
	if (!sum)
		return vt_parse_error_at(p, 0, "every weight is 0: the workload has nothing to do");
	return 0;
}

/*
 * Parameters: 'param NAME VALUE' lines give defaults, 'set' ("NAME=VALUE",
 * from the command line) overrides them, and every ${NAME} in the text is
 * replaced before parsing.  Returns a new buffer (caller frees) or NULL with
 * *d filled.
 */
struct subst_param {
	char name[VT_NAME];
	char value[64];
	int known;           /* declared by a 'param' line or used as ${NAME} */
};

static int param_put(struct subst_param *tab, int *n, const char *name, size_t nlen, const char *val, size_t vlen,
		     int override)
{
	if (nlen == 0 || nlen >= VT_NAME || vlen >= sizeof(tab[0].value))
		return -1;
	for (int i = 0; i < *n; i++)
		if (strlen(tab[i].name) == nlen && memcmp(tab[i].name, name, nlen) == 0) {
			if (override) {
				memcpy(tab[i].value, val, vlen);
				tab[i].value[vlen] = 0;
			} else {
				tab[i].known = 1;
			}
			return 0;
		}
	if (*n == 32)
		return -1;
	memcpy(tab[*n].name, name, nlen);
	tab[*n].name[nlen] = 0;
	memcpy(tab[*n].value, val, vlen);
	tab[*n].value[vlen] = 0;
	tab[*n].known = !override;
	(*n)++;
	return 0;
}

char *vt_scenario_subst(const char *text, size_t len, const char *const *set, int nset, size_t *outlen,
			  struct vt_diag *d)
{
	struct subst_param tab[32];
	int n = 0;
	for (int i = 0; i < nset; i++) {
		const char *eq = strchr(set[i], '=');
		if (!eq || param_put(tab, &n, set[i], (size_t)(eq - set[i]), eq + 1, strlen(eq + 1), 1) < 0) {
			snprintf(d->msg, sizeof(d->msg), "bad parameter '%s' (expected NAME=VALUE)", set[i]);
			return NULL;
		}
	}
	/* defaults from 'param NAME VALUE' lines */
	uint32_t line = 1;
	for (size_t i = 0; i < len; line++) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		size_t a = i;
		while (a < j && (text[a] == ' ' || text[a] == '\t'))
			a++;
		if (j - a > 6 && memcmp(text + a, "param", 5) == 0 && (text[a + 5] == ' ' || text[a + 5] == '\t')) {
			size_t b = a + 5, c, e, f;
			while (b < j && (text[b] == ' ' || text[b] == '\t'))
				b++;
			for (c = b; c < j && text[c] != ' ' && text[c] != '\t'; c++)
				;
			for (e = c; e < j && (text[e] == ' ' || text[e] == '\t'); e++)
				;
			for (f = e; f < j && text[f] != ' ' && text[f] != '\t' && text[f] != '#'; f++)
				;
			if (c > b && f > e && param_put(tab, &n, text + b, c - b, text + e, f - e, 0) < 0) {
				d->line = line;
				d->col = (uint32_t)(b - i) + 1;
				snprintf(d->msg, sizeof(d->msg), "bad 'param': a name of at most %d characters, a value of at most 63, at most 32 parameters", VT_NAME - 1);
				return NULL;
			}
		}
		i = j + 1;
	}
	size_t cap = len + 1, o = 0;
	char *out = malloc(cap);
	if (!out) {
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		return NULL;
	}
	line = 1;
	size_t bol = 0;
	for (size_t i = 0; i < len;) {
		const char *val = NULL;
		size_t skip = 1;
		if (text[i] == '\n') {
			line++;
			bol = i + 1;
		} else if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
			size_t k = i + 2;
			while (k < len && text[k] != '}' && text[k] != '\n')
				k++;
			int found = -1;
			for (int t = 0; k < len && text[k] == '}' && t < n; t++)
				if (strlen(tab[t].name) == k - i - 2 && memcmp(tab[t].name, text + i + 2, k - i - 2) == 0)
					found = t;
			if (found < 0) {
				free(out);
				d->line = line;
				d->col = (uint32_t)(i - bol) + 1;
				snprintf(d->msg, sizeof(d->msg), "unknown parameter '%.*s' (declare it with 'param NAME VALUE')",
					 (int)(k - i - 2 < 32 ? k - i - 2 : 32), text + i + 2);
				return NULL;
			}
			val = tab[found].value;
			tab[found].known = 1;
			skip = k + 1 - i;
		}
		size_t add = val ? strlen(val) : 1;
		if (o + add + 1 > cap) {
			cap = (o + add + 1) * 2;
			char *nb = realloc(out, cap);
			if (!nb) {
				free(out);
				snprintf(d->msg, sizeof(d->msg), "out of memory");
				return NULL;
			}
			out = nb;
		}
		if (val)
			memcpy(out + o, val, add);
		else
			out[o] = text[i];
		o += add;
		i += skip;
	}
	out[o] = 0;
	*outlen = o;
	/* a value given for a parameter the scenario neither declares nor uses is a mistake */
	for (int t = 0; t < n; t++)
		if (!tab[t].known) {
			free(out);
			snprintf(d->msg, sizeof(d->msg), "the scenario has no parameter '%s' (no 'param %s' line, no ${%s})",
				 tab[t].name, tab[t].name, tab[t].name);
			return NULL;
		}
	return out;
}

