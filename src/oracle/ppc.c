/*
 * The POWER radix oracle: which translations a vCPU of a radix guest may
 * still observe (Power ISA v3.0B Book III §6.10.2 tlbie and tlbiel, Book II
 * §4.4.3 ptesync and tlbsync).
 *
 * Completion.  An invalidation is required to be complete only when the
 * issuing processor's sequence has completed; until then the translations
 * stay permitted (the most permissive legal TLB):
 *
 *   tlbiel ...; ptesync              at this vCPU's ptesync
 *   tlbie ...; eieio; tlbsync; ptesync
 *                                    for every vCPU of the VM (the
 *                                    partition), at the ptesync that follows
 *                                    the issuer's tlbsync
 *
 * Sharing.  Threads of a processor may share TLB entries: tlbiel is defined
 * to invalidate the matching entries "for each thread" of the processor, and
 * on POWER9 the threads of a core share one TLB.  A radix guest therefore
 * uses tlbiel only for translations that no other CPU may hold (Linux:
 * mm_is_thread_local; a29ebeaf5575: "translations that have only ever been
 * accessed on one vcpu"), and KVM's need_tlb_flush logic is built on that.
 * The oracle encodes it: what one vCPU may still use (its own: cached while
 * live in its context, not yet invalidated by its own tlbiel or by a tlbie)
 * any vCPU of the partition may use, in that context.  So a tlbiel is a
 * promise only once no other vCPU holds the translation, and a vCPU switching
 * into a context may see what a sibling cached there until the sibling's
 * flush completes, the window a guest already tolerates between unmapping a
 * page and completing its flush.  A guest that relies on a local flush while
 * another vCPU holds the translation is outside this oracle (see
 * docs/questions-ppc.md).
 *
 * Representation: s->vcpu[v].permitted is v's own set plus what it borrows
 * from the others (o.ppc.borrowed), recomputed after every operation.
 * XXX: a borrowed translation that becomes live for v, is cached by v and is
 * unmapped again without an operation of this oracle in between stays
 * borrowed; when its owners invalidate it v loses it although v may hold
 * its own copy (a possible false report, never a hidden one).
 *
 * Refills come from the common oracle fill in step.c.  Nothing here reads
 * hardware or hypervisor state.
 */
#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/ppc.h"

/* What v's current context maps now (translations it may cache itself). */
static struct vt_set live_now(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_gctx g;
	struct vt_set none = {{0}};
	m->aops->gctx(m, &s->vcpu[v].g, &g);
	if (!g.paging || g.ctx < 0)
		return none;
	return vt_live_t(m, s, g.space, g.ctx, false);
}

/*
 * v's own translations: those it holds and did not borrow, and what its
 * context maps now (the step's fill, which runs after this oracle, adds it).
 */
static struct vt_set own(const struct vt_model *m, const struct vt_state *s, int v)
{
	struct vt_set r = vt_set_minus(&s->vcpu[v].permitted, &s->vcpu[v].o.ppc.borrowed);
	struct vt_set live = live_now(m, s, v);
	vt_set_or(&r, &live);
	return r;
}

/* permitted = own + what any other vCPU of the partition owns. */
static void share(const struct vt_model *m, struct vt_state *s, int vm)
{
	const struct vt_vm *d = &m->vm[vm];
	struct vt_set owned[VT_MAX_VCPUS];
	for (int w = 0; w < d->nvcpus; w++)
		owned[w] = own(m, s, d->first_vcpu + w);
	for (int w = 0; w < d->nvcpus; w++) {
		struct vt_set others = {{0}};
		for (int u = 0; u < d->nvcpus; u++)
			if (u != w)
				vt_set_or(&others, &owned[u]);
		struct vt_vcpu_state *vs = &s->vcpu[d->first_vcpu + w];
		vs->o.ppc.borrowed = vt_set_minus(&others, &owned[w]);
		vs->permitted = vt_set_union(&owned[w], &vs->o.ppc.borrowed);
	}
}

static void ppc_oracle_op(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
			  const union vt_gregs *old)
{
	struct vt_oracle_ppc *o = &s->vcpu[v].o.ppc;
	int vm = m->vcpu_vm[v];
	const struct vt_vm *d = &m->vm[vm];
	struct vt_set none = {{0}};
	switch (op->code) {
	case VT_PPC_OP_TLBIEL: {
		struct vt_set mask = vt_ppc_scope_tmask(m, op, old, vm);
		vt_set_or(&o->local, &mask);
		break;
	}
	case VT_PPC_OP_TLBIE: {
		struct vt_set mask = vt_ppc_scope_tmask(m, op, old, vm);
		vt_set_or(&o->bcast, &mask);
		break;
	}
	case VT_PPC_OP_TLBSYNC:
		vt_set_or(&o->synced, &o->bcast);
		o->bcast = none;
		break;
	case VT_PPC_OP_PTESYNC: {
		/* v's own copies go (a borrowed copy stays while its owner holds it) ... */
		struct vt_set mine = own(m, s, v);
		vt_set_and(&mine, &o->local);
		vt_set_clear(&s->vcpu[v].permitted, &mine);
		vt_set_clear(&s->vcpu[v].permitted, &o->local);
		/* ... and a completed tlbie takes the translations from everyone. */
		for (int w = d->first_vcpu; w < d->first_vcpu + d->nvcpus; w++) {
			vt_set_clear(&s->vcpu[w].permitted, &o->synced);
			vt_set_clear(&s->vcpu[w].o.ppc.borrowed, &o->synced);
		}
		o->local = none;
		o->synced = none;
		break;
	}
	default: /* mtpid, mmu on/off, eieio: nothing is invalidated */
		break;
	}
	share(m, s, vm);
}

const struct vt_oracle_ops vt_ppc_oracle_ops = {
	.guest_op = ppc_oracle_op,
};
