/*
 * POWER (Power ISA v3.0B/v3.1, radix MMU) definitions shared by the POWER
 * guest, oracle, hardware and KVM Book3S HV files: guest operation codes,
 * the invalidation instructions the hardware executes (trace codes), how
 * their RS operand is packed into a 32-bit tag, and the scope of a guest
 * invalidation in terms of guest tags.
 *
 * Radix has no global bit: a process-scoped translation is tagged by
 * (LPID, PID, EA), a partition-scoped one by (LPID, guest real address).
 * The guest's own tag (the model's "context") is the PID.
 */
#ifndef VTLB_PPC_H
#define VTLB_PPC_H

#include <stdint.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"

enum vt_ppc_op {
	VT_PPC_OP_MTPID = VT_OP_ARCH, /* mtspr PIDR: space */
	VT_PPC_OP_MMU,                /* mtmsrd IR|DR: a = 1 on, 0 off */
	VT_PPC_OP_TLBIEL,             /* target = IS (0 va, 1 pid), a = va, b = PID or VT_PPC_PID_CUR; RIC in flags */
	VT_PPC_OP_TLBIE,              /* the same operands, broadcast */
	VT_PPC_OP_EIEIO,
	VT_PPC_OP_TLBSYNC,
	VT_PPC_OP_PTESYNC,
	VT_PPC_OP_END
};

/* op->b of a tlbie/tlbiel without an explicit PID: the PID in PIDR. */
#define VT_PPC_PID_CUR 0xffffffffu

/* RIC lives in op->flags above the common flags. */
#define VT_PPC_RIC_SHIFT 8
static inline unsigned vt_ppc_op_ric(const struct vt_op *op)
{
	return (op->flags >> VT_PPC_RIC_SHIFT) & 3u;
}

/*
 * Hardware instructions (trace codes).  Process-scoped forms (PRS=1, R=1)
 * take their tag as vt_ppc_rs(lpid, pid); partition-scoped and LPID-wide
 * forms take the LPID.  tlbiel acts on the issuing thread's TLB group at
 * once; tlbie is performed on every TLB only when the issuing thread has
 * executed tlbsync and then ptesync (Book II §4.4, Book III §6.10).  Each
 * reaches the ERATs of the threads whose TLB it reaches, except the
 * congruence-class tlbiel (VT_PPC_TLBIEL_LPID), which leaves them (see
 * src/arch/ppc_radix.c).
 */
enum vt_ppc_insn {
	VT_PPC_TLBIEL_VA,   /* IS=0 RIC=0 PRS=1: (LPID, PID, EA) */
	VT_PPC_TLBIEL_PID,  /* IS=1 RIC=0|2 PRS=1: (LPID, PID) */
	VT_PPC_TLBIEL_PWC,  /* IS=1 RIC=1: page-walk cache only (not modelled: removes no TLB entry) */
	VT_PPC_TLBIEL_LPID, /* IS=2 PRS=1, every set: all process-scoped entries of the LPID (KVM's flush_guest_tlb) */
	VT_PPC_TLBIE_VA,    /* broadcast forms of the above */
	VT_PPC_TLBIE_PID,
	VT_PPC_TLBIE_PWC,
	VT_PPC_TLBIE_LPID,
	VT_PPC_TLBIE_GPA,   /* IS=0 PRS=0: partition-scoped entries for a guest real address, and what was derived from them */
	VT_PPC_EIEIO,
	VT_PPC_TLBSYNC,
	VT_PPC_PTESYNC,
	VT_PPC_SLBIA_ERAT,  /* SLBIA IH=7 or 6 (PPC_INVALIDATE_ERAT, PPC_RADIX_INVALIDATE_ERAT_GUEST): the ERATs' guest entries */
	VT_PPC_INSN_COUNT
};

/*
 * RS of a process-scoped tlbie(l) is PID in bits 0:31 and LPID in bits
 * 32:63; the model's 32-bit tag keeps the same order in 16-bit halves
 * (so a host instrument writes "key 0x10002" for PID 1, LPID 2).
 */
static inline uint32_t vt_ppc_rs(uint32_t lpid, uint32_t pid)
{
	return (pid << 16) | (lpid & 0xffffu);
}

static inline uint32_t vt_ppc_rs_lpid(uint32_t rs)
{
	return rs & 0xffffu;
}

static inline uint32_t vt_ppc_rs_pid(uint32_t rs)
{
	return rs >> 16;
}

/* The LPID KVM gives VM vm: kvmppc_alloc_lpid() hands out the lowest free one; the host has 0. */
static inline uint32_t vt_ppc_lpid(int vm)
{
	return (uint32_t)vm + 1;
}

/*
 * The PID a tlbie(l) names: its explicit operand, or the PID in PIDR (0 if
 * PIDR was never loaded).
 */
uint32_t vt_ppc_op_pid(const struct vt_model *m, const struct vt_op *op, const union vt_gregs *r);

/*
 * What a guest tlbie/tlbiel invalidates, as a mask over T (translations of
 * VM vm; empty for RIC=1, which removes only page-walk-cache entries) and
 * the same scope over U for the hardware (entries with that PID value).
 */
struct vt_set vt_ppc_scope_tmask(const struct vt_model *m, const struct vt_op *op, const union vt_gregs *r, int vm);

#endif
