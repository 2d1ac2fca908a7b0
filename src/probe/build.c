/*
 * The probe's guest builder: a single-level x86 scenario's guest operations
 * as a flat guest image (include/vtlb/probe.h has the layout).
 *
 * The image starts in the state the multiboot protocol leaves a kernel in
 * (32-bit protected mode, paging off, interrupts off), loads its own GDT and
 * IDT, enters the scenario vCPU's initial mode (IA-32e with 4-level paging,
 * or 32-bit protected mode with paging off and CR3/CR4 set, SDM vol. 3
 * §9.8 and §9.9), then runs the operations in order.  Around operation i:
 *
 *     mov esi, resume_i        ; where a fault handler resumes (the end of the
 *                              ; run, for an operation that may not fault)
 *     mov edi, &result[i]      ; where the operation's word goes
 *     <the operation>
 *     mov [edi], eax  |  mov dword [edi], DONE
 *   resume_i:
 *
 * An access is `mov eax, [VA]`: it reads the first word of whatever page the
 * translation used, the marker MARK|n of the GPA that page stands for.  The
 * exception handlers (vectors 0-31) store FAULT|vector to [edi], reset the
 * stack and jump to esi.  At the end the results area goes out through port 0xe9 (QEMU's
 * debugcon; KVM sees port I/O) and a write to port 0xf4 ends the run
 * (QEMU's isa-debug-exit; KVM sees port I/O).
 *
 * The instruction encodings are written from the SDM vol. 2 opcode tables;
 * only absolute (disp32) memory operands are used, with a SIB byte in 64-bit
 * mode where ModRM 00/101 would mean RIP-relative (vol. 2 §2.2.1.6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vtlb/ops.h"
#include "vtlb/probe.h"
#include "vtlb/state.h"
#include "vtlb/x86.h"

#define PAGE 0x1000u
#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_G 0x100u
#define ID_MAP_PAGES 512u    /* identity map: the first 2 MiB */

#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

#define OFF_MB 0x0u
#define OFF_GDT 0x40u
#define OFF_GDTR 0x80u
#define OFF_IDTR 0x90u
#define OFF_DESC 0x400u      /* INVPCID descriptors, 16 bytes each */
#define OFF_IDT 0x1000u
#define OFF_FLAG 0x1f00u     /* INIT handshake: the target stores k before its k-th INIT */
#define OFF_TRAMP 0xd000u    /* real-mode trampolines, 0x400 bytes each, copied below 1 MiB */
#define OFF_HANDLERS 0xe000u /* exception handlers: 32 * 32 bytes */
#define TRAMP_SIZE 0x400u
#define TRAMP_DST 0x8000u    /* trampoline k runs at TRAMP_DST + k * 4 KiB: SIPI vector 8 + k */
#define TRAMP_GDTR 0x3f0u    /* a copy of the GDTR inside each trampoline */
#define MAX_INITS 3
#define APIC_ICR_LO 0xfee00300u
#define APIC_ICR_HI 0xfee00310u
#define APIC_SVR 0xfee000f0u

#define MAX_REGIONS 8        /* 2 MiB (64-bit) / 4 MiB (32-bit) regions of scenario VAs */

struct builder {
	const struct vt_model *m;
	struct vt_probe_image *img;
	int mode64;
	uint32_t pc;               /* next code address */
	uint32_t next_table;       /* next free table page */
	uint32_t id_pt, id_pd;     /* shared identity tables */
	uint32_t root[VT_MAX_SPACES];
	uint32_t pdpt[VT_MAX_SPACES], pd[VT_MAX_SPACES];
	int nregion;
	uint32_t region[MAX_REGIONS];               /* region number of scenario VAs */
	uint32_t pt[VT_MAX_SPACES][MAX_REGIONS];    /* leaf table of a region in a space */
	uint32_t frames;           /* address of marker page 0 */
	int ndesc;
	int fail;
	uint32_t *line;
	char *err;
	size_t errlen;
};

static int fail_at(struct builder *b, uint32_t line, const char *fmt, const char *arg)
{
	if (!b->fail) {
		*b->line = line;
		snprintf(b->err, b->errlen, fmt, arg);
	}
	b->fail = 1;
	return -1;
}

/* ---- memory of the image ----------------------------------------------- */

static uint8_t *at(struct builder *b, uint32_t addr, size_t n)
{
	if (addr < VT_PROBE_BASE || addr - VT_PROBE_BASE + n > b->img->len) {
		fail_at(b, 0, "%s", "internal error: the guest image overflows its layout");
		static uint8_t sink[64];
		return sink;
	}
	return b->img->bytes + (addr - VT_PROBE_BASE);
}

