/* Internal to lib/cpt: building and running a criu command line, shared
 * by the dump (criu.c) and the restore (restore.c). */
#ifndef NVZ_CPT_RUN_H
#define NVZ_CPT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nvz/error.h"

/* A growing NULL-terminated argv; an allocation failure sticks (oom). */
struct nvz_cpt_args {
	char **v;
	size_t n;
	bool oom;
};

void nvz_cpt_arg(struct nvz_cpt_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* criu --cgroup-yard: the host's hierarchies, where nvz keeps them. */
void nvz_cpt_add_yard(struct nvz_cpt_args *a, const char *rundir);
/* Options for both directions. */
void nvz_cpt_common(struct nvz_cpt_args *a, const char *criu, const char *dir, const char *root);
/* criu forked with no descriptor of ours but keep_fd, env added, in netns
 * (>= 0) and with run as its /run (or NULL). */
pid_t nvz_cpt_spawn(char *const *argv, char *const *env, int keep_fd, int netns, const char *run,
		    struct nvz_error **err);
/* The error for a criu that exited with status: the telling line of log
 * (shown: where the admin finds it; before: what to add). */
int nvz_cpt_criu_failed(const char *what, const char *criu, const char *log, const char *shown,
			const char *before, int status, int code, struct nvz_error **err);
/* A mount at root + mnt in the host's own mount table (not one the CT
 * could fake), and a mount point that is a plain path. */
bool nvz_cpt_host_mount_at(const char *root, const char *mnt);
bool nvz_cpt_plain_mount_point(const char *mnt);

#endif
