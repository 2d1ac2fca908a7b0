/*
 * Unit tests of the explorer on small state spaces whose size is known by
 * hand, and on a planted bug at a known depth.
 *
 * explore.count: two VMs of one vCPU each, pinned to their own pCPU, each
 * running k guest operations that change nothing but the program counter
 * (INVLPG of an unmapped page), no preemption.  Each vCPU goes through k + 3
 * local states (idle, loaded, in the guest before each of its k operations
 * and after the last; it keeps running after its program) along k + 2
 * transitions, and the two never interact, so the search must store exactly
 * (k + 3)^2 states, take 2 (k + 2) (k + 3) transitions without reduction and
 * reach depth 2 (k + 2).  Sleep sets must store the same states (they prune
 * transitions, not states) and take no more transitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/explore.h"
#include "vtlb/visited.h"
#include "vtlb/vtlb.h"

static struct vt_model *parse(const char *text, struct vt_fixset reverted)
{
	return tap_parse(text, reverted);
}

static struct vt_explore_opts opts(int por)
{
	struct vt_explore_opts o;
	memset(&o, 0, sizeof(o));
	o.por = por;
	o.symmetry = 1;
	o.shrink = 1;
	o.jobs = 1;
	return o;
}

static void test_counts(int k)
{
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "arch x86 vmx ept\n"
			 "machine pcpus 2\n"
			 "vm a vcpus 1 pcpus 0\n"
			 "vm b vcpus 1 pcpus 1\n"
			 "space A vm a pcid 0\n"
			 "space B vm b pcid 0\n"
			 "map A 0x1000 -> 0x5000\n"
			 "map B 0x1000 -> 0x6000\n"
			 "vcpu a.0 long cr3 A\n"
			 "vcpu b.0 long cr3 B\n"
			 "bounds depth 100 preemptions 0 migrations 0\n");
	for (int v = 0; v < 2; v++) {
		n += snprintf(text + n, sizeof(text) - (size_t)n, "program %s\n", v ? "b.0" : "a.0");
		for (int i = 0; i < k; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "invlpg 0x2000\n");
		n += snprintf(text + n, sizeof(text) - (size_t)n, "end\n");
	}
	struct vt_model *m = parse(text, VT_FIXSET_NONE);
	if (!tap_ok(m != NULL, "explore.count.k%d.parse", k))
		return;

	struct vt_explore_opts o = opts(0);
	struct vt_explore_result r, rp;
	vt_explore(m, &o, &r);
	uint64_t states = (uint64_t)(k + 3) * (uint64_t)(k + 3);
	uint64_t trans = 2ull * (uint64_t)(k + 2) * (uint64_t)(k + 3);
	tap_ok(r.status == VT_EXPLORE_CLEAN, "explore.count.k%d.clean-and-exhaustive", k);
	tap_ok(r.states == states, "explore.count.k%d.states (%llu, expected %llu)", k, (unsigned long long)r.states,
	       (unsigned long long)states);
	tap_ok(r.transitions == trans, "explore.count.k%d.transitions-without-por (%llu, expected %llu)", k,
	       (unsigned long long)r.transitions, (unsigned long long)trans);
	tap_ok(r.max_depth == (unsigned)(2 * (k + 2)), "explore.count.k%d.max-depth (%u)", k, r.max_depth);
	/* the same depth-first, without and with sleep sets */
	struct vt_explore_result rd;
	o.dfs = 1;
	vt_explore(m, &o, &rd);
	tap_ok(rd.status == VT_EXPLORE_CLEAN && rd.states == states && rd.transitions == trans,
	       "explore.count.k%d.dfs-same-states-and-transitions (%llu, %llu)", k, (unsigned long long)rd.states,
	       (unsigned long long)rd.transitions);
	vt_explore_result_fini(&rd);
	o = opts(1);
	o.dfs = 1;
	vt_explore(m, &o, &rp);
	tap_ok(rp.status == VT_EXPLORE_CLEAN, "explore.count.k%d.por-clean", k);
	tap_ok(rp.states == states, "explore.count.k%d.por-keeps-every-state (%llu)", k, (unsigned long long)rp.states);
	tap_ok(rp.transitions <= r.transitions, "explore.count.k%d.por-takes-no-more-transitions (%llu <= %llu)", k,
	       (unsigned long long)rp.transitions, (unsigned long long)r.transitions);
	tap_ok(k < 2 || rp.pruned > 0, "explore.count.k%d.sleep-sets-prune (%llu)", k, (unsigned long long)rp.pruned);
	vt_explore_result_fini(&r);
	vt_explore_result_fini(&rp);
	vt_model_free(m);
}

