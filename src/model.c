/*
 * Model construction: growing the universes while a scenario is parsed, then
 * enumerating T (guest translations) and U (combined translations) and
 * precomputing every mask that invalidations and lookups use.
 *
 * T is enumerated per space: each page-table entry ever mapped into a space
 * yields a translation for each context the space can be used under (the
 * architecture says which: on x86 a space's PCID and PCID 0, since with
 * CR4.PCIDE=0 every translation is tagged PCID 0), once non-global and, if
 * the entry has its global bit, once global.  U pairs each translation with
 * every stage-2 entry of the same guest-physical page.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtlb/model.h"
#include "vtlb/ops.h"

int vt_model_va_index(const struct vt_model *m, uint64_t va)
{
	for (int i = 0; i < m->nvas; i++)
		if (m->va[i] == va)
			return i;
	return -1;
}

int vt_model_add_va(struct vt_model *m, uint64_t va)
{
	int i = vt_model_va_index(m, va);
	if (i >= 0)
		return i;
	if (m->nvas == VT_MAX_VAS)
		return -1;
	m->va[m->nvas] = va;
	return m->nvas++;
}

int vt_model_space(const struct vt_model *m, const char *name)
{
	for (int i = 0; i < m->nspaces; i++)
		if (strcmp(m->space[i].name, name) == 0)
			return i;
	return -1;
}

int vt_model_vm(const struct vt_model *m, const char *name)
{
	for (int i = 0; i < m->nvms; i++)
		if (strcmp(m->vm[i].name, name) == 0)
			return i;
	return -1;
}

int vt_model_s2_find(const struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa)
{
	for (int i = 0; i < m->ns; i++)
		if (m->s2[i].vm == vm && m->s2[i].gpa == gpa && m->s2[i].hpa == hpa && !m->s2[i].table)
			return i;
	return -1;
}

uint64_t vt_model_default_hpa(int vm, uint64_t gpa)
{
	return ((uint64_t)(vm + 1) << 32) | gpa;
}

int vt_model_add_s2(struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa)
{
	int i = vt_model_s2_find(m, vm, gpa, hpa);
	if (i >= 0)
		return i;
	if (m->ns == VT_MAX_S)
		return -1;
	m->s2[m->ns].vm = (uint8_t)vm;
	m->s2[m->ns].level = 3;
	m->s2[m->ns].gpa = gpa;
	m->s2[m->ns].hpa = hpa;
	return m->ns++;
}

int vt_model_add_s2_table(struct vt_model *m, int vm, uint64_t gpa, uint64_t hpa, int level)
{
	if (m->ns == VT_MAX_S)
		return -1;
	m->s2[m->ns].vm = (uint8_t)vm;
	m->s2[m->ns].table = 1;
	m->s2[m->ns].level = (uint8_t)level;
	m->s2[m->ns].gpa = gpa;
	m->s2[m->ns].hpa = hpa;
	return m->ns++;
}

int vt_model_add_pte(struct vt_model *m, int space, uint64_t va, uint64_t gpa, int global)
{
	int vm = m->space[space].vm;
	int vai = vt_model_add_va(m, va);
	if (vai < 0)
		return -1;
	for (int i = 0; i < m->np; i++) {
		struct vt_pte *p = &m->pte[i];
		if (p->vm == vm && p->va == vai && p->gpa == gpa && p->g == !!global) {
			p->spaces |= (uint16_t)(1u << space);
			return i;
		}
	}
	if (m->np == VT_MAX_P)
		return -1;
	struct vt_pte *p = &m->pte[m->np];
	p->vm = (uint8_t)vm;
	p->va = (uint8_t)vai;
	p->gpa = gpa;
	p->g = (uint8_t)!!global;
	p->spaces = (uint16_t)(1u << space);
	return m->np++;
}

static int ctx_add(struct vt_model *m, int vm, uint32_t value)
{
	for (int i = 0; i < m->nctx; i++)
		if (m->ctx[i].vm == vm && m->ctx[i].value == value)
			return i;
	if (m->nctx == VT_MAX_CTX)
		return -1;
	m->ctx[m->nctx].vm = (uint8_t)vm;
	m->ctx[m->nctx].value = value;
	return m->nctx++;
}

static int t_add(struct vt_model *m, int ctx, int p, int g)
{
	if (m->tix[ctx][p][g] >= 0)
		return m->tix[ctx][p][g];
	if (m->nt == VT_MAX_T)
		return -1;
	struct vt_tr *t = &m->t[m->nt];
	t->vm = m->pte[p].vm;
	t->ctx = (uint8_t)ctx;
	t->p = (uint8_t)p;
	t->g = (uint8_t)g;
	m->tix[ctx][p][g] = (int16_t)m->nt;
	return m->nt++;
}

int vt_model_finish(struct vt_model *m, char *err, size_t errlen)
{
	static atomic_uint_fast64_t serials;
	m->serial = (uint64_t)atomic_fetch_add(&serials, 1) + 1;
	bool oracle_acts = !m->oracle->hooks_act || m->oracle->hooks_act(m);
	m->step_hooks.oracle_fill = oracle_acts ? m->oracle->fill : NULL;
	m->step_hooks.oracle_usable = oracle_acts ? m->oracle->usable : NULL;
	m->step_hooks.hv_fault = !m->hv->fault_acts || m->hv->fault_acts(m) ? m->hv->fault : NULL;
	m->step_hooks.tracks_thread = m->hv->tracks_thread && m->hv->tracks_thread(m);
	memset(m->tix, 0xff, sizeof(m->tix));
	memset(m->uix, 0xff, sizeof(m->uix));
	memset(m->space_ctx, 0xff, sizeof(m->space_ctx));

	/*
	 * Every guest-physical page starts mapped: declared with 's2', or by
	 * default.  (A host remap later in the scenario adds an entry that is
	 * not initial: it does not count.)
	 */
	for (int i = 0; i < m->np; i++) {
		const struct vt_pte *p = &m->pte[i];
		int found = 0;
		if (m->vm[p->vm].nested_of)
			continue; /* an L2's memory is L1's to map (src/guest/x86_nested.c) */
		for (int j = 0; j < m->ns; j++)
			if ((m->init_s2 & ((uint64_t)1 << j)) && m->s2[j].vm == p->vm && m->s2[j].gpa == p->gpa)
				found = 1;
		if (!found) {
			int j = vt_model_add_s2(m, p->vm, p->gpa, vt_model_default_hpa(p->vm, p->gpa));
			if (j < 0)
				goto s_full;
			m->init_s2 |= (uint64_t)1 << j;
		}
	}

	/*
	 * A table's entries are walked under the context of each space that
	 * links it (with a 'link' declaration or operation).
	 */
	for (int sp = 0; sp < m->nspaces; sp++) {
		uint16_t tabs = (uint16_t)(m->linkable[sp] | m->init_links[sp]);
		for (int p = 0; p < m->np; p++)
			if (m->pte[p].spaces & tabs)
				m->pte[p].spaces |= (uint16_t)(1u << sp);
	}

	/* Contexts, and T. */
	for (int sp = 0; sp < m->nspaces; sp++) {
		if (m->space[sp].table)
			continue; /* never a current context of its own */
		uint32_t v[2] = {m->space[sp].ctx, 0};
		int n = m->aops->ctx_variants ? m->aops->ctx_variants(m, sp, v) : 1;
		for (int k = 0; k < n; k++) {
			int c = ctx_add(m, m->space[sp].vm, v[k]);
			if (c < 0) {
				snprintf(err, errlen, "more than %d distinct contexts", VT_MAX_CTX);
				return -1;
			}
			m->space_ctx[sp][k] = (int8_t)c;
			for (int p = 0; p < m->np; p++) {
				if (!(m->pte[p].spaces & (1u << sp)))
					continue;
				if (t_add(m, c, p, 0) < 0)
					goto t_full;
				if (m->pte[p].g && t_add(m, c, p, 1) < 0)
					goto t_full;
			}
		}
	}

	/* U. */
	for (int t = 0; t < m->nt; t++) {
		const struct vt_pte *p = &m->pte[m->t[t].p];
		for (int s = 0; s < m->ns; s++) {
			if (m->s2[s].vm != p->vm || m->s2[s].gpa != p->gpa || m->s2[s].table)
				continue;
			if (m->nu == VT_MAX_U) {
				snprintf(err, errlen,
					 "more than %d combined translations (VAs x contexts x stage-2 versions); "
					 "use fewer address spaces or mappings",
					 VT_MAX_U);
				return -1;
			}
			m->u[m->nu].t = (uint8_t)t;
			m->u[m->nu].s = (uint8_t)s;
			m->uix[t][s] = (int16_t)m->nu;
			m->s_of_t[t] |= (uint64_t)1 << s;
			m->nu++;
		}
	}

	/* Masks. */
	for (int t = 0; t < m->nt; t++) {
		const struct vt_tr *tr = &m->t[t];
		vt_set_add(&m->t_va[m->pte[tr->p].va], (unsigned)t);
		vt_set_add(&m->t_ctx[tr->ctx], (unsigned)t);
		vt_set_add(&m->t_vm[tr->vm], (unsigned)t);
		if (tr->g)
			vt_set_add(&m->t_global, (unsigned)t);
	}
	for (int u = 0; u < m->nu; u++) {
		const struct vt_tr *tr = &m->t[m->u[u].t];
		vt_set_add(&m->u_va[m->pte[tr->p].va], (unsigned)u);
		vt_set_add(&m->u_ctx[tr->ctx], (unsigned)u);
		vt_set_add(&m->u_vm[tr->vm], (unsigned)u);
		vt_set_add(&m->u_s[m->u[u].s], (unsigned)u);
		vt_set_add(&m->u_of_t[m->u[u].t], (unsigned)u);
		if (tr->g)
			vt_set_add(&m->u_global, (unsigned)u);
	}
	for (int c = 0; c < m->nctx; c++)
		for (int vm = 0; vm < m->nvms; vm++) {
			m->t_ctx_vm[c][vm] = vt_set_union(&m->t_ctx[c], &m->t_global);
			vt_set_and(&m->t_ctx_vm[c][vm], &m->t_vm[vm]);
		}
	for (int c = 0; c < m->nctx; c++) {
		for (int k = 0; k < m->nctx; k++)
			if (m->ctx[k].value == m->ctx[c].value)
				vt_set_or(&m->u_ctx_value[c], &m->u_ctx[k]);
		m->u_usable[c] = vt_set_union(&m->u_ctx_value[c], &m->u_global);
	}
	for (int s = 0; s < m->ns; s++) {
		m->s_vm[m->s2[s].vm] |= (uint64_t)1 << s;
		for (int j = 0; j < m->ns; j++)
			if (m->s2[j].vm == m->s2[s].vm && m->s2[j].gpa == m->s2[s].gpa &&
			    m->s2[j].table == m->s2[s].table)
				m->s_gpa[s] |= (uint64_t)1 << j;
	}
	for (int p = 0; p < m->np; p++)
		for (int j = 0; j < m->np; j++)
			if (m->pte[j].vm == m->pte[p].vm && m->pte[j].gpa == m->pte[p].gpa)
				m->p_gpa[p] |= (uint64_t)1 << j;
	return 0;

t_full:
	snprintf(err, errlen, "more than %d guest translations (VAs x contexts); use fewer address spaces or mappings",
		 VT_MAX_T);
	return -1;
s_full:
	snprintf(err, errlen, "more than %d stage-2 translations", VT_MAX_S);
	return -1;
}

void vt_model_free(struct vt_model *m)
{
	if (!m)
		return;
	free(m->script);
	free(m);
}

void vt_model_vcpu_name(const struct vt_model *m, int v, char *buf, size_t len)
{
	if (v < 0 || v >= m->nvcpus) {
		snprintf(buf, len, "-");
		return;
	}
	const struct vt_vm *vm = &m->vm[m->vcpu_vm[v]];
	snprintf(buf, len, "%s.%d", vm->name, v - vm->first_vcpu);
}
