/*
 * The scenario parser (docs/scenarios.md has the grammar).  Line-oriented:
 * each line is split into tokens (words, numbers, '->', ':' and ','; '#'
 * starts a comment), and the first token decides what the line is.
 * Declarations (arch first, then machine, vm, space, map, s2, vcpu, option)
 * precede events; expectations, reverts and bounds may appear anywhere.
 * Every error stops the parse with one diagnostic naming file:line:col.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "scenario_perf.h"
#include "vtlb/fixes.h"
#include "vtlb/ops.h"
#include "vtlb/scenario.h"
#include "vtlb/x86.h"


#include "guest/x86_nested.h"

/* ---- diagnostics and tokens -------------------------------------------- */

static int verr(struct vt_parser *p, uint32_t col, const char *fmt, va_list ap)
{
	if (p->failed)
		return -1;
	p->failed = 1;
	p->diag->line = p->line;
	p->diag->col = col;
	vsnprintf(p->diag->msg, sizeof(p->diag->msg), fmt, ap);
	return -1;
}

static uint32_t end_col(const struct vt_parser *p)
{
	if (p->ntok == 0)
		return 1;
	const struct vt_token *t = &p->tok[p->ntok - 1];
	return t->col + t->len;
}

int vt_parse_error(struct vt_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	uint32_t col = p->cur < p->ntok ? p->tok[p->cur].col : end_col(p);
	int r = verr(p, col, fmt, ap);
	va_end(ap);
	return r;
}

int vt_parse_error_at(struct vt_parser *p, int i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	uint32_t col = i >= 0 && i < p->ntok ? p->tok[i].col : end_col(p);
	int r = verr(p, col, fmt, ap);
	va_end(ap);
	return r;
}

/* Does token i equal the len bytes at word? */
static bool vt_tok_is_n(const struct vt_parser *p, int i, const char *word, size_t len)
{
	return i >= 0 && i < p->ntok && p->tok[i].len == len && memcmp(p->tok[i].s, word, len) == 0;
}

bool vt_tok_is(const struct vt_parser *p, int i, const char *word)
{
	if (i < 0 || i >= p->ntok)
		return false;
	size_t n = strlen(word);
	return p->tok[i].len == n && memcmp(p->tok[i].s, word, n) == 0;
}

bool vt_parse_at_end(const struct vt_parser *p)
{
	return p->cur >= p->ntok;
}

bool vt_parse_peek(const struct vt_parser *p, const char *word)
{
	return vt_tok_is(p, p->cur, word);
}

bool vt_parse_accept(struct vt_parser *p, const char *word)
{
	if (!vt_parse_peek(p, word))
		return false;
	p->cur++;
	return true;
}

int vt_parse_expect(struct vt_parser *p, const char *word)
{
	if (vt_parse_accept(p, word))
		return 0;
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected '%s' at end of line", word);
	return vt_parse_error(p, "expected '%s', found '%.*s'", word, (int)p->tok[p->cur].len, p->tok[p->cur].s);
}

