/*
 * The probe's KVM back-end: one VM, one vCPU (two, with the in-kernel
 * interrupt controller, for INIT probes: vCPU 0 sends INIT and SIPI to
 * vCPU 1, each vCPU in its own thread), the image at VT_PROBE_BASE in
 * one memory slot, the vCPU started in the multiboot state (32-bit protected
 * mode, flat segments, paging off) at the image's entry, with the CPUID KVM
 * supports (the guest's PCID, INVPCID and long mode depend on it: KVM checks
 * CR4 and EFER writes against the guest CPUID).  KVM_RUN until the guest
 * writes port 0xf4; the bytes it writes to port 0xe9 are the results.
 * Documentation/virt/kvm/api.rst describes every ioctl used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vtlb/probe.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__)) && __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
#define HAVE_KVM 1
#endif

#ifdef HAVE_KVM

#define MAX_CPUS 2

struct kvm;

struct vcpu {
	struct kvm *k;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

struct kvm {
	int sys, vm;
	int ncpus;
	struct vcpu cpu[MAX_CPUS];
	void *mem;
	size_t run_size;
	/* shared by the vCPU threads */
	pthread_mutex_t lock;
	int done;             /* a vCPU stopped the run */
	enum vt_probe_rc rc;
	char *msg;
	size_t msglen;
	uint8_t *out;
	size_t want, got;
};

static void kvm_close(struct kvm *k)
{
	for (int i = 0; i < MAX_CPUS; i++) {
		if (k->cpu[i].run)
			munmap(k->cpu[i].run, k->run_size);
		if (k->cpu[i].fd >= 0)
			close(k->cpu[i].fd);
	}
	if (k->mem)
		munmap(k->mem, VT_PROBE_MEM);
	if (k->vm >= 0)
		close(k->vm);
	if (k->sys >= 0)
		close(k->sys);
}

