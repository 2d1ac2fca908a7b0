/*
 * Nested VMX inside the x86 guest layer: the parsers, execution and
 * formatting of L1's hypervisor operations (src/guest/x86_nested.c), and
 * the model's L2 guest-physical entries.
 */
#ifndef VTLB_GUEST_X86_NESTED_H
#define VTLB_GUEST_X86_NESTED_H

#include <stddef.h>

#include "vtlb/ops.h"

struct vt_parser;

int vt_x86_parse_vmptrld(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_vmlaunch(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_vmexit(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_invvpid(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_invept(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_ept12(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_vmrun(struct vt_parser *p, struct vt_op *op);
int vt_x86_parse_invlpga(struct vt_parser *p, struct vt_op *op);

enum vt_exec vt_x86_nested_exec(const struct vt_model *m, struct vt_state *s, int v, const struct vt_op *op,
				const char **why);
void vt_x86_nested_fmt_op(const struct vt_model *m, const struct vt_op *op, char *buf, size_t len);

/*
 * The S entry of L2 VM l2 mapping its gpa2 to L1's gpa1 (resolved through
 * L1's initial stage-2 entry for gpa1, made by default if none is declared);
 * -1 when the universe is full.
 */
int vt_x86_l2_entry(struct vt_model *m, int l2, uint64_t gpa2, uint64_t gpa1);
/* Before vt_model_finish: an L2 without EPT12 uses L1's memory directly. */
int vt_x86_nested_finish(struct vt_model *m, char *err, size_t len);

#endif