static void put32(struct builder *b, uint32_t addr, uint32_t v)
{
	uint8_t *p = at(b, addr, 4);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(struct builder *b, uint32_t addr, uint64_t v)
{
	put32(b, addr, (uint32_t)v);
	put32(b, addr + 4, (uint32_t)(v >> 32));
}

/* ---- the encoder --------------------------------------------------------- */

static void e8(struct builder *b, unsigned v)
{
	if (b->pc >= VT_PROBE_CODE_END) {
		fail_at(b, 0, "%s", "the scenario has too many operations for the probe's code area");
		return;
	}
	*at(b, b->pc, 1) = (uint8_t)v;
	b->pc++;
}

static void e16(struct builder *b, unsigned v)
{
	e8(b, v & 0xff);
	e8(b, (v >> 8) & 0xff);
}

static void e32(struct builder *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		e8(b, (v >> (8 * i)) & 0xff);
}

/* ModRM for [disp32] with register field reg: 00 reg 101, or 00 reg 100 + SIB 0x25 in 64-bit mode. */
static void modrm_abs(struct builder *b, unsigned reg, uint32_t disp)
{
	if (b->mode64) {
		e8(b, (reg << 3) | 4);
		e8(b, 0x25);
	} else {
		e8(b, (reg << 3) | 5);
	}
	e32(b, disp);
}

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static void mov_r32_imm(struct builder *b, int r, uint32_t v)  /* B8+r id */
{
	e8(b, 0xb8 + (unsigned)r);
	e32(b, v);
}

static void mov_rax_imm64(struct builder *b, uint64_t v)        /* REX.W B8 io */
{
	e8(b, 0x48);
	e8(b, 0xb8);
	e32(b, (uint32_t)v);
	e32(b, (uint32_t)(v >> 32));
}

static void mov_cr_from_eax(struct builder *b, int cr)          /* 0F 22 /r */
{
	e8(b, 0x0f);
	e8(b, 0x22);
	e8(b, 0xc0 | ((unsigned)cr << 3));
}

static void mov_eax_from_cr(struct builder *b, int cr)          /* 0F 20 /r */
{
	e8(b, 0x0f);
	e8(b, 0x20);
	e8(b, 0xc0 | ((unsigned)cr << 3));
}

static void or_eax_imm(struct builder *b, uint32_t v)           /* 0D id */
{
	e8(b, 0x0d);
	e32(b, v);
}

static void and_eax_imm(struct builder *b, uint32_t v)          /* 25 id */
{
	e8(b, 0x25);
	e32(b, v);
}

static void mov_eax_abs(struct builder *b, uint32_t addr)       /* 8B /r */
{
	e8(b, 0x8b);
	modrm_abs(b, EAX, addr);
}

static void mov_abs_imm32(struct builder *b, uint32_t addr, uint32_t v)  /* C7 /0 id */
{
	e8(b, 0xc7);
	modrm_abs(b, 0, addr);
	e32(b, v);
}

static void mov_edi_ptr_eax(struct builder *b)                  /* 89 /r: mov [edi], eax */
{
	e8(b, 0x89);
	e8(b, 0x07);
}

static void mov_edi_ptr_imm(struct builder *b, uint32_t v)      /* C7 /0: mov dword [edi], imm */
{
	e8(b, 0xc7);
	e8(b, 0x07);
	e32(b, v);
}

static void invlpg_abs(struct builder *b, uint32_t addr)        /* 0F 01 /7 */
{
	e8(b, 0x0f);
	e8(b, 0x01);
	modrm_abs(b, 7, addr);
}

static void invpcid_eax_abs(struct builder *b, uint32_t addr)   /* 66 0F 38 82 /r */
{
	e8(b, 0x66);
	e8(b, 0x0f);
	e8(b, 0x38);
	e8(b, 0x82);
	modrm_abs(b, EAX, addr);
}

static void lgdt_abs(struct builder *b, uint32_t addr)          /* 0F 01 /2 */
{
	e8(b, 0x0f);
	e8(b, 0x01);
	modrm_abs(b, 2, addr);
}

static void lidt_abs(struct builder *b, uint32_t addr)          /* 0F 01 /3 */
{
	e8(b, 0x0f);
	e8(b, 0x01);
	modrm_abs(b, 3, addr);
}

static void jmp_far32(struct builder *b, unsigned sel, uint32_t off)  /* EA cp (32-bit mode only) */
{
	e8(b, 0xea);
	e32(b, off);
	e16(b, sel);
}

static void mov_sreg_ax(struct builder *b, unsigned sreg)       /* 8E /r */
{
	e8(b, 0x8e);
	e8(b, 0xc0 | (sreg << 3));
}

static void mov_dx_imm(struct builder *b, unsigned port)        /* 66 BA iw */
{
	e8(b, 0x66);
	e8(b, 0xba);
	e16(b, port);
}

static void wrmsr(struct builder *b)
{
	e8(b, 0x0f);
	e8(b, 0x30);
}

/* ---- page tables --------------------------------------------------------- */

static uint32_t new_table(struct builder *b)
{
	uint32_t t = b->next_table;
	b->next_table += PAGE;
	(void)at(b, t, PAGE);
	return t;
}

static int region_of(struct builder *b, uint64_t va)
{
	uint32_t r = (uint32_t)(va >> (b->mode64 ? 21 : 22));
	for (int i = 0; i < b->nregion; i++)
		if (b->region[i] == r)
			return i;
	if (b->nregion == MAX_REGIONS)
		return -1;
	b->region[b->nregion] = r;
	return b->nregion++;
}

/* Guest-physical address of the leaf entry for scenario VA va in space sp. */
static uint32_t pte_addr(struct builder *b, int sp, uint64_t va)
{
	int r = region_of(b, va);
	if (r < 0)
		return 0;
	uint32_t idx = (uint32_t)((va >> 12) & (b->mode64 ? 511 : 1023));
	return b->pt[sp][r] + idx * (b->mode64 ? 8u : 4u);
}

static uint32_t frame_of(struct builder *b, int vm, uint64_t gpa)
{
	for (int i = 0; i < b->img->nframes; i++)
		if (b->img->frame_gpa[i] == gpa)
			return b->frames + (uint32_t)i * PAGE;
	(void)vm;
	return 0;
}

static uint32_t leaf_value(struct builder *b, const struct vt_pte *p)
{
	return frame_of(b, p->vm, p->gpa) | PTE_P | PTE_RW | PTE_A | PTE_D | (p->g ? PTE_G : 0);
}

/* CR3 for space sp: its root table and, as the model has it, its PCID in bits 11:0. */
static uint64_t cr3_of(struct builder *b, int sp)
{
	return b->root[sp] | (b->m->space[sp].ctx & 0xfffu);
}

static void build_tables(struct builder *b, int vm)
{
	const struct vt_model *m = b->m;
	b->id_pt = new_table(b);
	for (uint32_t i = 0; i < ID_MAP_PAGES; i++)
		put32(b, b->id_pt + i * (b->mode64 ? 8 : 4), i * PAGE | PTE_P | PTE_RW | PTE_A | PTE_D);
	if (b->mode64) {
		b->id_pd = new_table(b);
		put64(b, b->id_pd, b->id_pt | PTE_P | PTE_RW | PTE_A);
	}
	for (int sp = 0; sp < m->nspaces; sp++) {
		if (m->space[sp].vm != vm)
			continue;
		b->root[sp] = new_table(b);
		if (b->mode64) {
			b->pdpt[sp] = new_table(b);
			b->pd[sp] = new_table(b);
			put64(b, b->root[sp], b->pdpt[sp] | PTE_P | PTE_RW | PTE_A);
			put64(b, b->pdpt[sp], b->id_pd | PTE_P | PTE_RW | PTE_A);
			put64(b, b->pdpt[sp] + 8 * (VT_PROBE_VA_BASE >> 30), b->pd[sp] | PTE_P | PTE_RW | PTE_A);
		} else {
			put32(b, b->root[sp], b->id_pt | PTE_P | PTE_RW | PTE_A);
		}
		for (int r = 0; r < b->nregion; r++) {
			uint32_t t = new_table(b);
			b->pt[sp][r] = t;
			if (b->mode64)
				put64(b, b->pd[sp] + 8 * (b->region[r] & 511), t | PTE_P | PTE_RW | PTE_A);
			else
				put32(b, b->root[sp] + 4 * ((VT_PROBE_VA_BASE >> 22) + b->region[r]),
				      t | PTE_P | PTE_RW | PTE_A);
		}
		for (int p = 0; p < m->np; p++)
			if (m->init_pt[sp] & VT_BIT(p))
				put32(b, pte_addr(b, sp, m->va[m->pte[p].va]), leaf_value(b, &m->pte[p]));
	}
}

/* ---- descriptors and handlers ------------------------------------------- */

static void build_descriptors(struct builder *b)
{
	uint32_t base = VT_PROBE_BASE;
	/* Multiboot header with the address fields (flag 16): load the file at base, enter at entry. */
	put32(b, base + OFF_MB + 0, 0x1badb002u);
	put32(b, base + OFF_MB + 4, 0x00010000u);
	put32(b, base + OFF_MB + 8, (uint32_t)(0u - 0x1badb002u - 0x00010000u));
	put32(b, base + OFF_MB + 12, base);            /* header_addr */
	put32(b, base + OFF_MB + 16, base);            /* load_addr */
	put32(b, base + OFF_MB + 20, 0);               /* load_end_addr: the whole file */
	put32(b, base + OFF_MB + 24, 0);               /* bss_end_addr: none */
	put32(b, base + OFF_MB + 28, b->img->entry);   /* entry_addr */
	/* GDT (SDM vol. 3 §3.4.5): null, 32-bit code, data, 64-bit code; flat. */
	put64(b, base + OFF_GDT + SEL_CODE32, 0x00cf9a000000ffffull);
	put64(b, base + OFF_GDT + SEL_DATA, 0x00cf92000000ffffull);
	put64(b, base + OFF_GDT + SEL_CODE64, 0x00af9a000000ffffull);
	*at(b, base + OFF_GDTR, 1) = 0x1f;
	put32(b, base + OFF_GDTR + 2, base + OFF_GDT);
	/* IDT: vectors 0-31 (vol. 3 §6.11, §6.14.1). */
	unsigned gate = b->mode64 ? 16 : 8;
	*at(b, base + OFF_IDTR, 1) = (uint8_t)(32 * gate - 1);
	put32(b, base + OFF_IDTR + 2, base + OFF_IDT);
	for (unsigned v = 0; v < 32; v++) {
		uint32_t h = base + OFF_HANDLERS + 32 * v;
		uint32_t g = base + OFF_IDT + v * gate;
		uint64_t lo = (h & 0xffffu) | ((uint64_t)(b->mode64 ? SEL_CODE64 : SEL_CODE32) << 16) |
			      ((uint64_t)0x8e00 << 32) | ((uint64_t)(h >> 16) << 48);
		put64(b, g, lo);
		if (b->mode64)
			put64(b, g + 8, 0);
		/*
		 * handler: mov dword [edi], FAULT|v; mov esp, top; jmp esi.  The frame
		 * is dropped rather than returned through with IRET: the code after
		 * resume_i needs nothing from it, and some implementations (kvm-pvm)
		 * cannot emulate a protected-mode IRET.
		 */
		uint32_t save = b->pc;
		b->pc = h;
		mov_edi_ptr_imm(b, VT_PROBE_FAULT | v);
		mov_r32_imm(b, ESP, VT_PROBE_STACK_TOP);
		e8(b, 0xff);
		e8(b, 0xe6);                                                  /* jmp esi / jmp rsi */
		b->pc = save;
	}
}

/* ---- operations ------------------------------------------------------------ */

static uint32_t slot_addr(int i)
{
	return VT_PROBE_RESULTS + 4u * (uint32_t)(1 + i);
}

static uint32_t real_va(uint64_t va)
{
	return VT_PROBE_VA_BASE + (uint32_t)va;
}

static void cr_update(struct builder *b, int cr, uint32_t set, uint32_t clr)
{
	mov_eax_from_cr(b, cr);
	if (set)
		or_eax_imm(b, set);
	if (clr)
		and_eax_imm(b, ~clr);
	mov_cr_from_eax(b, cr);
}

static void load_cr3(struct builder *b, uint64_t v)
{
	if (b->mode64)
		mov_rax_imm64(b, v);
	else
		mov_r32_imm(b, EAX, (uint32_t)v);
	mov_cr_from_eax(b, 3);
}

static int emit_op(struct builder *b, const struct vt_event *ev, const struct vt_x86_regs *r)
{
	const struct vt_model *m = b->m;
	const struct vt_op *op = &ev->op;
	switch (op->code) {
	case VT_OP_ACCESS:
		mov_eax_abs(b, real_va(op->a));
		mov_edi_ptr_eax(b);
		return 0;
	case VT_OP_MAP:
	case VT_OP_UNMAP: {
		uint64_t va = op->code == VT_OP_MAP ? m->va[m->pte[op->b].va] : op->a;
		uint32_t v = op->code == VT_OP_MAP ? leaf_value(b, &m->pte[op->b]) : 0;
		mov_abs_imm32(b, pte_addr(b, op->space, va), v);
		break;
	}
	case VT_X86_MOV_CR3:
		if ((op->flags & VT_OPF_NOFLUSH) && !b->mode64)
			return fail_at(b, ev->line, "%s", "'mov cr3 ... noflush' needs IA-32e mode in the probe");
		load_cr3(b, cr3_of(b, op->space) | ((op->flags & VT_OPF_NOFLUSH) ? 1ull << 63 : 0));
		break;
	case VT_X86_MOV_CR4:
		if ((op->a | op->b) & (X86_CR4_PAE | X86_CR4_LA57))
			return fail_at(b, ev->line, "%s", "the probe cannot change CR4.PAE or CR4.LA57 (paging mode)");
		if (op->a & X86_CR4_PCIDE)
			b->img->needs_pcid = 1;
		cr_update(b, 4, (uint32_t)op->a, (uint32_t)op->b);
		break;
	case VT_X86_MOV_CR0:
		if (op->b & X86_CR0_PE)
			return fail_at(b, ev->line, "%s", "the probe runs in protected mode: it cannot clear CR0.PE");
		if (b->mode64 && (op->b & X86_CR0_PG))
			return fail_at(b, ev->line, "%s", "the probe cannot leave IA-32e mode (clear CR0.PG in long mode)");
		if ((op->a & X86_CR0_PG) && r->cr3 < 0)
			return fail_at(b, ev->line, "%s", "setting CR0.PG with no CR3 loaded cannot run on a real CPU");
		cr_update(b, 0, (uint32_t)op->a & ~X86_CR0_PE, (uint32_t)op->b);
		break;
	case VT_X86_INVLPG:
		invlpg_abs(b, real_va(op->a));
		break;
	case VT_X86_INVPCID: {
		uint32_t d = VT_PROBE_BASE + OFF_DESC + 16u * (uint32_t)b->ndesc++;
		if (d + 16 > VT_PROBE_BASE + OFF_IDT)
			return fail_at(b, ev->line, "%s", "too many INVPCIDs for the probe");
		put64(b, d, op->target <= 1 ? op->b : 0);
		put64(b, d + 8, op->target == 0 ? real_va(op->a) : 0);
		mov_r32_imm(b, EAX, (uint32_t)op->target);
		invpcid_eax_abs(b, d);
		b->img->needs_invpcid = 1;
		break;
	}
	case VT_X86_INIT:
		return fail_at(b, ev->line, "%s", "internal error: INIT is emitted by the caller");
	default:
		return fail_at(b, ev->line, "%s", "the probe cannot run this operation");
	}
	mov_edi_ptr_imm(b, VT_PROBE_DONE);
	return 0;
}

/* ---- INIT: a second CPU sends it ------------------------------------------
 *
 * The scenario vCPU runs on the application processor (CPU 1): CPU 0 (the
 * BSP) starts it with INIT and SIPI at trampoline 0, which enters protected
 * mode and jumps to the common setup.  Before its k-th INIT the target stores
 * k to the flag word and spins; CPU 0 waits for k, sends INIT and a SIPI to
 * trampoline k.  Trampoline k runs the scenario's real-mode operations that
 * follow the INIT (MOV CR3/CR4/CR0; SDM vol. 3 §9.1: INIT leaves the
 * processor in real mode with paging off) up to the MOV CR0 that sets PE,
 * then jumps to continuation k in the image, which records those operations
 * as done.  (KVM ignores INIT on the BSP, and its SIPI: the target must be
 * an application processor.)
 */

static void rep_movsb(struct builder *b)
{
	e8(b, 0xf3);
	e8(b, 0xa4);
}

static void spin_until_flag(struct builder *b, uint32_t k)
{
	uint32_t top = b->pc;
	e8(b, 0xf3);
	e8(b, 0x90);                                          /* pause */
	mov_eax_abs(b, VT_PROBE_BASE + OFF_FLAG);
	e8(b, 0x3d);
	e32(b, k);                                            /* cmp eax, k */
	e8(b, 0x75);
	e8(b, (top - (b->pc + 1)) & 0xff);                    /* jne top */
}

static void send_init_sipi(struct builder *b, unsigned vector)
{
	mov_abs_imm32(b, APIC_ICR_HI, 1u << 24);              /* destination: APIC ID 1 */
	mov_abs_imm32(b, APIC_ICR_LO, 0x00004500u);           /* INIT, assert */
	mov_abs_imm32(b, APIC_ICR_HI, 1u << 24);
	mov_abs_imm32(b, APIC_ICR_LO, 0x00004600u | vector);  /* start-up */
}

/* 16-bit real-mode code at the start of trampoline k: cli; lgdt [copy] (32-bit base). */
static void tramp_head(struct builder *b, int k)
{
	uint32_t src = VT_PROBE_BASE + OFF_TRAMP + (uint32_t)k * TRAMP_SIZE;
	uint32_t dst = TRAMP_DST + (uint32_t)k * PAGE;
	const uint8_t *g = at(b, VT_PROBE_BASE + OFF_GDTR, 6);
	uint8_t *c = at(b, src + TRAMP_GDTR, 6);
	memcpy(c, g, 6);
	b->pc = src;
	e8(b, 0xfa);
	e8(b, 0x66);
	e8(b, 0x0f);
	e8(b, 0x01);
	e8(b, 0x16);
	e16(b, dst + TRAMP_GDTR);                             /* lgdt [disp16], DS base 0 */
}

/* 16-bit: mov eax, crN; or eax, set; and eax, ~clr; mov crN, eax. */
static void tramp_cr(struct builder *b, int cr, uint32_t set, uint32_t clr)
{
	mov_eax_from_cr(b, cr);
	if (set) {
		e8(b, 0x66);
		or_eax_imm(b, set);
	}
	if (clr) {
		e8(b, 0x66);
		and_eax_imm(b, ~clr);
	}
	mov_cr_from_eax(b, cr);
}

static void tramp_far32(struct builder *b, uint32_t target)
{
	e8(b, 0x66);
	jmp_far32(b, SEL_CODE32, target);
}

/* ---- the whole image --------------------------------------------------------- */

static int check_va(struct builder *b, uint64_t va, uint32_t line)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)va);
	if (va & (PAGE - 1))
		return fail_at(b, line, "the probe needs page-aligned virtual addresses (%s)", buf);
	if (va >= VT_PROBE_VA_BASE)
		return fail_at(b, line, "the probe handles virtual addresses below 0x40000000 (%s)", buf);
	if (region_of(b, va) < 0)
		return fail_at(b, line, "%s", "the scenario's virtual addresses spread over too many page tables");
	return 0;
}

