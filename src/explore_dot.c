/*
 * The explored state graph for 'vtlb explore --dot FILE' (see
 * include/vtlb/explore.h).  The explorer hands over each state by its
 * canonical bytes (the visited set's identity, so with pCPU symmetry a node
 * is a class of states equal up to renaming pCPUs) and each transition it
 * takes; this file numbers states in order of discovery, keeps the distinct
 * edges and writes Graphviz text.  One lock guards it, so --jobs workers may
 * share it; it is meant for small searches and refuses to grow beyond its
 * node limit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vtlb/explore.h"
#include "vtlb/trace.h"

struct dot_node {
	uint64_t hash;       /* 0: empty slot */
	uint8_t *bytes;
	size_t len;
	int id;
};

struct dot_edge {
	int from, to;
	struct vt_event ev;
};

struct vt_explore_dot {
	pthread_mutex_t lock;
	size_t max_nodes;
	struct dot_node *tab;  /* open addressing, power-of-two capacity */
	size_t cap;
	int nnodes;
	uint8_t *violating;    /* [max_nodes] */
	struct dot_edge *edges;
	size_t nedges, edges_cap;
	struct dot_edge *path; /* the counterexample's transitions, drawn bold */
	size_t npath;
	int full;              /* a state beyond max_nodes was offered */
	int oom;
};

