#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux/lxcfs.h"
#include "linux/rootfs.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* Mount onto a directory inside the CT tree. The target is resolved in the
 * root (a CT may have turned /proc into a symlink to a host path) and must
 * be a real directory; the mount goes through /proc/self/fd so nothing is
 * resolved twice. */
static int mount_in_root(int rootfd, const char *src, const char *target, const char *fstype,
			 unsigned long flags, const char *data, struct nvz_error **err)
{
	while (*target == '/')
		target++;
	if (mkdirat(rootfd, target, 0755) < 0 && errno != EEXIST && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mkdir '/%s' in container", target);
	cleanup_close int fd = nvz_open_in_root(rootfd, target, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open '/%s' in container", target);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return nvz_err(err, NVZ_E_MOUNT, ENOTDIR, "'/%s' in container is not a directory",
			       target);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mount(src, path, fstype, flags, data) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount %s on '/%s'", fstype ? fstype : src,
				   target);
	return 0;
}

/* Paths in a fresh procfs or sysfs: the CT has had no chance to touch them. */
static int bind_ro(const char *path, struct nvz_error **err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind %s", path);
	}
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "remount %s read-only", path);
	return 0;
}

/* The CT's empty directories for masks (dev/.nvz-empty/N, made by host
 * root in the CT's fresh /dev): a bind of one costs a mount, where a tmpfs
 * per mask cost a superblock, a root inode and their shrinker lists. One
 * directory per mask: masks bound from one are one mount's binds to criu,
 * which restored the read-only flag of the first only (cpt/restore.c). */
struct empty_dirs {
	const char *root;
	int next;
};

static int mask_dir(struct empty_dirs *e, const char *path, struct nvz_error **err)
{
	char src[4200];
	snprintf(src, sizeof(src), "%s/dev/.nvz-empty", e->root);
	if (e->next == 0 && mkdir(src, 0555) < 0 && errno != EEXIST)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mkdir %s", src);
	snprintf(src, sizeof(src), "%s/dev/.nvz-empty/%d", e->root, e->next++);
	if (mkdir(src, 0555) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mkdir %s", src);
	if (mount(src, path, NULL, MS_BIND, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mask %s", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "remount the mask of %s read-only", path);
	return 0;
}

static int mask_path(struct empty_dirs *e, const char *path, struct nvz_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return mask_dir(e, path, err);
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mask %s", path);
	return 0;
}

static int setup_proc(int rootfd, const char *root, struct empty_dirs *e, struct nvz_error **err)
{
	if (mount_in_root(rootfd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			  err) < 0)
		return -1;
	/* Host-wide knobs stay read-only; /proc/sys/net belongs to the CT's
	 * own network namespace and stays writable (sysctl -w net.* works). */
	static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
	static const char *const masked[] = { "kcore", "keys", "timer_list", "sched_debug",
					      "acpi", "scsi", "latency_stats", "kallsyms" };
	char path[4096];
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		snprintf(path, sizeof(path), "%s/proc/%s", root, ro[i]);
		if (bind_ro(path, err) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/proc/sys/net", root);
	/* A bind copies the read-only flag of its source: clear it again. */
	if (mount(path, path, NULL, MS_BIND, NULL) == 0) {
		if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "remount %s writable", path);
	} else if (errno != ENOENT) {
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind %s", path);
	}
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		snprintf(path, sizeof(path), "%s/proc/%s", root, masked[i]);
		if (mask_path(e, path, err) < 0)
			return -1;
	}
	return 0;
}

struct devnode {
	const char *name;
	mode_t mode;
	unsigned major, minor;
};

static const struct devnode std_nodes[] = {
	{ "null", S_IFCHR | 0666, 1, 3 },    { "zero", S_IFCHR | 0666, 1, 5 },
	{ "full", S_IFCHR | 0666, 1, 7 },    { "random", S_IFCHR | 0666, 1, 8 },
	{ "urandom", S_IFCHR | 0666, 1, 9 }, { "tty", S_IFCHR | 0666, 5, 0 },
};

static int make_node(int devfd, const struct devnode *n, struct nvz_error **err)
{
	for (const char *slash = strchr(n->name, '/'); slash; slash = strchr(slash + 1, '/')) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - n->name), n->name);
		if (mkdirat(devfd, dir, 0755) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_DEVICES, errno, "mkdir /dev/%s", dir);
	}
	if (mknodat(devfd, n->name, n->mode, makedev(n->major, n->minor)) < 0 && errno != EEXIST)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "mknod /dev/%s", n->name);
	/* mknod obeys the umask; the node must be usable by every user. */
	if (fchmodat(devfd, n->name, n->mode & 07777, 0) < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "chmod /dev/%s", n->name);
	return 0;
}

