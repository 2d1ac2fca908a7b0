/*
 * Nested VMX, architectural side: the L1 guest as a hypervisor (Intel SDM
 * vol. 3C ch. 25-28 for VMCS, VM entry and VM exit; vol. 2 VMPTRLD,
 * VMLAUNCH/VMRESUME, INVVPID, INVEPT pages), and the operations a scenario
 * names for it.  docs/nested.md describes the model.
 *
 * A vCPU runs at level 1 (its own guest, L1, in VMX root operation) or at
 * level 2 (the L2 guest L1 entered, in VMX non-root operation of L1's
 * virtual processor).  Registers are swapped at VM entry and VM exit: the
 * ones in vt_vcpu_state.g are always those of the running level, the other
 * level's are in vt_oracle_x86.other (VMCS12's guest-state area while L1
 * runs, L1's host state while L2 runs), as KVM itself keeps the running
 * level's CR3/CR4 in vcpu->arch.
 *
 * An L2 VM is a VM declared 'nested' in its L1's: its spaces, page tables
 * and contexts are its own, its guest-physical space is L1's EPT12 over
 * L1's memory (S entries of the L2 VM, each resolved through the L1 entry
 * it maps to: vt_s2.l1s), or, without 'ept12', L1's memory itself.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/scenario.h"
#include "vtlb/x86.h"

#include "guest/x86_nested.h"

int vt_x86_level(const struct vt_model *m, const struct vt_state *s, int v, int *l2vm)
{
	const struct vt_oracle_x86 *n = &s->vcpu[v].o.x86;
	if (l2vm)
		*l2vm = n->vmcs ? n->vmcs - 1 : -1;
	return m->has_nested && n->level ? 2 : 1;
}

int vt_x86_vpid12_slot(const struct vt_model *m, unsigned vpid12)
{
	for (int i = 0; i < m->nvpid12; i++)
		if (m->vpid12[i] == vpid12)
			return i;
	return -1;
}

/* ---- the model: L2 guest-physical entries ----------------------------------- */

/* L1's initial stage-2 entry for gpa1, made by default (L0 maps all of L1's memory) if none is declared. */
static int l1_entry(struct vt_model *m, int l1, uint64_t gpa1)
{
	for (int j = 0; j < m->ns; j++)
		if ((m->init_s2 & VT_BIT(j)) && m->s2[j].vm == l1 && m->s2[j].gpa == gpa1)
			return j;
	int j = vt_model_add_s2(m, l1, gpa1, vt_model_default_hpa(l1, gpa1));
	if (j >= 0)
		m->init_s2 |= VT_BIT(j);
	return j;
}

int vt_x86_l2_entry(struct vt_model *m, int l2, uint64_t gpa2, uint64_t gpa1)
{
	int l1 = m->vm[l2].nested_of - 1;
	int j = l1_entry(m, l1, gpa1);
	if (j < 0)
		return -1;
	int s = vt_model_add_s2(m, l2, gpa2, m->s2[j].hpa);
	if (s < 0)
		return -1;
	m->s2[s].l1s = (uint8_t)(j + 1);
	return s;
}

int vt_x86_nested_finish(struct vt_model *m, char *err, size_t len)
{
	/* Without EPT12 an L2 GPA is an L1 GPA: L1 maps L2's memory with its own tables. */
	for (int i = 0; i < m->np; i++) {
		const struct vt_pte *p = &m->pte[i];
		if (!m->vm[p->vm].nested_of || m->vm[p->vm].ept12)
			continue;
		bool found = false;
		for (int j = 0; j < m->ns; j++)
			if ((m->init_s2 & VT_BIT(j)) && m->s2[j].vm == p->vm && m->s2[j].gpa == p->gpa)
				found = true;
		if (found)
			continue;
		int s = vt_x86_l2_entry(m, p->vm, p->gpa, p->gpa);
		if (s < 0) {
			snprintf(err, len, "too many stage-2 mappings (at most %d)", VT_MAX_S);
			return -1;
		}
		m->init_s2 |= VT_BIT(s);
	}
	return 0;
}

/* ---- parsing ---------------------------------------------------------------- */

