/*
 * The arm64 hardware TLB (Arm ARM DDI0487 D8.16 "Translation Lookaside
 * Buffers", D8.17 "TLB maintenance", HCR_EL2 D24.2.62).
 *
 * Each PE has its own TLB (a domain).  A slot is keyed by the VMID the PE's
 * VTTBR_EL2 held when the entries were walked; inside it, 'u' holds stage-1
 * and combined (VA -> IPA -> PA) entries, tagged with their ASID unless
 * global, and 's' holds stage-2-only (IPA -> PA) entries.  A lookup in
 * context g uses the slot of the VMID loaded on the PE: its entries of g's
 * ASID and its global entries (global is still per VMID).
 *
 * What the maximal TLB does on top of the common fill:
 *   - A walk may finish with a stage-2 entry still cached in the TLB, so the
 *     fill composes the running vCPU's stage-1 translations with every
 *     cached stage-2 entry of the slot, not only with the current stage 2.
 *   - Every TLBI is pending until its issuer's DSB (D8.17.4): entries in its
 *     scope stay usable until then, on every PE it reaches.  DSB NSH
 *     completes only local TLBIs.  When one DSB completes a stage-1 and a
 *     stage-2 invalidation, they complete in the worst order: stage 1
 *     first, then walks on other PEs may refill combined entries from
 *     stage-2 entries still cached, then stage 2 (which never removes
 *     combined entries: TLBI IPAS2E1).  Pending capacity is a model limit;
 *     when it is reached the oldest TLBI completes early, which the
 *     architecture allows.
 *   - HCR_EL2.FB (option fb, KVM's default) upgrades a guest's local TLBI
 *     and IC IALLU to the Inner Shareable form; HCR_EL2.BSU = IS (always set
 *     by KVM) makes every guest DSB at least Inner Shareable.
 *   - With CnP (option cnp: VTTBR_EL2.CnP, which KVM sets when the CPUs
 *     support it), a walk may also land in a TLB shared by every PE:
 *     stage-2 entries always, stage-1 and combined entries when the guest's
 *     TTBR0_EL1.CnP is set too (D8.16, "Common not Private").  A local TLBI
 *     reaches the shared TLB as well as the issuer's own.  The shared TLB is
 *     the domain after the last pCPU (so CnP needs a free domain: at most 7
 *     pCPUs; with 8 the option has no effect).
 *   - Stage-2 table entries (arm64 scenarios may declare them) are cached
 *     in a slot's stage-2 set as walk-cache entries.  TLBI IPAS2E1 removes
 *     the entries that translate its IPA, leaf and table; TLBI RIPAS2E1
 *     takes the range operand of D8.17.5.2, decoded field by field; a
 *     level hint (FEAT_TTL, option ttl) names the leaf's level, and an
 *     entry it is wrong for need not be invalidated (RSQXYZ).
 *   - The I-cache (per PE, dom[].icache over P): a guest 'fetch' allocates
 *     the lines of the page-table entry it fetched through.  Lines are
 *     indexed by VA and tagged by the ASID (AIVIVT, as ARMv8.0 allowed), so a
 *     vCPU of the same VM fetching at that VA may hit them whatever its own
 *     tables say; reach() reports such a line as the translation it caches.
 *     Only IC IALLU / IC IALLUIS remove lines (they take effect at once).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64.h"
#include "internal.h"
#include "vtlb/arm64.h"
#include "vtlb/ops.h"
#include "vtlb/step.h"
#include "vtlb/trace.h"

static const char *const arm64_insn_names[VT_A64_INSN_COUNT] = {
	[2 * VT_TLBI_VMALLE1] = "tlbi.vmalle1",
	[2 * VT_TLBI_VMALLE1 + 1] = "tlbi.vmalle1is",
	[2 * VT_TLBI_VAE1] = "tlbi.vae1",
	[2 * VT_TLBI_VAE1 + 1] = "tlbi.vae1is",
	[2 * VT_TLBI_VALE1] = "tlbi.vale1",
	[2 * VT_TLBI_VALE1 + 1] = "tlbi.vale1is",
	[2 * VT_TLBI_VAAE1] = "tlbi.vaae1",
	[2 * VT_TLBI_VAAE1 + 1] = "tlbi.vaae1is",
	[2 * VT_TLBI_VAALE1] = "tlbi.vaale1",
	[2 * VT_TLBI_VAALE1 + 1] = "tlbi.vaale1is",
	[2 * VT_TLBI_ASIDE1] = "tlbi.aside1",
	[2 * VT_TLBI_ASIDE1 + 1] = "tlbi.aside1is",
	[2 * VT_TLBI_VMALLS12E1] = "tlbi.vmalls12e1",
	[2 * VT_TLBI_VMALLS12E1 + 1] = "tlbi.vmalls12e1is",
	[2 * VT_TLBI_IPAS2E1] = "tlbi.ipas2e1",
	[2 * VT_TLBI_IPAS2E1 + 1] = "tlbi.ipas2e1is",
	[2 * VT_TLBI_ALLE1] = "tlbi.alle1",
	[2 * VT_TLBI_ALLE1 + 1] = "tlbi.alle1is",
	[2 * VT_TLBI_RIPAS2E1] = "tlbi.ripas2e1",
	[2 * VT_TLBI_RIPAS2E1 + 1] = "tlbi.ripas2e1is",
	[VT_A64_I_DSB_NSH] = "dsb.nsh",
	[VT_A64_I_DSB_ISH] = "dsb.ish",
	[VT_A64_I_DSB_ISHST] = "dsb.ishst",
	[VT_A64_I_ISB] = "isb",
	[VT_A64_I_IC_IALLU] = "ic.iallu",
	[VT_A64_I_IC_IALLUIS] = "ic.ialluis",
};

/* The CnP shared TLB's domain (after the PEs' own), or -1. */
static int shared_dom(const struct vt_model *m)
{
	return m->opt[VT_OPT_CNP] ? m->npcpus : -1;
}