int vt_parse_number_text(const char *s, size_t n, uint64_t *out)
{
	size_t i = 0;
	unsigned base = 10;
	uint64_t v = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return VT_NUM_INVALID;
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return VT_NUM_INVALID;
		if (v > (UINT64_MAX - d) / base)
			return VT_NUM_OVERFLOW;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int vt_parse_number(struct vt_parser *p, const char *what, uint64_t *out)
{
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected %s at end of line", what);
	const struct vt_token *t = &p->tok[p->cur];
	int rc = vt_parse_number_text(t->s, t->len, out);
	if (rc == VT_NUM_INVALID)
		return vt_parse_error(p, "expected %s, found '%.*s'", what, (int)t->len, t->s);
	if (rc == VT_NUM_OVERFLOW)
		return vt_parse_error(p, "%s '%.*s' does not fit in 64 bits", what, (int)t->len, t->s);
	p->cur++;
	return 0;
}

void vt_parse_warn_at(struct vt_parser *p, int i, const char *fmt, ...)
{
	struct vt_diag *d = p->diag;
	if (d->nwarn == VT_MAX_WARNINGS) {
		d->warn_dropped++;
		return;
	}
	struct vt_warning *w = &d->warn[d->nwarn++];
	va_list ap;
	va_start(ap, fmt);
	w->line = p->line;
	w->col = i >= 0 && i < p->ntok ? p->tok[i].col : end_col(p);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

#define VT_PAGE_MASK 0xfffull

int vt_parse_addr(struct vt_parser *p, const char *what, uint64_t *out)
{
	int at = p->cur;
	if (vt_parse_number(p, what, out) < 0)
		return -1;
	if (*out & VT_PAGE_MASK) {
		if (!strncmp(what, "a ", 2))
			what += 2;
		vt_parse_warn_at(p, at, "%s 0x%llx is not 4 KiB-aligned: the model takes each distinct address for a "
					"page of its own, not for an offset into the page at 0x%llx",
				 what, (unsigned long long)*out, (unsigned long long)(*out & ~VT_PAGE_MASK));
	}
	return 0;
}

static bool is_name(const struct vt_token *t)
{
	if (t->len == 0 || !(isalpha((unsigned char)t->s[0]) || t->s[0] == '_'))
		return false;
	for (uint32_t i = 1; i < t->len; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

int vt_parse_word(struct vt_parser *p, const char *what, char *buf, size_t len)
{
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected %s at end of line", what);
	const struct vt_token *t = &p->tok[p->cur];
	if (!is_name(t))
		return vt_parse_error(p, "expected %s (a name), found '%.*s'", what, (int)t->len, t->s);
	if (t->len >= len)
		return vt_parse_error(p, "%s '%.*s' is too long (at most %zu characters)", what, (int)t->len, t->s,
				      len - 1);
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	p->cur++;
	return 0;
}

/* A space or a table (kind: 0 address space, 1 either, 2 table). */
static int parse_space_kind(struct vt_parser *p, int *space, int kind)
{
	char name[VT_NAME];
	int at = p->cur;
	if (vt_parse_word(p, kind == 2 ? "a page table" : "an address space", name, sizeof(name)) < 0)
		return -1;
	int sp = vt_model_space(p->m, name);
	if (sp < 0)
		return vt_parse_error_at(p, at, kind == 2 ? "unknown page table '%s' (declare it with 'table')"
							  : "unknown address space '%s' (declare it with 'space')",
					 name);
	if (kind == 0 && p->m->space[sp].table)
		return vt_parse_error_at(p, at, "'%s' is a page table linked below address spaces, not an address space",
					 name);
	if (kind == 2 && !p->m->space[sp].table)
		return vt_parse_error_at(p, at, "'%s' is an address space, not a page table (declare one with 'table')",
					 name);
	if (p->vm >= 0 && p->m->space[sp].vm != p->vm &&
	    !(p->nested_ok && p->m->vm[p->m->space[sp].vm].nested_of == p->vm + 1))
		return vt_parse_error_at(p, at, "address space '%s' belongs to VM '%s', not '%s'", name,
					 p->m->vm[p->m->space[sp].vm].name, p->m->vm[p->vm].name);
	*space = sp;
	return 0;
}

int vt_parse_space(struct vt_parser *p, int *space)
{
	return parse_space_kind(p, space, 0);
}

/* SPACE TABLE, for 'link' and 'unlink' (both of the same VM) */
static int parse_link(struct vt_parser *p, struct vt_op *op)
{
	int sp, t;
	if (parse_space_kind(p, &sp, 0) < 0)
		return -1;
	int at = p->cur;
	if (parse_space_kind(p, &t, 2) < 0)
		return -1;
	if (p->m->space[t].vm != p->m->space[sp].vm)
		return vt_parse_error_at(p, at, "page table '%s' belongs to another VM than '%s'", p->m->space[t].name,
					 p->m->space[sp].name);
	op->space = (int16_t)sp;
	op->b = (uint64_t)t;
	p->m->linkable[sp] |= (uint16_t)(1u << t);
	return 0;
}

/* Split one line into tokens.  Returns 0, or -1 with a diagnostic. */
static int tokenize(struct vt_parser *p, const char *s, size_t n)
{
	p->ntok = 0;
	p->cur = 0;
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (c < 0x20 || c >= 0x7f) {
			p->failed = 1;
			p->diag->line = p->line;
			p->diag->col = (uint32_t)i + 1;
			snprintf(p->diag->msg, sizeof(p->diag->msg),
				 "unexpected character (byte 0x%02x); scenarios are plain ASCII", c);
			return -1;
		}
		if (p->ntok == VT_MAX_TOKENS) {
			p->failed = 1;
			p->diag->line = p->line;
			p->diag->col = (uint32_t)i + 1;
			snprintf(p->diag->msg, sizeof(p->diag->msg), "too many words on one line (at most %d)",
				 VT_MAX_TOKENS);
			return -1;
		}
		struct vt_token *t = &p->tok[p->ntok++];
		t->s = s + i;
		t->col = (uint32_t)i + 1;
		if (c == ':' || c == ',') {
			t->len = 1;
			i++;
			continue;
		}
		if (c == '-' && i + 1 < n && s[i + 1] == '>') {
			t->len = 2;
			i += 2;
			continue;
		}
		size_t j = i;
		while (j < n) {
			unsigned char d = (unsigned char)s[j];
			if (d == ' ' || d == '\t' || d == '\r' || d == '#' || d == ':' || d == ',' || d < 0x20 ||
			    d >= 0x7f)
				break;
			if (d == '-' && j + 1 < n && s[j + 1] == '>')
				break;
			j++;
		}
		t->len = (uint32_t)(j - i);
		i = j;
	}
	return 0;
}

/* ---- references ---------------------------------------------------------- */

static int parse_vm(struct vt_parser *p, int *vm)
{
	char name[VT_NAME];
	int at = p->cur;
	if (vt_parse_word(p, "a VM name", name, sizeof(name)) < 0)
		return -1;
	*vm = vt_model_vm(p->m, name);
	if (*vm < 0)
		return vt_parse_error_at(p, at, "unknown VM '%s' (declare it with 'vm')", name);
	return 0;
}

/* VM.N */
int vt_parse_vcpu(struct vt_parser *p, int *v)
{
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected a vCPU (VM.N) at end of line");
	const struct vt_token *t = &p->tok[p->cur];
	const char *dot = memchr(t->s, '.', t->len);
	if (!dot)
		return vt_parse_error(p, "expected a vCPU as VM.N, found '%.*s'", (int)t->len, t->s);
	size_t nl = (size_t)(dot - t->s);
	char name[VT_NAME];
	if (nl == 0 || nl >= sizeof(name))
		return vt_parse_error(p, "expected a vCPU as VM.N, found '%.*s'", (int)t->len, t->s);
	memcpy(name, t->s, nl);
	name[nl] = 0;
	int vm = vt_model_vm(p->m, name);
	if (vm < 0)
		return vt_parse_error(p, "unknown VM '%s' in '%.*s'", name, (int)t->len, t->s);
	p->l2vm = -1;
	int named = vm;
	if (p->m->vm[vm].nested_of) {
		/* L2.N runs on its L1's vCPU N */
		if (!p->allow_l2)
			return vt_parse_error(p, "'%.*s' is a vCPU of the nested VM '%s', which runs on its L1's vCPU: name "
						 "%s.%.*s here",
					      (int)t->len, t->s, name, p->m->vm[p->m->vm[vm].nested_of - 1].name,
					      (int)(t->len - nl - 1), dot + 1);
		p->l2vm = vm;
		vm = p->m->vm[vm].nested_of - 1;
	}
	(void)named;
	const char *d = dot + 1;
	size_t dl = t->len - nl - 1;
	if (dl == 0 || dl > 3)
		return vt_parse_error(p, "expected a vCPU index after '%s.'", name);
	unsigned idx = 0;
	for (size_t i = 0; i < dl; i++) {
		if (!isdigit((unsigned char)d[i]))
			return vt_parse_error(p, "expected a vCPU index after '%s.'", name);
		idx = idx * 10 + (unsigned)(d[i] - '0');
	}
	if (idx >= p->m->vm[vm].nvcpus)
		return vt_parse_error(p, "VM '%s' has %d vCPU%s; '%.*s' does not exist", name, p->m->vm[vm].nvcpus,
				      p->m->vm[vm].nvcpus == 1 ? "" : "s", (int)t->len, t->s);
	*v = p->m->vm[vm].first_vcpu + (int)idx;
	p->cur++;
	return 0;
}

static int parse_pcpu(struct vt_parser *p, int *pc)
{
	uint64_t n;
	int at = p->cur;
	if (vt_parse_number(p, "a pCPU number", &n) < 0)
		return -1;
	if (n >= (uint64_t)p->m->npcpus)
		return vt_parse_error_at(p, at, "pCPU %llu does not exist (the machine has %d)", (unsigned long long)n,
					 p->m->npcpus);
	*pc = (int)n;
	return 0;
}

static int expect_end(struct vt_parser *p)
{
	if (vt_parse_at_end(p))
		return 0;
	return vt_parse_error(p, "unexpected '%.*s' at end of line", (int)p->tok[p->cur].len, p->tok[p->cur].s);
}

/* ---- declarations -------------------------------------------------------- */

struct pstate {
	struct vt_parser p;
	int have_arch;
	int have_machine;
	int events;         /* an event has been seen: no more declarations */
	int in_program;     /* 0: no; 1 + vCPU; VT_MAX_VCPUS + 1: host */
	uint32_t program_line;
	uint64_t programs_seen;
	uint32_t explore_line;  /* a 'bounds' or 'phases' line (only 'vtlb explore' reads them) */
	uint32_t schedule_line; /* a 'schedule' line (only scripts have one) */
	size_t script_cap;
	int prog_l2vm;      /* in a program: the L2 VM of its last vmptrld, -1 */
	int prog_in_l2;     /* in a program: the operations are L2's (after vmlaunch, until vmexit) */
};

/*
 * In a program the level of each operation follows from the ones before it:
 * L1's until a vmlaunch or vmresume, then L2's until its vmexit.
 */
static int program_level(struct pstate *ps, struct vt_event *ev, bool after)
{
	struct vt_parser *p = &ps->p;
	if (!p->m->has_nested)
		return 0;
	if (!after) {
		if (ps->prog_in_l2) {
			ev->flags |= VT_EVF_L2;
			ev->pcpu = (int8_t)ps->prog_l2vm;
		}
		return 0;
	}
	switch (ev->op.code) {
	case VT_X86_VMPTRLD:
		if (!ps->prog_in_l2)
			ps->prog_l2vm = ev->op.target;
		return 0;
	case VT_X86_VMLAUNCH:
		if (ps->prog_in_l2)
			return 0; /* L2 running VMX instructions: the step reports the fault */
		if (ps->prog_l2vm < 0)
			return vt_parse_error_at(p, 0, "a VM entry before any 'vmptrld' in this program");
		ps->prog_in_l2 = 1;
		return 0;
	case VT_X86_VMRUN:
		if (!ps->prog_in_l2) {
			ps->prog_l2vm = ev->op.target;
			ps->prog_in_l2 = 1;
		}
		return 0;
	case VT_X86_VMEXIT:
		ps->prog_in_l2 = 0;
		return 0;
	default:
		return 0;
	}
}

static int decl_arch(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	if (ps->have_arch)
		return vt_parse_error_at(p, 0, "'arch' given twice");
	/* Match the words against the backends' names, word by word (src/backends.c). */
	int be = -1;
	for (int w = 0;; w++) {
		char seen[160] = "";
		int matched = 0;
		be = -1;
		for (int b = 0; b < VT_BE_COUNT; b++) {
			const char *name = vt_backend_name((enum vt_backend)b);
			int ok = 1, i = 0;
			const char *q = name;
			for (; i < w && ok; i++) {
				size_t len = strcspn(q, " ");
				ok = vt_tok_is_n(p, 1 + i, q, len);
				q += len + (q[len] == ' ');
			}
			if (!ok)
				continue;
			if (!*q) {
				be = b; /* the words so far name this backend exactly */
				continue;
			}
			size_t len = strcspn(q, " ");
			char word[40];
			snprintf(word, sizeof(word), "'%.*s'", (int)len, q);
			if (vt_tok_is_n(p, 1 + w, q, len))
				matched = 1;
			else if (!strstr(seen, word))
				snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s", seen[0] ? " or " : "", word);
		}
		if (matched)
			continue;
		p->cur = 1 + w;
		if (be >= 0)
			break;
		return vt_parse_error(p, "expected %s after '%.*s'", seen, (int)p->tok[w].len, p->tok[w].s);
	}
	m->arch = vt_backend_arch((enum vt_backend)be);
	if (expect_end(p) < 0)
		return -1;
	m->backend = (enum vt_backend)be;
	vt_backend_ops(m->backend, &m->aops, &m->oracle, &m->hw, &m->hv);
	if (!m->aops || !m->oracle || !m->hw || !m->hv)
		return vt_parse_error_at(p, 1, "backend '%s' is not built into this vtlb", vt_backend_name(m->backend));
	vt_options_default(m);
	ps->have_arch = 1;
	return 0;
}

static int decl_option(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	char name[32];
	int at = p->cur;
	if (vt_parse_word(p, "an option name", name, sizeof(name)) < 0)
		return -1;
	const struct vt_option_decl *o = vt_option_lookup(name);
	if (!o)
		return vt_parse_error_at(p, at, "unknown option '%s' (see 'vtlb options')", name);
	if (!(o->archs & (1u << p->m->arch)))
		return vt_parse_error_at(p, at, "option '%s' does not apply to %s", name, vt_arch_name(p->m->arch));
	if (o->backends && !(o->backends & (1u << p->m->backend))) {
		char for_[96] = "";
		for (int b = 0; b < VT_BE_COUNT; b++)
			if (o->backends & (1u << b))
				snprintf(for_ + strlen(for_), sizeof(for_) - strlen(for_), "%s'%s'", for_[0] ? " and " : "",
					 vt_backend_name((enum vt_backend)b));
		vt_parse_warn_at(p, at, "option '%s' has no effect on '%s' (it is for %s)", name,
				 vt_backend_name(p->m->backend), for_);
	}
	uint64_t v;
	if (o->boolean && vt_parse_accept(p, "on"))
		v = 1;
	else if (o->boolean && vt_parse_accept(p, "off"))
		v = 0;
	else if (o->boolean)
		return vt_parse_error(p, "option '%s' takes 'on' or 'off'", name);
	else {
		int vat = p->cur;
		if (vt_parse_number(p, "a value", &v) < 0)
			return -1;
		if (v < o->min || v > o->max)
			return vt_parse_error_at(p, vat, "option '%s' must be between %u and %u", name, o->min, o->max);
	}
	p->m->opt[o->id] = (uint32_t)v;
	return expect_end(p);
}

static int decl_machine(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	uint64_t n, t = 1;
	int at;
	if (ps->have_machine)
		return vt_parse_error_at(p, 0, "'machine' given twice");
	if (vt_parse_accept(p, "pcpus")) {
		at = p->cur;
		if (vt_parse_number(p, "a pCPU count", &n) < 0)
			return -1;
	} else if (vt_parse_accept(p, "cores")) {
		at = p->cur;
		if (vt_parse_number(p, "a core count", &n) < 0 || vt_parse_expect(p, "threads") < 0)
			return -1;
		int tat = p->cur;
		if (vt_parse_number(p, "threads per core", &t) < 0)
			return -1;
		if (t < 1 || t > 8)
			return vt_parse_error_at(p, tat, "threads per core must be 1 to 8");
	} else {
		return vt_parse_error(p, "expected 'pcpus N' or 'cores N threads T'");
	}
	if (n < 1 || n * t > VT_MAX_PCPUS)
		return vt_parse_error_at(p, at, "the machine must have 1 to %d pCPUs", VT_MAX_PCPUS);
	m->npcpus = (int)(n * t);
	m->threads_per_core = (int)t;
	ps->have_machine = 1;
	return expect_end(p);
}

static int parse_pcpu_list(struct vt_parser *p, uint64_t *mask)
{
	*mask = 0;
	do {
		int pc;
		if (parse_pcpu(p, &pc) < 0)
			return -1;
		*mask |= VT_BIT(pc);
	} while (vt_parse_accept(p, ","));
	return 0;
}

static int decl_vm(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	char name[VT_NAME];
	uint64_t n;
	int at = p->cur;
	if (!ps->have_machine)
		return vt_parse_error_at(p, 0, "declare the 'machine' before VMs");
	if (vt_parse_word(p, "a VM name", name, sizeof(name)) < 0)
		return -1;
	if (strchr(name, '.'))
		return vt_parse_error_at(p, at, "a VM name cannot contain '.'");
	if (vt_model_vm(m, name) >= 0)
		return vt_parse_error_at(p, at, "VM '%s' declared twice", name);
	if (m->nvms == VT_MAX_VMS)
		return vt_parse_error_at(p, at, "too many VMs (at most %d)", VT_MAX_VMS);
	if (vt_parse_accept(p, "nested")) {
		/* an L2 guest of another VM (x86 VMX): it runs on its L1's vCPUs */
		int kat = p->cur - 1, l1;
		if (m->arch != VT_ARCH_X86)
			return vt_parse_error_at(p, kat, "'nested' VMs are x86 (nested VMX); on POWER say 'vcpu ... nested L1'");
		if (parse_vm(p, &l1) < 0)
			return -1;
		if (m->vm[l1].nested_of)
			return vt_parse_error_at(p, p->cur - 1, "model: '%s' is itself nested; a third level is not modelled",
						 m->vm[l1].name);
		struct vt_vm *vm = &m->vm[m->nvms];
		memcpy(vm->name, name, sizeof(name));
		vm->nvcpus = 0;
		vm->first_vcpu = m->vm[l1].first_vcpu;
		vm->nested_of = (uint8_t)(l1 + 1);
		vm->pcpus = m->vm[l1].pcpus;
		for (int v = m->vm[l1].first_vcpu; v < m->vm[l1].first_vcpu + m->vm[l1].nvcpus; v++)
			m->aops->reset_regs(&m->l2_init[m->nvms][v]);
		m->has_nested = 1;
		m->nvms++;
		return expect_end(p);
	}
	if (vt_parse_expect(p, "vcpus") < 0)
		return -1;
	int nat = p->cur;
	if (vt_parse_number(p, "a vCPU count", &n) < 0)
		return -1;
	if (n < 1 || (uint64_t)m->nvcpus + n > VT_MAX_VCPUS)
		return vt_parse_error_at(p, nat, "at most %d vCPUs in all", VT_MAX_VCPUS);
	struct vt_vm *vm = &m->vm[m->nvms];
	memcpy(vm->name, name, sizeof(name));
	vm->nvcpus = (uint8_t)n;
	vm->first_vcpu = (uint8_t)m->nvcpus;
	vm->pcpus = (m->npcpus >= 64) ? ~0ull : VT_BIT(m->npcpus) - 1;
	if (vt_parse_accept(p, "pcpus") && parse_pcpu_list(p, &vm->pcpus) < 0)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		m->vcpu_vm[m->nvcpus] = (uint8_t)m->nvms;
		m->aops->reset_regs(&m->vcpu_init[m->nvcpus]);
		m->nvcpus++;
	}
	m->nvms++;
	return expect_end(p);
}

/*
 * The start that 'space' and 'table' share: NAME, unused and within the
 * limit, then [vm VM] (needed when there are several VMs).
 */
static int decl_name_vm(struct vt_parser *p, bool table, char name[VT_NAME], int *vm)
{
	struct vt_model *m = p->m;
	int at = p->cur;
	if (m->nvms == 0)
		return vt_parse_error_at(p, 0, table ? "declare a 'vm' before its page tables"
						    : "declare a 'vm' before its address spaces");
	if (vt_parse_word(p, table ? "a page-table name" : "an address-space name", name, VT_NAME) < 0)
		return -1;
	if (vt_model_space(m, name) >= 0)
		return vt_parse_error_at(p, at, table ? "'%s' declared twice" : "address space '%s' declared twice", name);
	if (m->nspaces == VT_MAX_SPACES)
		return vt_parse_error_at(p, at, "too many address spaces%s (at most %d)", table ? " and tables" : "",
					 VT_MAX_SPACES);
	if (vt_parse_accept(p, "vm"))
		return parse_vm(p, vm);
	if (m->nvms == 1) {
		*vm = 0;
		return 0;
	}
	if (table)
		return vt_parse_error(p, "with several VMs, say which one: 'table %s vm NAME'", name);
	return vt_parse_error(p, "with several VMs, say which one: 'space %s vm NAME %s N'", name, m->aops->ctx_word);
}

static int decl_space(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	char name[VT_NAME];
	int vm;
	if (decl_name_vm(p, false, name, &vm) < 0)
		return -1;
	if (!vt_parse_accept(p, m->aops->ctx_word) && !vt_parse_accept(p, "ctx"))
		return vt_parse_error(p, "expected '%s N' (the context this address space runs under)", m->aops->ctx_word);
	uint64_t ctx;
	int cat = p->cur;
	if (vt_parse_number(p, "a context number", &ctx) < 0)
		return -1;
	uint32_t cmax = m->aops->ctx_max && m->aops->ctx_max < 0xffff ? m->aops->ctx_max : 0xffff;
	if (ctx > cmax)
		return vt_parse_error_at(p, cat, "a %s goes up to 0x%x", m->aops->ctx_word, cmax);
	struct vt_space *sp = &m->space[m->nspaces++];
	memcpy(sp->name, name, sizeof(name));
	sp->vm = (uint8_t)vm;
	sp->ctx = (uint32_t)ctx;
	return expect_end(p);
}

/*
 * table NAME [vm VM] [at GPA]: a page table (think of a page directory and
 * the page tables below it) that 'link' puts below address spaces.  Its
 * entries are walked under the context of the space that links it.  'at'
 * gives the guest-physical page that holds it, so that a guest mapping of
 * that page is a writable alias of the table (x86 shadow paging).
 */
static int decl_table(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	char name[VT_NAME];
	int vm;
	if (decl_name_vm(p, true, name, &vm) < 0)
		return -1;
	uint64_t gpa = 0;
	int gat = p->cur;
	int has_at = vt_parse_accept(p, "at");
	if (has_at) {
		gat = p->cur;
		if (vt_parse_addr(p, "a guest-physical address", &gpa) < 0)
			return -1;
		for (int i = 0; i < m->nspaces; i++)
			if (m->space[i].at && m->space[i].vm == vm && m->space[i].gpa == gpa)
				return vt_parse_error_at(p, gat, "page tables '%s' and '%s' cannot share the page 0x%llx",
							 m->space[i].name, name, (unsigned long long)gpa);
	}
	struct vt_space *sp = &m->space[m->nspaces++];
	memcpy(sp->name, name, sizeof(name));
	sp->vm = (uint8_t)vm;
	sp->table = 1;
	sp->at = (uint8_t)has_at;
	sp->gpa = gpa;
	return expect_end(p);
}

/* link SPACE TABLE: the table starts linked below the space */
static int decl_link(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_op op;
	memset(&op, 0, sizeof(op));
	p->vm = -1;
	if (parse_link(p, &op) < 0)
		return -1;
	p->m->init_links[op.space] |= (uint16_t)(1u << op.b);
	return expect_end(p);
}

/* SPACE VA -> GPA [global]  (the vm of the space is checked against p->vm if set) */
static int parse_mapping(struct vt_parser *p, struct vt_op *op)
{
	int sp;
	uint64_t va, gpa;
	if (parse_space_kind(p, &sp, 1) < 0)
		return -1;
	int vat = p->cur;
	if (vt_parse_addr(p, "a virtual address", &va) < 0 || vt_parse_expect(p, "->") < 0 ||
	    vt_parse_addr(p, "a guest-physical address", &gpa) < 0)
		return -1;
	int g = vt_parse_accept(p, "global");
	int pte = vt_model_add_pte(p->m, sp, va, gpa, g);
	if (pte < 0)
		return vt_parse_error_at(p, vat, "too many page-table entries or virtual addresses (limits %d and %d)",
					 VT_MAX_P, VT_MAX_VAS);
	op->code = VT_OP_MAP;
	op->space = (int16_t)sp;
	op->a = va;
	op->b = (uint64_t)pte;
	if (g)
		op->flags |= VT_OPF_GLOBAL;
	return 0;
}

static int decl_map(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_op op;
	memset(&op, 0, sizeof(op));
	p->vm = -1;
	if (parse_mapping(p, &op) < 0)
		return -1;
	uint64_t *pt = &p->m->init_pt[op.space];
	int va = vt_model_va_index(p->m, op.a);
	for (int i = 0; i < p->m->np; i++)
		if ((*pt & VT_BIT(i)) && p->m->pte[i].va == va)
			return vt_parse_error_at(p, 2, "address 0x%llx is already mapped in '%s'",
						 (unsigned long long)op.a, p->m->space[op.space].name);
	*pt |= VT_BIT(op.b);
	return expect_end(p);
}

static int decl_s2(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	int vm;
	uint64_t gpa, hpa;
	if (parse_vm(p, &vm) < 0)
		return -1;
	if (p->m->vm[vm].nested_of)
		return vt_parse_error_at(p, p->cur - 1, "'%s' is a nested VM: L1 maps its memory ('ept12 %s GPA -> L1GPA')",
					 p->m->vm[vm].name, p->m->vm[vm].name);
	int at = p->cur;
	if (vt_parse_addr(p, "a guest-physical address", &gpa) < 0 || vt_parse_expect(p, "->") < 0 ||
	    vt_parse_addr(p, "a host-physical address", &hpa) < 0)
		return -1;
	if (p->m->aops->gpa_limit && gpa >= p->m->aops->gpa_limit)
		return vt_parse_error_at(p, at, "guest-physical 0x%llx is beyond the model's 48-bit IPA space",
					 (unsigned long long)gpa);
	/* 's2 VM GPA -> HPA table [level 1|2]': a stage-2 table descriptor (arm64) */
	int level = 3, tword = p->cur;
	if (vt_parse_accept(p, "table")) {
		if (p->m->arch != VT_ARCH_ARM64)
			return vt_parse_error_at(p, tword, "stage-2 table entries are modelled on arm64 only");
		level = 2;
		if (vt_parse_accept(p, "level")) {
			uint64_t l;
			int lat = p->cur;
			if (vt_parse_number(p, "a lookup level", &l) < 0)
				return -1;
			if (l < 1 || l > 2)
				return vt_parse_error_at(p, lat, "a stage-2 table descriptor is at level 1 or 2 "
								 "(4 KiB granule; level 3 entries are pages)");
			level = (int)l;
		}
		struct vt_s2 probe = {.level = (uint8_t)level};
		if (gpa & (vt_s2_span(&probe) - 1))
			return vt_parse_error_at(p, at, "a level-%d table entry covers 0x%llx bytes: its guest-physical "
							"address must be aligned to that",
						 level, (unsigned long long)vt_s2_span(&probe));
	}
	for (int i = 0; i < p->m->ns; i++)
		if ((p->m->init_s2 & VT_BIT(i)) && p->m->s2[i].vm == vm && p->m->s2[i].gpa == gpa &&
		    p->m->s2[i].level == level)
			return vt_parse_error_at(p, at, "guest-physical 0x%llx of '%s' is already mapped%s",
						 (unsigned long long)gpa, p->m->vm[vm].name,
						 level < 3 ? " by a table entry of that level" : "");
	/* A host page that holds a stage-2 table and is also mapped as a guest page: legal for the
	   model, but the guest's writes to it would corrupt the table, which the model does not see. */
	for (int i = 0; i < p->m->ns; i++)
		if ((p->m->init_s2 & VT_BIT(i)) && p->m->s2[i].hpa == hpa && (p->m->s2[i].level < 3) != (level < 3)) {
			vt_parse_warn_at(p, at + 2, "host page 0x%llx is both a stage-2 table and a guest page: the "
						    "model does not see guest writes to it change the table",
					 (unsigned long long)hpa);
			break;
		}
	int s = level < 3 ? vt_model_add_s2_table(p->m, vm, gpa, hpa, level) : vt_model_add_s2(p->m, vm, gpa, hpa);
	if (s < 0)
		return vt_parse_error_at(p, at, "too many stage-2 mappings (at most %d)", VT_MAX_S);
	p->m->init_s2 |= VT_BIT(s);
	return expect_end(p);
}

/* ept12 L2VM GPA -> L1GPA: the EPT12 table L1 runs that L2 with, as L1 sets it up */
static int decl_ept12(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	int vm, at = p->cur;
	uint64_t gpa2, gpa1;
	if (parse_vm(p, &vm) < 0)
		return -1;
	if (!p->m->vm[vm].nested_of)
		return vt_parse_error_at(p, at, "'%s' is not a nested VM (declare it with 'vm %s nested L1VM')",
					 p->m->vm[vm].name, p->m->vm[vm].name);
	bool npt = vt_tok_is(p, 0, "npt12");
	if (!npt && p->m->backend != VT_BE_VMX_EPT)
		return vt_parse_error_at(p, 0, p->m->backend == VT_BE_VMX_SHADOW
						       ? "KVM offers L1 EPT only when it uses EPT itself (arch x86 vmx ept)"
						       : "on SVM L1's nested page table is 'npt12'");
	if (npt && p->m->backend != VT_BE_SVM_NPT)
		return vt_parse_error_at(p, 0, p->m->backend == VT_BE_SVM_SHADOW
						       ? "KVM offers L1 nested paging only when it uses NPT itself (arch x86 svm npt)"
						       : "on VMX L1's nested page table is 'ept12'");
	int gat = p->cur;
	if (vt_parse_addr(p, "an L2 guest-physical address", &gpa2) < 0 || vt_parse_expect(p, "->") < 0 ||
	    vt_parse_addr(p, "an L1 guest-physical address", &gpa1) < 0)
		return -1;
	for (int i = 0; i < p->m->ns; i++)
		if ((p->m->init_s2 & VT_BIT(i)) && p->m->s2[i].vm == vm && p->m->s2[i].gpa == gpa2)
			return vt_parse_error_at(p, gat, "L2 guest-physical 0x%llx of '%s' is already mapped",
						 (unsigned long long)gpa2, p->m->vm[vm].name);
	int s = vt_x86_l2_entry(p->m, vm, gpa2, gpa1);
	if (s < 0)
		return vt_parse_error_at(p, gat, "too many stage-2 mappings (at most %d)", VT_MAX_S);
	p->m->init_s2 |= VT_BIT(s);
	p->m->vm[vm].ept12 = 1;
	return expect_end(p);
}

static int decl_vcpu(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	int v;
	/* VM.* declares every vCPU of the VM alike (workloads with a swept vCPU count) */
	const struct vt_token *t = &p->tok[p->cur];
	if (p->cur < p->ntok && t->len > 2 && t->s[t->len - 2] == '.' && t->s[t->len - 1] == '*') {
		char name[VT_NAME];
		size_t nl = t->len - 2;
		if (nl >= sizeof(name))
			return vt_parse_error(p, "unknown VM '%.*s'", (int)nl, t->s);
		memcpy(name, t->s, nl);
		name[nl] = 0;
		int vm = vt_model_vm(p->m, name);
		if (vm < 0)
			return vt_parse_error(p, "unknown VM '%s' in '%.*s'", name, (int)t->len, t->s);
		p->cur++;
		p->vm = vm;
		if (p->m->vm[vm].nested_of) {
			/* a nested VM's vCPUs are its L1's: the L2 guest state L1 writes into each VMCS12 */
			const struct vt_vm *l1 = &p->m->vm[p->m->vm[vm].nested_of - 1];
			union vt_gregs *g = p->m->l2_init[vm];
			if (p->m->aops->parse_vcpu(p, &g[l1->first_vcpu]) < 0)
				return -1;
			for (int w = l1->first_vcpu + 1; w < l1->first_vcpu + l1->nvcpus; w++)
				g[w] = g[l1->first_vcpu];
			return 0;
		}
		const struct vt_vm *d = &p->m->vm[vm];
		if (p->m->aops->parse_vcpu(p, &p->m->vcpu_init[d->first_vcpu]) < 0)
			return -1;
		for (int w = d->first_vcpu + 1; w < d->first_vcpu + d->nvcpus; w++)
			p->m->vcpu_init[w] = p->m->vcpu_init[d->first_vcpu];
		return 0;
	}
	p->allow_l2 = 1;
	if (vt_parse_vcpu(p, &v) < 0)
		return -1;
	if (p->l2vm >= 0) {
		/* the L2 guest state L1 writes into VMCS12 before VMLAUNCH */
		p->vm = p->l2vm;
		return p->m->aops->parse_vcpu(p, &p->m->l2_init[p->l2vm][v]);
	}
	p->vm = p->m->vcpu_vm[v];
	return p->m->aops->parse_vcpu(p, &p->m->vcpu_init[v]);
}

static int decl_fix_ref(struct pstate *ps, int *out)
{
	struct vt_parser *p = &ps->p;
	char name[64];
	int at = p->cur;
	if (vt_parse_word(p, "a fix name", name, sizeof(name)) < 0)
		return -1;
	int f = vt_fix_lookup(name);
	if (f < 0)
		return vt_parse_error_at(p, at, "unknown fix '%s' (see 'vtlb fixes')", name);
	if (vt_fix_info((unsigned)f)->arch != p->m->arch)
		return vt_parse_error_at(p, at, "fix '%s' is for %s, not %s", name,
					 vt_arch_name(vt_fix_info((unsigned)f)->arch), vt_arch_name(p->m->arch));
	*out = f;
	return 0;
}

static int decl_expect(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_expect *e = &p->m->expect;
	if (vt_parse_accept(p, "fault")) {
		/* an addition to the outcome: the script means its guest operations to fault */
		e = &p->m->expect_fault;
		if (e->kind != VT_EXP_NONE)
			return vt_parse_error_at(p, 0, "'expect fault' given twice");
		e->kind = VT_EXP_FAULT;
		e->line = p->line;
		e->vcpu = -1;
		if (!vt_parse_at_end(p)) {
			int v;
			if (vt_parse_vcpu(p, &v) < 0)
				return -1;
			e->vcpu = (int8_t)v;
		}
		return expect_end(p);
	}
	if (e->kind != VT_EXP_NONE)
		return vt_parse_error_at(p, 0, "'expect' given twice (a scenario has one expectation)");
	e->line = p->line;
	e->vcpu = -1;
	if (vt_parse_accept(p, "clean")) {
		e->kind = VT_EXP_CLEAN;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "found")) {
		e->kind = VT_EXP_FOUND;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "stale"))
		e->kind = VT_EXP_STALE;
	else if (vt_parse_accept(p, "breach"))
		e->kind = VT_EXP_BREACH;
	else
		return vt_parse_error(p, "expected 'clean', 'stale', 'breach', 'fault' or 'found'");
	if (!vt_parse_at_end(p)) {
		int v;
		if (vt_parse_vcpu(p, &v) < 0)
			return -1;
		e->vcpu = (int8_t)v;
	}
	if (!vt_parse_at_end(p)) {
		if (vt_parse_addr(p, "a virtual address", &e->va) < 0)
			return -1;
		e->has_va = 1;
	}
	return expect_end(p);
}

