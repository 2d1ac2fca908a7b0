/*
 * Unit tests of the engine: bitsets, the TLB slot discipline, the parser's
 * universes, determinism and canonical states, and the step errors.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/vtlb.h"

static struct vt_model *parse(const char *text)
{
	return tap_parse(text, VT_FIXSET_NONE);
}

static void test_bits(void)
{
	struct vt_set a = {{0}}, b = {{0}};
	vt_set_add(&a, 3);
	vt_set_add(&a, 64);
	vt_set_add(&a, 127);
	tap_ok(vt_set_count(&a) == 3, "bits.count");
	tap_ok(vt_set_has(&a, 64) && !vt_set_has(&a, 63), "bits.has");
	vt_set_add(&b, 64);
	vt_set_clear(&a, &b);
	tap_ok(!vt_set_has(&a, 64) && vt_set_has(&a, 127), "bits.clear-is-and-not");
	int seen = 0, last = -1, order = 1;
	VT_SET_FOREACH(i, &a) {
		seen++;
		order &= i > last;
		last = i;
	}
	tap_ok(seen == 2 && order, "bits.foreach-ascending");
	tap_ok(vt_set_next(&a, 4) == 127, "bits.next-crosses-words");
	uint64_t x = 0x8000000000000005ull;
	int n = 0, sum = 0;
	VT_U64_FOREACH(i, x) {
		n++;
		sum += i;
	}
	tap_ok(n == 3 && sum == 0 + 2 + 63, "bits.u64-foreach");
	/* a break ends the whole loop, as in a plain for */
	int first = -1, visits = 0;
	VT_U64_FOREACH(i, x) {
		visits++;
		if (i == 2) {
			first = i;
			break;
		}
	}
	tap_ok(first == 2 && visits == 2, "bits.u64-foreach-break");
	visits = 0;
	VT_SET_FOREACH(i, &a) {
		visits++;
		first = i;
		break;
	}
	tap_ok(visits == 1 && first == 3, "bits.set-foreach-break");
}

static void test_slots(void)
{
	static struct vt_state s;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < VT_MAX_SLOTS; i++)
		s.dom[0].slot[i].key = VT_KEY_NONE;
	struct vt_set u = {{0}};
	vt_set_add(&u, 1);
	tap_ok(vt_tlb_fill(&s, 0, 7, &u, 0) == 0, "tlb.fill");
	tap_ok(vt_tlb_fill(&s, 0, 3, &u, 0) == 0, "tlb.fill-second-key");
	tap_ok(s.dom[0].slot[0].key == 3 && s.dom[0].slot[1].key == 7, "tlb.slots-sorted-by-key");
	s.dom[0].slot[0].u.w[0] = 0;
	vt_tlb_tidy(&s, 0);
	tap_ok(s.dom[0].slot[0].key == 7 && s.dom[0].slot[1].key == VT_KEY_NONE, "tlb.empty-slot-released");
	int full = 0;
	for (uint32_t k = 10; k < 10 + VT_MAX_SLOTS + 1; k++)
		full |= vt_tlb_fill(&s, 0, k, &u, 0) < 0;
	tap_ok(full, "tlb.full-domain-is-reported-not-evicted");
}

static const char two_vcpus[] =
	"arch x86 vmx ept\n"
	"machine pcpus 2\n"
	"vm g vcpus 2\n"
	"space A pcid 1\n"
	"space B pcid 2\n"
	"map A 0x1000 -> 0x5000 global\n"
	"map B 0x2000 -> 0x6000\n"
	"vcpu g.0 long cr3 A cr4 +pge +pcide\n"
	"vcpu g.1 long cr3 B cr4 +pcide\n"
	"run g.0 on 0\n"
	"run g.1 on 1\n"
	"g.0: mov cr3 B\n"
	"g.1: invlpg 0x2000\n"
	"expect clean\n";

static void test_universe(void)
{
	struct vt_model *m = parse(two_vcpus);
	if (!tap_ok(m != NULL, "model.parse"))
		return;
	tap_ok(m->np == 2 && m->nvas == 2, "model.ptes-and-vas");
	/* A: pcid 1 and pcid 0, each non-global + global; B: pcid 2 and 0, non-global. */
	tap_ok(m->nt == 6, "model.translations-per-context (got %d)", m->nt);
	tap_ok(m->ns == 2 && m->nu == 6, "model.default-stage2-and-combined");
	tap_ok(vt_set_count(&m->t_global) == 2, "model.global-mask");
	tap_ok(m->s2[0].hpa == vt_model_default_hpa(0, 0x5000), "model.default-hpa");
	vt_model_free(m);
}