/* pCPU symmetry: one vCPU, two interchangeable pCPUs, one operation. */
static void test_symmetry(void)
{
	static const char text[] = "arch x86 vmx ept\n"
				   "machine pcpus 2\n"
				   "vm g vcpus 1\n"
				   "space A pcid 0\n"
				   "map A 0x1000 -> 0x5000\n"
				   "vcpu g.0 long cr3 A\n"
				   "bounds depth 100 preemptions 0 migrations 0\n"
				   "program g.0\naccess 0x1000\nend\n";
	struct vt_model *m = parse(text, VT_FIXSET_NONE);
	if (!m)
		return;
	/*
	 * Without symmetry: idle, then loaded / in guest before / after the
	 * operation on either pCPU: 1 + 2 * 3 states.  With it: 1 + 3.
	 */
	struct vt_explore_opts o = opts(1);
	struct vt_explore_result r;
	o.symmetry = 0;
	vt_explore(m, &o, &r);
	tap_ok(r.states == 7 && !r.symmetric, "explore.symmetry.off-states (%llu)", (unsigned long long)r.states);
	vt_explore_result_fini(&r);
	o.symmetry = 1;
	vt_explore(m, &o, &r);
	tap_ok(r.states == 4 && r.symmetric, "explore.symmetry.on-states (%llu)", (unsigned long long)r.states);
	/* breadth-first: of the two first loads, the one onto pCPU 1 is skipped */
	uint64_t taken = r.transitions;
	tap_ok(r.pruned == 1, "explore.symmetry.on-skips-a-load (%llu)", (unsigned long long)r.pruned);
	vt_explore_result_fini(&r);
	o.por = 0;
	vt_explore(m, &o, &r);
	tap_ok(r.states == 4 && r.pruned == 0 && r.transitions == taken + 1, "explore.symmetry.no-por-takes-it (%llu)",
	       (unsigned long long)r.transitions);
	vt_explore_result_fini(&r);
	o.por = 1;

	/*
	 * The store's interface: loading the vCPU on pCPU 0 or on pCPU 1 gives
	 * the same canonical bytes, hash and key with symmetry, different ones
	 * without; a decoded state has the key it was stored under.
	 */
	for (int sym = 0; sym <= 1; sym++) {
		struct vt_visited *vs = vt_visited_new(m, VT_STORE_EXACT, sym, 64 << 20, 0);
		struct vt_canon *c = vs ? vt_canon_new(vs) : NULL;
		struct vt_state *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *d = malloc(sizeof(*d));
		uint8_t *ba = malloc(sizeof(struct vt_state)), *bb = malloc(sizeof(struct vt_state));
		if (!tap_ok(vs && c && a && b && d && ba && bb, "explore.store.sym%d.alloc", sym))
			break;
		struct vt_event ev[VT_EXPLORE_MAX_CHOICES];
		struct vt_bounds bd = {.depth = 10, .preemptions = 0, .migrations = 0};
		struct vt_verdict v;
		vt_state_init(m, a);
		int n = vt_explore_choices(m, a, &bd, ev, VT_EXPLORE_MAX_CHOICES);
		tap_ok(n == 2 && ev[0].pcpu == 0 && ev[1].pcpu == 1, "explore.store.sym%d.two-loads", sym);
		memcpy(b, a, sizeof(*b));
		vt_explore_apply(m, a, &ev[0], NULL, &v);
		vt_explore_apply(m, b, &ev[1], NULL, &v);
		size_t na = vt_canon_bytes(vs, c, a, ba, NULL), nb = vt_canon_bytes(vs, c, b, bb, NULL);
		bool same = na == nb && memcmp(ba, bb, na) == 0;
		tap_ok(same == (sym == 1), "explore.store.sym%d.canonical-bytes-%s", sym, sym ? "equal" : "differ");
		tap_ok((vt_canon_hash(ba, na) == vt_canon_hash(bb, nb)) == (sym == 1), "explore.store.sym%d.hash", sym);
		struct vt_key ka, kb;
		uint8_t extra;
		uint32_t id;
		vt_visited_key(vs, c, a, &ka, NULL);
		vt_visited_key(vs, c, b, &kb, NULL);
		tap_ok((memcmp(ka.k, kb.k, sizeof(ka.k)) == 0) == (sym == 1), "explore.store.sym%d.key", sym);
		tap_ok(vt_visited_insert(vs, &ka, 1, 0, &extra, &id) == VT_VISIT_NEW &&
			       vt_visited_insert(vs, &kb, 1, 0, &extra, NULL) == (sym ? VT_VISIT_SKIP : VT_VISIT_NEW),
		       "explore.store.sym%d.insert-or-find", sym);
		vt_visited_decode(vs, NULL, id, d);
		struct vt_key kd;
		vt_visited_key(vs, c, d, &kd, NULL);
		tap_ok(memcmp(kd.k, ka.k, sizeof(kd.k)) == 0 && vt_visited_key_is(vs, id, &kd), "explore.store.sym%d.decode-keeps-the-key", sym);
		/*
		 * A child keyed as scratch against its decoded parent, the initial
		 * state (the load on pCPU 0 is renamed in place with symmetry: its
		 * pCPUs are out of order), under any hint, has the key a fresh
		 * canon gives it.
		 */
		struct vt_canon *c2 = vt_canon_new(vs), *c3 = vt_canon_new(vs);
		struct vt_state *par = malloc(sizeof(*par)), *ch = malloc(sizeof(*ch));
		if (tap_ok(c2 && c3 && par && ch, "explore.store.sym%d.scratch-alloc", sym)) {
			struct vt_key k0;
			uint32_t id0 = 0;
			vt_state_init(m, par);
			vt_state_init(m, ch);
			vt_visited_key(vs, c3, par, &k0, NULL);
			vt_visited_insert(vs, &k0, 0, 0, &extra, &id0);
			vt_visited_decode(vs, c2, id0, par);
			int np = vt_explore_choices(m, par, &bd, ev, VT_EXPLORE_MAX_CHOICES);
			bool all = np > 0;
			for (int i = 0; i < np; i++) {
				for (uint64_t hint = 0; hint < 3; hint++) {
					struct vt_key ks, kf;
					vt_state_copy(m, ch, par);
					ch->meta.dom_w = 0;
					if (vt_explore_apply(m, ch, &ev[i], NULL, &v) != VT_STEP_OK) {
						all = false;
						continue;
					}
					vt_visited_key(vs, c3, ch, &kf, NULL);
					vt_canon_hint(c2, hint * 12345);
					vt_visited_key_scratch(vs, c2, ch, &ks);
					all &= memcmp(ks.k, kf.k, sizeof(ks.k)) == 0;
				}
			}
			tap_ok(all && np == 2, "explore.store.sym%d.scratch-key-equals-fresh-key (%d choices)", sym, np);
		}
		free(par);
		free(ch);
		vt_canon_free(c2);
		vt_canon_free(c3);
		free(a);
		free(b);
		free(d);
		free(ba);
		free(bb);
		vt_canon_free(c);
		vt_visited_free(vs);
	}
	vt_model_free(m);
}

