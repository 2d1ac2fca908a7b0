/*
 * The arm64 guest architecture: EL1 registers that decide stage-1
 * translation, the guest operations a scenario can name, and the
 * architectural scope of every TLBI (Arm ARM DDI0487 D8.16 "Translation
 * Lookaside Buffers", D8.17 "TLB maintenance", the TLBI pages of C5.5).
 *
 * A space is a translation table together with the ASID it is loaded with
 * in TTBR0_EL1 (TCR_EL1.A1 = 0).  Non-global entries are tagged with that
 * ASID; global entries (nG = 0) match under any ASID, but still only inside
 * the VMID they were filled under.  The guest runs at EL1: the EL2 TLBIs
 * (VMALLS12E1, IPAS2E1, ALLE1) are not guest operations; scenarios reach
 * them through host instruments.  A TLBI takes effect when the issuer's DSB
 * completes it (D8.17.4); ISB is accepted for readable sequences and has no
 * effect in the model.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/arm64.h"
#include "vtlb/ops.h"
#include "vtlb/scenario.h"

static const char *const tlbi_names[VT_TLBI_COUNT] = {
	[VT_TLBI_VMALLE1] = "vmalle1",	     [VT_TLBI_VAE1] = "vae1",	[VT_TLBI_VALE1] = "vale1",
	[VT_TLBI_VAAE1] = "vaae1",	     [VT_TLBI_VAALE1] = "vaale1", [VT_TLBI_ASIDE1] = "aside1",
	[VT_TLBI_VMALLS12E1] = "vmalls12e1", [VT_TLBI_IPAS2E1] = "ipas2e1", [VT_TLBI_ALLE1] = "alle1",
	[VT_TLBI_RIPAS2E1] = "ripas2e1",
};

static const char *const dsb_names[VT_DSB_COUNT] = {
	[VT_DSB_NSH] = "nsh",
	[VT_DSB_ISH] = "ish",
	[VT_DSB_SY] = "sy",
};

/* ---- parsing ------------------------------------------------------------ */

static int parse_va(struct vt_parser *p, uint64_t *va)
{
	(void)vt_parse_accept(p, "va");
	if (vt_parse_addr(p, "a virtual address", va) < 0)
		return -1;
	if (vt_model_add_va(p->m, *va) < 0)
		return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	return 0;
}

