/*
 * The probe's KVM back-end: one VM, one vCPU, the image at VT_PROBE_BASE in
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

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

struct kvm {
	int sys, vm, cpu;
	void *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void kvm_close(struct kvm *k)
{
	if (k->run)
		munmap(k->run, k->run_size);
	if (k->mem)
		munmap(k->mem, VT_PROBE_MEM);
	if (k->cpu >= 0)
		close(k->cpu);
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
static int set_cpuid(struct kvm *k, int needs_pcid, char *msg, size_t msglen)
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
		if (getenv("VTLB_PROBE_DEBUG"))
			fprintf(stderr, "cpuid %x.%x: %08x %08x %08x %08x\n", c->entries[i].function, c->entries[i].index,
				c->entries[i].eax, c->entries[i].ebx, c->entries[i].ecx, c->entries[i].edx);
		if (c->entries[i].function == 1)
			pcid = (c->entries[i].ecx >> 17) & 1;
		if (c->entries[i].function == 7 && c->entries[i].index == 0)
			invpcid = (c->entries[i].ebx >> 10) & 1;
	}
	if (needs_pcid && !(pcid && invpcid)) {
		snprintf(msg, msglen, "this KVM does not offer PCID and INVPCID to guests");
		free(c);
		return 1;
	}
	if (ioctl(k->cpu, KVM_SET_CPUID2, c) < 0) {
		snprintf(msg, msglen, "KVM_SET_CPUID2: %s", strerror(errno));
		free(c);
		return -1;
	}
	free(c);
	return 0;
}

enum vt_probe_rc vt_probe_run_kvm(const struct vt_probe_image *img, uint32_t *words, int nwords, int timeout,
				  char *msg, size_t msglen)
{
	struct kvm k = {.sys = -1, .vm = -1, .cpu = -1};
	enum vt_probe_rc rc = VT_PROBE_RUN_FAILED;
	size_t want = (size_t)nwords * 4, got = 0;
	uint8_t *out = (uint8_t *)words;
	msg[0] = 0;
	k.sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k.sys < 0) {
		snprintf(msg, msglen, "cannot open /dev/kvm: %s", strerror(errno));
		return VT_PROBE_RUN_UNAVAILABLE;
	}
	if (ioctl(k.sys, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(msg, msglen, "unexpected KVM API version");
		kvm_close(&k);
		return VT_PROBE_RUN_UNAVAILABLE;
	}
	k.vm = ioctl(k.sys, KVM_CREATE_VM, 0);
	if (k.vm < 0) {
		snprintf(msg, msglen, "KVM_CREATE_VM: %s", strerror(errno));
		kvm_close(&k);
		return VT_PROBE_RUN_UNAVAILABLE;
	}
	/* Intel without unrestricted guest needs a TSS area; harmless elsewhere. */
	(void)ioctl(k.vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
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
	k.cpu = ioctl(k.vm, KVM_CREATE_VCPU, 0);
	if (k.cpu < 0) {
		snprintf(msg, msglen, "KVM_CREATE_VCPU: %s", strerror(errno));
		goto out;
	}
	int sz = ioctl(k.sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0) {
		snprintf(msg, msglen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto out;
	}
	k.run_size = (size_t)sz;
	k.run = mmap(NULL, k.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k.cpu, 0);
	if (k.run == MAP_FAILED) {
		k.run = NULL;
		snprintf(msg, msglen, "mmap kvm_run: %s", strerror(errno));
		goto out;
	}
	int c = set_cpuid(&k, img->needs_pcid, msg, msglen);
	if (c) {
		rc = c > 0 ? VT_PROBE_RUN_UNSUPPORTED : VT_PROBE_RUN_FAILED;
		goto out;
	}
	/* The multiboot entry state: CR0.PE|ET, flat 32-bit segments, EIP at the entry. */
	struct kvm_sregs sr;
	if (ioctl(k.cpu, KVM_GET_SREGS, &sr) < 0) {
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
	if (ioctl(k.cpu, KVM_SET_SREGS, &sr) < 0) {
		snprintf(msg, msglen, "KVM_SET_SREGS: %s", strerror(errno));
		goto out;
	}
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = img->entry;
	regs.rflags = 2;
	if (ioctl(k.cpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(msg, msglen, "KVM_SET_REGS: %s", strerror(errno));
		goto out;
	}

	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);   /* no SA_RESTART: KVM_RUN returns EINTR */
	timed_out = 0;
	alarm((unsigned)timeout);
	for (;;) {
		if (ioctl(k.cpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			if (timed_out)
				snprintf(msg, msglen, "the guest did not finish within %d s", timeout);
			else
				snprintf(msg, msglen, "KVM_RUN: %s", strerror(errno));
			break;
		}
		struct kvm_run *r = k.run;
		if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT) {
			const uint8_t *d = (const uint8_t *)r + r->io.data_offset;
			size_t n = (size_t)r->io.size * r->io.count;
			if (r->io.port == VT_PROBE_PORT_DATA) {
				for (size_t i = 0; i < n; i++)
					if (got < want)
						out[got++] = d[i];
					else
						got++;
				continue;
			}
			if (r->io.port == VT_PROBE_PORT_EXIT) {
				if (got == want)
					rc = VT_PROBE_RUN_OK;
				else
					snprintf(msg, msglen, "the guest wrote %zu result bytes, expected %zu", got, want);
				break;
			}
			snprintf(msg, msglen, "unexpected OUT to port 0x%x", r->io.port);
			break;
		}
		if (r->exit_reason == KVM_EXIT_MMIO) {
			/* no device: reads return all ones, writes go nowhere */
			if (!r->mmio.is_write)
				memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
			continue;
		}
		if (r->exit_reason == KVM_EXIT_SHUTDOWN)
			snprintf(msg, msglen, "the guest shut down (triple fault)");
		else if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
			snprintf(msg, msglen, "KVM entry failed (reason 0x%llx)",
				 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
			struct kvm_regs rr;
			unsigned long long rip = ioctl(k.cpu, KVM_GET_REGS, &rr) == 0 ? rr.rip : 0;
			snprintf(msg, msglen, "KVM internal error (suberror %u) at RIP 0x%llx", r->internal.suberror, rip);
		}
		else
			snprintf(msg, msglen, "unexpected KVM exit %u", r->exit_reason);
		break;
	}
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	if (rc != VT_PROBE_RUN_OK && getenv("VTLB_PROBE_DEBUG")) {
		const uint32_t *res = (const uint32_t *)((const uint8_t *)k.mem + VT_PROBE_RESULTS);
		for (int i = 0; i < nwords; i++)
			fprintf(stderr, "probe debug: result[%d] = 0x%08x\n", i, res[i]);
	}
out:
	kvm_close(&k);
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
