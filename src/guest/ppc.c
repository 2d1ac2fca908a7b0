/*
 * The POWER radix guest architecture (Power ISA v3.0B): registers, the guest
 * operations a scenario can name and their architectural validity, and the
 * scope of the guest's own TLB invalidations (Book III §6.7.10 "Radix Tree
 * Translation", §6.10.2 tlbie/tlbiel, Book II §4.4 tlbsync/ptesync).
 *
 * A space is a guest process table entry: a page table together with the
 * PID the guest runs it under (PIDR).  Radix has no global bit, so each
 * space's translations exist under exactly one context, its PID; a 'global'
 * map is accepted and treated as an ordinary entry.  Quadrant 3 (PID 0 for
 * the guest kernel alongside a user PID) is not modelled: a vCPU runs one
 * space at a time.
 *
 * Invalidations a radix guest issues itself (LPCR[GTSE]=1, as KVM sets for
 * radix guests): tlbiel acts on this processor, tlbie on every processor of
 * the partition; neither is complete until a ptesync, and a tlbie not until
 * the issuing processor has executed tlbsync and then ptesync.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/ppc.h"
#include "vtlb/scenario.h"

/* ---- scope --------------------------------------------------------------- */

uint32_t vt_ppc_op_pid(const struct vt_model *m, const struct vt_op *op, const union vt_gregs *r)
{
	if (op->b != VT_PPC_PID_CUR)
		return (uint32_t)op->b;
	return r->ppc.pid >= 0 ? m->space[r->ppc.pid].ctx : 0;
}

struct vt_set vt_ppc_scope_tmask(const struct vt_model *m, const struct vt_op *op, const union vt_gregs *r, int vm)
{
	struct vt_set mask = {{0}};
	if (vt_ppc_op_ric(op) == 1)
		return mask; /* page-walk cache only */
	uint32_t pid = vt_ppc_op_pid(m, op, r);
	for (int c = 0; c < m->nctx; c++)
		if (m->ctx[c].vm == vm && m->ctx[c].value == pid)
			vt_set_or(&mask, &m->t_ctx[c]);
	if (op->target == 0) {
		int va = vt_model_va_index(m, op->a);
		struct vt_set none = {{0}};
		if (va < 0)
			return none;
		vt_set_and(&mask, &m->t_va[va]);
	}
	return mask;
}

/* ---- parsing ------------------------------------------------------------- */

static int parse_va(struct vt_parser *p, uint64_t *va)
{
	if (vt_parse_addr(p, "a virtual address", va) < 0)
		return -1;
	if (vt_model_add_va(p->m, *va) < 0)
		return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	return 0;
}

/*
 * tlbie|tlbiel va VA [pid N]          IS=0, RIC=0
 * tlbie|tlbiel pid [N] [ric 0|1|2]    IS=1 (RIC=1: page-walk cache only)
 */
static int parse_tlbi(struct vt_parser *p, struct vt_op *op)
{
	op->b = VT_PPC_PID_CUR;
	if (vt_parse_accept(p, "va")) {
		op->target = 0;
		if (parse_va(p, &op->a) < 0)
			return -1;
		if (vt_parse_accept(p, "pid") && vt_parse_number(p, "a PID", &op->b) < 0)
			return -1;
		if (op->b != VT_PPC_PID_CUR && op->b > 0xffff)
			return vt_parse_error_at(p, p->cur - 1, "a PID in this model is at most 0xffff");
		if (vt_parse_peek(p, "ric"))
			return vt_parse_error(p, "the IS=0 (va) form takes only RIC=0: RIC=1 and RIC=2 are invalid forms");
		return 0;
	}
	if (vt_parse_accept(p, "pid")) {
		op->target = 1;
		if (!vt_parse_at_end(p) && !vt_parse_peek(p, "ric")) {
			if (vt_parse_number(p, "a PID", &op->b) < 0)
				return -1;
			if (op->b > 0xffff)
				return vt_parse_error_at(p, p->cur - 1, "a PID in this model is at most 0xffff");
		}
		if (vt_parse_accept(p, "ric")) {
			uint64_t ric;
			if (vt_parse_number(p, "RIC", &ric) < 0)
				return -1;
			if (ric > 2)
				return vt_parse_error_at(p, p->cur - 1, "RIC must be 0, 1 or 2 (3 is reserved in the radix form)");
			op->flags |= (uint16_t)(ric << VT_PPC_RIC_SHIFT);
		}
		return 0;
	}
	return vt_parse_error(p, "expected 'va VA [pid N]' or 'pid [N] [ric R]'");
}