/* A VM nested in the operation's VM (p->vm). */
static int parse_l2vm(struct vt_parser *p, int *vm)
{
	char name[VT_NAME];
	int at = p->cur;
	if (vt_parse_word(p, "an L2 VM name", name, sizeof(name)) < 0)
		return -1;
	*vm = vt_model_vm(p->m, name);
	if (*vm < 0)
		return vt_parse_error_at(p, at, "unknown VM '%s' (declare it with 'vm %s nested L1VM')", name, name);
	if (!p->m->vm[*vm].nested_of)
		return vt_parse_error_at(p, at, "VM '%s' is not a nested VM (declare it with 'vm %s nested L1VM')", name,
					 name);
	if (p->vm >= 0 && p->m->vm[*vm].nested_of - 1 != p->vm)
		return vt_parse_error_at(p, at, "VM '%s' is nested in '%s', not in '%s'", name,
					 p->m->vm[p->m->vm[*vm].nested_of - 1].name, p->m->vm[p->vm].name);
	return 0;
}

static int note_vpid12(struct vt_parser *p, uint64_t vpid, int at)
{
	if (vpid == 0 || vt_x86_vpid12_slot(p->m, (unsigned)vpid) >= 0)
		return 0;
	if (p->m->nvpid12 == VT_X86_VPID12S)
		return vt_parse_error_at(p, at, "model limit: at most %d distinct non-zero VPIDs for L2 guests",
					 VT_X86_VPID12S);
	p->m->vpid12[p->m->nvpid12++] = (uint16_t)vpid;
	return 0;
}

static bool svm(const struct vt_model *m)
{
	return m->backend == VT_BE_SVM_NPT || m->backend == VT_BE_SVM_SHADOW;
}

/* VMX instructions on VMX, SVM ones on SVM. */
static int vendor_check(struct vt_parser *p, bool want_svm)
{
	if (svm(p->m) == want_svm)
		return 0;
	return vt_parse_error_at(p, p->cur - 1, want_svm ? "'%.*s' is an AMD SVM instruction; on VMX L1 uses vmptrld, "
								   "vmlaunch/vmresume, invvpid and invept"
							 : "'%.*s' is an Intel VMX instruction; on SVM L1 uses vmrun and invlpga",
				 (int)p->tok[p->cur - 1].len, p->tok[p->cur - 1].s);
}

/* vmptrld L2VM [vpid N]: make the VMCS12 of that L2 current (with its VPID field). */
int vt_x86_parse_vmptrld(struct vt_parser *p, struct vt_op *op)
{
	int vm;
	if (vendor_check(p, false) < 0)
		return -1;
	op->code = VT_X86_VMPTRLD;
	if (parse_l2vm(p, &vm) < 0)
		return -1;
	op->target = (int16_t)vm;
	op->b = 0;
	if (vt_parse_accept(p, "vpid")) {
		int at = p->cur;
		if (vt_parse_number(p, "a VPID", &op->b) < 0)
			return -1;
		if (op->b == 0 || op->b > 0xffff)
			return vt_parse_error_at(p, at, "VMCS12's VPID is 1..65535 (VM entry fails with VPID 0 when "
							"'enable VPID' is 1; leave 'vpid' out to run L2 without VPID)");
		if (note_vpid12(p, op->b, at) < 0)
			return -1;
	}
	return 0;
}

int vt_x86_parse_vmlaunch(struct vt_parser *p, struct vt_op *op)
{
	if (vendor_check(p, false) < 0)
		return -1;
	op->code = VT_X86_VMLAUNCH;
	op->a = vt_tok_is(p, p->cur - 1, "vmresume");
	return 0;
}

int vt_x86_parse_vmexit(struct vt_parser *p, struct vt_op *op)
{
	op->code = VT_X86_VMEXIT;
	return 0;
}

/* invvpid addr VPID VA | single VPID | all | single-nonglobal VPID */
int vt_x86_parse_invvpid(struct vt_parser *p, struct vt_op *op)
{
	static const char *const types[] = {"addr", "single", "all", "single-nonglobal"};
	if (vendor_check(p, false) < 0)
		return -1;
	op->code = VT_X86_INVVPID;
	op->target = -1;
	for (int i = 0; i < 4; i++)
		if (vt_parse_accept(p, types[i]))
			op->target = (int16_t)i;
	if (op->target < 0)
		return vt_parse_error(p, "expected an INVVPID type: addr, single, all or single-nonglobal");
	if (op->target == 2)
		return 0;
	int at = p->cur;
	if (vt_parse_number(p, "a VPID", &op->b) < 0)
		return -1;
	if (op->b > 0xffff)
		return vt_parse_error_at(p, at, "a VPID is 16 bits");
	if (op->target == 0) {
		if (vt_parse_addr(p, "a linear address", &op->a) < 0)
			return -1;
		if (vt_model_add_va(p->m, op->a) < 0)
			return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	}
	return 0;
}

