/*
 * A minimal TAP producer for the C unit tests: every check is one named
 * "ok N - name" / "not ok N - name" line; the plan is printed at the end.
 * Test names are hierarchical ("x86.invvpid.keeps-guest-physical").
 */
#ifndef VTLB_TEST_TAP_H
#define VTLB_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vtlb/scenario.h"

static int tap_count;
static int tap_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok;
}

/* Parse a scenario from a string; NULL (and a TAP comment saying why) on error. */
static inline struct vt_model *tap_parse(const char *text, struct vt_fixset reverted)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_parse("unit", text, strlen(text), reverted, &d);
	if (!m)
		printf("# parse error: %u:%u: %s\n", d.line, d.col, d.msg);
	return m;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
