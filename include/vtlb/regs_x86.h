/* x86 guest registers that decide translation (SDM vol. 3 §2.5). */
#ifndef VTLB_REGS_X86_H
#define VTLB_REGS_X86_H

#include <stdint.h>

struct vt_x86_regs {
	uint32_t cr0;
	uint32_t cr4;
	int8_t cr3;        /* space loaded in CR3, or -1 (CR3 = 0) */
	uint8_t efer;      /* EFER.LME (X86_EFER_LME) */
	uint8_t pad[6];
};

#endif
