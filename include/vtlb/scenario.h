/*
 * The scenario language: a small line-oriented text format (docs/scenarios.md)
 * parsed into an immutable model.
 *
 * Every malformed input yields exactly one diagnostic with file:line:col and
 * a message; the parser never aborts, never reads past its buffer and never
 * ignores a line it does not understand.  The token API below is what an
 * architecture uses to parse the operands of its own guest operations.
 */
#ifndef VTLB_SCENARIO_H
#define VTLB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtlb/model.h"

/* A warning: the scenario is accepted, but a line probably does not say what its author meant. */
struct vt_warning {
	uint32_t line;
	uint32_t col;
	char msg[240];
};

#define VT_MAX_WARNINGS 16

/*
 * What parsing (or running) a scenario has to say: one error (msg set, the
 * call failed) and any warnings.  Warnings
 * never change an outcome; the caller prints them (file:line:col: warning:).
 * They come in the order the parser finds them.
 */
struct vt_diag {
	char file[256];
	uint32_t line;
	uint32_t col;
	char msg[1024];
	uint32_t nwarn;             /* warnings in warn[] */
	uint32_t warn_dropped;      /* further warnings beyond VT_MAX_WARNINGS */
	struct vt_warning warn[VT_MAX_WARNINGS];
};

#define VT_MAX_TOKENS 64
#define VT_MAX_LINE 4096
#define VT_MAX_FILE (1u << 20)

struct vt_token {
	const char *s;
	uint32_t len;
	uint32_t col;
};

struct vt_parser {
	struct vt_model *m;
	struct vt_diag *diag;
	uint32_t line;
	int ntok;
	int cur;
	struct vt_token tok[VT_MAX_TOKENS];
	int vm;          /* VM of the operation being parsed, or -1 */
	int vcpu;        /* vCPU of the operation being parsed, or -1 */
	int allow_l2;    /* vt_parse_vcpu may name an L2 VM's vCPU (L2.N: the L1 vCPU that runs it) */
	int l2vm;        /* set by vt_parse_vcpu: the L2 VM it named, or -1 */
	int nested_ok;   /* spaces of VMs nested in 'vm' are accepted too (L1 editing an L2's tables) */
	int failed;
};

/*
 * Load a scenario file.  Returns a new model (free with vt_model_free) or
 * NULL with *d filled.  'reverted' is or-ed into the model's reverted fixes
 * (command-line --revert).
 */
struct vt_model *vt_scenario_load(const char *path, struct vt_fixset reverted, struct vt_diag *d);

/* What a stat() st_mode is, for messages: "a FIFO", "a directory", ... */
const char *vt_scenario_file_kind(unsigned mode);

/*
 * The number syntax of scenarios, shared with the command line: decimal, or
 * hexadecimal after 0x/0X, 64-bit; no sign, no octal (010 is ten).  Parses
 * exactly the n characters at s.  Returns 0, VT_NUM_INVALID or
 * VT_NUM_OVERFLOW.
 */
#define VT_NUM_INVALID (-1)
#define VT_NUM_OVERFLOW (-2)
int vt_parse_number_text(const char *s, size_t n, uint64_t *out);

/* The same from a buffer; 'name' is used in diagnostics. */
struct vt_model *vt_scenario_parse(const char *name, const char *text, size_t len, struct vt_fixset reverted,
				   struct vt_diag *d);

/*
 * The same with parameters: every ${NAME} in the text is replaced by the
 * value 'set' gives ("NAME=VALUE"), else by the scenario's 'param NAME
 * VALUE' default; an unknown NAME is an error at its line and column.
 */
struct vt_model *vt_scenario_load_params(const char *path, struct vt_fixset reverted, const char *const *set, int nset,
					 struct vt_diag *d);
struct vt_model *vt_scenario_parse_params(const char *name, const char *text, size_t len, struct vt_fixset reverted,
					  const char *const *set, int nset, struct vt_diag *d);

/* ---- token API for operand parsers ------------------------------------ */

bool vt_parse_at_end(const struct vt_parser *p);
/* Is the next token exactly 'word'? */
bool vt_parse_peek(const struct vt_parser *p, const char *word);
/* Consume the next token if it is exactly 'word'. */
bool vt_parse_accept(struct vt_parser *p, const char *word);
/* Consume 'word' or fail. */
int vt_parse_expect(struct vt_parser *p, const char *word);
/* A number (decimal or 0x hex); 'what' names it in errors. */
int vt_parse_number(struct vt_parser *p, const char *what, uint64_t *out);
/*
 * An address operand (VA, GPA or HPA): a number that names a page.  One
 * that is not 4 KiB-aligned is accepted with a warning: the model treats
 * every distinct address as a page of its own.
 */
int vt_parse_addr(struct vt_parser *p, const char *what, uint64_t *out);
/* Record a warning at token index i (or end of line); parsing goes on. */
void vt_parse_warn_at(struct vt_parser *p, int i, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* A bare word into buf. */
int vt_parse_word(struct vt_parser *p, const char *what, char *buf, size_t len);
/* The name of an address space of the current VM. */
int vt_parse_space(struct vt_parser *p, int *space);
/* A vCPU as VM.N (its index over all vCPUs); -1 with a diagnostic if not one. */
int vt_parse_vcpu(struct vt_parser *p, int *v);
/* Report an error at the current token (or end of line); returns -1. */
int vt_parse_error(struct vt_parser *p, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Report an error at token index i; returns -1. */
int vt_parse_error_at(struct vt_parser *p, int i, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* Does token i equal word? */
bool vt_tok_is(const struct vt_parser *p, int i, const char *word);

#endif