static void seg(struct kvm_segment *s, unsigned sel, unsigned type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffffu;
	s->selector = (uint16_t)sel;
	s->type = (uint8_t)type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

/* CPUID bits the probe needs from KVM: leaf 1 ECX.PCID[17], leaf 7 EBX.INVPCID[10]. */
static int set_cpuid(struct kvm *k, int fd, const struct vt_probe_image *img, char *msg, size_t msglen)
{
	int n = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -1;
	c->nent = (uint32_t)n;
	if (ioctl(k->sys, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		snprintf(msg, msglen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return -1;
	}
	int pcid = 0, invpcid = 0;
	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 1)
			pcid = (c->entries[i].ecx >> 17) & 1;
		if (c->entries[i].function == 7 && c->entries[i].index == 0)
			invpcid = (c->entries[i].ebx >> 10) & 1;
	}
	if ((img->needs_pcid && !pcid) || (img->needs_invpcid && !invpcid)) {
		snprintf(msg, msglen, "needs %s, which this KVM does not offer to guests",
			 img->needs_pcid && !pcid ? "PCID" : "INVPCID");
		free(c);
		return 1;
	}
	if (ioctl(fd, KVM_SET_CPUID2, c) < 0) {
		snprintf(msg, msglen, "KVM_SET_CPUID2: %s", strerror(errno));
		free(c);
		return -1;
	}
	free(c);
	return 0;
}

/* Stop the run (first caller wins) and kick every vCPU out of KVM_RUN. */
static void stop(struct kvm *k, enum vt_probe_rc rc, const char *why)
{
	pthread_mutex_lock(&k->lock);
	if (!k->done) {
		k->done = 1;
		k->rc = rc;
		if (why)
			snprintf(k->msg, k->msglen, "%s", why);
	}
	pthread_mutex_unlock(&k->lock);
	for (int i = 0; i < k->ncpus; i++) {
		k->cpu[i].run->immediate_exit = 1;
		if (k->cpu[i].started)
			pthread_kill(k->cpu[i].thread, SIGUSR1);
	}
}

static int stopped(struct kvm *k)
{
	pthread_mutex_lock(&k->lock);
	int d = k->done;
	pthread_mutex_unlock(&k->lock);
	return d;
}

/* One vCPU: KVM_RUN until the guest writes port 0xf4, or something ends the run. */
static void *vcpu_loop(void *arg)
{
	struct vcpu *c = arg;
	struct kvm *k = c->k;
	char why[256];
	while (!stopped(k)) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			/* EAGAIN: an AP woke up without being made runnable yet (waiting for SIPI) */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "KVM_RUN: %s", strerror(errno));
			stop(k, VT_PROBE_RUN_FAILED, why);
			break;
		}
		struct kvm_run *r = c->run;
		if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT) {
			const uint8_t *d = (const uint8_t *)r + r->io.data_offset;
			size_t n = (size_t)r->io.size * r->io.count;
			if (r->io.port == VT_PROBE_PORT_DATA) {
				pthread_mutex_lock(&k->lock);
				for (size_t i = 0; i < n; i++, k->got++)
					if (k->got < k->want)
						k->out[k->got] = d[i];
				pthread_mutex_unlock(&k->lock);
				continue;
			}
			if (r->io.port == VT_PROBE_PORT_EXIT) {
				pthread_mutex_lock(&k->lock);
				size_t got = k->got;
				pthread_mutex_unlock(&k->lock);
				if (got == k->want) {
					stop(k, VT_PROBE_RUN_OK, NULL);
				} else {
					snprintf(why, sizeof(why), "the guest wrote %zu result bytes, expected %zu", got, k->want);
					stop(k, VT_PROBE_RUN_FAILED, why);
				}
				break;
			}
			snprintf(why, sizeof(why), "unexpected OUT to port 0x%x", r->io.port);
			stop(k, VT_PROBE_RUN_FAILED, why);
			break;
		}
		if (r->exit_reason == KVM_EXIT_MMIO) {
			/* no device: reads return all ones, writes go nowhere */
			if (!r->mmio.is_write)
				memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
			continue;
		}
		if (r->exit_reason == KVM_EXIT_HLT) {
			/* without the in-kernel APIC, a halted CPU has nothing more to do */
			if (k->ncpus == 1) {
				stop(k, VT_PROBE_RUN_FAILED, "the guest halted before it finished");
				break;
			}
			continue;
		}
		if (r->exit_reason == KVM_EXIT_SHUTDOWN)
			snprintf(why, sizeof(why), "vCPU %d shut down (triple fault)", (int)(c - k->cpu));
		else if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
			snprintf(why, sizeof(why), "KVM entry failed (reason 0x%llx)",
				 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
			struct kvm_regs rr;
			unsigned long long rip = ioctl(c->fd, KVM_GET_REGS, &rr) == 0 ? rr.rip : 0;
			snprintf(why, sizeof(why), "KVM internal error (suberror %u) on vCPU %d at RIP 0x%llx",
				 r->internal.suberror, (int)(c - k->cpu), rip);
		} else
			snprintf(why, sizeof(why), "unexpected KVM exit %u", r->exit_reason);
		stop(k, VT_PROBE_RUN_FAILED, why);
		break;
	}
	return NULL;
}

static void on_kick(int sig)
{
	(void)sig;
}