/* The PEs' TLBs, and the shared one under CnP: part of every state. */
static int arm64_ndomains(const struct vt_model *m)
{
	return m->npcpus + (m->opt[VT_OPT_CNP] ? 1 : 0);
}

/* A PE's lookup reads its own TLB and, under CnP, the shared one. */
static const char *arm64_lookup_dom(const struct vt_model *m, int pcpu, int d)
{
	(void)pcpu;
	return d == shared_dom(m) ? "shared TLB" : NULL;
}

static const struct vt_tlb_slot *slot_of(const struct vt_state *s, int d, uint32_t key)
{
	int i = vt_tlb_slot_index(s, d, key);
	return i < 0 ? NULL : &s->dom[d].slot[i];
}


/* Pair translations t with the stage-2 entries in s2 (same VM and page) over U. */
static struct vt_set compose(const struct vt_model *m, const struct vt_set *t, uint64_t s2)
{
	struct vt_set r = {{0}};
	VT_SET_FOREACH(x, t) {
		VT_U64_FOREACH(j, s2) {
			int u = m->uix[x][j];
			if (u >= 0)
				vt_set_add(&r, (unsigned)u);
		}
	}
	return r;
}

/* Stage-2 entries cached for VMID key in a pCPU's own TLB (its slot 'own', or NULL) and in the shared one. */
static uint64_t cached_s2(const struct vt_model *m, const struct vt_state *s, const struct vt_tlb_slot *own,
			  uint32_t key)
{
	uint64_t r = 0;
	const struct vt_tlb_slot *sl = own;
	if (sl)
		r |= sl->s;
	int sd = shared_dom(m);
	if (sd >= 0 && (sl = slot_of(s, sd, key)))
		r |= sl->s;
	return r;
}

