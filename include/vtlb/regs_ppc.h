/*
 * POWER guest registers that decide radix translation (Power ISA v3.0B
 * Book III): PIDR and MSR[IR|DR].  Owned by the POWER files; at most 16 bytes.
 */
#ifndef VTLB_REGS_PPC_H
#define VTLB_REGS_PPC_H

#include <stdint.h>

struct vt_ppc_regs {
	int8_t pid;        /* space in PIDR, or -1 */
	uint8_t mmu;       /* MSR[IR|DR] */
	uint8_t pad[14];
};

#endif
