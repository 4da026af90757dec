#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"

int nvz_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	int fd;
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd;
}

static int split_parent(const char *path, char **parent, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	*parent = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!*parent)
		return -ENOMEM;
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return -EINVAL;
	return 0;
}

/* The directory holding path's last component, resolved in-root; *base
 * points at that component inside path. */
static int open_parent_in_root(int rootfd, const char *path, const char **base,
			       struct nvz_error **err)
{
	cleanup_free char *parent = NULL;
	int r = split_parent(path, &parent, base);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "bad path '%s'", path);
	int dirfd = nvz_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (dirfd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open '%s' in container", parent);
	return dirfd;
}

int nvz_write_in_root(int rootfd, const char *path, const char *data, size_t len, mode_t mode,
		      struct nvz_error **err)
{
	const char *base;
	cleanup_close int dirfd = open_parent_in_root(rootfd, path, &base, err);
	if (dirfd < 0)
		return -1;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".nvz-tmp.%d", (int)getpid());
	cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      mode);
	if (fd < 0 && errno == EEXIST) {
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create '%s' in container", path);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			unlinkat(dirfd, tmp, 0);
			return nvz_err_sys(err, NVZ_E_SYSTEM, e, "write '%s' in container", path);
		}
		off += (size_t)w;
	}
	/* Replacing a file keeps its owner and mode (/etc/shadow is root:shadow 0640). */
	struct stat old;
	if (fstatat(dirfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode)) {
		mode = old.st_mode & 07777;
		if (fchown(fd, old.st_uid, old.st_gid) < 0)
			mode &= 0777;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, base) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "replace '%s' in container", path);
	}
	return 0;
}

/* One directory level: the parent is resolved in-root, the last component
 * is created (or found) with mkdirat, never through a symlink. */
int nvz_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct nvz_error **err)
{
	const char *base;
	cleanup_close int dirfd = open_parent_in_root(rootfd, path, &base, err);
	if (dirfd < 0)
		return -1;
	struct stat st;
	if (mkdirat(dirfd, base, mode) < 0 &&
	    (errno != EEXIST || fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno == EEXIST ? ENOTDIR : errno,
				   "create directory '%s' in container", path);
	return 0;
}

int nvz_read_in_root(int rootfd, const char *path, size_t max, char **out, struct nvz_error **err)
{
	/* O_NONBLOCK: a FIFO planted by the CT must not hang us (it fails the
	 * regular-file check below instead). */
	cleanup_close int fd = nvz_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open '%s' in container", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "'%s' in container is not a regular file",
			       path);
	cleanup_free char *buf = malloc(max + 1);
	if (!buf)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "read '%s' in container", path);
		if (n == 0 || (len += (size_t)n) == max)
			break;
	}
	buf[len] = '\0';
	*out = steal_ptr(&buf);
	return (int)len;
}

int nvz_mkdir_p(const char *path, mode_t mode, struct nvz_error **err)
{
	/* Usually there already: one stat, not a mkdir per component. */
	struct stat here;
	if (stat(path, &here) == 0 && S_ISDIR(here.st_mode))
		return 0;
	cleanup_free char *p = strdup(path);
	if (!p)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_CANT_CREATE_DIR, errno, "mkdir '%s'", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_CANT_CREATE_DIR, errno, "mkdir '%s'", p);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return nvz_err(err, NVZ_E_CANT_CREATE_DIR, ENOTDIR, "'%s' exists and is not a directory", p);
	}
	return 0;
}

static int rm_tree_fd(int dirfd, const char *what, struct nvz_error **err)
{
	int dupfd = dup(dirfd);
	if (dupfd < 0)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "dup");
	cleanup_dir DIR *d = fdopendir(dupfd);
	if (!d) {
		close(dupfd);
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "opendir '%s'", what);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nvz_rm_rf_at(dirfd, de->d_name, err) < 0)
			return -1;
	}
	return 0;
}

int nvz_rm_rf_at(int dirfd, const char *name, struct nvz_error **err)
{
	struct stat st, parent;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : nvz_err_sys(err, NVZ_E_DELETE, errno, "stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return nvz_err_sys(err, NVZ_E_DELETE, errno, "unlink '%s'", name);
		return 0;
	}
	if (fstat(dirfd, &parent) < 0)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "stat parent of '%s'", name);
	/* st_dev alone misses a bind mount of the same filesystem. */
	struct statx stx;
	bool mount_root = statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
			  (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			  (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	if (parent.st_dev != st.st_dev || mount_root)
		return nvz_err(err, NVZ_E_DELETE, EBUSY, "'%s' is a mount point, not removing it", name);
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "open '%s'", name);
	if (rm_tree_fd(fd, name, err) < 0)
		return nvz_err_wrap(err, "%s", name);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "rmdir '%s'", name);
	return 0;
}