static int decl_bounds(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_bounds *b = &p->m->bounds;
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected 'depth N', 'preemptions N' or 'migrations N'");
	while (!vt_parse_at_end(p)) {
		uint32_t *dst;
		uint64_t v;
		if (vt_parse_accept(p, "depth"))
			dst = &b->depth;
		else if (vt_parse_accept(p, "preemptions"))
			dst = &b->preemptions;
		else if (vt_parse_accept(p, "migrations"))
			dst = &b->migrations;
		else
			return vt_parse_error(p, "expected 'depth', 'preemptions' or 'migrations'");
		int at = p->cur;
		bool depth = dst == &b->depth;
		if (vt_parse_number(p, "a bound", &v) < 0)
			return -1;
		if (depth && (v < 1 || v > 512))
			return vt_parse_error_at(p, at, "the depth bound must be 1 to 512");
		if (!depth && v > 255)
			return vt_parse_error_at(p, at, "preemption and migration bounds go up to 255");
		*dst = (uint32_t)v;
	}
	return 0;
}

/* ---- events ---------------------------------------------------------------- */

static int push_event(struct pstate *ps, const struct vt_event *ev)
{
	struct vt_model *m = ps->p.m;
	if (ps->in_program) {
		int who = ps->in_program - 1;
		if (m->nprog[who] == VT_MAX_PROG)
			return vt_parse_error_at(&ps->p, 0, "a program has at most %d operations", VT_MAX_PROG);
		m->prog[who][m->nprog[who]++] = *ev;
		return 0;
	}
	if ((size_t)m->nscript == ps->script_cap) {
		size_t cap = ps->script_cap ? ps->script_cap * 2 : 64;
		if (cap > 100000)
			return vt_parse_error_at(&ps->p, 0, "too many events (at most 100000)");
		struct vt_event *n = realloc(m->script, cap * sizeof(*n));
		if (!n)
			return vt_parse_error_at(&ps->p, 0, "out of memory");
		m->script = n;
		ps->script_cap = cap;
	}
	m->script[m->nscript++] = *ev;
	return 0;
}

