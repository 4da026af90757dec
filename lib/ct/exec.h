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
int nvz_ct_exec_pty(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		    const struct nvz_exec_opts *o, struct nvz_error **err);

#endif
