/*
 * The x86 guest architecture: registers, the guest operations a scenario can
 * name, and their architectural validity (Intel SDM vol. 3 §2.5 "Control
 * registers", §4.10.4 "Invalidation of TLBs and paging-structure caches",
 * MOV CR / INVLPG / INVPCID instruction pages in vol. 2, §9.1 INIT).
 *
 * A space is a guest page table together with the PCID it is loaded with
 * (CR3 bits 11:0).  With CR4.PCIDE=0 those bits are not a PCID and every
 * translation is tagged PCID 0, so each space's translations exist under two
 * contexts: its PCID and PCID 0.  Long mode is EFER.LME with CR0.PG.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/scenario.h"
#include "vtlb/x86.h"

#include "guest/x86_nested.h"

struct flag_name {
	const char *name;
	uint32_t bit;
};

static const struct flag_name cr0_flags[] = {
	{"pe", X86_CR0_PE}, {"ts", X86_CR0_TS}, {"wp", X86_CR0_WP}, {"pg", X86_CR0_PG},
};

static const struct flag_name cr4_flags[] = {
	{"pse", X86_CR4_PSE},	  {"pae", X86_CR4_PAE},	  {"pge", X86_CR4_PGE},	  {"la57", X86_CR4_LA57},
	{"pcide", X86_CR4_PCIDE}, {"smep", X86_CR4_SMEP}, {"smap", X86_CR4_SMAP}, {"pke", X86_CR4_PKE},
};

static int flag_lookup(const struct flag_name *t, size_t n, const char *s, size_t len, uint32_t *bit)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && strncmp(t[i].name, s, len) == 0) {
			*bit = t[i].bit;
			return 0;
		}
	return -1;
}

static void flags_fmt(const struct flag_name *t, size_t n, uint32_t set, uint32_t clr, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && o < len; i++) {
		if (set & t[i].bit)
			o += (size_t)snprintf(buf + o, len - o, " +%s", t[i].name);
		if ((clr & t[i].bit) && o < len)
			o += (size_t)snprintf(buf + o, len - o, " -%s", t[i].name);
	}
}

/* "+pge -pcide ..." : at least one. */
static int parse_flag_changes(struct vt_parser *p, const struct flag_name *t, size_t n, const char *reg,
			      uint64_t *set, uint64_t *clr)
{
	*set = *clr = 0;
	while (!vt_parse_at_end(p)) {
		const struct vt_token *k = &p->tok[p->cur];
		uint32_t bit;
		if (k->len < 2 || (k->s[0] != '+' && k->s[0] != '-'))
			return vt_parse_error(p, "expected +flag or -flag for %s", reg);
		if (flag_lookup(t, n, k->s + 1, k->len - 1, &bit) < 0) {
			char names[96] = "";
			for (size_t i = 0; i < n; i++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? " " : "", t[i].name);
			return vt_parse_error(p, "unknown %s flag '%.*s' (%s flags: %s)", reg, (int)k->len - 1, k->s + 1, reg,
					      names);
		}
		if ((*set | *clr) & bit)
			return vt_parse_error(p, "%s flag '%.*s' given twice", reg, (int)k->len - 1, k->s + 1);
		if (k->s[0] == '+')
			*set |= bit;
		else
			*clr |= bit;
		p->cur++;
	}
	if (!*set && !*clr)
		return vt_parse_error(p, "expected at least one +flag or -flag for %s", reg);
	return 0;
}

static int parse_mov(struct vt_parser *p, struct vt_op *op)
{
	if (vt_parse_accept(p, "cr3")) {
		int sp;
		op->code = VT_X86_MOV_CR3;
		if (vt_parse_space(p, &sp) < 0)
			return -1;
		op->space = (int16_t)sp;
		if (vt_parse_accept(p, "noflush"))
			op->flags |= VT_OPF_NOFLUSH;
		return 0;
	}
	if (vt_parse_accept(p, "cr4")) {
		op->code = VT_X86_MOV_CR4;
		return parse_flag_changes(p, cr4_flags, VT_ARRAY_SIZE(cr4_flags), "cr4", &op->a, &op->b);
	}
	if (vt_parse_accept(p, "cr0")) {
		op->code = VT_X86_MOV_CR0;
		return parse_flag_changes(p, cr0_flags, VT_ARRAY_SIZE(cr0_flags), "cr0", &op->a, &op->b);
	}
	return vt_parse_error(p, "expected cr0, cr3 or cr4 after 'mov'");
}

static int parse_invlpg(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_X86_INVLPG;
	if (vt_parse_addr(p, "virtual address", &op->a) < 0)
		return -1;
	if (vt_model_add_va(p->m, op->a) < 0)
		return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	return 0;
}