static void event_init(struct pstate *ps, struct vt_event *ev, uint8_t kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->vcpu = -1;
	ev->pcpu = -1;
	ev->line = ps->p.line;
	ev->col = ps->p.ntok ? ps->p.tok[0].col : 1;
	ev->op.space = -1;
	ev->op.target = -1;
}

/* The names of the hardware's instructions, for errors: "a, b, c". */
static void insn_list(const struct vt_hw_ops *hw, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < hw->ninsns && o < len; i++)
		if (hw->insn_names[i])
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", hw->insn_names[i]);
}

/* A guest operation for vCPU v (common page-table ops, or the architecture's). */
static int parse_guest_op(struct pstate *ps, int v, struct vt_event *ev)
{
	struct vt_parser *p = &ps->p;
	struct vt_op *op = &ev->op;
	p->vm = p->m->vcpu_vm[v];
	p->vcpu = v;
	if (ev->flags & VT_EVF_L2) {
		p->vm = ev->pcpu; /* an operation of the L2 guest the vCPU runs */
	} else if (p->m->has_nested) {
		p->nested_ok = 1; /* L1 may edit its L2s' page tables */
	}
	ev->kind = VT_EV_GUEST;
	ev->vcpu = (int8_t)v;
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected a guest operation");
	if (vt_parse_accept(p, "map")) {
		if (parse_mapping(p, op) < 0)
			return -1;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "link") || vt_parse_accept(p, "unlink")) {
		op->code = vt_tok_is(p, p->cur - 1, "link") ? VT_OP_LINK : VT_OP_UNLINK;
		if (parse_link(p, op) < 0)
			return -1;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "unmap")) {
		int sp;
		if (parse_space_kind(p, &sp, 1) < 0 || vt_parse_addr(p, "a virtual address", &op->a) < 0)
			return -1;
		if (vt_model_add_va(p->m, op->a) < 0)
			return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
		op->code = VT_OP_UNMAP;
		op->space = (int16_t)sp;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "access")) {
		if (vt_parse_addr(p, "a virtual address", &op->a) < 0)
			return -1;
		if (vt_model_add_va(p->m, op->a) < 0)
			return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
		op->code = VT_OP_ACCESS;
		return expect_end(p);
	}
	const struct vt_arch_ops *a = p->m->aops;
	for (int i = 0; i < a->nops; i++) {
		if (a->vmm_only && a->vmm_only(&a->ops[i]) && vt_tok_is(p, p->cur, a->ops[i].name))
			return vt_parse_error(p, "'%s' is not a guest operation: the VMM writes it ('vmm VCPU: %s ...')",
					      a->ops[i].name, a->ops[i].name);
		if (vt_parse_accept(p, a->ops[i].name)) {
			op->code = a->ops[i].code;
			if (a->ops[i].parse(p, op) < 0)
				return -1;
			return expect_end(p);
		}
	}
	char names[400] = "map, unmap, access";
	for (int i = 0; i < a->nops; i++)
		if (!a->vmm_only || !a->vmm_only(&a->ops[i]))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), ", %s", a->ops[i].name);
	return vt_parse_error(p, "unknown %s guest operation '%.*s' (%s guest operations: %s)", a->name,
			      (int)p->tok[p->cur].len, p->tok[p->cur].s, a->name, names);
}