/* The translations an I-cache line (a page-table entry) stands for in context g of VM vm. */
static struct vt_set icache_t(const struct vt_model *m, int vm, const struct vt_gctx *g, uint64_t lines)
{
	struct vt_set t = {{0}};
	VT_U64_FOREACH(p, lines) {
		if (m->pte[p].vm != vm)
			continue;
		if (m->pte[p].g) {
			for (int c = 0; c < m->nctx; c++) {
				int x = m->ctx[c].vm == vm ? m->tix[c][p][1] : -1;
				if (x >= 0)
					vt_set_add(&t, (unsigned)x);
			}
		} else if (m->tix[g->ctx][p][0] >= 0) {
			vt_set_add(&t, (unsigned)m->tix[g->ctx][p][0]);
		}
	}
	return t;
}

/* u and s2 are built in locals and stored once: a store through them could alias s for the compiler. */
static void a64_reach(const struct vt_model *m, const struct vt_state *s, int p, const struct vt_gctx *g,
		      struct vt_set *u, uint64_t *s2)
{
	struct vt_set r = {{0}};
	uint64_t rs = 0;
	uint32_t key = s->pcpu[p].key;
	if (g->paging && g->ctx >= 0 && key != VT_KEY_NONE) {
		const struct vt_set *use = &m->u_usable[g->ctx]; /* vt_usable_umask: its ASID's and global ones (any VM: the slot decides) */
		int d = m->domain_of[p];
		const struct vt_tlb_slot *sl = slot_of(s, d, key);
		if (sl) {
			r = vt_set_inter(&sl->u, use);
			rs = sl->s;
		}
		int sd = shared_dom(m);
		if (sd >= 0 && (sl = slot_of(s, sd, key))) {
			struct vt_set x = vt_set_inter(&sl->u, use);
			vt_set_or(&r, &x);
			rs |= sl->s;
		}
		int v = s->pcpu[p].vcpu;
		uint64_t lines = s->dom[d].icache;
		if (v >= 0 && lines) {
			int vm = m->vcpu_vm[v];
			struct vt_set t = icache_t(m, vm, g, lines);
			struct vt_set x = compose(m, &t, s->vm[vm].s2);
			vt_set_or(&r, &x);
		}
	}
	*u = r;
	*s2 = rs;
}

/*
 * Fill what the walk of the vCPU running on p returns, plus its stage-1
 * translations completed by stage-2 entries still cached (refill).  Returns
 * the new combined entries, or -1 when a domain has no free slot.
 *
 * u already holds the vCPU's live translations composed with s2 (the walk,
 * vt_walk_nested: the VM's current stage 2; a refill passes neither), so
 * only the cached stage-2 entries outside s2 can add to it: when there are
 * none, the live set is not computed.
 */
static inline __attribute__((always_inline)) int fill_key(const struct vt_model *m, struct vt_state *s, int p,
							  const struct vt_set *u, uint64_t s2, struct vt_set *added)
{
	uint32_t key = s->pcpu[p].key;
	int v = s->pcpu[p].vcpu;
	int d = m->domain_of[p];
	int i = vt_tlb_slot_index(s, d, key); /* looked up once: nothing below changes d before the fill */
	struct vt_tlb_slot *own = i < 0 ? NULL : &s->dom[d].slot[i];
	struct vt_set all = *u;
	if (v >= 0) {
		uint64_t extra = cached_s2(m, s, own, key) & ~s2;
#ifndef NDEBUG
		struct vt_set live = vt_live_vcpu(m, s, v), walked = compose(m, &live, s2);
		struct vt_set held = vt_set_inter(&walked, u);
		assert(vt_set_eq(&walked, &held) && "fill_key: u holds compose(live, s2)");
#endif
		if (extra) {
			struct vt_set cur = vt_live_vcpu(m, s, v);
			struct vt_set x = compose(m, &cur, extra);
			vt_set_or(&all, &x);
		}
	}
	if (added)
		*added = own ? vt_set_minus(&all, &own->u) : all;
	if (own) { /* vt_tlb_fill_fast, with the slot found above */
		struct vt_set o = own->u;
		vt_set_or(&o, &all);
		if (!vt_set_eq(&o, &own->u) || (s2 & ~own->s)) {
			vt_dom_mark(s, d);
			own->u = o;
			own->s |= s2;
		}
	} else if ((!vt_set_empty(&all) || s2) && vt_tlb_fill(s, d, key, &all, s2) < 0) {
		return -1;
	}
	int sd = shared_dom(m);
	if (sd >= 0) {
		struct vt_set none = {{0}};
		bool cnp = v >= 0 && s->vcpu[v].g.arm64.cnp;
		if (vt_tlb_fill_fast(s, sd, key, cnp ? &all : &none, s2) < 0)
			return -1;
	}
	return 0;
}