static int parse_invpcid(struct vt_parser *p, struct vt_op *op)
{
	uint64_t type;
	op->code = VT_X86_INVPCID;
	if (vt_parse_number(p, "INVPCID type", &type) < 0)
		return -1;
	if (type > 3)
		return vt_parse_error_at(p, p->cur - 1, "INVPCID type must be 0, 1, 2 or 3");
	op->target = (int16_t)type;
	if (type <= 1) {
		if (vt_parse_expect(p, "pcid") < 0 || vt_parse_number(p, "PCID", &op->b) < 0)
			return -1;
		if (op->b > 0xfff)
			return vt_parse_error_at(p, p->cur - 1, "a PCID is 12 bits (0..4095)");
	}
	if (type == 0) {
		if (vt_parse_expect(p, "va") < 0 || vt_parse_addr(p, "virtual address", &op->a) < 0)
			return -1;
		if (vt_model_add_va(p->m, op->a) < 0)
			return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	}
	return 0;
}

static int parse_init(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_X86_INIT;
	return 0;
}

/*
 * A TLB shootdown as Linux sends it to one other vCPU of the guest
 * (flush_tlb_multi): with KVM_FEATURE_PV_TLB_FLUSH (option pv-tlb-flush) the
 * guest's kvm_flush_tlb_multi (arch/x86/kernel/kvm.c) first looks at the
 * target's steal-time preempted byte, and for a preempted target sets
 * KVM_VCPU_FLUSH_TLB there with a cmpxchg instead of sending the IPI; KVM
 * must flush the target before it runs guest code again.  Otherwise the
 * target takes the IPI and its handler runs the flush itself: INVLPG VA, or
 * a CR3 reload (a flush of its current PCID).
 */
static int parse_shootdown(struct vt_parser *p, struct vt_op *op)
{
	int t;
	int at = p->cur;
	op->code = VT_X86_SHOOTDOWN;
	if (vt_parse_vcpu(p, &t) < 0)
		return -1;
	if (p->vcpu >= 0 && (t == p->vcpu || p->m->vcpu_vm[t] != p->m->vcpu_vm[p->vcpu]))
		return vt_parse_error_at(p, at, "a shootdown goes to another vCPU of the same VM");
	op->target = (int16_t)t;
	if (vt_parse_accept(p, "invlpg")) {
		op->b = 0;
		if (vt_parse_addr(p, "virtual address", &op->a) < 0)
			return -1;
		if (vt_model_add_va(p->m, op->a) < 0)
			return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
		return 0;
	}
	if (vt_parse_accept(p, "flush")) {
		op->b = 1;
		return 0;
	}
	return vt_parse_error(p, "expected 'invlpg VA' or 'flush' after the shootdown's target");
}

/*
 * Hyper-V's TLB flush hypercalls, which KVM offers a guest that sees Hyper-V
 * enlightenments: HvFlushVirtualAddressList for one page, or
 * HvFlushVirtualAddressSpace, both with HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES,
 * on a set of the VM's vCPUs (the caller may be one of them).  The hypercall
 * returns when every target will have flushed before it runs guest code
 * again (TLFS, "Virtual MMU and Caching").
 */
static int parse_hvflush(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_X86_HV_FLUSH;
	op->b = 0;
	while (!vt_parse_peek(p, "va") && !vt_parse_peek(p, "all")) {
		int t, at = p->cur;
		if (vt_parse_vcpu(p, &t) < 0)
			return -1;
		if (p->vm >= 0 && p->m->vcpu_vm[t] != p->vm)
			return vt_parse_error_at(p, at, "a Hyper-V flush targets vCPUs of the caller's VM");
		if (op->b & VT_BIT(t))
			return vt_parse_error_at(p, at, "target vCPU given twice");
		op->b |= VT_BIT(t);
	}
	if (!op->b)
		return vt_parse_error(p, "expected the target vCPUs before 'va' or 'all'");
	if (vt_parse_accept(p, "all")) {
		op->target = 1;
		return 0;
	}
	(void)vt_parse_accept(p, "va");
	op->target = 0;
	if (vt_parse_addr(p, "virtual address", &op->a) < 0)
		return -1;
	if (vt_model_add_va(p->m, op->a) < 0)
		return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	return 0;
}

/*
 * The guest touches guest-physical page GPA (any access that reaches it):
 * if KVM's EPT/NPT (or shadow) map has no entry for it, the hardware exits
 * with an EPT violation or #NPF, and KVM's page-fault path maps it
 * (docs/scenarios.md, "Faults against invalidations").
 */
static int parse_fault(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_X86_FAULT;
	return vt_parse_addr(p, "a guest-physical address", &op->a);
}

