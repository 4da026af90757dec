/* Parent and child talk in named steps over a SOCK_SEQPACKET socketpair;
 * a child that fails sends {errno, status, message} instead of the step. */
#ifndef NVZ_SYNC_H
#define NVZ_SYNC_H

#include "nvz/error.h"

enum nvz_sync_step {
	SYNC_ERROR = -1,
	SYNC_CGROUP_JOINED = 1, /* parent -> child: you are in the CT's cgroup */
	SYNC_ROOTFS_READY,      /* child -> parent: mounts done, waiting to exec */
	SYNC_EXEC,              /* parent -> child: state recorded, exec init */
	SYNC_STARTED,           /* monitor -> vzctl: init runs */
	SYNC_LAUNCHED,          /* launcher -> monitor: init cloned (pid in code) */
};

struct nvz_sync_msg {
	int step;
	int code;
	int status;
	char msg[1024];
};

int nvz_sync_send(int fd, int step);
/* Send err as a SYNC_ERROR message (used by children before _exit). */
void nvz_sync_send_error(int fd, const struct nvz_error *err);
/* Wait for step; EOF or a SYNC_ERROR message becomes *err. */
int nvz_sync_wait(int fd, int step, const char *what, struct nvz_error **err);

#endif
