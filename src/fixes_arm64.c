/*
 * The arm64 part of the fix catalogue (see src/fixes.c).  Placeholder until
 * the arm64 backend is built.
 */
#include <stddef.h>

#include "vtlb/fixes.h"

const struct vt_fix_info vt_fixes_arm64[] = {
	{.name = NULL},
};