struct vt_explore_dot *vt_explore_dot_new(size_t max_nodes)
{
	struct vt_explore_dot *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->max_nodes = max_nodes;
	d->cap = 64;
	while (d->cap < 2 * max_nodes)
		d->cap *= 2;
	d->tab = calloc(d->cap, sizeof(*d->tab));
	d->violating = calloc(max_nodes + 1, 1);
	if (!d->tab || !d->violating) {
		free(d->tab);
		free(d->violating);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

void vt_explore_dot_free(struct vt_explore_dot *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->cap; i++)
		free(d->tab[i].bytes);
	free(d->tab);
	free(d->violating);
	free(d->edges);
	free(d->path);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* The id of a state (added if new), or -1 past the node limit or out of memory. Called locked. */
static int node_locked(struct vt_explore_dot *d, const uint8_t *c, size_t len, uint64_t h)
{
	if (!h)
		h = 1;
	size_t j = h & (d->cap - 1);
	for (; d->tab[j].hash; j = (j + 1) & (d->cap - 1))
		if (d->tab[j].hash == h && d->tab[j].len == len && memcmp(d->tab[j].bytes, c, len) == 0)
			return d->tab[j].id;
	if ((size_t)d->nnodes >= d->max_nodes) {
		d->full = 1;
		return -1;
	}
	uint8_t *b = malloc(len ? len : 1);
	if (!b) {
		d->oom = 1;
		return -1;
	}
	memcpy(b, c, len);
	d->tab[j].hash = h;
	d->tab[j].bytes = b;
	d->tab[j].len = len;
	d->tab[j].id = d->nnodes++;
	return d->tab[j].id;
}

int vt_explore_dot_node(struct vt_explore_dot *d, const uint8_t *c, size_t len, uint64_t h)
{
	pthread_mutex_lock(&d->lock);
	int id = node_locked(d, c, len, h);
	pthread_mutex_unlock(&d->lock);
	return id;
}

int vt_explore_dot_edge(struct vt_explore_dot *d, int from, const uint8_t *c, size_t len, uint64_t h,
			const struct vt_event *ev, bool violating)
{
	pthread_mutex_lock(&d->lock);
	int to = node_locked(d, c, len, h);
	if (to >= 0 && from >= 0) {
		if (violating)
			d->violating[to] = 1;
		if (d->nedges == d->edges_cap) {
			size_t cap = d->edges_cap ? d->edges_cap * 2 : 256;
			struct dot_edge *e = realloc(d->edges, cap * sizeof(*e));
			if (!e) {
				d->oom = 1;
				to = -1;
				goto out;
			}
			d->edges = e;
			d->edges_cap = cap;
		}
		d->edges[d->nedges++] = (struct dot_edge){.from = from, .to = to, .ev = *ev};
	}
out:
	pthread_mutex_unlock(&d->lock);
	return to;
}

int vt_explore_dot_find(struct vt_explore_dot *d, const uint8_t *c, size_t len, uint64_t h)
{
	if (!h)
		h = 1;
	int id = -1;
	pthread_mutex_lock(&d->lock);
	for (size_t j = h & (d->cap - 1); d->tab[j].hash; j = (j + 1) & (d->cap - 1))
		if (d->tab[j].hash == h && d->tab[j].len == len && memcmp(d->tab[j].bytes, c, len) == 0) {
			id = d->tab[j].id;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	return id;
}

int vt_explore_dot_path(struct vt_explore_dot *d, int from, int to, const struct vt_event *ev)
{
	struct dot_edge *p = realloc(d->path, (d->npath + 1) * sizeof(*p));
	if (!p)
		return -1;
	d->path = p;
	d->path[d->npath++] = (struct dot_edge){.from = from, .to = to, .ev = *ev};
	return 0;
}

bool vt_explore_dot_full(const struct vt_explore_dot *d)
{
	return d->full || d->oom;
}

static int edge_cmp(const void *pa, const void *pb)
{
	const struct dot_edge *x = pa, *y = pb;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	/* field by field: struct padding is not part of an event (nor is its source line) */
	const struct vt_event *ea = &x->ev, *eb = &y->ev;
	int64_t d[] = {ea->kind - eb->kind, ea->vcpu - eb->vcpu, ea->pcpu - eb->pcpu, ea->flags - eb->flags,
		       ea->op.code - eb->op.code, ea->op.flags - eb->op.flags, ea->op.space - eb->op.space,
		       ea->op.target - eb->op.target, ea->op.a < eb->op.a ? -1 : ea->op.a > eb->op.a,
		       ea->op.b < eb->op.b ? -1 : ea->op.b > eb->op.b};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (d[i])
			return d[i] < 0 ? -1 : 1;
	return 0;
}

static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int vt_explore_dot_write(FILE *f, struct vt_explore_dot *d, const struct vt_model *m,
			 const struct vt_explore_result *r)
{
	/* a search repeats a transition when it explores a state again at a smaller depth: keep one */
	if (d->nedges)
		qsort(d->edges, d->nedges, sizeof(*d->edges), edge_cmp);
	size_t n = 0;
	for (size_t i = 0; i < d->nedges; i++)
		if (!n || edge_cmp(&d->edges[n - 1], &d->edges[i]) != 0)
			d->edges[n++] = d->edges[i];
	d->nedges = n;
	if (d->npath)
		qsort(d->path, d->npath, sizeof(*d->path), edge_cmp);
	fprintf(f, "// vtlb explore %s: %d states, %zu distinct transitions (%llu taken)\n", m->file, d->nnodes,
		d->nedges, (unsigned long long)r->transitions);
	fprintf(f, "// bounds: depth %u, %u preemptions, %u migrations%s\n", r->bounds.depth, r->bounds.preemptions,
		r->bounds.migrations,
		r->symmetric ? "; pCPU symmetry: a node stands for its states up to renaming pCPUs, and a label "
			       "numbers pCPUs as the state the search held" : "");
	if (r->status == VT_EXPLORE_VIOLATION)
		fprintf(f, "// the search stopped at the first violation (red; its path, as found, in bold): the graph is partial\n");
	else if (r->status != VT_EXPLORE_CLEAN)
		fprintf(f, "// the search is incomplete: the graph is partial\n");
	fprintf(f, "digraph vtlb {\n  node [shape=circle, fontsize=10];\n  edge [fontsize=9];\n");
	for (int i = 0; i < d->nnodes; i++) {
		fprintf(f, "  s%d [label=\"%d\"", i, i);
		if (i == 0)
			fprintf(f, ", shape=doublecircle");
		if (d->violating[i])
			fprintf(f, ", style=filled, fillcolor=red, fontcolor=white");
		fprintf(f, "];\n");
	}
	for (size_t i = 0; i < d->nedges; i++) {
		char buf[256];
		vt_event_format(m, &d->edges[i].ev, buf, sizeof(buf));
		fprintf(f, "  s%d -> s%d [label=", d->edges[i].from, d->edges[i].to);
		dot_str(f, buf);
		bool on_path = d->npath && bsearch(&d->edges[i], d->path, d->npath, sizeof(*d->path), edge_cmp);
		fprintf(f, "%s%s];\n", on_path || d->violating[d->edges[i].to] ? ", color=red" : "",
			on_path ? ", penwidth=2" : "");
	}
	fprintf(f, "}\n");
	return ferror(f) ? -1 : 0;
}

int vt_explore_dot_nodes(const struct vt_explore_dot *d)
{
	return d->nnodes;
}
