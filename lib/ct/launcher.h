/* The launcher (launcher.c): the monitor's thread that enters the CT's
 * cgroups and namespaces and clones init there (monitor.c drives it). */
#ifndef NVZ_CT_LAUNCHER_H
#define NVZ_CT_LAUNCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ct/internal.h"

/* A user namespace CT (USERNS="yes"): prepared by the monitor, entered by
 * init as its very last step before exec. */
struct ct_userns {
	int nsfd;       /* the CT's user namespace */
	int tree;       /* the CT's root, idmapped through it, detached */
	unsigned owner; /* host id of the CT's root */
};

/* What init is told when the launcher clones it. exec_fd: the write end of
 * vzctl's exec pipe (start.c); init writes 'R' on it just before its exec
 * and 'E' if the exec failed; the exec itself closes it (close-on-exec),
 * which is how vzctl learns that init runs without waiting for us. */
struct launch_msg {
	char console[64];
	int sync_fd, peer_fd, exec_fd;
	bool userns;
	struct ct_userns u;
};

/* The launcher: a thread of the monitor, started as soon as the monitor
 * starts, that enters the CT's v1 cgroups (its thread alone, without the
 * RCU grace period a write to cgroup.procs costs on v1) and makes the
 * CT's network, uts and ipc namespaces while the cgroups are created and
 * their limits written. When the monitor says go (after the last limit),
 * it clones init: init is born in its cgroups and namespaces, a child of
 * the monitor, and never runs outside them. It shares the monitor's
 * descriptor table, so init inherits the descriptors the monitor opened
 * meanwhile, as if the monitor had cloned it. */
struct launcher {
	int fd;      /* monitor's end of a SOCK_SEQPACKET pair; -1: none */
	int exec_fd; /* vzctl's exec pipe, for init (launch_msg); closed once init is cloned */
	pthread_t thread;
	bool joinable; /* the thread runs, or ended and was not joined yet */
};

/* Start the launcher thread; it waits for the go (a byte on l->fd) once
 * the CT's cgroups exist. */
int nvz_launcher_start(struct nvz_ct *ct, struct nvz_cgroup *cg, struct launcher *l,
		       struct nvz_error **err);
/* After the launch order (a struct launch_msg on l->fd): init's pid. */
pid_t nvz_launcher_wait(struct launcher *l, struct nvz_error **err);
/* Our copy of vzctl's exec pipe goes (init has its own). */
void nvz_launcher_close_exec(struct launcher *l);
/* Let the launcher go: one still waiting for an order returns; one that
 * cloned init leaves once init has exec'd. Idempotent. */
void nvz_launcher_end(struct launcher *l);
/* After nvz_launcher_end, and once init has exec'd or is dead: wait for
 * the thread to be gone. It reads the CT's config and cgroup (and init,
 * until its exec, the launcher's stack), which the monitor frees when the
 * start ends: a failed start must not free them under it. */
void nvz_launcher_join(struct launcher *l);

#endif
