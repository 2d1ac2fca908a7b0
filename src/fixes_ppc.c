/*
 * The POWER part of the fix catalogue (see src/fixes.c).  Placeholder until
 * the POWER backend is built.
 */
#include <stddef.h>

#include "vtlb/fixes.h"

const struct vt_fix_info vt_fixes_ppc[] = {
	{.name = NULL},
};