/* 'vmm VCPU: OP': the VMM writes the vCPU's registers (an arch op marked vmm). */
static int parse_vmm_op(struct pstate *ps, struct vt_event *ev)
{
	struct vt_parser *p = &ps->p;
	int v;
	p->cur = 1;
	if (vt_parse_vcpu(p, &v) < 0 || vt_parse_expect(p, ":") < 0)
		return -1;
	p->vm = p->m->vcpu_vm[v];
	p->vcpu = v;
	ev->kind = VT_EV_GUEST;
	ev->vcpu = (int8_t)v;
	ev->flags |= VT_EVF_VMM;
	const struct vt_arch_ops *a = p->m->aops;
	bool vmm = p->m->hv->vmm_op && a->vmm_writes;
	for (int i = 0; vmm && i < a->nops; i++)
		if (a->vmm_writes(&a->ops[i]) && vt_parse_accept(p, a->ops[i].name)) {
			ev->op.code = a->ops[i].code;
			if (a->ops[i].parse(p, &ev->op) < 0)
				return -1;
			return expect_end(p);
		}
	char list[256] = "";
	size_t o = 0;
	for (int i = 0; vmm && i < a->nops && o < sizeof(list); i++)
		if (a->vmm_writes(&a->ops[i]))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'", o ? ", " : "", a->ops[i].syntax);
	if (!o)
		return vt_parse_error(p, "the VMM writes no %s registers in this model", a->name);
	return vt_parse_error(p, "expected a register write the VMM can make: %s", list);
}

