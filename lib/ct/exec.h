#ifndef NVZ_CT_EXEC_H
#define NVZ_CT_EXEC_H

#include "nvz/ct.h"

int nvz_ct_join(struct nvz_ct *ct, int pidfd);
__attribute__((noreturn)) void nvz_exec_inside(const struct nvz_ct *ct,
					       const struct nvz_exec_opts *o);
int nvz_wait_code(pid_t pid);
/* fork(), the child born in the CT's pid namespace (pidfd: its init). */
pid_t nvz_fork_in_pidns(int pidfd);
int nvz_ct_exec_pty(struct nvz_ct *ct, int pidfd, const struct nvz_exec_opts *o,
		    struct nvz_error **err);

#endif
