/* One cgroup per container, behind a backend table chosen once (v1 or v2),
 * picked by where the controllers are, not by what is mounted. */
#ifndef NVZ_CGROUP_H
#define NVZ_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "nvz/error.h"

struct nvz_cgroup;

enum nvz_cgroup_version { NVZ_CGROUP_V1 = 1, NVZ_CGROUP_V2 = 2 };

/* Describe the cgroup <prefix>/<name> on this host (nothing is created).
 * prefix may contain '/', e.g. "nvz" or "nvz-test-123". */
int nvz_cgroup_open(struct nvz_cgroup **out, const char *prefix, const char *name,
		    struct nvz_error **err);
void nvz_cgroup_free(struct nvz_cgroup *cg);
enum nvz_cgroup_version nvz_cgroup_version(const struct nvz_cgroup *cg);

/* Create it in every hierarchy (v1: each controller and name=systemd). */
int nvz_cgroup_create(struct nvz_cgroup *cg, struct nvz_error **err);
/* Move a process into it (all hierarchies). */
int nvz_cgroup_attach(struct nvz_cgroup *cg, pid_t pid, struct nvz_error **err);
/* Does it exist at all / does it hold any process (recursively)? */
bool nvz_cgroup_exists(const struct nvz_cgroup *cg);
int nvz_cgroup_nr_procs(const struct nvz_cgroup *cg, struct nvz_error **err);
/* SIGKILL every process in it, recursively (v2: cgroup.kill where present). */
int nvz_cgroup_kill(struct nvz_cgroup *cg, struct nvz_error **err);
/* Remove it and any child cgroups created inside; fails with EBUSY if
 * processes remain. Missing cgroup is not an error. */
int nvz_cgroup_destroy(struct nvz_cgroup *cg, struct nvz_error **err);

/* In the container's mount namespace, after its cgroup namespace was
 * entered: mount the cgroup filesystems under <root>/sys/fs/cgroup the way
 * an init expects (v1: tmpfs + one mount per hierarchy, controllers
 * read-only, name=systemd writable; v2: cgroup2 writable). */
int nvz_cgroup_mount_inside(const struct nvz_cgroup *cg, const char *root, struct nvz_error **err);

/* Write / read one interface file, e.g. ("pids", "pids.max", "100").
 * controller selects the v1 hierarchy; ignored on v2. */
int nvz_cgroup_write(struct nvz_cgroup *cg, const char *controller, const char *file,
		     const char *value, struct nvz_error **err);
int nvz_cgroup_read(const struct nvz_cgroup *cg, const char *controller, const char *file,
		    char **out, struct nvz_error **err);

#endif
