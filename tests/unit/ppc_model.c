/*
 * Unit tests of the POWER radix backend's pieces that scenarios pin only
 * indirectly: the TLB groups (SMT4 cores, SMT8 big cores), the RS packing of
 * a process-scoped tag, the per-thread completion of a tlbie (tlbsync orders
 * only its own thread's tlbies), the oracle's sharing rule, and that the
 * fine-grained entry reaches the same state as the whole entry.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/ppc.h"
#include "vtlb/vtlb.h"

static struct vt_model *parse(const char *text)
{
	return tap_parse(text, VT_FIXSET_NONE);
}

static void test_domains(void)
{
	struct vt_model *m = parse("arch ppc radix\nmachine cores 2 threads 4\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n");
	if (tap_ok(m != NULL, "ppc.domain.parse-smt4")) {
		/* two TLB groups, then an ERAT per thread */
		tap_ok(m->ndomains == 2 + 8 && m->domain_of[0] == 0 && m->domain_of[3] == 0 && m->domain_of[4] == 1,
		       "ppc.domain.one-tlb-per-smt4-core");
		vt_model_free(m);
	}
	m = parse("arch ppc radix\noption smt8 on\nmachine cores 1 threads 8\nvm g vcpus 1\nrun g.0 on 0\n"
		  "expect clean\n");
	if (tap_ok(m != NULL, "ppc.domain.parse-smt8")) {
		int even = 1, odd = 1;
		for (int p = 0; p < 8; p += 2)
			even &= m->domain_of[p] == m->domain_of[0];
		for (int p = 1; p < 8; p += 2)
			odd &= m->domain_of[p] == m->domain_of[1];
		tap_ok(m->ndomains == 2 + 8 && even && odd && m->domain_of[0] != m->domain_of[1],
		       "ppc.domain.smt8-even-and-odd-threads");
		vt_model_free(m);
	}
	m = parse("arch ppc radix\nmachine cores 1 threads 8\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n");
	if (m) {
		tap_ok(m->ndomains == 1 + 8, "ppc.domain.smt8-option-off-one-tlb");
		vt_model_free(m);
	}
}

static void test_rs(void)
{
	uint32_t rs = vt_ppc_rs(3, 0x1234);
	tap_ok(vt_ppc_rs_lpid(rs) == 3 && vt_ppc_rs_pid(rs) == 0x1234, "ppc.rs.pid-and-lpid-round-trip");
	tap_ok(vt_ppc_rs(1, 1) == 0x10001, "ppc.rs.documented-layout");
	tap_ok(vt_ppc_lpid(0) == 1, "ppc.lpid.host-keeps-zero");
}

/* One VM, two vCPUs on different cores, both in space A. */
static const char two_cores[] =
	"arch ppc radix\n"
	"machine cores 2 threads 2\n"
	"vm g vcpus 2\n"
	"space A pid 1\n"
	"map A 0x1000 -> 0x5000\n"
	"vcpu g.0 pid A\n"
	"vcpu g.1 pid A\n"
	"run g.0 on 0\n"
	"run g.1 on 2\n"
	"expect clean\n";

static void step_or_die(const struct vt_model *m, struct vt_state *s, struct vt_event *ev, const char *what)
{
	struct vt_verdict v;
	enum vt_step_err e = vt_step(m, s, ev, NULL, &v);
	if (e != VT_STEP_OK || v.kind != VT_V_OK)
		printf("# %s: step error %d verdict %d\n", what, (int)e, v.kind);
}

static void host_insn(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key, uint64_t va)
{
	struct vt_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VT_EV_HOST;
	ev.vcpu = -1;
	ev.op.code = VT_OP_HOST_INSN;
	ev.op.target = (int16_t)p;
	ev.op.a = va;
	ev.op.b = ((uint64_t)insn << 32) | key;
	step_or_die(m, s, &ev, "host insn");
}

static void test_tlbsync(void)
{
	struct vt_model *m = parse(two_cores);
	if (!tap_ok(m != NULL, "ppc.tlbie.parse"))
		return;
	static struct vt_state s;
	vt_state_init(m, &s);
	for (int i = 0; i < m->nscript; i++)
		step_or_die(m, &s, &m->script[i], "script");
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.tlbie.core1-caches");
	/* Unmap (no guest invalidation), then a host tlbie from pCPU 1. */
	s.pt[0] = 0;
	uint32_t key = vt_ppc_rs(1, 1);
	host_insn(m, &s, 1, VT_PPC_TLBIE_VA, key, 0x1000);
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.tlbie.not-performed-when-issued");
	host_insn(m, &s, 3, VT_PPC_TLBSYNC, 0, 0);
	host_insn(m, &s, 3, VT_PPC_PTESYNC, 0, 0);
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.tlbie.another-threads-tlbsync-orders-nothing");
	host_insn(m, &s, 1, VT_PPC_PTESYNC, 0, 0);
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.tlbie.ptesync-without-tlbsync-completes-nothing");
	host_insn(m, &s, 1, VT_PPC_TLBSYNC, 0, 0);
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.tlbie.tlbsync-alone-completes-nothing");
	host_insn(m, &s, 1, VT_PPC_PTESYNC, 0, 0);
	tap_ok(!vt_hw_returns(m, &s, 1, 0x1000, 0x5000) && !vt_hw_returns(m, &s, 0, 0x1000, 0x5000),
	       "ppc.tlbie.performed-everywhere-at-tlbsync-ptesync");
	tap_ok(!s.hg.ppc.pend[0].used, "ppc.tlbie.nothing-left-pending");
	vt_model_free(m);
}