static int a64_fill(const struct vt_model *m, struct vt_state *s, int p, const struct vt_set *u, uint64_t s2)
{
	if (s->pcpu[p].key == VT_KEY_NONE)
		return 0;
	return fill_key(m, s, p, u, s2, NULL);
}

/* ---- invalidation -------------------------------------------------------- */

/*
 * The level a TTL field names for this model's 4 KiB-granule entries: 0 for
 * no information, -1 when the field describes entries of another granule
 * (nothing of ours is then required: RSQXYZ, RXKMMX).  Without FEAT_TTL the
 * field is RES0 and ignored.  'range': the 2-bit field of a range operand
 * (Table D8-124), else the 4-bit one (Table D8-123; TG 01 with level 0 is
 * reserved without FEAT_LPA2 and means no information).
 */
static int ttl_level(const struct vt_model *m, unsigned ttl, bool range)
{
	if (!m->opt[VT_OPT_TTL])
		return 0;
	if (range)
		return (int)ttl;
	if ((ttl >> 2) == 0)
		return 0;
	if ((ttl >> 2) != 1)
		return -1;
	return (int)(ttl & 3u);
}

/* Stage-2 entries a TLBI of this kind must remove (IPAS2E1, RIPAS2E1: D8.17.5; others by kind). */
static uint64_t tlbi_s2_scope(const struct vt_model *m, unsigned kind, uint32_t key, uint64_t arg)
{
	if (kind == VT_TLBI_IPAS2E1) {
		uint64_t ipa = vt_a64_ipa(key, arg);
		int level = ttl_level(m, vt_a64_ipa_ttl(arg), false);
		return level < 0 ? 0 : vt_arm64_s2_range_mask(m, ipa, ipa + 0x1000, level);
	}
	if (kind == VT_TLBI_RIPAS2E1) {
		struct vt_a64_range r = vt_a64_range_decode(arg);
		if (r.tg != 1) /* 00 reserved; 16 KiB or 64 KiB: not the granule of these entries (RXKMMX) */
			return 0;
		return vt_arm64_s2_range_mask(m, r.base, r.base + (r.pages << 12), ttl_level(m, r.ttl, true));
	}
	return vt_arm64_tlbi_smask(m, kind, 0);
}

/*
 * Apply a completed TLBI's scope to every TLB it reaches.  Only a slot its
 * scope meets is written (and its domain marked, vt_dom_mark): one it
 * leaves as it was is not, so the explorer need not compare that TLB again.
 */
