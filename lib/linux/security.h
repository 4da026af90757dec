/* What a container's processes may do: capabilities and a seccomp filter,
 * applied to init and to every process vzctl exec/enter starts inside. */
#ifndef NVZ_LINUX_SECURITY_H
#define NVZ_LINUX_SECURITY_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvz/error.h"

/* Bit mask (1 << CAP_x) of capabilities a CT keeps, from OpenVZ's default
 * set adjusted by the CAPABILITY="name:on|off ..." config value. */
int nvz_caps_parse(const char *capability, uint64_t *keep, struct nvz_error **err);
/* The CAPABILITY value cur with the entries of arg ("name:on|off", several
 * separated by spaces or commas), each replacing cur's entry for the same
 * capability; written as vzctl wrote it ("NET_ADMIN:on SYS_TIME:off").
 * A bad arg: NVZ_E_VALUE with vzctl's words. */
char *nvz_caps_merge(const char *cur, const char *arg, struct nvz_error **err);
/* Drop everything not in keep from the bounding, inheritable and ambient sets. */
int nvz_caps_apply(uint64_t keep, struct nvz_error **err);
/* Install the seccomp filter (syscalls that reach the host kernel globally).
 * nesting: the CT may make network, UTS and IPC namespaces of its own
 * (FEATURES nesting:on), which then cannot be checkpointed. */
int nvz_seccomp_apply(bool nesting, struct nvz_error **err);
/* The same filter compiled ahead (prepare, any time before), loaded later
 * in one system call (load). */
struct nvz_seccomp_prog {
	struct sock_filter insns[256];
	unsigned short len;
};
int nvz_seccomp_prepare(struct nvz_seccomp_prog *p, bool nesting, struct nvz_error **err);
int nvz_seccomp_load(const struct nvz_seccomp_prog *p, struct nvz_error **err);
/* Write the same filter as raw BPF (struct sock_filter entries) to fd, for
 * a process that loads it without libseccomp (the exec stub). */
int nvz_seccomp_export(int fd, bool nesting, struct nvz_error **err);

#endif
