/*
 * The POWER9/POWER10 radix TLB (Power ISA v3.0B Book III §6.7.10, §6.10.2
 * tlbie/tlbiel; Book II §4.4 ptesync/tlbsync; the POWER9 user's manual for
 * the shared TLB).
 *
 * Topology.  One TLB per core, shared by every SMT thread of it; an SMT8
 * "big core" (option smt8, with 'machine cores N threads 8') is two fused
 * SMT4 cores whose TLBs are the even and the odd threads.  A TLB domain is
 * that group.
 *
 * Tags.  A slot is keyed by the LPID loaded in LPIDR (s->pcpu[p].key): its
 * 'u' set holds process-scoped entries (EA -> RA through both scopes; the
 * PID is in each entry's context), its 's' set partition-scoped entries
 * (guest real -> host real).  Radix has no global bit: a lookup uses only
 * entries of the current PID.
 *
 * Scopes and completion (the maximal TLB: an entry stays until an
 * invalidation is certainly performed):
 *   tlbiel   this thread's TLB group, at once; later refills survive.
 *            (ptesync orders it; taking effect at issue is within what
 *            the hardware may do and never hides a refill.)
 *   tlbie    every TLB, but only once the issuing thread has executed
 *            tlbsync and then ptesync: until then it is pending.  A tlbsync
 *            orders only its own thread's tlbies.  XXX: performing at
 *            completion also removes refills made since the issue, which a
 *            real TLB may keep; this can hide, never invent, a stale entry.
 *   RIC=1    the page-walk cache only, which is not modelled.
 *   IS=0 PRS=0 (tlbie.gpa) removes the partition-scoped entries of the guest
 *            real address and every process-scoped entry derived from them,
 *            which is what KVM's kvmppc_radix_tlbie_page() relies on.
 *
 * The ERAT.  Each thread has an effective-to-real cache in front of the
 * TLB, filled from the same walks and tagged the same way (a TLB domain of
 * its own, after the TLB groups).  Every invalidation that reaches a
 * thread's TLB group reaches the ERATs of the group's threads too, except
 * the congruence-class tlbiel KVM's flush_guest_tlb uses over every set
 * (VT_PPC_TLBIEL_LPID): "POWER9 congruence-class TLBIEL leaves ERAT"
 * (cf0b0e3712f7), so KVM follows it with SLBIA IH=7/6, which invalidates
 * the guest entries of the ERATs.  That SLBIA is given the TLB group's scope,
 * as KVM's once-per-core flush assumes (docs/questions-ppc.md Q5).  A guest's
 * own tlbiel.pid stands for its whole local flush, which in Linux ends with
 * PPC_RADIX_INVALIDATE_ERAT_USER.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vtlb/ppc.h"
#include "vtlb/trace.h"

static const char *const ppc_insn_names[VT_PPC_INSN_COUNT] = {
	[VT_PPC_TLBIEL_VA] = "tlbiel.va",     [VT_PPC_TLBIEL_PID] = "tlbiel.pid", [VT_PPC_TLBIEL_PWC] = "tlbiel.pwc",
	[VT_PPC_TLBIEL_LPID] = "tlbiel.lpid", [VT_PPC_TLBIE_VA] = "tlbie.va",     [VT_PPC_TLBIE_PID] = "tlbie.pid",
	[VT_PPC_TLBIE_PWC] = "tlbie.pwc",     [VT_PPC_TLBIE_LPID] = "tlbie.lpid", [VT_PPC_TLBIE_GPA] = "tlbie.gpa",
	[VT_PPC_EIEIO] = "eieio",             [VT_PPC_TLBSYNC] = "tlbsync",       [VT_PPC_PTESYNC] = "ptesync",
	[VT_PPC_SLBIA_ERAT] = "slbia.erat",
};

/* The TLB group of a thread: the core, or the even/odd half of an SMT8 big core. */
static int ppc_domain(const struct vt_model *m, int p)
{
	int t = m->threads_per_core > 0 ? m->threads_per_core : 1;
	int core = p / t;
	if (m->opt[VT_OPT_SMT8] && t == 8)
		return core * 2 + (p % t) % 2;
	return core;
}


/* TLB groups come first, then one ERAT per thread. */
static int ngroups(const struct vt_model *m)
{
	int n = 0;
	for (int p = 0; p < m->npcpus; p++)
		if (ppc_domain(m, p) + 1 > n)
			n = ppc_domain(m, p) + 1;
	return n;
}