/* The next permutation of p[0..n-1] in lexicographic order; false after the last. */
static bool next_perm(int8_t *p, int n)
{
	int i = n - 2;
	while (i >= 0 && p[i] >= p[i + 1])
		i--;
	if (i < 0)
		return false;
	int j = n - 1;
	while (p[j] <= p[i])
		j--;
	int8_t t = p[i];
	p[i] = p[j];
	p[j] = t;
	for (int a = i + 1, b = n - 1; a < b; a++, b--) {
		t = p[a];
		p[a] = p[b];
		p[b] = t;
	}
	return true;
}

static void poke_loaded_cpu(struct vt_state *s)
{
	s->vcpu[1].h.x86.loaded_cpu = 0;
}

static void poke_last_vcpu_ran(struct vt_state *s)
{
	s->vm[1].h.arm64.last_vcpu_ran[0] = 0;
}

static void poke_issuer(struct vt_state *s)
{
	s->hg.arm64.pend[0] = (struct vt_pending){.used = 1, .insn = 0, .issuer = 0, .key = 0, .arg = 0};
}

/*
 * explore.symmetry-orbit: the representative is a function of the orbit.
 * Along seeded random walks (every scheduling choice the explorer has,
 * bounds far away), every renaming of every state reached has the
 * state's canonical bytes.  The states carry what the sort key must tell
 * apart: vCPUs loaded and last run on pCPUs, x86 loaded_cpu, arm64
 * last_vcpu_ran and TLBIs pending on their issuer (debug builds also
 * assert, at every tie, that swapping the tied pCPUs changes nothing).
 */
