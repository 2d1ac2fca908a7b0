/*
 * Named fixes: each hypervisor behaviour that a real patch added.
 *
 * All fixes are in place by default; reverting one (model->reverted)
 * restores the logic from before that patch.  The catalogue records for each
 * its kind, origin (commit subject, year) and rule in one sentence:
 *
 *   correctness  reverting it lets some scenario reach a stale translation
 *   cost         reverting it changes only which or how many invalidations run
 *   latent       reverting it alone is harmless in the modelled KVM, because
 *                other named behaviours cover for it; it breaks together
 *                with them (listed in 'partners')
 */
#ifndef VTLB_FIXES_H
#define VTLB_FIXES_H

#include "vtlb/model.h"

enum vt_fix_kind {
	VT_FIX_CORRECTNESS,
	VT_FIX_COST,
	VT_FIX_LATENT,
	VT_FIX_KIND_COUNT
};

/*
 * Fix ids: a bit each in a struct vt_fixset (model->reverted).  Each architecture numbers its own
 * from its base, in its own header, and keeps its catalogue in its own file
 * (src/fixes.c for x86, src/fixes_arm64.c, src/fixes_ppc.c).
 */
enum {
	VT_FIX_X86_BASE = 0,
	VT_FIX_ARM64_BASE = 64,
	VT_FIX_PPC_BASE = 96,
	VT_FIX_COUNT = 64 * VT_FIXSET_WORDS
};

enum vt_fix_x86 {
	VT_FIX_X86_INIT_FLUSH = VT_FIX_X86_BASE,
	VT_FIX_X86_INIT_PG_FLUSH,
	VT_FIX_X86_CR_FLUSH_SPLIT,
	VT_FIX_X86_VENDOR_RESET_FLUSH,
	VT_FIX_X86_NEW_ROOT_FLUSH,
	VT_FIX_X86_PCIDE_UNLOAD,
	VT_FIX_X86_PCID_ALL_PGDS,
	VT_FIX_X86_INVLPG_PREV_ROOTS,
	VT_FIX_X86_GUEST_FLUSH_SYNC,
	VT_FIX_X86_INVALIDATE_PCID_TDP,
	VT_FIX_X86_VMX_GUEST_FLUSH_VPID,
	VT_FIX_X86_VMX_MIGRATE_FLUSH,
	VT_FIX_X86_SVM_CPU_NEW_ASID,
	VT_FIX_X86_PGE_NO_RESET,
	VT_FIX_X86_PV_PREEMPTED_ONCE,
	VT_FIX_X86_PV_FLUSH_XCHG,
	VT_FIX_X86_SREGS_FLUSH,
	VT_FIX_X86_HV_FLUSH_GENTLY,
	VT_FIX_X86_SVM_ASID_ROLLOVER_FLUSH,
	VT_FIX_X86_GET_PAGE_SYNC,
	VT_FIX_X86_INVPCID_ALL_FLUSH_GUEST,
	VT_FIX_X86_PV_USER_NOT_PREEMPTED,
	VT_FIX_X86_SYNC_REMOTE_FLUSH,
	VT_FIX_X86_SYNC_BEFORE_LINK,
	VT_FIX_X86_ENTRY_MODE_MB,
	VT_FIX_X86_FAULT_RETRY_IN_PROGRESS,
	VT_FIX_X86_FAULT_RETRY_SEQ,
	VT_FIX_X86_VMX_FLUSH_ALL_EPTP,
	VT_FIX_X86_TDP_ZAP_YIELD_FLUSH,
	VT_FIX_X86_TDP_NX_ZAP_FLUSH,
	VT_FIX_X86_NVMX_INVVPID_VPID02,
	VT_FIX_X86_NVMX_INVVPID_LINEAR,
	VT_FIX_X86_NVMX_TRANSITION_SYNC,
	VT_FIX_X86_NVMX_VPID12_FLUSH,
	VT_FIX_X86_NVMX_SHARED_TAG_FLUSH,
	VT_FIX_X86_NSVM_TRANSITION_FLUSH,
	VT_FIX_X86_END
};

#include "vtlb/fixes_arm64.h"
#include "vtlb/fixes_ppc.h"

struct vt_fix_info {
	int id;                 /* its enum value */
	const char *name;
	enum vt_arch arch;
	enum vt_fix_kind kind;
	const char *origin;     /* commit subject (hash), author, year */
	const char *rule;       /* the rule, one sentence */
	const char *partners;   /* latent: the named behaviours that cover for it */
	const char *scenario;   /* bundled scenario that shows it */
	int modelled;           /* 0: named for the catalogue but not (yet) modelled */
	/*
	 * Mainline releases (docs/notes/kernel-releases.md says how each was
	 * checked).  A release V lacks the fix when
	 *   V < since && (hole == NULL || V >= hole)    or    until && V >= until.
	 * since: first release with the fix; NULL: long-standing, older than any
	 *        release the catalogue distinguishes (the origin says why).
	 * hole:  first release with the bug it fixes (the commit a "Fixes:" tag
	 *        names, or the one that added the code the fix protects); NULL:
	 *        the bug is as old as the code.  Releases before the hole had
	 *        no such bug, so they count as having the fix: that keeps
	 *        --kernel from pairing a reverted fix with code that came later.
	 *        hole == since: no release had the bug.
	 * until: first release without it (reverted, or superseded by logic
	 *        that no longer has the property); NULL: still present.
	 */
	const char *since;
	const char *hole;
	const char *until;
	int verified;           /* 1: every release above checked in kernel history; 0: best evidence */
};

/* Catalogue entry of a fix id, or NULL if no fix has that id. */
const struct vt_fix_info *vt_fix_info(unsigned fix);

/* The per-architecture catalogues, each ending with an entry whose name is NULL. */
extern const struct vt_fix_info vt_fixes_x86[];
extern const struct vt_fix_info vt_fixes_arm64[];
extern const struct vt_fix_info vt_fixes_ppc[];
/* Fix id by name, or -1. */
int vt_fix_lookup(const char *name);

/*
 * Kernel releases: "vX.Y" (v3.0 and later) or "v2.6.Z", mainline only
 * (stable releases carry backports the catalogue does not track).  Parsed
 * into a number that orders releases; 0 on anything else.
 */
uint32_t vt_kernel_parse(const char *s);
/* Is fix f's logic present in release k (vt_kernel_parse)? */
int vt_fix_in_kernel(const struct vt_fix_info *f, uint32_t k);
/* Every fix whose logic release k lacks. */
struct vt_fixset vt_kernel_reverted(uint32_t k);
/* The releases of a fix in words ("since v5.15", ...), into buf. */
void vt_fix_releases(const struct vt_fix_info *f, char *buf, size_t len);
const char *vt_fix_kind_name(enum vt_fix_kind k);
const char *vt_arch_name(enum vt_arch a);

#endif
