/*
 * Internal interface between the x86 hardware files (x86.c, x86_vmx.c,
 * x86_svm.c).
 */
#ifndef VTLB_ARCH_X86_H
#define VTLB_ARCH_X86_H

#include "vtlb/bits.h"
#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/x86.h"

extern const char *const vt_vmx_insn_names[VT_X86_INSN_COUNT];
extern const char *const vt_svm_insn_names[VT_X86_INSN_COUNT];

/* Combined entries a natively executed guest op removes (any VM; the caller picks the tag). */
struct vt_set vt_x86_native_mask(const struct vt_model *m, const struct vt_state *s, int pcpu,
				 const struct vt_op *op, const union vt_gregs *old);

#endif