static bool orbit_differs(const struct vt_model *m, struct vt_visited *vs, struct vt_canon *c,
			  const struct vt_state *s, struct vt_state *t, uint8_t *bs, uint8_t *bt, unsigned *renamings,
			  unsigned *wrong)
{
	int8_t map[VT_MAX_PCPUS], perm[VT_MAX_PCPUS];
	bool moved = false;
	size_t ns = vt_canon_bytes(vs, c, s, bs, map);
	for (int p = 0; p < m->npcpus; p++) {
		moved |= map[p] != p;
		perm[p] = (int8_t)p;
	}
	while (next_perm(perm, m->npcpus)) {
		vt_state_permute_pcpus(m, s, t, perm);
		size_t nt = vt_canon_bytes(vs, c, t, bt, NULL);
		++*renamings;
		*wrong += nt != ns || memcmp(bs, bt, ns) != 0;
	}
	return moved;
}

static void test_symmetry_orbit(const char *name, const char *text, void (*poke)(struct vt_state *s),
				const char *poked)
{
	struct vt_model *m = parse(text, VT_FIXSET_NONE);
	if (!m)
		return;
	struct vt_visited *vs = vt_visited_new(m, VT_STORE_EXACT, true, 64 << 20, 0);
	struct vt_canon *c = vs ? vt_canon_new(vs) : NULL;
	struct vt_state *s = malloc(sizeof(*s)), *t = malloc(sizeof(*t));
	uint8_t *bs = malloc(sizeof(struct vt_state)), *bt = malloc(sizeof(struct vt_state));
	if (!tap_ok(vs && c && s && t && bs && bt && vt_symmetry_applies(m), "explore.symmetry-orbit.%s.setup", name))
		goto out;
	struct vt_event ev[VT_EXPLORE_MAX_CHOICES];
	struct vt_bounds bd = {.depth = 1000, .preemptions = 1000, .migrations = 1000};
	struct vt_verdict v;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned states = 0, renamings = 0, wrong = 0, moved = 0;
	for (int walk = 0; walk < 40; walk++) {
		vt_state_init(m, s);
		for (int step = 0; step < 30; step++) {
			int n = vt_explore_choices(m, s, &bd, ev, VT_EXPLORE_MAX_CHOICES);
			if (n <= 0)
				break;
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			if (vt_explore_apply(m, s, &ev[(rng >> 33) % (unsigned)n], NULL, &v) != VT_STEP_OK ||
			    v.kind != VT_V_OK)
				break;
			states++;
			moved += orbit_differs(m, vs, c, s, t, bs, bt, &renamings, &wrong);
		}
	}
	tap_ok(states >= 400 && moved > 0, "explore.symmetry-orbit.%s.walked (%u states, %u renamed)", name, states,
	       moved);
	tap_ok(wrong == 0, "explore.symmetry-orbit.%s.every-renaming-same-bytes (%u of %u differ)", name, wrong,
	       renamings);
	/*
	 * The power-on state with one pCPU reference or entry set by hand:
	 * pCPU 0 (the only one named) must sort apart from the two others,
	 * which tie, whichever pCPU the reference names.
	 */
	if (poke) {
		renamings = wrong = 0;
		vt_state_init(m, s);
		poke(s);
		orbit_differs(m, vs, c, s, t, bs, bt, &renamings, &wrong);
		tap_ok(wrong == 0 && renamings == 5, "explore.symmetry-orbit.%s.%s (%u of %u differ)", name, poked,
		       wrong, renamings);
	}
out:
	free(s);
	free(t);
	free(bs);
	free(bt);
	vt_canon_free(c);
	vt_visited_free(vs);
	vt_model_free(m);
}