static int parse_host_op(struct pstate *ps, struct vt_event *ev)
{
	struct vt_parser *p = &ps->p;
	struct vt_op *op = &ev->op;
	int vm;
	ev->kind = VT_EV_HOST;
	if (vt_parse_accept(p, "unmap")) {
		if (parse_vm(p, &vm) < 0 || vt_parse_addr(p, "a guest-physical address", &op->a) < 0)
			return -1;
		op->code = VT_OP_HOST_UNMAP;
	} else if (vt_parse_accept(p, "unmap-range")) {
		/* 'unmap-range VM GPA +PAGES': kvm_pgtable_stage2_unmap over PAGES 4 KiB pages (arm64) */
		if (p->m->arch != VT_ARCH_ARM64)
			return vt_parse_error_at(p, p->cur - 1, "'unmap-range' is modelled on arm64 only");
		if (parse_vm(p, &vm) < 0 || vt_parse_addr(p, "a guest-physical address", &op->a) < 0)
			return -1;
		if (vt_parse_at_end(p) || p->tok[p->cur].s[0] != '+' || p->tok[p->cur].len < 2)
			return vt_parse_error(p, "expected '+PAGES', the number of 4 KiB pages to unmap");
		int nat = p->cur;
		if (vt_parse_number_text(p->tok[nat].s + 1, p->tok[nat].len - 1, &op->b) < 0)
			return vt_parse_error_at(p, nat, "expected '+PAGES', a number of 4 KiB pages");
		if (op->b == 0 || op->b > ((uint64_t)1 << 25))
			return vt_parse_error_at(p, nat, "a range of 1 to 2^25 pages (16 flushes of MAX_TLBI_RANGE_PAGES)");
		if (op->a & 0xfff)
			return vt_parse_error_at(p, nat - 1, "the range starts on a 4 KiB page boundary");
		/* A range TLBI's BaseADDR (Arm ARM D8.17.5.2) holds IPA bits [48:12] and nothing beyond. */
		uint64_t lim = p->m->aops->gpa_limit;
		if (lim && (op->a >= lim || op->b > (lim - op->a) >> 12))
			return vt_parse_error_at(p, nat, "the range ends beyond the 48-bit IPA space (at most 0x%llx)",
						 (unsigned long long)lim);
		p->cur++;
		op->code = VT_OP_HOST_UNMAP_RANGE;
	} else if (vt_parse_accept(p, "remap") || vt_parse_accept(p, "remap-noflush")) {
		bool raw = vt_tok_is(p, p->cur - 1, "remap-noflush");
		uint64_t hpa;
		if (parse_vm(p, &vm) < 0 || vt_parse_addr(p, "a guest-physical address", &op->a) < 0 ||
		    vt_parse_expect(p, "->") < 0 || vt_parse_addr(p, "a host-physical address", &hpa) < 0)
			return -1;
		int s = vt_model_add_s2(p->m, vm, op->a, hpa);
		if (s < 0)
			return vt_parse_error(p, "too many stage-2 mappings (at most %d)", VT_MAX_S);
		op->code = raw ? VT_OP_HOST_RAW_REMAP : VT_OP_HOST_REMAP;
		op->b = (uint64_t)s;
	} else if (vt_parse_accept(p, "zap") || vt_parse_accept(p, "nx-recover") || vt_parse_accept(p, "zap-all")) {
		/* The TDP MMU's own zaps (src/hv/kvm_x86.c): x86 with EPT or NPT only. */
		int at = p->cur - 1;
		bool all = vt_tok_is(p, at, "zap-all"), nx = vt_tok_is(p, at, "nx-recover");
		if (!vt_backend_tdp(p->m->backend))
			return vt_parse_error_at(p, at, "'%.*s' zaps TDP MMU roots: only x86 with EPT or NPT has them",
						 (int)p->tok[at].len, p->tok[at].s);
		if (parse_vm(p, &vm) < 0)
			return -1;
		if (all) {
			op->code = VT_OP_HOST_ZAP_ALL;
		} else {
			if (vt_parse_addr(p, "a guest-physical address", &op->a) < 0)
				return -1;
			op->b = op->a;
			if (!vt_parse_at_end(p) &&
			    vt_parse_addr(p, "the last guest-physical address of the range", &op->b) < 0)
				return -1;
			if (op->b < op->a)
				return vt_parse_error_at(p, p->cur - 1, "the range ends before it starts");
			if (((op->b & ~0xfffull) - (op->a & ~0xfffull)) >> 12 >= 16)
				return vt_parse_error_at(p, p->cur - 1, "a zap covers at most 16 pages");
			op->code = nx ? VT_OP_HOST_NX_RECOVER : VT_OP_HOST_ZAP;
		}
	} else {
		/* an instrument: one hardware instruction, "NAME on PCPU [key N] [va VA]" */
		int found = -1, at = p->cur;
		for (unsigned i = 0; i < p->m->hw->ninsns && !vt_parse_at_end(p); i++)
			if (p->m->hw->insn_names[i] && vt_tok_is(p, p->cur, p->m->hw->insn_names[i]))
				found = (int)i;
		if (found < 0) {
			char names[600];
			insn_list(p->m->hw, names, sizeof(names));
			bool tdp = vt_backend_tdp(p->m->backend);
			return vt_parse_error(p, "expected a host operation: 'unmap VM GPA', 'remap VM GPA -> HPA', "
						 "'remap-noflush VM GPA -> HPA', 'unmap-range VM GPA +PAGES'%s or a %s instruction (%s)",
					      tdp ? ", 'zap VM GPA [GPA]', 'nx-recover VM GPA [GPA]', 'zap-all VM'" : "",
					      p->m->hw->name, names);
		}
		p->cur++;
		int pc;
		uint64_t key = 0;
		if (vt_parse_expect(p, "on") < 0 || parse_pcpu(p, &pc) < 0)
			return -1;
		if (vt_parse_accept(p, "key") && vt_parse_number(p, "a tag", &key) < 0)
			return -1;
		if (key > 0xffffffffu)
			return vt_parse_error_at(p, p->cur - 1, "a tag fits in 32 bits");
		if (vt_parse_accept(p, "va")) {
			if (vt_parse_addr(p, "a virtual address", &op->a) < 0)
				return -1;
			if (vt_model_add_va(p->m, op->a) < 0)
				return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
		}
		(void)at;
		op->code = VT_OP_HOST_INSN;
		op->b = ((uint64_t)found << 32) | key;
		op->target = (int16_t)pc;
		return expect_end(p);
	}
	op->target = (int16_t)vm;
	return expect_end(p);
}