int nvz_rm_rf(const char *path, struct nvz_error **err)
{
	cleanup_free char *parent = NULL;
	const char *base;
	if (split_parent(path, &parent, &base) < 0)
		return nvz_err(err, NVZ_E_DELETE, EINVAL, "refusing to remove '%s'", path);
	cleanup_close int dirfd = open(*parent ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : nvz_err_sys(err, NVZ_E_DELETE, errno, "open '%s'", parent);
	return nvz_rm_rf_at(dirfd, base, err);
}

bool nvz_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool nvz_is_mountpoint(const char *path)
{
	/* statx reports STATX_ATTR_MOUNT_ROOT even for bind mounts of the same fs. */
	struct statx stx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
		return false;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

void nvz_mountinfo_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int nvz_detach_mounts_below(const char *dir)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	size_t dlen = strlen(dir), n = 0, cap = 0;
	char **below = NULL, *line = NULL;
	size_t len = 0;
	while (getline(&line, &len, f) > 0) {
		char mnt[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		nvz_mountinfo_unescape(mnt);
		if (strncmp(mnt, dir, dlen) || mnt[dlen] != '/')
			continue;
		if (n == cap) {
			char **nb = realloc(below, (cap = cap ? cap * 2 : 8) * sizeof(*nb));
			if (!nb)
				break;
			below = nb;
		}
		if (!(below[n] = strdup(mnt)))
			break;
		n++;
	}
	free(line);
	/* Newest first: a mount over another one comes later in the list. */
	int detached = 0;
	for (size_t i = n; i-- > 0;) {
		detached += umount2(below[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0;
		free(below[i]);
	}
	free(below);
	return detached;
}

int nvz_lock(const char *lockdir, const char *id, bool wait, int *fd_out, struct nvz_error **err)
{
	if (nvz_mkdir_p(lockdir, 0755, err) < 0)
		return nvz_err_wrap(err, "lock directory");
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/%s.lck", lockdir, id) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_LOCKED, errno, "open lock file %s", path);
	for (int tries = 0; flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0;) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return nvz_err_sys(err, NVZ_E_LOCKED, errno, "lock %s", path);
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0)
			buf[n] = '\0';
		/* The command that took the lock is gone, yet the lock is held:
		 * by a child it forked, which dies with it (PDEATHSIG) but not
		 * at once on a busy host. Give it up to 2 s rather than call a
		 * CT locked by a dead command. */
		int holder = n > 0 ? atoi(buf) : 0;
		if (holder > 0 && kill(holder, 0) < 0 && errno == ESRCH && tries++ < 100) {
			usleep(20000);
			continue;
		}
		return nvz_err(err, NVZ_E_LOCKED, EWOULDBLOCK,
			       "Container already locked%s%.*s", n > 0 ? "\nLocked by: pid " : "",
			       (int)strcspn(buf, "\n"), buf);
	}
	/* The pid is informational only: the lock itself is the flock. */
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	/* Truncating a non-empty file on ext4 can wait for the journal (4 ms
	 * in a traced start under load): a pid of the same length as the one
	 * there, the usual case, simply overwrites it. */
	struct stat st;
	bool same = fstat(fd, &st) == 0 && st.st_size == n;
	if ((same || ftruncate(fd, 0) == 0) && pwrite(fd, pid, (size_t)n, 0) < 0)
		pid[0] = '\0';
	*fd_out = steal_fd(&fd);
	return 0;
}

void nvz_close_all(const int *fds, size_t n)
{
	int e = errno;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	errno = e;
}

/* Every gap between the kept descriptors, lowest first, found by a walk
 * over keep as given: no copy, so no limit on n and nothing that is not
 * async-signal-safe (it runs between a fork and an exec). */
void nvz_close_fds_except(const int *keep, size_t n)
{
	unsigned lo = 3;
	for (;;) {
		unsigned next = ~0U;
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= 0 && (unsigned)keep[i] >= lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next == ~0U)
			break;
		if (next > lo)
			syscall(SYS_close_range, lo, next - 1, 0);
		lo = next + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

void nvz_self_dir(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);
	dir[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(dir, '/');
	*(slash ? slash : dir) = '\0';
}

int nvz_helper_path(const char *name, char *path, size_t len)
{
	char dir[PATH_MAX];
	nvz_self_dir(dir, sizeof(dir));
	for (int installed = !*dir; installed < 2; installed++) {
		if (snprintf(path, len, "%s/%s", installed ? NVZ_LIBEXECDIR : dir, name) >= (int)len)
			errno = ENAMETOOLONG;
		else if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}