static int parse_fep(struct vt_parser *p, struct vt_op *op);

/* 'smm on|off': the VMM's KVM_SET_VCPU_EVENTS with KVM_VCPUEVENT_VALID_SMM (events.smi.smm). */
static int parse_smm(struct vt_parser *p, struct vt_op *op)
{
	if (vt_parse_accept(p, "on"))
		op->a = 1;
	else if (vt_parse_accept(p, "off"))
		op->a = 0;
	else
		return vt_parse_error(p, "expected 'on' or 'off' after 'smm'");
	return 0;
}

static const struct vt_op_decl x86_ops[] = {
	{"mov", VT_X86_MOV_CR3, parse_mov, "mov cr3 SPACE [noflush] | mov cr4 +FLAG|-FLAG... | mov cr0 +FLAG|-FLAG..."},
	{"invlpg", VT_X86_INVLPG, parse_invlpg, "invlpg VA"},
	{"invpcid", VT_X86_INVPCID, parse_invpcid, "invpcid 0 pcid N va VA | invpcid 1 pcid N | invpcid 2 | invpcid 3"},
	{"init", VT_X86_INIT, parse_init, "init"},
	{"shootdown", VT_X86_SHOOTDOWN, parse_shootdown, "shootdown VCPU invlpg VA | shootdown VCPU flush"},
	{"hvflush", VT_X86_HV_FLUSH, parse_hvflush, "hvflush VCPU... va VA | hvflush VCPU... all"},
	{"fault", VT_X86_FAULT, parse_fault, "fault GPA  (an EPT violation / #NPF on a page KVM has not mapped)"},
	{"smm", VT_X86_SMM, parse_smm, "smm on | smm off  (the VMM only: 'vmm VCPU: smm on')"},
	{"vmptrld", VT_X86_VMPTRLD, vt_x86_parse_vmptrld, "vmptrld L2VM [vpid N]  (L1: make L2VM's VMCS12 current)"},
	{"vmlaunch", VT_X86_VMLAUNCH, vt_x86_parse_vmlaunch, "vmlaunch  (L1: VM entry to the current VMCS12's L2)"},
	{"vmresume", VT_X86_VMLAUNCH, vt_x86_parse_vmlaunch, "vmresume  (L1: VM entry to the current VMCS12's L2)"},
	{"vmexit", VT_X86_VMEXIT, vt_x86_parse_vmexit, "vmexit  (L2: an instruction L1 intercepts: VM exit to L1)"},
	{"invvpid", VT_X86_INVVPID, vt_x86_parse_invvpid,
	 "invvpid addr VPID VA | invvpid single VPID | invvpid all | invvpid single-nonglobal VPID  (L1)"},
	{"invept", VT_X86_INVEPT, vt_x86_parse_invept, "invept single L2VM | invept global  (L1)"},
	{"ept12", VT_X86_EPT12, vt_x86_parse_ept12, "ept12 map L2VM GPA -> L1GPA | ept12 unmap L2VM GPA  (L1 edits its EPT12)"},
	{"vmrun", VT_X86_VMRUN, vt_x86_parse_vmrun, "vmrun L2VM asid N [tlbctl 0|1|3|7]  (SVM L1: VMRUN of L2VM's VMCB12)"},
	{"invlpga", VT_X86_INVLPGA, vt_x86_parse_invlpga, "invlpga VA asid N  (SVM L1)"},
	{"npt12", VT_X86_EPT12, vt_x86_parse_ept12, "npt12 map L2VM GPA -> L1GPA | npt12 unmap L2VM GPA  (SVM L1 edits its nested page table)"},
	{"fep", VT_X86_OP_END, parse_fep, "fep OP  (KVM's forced-emulation prefix: the op exits and is emulated)"},
};

/*
 * KVM's forced emulation prefix (module parameter force_emulation_prefix,
 * used by kvm-unit-tests): the instruction after it exits to KVM and runs
 * through the emulator even where the hardware would execute it natively.
 */
static int parse_fep(struct vt_parser *p, struct vt_op *op)
{
	for (size_t i = 0; i + 1 < VT_ARRAY_SIZE(x86_ops); i++) {
		/* only single instructions take the prefix: not INIT, a shootdown or a hypercall sequence */
		uint16_t c = x86_ops[i].code;
		if (c != VT_X86_MOV_CR3 && c != VT_X86_INVLPG && c != VT_X86_INVPCID)
			continue;
		if (vt_parse_accept(p, x86_ops[i].name)) {
			if (x86_ops[i].parse(p, op) < 0)
				return -1;
			op->flags |= VT_OPF_FEP;
			return 0;
		}
	}
	return vt_parse_error(p, "expected an instruction after 'fep' (mov, invlpg, invpcid)");
}

