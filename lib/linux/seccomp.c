#include <errno.h>
#include <seccomp.h>
#include <stddef.h>

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

/* The CT's filter; NULL and *err set on failure. */
static scmp_filter_ctx build(struct nvz_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "seccomp init");
		return NULL;
	}
	/* libseccomp sets no_new_privs by default, which every process of the
	 * CT would inherit: its users' sudo, su and passwd would stop working.
	 * The filter is loaded with CAP_SYS_ADMIN instead (before the
	 * capabilities are dropped), as LXC does. */
	int a = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (a < 0) {
		seccomp_release(ctx);
		nvz_err_sys(err, NVZ_E_SYSTEM, -a, "seccomp attribute");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0 && r != -EEXIST) {
			seccomp_release(ctx);
			nvz_err_sys(err, NVZ_E_SYSTEM, -r, "seccomp rule for %s", denied[i]);
			return NULL;
		}
	}
	return ctx;
}

int nvz_seccomp_apply(struct nvz_error **err)
{
	scmp_filter_ctx ctx = build(err);
	if (!ctx)
		return -1;
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "load seccomp filter");
	return 0;
}

int nvz_seccomp_export(int fd, struct nvz_error **err)
{
	scmp_filter_ctx ctx = build(err);
	if (!ctx)
		return -1;
	int r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "export seccomp filter");
	return 0;
}