static int ppc_ndomains(const struct vt_model *m)
{
	return ngroups(m) + m->npcpus;
}

/*
 * Thread p's ERAT.  The model's domain count is ppc_ndomains (the ERATs
 * are its last npcpus), fixed once the model is finished: no need to count
 * the groups again on every lookup.
 */
static inline int erat_of(const struct vt_model *m, int p)
{
	return m->ndomains - m->npcpus + p;
}

/* A thread's lookup reads its own ERAT, then its TLB group's TLB. */
static const char *ppc_lookup_dom(const struct vt_model *m, int p, int d)
{
	return d == erat_of(m, p) ? "ERAT" : NULL;
}

/* ctxu: the lookup's u_ctx_value, or NULL in real mode; u and s2 accumulate (the caller's locals). */
static inline void reach_dom(const struct vt_state *s, int d, uint32_t key, const struct vt_set *ctxu,
			     struct vt_set *u, uint64_t *s2)
{
	int i = vt_tlb_slot_index(s, d, key);
	if (i < 0)
		return;
	const struct vt_tlb_slot *sl = &s->dom[d].slot[i];
	*s2 |= sl->s;
	if (!ctxu)
		return; /* real mode: partition scope only */
	/* the entries of its PID, in any LPID's context: the slot's LPID decides */
	struct vt_set hit = vt_set_inter(&sl->u, ctxu);
	vt_set_or(u, &hit);
}

/* A lookup on thread p: its ERAT, then its TLB group's TLB. */
static void ppc_reach(const struct vt_model *m, const struct vt_state *s, int p, const struct vt_gctx *g,
		      struct vt_set *u, uint64_t *s2)
{
	struct vt_set r = {{0}};
	uint64_t rs = 0;
	uint32_t key = s->pcpu[p].key;
	if (key != VT_KEY_NONE) {
		const struct vt_set *ctxu = g->paging && g->ctx >= 0 ? &m->u_ctx_value[g->ctx] : NULL;
		reach_dom(s, m->domain_of[p], key, ctxu, &r, &rs);
		reach_dom(s, erat_of(m, p), key, ctxu, &r, &rs);
	}
	*u = r;
	*s2 = rs;
}

static int ppc_fill(const struct vt_model *m, struct vt_state *s, int p, const struct vt_set *u, uint64_t s2)
{
	uint32_t key = s->pcpu[p].key;
	if (key == VT_KEY_NONE)
		return 0;
	if (vt_tlb_fill_fast(s, m->domain_of[p], key, u, s2) < 0)
		return -1;
	return vt_tlb_fill_fast(s, erat_of(m, p), key, u, s2);
}

/* What one instruction removes: process-scoped entries (mask, over U) and partition-scoped ones of one LPID. */
struct scope {
	uint32_t lpid;
	struct vt_set mask;
	uint64_t smask;
};

/*
 * The scope of an instruction (Book III §6.10.2, tlbie/tlbiel: one address
 * of a PID, a PID, an LPID, or partition-scoped entries of a GPA; computed
 * once for every TLB it reaches); false: it removes nothing.
 */
static bool scope_of(const struct vt_model *m, unsigned insn, uint32_t key, uint64_t arg, struct scope *sc)
{
	sc->lpid = key;
	sc->mask = (struct vt_set){{0}};
	sc->smask = 0;
	switch (insn) {
	case VT_PPC_TLBIEL_VA:
	case VT_PPC_TLBIE_VA: {
		int va = vt_model_va_index(m, arg);
		if (va < 0)
			return false;
		sc->lpid = vt_ppc_rs_lpid(key);
		sc->mask = vt_ctx_value_umask(m, vt_ppc_rs_pid(key));
		vt_set_and(&sc->mask, &m->u_va[va]);
		return true;
	}
	case VT_PPC_TLBIEL_PID:
	case VT_PPC_TLBIE_PID:
		sc->lpid = vt_ppc_rs_lpid(key);
		sc->mask = vt_ctx_value_umask(m, vt_ppc_rs_pid(key));
		return true;
	case VT_PPC_TLBIEL_LPID:
	case VT_PPC_TLBIE_LPID:
		for (int i = 0; i < VT_SET_WORDS; i++)
			sc->mask.w[i] = ~(uint64_t)0;
		return true;
	case VT_PPC_TLBIE_GPA:
		for (int j = 0; j < m->ns; j++)
			if (m->s2[j].gpa == arg) {
				sc->smask |= VT_BIT(j);
				vt_set_or(&sc->mask, &m->u_s[j]);
			}
		return true;
	default:
		return false;
	}
}

