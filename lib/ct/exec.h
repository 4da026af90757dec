#ifndef NVZ_CT_EXEC_H
#define NVZ_CT_EXEC_H

#include "nvz/cgroup.h"
#include "nvz/ct.h"

int nvz_ct_join(struct nvz_cgroup *cg, int pidfd);
__attribute__((noreturn)) void nvz_exec_inside(const struct nvz_ct *ct,
					       const struct nvz_exec_opts *o);
int nvz_wait_code(pid_t pid);
/* fork(), the child born in the CT's pid namespace (pidfd: its init) and
 * its cgroup2 cgroup (cg); nvz_ct_join moves it into the v1 ones. */
pid_t nvz_fork_in_ct(const struct nvz_cgroup *cg, int pidfd);
/* fork(), or clone3(CLONE_INTO_CGROUP) into the cgroup2 directory cgfd
 * (>= 0): the child is born in it, no move. */
pid_t nvz_fork_into(int cgfd);
/* The pid a pidfd refers to (from its fdinfo); -1 if gone. */
pid_t nvz_pidfd_pid(int pidfd);
/* Start argv/envp in the CT with fds as stdio through the sealed exec stub
 * (exec-stub.h); *cmd: the command, a child of the caller. */
int nvz_exec_stub_spawn(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
			const struct nvz_exec_opts *o, char *const *argv, char *const *envp,
			const int fds[3], pid_t *cmd, struct nvz_error **err);
int nvz_ct_exec_pty(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		    const struct nvz_exec_opts *o, struct nvz_error **err);

#endif