static int parse_check(struct pstate *ps, struct vt_event *ev)
{
	ps->p.allow_l2 = 1; /* a check of L2.N looks at L1's vCPU N, whatever level it runs */
	struct vt_parser *p = &ps->p;
	struct vt_op *op = &ev->op;
	ev->kind = VT_EV_CHECK;
	if (vt_parse_accept(p, "count")) {
		char name[48];
		int at = p->cur;
		if (vt_parse_at_end(p))
			return vt_parse_error(p, "expected an instruction name");
		const struct vt_token *t = &p->tok[p->cur];
		char names[600];
		insn_list(p->m->hw, names, sizeof(names));
		if (t->len >= sizeof(name))
			return vt_parse_error(p, "unknown %s instruction '%.*s' (%s instructions: %s)", p->m->hw->name,
					      (int)t->len, t->s, p->m->hw->name, names);
		memcpy(name, t->s, t->len);
		name[t->len] = 0;
		p->cur++;
		int found = -1;
		for (unsigned i = 0; i < p->m->hw->ninsns; i++)
			if (p->m->hw->insn_names[i] && strcmp(p->m->hw->insn_names[i], name) == 0)
				found = (int)i;
		if (found < 0)
			return vt_parse_error_at(p, at, "unknown %s instruction '%s' (%s instructions: %s)", p->m->hw->name,
						 name, p->m->hw->name, names);
		op->code = VT_CHK_COUNT_INSN;
		op->a = (uint64_t)found;
		if (vt_parse_number(p, "a count", &op->b) < 0)
			return -1;
		return expect_end(p);
	}
	if (vt_parse_accept(p, "roots") || vt_parse_accept(p, "exits")) {
		op->code = vt_tok_is(p, p->cur - 1, "roots") ? VT_CHK_ROOTS : VT_CHK_EXITS;
		if (vt_parse_number(p, "a count", &op->b) < 0)
			return -1;
		return expect_end(p);
	}
	int v;
	if (vt_parse_vcpu(p, &v) < 0)
		return -1;
	ev->vcpu = (int8_t)v;
	if (p->l2vm >= 0) {
		/* named as L2VM.N: the trace and the verdict use that name (the check itself looks at vCPU N) */
		ev->flags |= VT_EVF_L2;
		ev->pcpu = (int8_t)p->l2vm;
	}
	if (vt_parse_accept(p, "permits"))
		op->code = VT_CHK_PERMITS;
	else if (vt_parse_accept(p, "denies"))
		op->code = VT_CHK_NPERMITS;
	else if (vt_parse_accept(p, "hits"))
		op->code = VT_CHK_HW;
	else if (vt_parse_accept(p, "misses"))
		op->code = VT_CHK_NHW;
	else if (vt_parse_accept(p, "hits-gpa"))
		op->code = VT_CHK_HW_GPA;
	else if (vt_parse_accept(p, "misses-gpa"))
		op->code = VT_CHK_NHW_GPA;
	else
		return vt_parse_error(p, "expected 'permits', 'denies', 'hits', 'misses', 'hits-gpa' or 'misses-gpa'");
	if (op->code == VT_CHK_HW_GPA || op->code == VT_CHK_NHW_GPA) {
		if (vt_parse_addr(p, "a guest-physical address", &op->a) < 0)
			return -1;
		op->b = UINT64_MAX;
		if (vt_parse_accept(p, "->") && vt_parse_addr(p, "a host-physical address", &op->b) < 0)
			return -1;
		return expect_end(p);
	}
	if (vt_parse_addr(p, "a virtual address", &op->a) < 0)
		return -1;
	op->b = UINT64_MAX;
	if (vt_parse_accept(p, "->") && vt_parse_addr(p, "a guest-physical address", &op->b) < 0)
		return -1;
	if ((op->code == VT_CHK_HW || op->code == VT_CHK_NHW) && op->b != UINT64_MAX && vt_parse_accept(p, "->")) {
		/* VA -> GPA -> HPA: a combined entry, checked by its host page too */
		uint64_t va = op->a;
		int vi = vt_model_add_va(p->m, va);
		if (vi < 0)
			return vt_parse_error_at(p, 3, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
		op->code = op->code == VT_CHK_HW ? VT_CHK_HW_HPA : VT_CHK_NHW_HPA;
		op->target = (int16_t)vi;
		op->a = op->b;
		if (vt_parse_addr(p, "a host-physical address", &op->b) < 0)
			return -1;
	}
	return expect_end(p);
}

static bool m_explicit(const struct pstate *ps)
{
	return ps->p.m->explicit_schedule != 0;
}

static int parse_event(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_event ev;
	event_init(ps, &ev, VT_EV_COUNT);
	ps->events = 1;
	p->cur = 0;

	if (ps->in_program) {
		if (ps->in_program == VT_MAX_VCPUS + 1 && vt_tok_is(p, 0, "vmm")) {
			if (parse_vmm_op(ps, &ev) < 0)
				return -1;
		} else if (ps->in_program == VT_MAX_VCPUS + 1) {
			if (parse_host_op(ps, &ev) < 0)
				return -1;
		} else if (program_level(ps, &ev, false) < 0 || parse_guest_op(ps, ps->in_program - 1, &ev) < 0 ||
			   program_level(ps, &ev, true) < 0) {
			return -1;
		}
		return push_event(ps, &ev);
	}
	if (vt_parse_accept(p, "run") || vt_parse_accept(p, "load")) {
		bool run = vt_tok_is(p, 0, "run");
		int v, pc;
		if (vt_parse_vcpu(p, &v) < 0 || vt_parse_expect(p, "on") < 0 || parse_pcpu(p, &pc) < 0 ||
		    expect_end(p) < 0)
			return -1;
		ev.kind = VT_EV_LOAD;
		ev.vcpu = (int8_t)v;
		ev.pcpu = (int8_t)pc;
		if (run)
			ev.flags |= VT_EVF_ENTER;
		return push_event(ps, &ev);
	}
	if (vt_parse_accept(p, "enter")) {
		int v;
		if (vt_parse_vcpu(p, &v) < 0)
			return -1;
		if (vt_parse_accept(p, "phase"))
			ev.flags |= VT_EVF_STEP;
		if (expect_end(p) < 0)
			return -1;
		ev.kind = VT_EV_ENTER;
		ev.vcpu = (int8_t)v;
		return push_event(ps, &ev);
	}
	if (vt_parse_accept(p, "preempt") || vt_parse_accept(p, "leave")) {
		/* 'leave': the thread returns to userspace (VT_EVF_USER) */
		int v;
		bool user = vt_tok_is(p, p->cur - 1, "leave");
		if (vt_parse_vcpu(p, &v) < 0 || expect_end(p) < 0)
			return -1;
		ev.kind = VT_EV_PUT;
		ev.vcpu = (int8_t)v;
		if (user)
			ev.flags |= VT_EVF_USER;
		return push_event(ps, &ev);
	}
	if (vt_parse_accept(p, "migrate")) {
		int v, pc;
		if (vt_parse_vcpu(p, &v) < 0 || vt_parse_expect(p, "to") < 0 || parse_pcpu(p, &pc) < 0 ||
		    expect_end(p) < 0)
			return -1;
		ev.kind = VT_EV_PUT;
		ev.vcpu = (int8_t)v;
		if (push_event(ps, &ev) < 0)
			return -1;
		ev.kind = VT_EV_LOAD;
		ev.pcpu = (int8_t)pc;
		ev.flags = VT_EVF_ENTER;
		return push_event(ps, &ev);
	}
	if (vt_parse_accept(p, "check")) {
		if (parse_check(ps, &ev) < 0)
			return -1;
		return push_event(ps, &ev);
	}
	if (vt_tok_is(p, 0, "vmm")) {
		if (parse_vmm_op(ps, &ev) < 0)
			return -1;
		return push_event(ps, &ev);
	}
	if (vt_tok_is(p, 0, "host") && vt_tok_is(p, 1, ":")) {
		p->cur = 2;
		/* a trailing 'phase' runs one fine-grained phase of the operation */
		if (vt_tok_is(p, p->ntok - 1, "phase")) {
			ev.flags |= VT_EVF_STEP;
			p->ntok--;
		}
		if (parse_host_op(ps, &ev) < 0)
			return -1;
		return push_event(ps, &ev);
	}
	if (vt_tok_is(p, 1, ":")) {
		int v;
		p->allow_l2 = 1;
		if (vt_parse_vcpu(p, &v) < 0)
			return -1;
		p->allow_l2 = 0;
		if (p->l2vm >= 0) {
			ev.flags |= VT_EVF_L2;
			ev.pcpu = (int8_t)p->l2vm;
		}
		p->cur = 2;
		if (parse_guest_op(ps, v, &ev) < 0)
			return -1;
		if (!m_explicit(ps))
			ev.flags |= VT_EVF_ENTER;
		return push_event(ps, &ev);
	}
	return vt_parse_error_at(p, 0, "unknown statement '%.*s'", (int)p->tok[0].len, p->tok[0].s);
}

/* ---- lines ----------------------------------------------------------------- */

static int parse_line(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	p->vm = -1;
	p->vcpu = -1;
	p->allow_l2 = 0;
	p->l2vm = -1;
	p->nested_ok = 0;
	if (p->ntok == 0)
		return 0;
	if (!ps->have_arch && !vt_tok_is(p, 0, "arch") && !vt_tok_is(p, 0, "title") && !vt_tok_is(p, 0, "param"))
		return vt_parse_error_at(p, 0, "a scenario starts with 'arch' (after an optional 'title' and 'param' lines)");

	if (vt_tok_is(p, 0, "end")) {
		if (!ps->in_program)
			return vt_parse_error_at(p, 0, "'end' without 'program'");
		ps->in_program = 0;
		p->cur = 1;
		return expect_end(p);
	}
	if (ps->in_program)
		return parse_event(ps);

	static const char *const decls[] = {"arch", "option", "machine", "vm", "space", "map", "s2", "vcpu", "table", "link", "ept12", "npt12"};
	for (size_t i = 0; i < VT_ARRAY_SIZE(decls); i++) {
		if (!vt_tok_is(p, 0, decls[i]))
			continue;
		if (ps->events)
			return vt_parse_error_at(p, 0, "'%s' is a declaration and must come before the first event",
						 decls[i]);
		p->cur = 1;
		switch (i) {
		case 0: return decl_arch(ps);
		case 1: return decl_option(ps);
		case 2: return decl_machine(ps);
		case 3: return decl_vm(ps);
		case 4: return decl_space(ps);
		case 5: return decl_map(ps);
		case 6: return decl_s2(ps);
		case 8: return decl_table(ps);
		case 9: return decl_link(ps);
		case 10:
		case 11: return decl_ept12(ps);
		default:
			if (m->nvms == 0)
				return vt_parse_error_at(p, 0, "declare a 'vm' before its vCPUs");
			return decl_vcpu(ps);
		}
	}
	p->cur = 1;
	if (vt_tok_is(p, 0, "title")) {
		/* the rest of the line as written */
		if (p->ntok > 1) {
			const char *b = p->tok[1].s;
			const char *e = p->tok[p->ntok - 1].s + p->tok[p->ntok - 1].len;
			size_t n = (size_t)(e - b);
			if (n >= sizeof(m->title))
				n = sizeof(m->title) - 1;
			memcpy(m->title, b, n);
			m->title[n] = 0;
		}
		return 0;
	}
	if (vt_tok_is(p, 0, "revert")) {
		int f;
		int at = p->cur;
		if (decl_fix_ref(ps, &f) < 0)
			return -1;
		if (!vt_fix_info((unsigned)f)->modelled)
			return vt_parse_error_at(p, at, "fix '%s' is named in the catalogue but not modelled: reverting "
						 "it would change nothing", vt_fix_info((unsigned)f)->name);
		vt_fixset_add(&m->reverted, (unsigned)f);
		return expect_end(p);
	}
	if (vt_tok_is(p, 0, "kernel")) {
		/* kernel vX.Y: revert every fix that release lacked (adds to 'revert' and --revert) */
		p->cur = 1;
		if (m->kernel)
			return vt_parse_error_at(p, 0, "'kernel' given twice");
		if (vt_parse_at_end(p))
			return vt_parse_error(p, "expected a kernel release (e.g. v5.15) at end of line");
		const struct vt_token *t = &p->tok[1];
		char ver[32];
		snprintf(ver, sizeof(ver), "%.*s", (int)(t->len < 31 ? t->len : 31), t->s);
		m->kernel = t->len < 31 ? vt_kernel_parse(ver) : 0;
		if (!m->kernel)
			return vt_parse_error_at(p, 1, "'%.*s' is not a mainline release (vX.Y from v3.0, v2.6.Z before)",
						 (int)t->len, t->s);
		p->cur = 2;
		m->reverted = vt_fixset_union(m->reverted, vt_kernel_reverted(m->kernel));
		return expect_end(p);
	}
	if (vt_tok_is(p, 0, "fix")) {
		int f;
		size_t i;
		if (decl_fix_ref(ps, &f) < 0)
			return -1;
		for (i = 0; i < VT_ARRAY_SIZE(m->pins) && m->pins[i] >= 0; i++)
			;
		if (i == VT_ARRAY_SIZE(m->pins))
			return vt_parse_error_at(p, 0, "at most %zu 'fix' lines", VT_ARRAY_SIZE(m->pins));
		m->pins[i] = f;
		return expect_end(p);
	}
	if (vt_tok_is(p, 0, "expect"))
		return decl_expect(ps);
	if (vt_tok_is(p, 0, "bounds") || vt_tok_is(p, 0, "phases"))
		ps->explore_line = ps->explore_line ? ps->explore_line : p->line;
	if (vt_tok_is(p, 0, "schedule"))
		ps->schedule_line = p->line;
	if (vt_tok_is(p, 0, "bounds"))
		return decl_bounds(ps);
	if (vt_tok_is(p, 0, "schedule")) {
		if (ps->events)
			return vt_parse_error_at(p, 0, "'schedule' must come before the first event");
		if (vt_parse_accept(p, "explicit"))
			m->explicit_schedule = 1;
		else if (vt_parse_accept(p, "auto"))
			m->explicit_schedule = 0;
		else
			return vt_parse_error(p, "expected 'explicit' or 'auto'");
		return expect_end(p);
	}
	if (vt_tok_is(p, 0, "phases")) {
		if (vt_parse_accept(p, "fine"))
			m->fine = 1;
		else if (vt_parse_accept(p, "coarse"))
			m->fine = 0;
		else
			return vt_parse_error(p, "expected 'fine' or 'coarse'");
		return expect_end(p);
	}
	/* performance mode (vtlb cost): workload, tlb, param */
	if (vt_tok_is(p, 0, "workload") || vt_tok_is(p, 0, "tlb") || vt_tok_is(p, 0, "param"))
		return vt_perf_decl(p, ps->events);
	if (vt_tok_is(p, 0, "program")) {
		if (m->nvms == 0)
			return vt_parse_error_at(p, 0, "declare a 'vm' before programs");
		int who;
		if (vt_parse_accept(p, "host")) {
			who = VT_MAX_VCPUS;
		} else if (vt_parse_vcpu(p, &who) < 0) {
			return -1;
		}
		if (expect_end(p) < 0)
			return -1;
		if (ps->programs_seen & VT_BIT(who))
			return vt_parse_error_at(p, 1, "a second program for the same %s", who == VT_MAX_VCPUS ? "host" : "vCPU");
		ps->programs_seen |= VT_BIT(who);
		ps->in_program = who + 1;
		ps->program_line = p->line;
		ps->prog_l2vm = -1;
		ps->prog_in_l2 = 0;
		m->has_programs = 1;
		ps->events = 1;
		return 0;
	}
	return parse_event(ps);
}

/* ---- entry points ---------------------------------------------------------- */

static int finish(struct pstate *ps)
{
	struct vt_parser *p = &ps->p;
	struct vt_model *m = p->m;
	char err[256];
	p->ntok = 0;
	if (ps->in_program) {
		p->line = ps->program_line;
		return vt_parse_error(p, "'program' without 'end'");
	}
	if (!ps->have_arch)
		return vt_parse_error(p, "empty scenario: no 'arch' line");
	if (!ps->have_machine)
		return vt_parse_error(p, "no 'machine' declared");
	if (m->nvms == 0)
		return vt_parse_error(p, "no 'vm' declared");
	if (m->nscript && m->has_programs) {
		p->line = m->script[0].line;
		return vt_parse_error(p, "a scenario has either a script of events or per-vCPU programs, not both");
	}
	if (m->wl.line && m->nscript) {
		p->line = m->wl.line;
		return vt_parse_error(p, "a workload replaces the schedule: remove the scripted events or the 'workload' line");
	}
	if (m->nscript && m->expect.kind == VT_EXP_NONE && m->expect_fault.kind == VT_EXP_FAULT)
		m->expect.line = m->expect_fault.line; /* 'expect fault' alone: the run is otherwise clean */
	if (m->nscript && m->expect.kind == VT_EXP_NONE && m->expect_fault.kind != VT_EXP_FAULT)
		return vt_parse_error(p, "no 'expect' line: say what the run should show (expect clean | stale | breach)");
	/*
	 * A script expects clean, stale or breach (and maybe fault); an
	 * exploration file expects clean (every interleaving within the bounds)
	 * or found (some interleaving shows a stale access or a breach), or says
	 * nothing, in which case a finding fails the search as 'expect clean'
	 * would.
	 */
	if (m->nscript && m->expect.kind == VT_EXP_FOUND) {
		p->line = m->expect.line;
		return vt_parse_error(p, "'expect found' is for exploration programs; a script expects clean, stale or breach");
	}
	if (m->nscript && m->expect.kind == VT_EXP_NONE)
		m->expect.kind = VT_EXP_CLEAN;
	if (m->wl.line && (m->expect.kind != VT_EXP_NONE || m->expect_fault.kind != VT_EXP_NONE)) {
		p->line = m->expect.kind != VT_EXP_NONE ? m->expect.line : m->expect_fault.line;
		return vt_parse_error(p, "'expect' is for scripts and explorations; 'vtlb cost' measures a workload");
	}
	if (m->has_programs && m->expect_fault.kind != VT_EXP_NONE) {
		p->line = m->expect_fault.line;
		return vt_parse_error(p, "'expect fault' is for scripts; 'vtlb explore' takes every interleaving, and a "
					 "fault in some of them is expected");
	}
	if (m->has_programs && (m->expect.kind == VT_EXP_STALE || m->expect.kind == VT_EXP_BREACH)) {
		p->line = m->expect.line;
		return vt_parse_error(p, "an exploration file expects 'clean' or 'found' (the search reports which "
					 "vCPU and address itself)");
	}
	/* exploration settings in a script, or a script's schedule in an exploration file, do nothing */
	if (m->nscript && ps->explore_line) {
		p->line = ps->explore_line;
		vt_parse_warn_at(p, 0, "'bounds' and 'phases' have no effect on a script (they are for 'vtlb explore')");
	}
	if (m->has_programs && ps->schedule_line) {
		p->line = ps->schedule_line;
		vt_parse_warn_at(p, 0, "'schedule' has no effect on an exploration file (it is for scripts)");
	}
	if (!m->nscript && !m->has_programs && !m->wl.line)
		return vt_parse_error(p, "no events and no programs: nothing to run");
	for (int i = 0; i < m->npcpus; i++)
		m->domain_of[i] = (int8_t)(m->hw->domain ? m->hw->domain(m, i) : i);
	m->ndomains = 0;
	for (int i = 0; i < m->npcpus; i++)
		if (m->domain_of[i] + 1 > m->ndomains)
			m->ndomains = m->domain_of[i] + 1;
	if (m->hw->ndomains)
		m->ndomains = m->hw->ndomains(m);
	if (m->ndomains > VT_MAX_DOMAINS)
		return vt_parse_error(p, "model limit: this machine needs %d TLB domains, at most %d are modelled "
					 "(a CnP shared TLB takes one: use fewer pCPUs)",
				      m->ndomains, VT_MAX_DOMAINS);
	if (m->has_nested && vt_x86_nested_finish(m, err, sizeof(err)) < 0)
		return vt_parse_error(p, "%s", err);
	if (vt_model_finish(m, err, sizeof(err)) < 0)
		return vt_parse_error(p, "%s", err);
	return 0;
}

static struct vt_model *parse_text(const char *name, const char *text, size_t len, struct vt_fixset reverted,
				   struct vt_diag *d);

struct vt_model *vt_scenario_parse(const char *name, const char *text, size_t len, struct vt_fixset reverted,
				   struct vt_diag *d)
{
	return vt_scenario_parse_params(name, text, len, reverted, NULL, 0, d);
}

struct vt_model *vt_scenario_parse_params(const char *name, const char *text, size_t len, struct vt_fixset reverted,
					  const char *const *set, int nset, struct vt_diag *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->file, sizeof(d->file), "%s", name);
	if (!nset && !memchr(text, '$', len))
		return parse_text(name, text, len, reverted, d);
	size_t n = 0;
	char *buf = vt_scenario_subst(text, len, set, nset, &n, d);
	if (!buf)
		return NULL;
	struct vt_model *m = parse_text(name, buf, n, reverted, d);
	free(buf);
	return m;
}

