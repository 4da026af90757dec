#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/security.h"

/* Syscalls that act on the host kernel as a whole rather than on the CT's
 * namespaces. open_by_handle_at is the "shocker" escape (it bypasses the
 * mount namespace); keyrings and BPF are global; kexec/modules/swap act on
 * the host. Everything else is allowed: a CT runs a whole OS. */
static const char *const denied[] = {
	"kexec_load",	   "kexec_file_load", "init_module",   "finit_module", "delete_module",
	"open_by_handle_at", "iopl",	      "ioperm",	       "swapon",       "swapoff",
	"add_key",	   "request_key",     "keyctl",	       "bpf",	       "perf_event_open",
	"lookup_dcookie",  "acct",	      "vm86",
	"vm86old",	   "nfsservctl",
};

/* New network, UTS and IPC namespaces inside a CT: criu cannot dump a
 * nested UTS or IPC namespace ("Can't dump nested uts namespace"), and
 * restores a nested network namespace only where it made the CT's own,
 * which nvz does instead (cpt/nested-ns.c). systemd's units ask for them
 * (ProtectHostname= in logind, logrotate, timedated, localed;
 * PrivateNetwork= in hostnamed, localed, e2scrub), so a Debian CT with
 * D-Bus could not be checkpointed or migrated. systemd takes EPERM for
 * "prohibited by the container manager" and runs the unit without one,
 * as under OpenVZ. Mount namespaces (PrivateTmp=...) stay allowed: criu
 * carries them. clone3 passes its flags in memory, where seccomp cannot
 * look: it answers ENOSYS, and glibc falls back to clone. A CT with
 * FEATURES nesting:on (containers, ip netns inside) gets no such rule,
 * and no checkpoint while it has one (cpt/nested-ns.c). */
static const unsigned long refused_ns[] = { CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC };

static int refuse_nested_ns(scmp_filter_ctx ctx, struct nvz_error **err)
{
	/* The flags are clone's first argument on x86 and arm64 (not s390). */
	const int calls[] = { SCMP_SYS(unshare), SCMP_SYS(clone) };
	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++)
		for (size_t i = 0; i < sizeof(refused_ns) / sizeof(refused_ns[0]); i++) {
			int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), calls[c], 1,
						 SCMP_A0(SCMP_CMP_MASKED_EQ, refused_ns[i], refused_ns[i]));
			if (r < 0)
				return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "seccomp rule for namespaces");
		}
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "seccomp rule for clone3");
	return 0;
}

static int build(scmp_filter_ctx *out, bool nesting, struct nvz_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "seccomp init");
	/* libseccomp sets no_new_privs by default, which every process of the
	 * CT would inherit: its users' sudo, su and passwd would stop working.
	 * The filter is loaded with CAP_SYS_ADMIN instead (before the
	 * capabilities are dropped), as LXC does. */
	int a = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (a < 0) {
		seccomp_release(ctx);
		return nvz_err_sys(err, NVZ_E_SYSTEM, -a, "seccomp attribute");
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0 && r != -EEXIST) {
			seccomp_release(ctx);
			return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "seccomp rule for %s", denied[i]);
		}
	}
	if (!nesting && refuse_nested_ns(ctx, err) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

int nvz_seccomp_apply(bool nesting, struct nvz_error **err)
{
	scmp_filter_ctx ctx;
	if (build(&ctx, nesting, err) < 0)
		return -1;
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "load seccomp filter");
	return 0;
}

/* The same filter, compiled to BPF ahead of time: libseccomp's compile and
 * its probes of the kernel (~0.2-0.4 ms here) happen while the monitor
 * waits for vzctl, not between init's clone and its exec. libseccomp 2.5
 * exports only to a descriptor: a pipe holds the ~200 bytes. */
int nvz_seccomp_prepare(struct nvz_seccomp_prog *p, bool nesting, struct nvz_error **err)
{
	scmp_filter_ctx ctx;
	int fds[2];
	if (build(&ctx, nesting, err) < 0)
		return -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		seccomp_release(ctx);
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	}
	int r = seccomp_export_bpf(ctx, fds[1]);
	seccomp_release(ctx);
	close(fds[1]);
	ssize_t n = r < 0 ? -1 : read(fds[0], p->insns, sizeof(p->insns));
	char extra;
	bool more = n > 0 && read(fds[0], &extra, 1) > 0;
	close(fds[0]);
	if (r < 0 || n <= 0 || n % (ssize_t)sizeof(p->insns[0]) || more)
		return nvz_err(err, NVZ_E_SYSTEM, r < 0 ? -r : EINVAL, "export seccomp filter");
	p->len = (unsigned short)(n / (ssize_t)sizeof(p->insns[0]));
	return 0;
}

int nvz_seccomp_load(const struct nvz_seccomp_prog *p, struct nvz_error **err)
{
	struct sock_fprog prog = { .len = p->len, .filter = (struct sock_filter *)p->insns };
	/* No flags: as seccomp_load with no_new_privs off (CAP_SYS_ADMIN). */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "load seccomp filter");
	return 0;
}

int nvz_seccomp_export(int fd, bool nesting, struct nvz_error **err)
{
	struct nvz_seccomp_prog p;
	if (nvz_seccomp_prepare(&p, nesting, err) < 0)
		return -1;
	size_t len = p.len * sizeof(p.insns[0]);
	if (write(fd, p.insns, len) != (ssize_t)len)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "export seccomp filter");
	return 0;
}
