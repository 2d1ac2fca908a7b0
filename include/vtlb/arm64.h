/*
 * arm64 definitions shared by the arm64 guest, oracle, hardware and KVM
 * files: guest operation codes, the TLBI operations and their scopes (Arm
 * ARM DDI0487 D8.17 "TLB maintenance", C5.5 TLBI instruction pages), the
 * hardware instruction codes, and how a TLB tag is encoded.
 *
 * Tags.  A TLB slot is keyed by the VMID alone: the VMID in VTTBR_EL2 of the
 * PE that filled it.  Guest translations carry their ASID (non-global
 * entries) inside the slot, as the context of the translation.  An
 * instruction's operand ('key' in the ops tables) is the VMID in bits 7:0
 * and, for the by-ASID and by-VA forms, the ASID in bits 23:8:
 *
 *      key = ASID << 8 | VMID          (host instruments: key 0x101 = ASID 1, VMID 1)
 *
 * TLBI IPAS2E1 takes its IPA in 'arg' (the "va" of a host instrument) or,
 * as KVM issues it here, as a page number in bits 31:8 of the key, so the
 * trace can print it as an IPA; bits 59:56 of 'arg' then hold the 4-bit
 * TTL field of the architectural operand (D8.17.5.1, Table D8-123; 0: no
 * level hint).  The range form TLBI RIPAS2E1 takes the architectural Xt
 * operand in 'arg', decoded exactly as D8.17.5.2 lays it out (IXPNPP,
 * IHKYNQ): BaseADDR bits 36:0, TTL 38:37, NUM 43:39, SCALE 45:44, TG 47:46;
 * it invalidates [BaseADDR, BaseADDR + (NUM + 1) * 2^(5 * SCALE + 1)
 * granules).
 */
#ifndef VTLB_ARM64_H
#define VTLB_ARM64_H

#include <stdint.h>

#include "vtlb/bits.h"
#include "vtlb/model.h"

/* Guest operations (vt_op.code). */
enum vt_arm64_op {
	VT_A64_TLBI = VT_OP_ARCH,  /* target = enum vt_arm64_tlbi; VT_OPF_IS; a = va; b = asid */
	VT_A64_DSB,                /* target = enum vt_arm64_dsb */
	VT_A64_ISB,
	VT_A64_IC,                 /* target = 0: IC IALLU, 1: IC IALLUIS */
	VT_A64_FETCH,              /* a = va: an instruction fetch (allocates I-cache lines) */
	VT_A64_MSR_TTBR0,          /* space; VT_A64_OPF_CNP: TTBR0_EL1.CnP */
	VT_A64_MSR_SCTLR_M,        /* a = SCTLR_EL1.M */
	VT_A64_OP_END
};

#define VT_A64_OPF_ASID VT_OPF_ARCH          /* tlbi: the ASID operand was written */
#define VT_A64_OPF_CNP (VT_OPF_ARCH << 1)    /* msr ttbr0: CnP set */

/*
 * TLBI operations, without their shareability.  The model holds leaf
 * entries only (no walk caches), so the "last level" forms (VALE1, VAALE1)
 * remove the same entries as VAE1 and VAAE1.
 */
enum vt_arm64_tlbi {
	VT_TLBI_VMALLE1,     /* stage-1 and combined, every ASID and global, current VMID */
	VT_TLBI_VAE1,        /* VA: non-global of ASID, and global (any level) */
	VT_TLBI_VALE1,       /* VA: the same, leaf entries */
	VT_TLBI_VAAE1,       /* VA: every ASID and global */
	VT_TLBI_VAALE1,      /* VA: the same, leaf entries */
	VT_TLBI_ASIDE1,      /* ASID: non-global leaves (global leaves are kept) */
	VT_TLBI_VMALLS12E1,  /* EL2: stage 1, stage 2 and combined, current VMID */
	VT_TLBI_IPAS2E1,     /* EL2: stage-2-only entries for an IPA; combined entries stay */
	VT_TLBI_ALLE1,       /* EL2: everything of EL1&0, every VMID */
	VT_TLBI_RIPAS2E1,    /* EL2, FEAT_TLBIRANGE: stage-2-only entries of an IPA range (D8.17.5.2) */
	VT_TLBI_COUNT
};

/* The first TLBI that only EL2 may execute. */
#define VT_TLBI_FIRST_EL2 VT_TLBI_VMALLS12E1

enum vt_arm64_dsb {
	VT_DSB_NSH,
	VT_DSB_ISH,
	VT_DSB_SY,
	VT_DSB_COUNT
};

/*
 * Hardware instructions (trace and instrument names in src/arch/arm64.c).
 * The TLBIs come in pairs, local then Inner Shareable:
 * VT_A64_I_TLBI(kind, is).
 */
enum vt_arm64_insn {
	VT_A64_I_DSB_NSH = 2 * VT_TLBI_COUNT,  /* completes this PE's local TLBIs */
	VT_A64_I_DSB_ISH,                      /* completes all of this PE's TLBIs */
	VT_A64_I_DSB_ISHST,                    /* orders stores only: completes nothing */
	VT_A64_I_ISB,
	VT_A64_I_IC_IALLU,                     /* this PE's I-cache */
	VT_A64_I_IC_IALLUIS,                   /* every PE's I-cache */
	VT_A64_INSN_COUNT
};