static void tlbi_apply(const struct vt_model *m, struct vt_state *s, const struct vt_pending *pd)
{
	unsigned kind = vt_a64_insn_kind(pd->insn);
	bool is = vt_a64_insn_is_broadcast(pd->insn);
	unsigned vmid = vt_a64_key_vmid(pd->key);
	struct vt_set umask = {{0}};
	uint64_t smask = 0;
	bool scoped = false; /* the scope is computed at the first slot it applies to */
	int sd = shared_dom(m);
	/*
	 * The TLBs it reaches (D8.17: an Inner Shareable TLBI every PE's, a
	 * local one the issuer's), and the shared one under CnP (D8.16).
	 */
	uint32_t reach = sd >= 0 ? (uint32_t)VT_BIT(sd) : 0;
	if (is)
		reach |= (uint32_t)VT_BIT(m->ndomains) - 1;
	else if (pd->issuer < m->npcpus)
		reach |= (uint32_t)VT_BIT(m->domain_of[pd->issuer]);
	for (; reach; reach &= reach - 1) {
		int d = __builtin_ctz(reach);
		bool emptied = false;
		for (int i = 0; i < VT_MAX_SLOTS; i++) {
			struct vt_tlb_slot *sl = &s->dom[d].slot[i];
			if (sl->key == VT_KEY_NONE)
				break;
			if (kind != VT_TLBI_ALLE1 && sl->key != vmid)
				continue;
			if (!scoped) {
				int va = vt_arm64_tlbi_by_va(kind) ? vt_model_va_index(m, pd->arg) : -1;
				umask = vt_arm64_tlbi_umask(m, kind, vt_a64_key_asid(pd->key), va);
				smask = tlbi_s2_scope(m, kind, pd->key, pd->arg);
				scoped = true;
			}
			/* a slot the scope leaves as it was is neither written nor marked */
			if (vt_tlb_slot_remove(s, d, sl, &umask, smask))
				emptied |= !sl->s && vt_set_empty(&sl->u);
		}
		/* Every TLB is tidy between two changes (vt_tlb_tidy): only one with a slot emptied here needs it. */
		if (emptied)
			vt_tlb_tidy(s, d);
	}
#ifndef NDEBUG
	for (int d = 0; d < (sd >= m->ndomains ? sd + 1 : m->ndomains); d++)
		for (int i = 0; i < VT_MAX_SLOTS && s->dom[d].slot[i].key != VT_KEY_NONE; i++)
			assert((s->dom[d].slot[i].s || !vt_set_empty(&s->dom[d].slot[i].u)) && "tlbi_apply: TLBs stay tidy");
#endif
}

static bool stage1_only(unsigned insn)
{
	unsigned k = vt_a64_insn_kind(insn);
	return k != VT_TLBI_IPAS2E1 && k != VT_TLBI_RIPAS2E1 && k != VT_TLBI_VMALLS12E1 && k != VT_TLBI_ALLE1;
}

/*
 * Walks on the PEs running a vCPU refill from stage-2 entries still in the
 * TLB (between the completion of two TLBIs of one DSB).
 */
static void refill(const struct vt_model *m, struct vt_state *s, struct vt_trace *tr)
{
	struct vt_set none = {{0}};
	for (int p = 0; p < m->npcpus; p++) {
		int v = s->pcpu[p].vcpu;
		if (v < 0 || s->vcpu[v].run != VT_RUN_GUEST || s->pcpu[p].key == VT_KEY_NONE)
			continue;
		struct vt_set added;
		if (fill_key(m, s, p, &none, 0, &added) == 0 && !vt_set_empty(&added))
			vt_trace_note(tr, v, p,
				      "a walk completes from a stage-2 entry still in the TLB: a combined entry is refilled "
				      "before the stage-2 invalidation completes");
	}
}

/* Complete the TLBIs 'issuer' has pending (local ones only with all == false). */
static int dsb_complete(const struct vt_model *m, struct vt_state *s, int issuer, bool all, bool apply,
			struct vt_trace *tr)
{
	struct vt_pending *pend = s->hg.arm64.pend;
	uint32_t done = 0, s1 = 0; /* bit i: pend[i] completes; and it is stage-1 only */
	int n = 0, nd = 0;
	/* The used entries come first, the others are zero (tlbi_issue). */
	for (; n < VT_ARM64_HW_PENDING && pend[n].used; n++)
		if (pend[n].issuer == issuer && (all || !vt_a64_insn_is_broadcast(pend[n].insn))) {
			done |= 1u << n;
			s1 |= (uint32_t)stage1_only(pend[n].insn) << n;
			nd++;
		}
#ifndef NDEBUG
	for (int i = n; i < VT_ARM64_HW_PENDING; i++) {
		static const struct vt_pending zero;
		assert(memcmp(&pend[i], &zero, sizeof(zero)) == 0 && "dsb_complete: the unused pending TLBIs are zero");
	}
#endif
	if (!apply || !nd)
		return nd;
	/* Worst order: stage-1 scopes, then refills from cached stage 2, then stage-2 scopes (in issue order). */
	for (uint32_t i = s1; i; i &= i - 1)
		tlbi_apply(m, s, &pend[__builtin_ctz(i)]);
	if (s1 && (done & ~s1))
		refill(m, s, tr);
	for (uint32_t i = done & ~s1; i; i &= i - 1)
		tlbi_apply(m, s, &pend[__builtin_ctz(i)]);
	/* Those kept move up in place, in order; the freed entries are zeroed. */
	int nk = 0;
	for (int i = 0; i < n; i++)
		if (!(done >> i & 1)) {
			if (nk != i)
				pend[nk] = pend[i];
			nk++;
		}
	memset(&pend[nk], 0, (size_t)(n - nk) * sizeof(*pend));
	return nd;
}