static int parse_mtpid(struct vt_parser *p, struct vt_op *op)
{
	int sp;
	if (vt_parse_space(p, &sp) < 0)
		return -1;
	op->space = (int16_t)sp;
	return 0;
}

static int parse_mmu(struct vt_parser *p, struct vt_op *op)
{
	if (vt_parse_accept(p, "on"))
		op->a = 1;
	else if (vt_parse_accept(p, "off"))
		op->a = 0;
	else
		return vt_parse_error(p, "expected 'on' or 'off' (MSR[IR|DR])");
	return 0;
}

static int parse_none(struct vt_parser *p, struct vt_op *op)
{
	return 0;
}

static const struct vt_op_decl ppc_ops[] = {
	{"mtpid", VT_PPC_OP_MTPID, parse_mtpid, "mtpid SPACE  (mtspr PIDR: switch to the space's PID; no invalidation)"},
	{"mmu", VT_PPC_OP_MMU, parse_mmu, "mmu on|off  (mtmsrd MSR[IR|DR])"},
	{"tlbiel", VT_PPC_OP_TLBIEL, parse_tlbi, "tlbiel va VA [pid N] | tlbiel pid [N] [ric 0|1|2]"},
	{"tlbie", VT_PPC_OP_TLBIE, parse_tlbi, "tlbie va VA [pid N] | tlbie pid [N] [ric 0|1|2]"},
	{"eieio", VT_PPC_OP_EIEIO, parse_none, "eieio"},
	{"tlbsync", VT_PPC_OP_TLBSYNC, parse_none, "tlbsync"},
	{"ptesync", VT_PPC_OP_PTESYNC, parse_none, "ptesync"},
};

/* Power-on: real mode (MSR[IR|DR] = 0), PIDR = 0. */
static void ppc_reset_regs(union vt_gregs *gr)
{
	memset(gr, 0, sizeof(*gr));
	gr->ppc.pid = -1;
}

/* vcpu VM.N [pid SPACE] [real] [nested L1VM] */
static int ppc_parse_vcpu(struct vt_parser *p, union vt_gregs *gr)
{
	struct vt_ppc_regs *r = &gr->ppc;
	ppc_reset_regs(gr);
	int real = 0;
	while (!vt_parse_at_end(p)) {
		if (vt_parse_accept(p, "pid")) {
			int sp;
			if (vt_parse_space(p, &sp) < 0)
				return -1;
			r->pid = (int8_t)sp;
			r->mmu = 1;
		} else if (vt_parse_accept(p, "real")) {
			real = 1;
		} else if (vt_parse_accept(p, "nested")) {
			char name[VT_NAME];
			int at = p->cur;
			if (vt_parse_word(p, "the L1 VM", name, sizeof(name)) < 0)
				return -1;
			int l1 = vt_model_vm(p->m, name);
			if (l1 < 0)
				return vt_parse_error_at(p, at, "unknown VM '%s' (declare it with 'vm')", name);
			if (l1 == p->vm)
				return vt_parse_error_at(p, at, "a VM cannot be nested in itself");
			r->l1 = (uint8_t)(l1 + 1);
		} else {
			return vt_parse_error(p, "expected 'pid SPACE', 'real' or 'nested VM'");
		}
	}
	if (real)
		r->mmu = 0;
	return 0;
}

static void ppc_gctx(const struct vt_model *m, const union vt_gregs *gr, struct vt_gctx *g)
{
	const struct vt_ppc_regs *r = &gr->ppc;
	g->paging = r->mmu && r->pid >= 0;
	g->space = r->pid;
	g->ctx = r->pid >= 0 ? m->space_ctx[r->pid][0] : -1;
	g->global_ok = 0; /* radix has no global bit */
}

