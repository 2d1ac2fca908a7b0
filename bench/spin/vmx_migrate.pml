/*
 * KVM VMX with EPT and VPID: per-pCPU TLBs tagged by VPID, the
 * KVM_REQ_TLB_FLUSH that vmx_vcpu_load_vmcs() requests when a vCPU's VMCS
 * was last loaded on another pCPU, and a guest that remaps its own page and
 * invalidates it locally with INVLPG, under every schedule of load, entry,
 * preemption and guest steps within the preemption and migration bounds.
 *
 * The Promela counterpart of vtlb's scenarios/explore/vmx-migrate-flush.vtlb
 * (NV 1, NP 2, program ACCESS MAP INVLPG ACCESS, 2 preemptions, 2
 * migrations) and bench/scenarios/scale-vmx-3vcpu.vtlb (-DSCALE: NV 3,
 * NP 3, program MAP INVLPG, 3 preemptions, 2 migrations).  How faithful it
 * is, and what it leaves out, is in bench/spin/README.md.  -DFIX=0 reverts
 * the fix (no flush on a pCPU change): SPIN then finds the stale access.
 *
 * Each transition is one d_step, as each vtlb step is one event: after it
 * the hardware TLB of the vCPU's pCPU fills with the current translation
 * (a maximal TLB: whatever was valid may be cached), the architecture's
 * per-vCPU set does the same, and the invariant is checked: a vCPU in guest
 * mode can reach no translation its architecture has removed.
 * Translations are 2-bit sets: bit 0 the page's first mapping, bit 1 the
 * remapped one.
 */
#ifndef FIX
#define FIX 1
#endif

#ifdef SCALE
#define NV 3
#define NP 3
#define NPROG 2
#define PREEMPTIONS 3
#define MIGRATIONS 2
#else
#define NV 1
#define NP 2
#define NPROG 4
#define PREEMPTIONS 2
#define MIGRATIONS 2
#endif

#define NONE 255
#define IDLE 0
#define LOADED 1
#define GUEST 2

#define ACCESS 0
#define MAP 1
#define INVLPG 2

byte prog[NPROG];
byte st[NV];          /* IDLE, LOADED (vcpu_load done, not in the guest), GUEST */
byte on[NV];           /* pCPU the vCPU is loaded on, NONE */
byte last[NV];         /* pCPU it last ran on (set when preempted), NONE: for the migration bound */
byte loaded_cpu[NV];   /* KVM: loaded_vmcs->cpu */
bit req_flush[NV];     /* KVM_REQ_TLB_FLUSH pending */
byte pc[NV];           /* next operation of its program */
bit remapped[NV];      /* the guest page table: 0 first mapping, 1 the new one */
byte arch[NV];         /* what the architecture lets the vCPU observe (a private TLB) */
byte tlb[NV * NP];     /* hardware: pCPU p's combined mappings tagged with vCPU v's VPID, at [p * NV + v] */
bit root[NV];          /* KVM: the vCPU has a valid MMU root (kvm_mmu_load at its first entry) */
byte key[NP];          /* the pCPU's tag (vCPU + 1) since the last VM entry on it, 0: none; vtlb keeps it too */
byte loaded_on[NP];    /* vCPU loaded on the pCPU, NONE */
byte preemptions, migrations;

#define CUR(v) (1 << remapped[v])

/* after every step: fill (maximal TLBs), then check every vCPU in the guest */
#define SETTLE \
	v = 0; \
	do \
	:: v < NV -> \
		arch[v] = arch[v] | CUR(v); \
		if \
		:: st[v] == GUEST -> \
			tlb[on[v] * NV + v] = tlb[on[v] * NV + v] | CUR(v); \
			assert((tlb[on[v] * NV + v] & ~arch[v]) == 0) \
		:: else -> skip \
		fi; \
		v++ \
	:: else -> break \
	od; \
	v = 0

/* load: vcpu_load -> vmx_vcpu_load_vmcs: a VMCS last loaded elsewhere requests a flush */
#define LOAD(V, P) \
	:: d_step { st[V] == IDLE && loaded_on[P] == NONE && \
		    (last[V] == NONE || last[V] == P || migrations < MIGRATIONS) -> \
		if :: last[V] != NONE && last[V] != P -> migrations++ :: else -> skip fi; \
		st[V] = LOADED; on[V] = P; loaded_on[P] = V; \
		if :: loaded_cpu[V] != P && FIX -> req_flush[V] = 1 :: else -> skip fi; \
		loaded_cpu[V] = P; \
		SETTLE }

/*
 * entry: vcpu_enter_guest services KVM_REQ_TLB_FLUSH: kvm_vcpu_flush_tlb_all
 * -> vmx_flush_tlb_all, with EPT an INVEPT global: every combined mapping on
 * this pCPU, of every VPID, goes (SDM 28.3.3.1).  The first entry's
 * kvm_mmu_load (new root, INVEPT single of the VM's EPTP) always follows
 * such a flush (the first load always requests one) and removes nothing more.
 */
#define ENTER(V) \
	:: d_step { st[V] == LOADED -> \
		if \
		:: req_flush[V] -> \
			v = 0; \
			do \
			:: v < NV -> tlb[on[V] * NV + v] = 0; v++ \
			:: else -> break \
			od; \
			req_flush[V] = 0 \
		:: else -> skip \
		fi; \
		st[V] = GUEST; key[on[V]] = V + 1; root[V] = 1; \
		SETTLE }

/* preemption: VM exit if in the guest, vcpu_put */
#define PUT(V) \
	:: d_step { st[V] != IDLE && preemptions < PREEMPTIONS -> \
		preemptions++; \
		last[V] = on[V]; loaded_on[on[V]] = NONE; on[V] = NONE; st[V] = IDLE; \
		SETTLE }

/*
 * the next guest operation: a remap (the old translation stays permitted
 * until invalidated, SDM vol. 3 4.10.4), or INVLPG, executed natively
 * with EPT: only this pCPU's entries of the current VPID (SDM 28.3.3.1)
 */
#define OP(V) \
	:: d_step { st[V] == GUEST && pc[V] < NPROG -> \
		if \
		:: prog[pc[V]] == MAP -> remapped[V] = 1 \
		:: prog[pc[V]] == INVLPG -> arch[V] = 0; tlb[on[V] * NV + V] = 0 \
		:: else -> skip \
		fi; \
		pc[V]++; \
		SETTLE }

active proctype machine()
{
	byte v;
	d_step {
#ifdef SCALE
		prog[0] = MAP; prog[1] = INVLPG;
#else
		prog[0] = ACCESS; prog[1] = MAP; prog[2] = INVLPG; prog[3] = ACCESS;
#endif
		v = 0;
		do
		:: v < NV -> st[v] = IDLE; on[v] = NONE; last[v] = NONE; loaded_cpu[v] = NONE; v++
		:: else -> break
		od;
		v = 0;
		do
		:: v < NP -> loaded_on[v] = NONE; v++
		:: else -> break
		od;
		SETTLE
	}
end:
	do
	LOAD(0, 0)
	LOAD(0, 1)
#if NP > 2
	LOAD(0, 2)
#endif
	ENTER(0)
	PUT(0)
	OP(0)
#if NV > 1
	LOAD(1, 0)
	LOAD(1, 1)
	LOAD(1, 2)
	ENTER(1)
	PUT(1)
	OP(1)
	LOAD(2, 0)
	LOAD(2, 1)
	LOAD(2, 2)
	ENTER(2)
	PUT(2)
	OP(2)
#endif
	od
}
