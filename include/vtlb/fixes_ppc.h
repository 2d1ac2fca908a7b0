/* POWER fix ids (catalogue in src/fixes_ppc.c). */
#ifndef VTLB_FIXES_PPC_H
#define VTLB_FIXES_PPC_H

enum vt_fix_ppc {
	VT_FIX_PPC_RADIX_VCPU_MOVE = VT_FIX_PPC_BASE,
	VT_FIX_PPC_IPI_OLD_CORE,
	VT_FIX_PPC_CLEAR_AFTER_FLUSH,
	VT_FIX_PPC_END
};

#endif