/*
 * Remove a scope from the slot of its LPID in domain d.  A slot it leaves
 * as it was is not written (vt_dom_mark): the explorer need not compare
 * that TLB again.
 */
static void apply_scope(struct vt_state *s, int d, const struct scope *sc)
{
	int i = vt_tlb_slot_index(s, d, sc->lpid);
	if (i < 0)
		return;
	(void)vt_tlb_slot_remove(s, d, &s->dom[d].slot[i], &sc->mask, sc->smask);
}

/* ---- pending tlbies ------------------------------------------------------ */

static void pend_remove(struct vt_state *s, int i)
{
	struct vt_pending *pd = s->hg.ppc.pend;
	for (; i + 1 < VT_MAX_PENDING; i++)
		pd[i] = pd[i + 1];
	memset(&pd[VT_MAX_PENDING - 1], 0, sizeof(pd[0]));
}

static void perform_everywhere(const struct vt_model *m, struct vt_state *s, const struct vt_pending *pd)
{
	struct scope sc;
	if (!scope_of(m, pd->insn, pd->key, pd->arg, &sc))
		return;
	for (int d = 0; d < m->ndomains; d++)
		apply_scope(s, d, &sc);
}

static void pend_add(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key,
		     uint64_t arg, struct vt_trace *tr)
{
	struct vt_pending *pd = s->hg.ppc.pend;
	if (pd[VT_MAX_PENDING - 1].used) {
		/* Performing one early could only hide a stale entry: refuse instead. */
		vt_state_limit(&s->meta, VT_LIMIT_PENDING);
		return;
	}
	int i = 0;
	while (pd[i].used)
		i++;
	pd[i].used = 1;
	pd[i].insn = (uint8_t)insn;
	pd[i].issuer = (uint8_t)p;
	pd[i].pad = 0;
	pd[i].key = key;
	pd[i].arg = arg;
}

/* tlbsync: this thread's earlier tlbies are ordered before its next ptesync. */
static void pend_sync(struct vt_state *s, int p)
{
	for (int i = 0; i < VT_MAX_PENDING; i++)
		if (s->hg.ppc.pend[i].used == 1 && s->hg.ppc.pend[i].issuer == p)
			s->hg.ppc.pend[i].used = 2;
}

/* ptesync: the tlbies this thread's tlbsync ordered are now performed everywhere. */
static void pend_complete(const struct vt_model *m, struct vt_state *s, int p)
{
	for (int i = 0; i < VT_MAX_PENDING;) {
		struct vt_pending *pd = &s->hg.ppc.pend[i];
		if (pd->used == 2 && pd->issuer == p) {
			perform_everywhere(m, s, pd);
			pend_remove(s, i);
		} else {
			i++;
		}
	}
}

/* The ERATs of the threads in p's TLB group. */
static void apply_group_erats(const struct vt_model *m, struct vt_state *s, int p, const struct scope *sc)
{
	for (int q = 0; q < m->npcpus; q++)
		if (m->domain_of[q] == m->domain_of[p])
			apply_scope(s, erat_of(m, q), sc);
}

/* SLBIA IH=7/6: every guest entry of the group's ERATs (the host's LPID 0 is not modelled). */
static void erat_invalidate(const struct vt_model *m, struct vt_state *s, int p)
{
	for (int q = 0; q < m->npcpus; q++) {
		if (m->domain_of[q] != m->domain_of[p])
			continue;
		struct vt_tlb_dom *d = &s->dom[erat_of(m, q)];
		for (int i = 0; i < VT_MAX_SLOTS; i++)
			if (d->slot[i].key != VT_KEY_NONE && (d->slot[i].s || !vt_set_empty(&d->slot[i].u))) {
				vt_dom_mark(s, erat_of(m, q)); /* only an ERAT with an entry is written */
				memset(&d->slot[i].u, 0, sizeof(d->slot[i].u));
				d->slot[i].s = 0;
			}
	}
}

