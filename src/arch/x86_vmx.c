/*
 * Intel VMX TLB (SDM vol. 3 §28.3 "VMX support for address translation").
 *
 * A slot is keyed by (VPID, EPTP): with EPT in use it holds combined
 * mappings (tagged VPID, PCID and EP4TA) in 'u' and guest-physical mappings
 * (tagged EP4TA only) in 's'; without EPT it holds linear mappings (tagged
 * VPID and PCID; KVM's shadow tables make them guest-linear to host-physical)
 * under EPTP 0.  The host and every guest running without VPID share VPID 0.
 * Each TDP root KVM loads is its own EPTP (src/hv/kvm_vmx.c): a root's
 * entries are created and used only under the current EPTP (§28.3.2), so
 * they stay while the vCPU runs on another root and are usable again when
 * it loads that EPTP again; only an INVEPT of that EP4TA (or global)
 * removes them.
 *
 * Scopes (§28.3.3.1, INVVPID/INVEPT pages):
 *   guest INVLPG/INVPCID/MOV CR  current VPID; linear + combined, all EP4TAs
 *   INVVPID addr/single/all/NG   linear + combined of that VPID (all: VPID != 0)
 *   INVEPT single/global         combined + guest-physical of that EP4TA / all
 *   VM entry/exit, VPID off      everything of VPID 0
 */
#include <stdio.h>

#include "arch/x86.h"
#include "internal.h"
#include "vtlb/trace.h"

static unsigned key_vpid(uint32_t key)
{
	return key >> 8;
}

static unsigned key_eptp(uint32_t key)
{
	return key & 0xff;
}

static void vmx_reach(const struct vt_model *m, const struct vt_state *s, int p, const struct vt_gctx *g,
		      struct vt_set *u, uint64_t *s2)
{
	struct vt_set none = {{0}};
	*u = none;
	*s2 = 0;
	uint32_t key = s->pcpu[p].key;
	if (!g->paging || g->ctx < 0 || key == VT_KEY_NONE)
		return;
	int d = m->domain_of[p];
	struct vt_set use = vt_usable_umask(m, g); /* its PCID's and global ones (SDM §4.10.2.4) */
	for (int i = 0; i < VT_MAX_SLOTS; i++) {
		const struct vt_tlb_slot *sl = &s->dom[d].slot[i];
		if (sl->key == VT_KEY_NONE)
			break;
		if (sl->key == key) {
			struct vt_set x = vt_set_inter(&sl->u, &use);
			vt_set_or(u, &x);
		}
		/* Guest-physical mappings are tagged by the EP4TA alone. */
		if (key_eptp(key) && key_eptp(sl->key) == key_eptp(key))
			*s2 |= sl->s;
	}
}

static int vmx_fill(const struct vt_model *m, struct vt_state *s, int p, const struct vt_set *u, uint64_t s2)
{
	uint32_t key = s->pcpu[p].key;
	if (key == VT_KEY_NONE)
		return 0;
	if (!key_eptp(key))
		s2 = 0; /* no guest-physical mappings without EPT */
	return vt_tlb_fill_fast(s, m->domain_of[p], key, u, s2);
}

/* Apply f to every slot of domain d; the slot's key decides. */
#define VMX_SLOTS(s, d, sl) \
	for (struct vt_tlb_slot *sl = (vt_dom_mark(s, d), (s)->dom[d].slot); sl < (s)->dom[d].slot + VT_MAX_SLOTS && sl->key != VT_KEY_NONE; sl++)

static void vmx_native(const struct vt_model *m, struct vt_state *s, int p, const struct vt_op *op,
		       const union vt_gregs *old, struct vt_trace *tr)
{
	struct vt_set mask = vt_x86_native_mask(m, s, p, op, old);
	unsigned vpid = key_vpid(s->pcpu[p].key);
	VMX_SLOTS(s, m->domain_of[p], sl)
		if (key_vpid(sl->key) == vpid)
			vt_set_clear(&sl->u, &mask);
}

static void vmx_insn(const struct vt_model *m, struct vt_state *s, int p, unsigned insn, uint32_t key,
		     uint64_t arg, struct vt_trace *tr)
{
	int d = m->domain_of[p];
	struct vt_set none = {{0}};
	vt_trace_insn(tr, p, insn, key, arg);
	switch (insn) {
	case VT_VMX_INVVPID_ADDR: {
		int va = vt_model_va_index(m, arg);
		if (va < 0)
			return;
		VMX_SLOTS(s, d, sl)
			if (key_vpid(sl->key) == key)
				vt_set_clear(&sl->u, &m->u_va[va]);
		return;
	}
	case VT_VMX_INVVPID_SINGLE:
		VMX_SLOTS(s, d, sl)
			if (key_vpid(sl->key) == key)
				sl->u = none;
		return;
	case VT_VMX_INVVPID_ALL:
		VMX_SLOTS(s, d, sl)
			if (key_vpid(sl->key) != 0)
				sl->u = none;
		return;
	case VT_VMX_INVVPID_SINGLE_NG:
		VMX_SLOTS(s, d, sl)
			if (key_vpid(sl->key) == key)
				vt_set_and(&sl->u, &m->u_global);
		return;
	case VT_VMX_INVEPT_SINGLE:
		VMX_SLOTS(s, d, sl)
			if (key_eptp(sl->key) == key) {
				sl->u = none;
				sl->s = 0;
			}
		return;
	case VT_VMX_INVEPT_GLOBAL:
		VMX_SLOTS(s, d, sl)
			if (key_eptp(sl->key) != 0) {
				sl->u = none;
				sl->s = 0;
			}
		return;
	case VT_VMX_ENTRY_NOVPID:
	case VT_VMX_EXIT_NOVPID:
		VMX_SLOTS(s, d, sl)
			if (key_vpid(sl->key) == 0)
				sl->u = none;
		return;
	default:
		return;
	}
}

static void vmx_fmt_key(uint32_t key, char *buf, size_t len)
{
	if (key_eptp(key))
		snprintf(buf, len, "VPID %u EPTP %u", key_vpid(key), key_eptp(key));
	else
		snprintf(buf, len, "VPID %u", key_vpid(key));
}

static void vmx_fmt_operand(unsigned insn, uint32_t key, char *buf, size_t len)
{
	switch (insn) {
	case VT_VMX_INVVPID_ADDR:
	case VT_VMX_INVVPID_SINGLE:
	case VT_VMX_INVVPID_SINGLE_NG:
		snprintf(buf, len, "VPID %u", key);
		return;
	case VT_VMX_INVEPT_SINGLE:
		snprintf(buf, len, "EPTP %u", key);
		return;
	case VT_VMX_ENTRY_NOVPID:
	case VT_VMX_EXIT_NOVPID:
		snprintf(buf, len, "VPID 0");
		return;
	default:
		snprintf(buf, len, "all");
	}
}

const struct vt_hw_ops vt_vmx_hw_ops = {
	.name = "vmx",
	.insn_names = vt_vmx_insn_names,
	.ninsns = VT_X86_INSN_COUNT,
	.native = vmx_native,
	.reach = vmx_reach,
	.fill = vmx_fill,
	.insn = vmx_insn,
	.fmt_key = vmx_fmt_key,
	.fmt_operand = vmx_fmt_operand,
};