/*
 * A planted bug at a known depth: without the VMX migration flush, the
 * guest's local INVLPG on another pCPU leaves its entry behind.  The
 * shortest counterexample runs the first three operations and goes pCPU 0 ->
 * 1 -> 0: load, enter, op, op, preempt, load, enter, op, preempt, load,
 * enter = 11 steps (the stale entry is reachable as soon as the vCPU is back
 * in the guest on pCPU 0).  So depth 10 is clean and exhaustive, depth 11 finds it, and the
 * shrunk counterexample has 11 steps and replays to a stale access.
 */
static const char planted[] = "arch x86 vmx ept\n"
			      "machine pcpus 2\n"
			      "vm g vcpus 1\n"
			      "space A pcid 1\n"
			      "map A 0x1000 -> 0x5000\n"
			      "vcpu g.0 long cr3 A cr4 +pcide\n"
			      "bounds preemptions 2 migrations 2\n"
			      "program g.0\n"
			      "access 0x1000\n"
			      "map A 0x1000 -> 0x6000\n"
			      "invlpg 0x1000\n"
			      "access 0x1000\n"
			      "end\n";

static void test_planted(void)
{
	struct vt_fixset rev = VT_FIXSET_NONE;
	vt_fixset_add(&rev, VT_FIX_X86_VMX_MIGRATE_FLUSH);
	struct vt_model *m = parse(planted, rev);
	if (!m)
		return;
	struct vt_explore_opts o = opts(1);
	struct vt_explore_result r;
	o.bounds.depth = 10;
	o.has_depth = 1;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_CLEAN, "explore.planted.depth10-clean");
	vt_explore_result_fini(&r);
	o.bounds.depth = 11;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_VIOLATION, "explore.planted.depth11-found");
	tap_ok(r.npath == 11, "explore.planted.shrunk-to-11 (%d)", r.npath);
	tap_ok(r.verdict.kind == VT_V_STALE && r.verdict.vcpu == 0, "explore.planted.stale-by-g0");
	struct vt_run_result *rr = calloc(1, sizeof(*rr));
	struct vt_diag d;
	if (rr) {
		vt_run_events(m, r.path, r.npath, rr, &d);
		tap_ok(rr->verdict.kind == VT_V_STALE && rr->verdict.step == 11, "explore.planted.replays-at-step-11");
		vt_run_result_fini(rr);
		free(rr);
	}
	vt_explore_result_fini(&r);

	/* the same search without shrinking may report a longer path, never a shorter one */
	o.bounds.depth = 30;
	o.shrink = 0;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_VIOLATION && r.npath >= 11, "explore.planted.unshrunk-at-least-11 (%d)", r.npath);
	vt_explore_result_fini(&r);

	/* breadth-first (the default) finds the shortest counterexample without shrinking; depth-first finds it too */
	o.bounds.depth = 30;
	o.shrink = 0;
	o.dfs = 0;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_VIOLATION && r.npath == 11 && r.npath_found == 11,
	       "explore.bfs.unshrunk-is-shortest (%d)", r.npath);
	vt_explore_result_fini(&r);
	o.dfs = 1;
	o.shrink = 1;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_VIOLATION && r.npath == 11, "explore.dfs.found-and-shrunk-to-11 (%d)", r.npath);
	vt_explore_result_fini(&r);
	/* lossy stores find it as well, and report a violation (a counterexample is never lossy) */
	o.dfs = 0;
	for (int st = VT_STORE_HC; st <= VT_STORE_BITSTATE; st++) {
		o.store = (enum vt_store_kind)st;
		o.max_memory = 16 << 20;
		vt_explore(m, &o, &r);
		tap_ok(r.status == VT_EXPLORE_VIOLATION && r.npath == 11 && r.dfs,
		       "explore.lossy.%s.finds-the-planted-bug (%d)", vt_store_name(o.store), r.npath);
		vt_explore_result_fini(&r);
	}
	o.store = VT_STORE_EXACT;
	o.max_memory = 0;
	o.dfs = 0;

	/* random mode is reproducible from its seed */
	struct vt_explore_result a, b;
	o.random_walks = 2000;
	o.seed = 7;
	o.shrink = 0;
	vt_explore(m, &o, &a);
	vt_explore(m, &o, &b);
	tap_ok(a.status == VT_EXPLORE_VIOLATION, "explore.random.finds-it");
	tap_ok(a.npath == b.npath && a.npath > 0 && memcmp(a.path, b.path, (size_t)a.npath * sizeof(*a.path)) == 0,
	       "explore.random.same-seed-same-path");
	vt_explore_result_fini(&a);
	vt_explore_result_fini(&b);
	vt_model_free(m);

	/* with the fix in place: clean, and random mode says incomplete, never clean */
	m = parse(planted, VT_FIXSET_NONE);
	if (!m)
		return;
	o = opts(1);
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_CLEAN, "explore.planted.fixed-clean");
	vt_explore_result_fini(&r);
	o.random_walks = 50;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_INCOMPLETE, "explore.random.never-clean");
	vt_explore_result_fini(&r);
	/* a lossy search is never clean, and bounds the probability of an omission */
	{
		struct vt_explore_result rx;
		o = opts(1);
		vt_explore(m, &o, &rx);
		for (int st = VT_STORE_HC; st <= VT_STORE_BITSTATE; st++) {
			o = opts(1);
			o.store = (enum vt_store_kind)st;
			o.max_memory = 16 << 20;
			vt_explore(m, &o, &r);
			tap_ok(r.status == VT_EXPLORE_INCOMPLETE && r.store == o.store && r.omission > 0 &&
				       r.omission < 1e-6,
			       "explore.lossy.%s.never-clean (P <= %g)", vt_store_name(o.store), r.omission);
			tap_ok(r.states == rx.states, "explore.lossy.%s.same-states-as-exact-here (%llu, %llu)",
			       vt_store_name(o.store), (unsigned long long)r.states, (unsigned long long)rx.states);
			vt_explore_result_fini(&r);
		}
		vt_explore_result_fini(&rx);
	}
	/* a memory cap too small for the search is incomplete, not clean */
	o = opts(1);
	o.max_memory = 1;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_INCOMPLETE, "explore.memory-cap.incomplete");
	vt_explore_result_fini(&r);
	/* two jobs find the same verdict, breadth-first and depth-first */
	for (int dfs = 0; dfs <= 1; dfs++) {
		o = opts(1);
		o.jobs = 2;
		o.dfs = dfs;
		vt_explore(m, &o, &r);
		tap_ok(r.status == VT_EXPLORE_CLEAN, "explore.jobs2.%s.clean", dfs ? "dfs" : "bfs");
		vt_explore_result_fini(&r);
	}
	vt_model_free(m);
}