static void ppc_insn(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key, uint64_t arg,
		     struct vt_trace *tr)
{
	struct scope sc;
	vt_trace_insn(tr, p, insn, key, arg);
	switch (insn) {
	case VT_PPC_TLBIEL_VA:
	case VT_PPC_TLBIEL_PID:
		if (scope_of(m, insn, key, arg, &sc)) {
			apply_scope(s, m->domain_of[p], &sc);
			apply_group_erats(m, s, p, &sc);
		}
		break;
	case VT_PPC_TLBIEL_LPID:
		/* congruence class, every set: the TLB only; the ERATs keep their entries */
		if (scope_of(m, insn, key, arg, &sc))
			apply_scope(s, m->domain_of[p], &sc);
		break;
	case VT_PPC_SLBIA_ERAT:
		erat_invalidate(m, s, p);
		break;
	case VT_PPC_TLBIE_VA:
	case VT_PPC_TLBIE_PID:
	case VT_PPC_TLBIE_LPID:
	case VT_PPC_TLBIE_GPA:
		pend_add(m, s, p, insn, key, arg, tr);
		break;
	case VT_PPC_TLBSYNC:
		pend_sync(s, p);
		break;
	case VT_PPC_PTESYNC:
		pend_complete(m, s, p);
		break;
	default: /* eieio, the page-walk-cache forms */
		break;
	}
}

/* A guest instruction executed natively, under the LPID in LPIDR. */
static void ppc_native(const struct vt_model *m, struct vt_state *s, int p, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	uint32_t lpid = s->pcpu[p].key;
	bool local = op->code == VT_PPC_OP_TLBIEL;
	unsigned insn;
	switch (op->code) {
	case VT_PPC_OP_TLBIEL:
	case VT_PPC_OP_TLBIE:
		if (vt_ppc_op_ric(op) == 1)
			insn = local ? VT_PPC_TLBIEL_PWC : VT_PPC_TLBIE_PWC;
		else if (op->target == 0)
			insn = local ? VT_PPC_TLBIEL_VA : VT_PPC_TLBIE_VA;
		else
			insn = local ? VT_PPC_TLBIEL_PID : VT_PPC_TLBIE_PID;
		ppc_insn(m, s, p, insn, vt_ppc_rs(lpid, vt_ppc_op_pid(m, op, old)), op->target == 0 ? op->a : 0, tr);
		return;
	case VT_PPC_OP_EIEIO:
		ppc_insn(m, s, p, VT_PPC_EIEIO, 0, 0, tr);
		return;
	case VT_PPC_OP_TLBSYNC:
		ppc_insn(m, s, p, VT_PPC_TLBSYNC, 0, 0, tr);
		return;
	case VT_PPC_OP_PTESYNC:
		ppc_insn(m, s, p, VT_PPC_PTESYNC, 0, 0, tr);
		return;
	default: /* mtpid, mmu: no invalidation */
		return;
	}
}

static void ppc_fmt_key(uint32_t key, char *buf, size_t len)
{
	snprintf(buf, len, "LPID %u", key);
}

static void ppc_fmt_operand(unsigned insn, uint32_t key, char *buf, size_t len)
{
	switch (insn) {
	case VT_PPC_TLBIEL_VA:
	case VT_PPC_TLBIEL_PID:
	case VT_PPC_TLBIEL_PWC:
	case VT_PPC_TLBIE_VA:
	case VT_PPC_TLBIE_PID:
	case VT_PPC_TLBIE_PWC:
		snprintf(buf, len, "LPID %u PID %u", vt_ppc_rs_lpid(key), vt_ppc_rs_pid(key));
		return;
	case VT_PPC_TLBIEL_LPID:
	case VT_PPC_TLBIE_LPID:
	case VT_PPC_TLBIE_GPA:
		snprintf(buf, len, "LPID %u", key);
		return;
	case VT_PPC_SLBIA_ERAT:
		snprintf(buf, len, "the core's ERATs, guest entries");
		return;
	default:
		snprintf(buf, len, "this thread");
	}
}

const struct vt_hw_ops vt_ppc_hw_ops = {
	.name = "ppc-radix",
	.insn_names = ppc_insn_names,
	.ninsns = VT_PPC_INSN_COUNT,
	.domain = ppc_domain,
	.ndomains = ppc_ndomains,
	.lookup_dom = ppc_lookup_dom,
	.native = ppc_native,
	.reach = ppc_reach,
	.fill = ppc_fill,
	.insn = ppc_insn,
	.fmt_key = ppc_fmt_key,
	.fmt_operand = ppc_fmt_operand,
};