/* Issue a TLBI: pending until its issuer's DSB. */
static void tlbi_issue(const struct vt_model *m, struct vt_state *s, int p_trace, int issuer, unsigned insn,
		       uint32_t key, uint64_t arg, struct vt_trace *tr)
{
	struct vt_pending *pend = s->hg.arm64.pend;
	struct vt_pending t;
	memset(&t, 0, sizeof(t));
	t.used = 1;
	t.insn = (uint8_t)insn;
	t.issuer = (uint8_t)issuer;
	t.key = key;
	t.arg = arg;
	int i;
	for (i = 0; i < VT_ARM64_HW_PENDING && pend[i].used; i++)
		if (memcmp(&pend[i], &t, sizeof(t)) == 0)
			return;
	if (i == VT_ARM64_HW_PENDING) {
		/* Completing one early would be legal hardware, but a less aggressive one: refuse. */
		vt_state_limit(&s->meta, VT_LIMIT_PENDING);
		return;
	}
	pend[i] = t;
}

void vt_arm64_insn_as(const struct vt_model *m, struct vt_state *s, int p_trace, int issuer, unsigned insn,
		      uint32_t key, uint64_t arg, struct vt_trace *tr)
{
	if (vt_a64_insn_is_tlbi(insn)) {
		if (tr) /* an exploration runs without a trace: not even the calls */
			vt_trace_insn(tr, p_trace, insn, key, arg);
		tlbi_issue(m, s, p_trace, issuer, insn, key, arg, tr);
		return;
	}
	switch (insn) {
	case VT_A64_I_DSB_NSH:
	case VT_A64_I_DSB_ISH: {
		bool all = insn == VT_A64_I_DSB_ISH;
		if (tr) /* the count of TLBIs it completes is only for the trace */
			vt_trace_insn(tr, p_trace, insn, (uint32_t)dsb_complete(m, s, issuer, all, false, tr), 0);
		dsb_complete(m, s, issuer, all, true, tr);
		return;
	}
	case VT_A64_I_IC_IALLU:
		if (tr)
			vt_trace_insn(tr, p_trace, insn, key, 0);
		/* an I-cache with no line is not written (vt_dom_mark) */
		if (issuer < m->npcpus && s->dom[m->domain_of[issuer]].icache) {
			vt_dom_mark(s, m->domain_of[issuer]);
			s->dom[m->domain_of[issuer]].icache = 0;
		}
		return;
	case VT_A64_I_IC_IALLUIS:
		if (tr)
			vt_trace_insn(tr, p_trace, insn, key, 0);
		for (int d = 0; d < VT_MAX_DOMAINS; d++)
			if (s->dom[d].icache) {
				vt_dom_mark(s, d);
				s->dom[d].icache = 0;
			}
		return;
	default:
		/* DSB ISHST orders stores and completes no TLBI; ISB has no TLB effect. */
		if (tr)
			vt_trace_insn(tr, p_trace, insn, key, 0);
		return;
	}
}

static void a64_insn(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key, uint64_t arg,
		     struct vt_trace *tr)
{
	if (insn < VT_A64_INSN_COUNT)
		vt_arm64_insn_as(m, s, p, p, insn, key, arg, tr);
}