/* invept single L2VM | global */
int vt_x86_parse_invept(struct vt_parser *p, struct vt_op *op)
{
	if (vendor_check(p, false) < 0)
		return -1;
	op->code = VT_X86_INVEPT;
	if (vt_parse_accept(p, "global")) {
		op->target = 2;
		return 0;
	}
	if (!vt_parse_accept(p, "single"))
		return vt_parse_error(p, "expected an INVEPT type: single L2VM or global");
	int vm;
	if (parse_l2vm(p, &vm) < 0)
		return -1;
	op->target = 1;
	op->b = (uint64_t)vm;
	return 0;
}

/* vmrun L2VM asid N [tlbctl 0|1|3|7]: VMRUN of that L2's VMCB12 (APM vol. 2 §15.5, §15.16) */
int vt_x86_parse_vmrun(struct vt_parser *p, struct vt_op *op)
{
	int vm;
	if (vendor_check(p, true) < 0)
		return -1;
	op->code = VT_X86_VMRUN;
	if (parse_l2vm(p, &vm) < 0)
		return -1;
	op->target = (int16_t)vm;
	if (vt_parse_expect(p, "asid") < 0)
		return -1;
	int at = p->cur;
	if (vt_parse_number(p, "an ASID", &op->b) < 0)
		return -1;
	if (op->b == 0 || op->b > 0xffff)
		return vt_parse_error_at(p, at, "VMCB12's guest ASID is 1..65535 (VMRUN with ASID 0 is illegal)");
	if (note_vpid12(p, op->b, at) < 0)
		return -1;
	op->a = 0;
	if (vt_parse_accept(p, "tlbctl")) {
		at = p->cur;
		if (vt_parse_number(p, "a TLB_CONTROL value", &op->a) < 0)
			return -1;
		if (op->a != 0 && op->a != 1 && op->a != 3 && op->a != 7)
			return vt_parse_error_at(p, at, "TLB_CONTROL is 0, 1 (all ASIDs), 3 (this ASID) or 7 (its non-global entries)");
	}
	return 0;
}

/* invlpga VA asid N: invalidate VA's mapping in ASID N (0: L1's own) */
int vt_x86_parse_invlpga(struct vt_parser *p, struct vt_op *op)
{
	if (vendor_check(p, true) < 0)
		return -1;
	op->code = VT_X86_INVLPGA;
	if (vt_parse_addr(p, "a virtual address", &op->a) < 0)
		return -1;
	if (vt_model_add_va(p->m, op->a) < 0)
		return vt_parse_error(p, "too many distinct virtual addresses (limit %d)", VT_MAX_VAS);
	int at;
	if (vt_parse_expect(p, "asid") < 0)
		return -1;
	at = p->cur;
	if (vt_parse_number(p, "an ASID", &op->b) < 0)
		return -1;
	if (op->b > 0xffff)
		return vt_parse_error_at(p, at, "an ASID is at most 65535 here");
	return 0;
}

/* ept12 (npt12 on SVM) map L2VM GPA2 -> GPA1 | ... unmap L2VM GPA2 */
int vt_x86_parse_ept12(struct vt_parser *p, struct vt_op *op)
{
	if (vendor_check(p, vt_tok_is(p, p->cur - 1, "npt12")) < 0)
		return -1;
	bool map = vt_parse_accept(p, "map");
	if (!map && !vt_parse_accept(p, "unmap"))
		return vt_parse_error(p, "expected 'map L2VM GPA -> L1GPA' or 'unmap L2VM GPA' after 'ept12'");
	int vm, at = p->cur;
	op->code = VT_X86_EPT12;
	if (parse_l2vm(p, &vm) < 0)
		return -1;
	if (!p->m->vm[vm].ept12)
		return vt_parse_error_at(p, at, "L1 runs '%s' without EPT (declare its EPT12 with 'ept12 %s GPA -> L1GPA')",
					 p->m->vm[vm].name, p->m->vm[vm].name);
	op->target = (int16_t)vm;
	if (vt_parse_addr(p, "an L2 guest-physical address", &op->a) < 0)
		return -1;
	if (!map) {
		op->flags |= VT_OPF_UNMAP12;
		return 0;
	}
	uint64_t gpa1;
	if (vt_parse_expect(p, "->") < 0 || vt_parse_addr(p, "an L1 guest-physical address", &gpa1) < 0)
		return -1;
	int s = vt_x86_l2_entry(p->m, vm, op->a, gpa1);
	if (s < 0)
		return vt_parse_error(p, "too many stage-2 mappings (at most %d)", VT_MAX_S);
	op->b = (uint64_t)s;
	return 0;
}

