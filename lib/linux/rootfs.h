/* The container's root as its init sees it: run in the child, inside its
 * new mount, pid, uts, ipc, net and cgroup namespaces, before exec. */
#ifndef NVZ_LINUX_ROOTFS_H
#define NVZ_LINUX_ROOTFS_H

#include "nvz/cgroup.h"
#include "nvz/error.h"

struct nvz_rootfs_spec {
	const char *root;          /* VE_ROOT, already mounted on the host */
	const char *console;       /* host path of the pty slave for /dev/console, or NULL */
	const struct nvz_cgroup *cg;
	const char *const *devnodes; /* extra nodes to create, "net/tun", NULL-terminated */
	const char *lxcfs_dir;
	/* Called (if set) after /proc, /sys, /dev and /run are mounted and before
	 * the cgroups are: the caller waits there for its cgroup and enters its
	 * cgroup namespace, so the mounts overlap the cgroup move (bench/). */
	int (*before_cgroups)(void *arg, struct nvz_error **err);
	void *arg;
	unsigned owner;            /* host uid/gid of the CT's root: 0, or its map's first id */
};

/* Mount /proc, /sys, cgroups, /dev and pivot into root. */
int nvz_rootfs_setup(const struct nvz_rootfs_spec *spec, struct nvz_error **err);
/* Device nodes a CT gets with --devnodes: looked up on the host's /dev,
 * created under the CT's /dev (devfd). */
struct nvz_devnode {
	char name[256];
	unsigned mode;
	unsigned major, minor;
};
int nvz_devnode_lookup(const char *name, struct nvz_devnode *out, struct nvz_error **err);
int nvz_devnode_make(int devfd, const struct nvz_devnode *n, struct nvz_error **err);
/* A fresh boot id for this CT boot: a file in the CT's new /dev (devfd),
 * bound read-only over root's /proc/sys/kernel/random/boot_id (bootid.c). */
#define NVZ_BOOT_ID_FILE ".nvz-boot-id"
int nvz_rootfs_boot_id(int devfd, const char *root, struct nvz_error **err);
/* In root's fresh /run: mask the systemd generators that would find
 * nothing to do in this CT, and turn services' memory pressure watch off
 * (sdgen.c). owner: see nvz_rootfs_spec. */
int nvz_rootfs_systemd_run(int rootfd, unsigned owner, struct nvz_error **err);
/* Bring lo up in the current network namespace. */
int nvz_net_loopback_up(struct nvz_error **err);

#endif
