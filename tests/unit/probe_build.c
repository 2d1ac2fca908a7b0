/*
 * Unit tests of the probe's guest builder and checker, without KVM or QEMU:
 * the emitted code is decoded by a small independent decoder (only the
 * forms the builder may emit; anything else is a failure), the page tables
 * are walked as the MMU would (4-level IA-32e and 2-level 32-bit paging,
 * SDM vol. 3 §4.3 and §4.5) from the CR3 values the code loads, and the
 * checker is fed hand-made result words, including ones it must reject.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vtlb/probe.h"
#include "vtlb/vtlb.h"
#include "vtlb/x86.h"

/* ---- a decoder for the instructions the builder emits ------------------ */

enum insn_kind {
	I_BAD, I_MOV_R_IMM, I_MOV_RAX_IMM64, I_MOV_CR_R, I_MOV_R_CR, I_OR_EAX, I_AND_EAX, I_LOAD_ABS,
	I_STORE_ABS_IMM, I_STORE_EDI_IMM, I_STORE_EDI_EAX, I_INVLPG, I_INVPCID, I_LGDT, I_LIDT, I_JMP_FAR,
	I_MOV_SREG, I_MOV_DX, I_WRMSR, I_REP_OUTSB, I_OUT, I_HLT, I_JMP_SHORT, I_CLI, I_JMP_RSI,
	I_REP_MOVSB, I_PAUSE, I_CMP_EAX, I_JNE,
};

struct insn {
	enum insn_kind k;
	int reg;            /* register / CR number */
	uint64_t imm;
	uint32_t addr;      /* absolute memory operand */
	int len;
};