int vt_probe_build(const struct vt_model *m, struct vt_probe_image *img, uint32_t *line, char *err, size_t errlen)
{
	struct builder bb, *b = &bb;
	const char *why; /* the model's reason for a fault, which the probe does not need */
	memset(b, 0, sizeof(*b));
	memset(img, 0, sizeof(*img));
	b->m = m;
	b->img = img;
	b->line = line;
	b->err = err;
	b->errlen = errlen;
	*line = 0;
	err[0] = 0;
	img->vcpu = -1;

	if (m->arch != VT_ARCH_X86)
		return fail_at(b, 0, "%s", "the probe runs x86 scenarios only");
	if (!m->nscript)
		return fail_at(b, 0, "%s", "the probe runs a scenario's script; this one has none");
	/* One vCPU issues every guest operation; host operations have no guest code. */
	for (int i = 0; i < m->nscript; i++) {
		const struct vt_event *ev = &m->script[i];
		if (ev->kind == VT_EV_HOST)
			return fail_at(b, ev->line, "%s", "the probe runs guest operations only (no host operations)");
		if (ev->kind != VT_EV_GUEST)
			continue;
		if (img->vcpu >= 0 && ev->vcpu != img->vcpu)
			return fail_at(b, ev->line, "%s", "the probe runs the operations of one vCPU only");
		img->vcpu = ev->vcpu;
		if (ev->op.flags & VT_OPF_FEP)
			return fail_at(b, ev->line, "%s", "the probe cannot force emulation ('fep')");
		if (img->nslots == VT_PROBE_MAX_SLOTS)
			return fail_at(b, ev->line, "%s", "too many operations for the probe");
		struct vt_probe_slot *sl = &img->slot[img->nslots++];
		sl->event = i;
		sl->line = ev->line;
		sl->code = ev->op.code;
		sl->va = ev->op.a;
	}
	if (img->vcpu < 0)
		return fail_at(b, 0, "%s", "the script has no guest operations to probe");
	for (int i = 0; i < img->nslots; i++)
		if (img->slot[i].code == VT_X86_INIT) {
			if (img->ninits == MAX_INITS)
				return fail_at(b, img->slot[i].line, "%s", "the probe runs at most 3 INITs");
			img->ninits++;
		}
	img->ncpus = img->ninits ? 2 : 1;
	int vm = m->vcpu_vm[img->vcpu];
	struct vt_x86_regs r0 = m->vcpu_init[img->vcpu].x86;
	b->mode64 = (r0.efer & X86_EFER_LME) && (r0.cr0 & X86_CR0_PG);
	img->mode = b->mode64 ? VT_PROBE_MODE_64 : VT_PROBE_MODE_32;
	if (r0.cr4 & (X86_CR4_PAE | X86_CR4_LA57)) {
		if (!b->mode64 || (r0.cr4 & X86_CR4_LA57))
			return fail_at(b, 0, "%s", "the probe runs 4-level IA-32e paging or 32-bit paging only");
	}
	if (r0.cr4 & X86_CR4_PCIDE)
		img->needs_pcid = 1;
	int init_line = 0;
	for (int i = img->nslots - 1; i >= 0; i--)
		if (img->slot[i].code == VT_X86_INIT)
			init_line = (int)img->slot[i].line;
	if (img->ninits && b->mode64)
		return fail_at(b, (uint32_t)init_line, "%s",
			       "an INIT probe runs 32-bit paging (returning to IA-32e mode with global pages would "
			       "flush by itself): declare the vCPU without 'long'");

	/* Every VA of this VM's page tables and operations. */
	for (int p = 0; p < m->np; p++)
		if (m->pte[p].vm == vm && check_va(b, m->va[m->pte[p].va], 0) < 0)
			return -1;
	for (int i = 0; i < img->nslots; i++) {
		const struct vt_op *op = &m->script[img->slot[i].event].op;
		if ((op->code == VT_OP_ACCESS || op->code == VT_OP_UNMAP || op->code == VT_X86_INVLPG ||
		     (op->code == VT_X86_INVPCID && op->target == 0)) &&
		    check_va(b, op->a, img->slot[i].line) < 0)
			return -1;
	}

	/* Size the image: descriptors and code, tables, then one marker page per GPA. */
	int nsp = 0;
	for (int sp = 0; sp < m->nspaces; sp++)
		nsp += m->space[sp].vm == vm;
	for (int p = 0; p < m->np; p++) {
		if (m->pte[p].vm != vm)
			continue;
		int dup = 0;
		for (int i = 0; i < img->nframes; i++)
			dup |= img->frame_gpa[i] == m->pte[p].gpa;
		if (!dup)
			img->frame_gpa[img->nframes++] = m->pte[p].gpa;
	}
	uint32_t ntables = 2 + (uint32_t)nsp * (3 + (uint32_t)b->nregion);
	b->frames = VT_PROBE_TABLES + ntables * PAGE;
	img->len = (size_t)(b->frames - VT_PROBE_BASE) + (size_t)img->nframes * PAGE;
	if (VT_PROBE_BASE + img->len > VT_PROBE_MEM)
		return fail_at(b, 0, "%s", "the scenario needs more guest memory than the probe gives");
	img->bytes = calloc(1, img->len);
	if (!img->bytes)
		return fail_at(b, 0, "%s", "out of memory");
	for (int i = 0; i < img->nframes; i++)
		for (uint32_t o = 0; o < PAGE; o += 4)
			put32(b, b->frames + (uint32_t)i * PAGE + o, VT_PROBE_MARK | (uint32_t)i);
	b->next_table = VT_PROBE_TABLES;
	build_tables(b, vm);

	img->entry = VT_PROBE_CODE;
	build_descriptors(b);

	/* Setup, from the multiboot state: 32-bit protected mode, paging off. */
	int mode64 = b->mode64;
	b->mode64 = 0;
	b->pc = VT_PROBE_CODE;
	e8(b, 0xfa);                                          /* cli */
	lgdt_abs(b, VT_PROBE_BASE + OFF_GDTR);
	jmp_far32(b, SEL_CODE32, b->pc + 7);
	uint32_t patch_common = 0;
	uint32_t patch_tramp[MAX_INITS + 1] = {0};
	if (img->ninits) {
		/* CPU 0: copy the trampolines below 1 MiB, start CPU 1, then send each INIT when asked. */
		mov_r32_imm(b, EAX, SEL_DATA);
		for (unsigned sr = 0; sr < 6; sr++)
			if (sr != 1)
				mov_sreg_ax(b, sr);
		mov_r32_imm(b, ESP, VT_PROBE_STACK_TOP - 0x1000);
		for (int k = 0; k <= img->ninits; k++) {
			mov_r32_imm(b, ESI, VT_PROBE_BASE + OFF_TRAMP + (uint32_t)k * TRAMP_SIZE);
			mov_r32_imm(b, EDI, TRAMP_DST + (uint32_t)k * PAGE);
			mov_r32_imm(b, ECX, TRAMP_SIZE);
			rep_movsb(b);
		}
		mov_abs_imm32(b, APIC_SVR, 0x1ff);            /* APIC software-enabled */
		send_init_sipi(b, TRAMP_DST >> 12);
		for (int k = 1; k <= img->ninits; k++) {
			spin_until_flag(b, (uint32_t)k);
			send_init_sipi(b, (TRAMP_DST >> 12) + (unsigned)k);
		}
		e8(b, 0xf4);                                  /* hlt */
		e8(b, 0xeb);
		e8(b, 0xfd);
		patch_common = b->pc;
	}
	/* common setup: the scenario's CPU */
	mov_r32_imm(b, EAX, SEL_DATA);
	for (unsigned sr = 0; sr < 6; sr++)
		if (sr != 1)
			mov_sreg_ax(b, sr);                   /* es, ss, ds, fs, gs */
	mov_r32_imm(b, ESP, VT_PROBE_STACK_TOP);
	uint32_t patch_finish = b->pc + 1;                    /* mov esi, finish */
	mov_r32_imm(b, ESI, 0);
	uint32_t status = slot_addr(img->nslots);
	mov_r32_imm(b, EDI, status);
	mov_abs_imm32(b, VT_PROBE_RESULTS, VT_PROBE_MAGIC_START);
	mov_abs_imm32(b, status, VT_PROBE_DONE);
	uint32_t cr3_0 = r0.cr3 >= 0 ? (uint32_t)cr3_of(b, r0.cr3) : 0;
	if (mode64) {
		/* SDM vol. 3 §9.8.5: PAE, CR3, EFER.LME, then CR0.PG; a far jump into 64-bit code. */
		mov_r32_imm(b, EAX, (r0.cr4 & ~X86_CR4_PCIDE) | X86_CR4_PAE);
		mov_cr_from_eax(b, 4);
		mov_r32_imm(b, EAX, (r0.cr4 & X86_CR4_PCIDE) ? b->root[r0.cr3] : cr3_0);
		mov_cr_from_eax(b, 3);
		mov_r32_imm(b, ECX, 0xc0000080u);             /* IA32_EFER */
		mov_r32_imm(b, EAX, 0x100);                   /* LME */
		mov_r32_imm(b, EDX, 0);
		wrmsr(b);
		mov_eax_from_cr(b, 0);
		or_eax_imm(b, r0.cr0 & (X86_CR0_PG | X86_CR0_WP | X86_CR0_TS));
		mov_cr_from_eax(b, 0);
		jmp_far32(b, SEL_CODE64, b->pc + 7);
		b->mode64 = 1;
		lidt_abs(b, VT_PROBE_BASE + OFF_IDTR);
		if (r0.cr4 & X86_CR4_PCIDE) {
			cr_update(b, 4, X86_CR4_PCIDE, 0);
			load_cr3(b, cr3_of(b, r0.cr3));
		}
	} else {
		lidt_abs(b, VT_PROBE_BASE + OFF_IDTR);
		mov_r32_imm(b, EAX, r0.cr4);
		mov_cr_from_eax(b, 4);
		mov_r32_imm(b, EAX, cr3_0);
		mov_cr_from_eax(b, 3);
		if (r0.cr0 & (X86_CR0_PG | X86_CR0_WP | X86_CR0_TS))
			cr_update(b, 0, r0.cr0 & (X86_CR0_PG | X86_CR0_WP | X86_CR0_TS), 0);
	}
	if (img->ninits) {
		/* trampoline 0: protected mode, then the common setup */
		uint32_t save = b->pc;
		tramp_head(b, 0);
		tramp_cr(b, 0, X86_CR0_PE, 0);
		tramp_far32(b, patch_common);
		b->pc = save;
	}
	(void)patch_tramp;

	/* The operations, with the architectural registers tracked to reject what cannot run. */
	img->code_start = b->pc;
	struct vt_state *st = calloc(1, sizeof(*st));
	if (!st)
		return fail_at(b, 0, "%s", "out of memory");
	vt_state_init(m, st);
	int ninit = 0, nfinish = 0;
	uint32_t *finish_patch = calloc(VT_PROBE_MAX_SLOTS, sizeof(*finish_patch));
	if (!finish_patch) {
		free(st);
		return fail_at(b, 0, "%s", "out of memory");
	}
	for (int i = 0; i < img->nslots && !b->fail; i++) {
		const struct vt_event *ev = &m->script[img->slot[i].event];
		struct vt_x86_regs r = st->vcpu[img->vcpu].g.x86;
		struct vt_gctx g;
		m->aops->gctx(m, &st->vcpu[img->vcpu].g, &g);
		if (ev->op.code == VT_OP_ACCESS && !g.paging) {
			fail_at(b, ev->line, "%s", "the probe needs paging on for an access");
			break;
		}
		uint32_t patch = b->pc + 1;
		mov_r32_imm(b, ESI, 0);
		mov_r32_imm(b, EDI, slot_addr(i));
		if (ev->op.code != VT_X86_INIT) {
			if (ev->op.code >= VT_OP_ARCH)
				img->slot[i].model_fault = m->aops->exec(m, st, img->vcpu, &ev->op, &why) == VT_EXEC_FAULT;
			if (emit_op(b, ev, &r) < 0)
				break;
			/* A fault the architecture does not allow here ends the run: what follows
			 * would no longer be the scenario.  An access's #PF is an observation. */
			if (img->slot[i].model_fault || ev->op.code == VT_OP_ACCESS) {
				put32(b, patch, b->pc);       /* resume_i */
			} else if (nfinish < VT_PROBE_MAX_SLOTS) {
				finish_patch[nfinish++] = patch;
			}
			continue;
		}
		/* INIT: ask CPU 0 for it and spin; trampoline k runs what follows in real mode. */
		ninit++;
		put32(b, patch, b->pc);
		mov_abs_imm32(b, VT_PROBE_BASE + OFF_FLAG, (uint32_t)ninit);
		e8(b, 0xf3);
		e8(b, 0x90);
		e8(b, 0xeb);
		e8(b, 0xfc);                                  /* pause; jmp back */
		(void)m->aops->exec(m, st, img->vcpu, &ev->op, &why);
		uint32_t cont = b->pc;
		b->pc = 0;
		uint32_t save_main = cont;
		tramp_head(b, ninit);
		int first = i, pe = 0;
		while (!pe && !b->fail) {
			if (++i >= img->nslots) {
				fail_at(b, ev->line, "%s", "after INIT the probe needs a 'mov cr0 +pe ...' to return to protected mode");
				break;
			}
			const struct vt_event *e2 = &m->script[img->slot[i].event];
			const struct vt_op *op = &e2->op;
			if (op->code == VT_X86_MOV_CR3) {
				if (op->flags & VT_OPF_NOFLUSH)
					fail_at(b, e2->line, "%s", "'noflush' cannot run in real mode");
				e8(b, 0x66);
				mov_r32_imm(b, EAX, (uint32_t)cr3_of(b, op->space));
				mov_cr_from_eax(b, 3);
			} else if (op->code == VT_X86_MOV_CR4 && !((op->a | op->b) & (X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_PCIDE))) {
				tramp_cr(b, 4, (uint32_t)op->a, (uint32_t)op->b);
			} else if (op->code == VT_X86_MOV_CR0 && !(op->b & X86_CR0_PE)) {
				if ((op->a & X86_CR0_PG) && !(op->a & X86_CR0_PE)) {
					fail_at(b, e2->line, "%s", "setting CR0.PG without CR0.PE faults");
					break;
				}
				if ((op->a & X86_CR0_PG) && st->vcpu[img->vcpu].g.x86.cr3 < 0) {
					fail_at(b, e2->line, "%s", "setting CR0.PG with no CR3 loaded cannot run on a real CPU");
					break;
				}
				tramp_cr(b, 0, (uint32_t)op->a, (uint32_t)op->b);
				pe = (op->a & X86_CR0_PE) != 0;
			} else {
				fail_at(b, e2->line, "%s", "after INIT the probe runs only MOV CR3/CR4/CR0 until CR0.PE is set");
				break;
			}
			img->slot[i].model_fault = m->aops->exec(m, st, img->vcpu, op, &why) == VT_EXEC_FAULT;
			if (img->slot[i].model_fault)
				fail_at(b, e2->line, "%s", "the probe cannot run an operation that faults in real mode");
		}
		if (b->fail)
			break;
		if (b->pc > VT_PROBE_BASE + OFF_TRAMP + (uint32_t)(ninit + 1) * TRAMP_SIZE - 0x10)
			fail_at(b, ev->line, "%s", "too many operations after INIT for the probe's trampoline");
		tramp_far32(b, save_main);
		/* continuation: protected mode again; the real-mode operations are done */
		b->pc = save_main;
		mov_r32_imm(b, EAX, SEL_DATA);
		for (unsigned sr = 0; sr < 6; sr++)
			if (sr != 1)
				mov_sreg_ax(b, sr);
		mov_r32_imm(b, ESP, VT_PROBE_STACK_TOP);
		lidt_abs(b, VT_PROBE_BASE + OFF_IDTR);
		for (int j = first; j <= i; j++)
			mov_abs_imm32(b, slot_addr(j), VT_PROBE_DONE);
	}
	free(st);
	img->code_end = b->pc;
	(void)patch_tramp;

	/* finish: the trailer, the results out through port 0xe9, then port 0xf4. */
	put32(b, patch_finish, b->pc);
	for (int i = 0; i < nfinish; i++)
		put32(b, finish_patch[i], b->pc);
	free(finish_patch);
	mov_abs_imm32(b, slot_addr(img->nslots + 1), VT_PROBE_MAGIC_END);
	mov_r32_imm(b, ESI, VT_PROBE_RESULTS);
	mov_r32_imm(b, ECX, 4u * (uint32_t)(img->nslots + 3));
	mov_dx_imm(b, VT_PROBE_PORT_DATA);
	e8(b, 0xf3);
	e8(b, 0x6e);                                          /* rep outsb */
	mov_dx_imm(b, VT_PROBE_PORT_EXIT);
	mov_r32_imm(b, EAX, 0);
	e8(b, 0xef);                                          /* out dx, eax */
	e8(b, 0xf4);                                          /* hlt */
	e8(b, 0xeb);
	e8(b, 0xfd);                                          /* jmp back to hlt */
	if (b->pc > VT_PROBE_BASE + OFF_TRAMP)
		fail_at(b, 0, "%s", "the scenario has too many operations for the probe's code area");
	if (b->fail) {
		vt_probe_image_fini(img);
		return -1;
	}
	return 0;
}

void vt_probe_image_fini(struct vt_probe_image *img)
{
	free(img->bytes);
	img->bytes = NULL;
	img->len = 0;
}