/*
 * ppc.erat: a thread's ERAT keeps what the congruence-class tlbiel of
 * flush_guest_tlb removes from the core's TLB, until an SLBIA from a thread
 * of the group; a tlbiel by EA reaches the ERATs of its group's threads.
 */
static void test_erat(void)
{
	struct vt_model *m = parse(two_cores);
	if (!tap_ok(m != NULL, "ppc.erat.parse"))
		return;
	static struct vt_state s;
	vt_state_init(m, &s);
	for (int i = 0; i < m->nscript; i++)
		step_or_die(m, &s, &m->script[i], "script");
	s.pt[0] = 0; /* nothing refills from the walk any more */
	host_insn(m, &s, 2, VT_PPC_TLBIEL_LPID, 1, 0);
	tap_ok(vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.erat.congruence-class-tlbiel-leaves-it");
	host_insn(m, &s, 3, VT_PPC_SLBIA_ERAT, 0, 0);
	tap_ok(!vt_hw_returns(m, &s, 1, 0x1000, 0x5000), "ppc.erat.slbia-from-a-sibling-clears-it");
	tap_ok(vt_hw_returns(m, &s, 0, 0x1000, 0x5000), "ppc.erat.other-core-untouched");
	host_insn(m, &s, 1, VT_PPC_TLBIEL_VA, vt_ppc_rs(1, 1), 0x1000);
	tap_ok(!vt_hw_returns(m, &s, 0, 0x1000, 0x5000), "ppc.erat.tlbiel-va-reaches-the-groups-erats");
	vt_model_free(m);
}

static void guest(const struct vt_model *m, struct vt_state *s, int v, const char *what, uint16_t code, int is,
		  uint64_t va)
{
	struct vt_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VT_EV_GUEST;
	ev.vcpu = (int8_t)v;
	ev.op.code = code;
	ev.op.space = -1;
	ev.op.target = (int16_t)is;
	ev.op.a = va;
	ev.op.b = VT_PPC_PID_CUR;
	step_or_die(m, s, &ev, what);
}

static void test_sharing(void)
{
	struct vt_model *m = parse(two_cores);
	if (!m)
		return;
	static struct vt_state s;
	vt_state_init(m, &s);
	for (int i = 0; i < m->nscript; i++)
		step_or_die(m, &s, &m->script[i], "script");
	s.pt[0] = 0; /* the guest unmaps A 0x1000 */
	guest(m, &s, 0, "tlbiel", VT_PPC_OP_TLBIEL, 0, 0x1000);
	guest(m, &s, 0, "ptesync", VT_PPC_OP_PTESYNC, 0, 0);
	tap_ok(vt_oracle_permits(m, &s, 0, 0x1000, 0x5000), "ppc.oracle.tlbiel-no-promise-while-another-vcpu-holds-it");
	guest(m, &s, 1, "tlbiel", VT_PPC_OP_TLBIEL, 0, 0x1000);
	guest(m, &s, 1, "ptesync", VT_PPC_OP_PTESYNC, 0, 0);
	tap_ok(!vt_oracle_permits(m, &s, 0, 0x1000, 0x5000) && !vt_oracle_permits(m, &s, 1, 0x1000, 0x5000),
	       "ppc.oracle.gone-once-every-holder-flushed");
	vt_model_free(m);
}

static const char phased[] =
	"arch ppc radix\n"
	"machine cores 2 threads 2\n"
	"vm g vcpus 2\n"
	"space A pid 1\n"
	"map A 0x1000 -> 0x5000\n"
	"vcpu g.0 pid A\n"
	"vcpu g.1 pid A\n"
	"run g.1 on 1\n"
	"run g.0 on 0\n"
	"migrate g.0 to 2\n" /* marks core 0 and kicks g.1, which stays outside the guest */
	"expect clean\n";

/* The whole entry of the kicked sibling and the same entry one phase at a time end in the same state. */
static void test_phases(void)
{
	struct vt_model *m = parse(phased);
	if (!m)
		return;
	static struct vt_state a, b;
	vt_state_init(m, &a);
	for (int i = 0; i < m->nscript; i++)
		step_or_die(m, &a, &m->script[i], "script");
	b = a;
	struct vt_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VT_EV_ENTER;
	ev.vcpu = 1;
	ev.pcpu = -1;
	tap_ok(a.vcpu[1].run == VT_RUN_LOADED, "ppc.entry.the-ipi-left-the-sibling-outside");
	step_or_die(m, &a, &ev, "whole entry");
	ev.flags = VT_EVF_STEP;
	int n = 0;
	while (b.vcpu[1].run != VT_RUN_GUEST && n < 16) {
		step_or_die(m, &b, &ev, "one phase");
		n++;
	}
	tap_ok(n == 6, "ppc.entry.a-flushing-entry-has-six-phases (got %d)", n);
	a.meta = b.meta;
	tap_ok(a.vcpu[1].run == VT_RUN_GUEST && memcmp(&a, &b, sizeof(a)) == 0,
	       "ppc.entry.phases-reach-the-whole-entrys-state");
	vt_model_free(m);
}

int main(void)
{
	test_domains();
	test_rs();
	test_tlbsync();
	test_erat();
	test_sharing();
	test_phases();
	return tap_done();
}