static struct vt_model *parse_text(const char *name, const char *text, size_t len, struct vt_fixset reverted,
				   struct vt_diag *d)
{
	struct pstate ps;
	memset(&ps, 0, sizeof(ps));
	memset(d, 0, sizeof(*d));
	snprintf(d->file, sizeof(d->file), "%s", name);
	struct vt_model *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		return NULL;
	}
	snprintf(m->file, sizeof(m->file), "%s", name);
	for (size_t i = 0; i < VT_ARRAY_SIZE(m->pins); i++)
		m->pins[i] = -1;
	m->bounds.depth = m->bounds.preemptions = m->bounds.migrations = VT_BOUND_UNSET;
	m->reverted = reverted;
	ps.p.m = m;
	ps.p.diag = d;
	ps.p.vm = -1;
	ps.p.vcpu = -1;

	size_t i = 0;
	uint32_t line = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		line++;
		ps.p.line = line;
		const char *nul = memchr(text + i, 0, j - i);
		if (nul) {
			d->line = line;
			d->col = (uint32_t)(nul - (text + i)) + 1;
			snprintf(d->msg, sizeof(d->msg), "NUL byte in scenario text");
			goto fail;
		}
		if (j - i > VT_MAX_LINE) {
			d->line = line;
			d->col = VT_MAX_LINE + 1;
			snprintf(d->msg, sizeof(d->msg), "line longer than %d characters", VT_MAX_LINE);
			goto fail;
		}
		if (tokenize(&ps.p, text + i, j - i) < 0 || parse_line(&ps) < 0)
			goto fail;
		i = j + 1;
	}
	ps.p.line = line ? line : 1;
	if (finish(&ps) < 0)
		goto fail;
	/* Fixes of other architectures (from --kernel, say) have no branch here. */
	for (unsigned f = 0; f < VT_FIX_COUNT; f++)
		if (vt_fixset_has(m->reverted, f) && (!vt_fix_info(f) || vt_fix_info(f)->arch != m->arch))
			vt_fixset_del(&m->reverted, f);
	return m;
fail:
	vt_model_free(m);
	return NULL;
}

const char *vt_scenario_file_kind(unsigned mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a file";
}

struct vt_model *vt_scenario_load(const char *path, struct vt_fixset reverted, struct vt_diag *d)
{
	return vt_scenario_load_params(path, reverted, NULL, 0, d);
}

struct vt_model *vt_scenario_load_params(const char *path, struct vt_fixset reverted, const char *const *set, int nset,
					 struct vt_diag *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->file, sizeof(d->file), "%s", path);
	if (strlen(path) >= sizeof(((struct vt_model *)0)->file)) {
		snprintf(d->msg, sizeof(d->msg), "path longer than %zu characters", sizeof(((struct vt_model *)0)->file) - 1);
		return NULL;
	}
	/*
	 * Only a regular file is a scenario.  O_NONBLOCK: opening a FIFO (or a
	 * device) must not wait for a writer; fstat() then rejects it.
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(d->msg, sizeof(d->msg), "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(d->msg, sizeof(d->msg), "cannot open: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(d->msg, sizeof(d->msg), "not a regular file (%s): only regular files are scenarios",
			 vt_scenario_file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		snprintf(d->msg, sizeof(d->msg), "cannot open: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	char *buf = malloc(VT_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		return NULL;
	}
	size_t n = fread(buf, 1, VT_MAX_FILE + 1, f);
	int err = errno, failed = ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		snprintf(d->msg, sizeof(d->msg), "read error: %s", strerror(err));
		return NULL;
	}
	if (n > VT_MAX_FILE) {
		free(buf);
		snprintf(d->msg, sizeof(d->msg), "file larger than %u bytes", VT_MAX_FILE);
		return NULL;
	}
	struct vt_model *m = vt_scenario_parse_params(path, buf, n, reverted, set, nset, d);
	free(buf);
	return m;
}
