/* Binding lxcfs's /proc views into a CT: see lxcfs.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "linux/lxcfs.h"
#include "nvz/cleanup.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

static const char *const lxcfs_files[] = {
	"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps",
};

/* A live lxcfs: a FUSE mount whose proc/meminfo answers stat(). A dead
 * daemon leaves a mount that fails with ENOTCONN, which counts as absent. */
bool nvz_lxcfs_available(const char *dir)
{
	struct statfs sf;
	struct stat st;
	cleanup_free char *probe = NULL;
	if (!dir || !*dir || statfs(dir, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
		return false;
	if (asprintf(&probe, "%s/proc/meminfo", dir) < 0)
		return false;
	return stat(probe, &st) == 0 && S_ISREG(st.st_mode);
}

/* Clone the lxcfs file's mount, restrict it, and attach it by name under
 * the procfs directory fd: the target is a kernel-made name in a fresh
 * procfs, and move_mount does not follow a final symlink. */
static int bind_one(const char *src, int procfd, const char *name, const char *root,
		    struct nvz_error **err)
{
	cleanup_close int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "clone mount of %s", src);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    MOUNT_ATTR_NOEXEC,
	};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "make %s read-only", src);
	if (move_mount(tree, "", procfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount %s on %s/proc/%s", src, root,
				   name);
	return 0;
}

int nvz_lxcfs_mounts(const char *lxcfs_dir, const char *root, struct nvz_error **err)
{
	if (!nvz_lxcfs_available(lxcfs_dir))
		return 0;
	cleanup_free char *procdir = NULL;
	if (asprintf(&procdir, "%s/proc", root) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	cleanup_close int procfd = open(procdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statfs sf;
	if (procfd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open %s", procdir);
	if (fstatfs(procfd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "%s is not a procfs mount", procdir);
	for (size_t i = 0; i < sizeof(lxcfs_files) / sizeof(lxcfs_files[0]); i++) {
		cleanup_free char *src = NULL;
		if (asprintf(&src, "%s/proc/%s", lxcfs_dir, lxcfs_files[i]) < 0)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		/* Older lxcfs lacks some files (swaps, loadavg without -l). */
		if (access(src, F_OK) < 0)
			continue;
		if (bind_one(src, procfd, lxcfs_files[i], root, err) < 0)
			return -1;
	}
	return 1;
}