static void test_determinism(void)
{
	struct vt_model *m = parse(two_vcpus);
	if (!m)
		return;
	static struct vt_run_result r1, r2;
	struct vt_diag d;
	vt_run(m, &r1, &d);
	vt_run(m, &r2, &d);
	tap_ok(r1.status == VT_PASS && r2.status == VT_PASS, "step.run-passes");
	tap_ok(memcmp((const char *)&r1.state + VT_STATE_CANON_OFF, (const char *)&r2.state + VT_STATE_CANON_OFF,
		      VT_STATE_CANON_LEN) == 0,
	       "step.deterministic-canonical-state");
	tap_ok(r1.trace.n == r2.trace.n && r1.trace.n > 0, "step.same-trace-length");
	vt_run_result_fini(&r1);
	vt_run_result_fini(&r2);

	/*
	 * State is a value: two states initialised separately are byte-equal
	 * (no stray padding), and stepping a memcpy of a state gives the same
	 * bytes as stepping the original, while the original copy is untouched.
	 */
	static struct vt_state a, b, c;
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	vt_state_init(m, &a);
	vt_state_init(m, &b);
	tap_ok(memcmp(&a, &b, sizeof(a)) == 0, "state.init-defines-every-byte");
	memcpy(&c, &a, sizeof(a));
	struct vt_verdict va, vb;
	struct vt_event ev = m->script[0];
	vt_step(m, &b, &ev, NULL, &vb);
	vt_step(m, &c, &ev, NULL, &va);
	tap_ok(memcmp(&b, &c, sizeof(b)) == 0, "state.copy-steps-like-the-original");
	tap_ok(memcmp(&a, &b, sizeof(a)) != 0 && a.vcpu[0].run == VT_RUN_IDLE, "state.copy-is-independent");
	vt_model_free(m);
}

static void test_step_errors(void)
{
	struct vt_model *m = parse(two_vcpus);
	if (!m)
		return;
	static struct vt_state s;
	vt_state_init(m, &s);
	struct vt_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VT_EV_GUEST;
	ev.vcpu = 0;
	ev.op.code = VT_OP_ACCESS;
	ev.op.a = 0x1000;
	struct vt_verdict v;
	tap_ok(vt_step(m, &s, &ev, NULL, &v) == VT_STEP_ERR_NOT_RUNNING, "step.guest-op-needs-running-vcpu");
	ev.kind = VT_EV_LOAD;
	ev.pcpu = 0;
	tap_ok(vt_step(m, &s, &ev, NULL, &v) == VT_STEP_OK, "step.load");
	ev.vcpu = 1;
	tap_ok(vt_step(m, &s, &ev, NULL, &v) == VT_STEP_ERR_PCPU_BUSY, "step.pcpu-busy");
	ev.kind = VT_EV_ENTER;
	ev.vcpu = 1;
	tap_ok(vt_step(m, &s, &ev, NULL, &v) == VT_STEP_ERR_NOT_LOADED, "step.enter-needs-load");
	tap_ok(s.meta.step == 1, "step.errors-leave-state-unchanged");
	vt_model_free(m);
}

/* The one number syntax, shared by scenarios and the command line. */
static void test_numbers(void)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{"0", 0, 0},
		{"10", 0, 10},
		{"010", 0, 10},               /* no octal */
		{"09", 0, 9},
		{"0x10", 0, 16},
		{"0XfF", 0, 255},
		{"18446744073709551615", 0, UINT64_MAX},
		{"0xffffffffffffffff", 0, UINT64_MAX},
		{"18446744073709551616", VT_NUM_OVERFLOW, 0},
		{"0x10000000000000000", VT_NUM_OVERFLOW, 0},
		{"", VT_NUM_INVALID, 0},
		{"0x", VT_NUM_INVALID, 0},
		{"+1", VT_NUM_INVALID, 0},
		{"-1", VT_NUM_INVALID, 0},
		{" 1", VT_NUM_INVALID, 0},
		{"1k", VT_NUM_INVALID, 0},
		{"0b1", VT_NUM_INVALID, 0},
		{"12g", VT_NUM_INVALID, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int rc = vt_parse_number_text(cases[i].s, strlen(cases[i].s), &v);
		tap_ok(rc == cases[i].rc && (rc || v == cases[i].v), "number.syntax '%s'", cases[i].s);
	}
	uint64_t v = 0;
	tap_ok(vt_parse_number_text("123", 2, &v) == 0 && v == 12, "number.syntax reads exactly n characters");
}

int main(void)
{
	test_numbers();
	test_bits();
	test_slots();
	test_universe();
	test_determinism();
	test_step_errors();
	return tap_done();
}