void vt_arm64_hw_permute_pcpus(const struct vt_model *m, struct vt_state *s, const int8_t *map)
{
	struct vt_pending *pend = s->hg.arm64.pend;
	for (int i = 0; i < VT_ARM64_HW_PENDING && pend[i].used; i++)
		if (pend[i].issuer < m->npcpus)
			pend[i].issuer = (uint8_t)map[pend[i].issuer];
}

/* The symmetry key's part of the renaming above: which pending TLBIs p issued. */
void vt_arm64_hw_pcpu_refs(const struct vt_model *m, const struct vt_state *s, uint64_t *refs)
{
	_Static_assert(VT_ARM64_HW_REFS_SHIFT + VT_ARM64_HW_PENDING <= 64, "issuer bits fit in a refs word");
	const struct vt_pending *pend = s->hg.arm64.pend;
	for (int i = 0; i < VT_ARM64_HW_PENDING && pend[i].used; i++)
		if (pend[i].issuer < m->npcpus)
			refs[pend[i].issuer] |= VT_BIT(VT_ARM64_HW_REFS_SHIFT + i);
}

/* ---- guest instructions executed natively -------------------------------- */

static void a64_native(const struct vt_model *m, struct vt_state *s, int p, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	int v = s->pcpu[p].vcpu;
	unsigned vmid = vt_a64_key_vmid(s->pcpu[p].key);
	switch (op->code) {
	case VT_A64_TLBI: {
		unsigned kind = (unsigned)op->target;
		bool is = (op->flags & VT_OPF_IS) != 0;
		if (!is && m->opt[VT_OPT_FB]) {
			vt_trace_note(tr, v, p, "HCR_EL2.FB: the local TLBI is broadcast (Inner Shareable)");
			is = true;
		}
		unsigned asid = 0;
		if (vt_arm64_tlbi_by_asid(kind))
			asid = (op->flags & VT_A64_OPF_ASID) ? (unsigned)op->b : vt_arm64_asid(m, old);
		uint64_t arg = vt_arm64_tlbi_by_va(kind) ? op->a : 0;
		vt_arm64_insn_as(m, s, p, p, vt_a64_tlbi_insn(kind, is), vt_a64_key(vmid, asid), arg, tr);
		return;
	}
	case VT_A64_DSB:
		if (op->target == VT_DSB_NSH)
			vt_trace_note(tr, v, p, "HCR_EL2.BSU = IS: the DSB is Inner Shareable");
		vt_arm64_insn_as(m, s, p, p, VT_A64_I_DSB_ISH, 0, 0, tr);
		return;
	case VT_A64_IC: {
		unsigned insn = op->target ? VT_A64_I_IC_IALLUIS : VT_A64_I_IC_IALLU;
		if (insn == VT_A64_I_IC_IALLU && m->opt[VT_OPT_FB]) {
			vt_trace_note(tr, v, p, "HCR_EL2.FB: IC IALLU is broadcast (IC IALLUIS)");
			insn = VT_A64_I_IC_IALLUIS;
		}
		vt_arm64_insn_as(m, s, p, p, insn, vmid, 0, tr);
		return;
	}
	case VT_A64_FETCH: {
		struct vt_gctx g;
		vt_vcpu_gctx(m, s, v, &g);
		int va = vt_model_va_index(m, op->a);
		if (g.paging && va >= 0 && vt_pt_va(m, s, g.space, va)) {
			uint64_t lines = vt_pt_va(m, s, g.space, va);
			if (lines & ~s->dom[m->domain_of[p]].icache) {
				vt_dom_mark(s, m->domain_of[p]);
				s->dom[m->domain_of[p]].icache |= lines;
			}
			vt_trace_note(tr, v, p, "the PE's I-cache allocates the lines fetched through this VA's entry");
		}
		return;
	}
	default:
		/* TTBR0_EL1 and SCTLR_EL1 writes, ISB: nothing cached changes. */
		return;
	}
}

/* ---- formatting ------------------------------------------------------------ */

static void a64_fmt_key(uint32_t key, char *buf, size_t len)
{
	snprintf(buf, len, "VMID %u", vt_a64_key_vmid(key));
}