static int x86_ctx_variants(const struct vt_model *m, int space, uint32_t out[2])
{
	out[0] = m->space[space].ctx;
	if (out[0] == 0)
		return 1;
	out[1] = 0;
	return 2;
}

static bool long_mode(const struct vt_x86_regs *r)
{
	return (r->efer & X86_EFER_LME) && (r->cr0 & X86_CR0_PG);
}

/* Power-on (RESET): CR0 = ET, CR3 = 0, CR4 = 0, EFER = 0 (SDM §9.1.1, Table 9-1). */
static void x86_reset_regs(union vt_gregs *gr)
{
	memset(gr, 0, sizeof(*gr));
	gr->x86.cr3 = -1;
}

static int x86_parse_vcpu(struct vt_parser *p, union vt_gregs *gr)
{
	struct vt_x86_regs *r = &gr->x86;
	x86_reset_regs(gr);
	while (!vt_parse_at_end(p)) {
		uint64_t set, clr;
		if (vt_parse_accept(p, "long")) {
			r->cr0 |= X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
			r->cr4 |= X86_CR4_PAE;
			r->efer |= X86_EFER_LME;
		} else if (vt_parse_accept(p, "cr3")) {
			int sp;
			if (vt_parse_space(p, &sp) < 0)
				return -1;
			r->cr3 = (int8_t)sp;
		} else if (vt_parse_accept(p, "cr4")) {
			int start = p->cur;
			while (!vt_parse_at_end(p) && p->tok[p->cur].s[0] == '+')
				p->cur++;
			int end = p->cur;
			p->cur = start;
			int save = p->ntok;
			p->ntok = end;
			int rc = parse_flag_changes(p, cr4_flags, VT_ARRAY_SIZE(cr4_flags), "cr4", &set, &clr);
			p->ntok = save;
			if (rc < 0)
				return -1;
			r->cr4 |= (uint32_t)set;
		} else if (vt_parse_accept(p, "smm")) {
			r->smm = 1; /* created in SMM (as if the VMM had set it before the first KVM_RUN) */
		} else {
			return vt_parse_error(p, "expected 'long', 'cr3 SPACE', 'cr4 +FLAG...' or 'smm'");
		}
	}
	if ((r->cr4 & X86_CR4_PCIDE) && !long_mode(r))
		return vt_parse_error(p, "CR4.PCIDE needs long mode (say 'long')");
	if ((r->cr4 & X86_CR4_PCIDE) && r->cr3 >= 0 && p->m->space[r->cr3].ctx > 0xfff)
		return vt_parse_error(p, "a PCID is 12 bits");
	if ((r->cr0 & X86_CR0_PG) && r->cr3 < 0)
		return vt_parse_error(p, "paging is on but no 'cr3 SPACE' was given");
	return 0;
}

/* The active PCID: CR3[11:0] with CR4.PCIDE=1, else 0 (SDM §4.10.1). */
uint32_t vt_x86_pcid(const struct vt_model *m, const struct vt_x86_regs *r)
{
	if (!(r->cr4 & X86_CR4_PCIDE) || r->cr3 < 0)
		return 0;
	return m->space[r->cr3].ctx;
}

/* SDM vol. 3 §4.10.4.1, instruction by instruction. */
void vt_x86_scope(const struct vt_model *m, const struct vt_op *op, const struct vt_x86_regs *o,
		  const struct vt_x86_regs *n, struct vt_x86_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->none = 1;
	switch (op->code) {
	case VT_X86_MOV_CR3:
		/* Non-global entries of the PCID in the new CR3 (PCID 000H if PCIDE=0), unless bit 63. */
		if (op->flags & VT_OPF_NOFLUSH)
			return;
		sc->none = 0;
		sc->pcid = vt_x86_pcid(m, n);
		return;
	case VT_X86_MOV_CR4: {
		uint32_t chg = o->cr4 ^ n->cr4;
		if ((chg & X86_CR4_PGE) || ((o->cr4 & X86_CR4_PCIDE) && !(n->cr4 & X86_CR4_PCIDE))) {
			/* PGE changed, or PCIDE 1->0: all entries, global too, every PCID. */
			sc->none = 0;
			sc->all_pcids = 1;
			sc->globals = 1;
		} else if ((chg & X86_CR4_PAE) || (!(o->cr4 & X86_CR4_SMEP) && (n->cr4 & X86_CR4_SMEP))) {
			/* PAE changed, or SMEP 0->1: all entries for the current PCID. */
			sc->none = 0;
			sc->globals = 1;
			sc->pcid = vt_x86_pcid(m, n);
		}
		return;
	}
	case VT_X86_MOV_CR0:
		/* PG 1->0: all entries, global too, every PCID. */
		if ((o->cr0 & X86_CR0_PG) && !(n->cr0 & X86_CR0_PG)) {
			sc->none = 0;
			sc->all_pcids = 1;
			sc->globals = 1;
		}
		return;
	case VT_X86_INVLPG:
		/* The page's entries for the current PCID, and its global entries under any PCID. */
		sc->none = 0;
		sc->by_va = 1;
		sc->va_globals = 1;
		sc->va = op->a;
		sc->pcid = vt_x86_pcid(m, n);
		return;
	case VT_X86_INVPCID:
		sc->none = 0;
		switch (op->target) {
		case 0: /* individual address, non-global */
			sc->by_va = 1;
			sc->va = op->a;
			sc->pcid = (uint32_t)op->b;
			break;
		case 1: /* single context, non-global */
			sc->pcid = (uint32_t)op->b;
			break;
		case 2: /* all contexts, global included */
			sc->all_pcids = 1;
			sc->globals = 1;
			break;
		default: /* 3: all contexts, non-global */
			sc->all_pcids = 1;
			break;
		}
		return;
	case VT_X86_INIT:
		/* §9.1: INIT invalidates the TLBs (KVM promises it on AMD too, df37ed38e6c2). */
		sc->none = 0;
		sc->all_pcids = 1;
		sc->globals = 1;
		return;
	default:
		return;
	}
}