static inline unsigned vt_a64_tlbi_insn(unsigned kind, int is)
{
	return 2 * kind + (is ? 1u : 0u);
}

static inline int vt_a64_insn_is_tlbi(unsigned insn)
{
	return insn < 2 * VT_TLBI_COUNT;
}

static inline unsigned vt_a64_insn_kind(unsigned insn)
{
	return insn / 2;
}

static inline int vt_a64_insn_is_broadcast(unsigned insn)
{
	return vt_a64_insn_is_tlbi(insn) ? (int)(insn & 1) : insn == VT_A64_I_IC_IALLUIS;
}

/* Does a TLBI of this kind take a VA operand?  An ASID operand? */
static inline int vt_arm64_tlbi_by_va(unsigned kind)
{
	return kind == VT_TLBI_VAE1 || kind == VT_TLBI_VALE1 || kind == VT_TLBI_VAAE1 || kind == VT_TLBI_VAALE1;
}

static inline int vt_arm64_tlbi_by_asid(unsigned kind)
{
	return kind == VT_TLBI_VAE1 || kind == VT_TLBI_VALE1 || kind == VT_TLBI_ASIDE1;
}

/* Operand encoding (see the header comment). */
static inline uint32_t vt_a64_key(unsigned vmid, unsigned asid)
{
	return ((uint32_t)asid << 8) | (vmid & 0xffu);
}

static inline unsigned vt_a64_key_vmid(uint32_t key)
{
	return key & 0xffu;
}

static inline unsigned vt_a64_key_asid(uint32_t key)
{
	return (key >> 8) & 0xffffu;
}

/* The IPA operand of TLBI IPAS2E1: 'arg' if given, else the page number in the key. */
#define VT_A64_IPA_MASK (((uint64_t)1 << 48) - 1)
static inline uint64_t vt_a64_ipa(uint32_t key, uint64_t arg)
{
	return (arg & VT_A64_IPA_MASK) ? (arg & VT_A64_IPA_MASK) : (uint64_t)(key >> 8) << 12;
}

/* The 4-bit TTL field KVM passes with TLBI IPAS2E1 (bits 59:56 of 'arg'). */
static inline unsigned vt_a64_ipa_ttl(uint64_t arg)
{
	return (unsigned)(arg >> 56) & 0xfu;
}

static inline uint64_t vt_a64_ipa_arg(uint64_t ipa, unsigned ttl)
{
	return (ipa & VT_A64_IPA_MASK) | ((uint64_t)(ttl & 0xfu) << 56);
}

/* The TTL field of a single-address TLBI for a 4 KiB-granule leaf at 'level' (Table D8-123: TG 01, level). */
static inline unsigned vt_a64_ttl4k(int level)
{
	return level >= 1 && level <= 3 ? (1u << 2) | (unsigned)level : 0;
}

/* A TLB range operand, field by field (Arm ARM DDI0487 D8.17.5.2, rules IXPNPP and IHKYNQ). */
struct vt_a64_range {
	uint64_t base;       /* BaseADDR, as an IPA (4 KiB granule, TCR.DS = 0: bits 36:0 are IPA[48:12]) */
	uint64_t pages;      /* (NUM + 1) * 2^(5 * SCALE + 1) granules */
	unsigned ttl, num, scale, tg;
};

static inline struct vt_a64_range vt_a64_range_decode(uint64_t xt)
{
	struct vt_a64_range r;
	r.base = (xt & (((uint64_t)1 << 37) - 1)) << 12;
	r.ttl = (unsigned)(xt >> 37) & 3u;
	r.num = (unsigned)(xt >> 39) & 31u;
	r.scale = (unsigned)(xt >> 44) & 3u;
	r.tg = (unsigned)(xt >> 46) & 3u;
	r.pages = (uint64_t)(r.num + 1) << (5 * r.scale + 1);
	return r;
}

/*
 * Stage-2 entries (over S) that an invalidation of IPAs [lo, hi) must remove
 * under a level hint (0: none; 1-3: every leaf it means is at that level).
 * A hint is a statement about leaves (D8.17, rules ILTZBK and RSQXYZ): a
 * leaf at another level, or a table entry at the hinted level or below it,
 * is an entry for which the hint is incorrect, and nothing is required of
 * it.  Table entries above the hinted level are on the walk to such a leaf.
 */
uint64_t vt_arm64_s2_range_mask(const struct vt_model *m, uint64_t lo, uint64_t hi, int level);

/*
 * Scopes.  What a TLBI removes, in terms of the guest tags: by ASID value
 * and VA index, for the VM 'vm' over T (the oracle) or for any VM over U
 * (the hardware matches ASID values inside the VMID's slot, whoever filled
 * it).  'va' is the index of the VA in the model (-1: a VA the scenario
 * never maps, which matches nothing).  Stage-2-only entries are over S.
 */
struct vt_set vt_arm64_tlbi_tmask(const struct vt_model *m, unsigned kind, uint32_t asid, int va, int vm);
struct vt_set vt_arm64_tlbi_umask(const struct vt_model *m, unsigned kind, uint32_t asid, int va);
uint64_t vt_arm64_tlbi_smask(const struct vt_model *m, unsigned kind, uint64_t ipa);

/* The ASID a register file's TTBR0_EL1 holds (0 if none). */
uint32_t vt_arm64_asid(const struct vt_model *m, const union vt_gregs *r);

#endif
