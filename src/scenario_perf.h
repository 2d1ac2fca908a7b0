/*
 * Performance-mode scenario words and parameter substitution
 * (src/scenario_perf.c); used by the scenario parser only.
 */
#ifndef VTLB_SCENARIO_PERF_H
#define VTLB_SCENARIO_PERF_H

#include <stddef.h>

#include "vtlb/scenario.h"

/*
 * Parse a 'workload', 'tlb' or 'param' line (p->cur at the word after it)
 * into p->m.  'events': an event has been seen (declarations are over).
 * Returns 0, or -1 with the diagnostic set.
 */
int vt_perf_decl(struct vt_parser *p, int events);

/*
 * Replace every ${NAME} in text: by the value 'set' gives ("NAME=VALUE"),
 * else by the text's 'param NAME VALUE' default.  An unknown NAME, or a
 * 'set' for a parameter the text neither declares nor uses, is an error.
 * Returns a new NUL-terminated buffer (the caller frees it) of *outlen
 * bytes, or NULL with *d filled.
 */
char *vt_scenario_subst(const char *text, size_t len, const char *const *set, int nset, size_t *outlen,
			struct vt_diag *d);

#endif