/* A scope over either universe; ctxmask(c) selects the universe's per-context mask. */
static struct vt_set scope_mask(const struct vt_model *m, const struct vt_x86_scope *sc, int vm,
				const struct vt_set *ctxm, const struct vt_set *global, const struct vt_set *vam,
				const struct vt_set *vmm)
{
	struct vt_set r = {{0}};
	if (sc->none)
		return r;
	for (int c = 0; c < m->nctx; c++) {
		if (vm >= 0 && m->ctx[c].vm != vm)
			continue;
		if (sc->all_pcids || m->ctx[c].value == sc->pcid)
			vt_set_or(&r, &ctxm[c]);
	}
	if (!sc->globals)
		r = vt_set_minus(&r, global);
	if (sc->by_va) {
		int va = vt_model_va_index(m, sc->va);
		if (va < 0) {
			struct vt_set none = {{0}};
			return none;
		}
		if (sc->va_globals)
			vt_set_or(&r, global);
		vt_set_and(&r, &vam[va]);
	}
	if (vmm)
		vt_set_and(&r, vmm);
	return r;
}

struct vt_set vt_x86_scope_tmask(const struct vt_model *m, const struct vt_x86_scope *sc, int vm)
{
	return scope_mask(m, sc, vm, m->t_ctx, &m->t_global, m->t_va, &m->t_vm[vm]);
}

struct vt_set vt_x86_scope_umask(const struct vt_model *m, const struct vt_x86_scope *sc)
{
	return scope_mask(m, sc, -1, m->u_ctx, &m->u_global, m->u_va, NULL);
}

static void x86_gctx(const struct vt_model *m, const union vt_gregs *gr, struct vt_gctx *g)
{
	const struct vt_x86_regs *r = &gr->x86;
	int sp = r->cr3;
	g->paging = (r->cr0 & X86_CR0_PG) && sp >= 0;
	g->space = (int8_t)sp;
	g->global_ok = (r->cr4 & X86_CR4_PGE) != 0;
	if (sp < 0) {
		g->ctx = -1;
		return;
	}
	/* the space's context variant of the current PCID (vt_x86_pcid), the last one if both match */
	uint32_t want = (r->cr4 & X86_CR4_PCIDE) ? m->space[sp].ctx : 0;
	const int8_t *c = m->space_ctx[sp];
	int ctx = -1;
	if (c[0] >= 0 && m->ctx[c[0]].value == want)
		ctx = c[0];
	if (c[1] >= 0 && m->ctx[c[1]].value == want)
		ctx = c[1];
	g->ctx = (int8_t)ctx;
}