enum vt_probe_rc vt_probe_run_kvm(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen)
{
	struct kvm k;
	memset(&k, 0, sizeof(k));
	k.sys = k.vm = -1;
	for (int i = 0; i < MAX_CPUS; i++)
		k.cpu[i].fd = -1;
	k.ncpus = img->ncpus > 1 ? 2 : 1;
	k.msg = msg;
	k.msglen = msglen;
	k.out = (uint8_t *)words;
	k.want = (size_t)nwords * 4;
	k.rc = VT_PROBE_RUN_FAILED;
	pthread_mutex_init(&k.lock, NULL);
	enum vt_probe_rc rc = VT_PROBE_RUN_FAILED;
	msg[0] = 0;
	k.sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k.sys < 0) {
		snprintf(msg, msglen, "cannot open /dev/kvm: %s", strerror(errno));
		pthread_mutex_destroy(&k.lock);
		return VT_PROBE_RUN_UNAVAILABLE;
	}
	if (ioctl(k.sys, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(msg, msglen, "unexpected KVM API version");
		rc = VT_PROBE_RUN_UNAVAILABLE;
		goto out;
	}
	k.vm = ioctl(k.sys, KVM_CREATE_VM, 0);
	if (k.vm < 0) {
		snprintf(msg, msglen, "KVM_CREATE_VM: %s", strerror(errno));
		rc = VT_PROBE_RUN_UNAVAILABLE;
		goto out;
	}
	/* Intel without unrestricted guest needs a TSS area; harmless elsewhere. */
	(void)ioctl(k.vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	/* INIT and SIPI travel through the in-kernel local APICs. */
	if (k.ncpus > 1 && ioctl(k.vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(msg, msglen, "KVM_CREATE_IRQCHIP (needed for INIT): %s", strerror(errno));
		rc = VT_PROBE_RUN_UNSUPPORTED;
		goto out;
	}
	k.mem = mmap(NULL, VT_PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (k.mem == MAP_FAILED) {
		k.mem = NULL;
		snprintf(msg, msglen, "mmap: %s", strerror(errno));
		goto out;
	}
	memcpy((uint8_t *)k.mem + VT_PROBE_BASE, img->bytes, img->len);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = VT_PROBE_MEM, .userspace_addr = (uintptr_t)k.mem};
	if (ioctl(k.vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(msg, msglen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		goto out;
	}
	int sz = ioctl(k.sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0) {
		snprintf(msg, msglen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto out;
	}
	k.run_size = (size_t)sz;
	for (int i = 0; i < k.ncpus; i++) {
		struct vcpu *c = &k.cpu[i];
		c->k = &k;
		c->fd = ioctl(k.vm, KVM_CREATE_VCPU, i);
		if (c->fd < 0) {
			snprintf(msg, msglen, "KVM_CREATE_VCPU: %s", strerror(errno));
			goto out;
		}
		c->run = mmap(NULL, k.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			snprintf(msg, msglen, "mmap kvm_run: %s", strerror(errno));
			goto out;
		}
		int cr = set_cpuid(&k, c->fd, img, msg, msglen);
		if (cr) {
			rc = cr > 0 ? VT_PROBE_RUN_UNSUPPORTED : VT_PROBE_RUN_FAILED;
			goto out;
		}
	}
	/* vCPU 0 in the multiboot entry state: CR0.PE|ET, flat 32-bit segments, EIP at the entry.
	 * vCPU 1 (INIT probes) waits for INIT and SIPI from vCPU 0. */
	struct kvm_sregs sr;
	if (ioctl(k.cpu[0].fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(msg, msglen, "KVM_GET_SREGS: %s", strerror(errno));
		goto out;
	}
	seg(&sr.cs, 0x08, 0xb);
	seg(&sr.ds, 0x10, 0x3);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 = 0x11;
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(k.cpu[0].fd, KVM_SET_SREGS, &sr) < 0) {
		snprintf(msg, msglen, "KVM_SET_SREGS: %s", strerror(errno));
		goto out;
	}
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = img->entry;
	regs.rflags = 2;
	if (ioctl(k.cpu[0].fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(msg, msglen, "KVM_SET_REGS: %s", strerror(errno));
		goto out;
	}

	/* A vCPU thread leaves KVM_RUN on SIGUSR1 (no SA_RESTART: EINTR); everyone else blocks it. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old);
	for (int i = 0; i < k.ncpus; i++) {
		if (pthread_create(&k.cpu[i].thread, NULL, vcpu_loop, &k.cpu[i]) != 0) {
			stop(&k, VT_PROBE_RUN_FAILED, "cannot start a vCPU thread");
			break;
		}
		k.cpu[i].started = 1;
	}
	for (long waited = 0; !stopped(&k); waited += 10) {
		if (waited >= (long)timeout * 1000) {
			char why[96];
			snprintf(why, sizeof(why), "the guest did not finish within %d s", timeout);
			stop(&k, VT_PROBE_RUN_FAILED, why);
			break;
		}
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	stop(&k, VT_PROBE_RUN_FAILED, NULL);   /* kicks the others; keeps the first verdict */
	for (int i = 0; i < k.ncpus; i++)
		if (k.cpu[i].started) {
			pthread_join(k.cpu[i].thread, NULL);
			k.cpu[i].started = 0;
		}
	sigaction(SIGUSR1, &old, NULL);
	rc = k.rc;
	if (rc != VT_PROBE_RUN_OK && getenv("VTLB_PROBE_DEBUG")) {
		const uint32_t *res = (const uint32_t *)((const uint8_t *)k.mem + VT_PROBE_RESULTS);
		for (int i = 0; i < nwords; i++)
			fprintf(stderr, "probe debug: result[%d] = 0x%08x\n", i, res[i]);
	}
out:
	kvm_close(&k);
	pthread_mutex_destroy(&k.lock);
	return rc;
}

#else

enum vt_probe_rc vt_probe_run_kvm(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen)
{
	(void)img, (void)words, (void)nwords, (void)timeout;
	snprintf(msg, msglen, "built without KVM support (not Linux on x86)");
	return VT_PROBE_RUN_UNAVAILABLE;
}

#endif
