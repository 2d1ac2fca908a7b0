/*
 * arm64 guest registers that decide EL1&0 stage-1 translation (Arm ARM
 * D8): TTBR0_EL1 (its table, ASID and CnP bit; TCR_EL1.A1 = 0, so the ASID
 * comes from TTBR0) and SCTLR_EL1.M.  Owned by the arm64 files; at most
 * 16 bytes.
 */
#ifndef VTLB_REGS_ARM64_H
#define VTLB_REGS_ARM64_H

#include <stdint.h>

struct vt_arm64_regs {
	int8_t ttbr0;      /* space in TTBR0_EL1 (its ASID is the space's), or -1 */
	uint8_t mmu;       /* SCTLR_EL1.M */
	uint8_t cnp;       /* TTBR0_EL1.CnP */
	uint8_t pad[13];
};

#endif
