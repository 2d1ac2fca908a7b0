/*
 * SVG charts for 'vtlb cost --plot', written by hand so that the tool needs
 * no plotting library: per scenario a row of small bar charts (one per
 * metric, one bar per configuration, each chart on its own scale), and for
 * a sweep a line chart of one metric against the swept parameter.  Text is
 * XML-escaped; numbers are printed compactly (1.2k, 3.4M).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost_cmd.h"

#define MAX_POINTS 64
#define PANEL_W 960
#define BAR_H 250
#define LINE_H 380

static const char *const colors[VT_SVG_MAX_SERIES] = {
	"#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#222222",
};

static const char *const metric_names[VT_SVG_METRICS] = {
	"over-flush (entries)", "invalidations", "VM exits", "TLB misses", "est. cycles",
};

struct panel {
	int lines;                   /* 0: bars, 1: lines */
	char title[300];
	char subtitle[160];
	char xname[32], yname[32];
	char labels[VT_SVG_MAX_SERIES][64];
	int nseries, npoints;
	double v[VT_SVG_METRICS][VT_SVG_MAX_SERIES];
	double xs[MAX_POINTS];
	double ys[VT_SVG_MAX_SERIES][MAX_POINTS];
};

struct vt_svg_doc {
	struct panel *p;
	int n, cap;
};

struct vt_svg_doc *vt_svg_new(void)
{
	return calloc(1, sizeof(struct vt_svg_doc));
}

void vt_svg_free(struct vt_svg_doc *d)
{
	if (d)
		free(d->p);
	free(d);
}

static struct panel *push(struct vt_svg_doc *d)
{
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 8;
		struct panel *np = realloc(d->p, (size_t)cap * sizeof(*np));
		if (!np)
			return NULL;
		d->p = np;
		d->cap = cap;
	}
	struct panel *p = &d->p[d->n++];
	memset(p, 0, sizeof(*p));
	return p;
}

int vt_svg_add_bars(struct vt_svg_doc *d, const struct vt_svg_bars *b)
{
	struct panel *p = push(d);
	if (!p)
		return -1;
	snprintf(p->title, sizeof(p->title), "%s", b->title ? b->title : "");
	snprintf(p->subtitle, sizeof(p->subtitle), "%s", b->subtitle ? b->subtitle : "");
	p->nseries = b->nseries < VT_SVG_MAX_SERIES ? b->nseries : VT_SVG_MAX_SERIES;
	for (int i = 0; i < p->nseries; i++)
		snprintf(p->labels[i], sizeof(p->labels[i]), "%s", b->labels[i]);
	memcpy(p->v, b->v, sizeof(p->v));
	return 0;
}

int vt_svg_add_lines(struct vt_svg_doc *d, const char *title, const char *xname, const char *yname, const double *xs,
		     const double *const *ys, const char *const *labels, int nseries, int npoints)
{
	struct panel *p = push(d);
	if (!p)
		return -1;
	p->lines = 1;
	snprintf(p->title, sizeof(p->title), "%s", title);
	snprintf(p->xname, sizeof(p->xname), "%s", xname);
	snprintf(p->yname, sizeof(p->yname), "%s", yname);
	p->nseries = nseries < VT_SVG_MAX_SERIES ? nseries : VT_SVG_MAX_SERIES;
	p->npoints = npoints < MAX_POINTS ? npoints : MAX_POINTS;
	for (int i = 0; i < p->nseries; i++) {
		snprintf(p->labels[i], sizeof(p->labels[i]), "%s", labels[i]);
		for (int k = 0; k < p->npoints; k++)
			p->ys[i][k] = ys[i][k];
	}
	for (int k = 0; k < p->npoints; k++)
		p->xs[k] = xs[k];
	return 0;
}

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

