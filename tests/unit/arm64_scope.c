/*
 * Unit tests of the arm64 backend: the scope of every TLBI (Arm ARM D8.17),
 * the operand encoding, guest-operation parsing, pending TLBIs and their
 * completion by the issuer's DSB, the VMID allocator's rollover, and the
 * pCPU renaming the explorer relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/arm64.h"
#include "vtlb/vtlb.h"

#define BIT(i) ((uint64_t)1 << (i))

static struct vt_model *parse(const char *text)
{
	return tap_parse(text, VT_FIXSET_NONE);
}

static int parse_fails(const char *text, const char *needle)
{
	struct vt_diag d;
	struct vt_model *m = vt_scenario_parse("unit", text, strlen(text), VT_FIXSET_NONE, &d);
	if (m) {
		vt_model_free(m);
		return 0;
	}
	return strstr(d.msg, needle) != NULL;
}

static const char two_spaces[] =
	"arch arm64\n"
	"machine pcpus 2\n"
	"vm g vcpus 2\n"
	"space A asid 1\n"
	"space B asid 2\n"
	"map A 0x1000 -> 0x5000 global\n"
	"map A 0x2000 -> 0x6000\n"
	"map B 0x2000 -> 0x7000\n"
	"vcpu g.0 ttbr0 A mmu\n"
	"vcpu g.1 ttbr0 B mmu\n"
	"run g.0 on 0\n"
	"run g.1 on 1\n"
	"expect clean\n";

/* Does the U mask hold an entry for (va, gpa, global)? */
static int umask_has(const struct vt_model *m, const struct vt_set *u, uint64_t va, uint64_t gpa, int g)
{
	VT_SET_FOREACH(x, u) {
		const struct vt_tr *t = &m->t[m->u[x].t];
		const struct vt_pte *p = &m->pte[t->p];
		if (m->va[p->va] == va && p->gpa == gpa && t->g == g)
			return 1;
	}
	return 0;
}

static void test_scopes(void)
{
	struct vt_model *m = parse(two_spaces);
	if (!tap_ok(m != NULL, "arm64.parse"))
		return;
	int va1 = vt_model_va_index(m, 0x1000), va2 = vt_model_va_index(m, 0x2000);
	struct vt_set all = vt_arm64_tlbi_umask(m, VT_TLBI_VMALLE1, 0, -1);
	tap_ok(vt_set_count(&all) == m->nu, "arm64.vmalle1.every-stage1-entry");

	struct vt_set aside = vt_arm64_tlbi_umask(m, VT_TLBI_ASIDE1, 1, -1);
	tap_ok(!umask_has(m, &aside, 0x1000, 0x5000, 1), "arm64.aside1.keeps-global-leaf");
	tap_ok(umask_has(m, &aside, 0x2000, 0x6000, 0), "arm64.aside1.removes-own-asid");
	tap_ok(!umask_has(m, &aside, 0x2000, 0x7000, 0), "arm64.aside1.keeps-other-asid");

	struct vt_set vae = vt_arm64_tlbi_umask(m, VT_TLBI_VAE1, 2, va1);
	tap_ok(umask_has(m, &vae, 0x1000, 0x5000, 1), "arm64.vae1.removes-global-for-va-under-any-asid");
	struct vt_set vae2 = vt_arm64_tlbi_umask(m, VT_TLBI_VAE1, 1, va2);
	tap_ok(umask_has(m, &vae2, 0x2000, 0x6000, 0) && !umask_has(m, &vae2, 0x2000, 0x7000, 0),
	       "arm64.vae1.only-its-asid");
	struct vt_set vaae = vt_arm64_tlbi_umask(m, VT_TLBI_VAAE1, 0, va2);
	tap_ok(umask_has(m, &vaae, 0x2000, 0x6000, 0) && umask_has(m, &vaae, 0x2000, 0x7000, 0) &&
		       !umask_has(m, &vaae, 0x1000, 0x5000, 1),
	       "arm64.vaae1.every-asid-one-va");
	struct vt_set none = vt_arm64_tlbi_umask(m, VT_TLBI_VAE1, 1, -1);
	tap_ok(vt_set_empty(&none), "arm64.vae1.unknown-va-matches-nothing");

	struct vt_set ipa = vt_arm64_tlbi_umask(m, VT_TLBI_IPAS2E1, 0, -1);
	tap_ok(vt_set_empty(&ipa), "arm64.ipas2e1.no-combined-entries");
	uint64_t s = vt_arm64_tlbi_smask(m, VT_TLBI_IPAS2E1, 0x6000);
	tap_ok(__builtin_popcountll(s) == 1 && m->s2[__builtin_ctzll(s)].gpa == 0x6000, "arm64.ipas2e1.one-ipa");
	tap_ok(vt_arm64_tlbi_smask(m, VT_TLBI_VMALLE1, 0) == 0, "arm64.vmalle1.no-stage2-only-entries");

	struct vt_set t = vt_arm64_tlbi_tmask(m, VT_TLBI_ASIDE1, 1, -1, 0);
	struct vt_set tg = vt_set_inter(&t, &m->t_global);
	struct vt_set tb = vt_arm64_tlbi_tmask(m, VT_TLBI_ASIDE1, 2, -1, 0);
	tap_ok(!vt_set_empty(&t) && vt_set_empty(&tg), "arm64.oracle.aside1-keeps-global");
	tap_ok(vt_set_count(&tb) == 1, "arm64.oracle.aside1-other-asid");
	vt_model_free(m);
}