/* Register effects and validity (Book III §6.10.2: tlbie at MSR[HV]=0 needs LPCR[GTSE]). */
static enum vt_exec ppc_exec(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			     const char **why)
{
	struct vt_ppc_regs *r = &s->vcpu[v].g.ppc;
	switch (op->code) {
	case VT_PPC_OP_MTPID:
		r->pid = (int8_t)op->space;
		return VT_EXEC_OK;
	case VT_PPC_OP_MMU:
		r->mmu = (uint8_t)op->a;
		return VT_EXEC_OK;
	case VT_PPC_OP_TLBIE:
		/* LPCR[GTSE]=0: a hypervisor emulation assistance interrupt; KVM does not emulate tlbie. */
		if (!m->opt[VT_OPT_GTSE]) {
			*why = "hypervisor emulation assistance interrupt: tlbie with LPCR[GTSE]=0";
			return VT_EXEC_FAULT;
		}
		return VT_EXEC_OK;
	case VT_PPC_OP_TLBIEL:
	case VT_PPC_OP_EIEIO:
	case VT_PPC_OP_TLBSYNC:
	case VT_PPC_OP_PTESYNC:
		return VT_EXEC_OK;
	default:
		*why = "not a POWER guest operation";
		return VT_EXEC_FAULT;
	}
}

static void fmt_tlbi(const char *name, const struct vt_op *op, char *buf, size_t len)
{
	char pid[32] = "";
	if (op->b != VT_PPC_PID_CUR)
		snprintf(pid, sizeof(pid), "%s%llu", op->target == 0 ? " pid " : " ", (unsigned long long)op->b);
	if (op->target == 0)
		snprintf(buf, len, "%s va 0x%llx%s", name, (unsigned long long)op->a, pid);
	else if (vt_ppc_op_ric(op))
		snprintf(buf, len, "%s pid%s ric %u", name, pid, vt_ppc_op_ric(op));
	else
		snprintf(buf, len, "%s pid%s", name, pid);
}

static void ppc_fmt_op(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len)
{
	switch (op->code) {
	case VT_PPC_OP_MTPID:
		snprintf(buf, len, "mtpid %s", m->space[op->space].name);
		break;
	case VT_PPC_OP_MMU:
		snprintf(buf, len, "mmu %s", op->a ? "on" : "off");
		break;
	case VT_PPC_OP_TLBIEL:
		fmt_tlbi("tlbiel", op, buf, len);
		break;
	case VT_PPC_OP_TLBIE:
		fmt_tlbi("tlbie", op, buf, len);
		break;
	case VT_PPC_OP_EIEIO:
		snprintf(buf, len, "eieio");
		break;
	case VT_PPC_OP_TLBSYNC:
		snprintf(buf, len, "tlbsync");
		break;
	case VT_PPC_OP_PTESYNC:
		snprintf(buf, len, "ptesync");
		break;
	default:
		snprintf(buf, len, "op%u", op->code);
	}
}

static void ppc_fmt_regs(const struct vt_model *m, const union vt_gregs *gr, char *buf, size_t len)
{
	const struct vt_ppc_regs *r = &gr->ppc;
	if (r->pid >= 0)
		snprintf(buf, len, "pidr=%u (%s) msr[ir|dr]=%u", m->space[r->pid].ctx, m->space[r->pid].name, r->mmu);
	else
		snprintf(buf, len, "pidr=0 msr[ir|dr]=%u", r->mmu);
}

const struct vt_arch_ops vt_ppc_arch_ops = {
	.name = "ppc",
	.ctx_word = "pid",
	.ctx_max = 0xffff, /* PIDR is 20 bits; the model keeps 16 */
	.ops = ppc_ops,
	.nops = (int)VT_ARRAY_SIZE(ppc_ops),
	.reset_regs = ppc_reset_regs,
	.parse_vcpu = ppc_parse_vcpu,
	.gctx = ppc_gctx,
	.exec = ppc_exec,
	.fmt_op = ppc_fmt_op,
	.fmt_regs = ppc_fmt_regs,
};