int nvz_devnode_lookup(const char *name, struct nvz_devnode *out, struct nvz_error **err)
{
	/* A copy of the host's /dev/<name>: same type, numbers and mode. The
	 * devices cgroup decides whether it can be opened. */
	char host[300];
	struct stat st;
	if (strstr(name, "..") || name[0] == '/' || strlen(name) >= sizeof(out->name) ||
	    snprintf(host, sizeof(host), "/dev/%s", name) >= (int)sizeof(host) ||
	    stat(host, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
		return nvz_err(err, NVZ_E_DEVICES, ENODEV, "Incorrect device name /dev/%s", name);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->mode = st.st_mode & (S_IFMT | 0777);
	out->major = major(st.st_rdev);
	out->minor = minor(st.st_rdev);
	return 0;
}

int nvz_devnode_make(int devfd, const struct nvz_devnode *n, struct nvz_error **err)
{
	struct devnode d = { n->name, n->mode, n->major, n->minor };
	return make_node(devfd, &d, err);
}

static int setup_dev(int rootfd, const char *root, const struct nvz_rootfs_spec *spec,
		     struct nvz_error **err)
{
	/* A user namespace CT's root owns its /dev and /run on the host: these
	 * are mounted here by host root, in namespaces the CT cannot change. */
	char opts[128], pts[128];
	snprintf(opts, sizeof(opts), "mode=755,size=65536k,uid=%u,gid=%u", spec->owner, spec->owner);
	snprintf(pts, sizeof(pts), "newinstance,ptmxmode=0666,mode=0620,gid=%u", spec->owner + 5);
	if (mount_in_root(rootfd, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, opts, err) < 0)
		return -1;
	char path[4096];
	snprintf(path, sizeof(path), "%s/dev", root);
	cleanup_close int devfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (devfd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open %s", path);
	for (size_t i = 0; i < sizeof(std_nodes) / sizeof(std_nodes[0]); i++)
		if (make_node(devfd, &std_nodes[i], err) < 0)
			return -1;
	for (const char *const *d = spec->devnodes; d && *d; d++) {
		struct nvz_devnode n;
		if (nvz_devnode_lookup(*d, &n, err) < 0 || nvz_devnode_make(devfd, &n, err) < 0)
			return -1;
	}
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "symlink /dev/%s", links[i][1]);
	if (mount_in_root(rootfd, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts, err) < 0 ||
	    mount_in_root(rootfd, "shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
			  "mode=1777,size=65536k", err) < 0 ||
	    mount_in_root(rootfd, "mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL, err) < 0)
		return -1;
	if (spec->console) {
		cleanup_close int c = openat(devfd, "console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (c < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "create /dev/console");
		/* By path: the slave's own mount belongs to the host namespace,
		 * and bind mounts only take mounts of this (copied) namespace. */
		char dst[4200];
		snprintf(dst, sizeof(dst), "%s/dev/console", root);
		if (mount(spec->console, dst, NULL, MS_BIND, NULL) < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind console on /dev/console");
	}
	return 0;
}

static int pivot(const char *root, struct nvz_error **err)
{
	/* pivot_root(".", ".") stacks the old root under the new one; a lazy
	 * unmount then drops every host mount from this namespace. */
	if (chdir(root) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "chdir %s", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "pivot_root into %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "detach the host root");
	if (chdir("/") < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "chdir /");
	return 0;
}

int nvz_rootfs_setup(const struct nvz_rootfs_spec *spec, struct nvz_error **err)
{
	/* Slave, not private: mounts the host adds under VE_ROOT later still
	 * reach the CT, but nothing the CT mounts propagates back. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "make / a slave mount");
	/* pivot_root needs the new root to be a mount point of its own. */
	if (mount(spec->root, spec->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind %s", spec->root);
	cleanup_close int rootfd = open(spec->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open %s", spec->root);
	/* /dev first: the masks over /proc directories are its. */
	struct empty_dirs empties = { spec->root, 0 };
	if (setup_dev(rootfd, spec->root, spec, err) < 0 || setup_proc(rootfd, spec->root, &empties, err) < 0)
		return -1;
	char dev[4200];
	snprintf(dev, sizeof(dev), "%s/dev", spec->root);
	cleanup_close int devfd = open(dev, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (devfd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open %s", dev);
	if (nvz_rootfs_boot_id(devfd, spec->root, err) < 0)
		return -1;
	if (nvz_lxcfs_mounts(spec->lxcfs_dir, spec->root, err) < 0)
		return -1;
	if (mount_in_root(rootfd, "sysfs", "sys", "sysfs",
			  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	/* fusectl lists every FUSE connection of the host (other CTs'
	 * beancounter files too) with a writable "abort" each: masked, as
	 * LXC's and OpenVZ's CTs never get it writable. A booting systemd then
	 * finds it mounted and skips sys-fs-fuse-connections.mount. */
	char fusectl[4096];
	snprintf(fusectl, sizeof(fusectl), "%s/sys/fs/fuse/connections", spec->root);
	if (mask_path(&empties, fusectl, err) < 0)
		return -1;
	/* A fresh /run, as a booting system expects an empty one. */
	struct stat st;
	char run[96];
	snprintf(run, sizeof(run), "mode=755,size=20%%,uid=%u,gid=%u", spec->owner, spec->owner);
	if (fstatat(rootfd, "run", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	    (mount_in_root(rootfd, "tmpfs", "run", "tmpfs", MS_NOSUID | MS_NODEV, run, err) < 0 ||
	     nvz_rootfs_systemd_run(rootfd, spec->owner, err) < 0))
		return -1;
	/* The cgroup mounts show the cgroup namespace, which must be entered
	 * from inside the CT's cgroup: everything above did not need it. */
	if (spec->before_cgroups && spec->before_cgroups(spec->arg, err) < 0)
		return -1;
	if (spec->cg && nvz_cgroup_mount_inside(spec->cg, spec->root, err) < 0)
		return -1;
	return pivot(spec->root, err);
}

int nvz_net_loopback_up(struct nvz_error **err)
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socket");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "get lo flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "bring lo up");
	return 0;
}