static const uint8_t *mem_of(const struct vt_probe_image *img, uint32_t addr)
{
	if (addr < VT_PROBE_BASE || addr - VT_PROBE_BASE >= img->len)
		return NULL;
	return img->bytes + (addr - VT_PROBE_BASE);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* [disp32]: ModRM 00 reg 101 (32-bit) or 00 reg 100 + SIB 0x25 (64-bit); returns bytes used or -1. */
static int abs_operand(const uint8_t *p, int mode64, int *reg, uint32_t *addr)
{
	if ((p[0] & 0xc0) != 0)
		return -1;
	*reg = (p[0] >> 3) & 7;
	if (mode64) {
		if ((p[0] & 7) != 4 || p[1] != 0x25)
			return -1;
		*addr = rd32(p + 2);
		return 6;
	}
	if ((p[0] & 7) != 5)
		return -1;
	*addr = rd32(p + 1);
	return 5;
}

static struct insn decode(const uint8_t *p, int mode64)
{
	struct insn in = {I_BAD, 0, 0, 0, 0};
	int n;
	if (p[0] >= 0xb8 && p[0] <= 0xbf) {
		in.k = I_MOV_R_IMM, in.reg = p[0] - 0xb8, in.imm = rd32(p + 1), in.len = 5;
	} else if (p[0] == 0x48 && p[1] == 0xb8 && mode64) {
		in.k = I_MOV_RAX_IMM64, in.imm = rd64(p + 2), in.len = 10;
	} else if (p[0] == 0x0f && (p[1] == 0x22 || p[1] == 0x20) && (p[2] & 0xc7) == 0xc0) {
		in.k = p[1] == 0x22 ? I_MOV_CR_R : I_MOV_R_CR, in.reg = (p[2] >> 3) & 7, in.len = 3;
	} else if (p[0] == 0x0d || p[0] == 0x25) {
		in.k = p[0] == 0x0d ? I_OR_EAX : I_AND_EAX, in.imm = rd32(p + 1), in.len = 5;
	} else if (p[0] == 0x8b && (n = abs_operand(p + 1, mode64, &in.reg, &in.addr)) > 0) {
		in.k = I_LOAD_ABS, in.len = 1 + n;
	} else if (p[0] == 0xc7 && p[1] == 0x07) {
		in.k = I_STORE_EDI_IMM, in.imm = rd32(p + 2), in.len = 6;
	} else if (p[0] == 0xc7 && (n = abs_operand(p + 1, mode64, &in.reg, &in.addr)) > 0 && in.reg == 0) {
		in.k = I_STORE_ABS_IMM, in.imm = rd32(p + 1 + n), in.len = 5 + n;
	} else if (p[0] == 0x89 && p[1] == 0x07) {
		in.k = I_STORE_EDI_EAX, in.len = 2;
	} else if (p[0] == 0x0f && p[1] == 0x01 && (n = abs_operand(p + 2, mode64, &in.reg, &in.addr)) > 0 &&
		   (in.reg == 7 || in.reg == 2 || in.reg == 3)) {
		in.k = in.reg == 7 ? I_INVLPG : in.reg == 2 ? I_LGDT : I_LIDT, in.len = 2 + n;
	} else if (p[0] == 0x66 && p[1] == 0x0f && p[2] == 0x38 && p[3] == 0x82 &&
		   (n = abs_operand(p + 4, mode64, &in.reg, &in.addr)) > 0) {
		in.k = I_INVPCID, in.len = 4 + n;
	} else if (p[0] == 0xea && !mode64) {
		in.k = I_JMP_FAR, in.addr = rd32(p + 1), in.imm = (uint64_t)p[5] | (uint64_t)p[6] << 8, in.len = 7;
	} else if (p[0] == 0x8e && (p[1] & 0xc7) == 0xc0) {
		in.k = I_MOV_SREG, in.reg = (p[1] >> 3) & 7, in.len = 2;
	} else if (p[0] == 0x66 && p[1] == 0xba) {
		in.k = I_MOV_DX, in.imm = (uint64_t)p[2] | (uint64_t)p[3] << 8, in.len = 4;
	} else if (p[0] == 0x0f && p[1] == 0x30) {
		in.k = I_WRMSR, in.len = 2;
	} else if (p[0] == 0xf3 && p[1] == 0x6e) {
		in.k = I_REP_OUTSB, in.len = 2;
	} else if (p[0] == 0xf3 && p[1] == 0xa4) {
		in.k = I_REP_MOVSB, in.len = 2;
	} else if (p[0] == 0xf3 && p[1] == 0x90) {
		in.k = I_PAUSE, in.len = 2;
	} else if (p[0] == 0x3d) {
		in.k = I_CMP_EAX, in.imm = rd32(p + 1), in.len = 5;
	} else if (p[0] == 0x75) {
		in.k = I_JNE, in.imm = p[1], in.len = 2;
	} else if (p[0] == 0xef) {
		in.k = I_OUT, in.len = 1;
	} else if (p[0] == 0xf4) {
		in.k = I_HLT, in.len = 1;
	} else if (p[0] == 0xeb) {
		in.k = I_JMP_SHORT, in.imm = p[1], in.len = 2;
	} else if (p[0] == 0xfa) {
		in.k = I_CLI, in.len = 1;
	} else if (p[0] == 0xff && p[1] == 0xe6) {
		in.k = I_JMP_RSI, in.len = 2;
	}
	return in;
}

/* Decode [from, to) (addresses into at[] when given); the count, or -1 with *bad at the first unknown byte. */
static int decode_range_at(const struct vt_probe_image *img, uint32_t from, uint32_t to, int mode64, struct insn *out,
			   int max, uint32_t *at, uint32_t *bad)
{
	int n = 0;
	for (uint32_t a = from; a < to && n < max;) {
		const uint8_t *p = mem_of(img, a);
		struct insn in = p ? decode(p, mode64) : (struct insn){I_BAD, 0, 0, 0, 0};
		if (in.k == I_BAD) {
			if (bad)
				*bad = a;
			return -1;
		}
		if (at)
			at[n] = a;
		out[n++] = in;
		a += (uint32_t)in.len;
	}
	return n;
}

static int decode_range(const struct vt_probe_image *img, uint32_t from, uint32_t to, int mode64, struct insn *out,
			int max, uint32_t *bad)
{
	return decode_range_at(img, from, to, mode64, out, max, NULL, bad);
}

/* ---- an MMU walk ------------------------------------------------------------ */

/* Physical address for linear la under cr3, or 0 when not present; *g: the leaf's G bit. */
static uint64_t walk(const struct vt_probe_image *img, int mode64, uint64_t cr3, uint64_t la, int *g)
{
	if (mode64) {
		uint64_t t = cr3 & 0x000ffffffffff000ull;
		for (int lvl = 3; lvl >= 0; lvl--) {
			const uint8_t *p = mem_of(img, (uint32_t)(t + 8 * ((la >> (12 + 9 * lvl)) & 511)));
			if (!p)
				return 0;
			uint64_t e = rd64(p);
			if (!(e & 1) || (lvl && (e & 0x80)))
				return 0;
			t = e & 0x000ffffffffff000ull;
			if (!lvl)
				*g = (e >> 8) & 1;
		}
		return t | (la & 0xfff);
	}
	const uint8_t *p = mem_of(img, (uint32_t)((cr3 & 0xfffff000u) + 4 * ((la >> 22) & 1023)));
	if (!p || !(rd32(p) & 1) || (rd32(p) & 0x80))
		return 0;
	p = mem_of(img, (rd32(p) & 0xfffff000u) + 4 * (uint32_t)((la >> 12) & 1023));
	if (!p || !(rd32(p) & 1))
		return 0;
	*g = (rd32(p) >> 8) & 1;
	return (rd32(p) & 0xfffff000u) | (la & 0xfff);
}

/* The scenario GPA behind linear la (via the marker), or -1. */
static int64_t gpa_at(const struct vt_probe_image *img, int mode64, uint64_t cr3, uint64_t la, int *g)
{
	uint64_t pa = walk(img, mode64, cr3, la, g);
	const uint8_t *p = pa ? mem_of(img, (uint32_t)pa) : NULL;
	if (!p || (rd32(p) & 0xffff0000u) != VT_PROBE_MARK || (int)(rd32(p) & 0xffff) >= img->nframes)
		return -1;
	return (int64_t)img->frame_gpa[rd32(p) & 0xffff];
}

/* ---- scenarios ----------------------------------------------------------------- */

static const char long_scn[] =
	"arch x86 vmx ept\n"
	"machine pcpus 1\n"
	"vm g vcpus 1\n"
	"space A pcid 1\n"
	"space B pcid 2\n"
	"map A 0x1000 -> 0x5000 global\n"
	"map A 0x2000 -> 0x6000\n"
	"map B 0x1000 -> 0x7000\n"
	"vcpu g.0 long cr3 A cr4 +pge +pcide\n"
	"run g.0 on 0\n"
	"g.0: access 0x1000\n"                   /* slot 0 */
	"g.0: map A 0x2000 -> 0x8000\n"          /* slot 1 */
	"g.0: mov cr3 B noflush\n"               /* slot 2 */
	"g.0: invlpg 0x1000\n"                   /* slot 3 */
	"g.0: invpcid 0 pcid 1 va 0x2000\n"      /* slot 4 */
	"g.0: mov cr3 A\n"                       /* slot 5 */
	"g.0: unmap A 0x1000\n"                  /* slot 6 */
	"g.0: mov cr4 -pge\n"                    /* slot 7 */
	"g.0: access 0x2000\n"                   /* slot 8 */
	"expect clean\n";

/* Instructions of slot i: from the `mov esi; mov edi, &result[i]` that opens it to the next such pair. */
static int slot_insns(const struct vt_probe_image *img, int mode64, int i, struct insn *out, int max)
{
	struct insn all[4096];
	uint32_t at[4096];
	int n = decode_range_at(img, img->code_start, img->code_end, mode64, all, 4096, at, NULL);
	int k = 0;
	for (int j = 0; j + 1 < n; j++) {
		if (all[j].k == I_MOV_R_IMM && all[j].reg == 6 && all[j + 1].k == I_MOV_R_IMM && all[j + 1].reg == 7 &&
		    all[j + 1].imm == VT_PROBE_RESULTS + 4u * (uint32_t)(1 + i)) {
			/* up to the next operation's opening pair (resume_i is the end of the run
			 * for operations that may not fault) */
			for (int q = j; q < n && k < max; q++) {
				if (q > j + 1 && q + 1 < n && all[q].k == I_MOV_R_IMM && all[q].reg == 6 &&
				    all[q + 1].k == I_MOV_R_IMM && all[q + 1].reg == 7)
					break;
				out[k++] = all[q];
			}
			(void)at;
			return k;
		}
	}
	return -1;
}

static void test_long(void)
{
	struct vt_model *m = tap_parse(long_scn, VT_FIXSET_NONE);
	struct vt_probe_image *img = calloc(1, sizeof(*img));
	char err[256];
	uint32_t line;
	if (!tap_ok(m && img, "probe.long.parse"))
		return;
	int rc = vt_probe_build(m, img, &line, err, sizeof(err));
	if (!tap_ok(rc == 0, "probe.long.builds (%s)", err))
		return;
	tap_ok(img->mode == VT_PROBE_MODE_64 && img->needs_pcid && img->needs_invpcid && img->nslots == 9, "probe.long.mode-and-slots");
	const uint8_t *mb = mem_of(img, VT_PROBE_BASE);
	tap_ok(rd32(mb) == 0x1badb002u && (uint32_t)(rd32(mb) + rd32(mb + 4) + rd32(mb + 8)) == 0 &&
		       rd32(mb + 28) == img->entry,
	       "probe.multiboot-header");

	/* every byte of the operation code decodes */
	struct insn all[4096];
	uint32_t bad = 0;
	int n = decode_range(img, img->code_start, img->code_end, 1, all, 4096, &bad);
	tap_ok(n > 0, "probe.long.code-decodes (first unknown byte at 0x%x)", n > 0 ? 0 : bad);

	/* the setup also decodes: 32-bit until the far jump to the 64-bit selector */
	int far64 = -1, wrmsr = 0;
	uint32_t a = img->entry;
	for (int i = 0; i < 256 && a < img->code_start; i++) {
		struct insn in = decode(mem_of(img, a), 0);
		if (in.k == I_BAD)
			break;
		wrmsr |= in.k == I_WRMSR;
		a += (uint32_t)in.len;
		if (in.k == I_JMP_FAR && in.imm == 0x18) {
			far64 = in.addr == a ? i : -1;
			break;
		}
	}
	tap_ok(far64 > 0 && wrmsr, "probe.long.setup-enters-64-bit");
	struct insn rest[64];
	tap_ok(far64 > 0 && decode_range(img, a, img->code_start, 1, rest, 64, NULL) > 0, "probe.long.setup-decodes");

	/* slot 2: mov rax, CR3(B) | 1<<63; mov cr3, rax */
	struct insn s[32];
	int k = slot_insns(img, 1, 2, s, 32);
	uint64_t cr3b = 0;
	int ok = k == 5 && s[2].k == I_MOV_RAX_IMM64 && s[3].k == I_MOV_CR_R && s[3].reg == 3 &&
		 s[4].k == I_STORE_EDI_IMM && s[4].imm == VT_PROBE_DONE;
	if (ok)
		cr3b = s[2].imm;
	tap_ok(ok && (cr3b >> 63) == 1 && (cr3b & 0xfff) == 2, "probe.long.mov-cr3-noflush");
	k = slot_insns(img, 1, 5, s, 32);
	uint64_t cr3a = k == 5 && s[2].k == I_MOV_RAX_IMM64 ? s[2].imm : 0;
	tap_ok((cr3a >> 63) == 0 && (cr3a & 0xfff) == 1, "probe.long.mov-cr3-flush");

	/* the tables: what each space maps, through the marker pages */
	int g = 0;
	tap_ok(gpa_at(img, 1, cr3a, VT_PROBE_VA_BASE + 0x1000, &g) == 0x5000 && g == 1, "probe.long.walk-A-global");
	tap_ok(gpa_at(img, 1, cr3a, VT_PROBE_VA_BASE + 0x2000, &g) == 0x6000 && g == 0, "probe.long.walk-A");
	tap_ok(gpa_at(img, 1, cr3b, VT_PROBE_VA_BASE + 0x1000, &g) == 0x7000, "probe.long.walk-B");
	tap_ok(walk(img, 1, cr3b, VT_PROBE_VA_BASE + 0x2000, &g) == 0, "probe.long.walk-B-unmapped");
	tap_ok(walk(img, 1, cr3a, img->code_start, &g) == img->code_start && g == 0 &&
		       walk(img, 1, cr3b, VT_PROBE_RESULTS, &g) == VT_PROBE_RESULTS,
	       "probe.long.identity-map");

	/* resume addresses: an access's #PF resumes after it; an op that may not fault ends the run */
	k = slot_insns(img, 1, 3, s, 32);
	tap_ok(k >= 1 && s[0].imm == img->code_end, "probe.long.refused-op-ends-the-run");

	/* slot 0: the access reads the VA and stores what it read */
	k = slot_insns(img, 1, 0, s, 32);
	tap_ok(k == 4 && s[2].k == I_LOAD_ABS && s[2].addr == VT_PROBE_VA_BASE + 0x1000 && s[3].k == I_STORE_EDI_EAX,
	       "probe.long.access");
	/* slot 1: the PTE store lands on A's leaf entry for 0x2000 and points at 0x8000's marker */
	k = slot_insns(img, 1, 1, s, 32);
	ok = k == 4 && s[2].k == I_STORE_ABS_IMM;
	int hit = 0;
	if (ok) {
		const uint8_t *pd = NULL;
		/* find A's leaf entry by walking to it */
		uint64_t t = cr3a & ~0xfffull;
		for (int lvl = 3; lvl >= 1; lvl--) {
			pd = mem_of(img, (uint32_t)(t + 8 * (((VT_PROBE_VA_BASE + 0x2000ull) >> (12 + 9 * lvl)) & 511)));
			t = pd ? rd64(pd) & ~0xfffull : 0;
		}
		uint32_t leaf = (uint32_t)t + 8 * (((VT_PROBE_VA_BASE + 0x2000u) >> 12) & 511);
		const uint8_t *fr = mem_of(img, (uint32_t)s[2].imm & ~0xfffu);
		hit = s[2].addr == leaf && (s[2].imm & 1) && !(s[2].imm & 0x100) && fr &&
		      img->frame_gpa[rd32(fr) & 0xffff] == 0x8000;
	}
	tap_ok(hit, "probe.long.map-writes-the-leaf");
	k = slot_insns(img, 1, 6, s, 32);
	tap_ok(k == 4 && s[2].k == I_STORE_ABS_IMM && s[2].imm == 0, "probe.long.unmap-clears");
	/* slot 3, 4: INVLPG of the relocated VA; INVPCID type 0 with its descriptor */
	k = slot_insns(img, 1, 3, s, 32);
	tap_ok(k == 4 && s[2].k == I_INVLPG && s[2].addr == VT_PROBE_VA_BASE + 0x1000, "probe.long.invlpg");
	k = slot_insns(img, 1, 4, s, 32);
	ok = k == 5 && s[2].k == I_MOV_R_IMM && s[2].reg == 0 && s[2].imm == 0 && s[3].k == I_INVPCID;
	const uint8_t *d = ok ? mem_of(img, s[3].addr) : NULL;
	tap_ok(d && rd64(d) == 1 && rd64(d + 8) == VT_PROBE_VA_BASE + 0x2000, "probe.long.invpcid-descriptor");
	/* slot 7: CR4 read-modify-write clearing PGE only */
	k = slot_insns(img, 1, 7, s, 32);
	tap_ok(k == 6 && s[2].k == I_MOV_R_CR && s[2].reg == 4 && s[3].k == I_AND_EAX && s[3].imm == ~X86_CR4_PGE &&
		       s[4].k == I_MOV_CR_R && s[4].reg == 4,
	       "probe.long.mov-cr4");

	/* the #PF handler: store FAULT|14, reset the stack, resume at rsi */
	const uint8_t *idt = mem_of(img, rd32(mem_of(img, VT_PROBE_BASE + 0x90 + 2)) + 14 * 16);
	uint32_t h = idt ? (uint32_t)((rd64(idt) & 0xffff) | ((rd64(idt) >> 32) & 0xffff0000u)) : 0;
	struct insn hi[3];
	int nh = h ? decode_range(img, h, h + 13, 1, hi, 3, NULL) : -1;
	tap_ok(nh == 3 && hi[0].k == I_STORE_EDI_IMM && hi[0].imm == (VT_PROBE_FAULT | 14) && hi[1].k == I_MOV_R_IMM &&
		       hi[1].reg == 4 && hi[2].k == I_JMP_RSI,
	       "probe.long.pf-handler");

	/* the end: results out through 0xe9, then 0xf4 */
	int out_e9 = 0, out_f4 = 0;
	struct insn fin[16];
	int nf = 0;
	for (uint32_t q = img->code_end; nf < 16; nf++) {
		fin[nf] = decode(mem_of(img, q), 1);
		if (fin[nf].k == I_BAD || fin[nf].k == I_HLT)
			break;
		q += (uint32_t)fin[nf].len;
	}
	for (int i = 0; i + 1 < nf; i++) {
		if (fin[i].k == I_MOV_DX && fin[i].imm == VT_PROBE_PORT_DATA && fin[i + 1].k == I_REP_OUTSB)
			out_e9 = 1;
		if (fin[i].k == I_MOV_DX && fin[i].imm == VT_PROBE_PORT_EXIT && fin[i + 2].k == I_OUT)
			out_f4 = out_e9;
	}
	tap_ok(out_e9 && out_f4, "probe.long.results-then-exit");

	/* the checker, on made-up results: the run as the oracle allows it ... */
	uint32_t w[12] = {0};
	w[0] = VT_PROBE_MAGIC_START;
	for (int i = 0; i < 9; i++)
		w[1 + i] = VT_PROBE_DONE;
	w[10] = VT_PROBE_DONE;
	w[11] = VT_PROBE_MAGIC_END;
	int f5000 = -1, f6000 = -1, f8000 = -1;
	for (int i = 0; i < img->nframes; i++) {
		f5000 = img->frame_gpa[i] == 0x5000 ? i : f5000;
		f6000 = img->frame_gpa[i] == 0x6000 ? i : f6000;
		f8000 = img->frame_gpa[i] == 0x8000 ? i : f8000;
	}
	struct vt_probe_check *c = malloc(sizeof(*c));
	w[1] = VT_PROBE_MARK | (uint32_t)f5000;
	w[9] = VT_PROBE_MARK | (uint32_t)f8000;
	rc = vt_probe_check(m, img, w, 12, c);
	tap_ok(rc == 0 && c->naccess == 2 && c->failures == 0 && c->stale == 0, "probe.check.conformant");
	/* ... the old 0x2000 -> 0x6000 after INVPCID type 0 and a flushing MOV CR3: not permitted */
	w[9] = VT_PROBE_MARK | (uint32_t)f6000;
	rc = vt_probe_check(m, img, w, 12, c);
	tap_ok(rc == 0 && c->failures == 1 && !c->acc[1].ok && c->acc[1].npermitted == 1 &&
		       c->acc[1].permitted[0] == 0x8000,
	       "probe.check.fails-on-a-removed-translation");
	/* a page fault although the table maps the VA: not permitted */
	w[9] = VT_PROBE_FAULT | 14;
	rc = vt_probe_check(m, img, w, 12, c);
	tap_ok(rc == 0 && c->failures == 1, "probe.check.fault-with-a-mapping-fails");
	/* an operation the architecture allows, faulted by the implementation */
	w[9] = VT_PROBE_MARK | (uint32_t)f8000;
	w[8] = VT_PROBE_FAULT | 13;
	rc = vt_probe_check(m, img, w, 12, c);
	tap_ok(rc == 0 && c->refused_slot == 7, "probe.check.refused-op");
	w[8] = VT_PROBE_DONE;
	w[11] = 0;
	tap_ok(vt_probe_check(m, img, w, 12, c) < 0, "probe.check.malformed-stream");
	free(c);
	vt_probe_image_fini(img);
	free(img);
	vt_model_free(m);
}

static const char pae32_scn[] =
	"arch x86 vmx ept\n"
	"machine pcpus 1\n"
	"vm g vcpus 1\n"
	"space A pcid 0\n"
	"map A 0x1000 -> 0x5000\n"
	"map A 0x400000 -> 0x6000 global\n"
	"vcpu g.0 cr3 A cr4 +pge\n"
	"run g.0 on 0\n"
	"g.0: mov cr0 +pe +pg\n"
	"g.0: access 0x1000\n"
	"g.0: map A 0x1000 -> 0x7000\n"
	"g.0: access 0x1000\n"
	"g.0: access 0x400000\n"
	"expect clean\n";

static void test_32(void)
{
	struct vt_model *m = tap_parse(pae32_scn, VT_FIXSET_NONE);
	struct vt_probe_image *img = calloc(1, sizeof(*img));
	char err[256];
	uint32_t line;
	if (!tap_ok(m && img && vt_probe_build(m, img, &line, err, sizeof(err)) == 0, "probe.32.builds"))
		return;
	tap_ok(img->mode == VT_PROBE_MODE_32 && !img->needs_pcid && !img->needs_invpcid, "probe.32.mode");
	struct insn all[512];
	uint32_t bad = 0;
	int n = decode_range(img, img->entry, img->code_end, 0, all, 512, &bad);
	tap_ok(n > 0, "probe.32.code-decodes");
	/* the setup loads CR4 = PGE and CR3 = A's directory, then leaves paging off */
	uint64_t cr3 = 0, cr4 = 1;
	for (int i = 0; i + 1 < n && all[i].k != I_STORE_EDI_IMM; i++) {
		if (all[i].k == I_MOV_R_IMM && all[i].reg == 0 && all[i + 1].k == I_MOV_CR_R && all[i + 1].reg == 3)
			cr3 = all[i].imm;
		if (all[i].k == I_MOV_R_IMM && all[i].reg == 0 && all[i + 1].k == I_MOV_CR_R && all[i + 1].reg == 4)
			cr4 = all[i].imm;
	}
	tap_ok(cr4 == X86_CR4_PGE && cr3 != 0, "probe.32.initial-cr3-cr4");
	int g = 0;
	tap_ok(gpa_at(img, 0, cr3, VT_PROBE_VA_BASE + 0x1000, &g) == 0x5000 && g == 0, "probe.32.walk");
	tap_ok(gpa_at(img, 0, cr3, VT_PROBE_VA_BASE + 0x400000, &g) == 0x6000 && g == 1, "probe.32.walk-second-table");
	struct insn s[16];
	int k = slot_insns(img, 0, 0, s, 16);
	tap_ok(k == 6 && s[2].k == I_MOV_R_CR && s[2].reg == 0 && s[3].k == I_OR_EAX && s[3].imm == X86_CR0_PG &&
		       s[4].k == I_MOV_CR_R && s[4].reg == 0,
	       "probe.32.mov-cr0-sets-pg");
	vt_probe_image_fini(img);
	free(img);
	vt_model_free(m);
}

static int build_fails(const char *text, const char *needle, uint32_t want_line)
{
	struct vt_model *m = tap_parse(text, VT_FIXSET_NONE);
	struct vt_probe_image *img = calloc(1, sizeof(*img));
	char err[256] = "";
	uint32_t line = 0;
	int rc = m && img ? vt_probe_build(m, img, &line, err, sizeof(err)) : 0;
	if (rc == 0 && img)
		vt_probe_image_fini(img);
	free(img);
	if (m)
		vt_model_free(m);
	if (rc == 0 || !strstr(err, needle) || line != want_line)
		printf("# got rc %d line %u: %s\n", rc, line, err);
	return rc < 0 && strstr(err, needle) && line == want_line;
}

#define HEAD "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nspace A pcid 0\nmap A 0x1000 -> 0x5000\n" \
	     "vcpu g.0 long cr3 A\nrun g.0 on 0\n"

static void test_rejects(void)
{
	tap_ok(build_fails(HEAD "g.0: access 0x1800\nexpect clean\n", "page-aligned", 8), "probe.rejects.unaligned");
	tap_ok(build_fails(HEAD "g.0: fep invlpg 0x1000\nexpect clean\n", "fep", 8), "probe.rejects.fep");
	tap_ok(build_fails(HEAD "host: unmap g 0x5000\nexpect clean\n", "host", 8), "probe.rejects.host-op");
	tap_ok(build_fails(HEAD "g.0: mov cr0 -pg\nexpect clean\n", "IA-32e", 8), "probe.rejects.leave-long-mode");
	tap_ok(build_fails(HEAD "g.0: init\nexpect clean\n", "INIT probe runs 32-bit paging", 8),
	       "probe.rejects.init-in-long-mode");
	tap_ok(build_fails(HEAD "g.0: access 0x40000000\nexpect clean\n", "below 0x40000000", 8),
	       "probe.rejects.high-va");
	tap_ok(build_fails("arch arm64\nmachine pcpus 1\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n", "x86", 0),
	       "probe.rejects.arm64");
}

static const char init_scn[] =
	"arch x86 vmx ept\n"
	"machine pcpus 1\n"
	"vm g vcpus 1\n"
	"space A pcid 0\n"
	"map A 0x1000 -> 0x5000 global\n"
	"vcpu g.0 cr3 A cr4 +pge\n"
	"run g.0 on 0\n"
	"g.0: mov cr0 +pe +pg\n"       /* slot 0 */
	"g.0: access 0x1000\n"         /* slot 1 */
	"g.0: init\n"                  /* slot 2 */
	"g.0: mov cr3 A\n"             /* slot 3, real mode */
	"g.0: mov cr0 +pe +pg\n"       /* slot 4, real mode, then protected mode */
	"g.0: access 0x1000\n"         /* slot 5 */
	"expect clean\n";

static void test_init(void)
{
	struct vt_model *m = tap_parse(init_scn, VT_FIXSET_NONE);
	struct vt_probe_image *img = calloc(1, sizeof(*img));
	char err[256];
	uint32_t line;
	if (!tap_ok(m && img && vt_probe_build(m, img, &line, err, sizeof(err)) == 0, "probe.init.builds"))
		return;
	tap_ok(img->ncpus == 2 && img->ninits == 1, "probe.init.two-cpus");
	/* CPU 0: INIT then SIPI to APIC ID 1, vector 8 (start) and later vector 9 (after the INIT) */
	int icr[4] = {0}, n = 0;
	for (uint32_t a = img->entry; a < img->code_start && n < 64;) {
		struct insn in = decode(mem_of(img, a), 0);
		if (in.k == I_BAD || in.k == I_HLT)
			break;
		if (in.k == I_STORE_ABS_IMM && in.addr == 0xfee00300u) {
			icr[0] |= in.imm == 0x4500;
			icr[1] |= in.imm == 0x4608;
			icr[2] |= in.imm == 0x4609;
		}
		if (in.k == I_STORE_ABS_IMM && in.addr == 0xfee00310u)
			icr[3] |= in.imm == 1u << 24;
		a += (uint32_t)in.len;
		n++;
	}
	tap_ok(icr[0] && icr[1] && icr[2] && icr[3], "probe.init.bsp-sends-init-and-sipi");
	/* trampoline 1 (real mode): cli; lgdt; mov eax, CR3(A); mov cr3; CR0 |= PE|PG; far jump to 32-bit code */
	const uint8_t *t = mem_of(img, VT_PROBE_BASE + 0xd400);
	int ok = t && t[0] == 0xfa && t[1] == 0x66 && t[2] == 0x0f && t[3] == 0x01 && t[4] == 0x16 &&
		 t[7] == 0x66 && t[8] == 0xb8 && t[13] == 0x0f && t[14] == 0x22 && t[15] == 0xd8 &&
		 t[16] == 0x0f && t[17] == 0x20 && t[18] == 0xc0 && t[19] == 0x66 && t[20] == 0x0d &&
		 rd32(t + 21) == (X86_CR0_PE | X86_CR0_PG) && t[25] == 0x0f && t[26] == 0x22 && t[27] == 0xc0 &&
		 t[28] == 0x66 && t[29] == 0xea && t[34] == 0x08 && t[35] == 0;
	uint32_t cont = ok ? rd32(t + 30) : 0;
	tap_ok(ok && cont > img->code_start && cont < img->code_end, "probe.init.trampoline");
	int g = 0;
	tap_ok(ok && gpa_at(img, 0, rd32(t + 9), VT_PROBE_VA_BASE + 0x1000, &g) == 0x5000 && g == 1,
	       "probe.init.trampoline-cr3");
	vt_probe_image_fini(img);
	free(img);
	vt_model_free(m);
}

int main(void)
{
	test_long();
	test_init();
	test_32();
	test_rejects();
	return tap_done();
}
