/*
 * The 'vtlb cost' command (tools/cost_cmd.c) and the SVG writer it plots
 * with (tools/svg.c).  Part of the command line, not of the library.
 */
#ifndef VTLB_TOOLS_COST_CMD_H
#define VTLB_TOOLS_COST_CMD_H

#include <stddef.h>

/* Run 'vtlb cost' with the arguments after the command word; returns the exit status. */
int vt_cli_cost(int argc, char **argv);

/* ---- SVG charts, written directly (no dependency) ---------------------- */

#define VT_SVG_METRICS 5
#define VT_SVG_MAX_SERIES 8

/* One scenario's bar panel: one small chart per metric, one bar per configuration. */
struct vt_svg_bars {
	const char *title;
	const char *subtitle;
	const char *const *labels;   /* configuration names */
	int nseries;
	double v[VT_SVG_METRICS][VT_SVG_MAX_SERIES]; /* over-flush, invalidations, exits, misses, cycles */
};

struct vt_svg_doc;

struct vt_svg_doc *vt_svg_new(void);
void vt_svg_free(struct vt_svg_doc *d);
/* Add a panel (copies what it needs).  Return 0 or -1 (memory). */
int vt_svg_add_bars(struct vt_svg_doc *d, const struct vt_svg_bars *b);
int vt_svg_add_lines(struct vt_svg_doc *d, const char *title, const char *xname, const char *yname, const double *xs,
		     const double *const *ys, const char *const *labels, int nseries, int npoints);
/* Write the document; returns 0 or -1 (errno set). */
int vt_svg_write(const struct vt_svg_doc *d, const char *path);

#endif
