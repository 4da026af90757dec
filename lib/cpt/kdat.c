/* A /run of criu's own, so that it keeps its kernel probe between runs.
 *
 * Every criu run first probes the kernel (forks, namespaces, sockets: ~37
 * ms here) unless /run/criu.kdat holds the result of an earlier run. criu
 * writes that file only where /run is a tmpfs, so that a reboot into
 * another kernel drops it; on a host whose /run is a disk directory it
 * probes on every run, and a restore pays it inside the CT's freeze.
 *
 * There, nvz mounts a small tmpfs at RUNDIR/criu-run (once per boot: a
 * reboot takes the mount and the cache with it, as criu wants) and runs
 * criu restore and criu lazy-pages in a mount namespace of their own where
 * that tmpfs is /run, every entry of the host's /run bound into it. criu
 * sees the host's /run as before plus its cache; nothing it mounts there
 * reaches the host (the namespace is a slave of the host's). Where /run is
 * a tmpfs nothing of this is done: criu caches by itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"

#define KDAT "criu.kdat"
#define KDAT_TMP "criu.kdat.tmp"

static bool is_tmpfs(const char *path)
{
	struct statfs s;
	return statfs(path, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

/* criu creates its cache's temporary file with O_EXCL: one left by a criu
 * that was killed in between would stop every later save. */
static void drop_stale_tmp(const char *dir)
{
	char kdat[4096], tmp[4096];
	struct stat st;
	snprintf(kdat, sizeof(kdat), "%s/" KDAT, dir);
	snprintf(tmp, sizeof(tmp), "%s/" KDAT_TMP, dir);
	if (access(kdat, F_OK) < 0 && stat(tmp, &st) == 0 && st.st_mtime + 60 < time(NULL))
		unlink(tmp);
}

/* The tmpfs at dir, mounted unless it is (two vzctl at once must not stack
 * two mounts: the lock file beside it orders them). */
static int mount_run(const char *dir, const char *rundir)
{
	cleanup_free char *lock = NULL;
	if (asprintf(&lock, "%s/criu-run.lock", rundir) < 0)
		return -1;
	cleanup_close int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return -1;
	if (is_tmpfs(dir))
		return 0;
	return mount("nvz-criu-run", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=0755,size=1m,nr_inodes=1024");
}

char *nvz_cpt_kdat_run(const char *rundir)
{
	if (is_tmpfs("/run"))
		return NULL;
	char *dir = NULL;
	if (asprintf(&dir, "%s/criu-run", rundir) < 0)
		return NULL;
	if (!is_tmpfs(dir) && mount_run(dir, rundir) < 0) {
		free(dir);
		return NULL;
	}
	drop_stale_tmp(dir);
	return dir;
}

/* The host's /run entry name, bound (or, a symlink, copied) into the new
 * /run being built at tree. An entry that fails (its type changed since a
 * stub was made for it) is left out: criu does without it. */
static int bind_entry(int host_run, int tree, const char *name, unsigned char type)
{
	if (type == DT_LNK) {
		char target[4096];
		ssize_t n = readlinkat(host_run, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		/* tree is shared by every criu started meanwhile: the link is
		 * replaced only if the host's changed. */
		char have[4096];
		ssize_t h = readlinkat(tree, name, have, sizeof(have) - 1);
		if (h == n && !memcmp(have, target, (size_t)n))
			return 0;
		unlinkat(tree, name, 0);
		return symlinkat(target, tree, name);
	}
	if (type == DT_DIR) {
		if (mkdirat(tree, name, 0755) < 0 && errno != EEXIST)
			return -1;
	} else {
		cleanup_close int stub = openat(tree, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (stub < 0)
			return -1;
	}
	cleanup_close int src = open_tree(host_run, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
							      AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	return src < 0 ? -1 : move_mount(src, "", tree, name, MOVE_MOUNT_F_EMPTY_PATH);
}

/* Every entry of the host's /run into tree; 0 once all were read. */
static int bind_all(int host_run, int dirfd, int tree)
{
	char buf[8192];
	long n;
	while ((n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *name = d->d_name;
			/* criu's own names: its cache is the one in tree. */
			if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, KDAT) ||
			    !strcmp(name, KDAT_TMP))
				continue;
			unsigned char type = d->d_type;
			struct stat st;
			if (type == DT_UNKNOWN && fstatat(host_run, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
			bind_entry(host_run, tree, name, type);
		}
	}
	return n == 0 ? 0 : -1;
}

/* In criu's child, after fork and before exec: no allocation (the monitor
 * may have threads), so getdents64 into the stack. Any failure leaves the
 * host's /run in place: criu then probes as it would anyway. */
void nvz_cpt_kdat_enter(const char *run)
{
	cleanup_close int host_run = open("/run", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int dirfd = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A slave of the host's mounts: what is mounted below stays here. */
	if (host_run < 0 || dirfd < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return;
	cleanup_close int tree = open_tree(AT_FDCWD, run, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree >= 0 && bind_all(host_run, dirfd, tree) == 0)
		move_mount(tree, "", AT_FDCWD, "/run", MOVE_MOUNT_F_EMPTY_PATH);
}