/* ---- execution ---------------------------------------------------------------- */

/*
 * VM entry loads VMCS12's guest state, VM exit its host state: the paging
 * registers.  The steal-time byte and pending IPIs are L1's memory and
 * APIC, not registers of a level: they stay.
 */
static void swap_regs(struct vt_state *s, int v)
{
	struct vt_x86_regs *a = &s->vcpu[v].g.x86, *b = &s->vcpu[v].o.x86.other;
	struct vt_x86_regs t = *a;
	a->cr0 = b->cr0;
	a->cr4 = b->cr4;
	a->cr3 = b->cr3;
	a->efer = b->efer;
	b->cr0 = t.cr0;
	b->cr4 = t.cr4;
	b->cr3 = t.cr3;
	b->efer = t.efer;
}

/*
 * VMPTRLD (or VMRUN's load of a VMCB12): make the L2's control block current
 * with the VPID/ASID in op->b.  One other than the current one starts from the
 * L2 state declared for this vCPU.
 */
static void make_current(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op)
{
	struct vt_oracle_x86 *n = &s->vcpu[v].o.x86;
	if (n->vmcs != op->target + 1) {
		const struct vt_x86_regs *r = &m->l2_init[op->target][v].x86;
		n->other.cr0 = r->cr0;
		n->other.cr4 = r->cr4;
		n->other.cr3 = r->cr3;
		n->other.efer = r->efer;
	}
	n->vmcs = (uint8_t)(op->target + 1);
	n->vpid12 = (uint8_t)op->b;
}

enum vt_exec vt_x86_nested_exec(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
				const char **why)
{
	struct vt_oracle_x86 *n = &s->vcpu[v].o.x86;
	bool l2 = n->level != 0;
	if (op->code != VT_X86_VMEXIT && l2) {
		/* an L2 running VMX or SVM instructions of its own */
		*why = "model: an L2 guest running VMX instructions of its own (a third level) is not modelled";
		return VT_EXEC_FAULT;
	}
	switch (op->code) {
	case VT_X86_VMPTRLD:
		if (op->b && !m->opt[VT_OPT_VPID]) {
			*why = "model: with enable_vpid=0 KVM does not offer L1 the 'enable VPID' control (nested_vmx_setup_ctls_msrs)";
			return VT_EXEC_FAULT;
		}
		make_current(m, s, v, op);
		return VT_EXEC_OK;
	case VT_X86_VMLAUNCH:
		if (!n->vmcs) {
			*why = "VMfailInvalid: VMLAUNCH/VMRESUME without a current VMCS (no VMPTRLD)";
			return VT_EXEC_FAULT;
		}
		/* SDM vol. 2 VMLAUNCH/VMRESUME (and KVM's nested_vmx_run checking vmcs12->launch_state) */
		/* the launch state lives in the VMCS: VMPTRLD of another VMCS12 and back keeps it */
		uint8_t bit = (uint8_t)(1u << (n->vmcs - 1));
		if (!op->a && (n->launched & bit)) {
			*why = "VMfailValid: VMLAUNCH with a non-clear VMCS (it was launched: use VMRESUME)";
			return VT_EXEC_FAULT;
		}
		if (op->a && !(n->launched & bit)) {
			*why = "VMfailValid: VMRESUME with a non-launched VMCS (use VMLAUNCH)";
			return VT_EXEC_FAULT;
		}
		n->launched |= bit;
		swap_regs(s, v);
		n->level = 1;
		return VT_EXEC_OK;
	case VT_X86_VMRUN:
		/* VMRUN = load VMCB12 (its guest state the first time) and enter */
		make_current(m, s, v, op);
		swap_regs(s, v);
		n->level = 1;
		return VT_EXEC_OK;
	case VT_X86_INVLPGA:
		return VT_EXEC_OK;
	case VT_X86_VMEXIT:
		if (!l2) {
			*why = "model: 'vmexit' is an L2 instruction that L1 intercepts; L1 is running";
			return VT_EXEC_FAULT;
		}
		swap_regs(s, v);
		n->level = 0;
		return VT_EXEC_OK;
	case VT_X86_INVVPID:
		/* SDM vol. 2 INVVPID: VMfailValid for VPID 0 with the individual-address and single-context types */
		if (op->target != 2 && op->b == 0) {
			*why = "VMfailValid: INVVPID of VPID 0 (only the all-context type may name it)";
			return VT_EXEC_FAULT;
		}
		return VT_EXEC_OK;
	case VT_X86_INVEPT:
		if (op->target == 1 && !m->vm[op->b].ept12) {
			*why = "VMfailValid: INVEPT single-context of an L2 that L1 runs without EPT (no EPTP12)";
			return VT_EXEC_FAULT;
		}
		return VT_EXEC_OK;
	case VT_X86_EPT12: {
		/* L1 writes its EPT12 in memory: an ordinary store, nothing is invalidated */
		int vm = op->target;
		uint64_t same = 0;
		for (int j = 0; j < m->ns; j++)
			if (m->s2[j].vm == vm && m->s2[j].gpa == op->a)
				same |= VT_BIT(j);
		s->vm[vm].s2 &= ~same;
		if (!(op->flags & VT_OPF_UNMAP12)) {
			s->vm[vm].s2 |= VT_BIT(op->b);
			s->s_perm |= VT_BIT(op->b);
		}
		return VT_EXEC_OK;
	}
	default:
		*why = "not a nested VMX operation";
		return VT_EXEC_FAULT;
	}
}

