/*
 * vtlb probe: hold the x86 oracle against real x86 implementations.
 *
 * A single-level x86 scenario's guest operations become a small flat guest
 * image (vt_probe_build): the scenario's page tables, one marker page per
 * guest-physical page (its first word names it), and machine code doing the
 * operations in order, each access reading the marker behind its VA into a
 * results area.  A back-end runs the image (KVM through /dev/kvm, or QEMU's
 * TCG) and returns the results stream; vt_probe_check() replays the same
 * scenario through vt_step() and checks every observation against the
 * translations the oracle permits at that step.
 *
 * Guest physical layout (both back-ends):
 *
 *   0x100000  image base: multiboot header, GDT, descriptors, IDT
 *   +0x2000   results: one 32-bit word per guest operation
 *   +0x3000   stack (top at +0x5000)
 *   +0x5000   code
 *   +0x10000  page tables, then the marker pages
 *
 * The first 2 MiB are identity-mapped (non-global) in every space; a
 * scenario VA v appears at linear address VT_PROBE_VA_BASE + v.
 */
#ifndef VTLB_PROBE_H
#define VTLB_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "vtlb/fixes.h"
#include "vtlb/model.h"

#define VT_PROBE_BASE 0x100000u
#define VT_PROBE_RESULTS (VT_PROBE_BASE + 0x2000u)
#define VT_PROBE_STACK_TOP (VT_PROBE_BASE + 0x5000u)
#define VT_PROBE_CODE (VT_PROBE_BASE + 0x5000u)
#define VT_PROBE_CODE_END (VT_PROBE_BASE + 0x10000u)
#define VT_PROBE_TABLES (VT_PROBE_BASE + 0x10000u)
#define VT_PROBE_MEM (4u << 20)              /* guest RAM the back-ends give */
#define VT_PROBE_VA_BASE 0x40000000u         /* where scenario VA 0 appears */
#define VT_PROBE_MAX_SLOTS 1000               /* result words after the header */

#define VT_PROBE_PORT_DATA 0xe9              /* debugcon: the results stream */
#define VT_PROBE_PORT_EXIT 0xf4              /* isa-debug-exit: done */

/* Result words. */
#define VT_PROBE_MAGIC_START 0x42525456u     /* "VTRB" */
#define VT_PROBE_MAGIC_END 0x45525456u       /* "VTRE" */
#define VT_PROBE_MARK 0x4b4d0000u            /* marker page n: MARK | n */
#define VT_PROBE_DONE 0x454e4f44u            /* "DONE": a non-access op completed */
#define VT_PROBE_FAULT 0x46000000u           /* FAULT | vector */

enum vt_probe_mode {
	VT_PROBE_MODE_32,   /* 32-bit protected mode, 32-bit paging */
	VT_PROBE_MODE_64,   /* IA-32e mode, 4-level paging */
};

/* One scenario guest operation as the probe runs it. */
struct vt_probe_slot {
	int event;          /* index into m->script */
	uint32_t line;
	uint16_t code;      /* op code */
	uint8_t model_fault;   /* the architecture faults this operation (#GP): no effect */
	uint64_t va;        /* access: scenario VA */
};

struct vt_probe_image {
	uint8_t *bytes;     /* the image, loaded at VT_PROBE_BASE */
	size_t len;
	uint32_t entry;     /* 32-bit protected-mode entry, paging off (multiboot state) */
	enum vt_probe_mode mode;
	int needs_pcid;     /* sets CR4.PCIDE: needs CPUID.01H:ECX.PCID */
	int needs_invpcid;  /* runs INVPCID: needs CPUID.(EAX=07H,ECX=0):EBX.INVPCID */
	int vcpu;           /* the scenario vCPU whose operations run */
	int ninits;         /* INITs in the script: then CPU 1 runs the operations, CPU 0 sends INIT/SIPI */
	int ncpus;
	int nslots;
	struct vt_probe_slot slot[VT_PROBE_MAX_SLOTS];
	int nframes;
	uint64_t frame_gpa[VT_MAX_P];   /* marker n stands for this scenario GPA */
	uint32_t code_start, code_end;  /* guest-physical range of the operation code */
};

/*
 * Build the guest for m's script.  Returns 0, or -1 with a message in err
 * (and *line set to the scenario line, 0 when none) when the scenario is
 * outside what the probe can run.
 */