/* tlbi NAME [[va] VA] [asid N] */
static int parse_tlbi(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_A64_TLBI;
	if (vt_parse_at_end(p))
		return vt_parse_error(p, "expected a TLBI operation (vmalle1, vae1, vale1, vaae1, vaale1, aside1, "
					 "each also with 'is')");
	const struct vt_token *t = &p->tok[p->cur];
	int kind = -1, is = 0;
	for (unsigned k = 0; k < VT_TLBI_COUNT; k++) {
		size_t n = strlen(tlbi_names[k]);
		if (t->len == n && memcmp(t->s, tlbi_names[k], n) == 0)
			kind = (int)k;
		else if (t->len == n + 2 && memcmp(t->s, tlbi_names[k], n) == 0 && memcmp(t->s + n, "is", 2) == 0)
			kind = (int)k, is = 1;
	}
	if (kind < 0) {
		char names[160] = "";
		for (unsigned k = 0; k < VT_TLBI_FIRST_EL2; k++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", k ? ", " : "", tlbi_names[k]);
		return vt_parse_error(p, "unknown TLBI operation '%.*s' (a guest's: %s; each also with 'is')", (int)t->len,
				      t->s, names);
	}
	if (kind >= VT_TLBI_FIRST_EL2)
		return vt_parse_error(p, "TLBI %.*s is an EL2 operation, which a guest at EL1 cannot execute "
					 "(use the host instrument 'host: tlbi.%.*s on P key N')",
				      (int)t->len, t->s, (int)t->len, t->s);
	p->cur++;
	op->target = (int16_t)kind;
	if (is)
		op->flags |= VT_OPF_IS;
	if (vt_arm64_tlbi_by_va((unsigned)kind) && parse_va(p, &op->a) < 0)
		return -1;
	if (vt_parse_accept(p, "asid")) {
		if (!vt_arm64_tlbi_by_asid((unsigned)kind))
			return vt_parse_error_at(p, p->cur - 1, "TLBI %s takes no ASID", tlbi_names[kind]);
		if (vt_parse_number(p, "an ASID", &op->b) < 0)
			return -1;
		if (op->b > 0xffff)
			return vt_parse_error_at(p, p->cur - 1, "an ASID is 16 bits (0..65535)");
		op->flags |= VT_A64_OPF_ASID;
	}
	return 0;
}

/* dsb [nsh|ish|sy] */
static int parse_dsb(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_A64_DSB;
	op->target = VT_DSB_SY;
	if (vt_parse_at_end(p))
		return 0;
	for (int i = 0; i < VT_DSB_COUNT; i++)
		if (vt_parse_accept(p, dsb_names[i])) {
			op->target = (int16_t)i;
			return 0;
		}
	return vt_parse_error(p, "expected 'nsh', 'ish' or 'sy' after 'dsb'");
}

static int parse_isb(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_A64_ISB;
	return 0;
}

/* ic iallu|ialluis */
static int parse_ic(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_A64_IC;
	if (vt_parse_accept(p, "iallu"))
		op->target = 0;
	else if (vt_parse_accept(p, "ialluis"))
		op->target = 1;
	else
		return vt_parse_error(p, "expected 'iallu' or 'ialluis' after 'ic'");
	return 0;
}

static int parse_fetch(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_A64_FETCH;
	return parse_va(p, &op->a);
}

/* msr ttbr0 SPACE [cnp] | msr sctlr.m 0|1 */
static int parse_msr(struct vt_parser *p, struct vt_op *op)
{
	if (vt_parse_accept(p, "ttbr0") || vt_parse_accept(p, "ttbr0_el1")) {
		int sp;
		op->code = VT_A64_MSR_TTBR0;
		if (vt_parse_space(p, &sp) < 0)
			return -1;
		op->space = (int16_t)sp;
		if (vt_parse_accept(p, "cnp"))
			op->flags |= VT_A64_OPF_CNP;
		return 0;
	}
	if (vt_parse_accept(p, "sctlr.m") || vt_parse_accept(p, "sctlr_el1.m")) {
		op->code = VT_A64_MSR_SCTLR_M;
		if (vt_parse_number(p, "0 or 1", &op->a) < 0)
			return -1;
		if (op->a > 1)
			return vt_parse_error_at(p, p->cur - 1, "SCTLR_EL1.M is one bit (0 or 1)");
		return 0;
	}
	return vt_parse_error(p, "expected 'ttbr0 SPACE [cnp]' or 'sctlr.m 0|1' after 'msr'");
}

static const struct vt_op_decl arm64_ops[] = {
	{"tlbi", VT_A64_TLBI, parse_tlbi,
	 "tlbi vmalle1[is] | tlbi vae1[is]|vale1[is] VA [asid N] | tlbi vaae1[is]|vaale1[is] VA | "
	 "tlbi aside1[is] [asid N]"},
	{"dsb", VT_A64_DSB, parse_dsb, "dsb [nsh|ish|sy]"},
	{"isb", VT_A64_ISB, parse_isb, "isb"},
	{"ic", VT_A64_IC, parse_ic, "ic iallu|ialluis"},
	{"fetch", VT_A64_FETCH, parse_fetch, "fetch VA   (an instruction fetch: allocates I-cache lines)"},
	{"msr", VT_A64_MSR_TTBR0, parse_msr, "msr ttbr0 SPACE [cnp] | msr sctlr.m 0|1"},
};

/* ---- registers and context ------------------------------------------------ */

/* Reset: SCTLR_EL1.M = 0, TTBR0_EL1 unknown (no table). */
static void arm64_reset_regs(union vt_gregs *gr)
{
	memset(gr, 0, sizeof(*gr));
	gr->arm64.ttbr0 = -1;
}

/* vcpu g.0 [ttbr0 SPACE] [mmu] [cnp] */
static int arm64_parse_vcpu(struct vt_parser *p, union vt_gregs *gr)
{
	struct vt_arm64_regs *r = &gr->arm64;
	arm64_reset_regs(gr);
	while (!vt_parse_at_end(p)) {
		if (vt_parse_accept(p, "ttbr0")) {
			int sp;
			if (vt_parse_space(p, &sp) < 0)
				return -1;
			r->ttbr0 = (int8_t)sp;
		} else if (vt_parse_accept(p, "mmu")) {
			r->mmu = 1;
		} else if (vt_parse_accept(p, "cnp")) {
			r->cnp = 1;
		} else {
			return vt_parse_error(p, "expected 'ttbr0 SPACE', 'mmu' (SCTLR_EL1.M = 1) or 'cnp' (TTBR0_EL1.CnP)");
		}
	}
	if (r->mmu && r->ttbr0 < 0)
		return vt_parse_error(p, "the MMU is on but no 'ttbr0 SPACE' was given");
	return 0;
}

uint32_t vt_arm64_asid(const struct vt_model *m, const union vt_gregs *r)
{
	return r->arm64.ttbr0 >= 0 ? m->space[r->arm64.ttbr0].ctx : 0;
}

static void arm64_gctx(const struct vt_model *m, const union vt_gregs *gr, struct vt_gctx *g)
{
	const struct vt_arm64_regs *r = &gr->arm64;
	g->paging = r->mmu && r->ttbr0 >= 0;
	g->space = r->ttbr0;
	g->ctx = r->ttbr0 >= 0 ? m->space_ctx[r->ttbr0][0] : -1;
	g->global_ok = 1; /* nG = 0 always creates a global entry */
}

static enum vt_exec arm64_exec(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			       const char **why)
{
	struct vt_arm64_regs *r = &s->vcpu[v].g.arm64;
	switch (op->code) {
	case VT_A64_MSR_TTBR0:
		r->ttbr0 = (int8_t)op->space;
		r->cnp = (op->flags & VT_A64_OPF_CNP) != 0;
		return VT_EXEC_OK;
	case VT_A64_MSR_SCTLR_M:
		/* The model has no flat-mapped tables: turning the MMU on needs TTBR0. */
		if (op->a && r->ttbr0 < 0) {
			*why = "model: SCTLR_EL1.M set with no translation table in TTBR0_EL1 (declare 'ttbr0 SPACE' or 'msr ttbr0' first)";
			return VT_EXEC_FAULT;
		}
		r->mmu = (uint8_t)op->a;
		return VT_EXEC_OK;
	case VT_A64_TLBI:
	case VT_A64_DSB:
	case VT_A64_ISB:
	case VT_A64_IC:
		return VT_EXEC_OK;
	case VT_A64_FETCH:
		return VT_EXEC_OK;
	default:
		*why = "not an arm64 guest operation";
		return VT_EXEC_FAULT;
	}
}

/* ---- scopes (D8.17, TLBI instruction pages) ------------------------------- */

/*
 * The ASID-and-VA part of a scope over a universe, given its per-context,
 * global and per-VA masks.  vm >= 0 keeps only contexts of that VM.
 */
static struct vt_set scope_mask(const struct vt_model *m, unsigned kind, uint32_t asid, int va, int vm,
				const struct vt_set *ctxm, const struct vt_set *global, const struct vt_set *vam)
{
	struct vt_set all = {{0}}, of_asid = {{0}};
	for (int c = 0; c < m->nctx; c++) {
		if (vm >= 0 && m->ctx[c].vm != vm)
			continue;
		vt_set_or(&all, &ctxm[c]);
		if (m->ctx[c].value == asid)
			vt_set_or(&of_asid, &ctxm[c]);
	}
	struct vt_set none = {{0}};
	switch (kind) {
	case VT_TLBI_VMALLE1:
	case VT_TLBI_VMALLS12E1:
	case VT_TLBI_ALLE1:
		return all;
	case VT_TLBI_VAE1:
	case VT_TLBI_VALE1: {
		/* non-global entries of the ASID, and global entries, for the VA */
		if (va < 0)
			return none;
		struct vt_set g = vt_set_inter(global, &all);
		struct vt_set r = vt_set_union(&of_asid, &g);
		vt_set_and(&r, &vam[va]);
		return r;
	}
	case VT_TLBI_VAAE1:
	case VT_TLBI_VAALE1:
		if (va < 0)
			return none;
		return vt_set_inter(&all, &vam[va]);
	case VT_TLBI_ASIDE1:
		/* non-global leaves of the ASID: global leaves stay (C5.5 TLBI ASIDE1) */
		return vt_set_minus(&of_asid, global);
	default:
		return none; /* IPAS2E1: stage 2 only */
	}
}

struct vt_set vt_arm64_tlbi_tmask(const struct vt_model *m, unsigned kind, uint32_t asid, int va, int vm)
{
	return scope_mask(m, kind, asid, va, vm, m->t_ctx, &m->t_global, m->t_va);
}

struct vt_set vt_arm64_tlbi_umask(const struct vt_model *m, unsigned kind, uint32_t asid, int va)
{
	return scope_mask(m, kind, asid, va, -1, m->u_ctx, &m->u_global, m->u_va);
}

uint64_t vt_arm64_tlbi_smask(const struct vt_model *m, unsigned kind, uint64_t ipa)
{
	uint64_t r = 0;
	switch (kind) {
	case VT_TLBI_VMALLS12E1:
	case VT_TLBI_ALLE1:
		return ~(uint64_t)0;
	case VT_TLBI_IPAS2E1:
		/* the entries used to translate the IPA, leaf and table, no level hint */
		return vt_arm64_s2_range_mask(m, ipa, ipa + 0x1000, 0);
	default:
		return r;
	}
}

uint64_t vt_arm64_s2_range_mask(const struct vt_model *m, uint64_t lo, uint64_t hi, int level)
{
	uint64_t r = 0;
	for (int j = 0; j < m->ns; j++) {
		const struct vt_s2 *e = &m->s2[j];
		uint64_t end = e->gpa + vt_s2_span(e);
		if (e->gpa >= hi || end <= lo)
			continue;
		bool hit = e->table ? (level == 0 || level > e->level) : (level == 0 || level == e->level);
		if (hit)
			r |= VT_BIT(j);
	}
	return r;
}

/* ---- formatting ------------------------------------------------------------ */

static void arm64_fmt_op(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len)
{
	switch (op->code) {
	case VT_A64_TLBI: {
		unsigned kind = (unsigned)op->target;
		char va[40] = "", asid[24] = "";
		if (vt_arm64_tlbi_by_va(kind))
			snprintf(va, sizeof(va), " 0x%llx", (unsigned long long)op->a);
		if (op->flags & VT_A64_OPF_ASID)
			snprintf(asid, sizeof(asid), " asid %llu", (unsigned long long)op->b);
		snprintf(buf, len, "tlbi %s%s%s%s", kind < VT_TLBI_COUNT ? tlbi_names[kind] : "?",
			 (op->flags & VT_OPF_IS) ? "is" : "", va, asid);
		break;
	}
	case VT_A64_DSB:
		snprintf(buf, len, "dsb %s", (unsigned)op->target < VT_DSB_COUNT ? dsb_names[op->target] : "?");
		break;
	case VT_A64_ISB:
		snprintf(buf, len, "isb");
		break;
	case VT_A64_IC:
		snprintf(buf, len, "ic %s", op->target ? "ialluis" : "iallu");
		break;
	case VT_A64_FETCH:
		snprintf(buf, len, "fetch 0x%llx", (unsigned long long)op->a);
		break;
	case VT_A64_MSR_TTBR0:
		snprintf(buf, len, "msr ttbr0 %s%s", m->space[op->space].name, (op->flags & VT_A64_OPF_CNP) ? " cnp" : "");
		break;
	case VT_A64_MSR_SCTLR_M:
		snprintf(buf, len, "msr sctlr.m %llu", (unsigned long long)op->a);
		break;
	default:
		snprintf(buf, len, "op%u", op->code);
	}
}

static void arm64_fmt_regs(const struct vt_model *m, const union vt_gregs *gr, char *buf, size_t len)
{
	const struct vt_arm64_regs *r = &gr->arm64;
	if (r->ttbr0 >= 0)
		snprintf(buf, len, "ttbr0=%s asid=%u%s sctlr.m=%u", m->space[r->ttbr0].name, m->space[r->ttbr0].ctx,
			 r->cnp ? " cnp" : "", r->mmu);
	else
		snprintf(buf, len, "ttbr0=- sctlr.m=%u", r->mmu);
}

const struct vt_arch_ops vt_arm64_arch_ops = {
	/* the model's stage 2: a 48-bit IPA space, 4 KiB granule (VTCR_EL2.T0SZ = 16, Arm ARM D8.2) */
	.gpa_limit = (uint64_t)1 << 48,
	.name = "arm64",
	.ctx_word = "asid",
	.ctx_max = 0xffff, /* 16-bit ASIDs (TCR_EL1.AS) */
	.ops = arm64_ops,
	.nops = (int)VT_ARRAY_SIZE(arm64_ops),
	.reset_regs = arm64_reset_regs,
	.parse_vcpu = arm64_parse_vcpu,
	.gctx = arm64_gctx,
	.exec = arm64_exec,
	.fmt_op = arm64_fmt_op,
	.fmt_regs = arm64_fmt_regs,
};
