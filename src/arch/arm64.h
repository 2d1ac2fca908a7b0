/*
 * Internal interface of the arm64 hardware model (src/arch/arm64.c) for the
 * KVM arm64 backend: instructions issued on behalf of a host thread, and the
 * pCPU renaming of the hardware's own state.
 */
#ifndef VTLB_ARCH_ARM64_H
#define VTLB_ARCH_ARM64_H

#include <stdint.h>

#include "vtlb/arm64.h"
#include "vtlb/model.h"
#include "vtlb/state.h"
#include "vtlb/trace.h"

/*
 * Execute one instruction as 'issuer' (a pCPU, or VT_ARM64_ISSUER_HOST for
 * the host thread that runs a stage-2 change: it is not one of the
 * modelled pCPUs, so only its own DSBs complete its TLBIs).  The trace
 * shows it on pCPU p_trace.
 */
void vt_arm64_insn_as(const struct vt_model *m, struct vt_state *s, int p_trace, int issuer, unsigned insn,
		      uint32_t key, uint64_t arg, struct vt_trace *tr);

/* Rename pCPUs in the hardware's own state (pending TLBIs' issuers). */
void vt_arm64_hw_permute_pcpus(const struct vt_model *m, struct vt_state *s, const int8_t *map);
/* Adds to refs[p] bit VT_ARM64_HW_REFS_SHIFT + i for each pending TLBI i that pCPU p issued. */
#define VT_ARM64_HW_REFS_SHIFT 32
void vt_arm64_hw_pcpu_refs(const struct vt_model *m, const struct vt_state *s, uint64_t *refs);

#endif
