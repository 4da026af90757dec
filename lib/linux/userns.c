/* User namespace maps and idmapped mounts: see userns.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/userns.h"
#include "nvz/cleanup.h"

static int write_map(pid_t pid, const char *file, const struct nvz_idmap *map,
		     struct nvz_error **err)
{
	char path[64], line[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int n = snprintf(line, sizeof(line), "0 %u %u\n", map->host, map->count);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	/* One write(2): the kernel takes a map in a single call only. */
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "write %s (0 %u %u)", path, map->host,
				   map->count);
	return 0;
}

int nvz_userns_write_maps(pid_t pid, const struct nvz_idmap *map, struct nvz_error **err)
{
	if (map->host == 0 || map->count == 0)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "a CT's ids must not map to host root");
	if (write_map(pid, "uid_map", map, err) < 0 || write_map(pid, "gid_map", map, err) < 0)
		return -1;
	return 0;
}

int nvz_idmapped_tree(const char *path, int userns_fd, struct nvz_error **err)
{
	/* Only a detached mount can take an idmapping: clone the CT's root
	 * mount (not its submounts: the CT mounts its own /proc, /dev...). */
	int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "clone the mount at %s", path);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(tree);
		return nvz_err_sys(err, NVZ_E_MOUNT, e,
				   "idmap the mount at %s (USERNS needs a filesystem that supports "
				   "idmapped mounts: the simfs or ploop layout, not an overlay)",
				   path);
	}
	return tree;
}

int nvz_userns_become_root(struct nvz_error **err)
{
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "become root of the user namespace");
	return 0;
}

int nvz_userns_create(const struct nvz_idmap *map, struct nvz_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	/* A helper only holds the new namespace while its maps are written
	 * and it is opened; the fd keeps it alive afterwards. No exit signal:
	 * in the monitor hub a start runs in a thread beside one that reaps
	 * every child with one (hub.c); we wait for this one ourselves. */
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER, NULL, NULL, NULL, 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) < 0);
	}
	int e = errno;
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "create a user namespace");
	}
	int fd = -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (nvz_userns_write_maps(pid, map, err) == 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", path);
	close(p[1]);
	while (waitpid(pid, NULL, __WCLONE) < 0 && errno == EINTR)
		;
	return fd;
}

int nvz_ns_cmp(pid_t pid, const char *ns)
{
	char theirs[64], ours[64];
	struct stat a, b;
	snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, ns);
	snprintf(ours, sizeof(ours), "/proc/self/ns/%s", ns);
	if (stat(theirs, &a) < 0 || stat(ours, &b) < 0)
		return -1;
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

int nvz_userns_of(pid_t pid, struct nvz_error **err)
{
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", path);
	if (fstat(fd, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		close(fd);
		return -2; /* ours: no user namespace to join */
	}
	return fd;
}