static void compact(double v, char *buf, size_t len)
{
	double a = fabs(v);
	if (a >= 1e9)
		snprintf(buf, len, "%.1fG", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (a >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

/* A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
static double nice_max(double v)
{
	if (v <= 0)
		return 1;
	double e = pow(10, floor(log10(v)));
	double f = v / e;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

static void legend(FILE *f, const struct panel *p, double x, double y)
{
	for (int i = 0; i < p->nseries; i++) {
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y - 10,
			colors[i]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", x + 16, y);
		esc(f, p->labels[i]);
		fprintf(f, "</text>\n");
		x += 24 + 7.0 * (double)strlen(p->labels[i]);
	}
}

static double draw_bars(FILE *f, const struct panel *p, double y0)
{
	fprintf(f, "<text x=\"10\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">", y0 + 20);
	esc(f, p->title);
	fprintf(f, "</text>\n");
	if (p->subtitle[0]) {
		fprintf(f, "<text x=\"10\" y=\"%.1f\" font-size=\"12\" fill=\"#444\">", y0 + 37);
		esc(f, p->subtitle);
		fprintf(f, "</text>\n");
	}
	legend(f, p, 10, y0 + 58);
	double cw = (PANEL_W - 20) / (double)VT_SVG_METRICS;
	double top = y0 + 80, h = 120;
	for (int k = 0; k < VT_SVG_METRICS; k++) {
		double x0 = 10 + k * cw + 10;
		double w = cw - 20;
		double max = 0;
		for (int i = 0; i < p->nseries; i++)
			if (p->v[k][i] > max)
				max = p->v[k][i];
		max = nice_max(max);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0, top + h, x0 + w,
			top + h);
		double bw = w / (p->nseries + 1);
		for (int i = 0; i < p->nseries; i++) {
			double v = p->v[k][i];
			double bh = h * v / max;
			double bx = x0 + bw * (i + 0.5);
			char num[32];
			compact(v, num, sizeof(num));
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", bx,
				top + h - bh, bw * 0.9, bh, colors[i]);
			esc(f, p->labels[i]);
			fprintf(f, ": %s</title></rect>\n", num);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n",
				bx + bw * 0.45, top + h - bh - 4, num);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", x0 + w / 2,
			top + h + 18, metric_names[k]);
	}
	return y0 + BAR_H;
}

static double draw_lines(FILE *f, const struct panel *p, double y0)
{
	fprintf(f, "<text x=\"10\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">", y0 + 20);
	esc(f, p->title);
	fprintf(f, ": ");
	esc(f, p->yname);
	fprintf(f, " against ");
	esc(f, p->xname);
	fprintf(f, "</text>\n");
	legend(f, p, 10, y0 + 42);
	double x0 = 80, x1 = PANEL_W - 30, top = y0 + 60, bot = y0 + LINE_H - 50;
	double ymax = 0, xmin = p->npoints ? p->xs[0] : 0, xmax = p->npoints ? p->xs[p->npoints - 1] : 1;
	for (int i = 0; i < p->nseries; i++)
		for (int k = 0; k < p->npoints; k++)
			if (p->ys[i][k] > ymax)
				ymax = p->ys[i][k];
	ymax = nice_max(ymax);
	if (xmax <= xmin)
		xmax = xmin + 1;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0, bot, x1, bot);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0, top, x0, bot);
	for (int g = 0; g <= 4; g++) {
		double y = bot - (bot - top) * g / 4.0;
		char num[32];
		compact(ymax * g / 4.0, num, sizeof(num));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, y, x1, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n", x0 - 6, y + 4,
			num);
	}
	for (int k = 0; k < p->npoints; k++) {
		double x = x0 + (x1 - x0) * (p->xs[k] - xmin) / (xmax - xmin);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.0f</text>\n", x, bot + 16,
			p->xs[k]);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">", (x0 + x1) / 2, bot + 34);
	esc(f, p->xname);
	fprintf(f, "</text>\n");
	for (int i = 0; i < p->nseries; i++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[i]);
		for (int k = 0; k < p->npoints; k++)
			fprintf(f, "%.1f,%.1f ", x0 + (x1 - x0) * (p->xs[k] - xmin) / (xmax - xmin),
				bot - (bot - top) * p->ys[i][k] / ymax);
		fprintf(f, "\"/>\n");
		for (int k = 0; k < p->npoints; k++)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
				x0 + (x1 - x0) * (p->xs[k] - xmin) / (xmax - xmin), bot - (bot - top) * p->ys[i][k] / ymax,
				colors[i]);
	}
	return y0 + LINE_H;
}

int vt_svg_write(const struct vt_svg_doc *d, const char *path)
{
	double h = 10;
	for (int i = 0; i < d->n; i++)
		h += d->p[i].lines ? LINE_H : BAR_H;
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		   "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
		PANEL_W, h, PANEL_W, h);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	double y = 0;
	for (int i = 0; i < d->n; i++)
		y = d->p[i].lines ? draw_lines(f, &d->p[i], y) : draw_bars(f, &d->p[i], y);
	fprintf(f, "</svg>\n");
	int err = ferror(f);
	if (fclose(f) != 0 || err) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