static void a64_fmt_operand(unsigned insn, uint32_t key, char *buf, size_t len)
{
	unsigned vmid = vt_a64_key_vmid(key);
	if (vt_a64_insn_is_tlbi(insn)) {
		unsigned kind = vt_a64_insn_kind(insn);
		if (kind == VT_TLBI_ALLE1)
			snprintf(buf, len, "every VMID");
		else if (vt_arm64_tlbi_by_asid(kind))
			snprintf(buf, len, "VMID %u ASID %u", vmid, vt_a64_key_asid(key));
		else if (kind == VT_TLBI_IPAS2E1 && (key >> 8))
			snprintf(buf, len, "VMID %u IPA 0x%llx", vmid, (unsigned long long)vt_a64_ipa(key, 0));
		else
			snprintf(buf, len, "VMID %u", vmid);
		return;
	}
	switch (insn) {
	case VT_A64_I_DSB_NSH:
	case VT_A64_I_DSB_ISH:
		snprintf(buf, len, "%u pending TLBI%s complete%s", key, key == 1 ? "" : "s", key == 1 ? "s" : "");
		return;
	case VT_A64_I_DSB_ISHST:
		snprintf(buf, len, "orders the page-table stores");
		return;
	case VT_A64_I_ISB:
		snprintf(buf, len, "context synchronization");
		return;
	case VT_A64_I_IC_IALLU:
		snprintf(buf, len, "this PE's I-cache");
		return;
	case VT_A64_I_IC_IALLUIS:
		snprintf(buf, len, "every PE's I-cache");
		return;
	default:
		snprintf(buf, len, "?");
	}
}

/* TLBI IPAS2E1 with a level hint and the range form print their decoded operand. */
static bool a64_fmt_insn_arg(unsigned insn, uint32_t key, uint64_t arg, char *buf, size_t len)
{
	if (!vt_a64_insn_is_tlbi(insn))
		return false;
	unsigned kind = vt_a64_insn_kind(insn), vmid = vt_a64_key_vmid(key);
	if (kind == VT_TLBI_IPAS2E1 && arg) {
		unsigned ttl = vt_a64_ipa_ttl(arg);
		static const char *const lv[4] = {"no level information", "leaf at level 1", "leaf at level 2",
						  "leaf at level 3"};
		if (ttl)
			snprintf(buf, len, "VMID %u IPA 0x%llx TTL 0x%x: %s", vmid,
				 (unsigned long long)vt_a64_ipa(key, arg), ttl, (ttl >> 2) == 1 ? lv[ttl & 3] : "other granule");
		else
			snprintf(buf, len, "VMID %u IPA 0x%llx", vmid, (unsigned long long)vt_a64_ipa(key, arg));
		return true;
	}
	if (kind == VT_TLBI_RIPAS2E1) {
		struct vt_a64_range r = vt_a64_range_decode(arg);
		snprintf(buf, len,
			 "VMID %u Xt 0x%016llx: BaseADDR 0x%llx NUM %u SCALE %u TTL %u TG %u: %llu pages, IPA 0x%llx-0x%llx",
			 vmid, (unsigned long long)arg, (unsigned long long)r.base, r.num, r.scale, r.ttl, r.tg,
			 (unsigned long long)r.pages, (unsigned long long)r.base,
			 (unsigned long long)(r.base + (r.pages << 12) - 1));
		return true;
	}
	return false;
}

const struct vt_hw_ops vt_arm64_hw_ops = {
	.name = "arm64",
	.ndomains = arm64_ndomains,
	.lookup_dom = arm64_lookup_dom,
	.insn_names = arm64_insn_names,
	.ninsns = VT_A64_INSN_COUNT,
	.native = a64_native,
	.reach = a64_reach,
	.fill = a64_fill,
	.insn = a64_insn,
	.fmt_key = a64_fmt_key,
	.fmt_operand = a64_fmt_operand,
	.fmt_insn_arg = a64_fmt_insn_arg,
};