void vt_x86_nested_fmt_op(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len)
{
	static const char *const types[] = {"addr", "single", "all", "single-nonglobal"};
	switch (op->code) {
	case VT_X86_VMPTRLD:
		if (op->b)
			snprintf(buf, len, "vmptrld %s vpid %llu", m->vm[op->target].name, (unsigned long long)op->b);
		else
			snprintf(buf, len, "vmptrld %s", m->vm[op->target].name);
		return;
	case VT_X86_VMLAUNCH:
		snprintf(buf, len, "%s", op->a ? "vmresume" : "vmlaunch");
		return;
	case VT_X86_VMEXIT:
		snprintf(buf, len, "vmexit");
		return;
	case VT_X86_INVVPID:
		if (op->target == 2)
			snprintf(buf, len, "invvpid all");
		else if (op->target == 0)
			snprintf(buf, len, "invvpid addr %llu 0x%llx", (unsigned long long)op->b, (unsigned long long)op->a);
		else
			snprintf(buf, len, "invvpid %s %llu", types[op->target & 3], (unsigned long long)op->b);
		return;
	case VT_X86_INVEPT:
		if (op->target == 2)
			snprintf(buf, len, "invept global");
		else
			snprintf(buf, len, "invept single %s", m->vm[op->b].name);
		return;
	case VT_X86_VMRUN:
		if (op->a)
			snprintf(buf, len, "vmrun %s asid %llu tlbctl %llu", m->vm[op->target].name, (unsigned long long)op->b,
				 (unsigned long long)op->a);
		else
			snprintf(buf, len, "vmrun %s asid %llu", m->vm[op->target].name, (unsigned long long)op->b);
		return;
	case VT_X86_INVLPGA:
		snprintf(buf, len, "invlpga 0x%llx asid %llu", (unsigned long long)op->a, (unsigned long long)op->b);
		return;
	case VT_X86_EPT12:
		if (op->flags & VT_OPF_UNMAP12)
			snprintf(buf, len, "%s unmap %s 0x%llx", svm(m) ? "npt12" : "ept12", m->vm[op->target].name,
				 (unsigned long long)op->a);
		else
			snprintf(buf, len, "%s map %s 0x%llx -> 0x%llx", svm(m) ? "npt12" : "ept12", m->vm[op->target].name,
				 (unsigned long long)op->a,
				 (unsigned long long)m->s2[m->s2[op->b].l1s - 1].gpa);
		return;
	default:
		snprintf(buf, len, "op%u", op->code);
	}
}