/*
 * The most choices a state can have: 8 vCPUs that may each load on any of 8
 * pCPUs, and a host operation.  At depth 1 (no symmetry) the search must
 * store the initial state and one state per choice: 1 + 64 + 1.
 */
static void test_all_choices(void)
{
	char text[4096];
	int n = snprintf(text, sizeof(text),
			 "arch x86 vmx ept\nmachine pcpus 8\nvm g vcpus 8\nspace A pcid 0\n"
			 "map A 0x1000 -> 0x5000\n");
	for (int v = 0; v < 8; v++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "vcpu g.%d long cr3 A\n", v);
	for (int v = 0; v < 8; v++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "program g.%d\ninvlpg 0x1000\nend\n", v);
	snprintf(text + n, sizeof(text) - (size_t)n, "program host\nremap g 0x5000 -> 0x9000\nend\n");
	struct vt_model *m = parse(text, VT_FIXSET_NONE);
	if (!m)
		return;
	struct vt_explore_opts o = opts(1);
	o.symmetry = 0;
	o.bounds.depth = 1;
	o.has_depth = 1;
	struct vt_explore_result r;
	vt_explore(m, &o, &r);
	tap_ok(r.status == VT_EXPLORE_CLEAN && r.states == 66, "explore.choices.all-66-taken (%llu states)",
	       (unsigned long long)r.states);
	vt_explore_result_fini(&r);
	vt_model_free(m);
}

