#ifndef NVZ_CT_EXEC_H
#define NVZ_CT_EXEC_H

#include "nvz/cgroup.h"
#include "nvz/ct.h"

/* Drop to the CT's capabilities and seccomp filter and exec o's command:
 * for a process already inside every namespace of the CT. */
__attribute__((noreturn)) void nvz_exec_inside(const struct nvz_ct *ct,
					       const struct nvz_exec_opts *o);
/* What the exec stub runs: argv with envp, file (NULL: argv[0], looked up
 * in PATH as execvp does). */
struct nvz_exec_cmd {
	char *const *argv;
	char *const *envp;
	const char *file;
	bool sh_fallback; /* file (/bin/bash) missing: /bin/sh instead */
};

int nvz_wait_code(pid_t pid);
/* The pid a pidfd refers to (from its fdinfo); -1 if gone. */
pid_t nvz_pidfd_pid(int pidfd);
/* Start c in the CT through the sealed exec stub (exec-stub.h): fds[0..2]
 * as its stdio, fds[3] (or -1) the socket for a pty's master (o->pty);
 * *pid: the command, a child of the caller. */
int nvz_exec_stub_spawn(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
			const struct nvz_exec_opts *o, const struct nvz_exec_cmd *c,
			const int fds[4], pid_t *pid, struct nvz_error **err);
int nvz_ct_exec_pty(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		    const struct nvz_exec_opts *o, const struct nvz_exec_cmd *c,
		    struct nvz_error **err);

#endif
