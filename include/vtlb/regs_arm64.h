/*
 * arm64 guest registers that decide EL1&0 stage-1 translation (Arm ARM
 * D8): TTBR0_EL1 (its ASID with it) and SCTLR_EL1.M.  Owned by the arm64
 * files; at most 16 bytes.
 */
#ifndef VTLB_REGS_ARM64_H
#define VTLB_REGS_ARM64_H

#include <stdint.h>

struct vt_arm64_regs {
	int8_t ttbr0;      /* space in TTBR0_EL1, or -1 */
	uint8_t mmu;       /* SCTLR_EL1.M */
	uint8_t pad[14];
};

#endif