/* Architectural checks and register effects (SDM vol. 2 MOV CR, INVPCID; vol. 3 §2.5). */
static enum vt_exec x86_exec(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			     const char **why)
{
	struct vt_x86_regs *r = &s->vcpu[v].g.x86;
	int l2vm = -1;
	int level = vt_x86_level(m, s, v, &l2vm);
	if (op->code >= VT_X86_VMPTRLD && op->code <= VT_X86_INVLPGA)
		return vt_x86_nested_exec(m, s, v, op, why);
	if (level == 2 && (op->code == VT_X86_INIT || op->code == VT_X86_SHOOTDOWN || op->code == VT_X86_HV_FLUSH)) {
		*why = "model: INIT, shootdowns and Hyper-V hypercalls in an L2 guest are not modelled";
		return VT_EXEC_FAULT;
	}
	switch (op->code) {
	case VT_X86_MOV_CR3:
		if (m->space[op->space].vm != (level == 2 ? l2vm : m->vcpu_vm[v])) {
			*why = level == 2 ? "model: L2 loads CR3 with an address space of another VM"
					  : "model: L1 loads CR3 with an address space of another VM (an L2's tables are "
					    "for VMCS12's guest state)";
			return VT_EXEC_FAULT;
		}
		/* With CR4.PCIDE=0, CR3 bit 63 is reserved: #GP. */
		if ((op->flags & VT_OPF_NOFLUSH) && !(r->cr4 & X86_CR4_PCIDE)) {
			*why = "#GP: MOV CR3 with bit 63 (noflush) set while CR4.PCIDE=0, where bit 63 is reserved";
			return VT_EXEC_FAULT;
		}
		r->cr3 = (int8_t)op->space;
		return VT_EXEC_OK;
	case VT_X86_MOV_CR4: {
		uint32_t cr4 = (r->cr4 | (uint32_t)op->a) & ~(uint32_t)op->b;
		/* PCIDE 0->1 needs IA-32e mode and CR3[11:0] = 0. */
		if ((cr4 & X86_CR4_PCIDE) && !(r->cr4 & X86_CR4_PCIDE) && !long_mode(r)) {
			*why = "#GP: CR4.PCIDE set outside IA-32e mode";
			return VT_EXEC_FAULT;
		}
		if ((cr4 & X86_CR4_PCIDE) && !(r->cr4 & X86_CR4_PCIDE) && r->cr3 >= 0 && m->space[r->cr3].ctx != 0) {
			*why = "#GP: CR4.PCIDE set while CR3[11:0] (the loaded space's PCID) is not 0";
			return VT_EXEC_FAULT;
		}
		/* PAE cannot be cleared, nor LA57 changed, in long mode. */
		if (long_mode(r) && (!(cr4 & X86_CR4_PAE) || ((cr4 ^ r->cr4) & X86_CR4_LA57))) {
			*why = "#GP: CR4.PAE cleared or CR4.LA57 changed in IA-32e mode";
			return VT_EXEC_FAULT;
		}
		r->cr4 = cr4;
		return VT_EXEC_OK;
	}
	case VT_X86_MOV_CR0: {
		uint32_t cr0 = (r->cr0 | (uint32_t)op->a) & ~(uint32_t)op->b;
		if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)) {
			*why = "#GP: CR0.PG=1 with CR0.PE=0";
			return VT_EXEC_FAULT;
		}
		/* Clearing PG with CR4.PCIDE=1 is #GP. */
		if (!(cr0 & X86_CR0_PG) && (r->cr4 & X86_CR4_PCIDE)) {
			*why = "#GP: CR0.PG cleared while CR4.PCIDE=1";
			return VT_EXEC_FAULT;
		}
		/* Setting PG with EFER.LME needs CR4.PAE. */
		if ((cr0 & X86_CR0_PG) && !(r->cr0 & X86_CR0_PG) && (r->efer & X86_EFER_LME) &&
		    !(r->cr4 & X86_CR4_PAE)) {
			*why = "#GP: CR0.PG set with EFER.LME=1 and CR4.PAE=0";
			return VT_EXEC_FAULT;
		}
		if ((cr0 & X86_CR0_PG) && r->cr3 < 0) {
			*why = "model: CR0.PG set with no page table in CR3 (declare 'cr3 SPACE' or 'mov cr3' first)";
			return VT_EXEC_FAULT;
		}
		r->cr0 = cr0;
		return VT_EXEC_OK;
	}
	case VT_X86_INVLPG:
		return VT_EXEC_OK;
	case VT_X86_INVPCID:
		/* Types 0 and 1 with PCIDE=0 accept only PCID 0. */
		if (op->target <= 1 && !(r->cr4 & X86_CR4_PCIDE) && op->b != 0) {
			*why = "#GP: INVPCID type 0 or 1 with a non-zero PCID while CR4.PCIDE=0";
			return VT_EXEC_FAULT;
		}
		return VT_EXEC_OK;
	case VT_X86_SHOOTDOWN: {
		/* kvm_flush_tlb_multi: a preempted target gets KVM_VCPU_FLUSH_TLB (one cmpxchg), no IPI. */
		struct vt_x86_regs *t = &s->vcpu[op->target].g.x86;
		if (m->opt[VT_OPT_PV_TLB_FLUSH] && (t->st_preempted & KVM_VCPU_PREEMPTED)) {
			t->st_preempted |= KVM_VCPU_FLUSH_TLB;
			return VT_EXEC_OK;
		}
		/* native_flush_tlb_multi: the IPI, taken when the target is in the guest */
		uint8_t code = op->b ? 1 : (uint8_t)(2 + vt_model_va_index(m, op->a));
		if (t->ipi[1]) {
			vt_state_limit(&s->meta, VT_LIMIT_IPIS);
			return VT_EXEC_OK;
		}
		t->ipi[t->ipi[0] ? 1 : 0] = code;
		return VT_EXEC_OK;
	}
	case VT_X86_HV_FLUSH:
		return VT_EXEC_OK;
	case VT_X86_FAULT: {
		/* a memory access: no register changes; the page must be one of the VM's */
		int vm = m->vcpu_vm[v];
		for (int j = 0; j < m->ns; j++)
			if (m->s2[j].vm == vm && m->s2[j].gpa == op->a)
				return VT_EXEC_OK;
		*why = "model: no guest-physical page of the VM at that address (map it, or declare it with 's2')";
		return VT_EXEC_FAULT;
	}
	case VT_X86_SMM:
		r->smm = (uint8_t)op->a;
		return VT_EXEC_OK;
	case VT_X86_INIT:
		/* INIT then SIPI: CR0 = ET (CD/NW kept, not modelled), CR3 = 0, CR4 = 0, EFER = 0. */
		r->cr0 = 0;
		r->cr4 = 0;
		r->cr3 = -1;
		r->efer = 0;
		return VT_EXEC_OK;
	default:
		*why = "not an x86 guest operation";
		return VT_EXEC_FAULT;
	}
}