/*
 * explore.thread: the explorer tells a vCPU preempted inside KVM_RUN from one
 * that returned to userspace only where the backend's decisions depend on it
 * (arm64 with seed 004 as posted); elsewhere a vCPU in the guest has its next
 * operation and one way out.
 */
static void test_thread_ways(void)
{
	static const char text[] = "arch arm64\nmachine pcpus 1\nvm g vcpus 1\nspace T asid 1\n"
				   "map T 0x1000 -> 0x5000\nvcpu g.0 ttbr0 T mmu\n"
				   "program g.0\naccess 0x1000\nend\n";
	for (int posted = 0; posted < 2; posted++) {
		struct vt_fixset rev = VT_FIXSET_NONE;
		if (posted)
			vt_fixset_add(&rev, VT_FIX_ARM64_VCPU_MULTIPLEX_LOAD);
		struct vt_model *m = parse(text, rev);
		if (!m)
			return;
		struct vt_state *s = malloc(sizeof(*s));
		vt_state_init(m, s);
		struct vt_event ev = {.kind = VT_EV_LOAD, .vcpu = 0, .pcpu = 0, .flags = VT_EVF_ENTER};
		struct vt_verdict v;
		enum vt_step_err e = vt_step(m, s, &ev, NULL, &v);
		struct vt_event out[VT_EXPLORE_MAX_CHOICES];
		struct vt_bounds b = {.depth = 10, .preemptions = 2, .migrations = 0};
		int n = vt_explore_choices(m, s, &b, out, VT_EXPLORE_MAX_CHOICES);
		int user = 0;
		for (int i = 0; i < n; i++)
			user += out[i].kind == VT_EV_PUT && (out[i].flags & VT_EVF_USER);
		tap_ok(e == VT_STEP_OK && n == 2 + posted && user == posted,
		       "explore.thread.%s: %d choices, %d returning to userspace", posted ? "posted" : "merged", n, user);
		free(s);
		vt_model_free(m);
	}
}

/*
 * vt_canon_twins: three fresh pCPUs are one group (twin 0); once vCPU g.0
 * has run on pCPU 1 and been put, pCPU 1 is its own (g.0 last ran there)
 * and pCPU 2 still pairs with pCPU 0.
 */
static void test_twins(void)
{
	static const char text[] = "arch x86 vmx ept\n"
				   "machine pcpus 3\n"
				   "vm g vcpus 2\n"
				   "space A pcid 0\n"
				   "map A 0x1000 -> 0x5000\n"
				   "vcpu g.0 long cr3 A\n"
				   "vcpu g.1 long cr3 A\n"
				   "program g.0\naccess 0x1000\nend\n"
				   "program g.1\naccess 0x1000\nend\n";
	struct vt_model *m = parse(text, VT_FIXSET_NONE);
	if (!m)
		return;
	struct vt_visited *vs = vt_visited_new(m, VT_STORE_EXACT, 1, 64 << 20, 0);
	struct vt_canon *c = vs ? vt_canon_new(vs) : NULL;
	struct vt_state *s = malloc(sizeof(*s));
	if (tap_ok(vs && c && s && vt_symmetry_applies(m), "explore.twins.setup")) {
		int8_t tw[VT_MAX_PCPUS];
		vt_state_init(m, s);
		vt_canon_twins(m, c, s, 7, tw);
		tap_ok(tw[0] == 0 && tw[1] == 0 && tw[2] == 0, "explore.twins.fresh-pcpus-are-one-group (%d %d %d)", tw[0],
		       tw[1], tw[2]);
		struct vt_event ev[VT_EXPLORE_MAX_CHOICES];
		struct vt_bounds bd = {.depth = 10, .preemptions = 1, .migrations = 0};
		struct vt_verdict v;
		bool ok = true;
		/* g.0: load on pCPU 1, enter, access, put */
		for (int k = 0; k < 4 && ok; k++) {
			int n = vt_explore_choices(m, s, &bd, ev, VT_EXPLORE_MAX_CHOICES), pick = -1;
			for (int i = 0; i < n; i++)
				if (ev[i].vcpu == 0 && (k || ev[i].pcpu == 1) &&
				    (k != 3 ? ev[i].kind != VT_EV_PUT : ev[i].kind == VT_EV_PUT) && pick < 0)
					pick = i;
			ok = pick >= 0 && vt_explore_apply(m, s, &ev[pick], NULL, &v) == VT_STEP_OK;
		}
		if (tap_ok(ok && s->vcpu[0].last_pcpu == 1 && s->vcpu[0].pcpu < 0, "explore.twins.g0-ran-on-pcpu-1")) {
			vt_canon_twins(m, c, s, 7, tw);
			tap_ok(tw[0] == 0 && tw[1] == 1 && tw[2] == 0, "explore.twins.last-pcpu-is-its-own (%d %d %d)",
			       tw[0], tw[1], tw[2]);
		}
	}
	free(s);
	vt_canon_free(c);
	vt_visited_free(vs);
	vt_model_free(m);
}