static void test_encoding(void)
{
	uint32_t k = vt_a64_key(3, 0x1234);
	tap_ok(vt_a64_key_vmid(k) == 3 && vt_a64_key_asid(k) == 0x1234, "arm64.key.round-trip");
	tap_ok(vt_a64_ipa((5u << 8) | 1u, 0) == 0x5000 && vt_a64_ipa(1, 0x7000) == 0x7000, "arm64.key.ipa");
	tap_ok(vt_a64_tlbi_insn(VT_TLBI_VAE1, 1) == vt_a64_tlbi_insn(VT_TLBI_VAE1, 0) + 1 &&
		       vt_a64_insn_is_broadcast(vt_a64_tlbi_insn(VT_TLBI_VAE1, 1)) &&
		       !vt_a64_insn_is_broadcast(vt_a64_tlbi_insn(VT_TLBI_VAE1, 0)),
	       "arm64.insn.local-then-is");
	tap_ok(!vt_a64_insn_is_tlbi(VT_A64_I_DSB_ISH), "arm64.insn.dsb-is-not-tlbi");
}

static void test_parse(void)
{
	const char *head = "arch arm64\nmachine pcpus 1\nvm g vcpus 1\nspace A asid 1\nvcpu g.0 ttbr0 A mmu\n"
			   "run g.0 on 0\n";
	char buf[512];
	snprintf(buf, sizeof(buf), "%sg.0: tlbi ipas2e1is 0x1000\nexpect clean\n", head);
	tap_ok(parse_fails(buf, "EL2"), "arm64.parse.el2-tlbi-rejected");
	snprintf(buf, sizeof(buf), "%sg.0: tlbi vmalle1 asid 1\nexpect clean\n", head);
	tap_ok(parse_fails(buf, "no ASID"), "arm64.parse.vmalle1-takes-no-asid");
	snprintf(buf, sizeof(buf), "%sg.0: msr sctlr.m 2\nexpect clean\n", head);
	tap_ok(parse_fails(buf, "one bit"), "arm64.parse.sctlr-m-is-one-bit");
	tap_ok(parse_fails("arch arm64\nmachine pcpus 1\nvm g vcpus 1\nvcpu g.0 mmu\n", "ttbr0"),
	       "arm64.parse.mmu-needs-ttbr0");
	snprintf(buf, sizeof(buf), "%sg.0: tlbi vale1is va 0x1000 asid 7\ng.0: dsb nsh\ng.0: ic ialluis\n"
				   "g.0: fetch 0x1000\ng.0: msr ttbr0 A cnp\nexpect clean\n",
		 head);
	struct vt_model *m = parse(buf);
	tap_ok(m != NULL, "arm64.parse.guest-ops");
	if (m) {
		char out[128];
		m->aops->fmt_op(m, &m->script[1].op, out, sizeof(out));
		tap_ok(strcmp(out, "tlbi vale1is 0x1000 asid 7") == 0, "arm64.fmt.tlbi (got '%s')", out);
		vt_model_free(m);
	}
}

/* Run script events up to (not including) the first check; return the model. */
static void run_all(const struct vt_model *m, struct vt_state *s)
{
	vt_state_init(m, s);
	for (int i = 0; i < m->nscript; i++) {
		struct vt_verdict v;
		if (m->script[i].kind != VT_EV_CHECK)
			vt_step(m, s, &m->script[i], NULL, &v);
	}
}