static void x86_fmt_op(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len)
{
	char fl[128];
	const char *fep = (op->flags & VT_OPF_FEP) ? "fep " : "";
	switch (op->code) {
	case VT_X86_MOV_CR3:
		snprintf(buf, len, "%smov cr3 %s%s", fep, m->space[op->space].name,
			 (op->flags & VT_OPF_NOFLUSH) ? " noflush" : "");
		break;
	case VT_X86_MOV_CR4:
		flags_fmt(cr4_flags, VT_ARRAY_SIZE(cr4_flags), (uint32_t)op->a, (uint32_t)op->b, fl, sizeof(fl));
		snprintf(buf, len, "%smov cr4%s", fep, fl);
		break;
	case VT_X86_MOV_CR0:
		flags_fmt(cr0_flags, VT_ARRAY_SIZE(cr0_flags), (uint32_t)op->a, (uint32_t)op->b, fl, sizeof(fl));
		snprintf(buf, len, "%smov cr0%s", fep, fl);
		break;
	case VT_X86_INVLPG:
		snprintf(buf, len, "%sinvlpg 0x%llx", fep, (unsigned long long)op->a);
		break;
	case VT_X86_INVPCID:
		if (op->target == 0)
			snprintf(buf, len, "%sinvpcid 0 pcid %llu va 0x%llx", fep, (unsigned long long)op->b,
				 (unsigned long long)op->a);
		else if (op->target == 1)
			snprintf(buf, len, "%sinvpcid 1 pcid %llu", fep, (unsigned long long)op->b);
		else
			snprintf(buf, len, "%sinvpcid %d", fep, op->target);
		break;
	case VT_X86_INIT:
		snprintf(buf, len, "%sinit", fep);
		break;
	case VT_X86_SMM:
		snprintf(buf, len, "smm %s", op->a ? "on" : "off");
		break;
	case VT_X86_HV_FLUSH: {
		size_t o = (size_t)snprintf(buf, len, "%shvflush", fep);
		for (int t = 0; t < m->nvcpus && o < len; t++)
			if (op->b & VT_BIT(t)) {
				char vn[32];
				vt_model_vcpu_name(m, t, vn, sizeof(vn));
				o += (size_t)snprintf(buf + o, len - o, " %s", vn);
			}
		if (o < len) {
			if (op->target)
				snprintf(buf + o, len - o, " all");
			else
				snprintf(buf + o, len - o, " va 0x%llx", (unsigned long long)op->a);
		}
		break;
	}
	case VT_X86_FAULT:
		snprintf(buf, len, "fault 0x%llx", (unsigned long long)op->a);
		break;
	case VT_X86_SHOOTDOWN: {
		char vn[32];
		vt_model_vcpu_name(m, op->target, vn, sizeof(vn));
		if (op->b)
			snprintf(buf, len, "%sshootdown %s flush", fep, vn);
		else
			snprintf(buf, len, "%sshootdown %s invlpg 0x%llx", fep, vn, (unsigned long long)op->a);
		break;
	}
	default:
		vt_x86_nested_fmt_op(m, op, buf, len);
	}
}