int main(void)
{
	test_thread_ways();
	test_all_choices();
	test_counts(1);
	test_counts(3);
	test_symmetry();
	test_twins();
	test_symmetry_orbit("vmx", "arch x86 vmx ept\n"
				   "machine pcpus 3\n"
				   "vm g vcpus 3\n"
				   "space A pcid 1\n"
				   "space B pcid 2\n"
				   "map A 0x1000 -> 0x5000\n"
				   "map B 0x2000 -> 0x6000\n"
				   "vcpu g.0 long cr3 A cr4 +pcide\n"
				   "vcpu g.1 long cr3 B cr4 +pcide\n"
				   "vcpu g.2 long cr3 A cr4 +pcide\n"
				   "program g.0\nmap A 0x1000 -> 0x8000\ninvlpg 0x1000\nend\n"
				   "program g.1\nmap B 0x2000 -> 0x9000\ninvlpg 0x2000\nend\n",
			    poke_loaded_cpu, "loaded_cpu");
	test_symmetry_orbit("svm", "arch x86 svm npt\n"
				   "option asids 2\n"
				   "machine pcpus 3\n"
				   "vm g vcpus 2\n"
				   "space A pcid 0\n"
				   "map A 0x1000 -> 0x5000\n"
				   "vcpu g.0 long cr3 A\n"
				   "vcpu g.1 long cr3 A\n"
				   "program g.0\nmap A 0x1000 -> 0x7000\ninvlpg 0x1000\nend\n",
			    NULL, NULL);
	test_symmetry_orbit("arm64", "arch arm64\n"
				     "machine pcpus 3\n"
				     "vm g vcpus 2\n"
				     "vm h vcpus 1\n"
				     "space A vm g asid 1\n"
				     "space B vm h asid 1\n"
				     "map A 0x1000 -> 0x1000\n"
				     "map B 0x1000 -> 0x1000\n"
				     "vcpu g.0 ttbr0 A mmu\n"
				     "vcpu g.1 ttbr0 A mmu\n"
				     "vcpu h.0 ttbr0 B mmu\n"
				     "phases fine\n"
				     "program g.0\ntlbi vae1is 0x1000\naccess 0x1000\ndsb ish\nend\n"
				     "program g.1\ntlbi vae1 0x1000\ndsb ish\nend\n"
				     "program h.0\naccess 0x1000\nend\n",
			    poke_last_vcpu_ran, "last_vcpu_ran");
	test_symmetry_orbit("arm64-pending", "arch arm64\n"
					     "machine pcpus 3\n"
					     "vm g vcpus 1\n"
					     "space A asid 1\n"
					     "map A 0x1000 -> 0x1000\n"
					     "vcpu g.0 ttbr0 A mmu\n"
					     "program g.0\ntlbi vae1 0x1000\ndsb ish\nend\n",
			    poke_issuer, "issuer");
	test_planted();
	return tap_done();
}