static void test_pending(void)
{
	static const char text[] = "arch arm64\nmachine pcpus 2\nvm g vcpus 1\nspace A asid 1\n"
				   "map A 0x1000 -> 0x5000\nvcpu g.0 ttbr0 A mmu\n"
				   "run g.0 on 0\ng.0: unmap A 0x1000\nhost: tlbi.vmalle1is on 1 key 1\n"
				   "expect clean\n";
	struct vt_model *m = parse(text);
	if (!m)
		return;
	static struct vt_state s;
	run_all(m, &s);
	tap_ok(s.hg.arm64.pend[0].used && s.hg.arm64.pend[0].issuer == 1, "arm64.pending.recorded-with-issuer");
	tap_ok(vt_hw_returns(m, &s, 0, 0x1000, 0x5000), "arm64.pending.entry-usable-before-dsb");
	struct vt_event dsb;
	memset(&dsb, 0, sizeof(dsb));
	dsb.kind = VT_EV_HOST;
	dsb.vcpu = -1;
	dsb.op.code = VT_OP_HOST_INSN;
	dsb.op.target = 0;
	dsb.op.b = (uint64_t)VT_A64_I_DSB_ISH << 32;
	struct vt_verdict v;
	vt_step(m, &s, &dsb, NULL, &v);
	tap_ok(vt_hw_returns(m, &s, 0, 0x1000, 0x5000), "arm64.pending.other-pe-dsb-completes-nothing");
	dsb.op.target = 1;
	vt_step(m, &s, &dsb, NULL, &v);
	tap_ok(!vt_hw_returns(m, &s, 0, 0x1000, 0x5000), "arm64.pending.issuer-dsb-completes");
	static const struct vt_pending zero[VT_ARM64_HW_PENDING];
	tap_ok(memcmp(s.hg.arm64.pend, zero, sizeof(zero)) == 0, "arm64.pending.canonical-when-empty");
	vt_model_free(m);
}

static void test_rollover(void)
{
	static const char text[] = "arch arm64\noption vmid-bits 2\nmachine pcpus 2\n"
				   "vm g vcpus 1\nvm a vcpus 1\nvm b vcpus 1\nvm c vcpus 1\n"
				   "run g.0 on 1\nrun a.0 on 0\npreempt a.0\nrun b.0 on 0\npreempt b.0\nrun c.0 on 0\n"
				   "expect clean\n";
	struct vt_model *m = parse(text);
	if (!m)
		return;
	static struct vt_state s;
	run_all(m, &s);
	const struct vt_kvm_arm64_vm *g = &s.vm[0].h.arm64, *c = &s.vm[3].h.arm64;
	tap_ok(s.hg.arm64.gen == 2, "arm64.vmid.rollover-bumps-generation");
	tap_ok(g->vmid.idx == 1 && s.pcpu[1].h.arm64.reserved.idx == 1, "arm64.vmid.active-vmid-reserved");
	tap_ok(c->vmid.gen == 2 && c->vmid.idx == 2, "arm64.vmid.next-free-after-reserved");
	tap_ok(s.pcpu[1].key == 1, "arm64.vmid.running-vcpu-keeps-its-vttbr");

	/* Renaming pCPUs twice with a swap gives the state back. */
	static struct vt_state p1, p2;
	int8_t swap[VT_MAX_PCPUS] = {1, 0, 2, 3, 4, 5, 6, 7};
	vt_state_permute_pcpus(m, &s, &p1, swap);
	tap_ok(p1.vm[0].h.arm64.last_vcpu_ran[0] == s.vm[0].h.arm64.last_vcpu_ran[1], "arm64.permute.last-vcpu-ran");
	vt_state_permute_pcpus(m, &p1, &p2, swap);
	/* the used part: the permutation copies only that (vt_state_copy) */
	tap_ok(vt_state_same(m, &s, &p2), "arm64.permute.involution");
	vt_model_free(m);
}

