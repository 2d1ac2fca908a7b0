/*
 * The probe's QEMU back-end: TCG, QEMU's own x86 implementation, as a
 * second implementation independent of the host CPU.
 *
 *   qemu-system-x86_64 -accel tcg -cpu max -m 8 -nodefaults -display none
 *       -no-reboot -kernel IMAGE -debugcon file:OUT
 *       -device isa-debug-exit,iobase=0xf4,iosize=4
 *
 * The image is a multiboot kernel (its header uses the address fields), so
 * QEMU's multiboot loader puts it at VT_PROBE_BASE and enters it in 32-bit
 * protected mode, paging off.  The guest writes its results to the debugcon
 * port (0xe9), which QEMU appends to OUT, and ends with a write to
 * isa-debug-exit, which makes QEMU exit with status (value << 1) | 1.  A
 * run that takes longer than the timeout is killed.  $VTLB_QEMU names
 * another binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vtlb/probe.h"

static const char *qemu_binary(void)
{
	const char *q = getenv("VTLB_QEMU");
	return q && *q ? q : "qemu-system-x86_64";
}

/* Is prog executable, directly or on PATH? */
static int have_program(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char buf[4096];
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		if (n && n + strlen(prog) + 2 < sizeof(buf)) {
			memcpy(buf, path, n);
			buf[n] = '/';
			strcpy(buf + n + 1, prog);
			if (access(buf, X_OK) == 0)
				return 1;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

enum vt_probe_rc vt_probe_run_tcg(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen)
{
	const char *qemu = qemu_binary();
	msg[0] = 0;
	if (!have_program(qemu)) {
		snprintf(msg, msglen, "%s not found (Debian: apt-get install qemu-system-x86)", qemu);
		return VT_PROBE_RUN_UNAVAILABLE;
	}
	/* VTLB_TCG_TRY_PCID=1 runs them anyway (docs/probe.md says what happens). */
	if ((img->needs_pcid || img->needs_invpcid) && !getenv("VTLB_TCG_TRY_PCID")) {
		snprintf(msg, msglen, "needs %s, which TCG does not offer", img->needs_pcid ? "PCID" : "INVPCID");
		return VT_PROBE_RUN_UNSUPPORTED;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[512], kernel[600], out[600], dbg[700];
	snprintf(dir, sizeof(dir), "%s/vtlb-probe-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(msg, msglen, "mkdtemp: %s", strerror(errno));
		return VT_PROBE_RUN_FAILED;
	}
	snprintf(kernel, sizeof(kernel), "%s/guest.bin", dir);
	snprintf(out, sizeof(out), "%s/results.bin", dir);
	snprintf(dbg, sizeof(dbg), "file:%s", out);
	enum vt_probe_rc rc = VT_PROBE_RUN_FAILED;
	if (write_file(kernel, img->bytes, img->len) < 0) {
		snprintf(msg, msglen, "cannot write %s: %s", kernel, strerror(errno));
		goto clean;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		goto clean;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execlp(qemu, qemu, "-accel", "tcg", "-cpu", "max", "-smp", img->ncpus > 1 ? "2" : "1", "-m", "8",
		       "-nodefaults", "-display", "none",
		       "-no-reboot", "-kernel", kernel, "-debugcon", dbg, "-device",
		       "isa-debug-exit,iobase=0xf4,iosize=4", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	long waited = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && waited < (long)timeout * 1000) {
		sleep_ms(20);
		waited += 20;
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(msg, msglen, "the guest did not finish within %d s under QEMU", timeout);
		goto clean;
	}
	if (w < 0) {
		snprintf(msg, msglen, "waitpid: %s", strerror(errno));
		goto clean;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(msg, msglen, "cannot run %s", qemu);
		rc = VT_PROBE_RUN_UNAVAILABLE;
		goto clean;
	}
	/* isa-debug-exit with 0: status 1.  Anything else: the guest did not reach its end. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) {
		snprintf(msg, msglen, "QEMU ended with status %d before the guest finished (triple fault?)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		goto clean;
	}
	FILE *f = fopen(out, "rb");
	if (!f) {
		snprintf(msg, msglen, "no results from QEMU: %s", strerror(errno));
		goto clean;
	}
	size_t want = (size_t)nwords * 4;
	size_t got = fread(words, 1, want, f);
	int extra = fgetc(f) != EOF;
	fclose(f);
	if (got != want || extra)
		snprintf(msg, msglen, "the guest wrote %s result bytes than expected", got < want ? "fewer" : "more");
	else
		rc = VT_PROBE_RUN_OK;
clean:
	unlink(kernel);
	unlink(out);
	rmdir(dir);
	return rc;
}

const char *vt_probe_be_name(enum vt_probe_be be)
{
	return be == VT_PROBE_KVM ? "kvm" : be == VT_PROBE_TCG ? "tcg" : "?";
}