/* The shootdown's target was marked (PV flush) instead of interrupted. */
bool vt_x86_shootdown_marked(const struct vt_model *m, const struct vt_state *s, const struct vt_op *op)
{
	return m->opt[VT_OPT_PV_TLB_FLUSH] && (s->vcpu[op->target].g.x86.st_preempted & KVM_VCPU_PREEMPTED);
}

/* What the target's IPI handler runs (flush_tlb_func): INVLPG, or a reload of its own CR3. */
bool vt_x86_shootdown_handler(const struct vt_model *m, const struct vt_state *s, const struct vt_op *op,
			      struct vt_op *h)
{
	memset(h, 0, sizeof(*h));
	h->space = -1;
	h->target = -1;
	if (op->b == 0) {
		h->code = VT_X86_INVLPG;
		h->a = op->a;
		return true;
	}
	int cr3 = s->vcpu[op->target].g.x86.cr3;
	if (cr3 < 0)
		return false; /* paging off: nothing cached to flush */
	h->code = VT_X86_MOV_CR3;
	h->space = (int16_t)cr3;
	return true;
}

/* KVM_SET_SREGS writes the control registers: 'vmm VCPU: mov ...'; KVM_SET_VCPU_EVENTS the SMM flag. */
static bool x86_vmm_writes(const struct vt_op_decl *d)
{
	return d->code == VT_X86_MOV_CR3 || d->code == VT_X86_SMM;
}

/* SMM is entered by an SMI, which the model leaves to the VMM (KVM_SET_VCPU_EVENTS). */
static bool x86_vmm_only(const struct vt_op_decl *d)
{
	return d->code == VT_X86_SMM;
}

/*
 * flush_tlb_func in the target's IPI handler: the oldest pending shootdown.
 * x86_take_ipi's work with an IPI pending, out of line, so that its test
 * after every step saves no registers.
 */
static bool __attribute__((noinline)) take_ipi_pending(const struct vt_model *m, struct vt_state *s, int v,
						      struct vt_op *handler)
{
	struct vt_x86_regs *r = &s->vcpu[v].g.x86;
	/* L1's IPI waits while its vCPU runs L2 (the VM exit it causes to L1 is not modelled) */
	if (vt_x86_level(m, s, v, NULL) == 2)
		return false;
	while (r->ipi[0]) {
		struct vt_op sd;
		memset(&sd, 0, sizeof(sd));
		sd.code = VT_X86_SHOOTDOWN;
		sd.target = (int16_t)v;
		sd.b = r->ipi[0] == 1;
		if (r->ipi[0] >= 2)
			sd.a = m->va[r->ipi[0] - 2];
		r->ipi[0] = r->ipi[1];
		r->ipi[1] = 0;
		if (vt_x86_shootdown_handler(m, s, &sd, handler))
			return true;
	}
	return false;
}

static bool x86_take_ipi(const struct vt_model *m, struct vt_state *s, int v, struct vt_op *handler)
{
	if (!s->vcpu[v].g.x86.ipi[0])
		return false; /* none pending (asked after every step) */
	return take_ipi_pending(m, s, v, handler);
}

static void x86_fmt_regs(const struct vt_model *m, const union vt_gregs *gr, char *buf, size_t len)
{
	const struct vt_x86_regs *r = &gr->x86;
	char f0[128], f4[128];
	flags_fmt(cr0_flags, VT_ARRAY_SIZE(cr0_flags), r->cr0, 0, f0, sizeof(f0));
	flags_fmt(cr4_flags, VT_ARRAY_SIZE(cr4_flags), r->cr4, 0, f4, sizeof(f4));
	snprintf(buf, len, "cr3=%s cr0[%s ] cr4[%s ]%s%s", r->cr3 >= 0 ? m->space[r->cr3].name : "0", f0, f4,
		 (r->efer & X86_EFER_LME) ? " efer.lme" : "", r->smm ? " smm" : "");
}

const struct vt_arch_ops vt_x86_arch_ops = {
	.name = "x86",
	.ctx_word = "pcid",
	.ctx_max = 0xfff,
	.ops = x86_ops,
	.nops = (int)VT_ARRAY_SIZE(x86_ops),
	.ctx_variants = x86_ctx_variants,
	.reset_regs = x86_reset_regs,
	.parse_vcpu = x86_parse_vcpu,
	.gctx = x86_gctx,
	.exec = x86_exec,
	.take_ipi = x86_take_ipi,
	.level = vt_x86_level,
	.vmm_writes = x86_vmm_writes,
	.vmm_only = x86_vmm_only,
	.fmt_op = x86_fmt_op,
	.fmt_regs = x86_fmt_regs,
};