/* The range operand (D8.17.5.2) and what an IPA TLBI must remove under a level hint (RSQXYZ). */
static void test_stage2_range(void)
{
	struct vt_a64_range bad = vt_a64_range_decode(0xffff708000040000ull);
	tap_ok(bad.base == 0x40000000 && bad.num == 1 && bad.scale == 3 && bad.tg == 1 && bad.ttl == 0 &&
		       bad.pages == (1u << 17),
	       "arm64.range.decode: e3ba51ab24fd's wrong operand covers 2^17 pages");
	struct vt_a64_range good = vt_a64_range_decode(0x00007f8000040000ull);
	tap_ok(good.base == 0x40000000 && good.num == 31 && good.scale == 3 && good.pages == (1u << 21),
	       "arm64.range.decode: NUM 31 at SCALE 3 is MAX_TLBI_RANGE_PAGES");
	struct vt_a64_range small = vt_a64_range_decode((1ull << 46) | (1ull << 39) | 0x4);
	tap_ok(small.base == 0x4000 && small.pages == 4, "arm64.range.decode: NUM 1 at SCALE 0 is 4 pages");
	tap_ok(vt_a64_ttl4k(3) == 0x7 && vt_a64_ttl4k(2) == 0x6 && vt_a64_ttl4k(0) == 0, "arm64.ttl.encoding");
	tap_ok(vt_a64_ipa(1, vt_a64_ipa_arg(0x3000, 6)) == 0x3000 && vt_a64_ipa_ttl(vt_a64_ipa_arg(0x3000, 6)) == 6 &&
		       vt_a64_ipa((3u << 8) | 1u, vt_a64_ipa_arg(0, 6)) == 0x3000,
	       "arm64.ttl.ipa-operand");

	struct vt_model *m = parse("arch arm64\nmachine pcpus 1\nvm g vcpus 1\n"
				   "s2 g 0x0 -> 0x80200000 table\n"
				   "s2 g 0x1000 -> 0x80001000\n"
				   "s2 g 0x200000 -> 0x80002000\n"
				   "s2 g 0x0 -> 0x80400000 table level 1\n"
				   "load g.0 on 0\nexpect clean\n");
	if (!m) {
		tap_ok(0, "arm64.s2.parse");
		return;
	}
	int t2 = -1, t1 = -1, l1 = -1, l2 = -1;
	for (int j = 0; j < m->ns; j++) {
		if (m->s2[j].table && m->s2[j].level == 2)
			t2 = j;
		else if (m->s2[j].table)
			t1 = j;
		else if (m->s2[j].gpa == 0x1000)
			l1 = j;
		else
			l2 = j;
	}
	tap_ok(t2 >= 0 && t1 >= 0 && l1 >= 0 && l2 >= 0 && vt_s2_span(&m->s2[t2]) == 0x200000 &&
		       vt_s2_span(&m->s2[t1]) == 0x40000000,
	       "arm64.s2.tables-and-spans");
	uint64_t any = vt_arm64_s2_range_mask(m, 0x1000, 0x2000, 0);
	tap_ok(any == (BIT(t2) | BIT(t1) | BIT(l1)), "arm64.s2.no-hint: the leaf and every table above it");
	uint64_t leaf = vt_arm64_s2_range_mask(m, 0x1000, 0x2000, 3);
	tap_ok(leaf == any, "arm64.s2.hint-3: correct for the leaf, so the walk above it too");
	uint64_t two = vt_arm64_s2_range_mask(m, 0x0, 0x1000, 2);
	tap_ok(two == BIT(t1), "arm64.s2.hint-2: not the level-2 table entry itself (a hint names a leaf)");
	uint64_t range = vt_arm64_s2_range_mask(m, 0x0, 0x400000, 0);
	tap_ok(range == (BIT(t2) | BIT(t1) | BIT(l1) | BIT(l2)), "arm64.s2.range: every entry it touches");
	tap_ok(m->nu == 0, "arm64.s2.tables-pair-with-no-guest-translation");
	vt_model_free(m);
	tap_ok(parse_fails("arch arm64\nmachine pcpus 1\nvm g vcpus 1\ns2 g 0x1000 -> 0x80200000 table\nexpect clean\n", "aligned"),
	       "arm64.s2.table-alignment");
	tap_ok(parse_fails("arch arm64\nmachine pcpus 1\nvm g vcpus 1\ns2 g 0x0 -> 0x80200000 table level 3\nexpect clean\n",
			   "level 1 or 2"),
	       "arm64.s2.table-level");
	tap_ok(parse_fails("arch arm64\nmachine pcpus 1\nvm g vcpus 1\nhost: unmap-range g 0x0 +0\nexpect clean\n",
			   "1 to 2^25"),
	       "arm64.unmap-range.pages");
	tap_ok(parse_fails("arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\ns2 g 0x0 -> 0x1000 table\nexpect clean\n",
			   "arm64 only"),
	       "arm64.s2.table-arm64-only");
}

int main(void)
{
	test_scopes();
	test_encoding();
	test_parse();
	test_pending();
	test_rollover();
	test_stage2_range();
	return tap_done();
}