int vt_probe_build(const struct vt_model *m, struct vt_probe_image *img, uint32_t *line, char *err, size_t errlen);
void vt_probe_image_fini(struct vt_probe_image *img);

/* ---- back-ends -------------------------------------------------------- */

enum vt_probe_be {
	VT_PROBE_KVM,
	VT_PROBE_TCG,
	VT_PROBE_BE_COUNT
};

enum vt_probe_rc {
	VT_PROBE_RUN_OK,
	VT_PROBE_RUN_UNAVAILABLE,   /* no /dev/kvm, no qemu: skip */
	VT_PROBE_RUN_UNSUPPORTED,   /* the back-end lacks a feature the probe needs (PCID on TCG) */
	VT_PROBE_RUN_FAILED,        /* the guest did not finish: crash, timeout, bad stream */
};

/*
 * Run the image; on VT_PROBE_RUN_OK words[0..nwords) is the results area as
 * the guest wrote it out (header, one word per slot, trailer).  msg says why
 * otherwise.  timeout in seconds.
 */
enum vt_probe_rc vt_probe_run_kvm(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen);
enum vt_probe_rc vt_probe_run_tcg(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen);
const char *vt_probe_be_name(enum vt_probe_be be);

/* ---- checking ----------------------------------------------------------- */

enum vt_probe_obs_kind {
	VT_PROBE_OBS_GPA,     /* read the marker of a GPA */
	VT_PROBE_OBS_FAULT,   /* the access faulted (#PF) */
	VT_PROBE_OBS_OTHER,   /* anything else (an unknown word) */
};

struct vt_probe_access {
	int slot;
	uint32_t step;        /* engine step of the access */
	uint32_t line;
	uint64_t va;
	uint8_t kind;         /* enum vt_probe_obs_kind */
	uint8_t ok;           /* permitted by the oracle */
	uint8_t stale;        /* permitted, and not what the current page table says */
	uint8_t pad;
	uint32_t word;        /* raw result word */
	uint64_t gpa;         /* observed, for VT_PROBE_OBS_GPA */
	int npermitted;
	uint64_t permitted[8];   /* GPAs the oracle permits */
	int fault_ok;            /* a fault is permitted (no current mapping) */
	int has_current;
	uint64_t current;        /* GPA of the current mapping */
};

struct vt_probe_check {
	int naccess;
	struct vt_probe_access acc[VT_PROBE_MAX_SLOTS];
	int failures;         /* conformance failures */
	int refused_slot;     /* first operation the implementation faulted and the architecture allows, or -1 */
	int faulted_slot;     /* first operation the architecture faults and the implementation ran, or -1 */
	int stale;            /* stale observed */
	char why[256];        /* set when the results could not be read at all */
};

/*
 * Check the results of one run of img against m's oracle.  Returns 0, or -1
 * with c->why set when the result words are malformed or the script does
 * not run in the model (diag filled then).
 */
int vt_probe_check(const struct vt_model *m, const struct vt_probe_image *img, const uint32_t *words, int nwords,
		   struct vt_probe_check *c);

/* ---- the command ------------------------------------------------------- */

struct vt_probe_opts {
	int repeat;           /* runs per back-end (>= 1) */
	int timeout;          /* seconds per run */
	unsigned backends;    /* bit per enum vt_probe_be */
	int json;
	int trace;            /* print every access */
	int quiet;
	struct vt_fixset reverted;
};

struct vt_probe_tally {
	int files;
	int conformant[VT_PROBE_BE_COUNT];
	int failed[VT_PROBE_BE_COUNT];
	int refused[VT_PROBE_BE_COUNT];
	int skipped[VT_PROBE_BE_COUNT];
	int errors;           /* bad input */
	int ran;              /* back-end runs that produced results */
	int json_printed;     /* --json: a result is out, the next needs a comma */
};

/*
 * Probe one scenario file on every selected back-end; prints one line per
 * back-end (or JSON objects, comma-separated after the first).
 */
void vt_probe_file(const struct vt_probe_opts *o, const char *path, FILE *out, struct vt_probe_tally *t);
/* The summary line (or the JSON tail) and the exit status: 0, 1, 2 or 77. */
int vt_probe_summary(const struct vt_probe_opts *o, const struct vt_probe_tally *t, FILE *out);

#endif
