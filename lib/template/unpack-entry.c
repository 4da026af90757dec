/* Writing one archive entry under the container root.
 *
 * Threat model: the archive is hostile. Every parent directory is resolved
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
 * relative to the root, so symlinks planted by earlier entries ("etc -> /",
 * "up -> ../../..") resolve inside the root, never on the host. The last
 * component is created by name in that parent without following anything
 * (O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat, linkat without
 * AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW for metadata). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "template/unpack.h"

int nvz_unpack_status(int code)
{
	switch (code) {
	case ENOSPC:
	case EDQUOT:
		return NVZ_E_NO_DISKSPACE;
	case ENOTDIR: /* the archive's own tree shape is inconsistent */
	case ELOOP:
	case EEXIST:
	case ENOTEMPTY:
	case EISDIR:
	case EXDEV:
	case ENAMETOOLONG:
		return NVZ_E_BAD_TEMPLATE;
	default:
		return NVZ_E_CANT_CREATE_PRIVATE;
	}
}

static int entry_err(struct nvz_error **err, const char *path, int code, const char *what)
{
	return nvz_err_sys(err, nvz_unpack_status(code), code, "template entry '%s': %s", path,
			   what);
}

static int refuse(struct nvz_error **err, const char *path, const char *why)
{
	return nvz_err(err, NVZ_E_BAD_TEMPLATE, EPERM, "template entry '%s' %s", path, why);
}

/* "a/b/c" -> parent "a/b", base "c"; "c" -> parent ".". */
static char *split_path(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	return slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

/* Implicit parents ("usr/share" for an entry "usr/share/x" when the archive
 * has no "usr/" entry): created one component at a time, each in the
 * in-root resolution of the prefix before it, mode 0755 as tar would. */
static int mkdir_parents(struct nvz_unpack *u, char *parent, struct nvz_error **err)
{
	cleanup_close int cur = nvz_open_in_root(u->rootfd, ".", O_PATH | O_DIRECTORY, 0);
	if (cur < 0)
		return entry_err(err, parent, errno, "open root");
	for (char *comp = parent; *comp;) {
		char *end = strchrnul(comp, '/');
		char saved = *end;
		*end = '\0';
		int fd = nvz_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return entry_err(err, parent, errno, "create directory");
			cleanup_close int nfd =
				openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd >= 0 && fchmod(nfd, 0755) < 0) /* umask must not decide */
				return entry_err(err, parent, errno, "chmod directory");
			fd = nvz_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, 0);
			/* Still missing: comp is a symlink to nowhere. We do not
			 * create its target for it; the template is broken. */
			if (fd < 0 && errno == ENOENT)
				return refuse(err, parent, "is a dangling symlink used as a directory");
		}
		if (fd < 0)
			return entry_err(err, parent, errno, "open parent directory");
		close(cur);
		cur = fd;
		*end = saved;
		comp = saved ? end + 1 : end;
	}
	return steal_fd(&cur);
}

/* O_PATH fd of path's parent inside the root; *base points into path. */
static int open_parent(struct nvz_unpack *u, const char *path, const char **base,
		       struct nvz_error **err)
{
	cleanup_free char *parent = split_path(path, base);
	if (!parent)
		return entry_err(err, path, ENOMEM, "split path");
	int fd = nvz_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return entry_err(err, path, errno, "open parent directory");
	fd = mkdir_parents(u, parent, err);
	return fd < 0 ? nvz_err_wrap(err, "template entry '%s'", path) : fd;
}

/* Clear the way for a new non-directory: tar replaces files and symlinks
 * (never writing through them) and only empty directories. */
static int make_room(int pfd, const char *base, const char *path, struct nvz_error **err)
{
	if (unlinkat(pfd, base, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno == EISDIR && unlinkat(pfd, base, AT_REMOVEDIR) == 0)
		return 0;
	return entry_err(err, path, errno, "replace existing entry");
}

static int entry_owner(struct archive_entry *e, const char *path, uid_t *uid, gid_t *gid,
		       struct nvz_error **err)
{
	int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);
	/* (uid_t)-1 would mean "leave unchanged" to chown: not a real owner. */
	if (u < 0 || g < 0 || u >= UINT32_MAX || g >= UINT32_MAX)
		return refuse(err, path, "has an invalid owner");
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[0] = archive_entry_atime_is_set(e)
			? (struct timespec){ archive_entry_atime(e), archive_entry_atime_nsec(e) }
			: (struct timespec){ 0, UTIME_NOW };
	ts[1] = archive_entry_mtime_is_set(e)
			? (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) }
			: (struct timespec){ 0, UTIME_OMIT };
}

/* Extended attributes (security.capability on ping, ACLs stored as
 * system.posix_acl_*). Must run after fchown and after the data is
 * written: the kernel drops security.capability on both. */
static int set_xattrs(int fd, struct archive_entry *e, const char *path, struct nvz_error **err)
{
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!name || !*name)
			continue;
		/* overlayfs trusts these on its layers: a template must not be
		 * able to plant redirects should this tree ever become one. */
		if (!strncmp(name, "trusted.overlay.", 16))
			continue;
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP &&
		    errno != EOPNOTSUPP) {
			int code = errno;
			return nvz_err_sys(err, nvz_unpack_status(code), code,
					   "template entry '%s': set xattr %s", path, name);
		}
	}
	return 0;
}

/* Owner, then mode (chown clears setuid/setgid), then xattrs, then times. */
static int apply_meta_fd(struct nvz_unpack *u, int fd, struct archive_entry *e, const char *path,
			 bool mode_and_times, struct nvz_error **err)
{
	uid_t uid;
	gid_t gid;
	if (entry_owner(e, path, &uid, &gid, err) < 0)
		return -1;
	if (u->chown && fchown(fd, uid, gid) < 0)
		return entry_err(err, path, errno, "chown");
	if (mode_and_times && fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return entry_err(err, path, errno, "chmod");
	if (set_xattrs(fd, e, path, err) < 0)
		return -1;
	struct timespec ts[2];
	entry_times(e, ts);
	if (mode_and_times && futimens(fd, ts) < 0)
		return entry_err(err, path, errno, "set times");
	return 0;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static int write_all_at(int fd, const unsigned char *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Data blocks land at their offsets; holes in sparse entries and all-zero
 * blocks are skipped, and the final ftruncate gives the file its size, so a
 * huge sparse file costs only its data blocks. */
static int write_data(struct archive *a, int fd, struct archive_entry *e, const char *path,
		      struct nvz_error **err)
{
	off_t end = 0, written = 0; /* logical size, and where the data ends */
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return nvz_err(err, NVZ_E_BAD_TEMPLATE,
				       archive_errno(a) > 0 ? archive_errno(a) : EIO,
				       "template entry '%s': read data: %s", path,
				       archive_error_string(a) ? archive_error_string(a) : "error");
		if (off < 0 || (uint64_t)off > INT64_MAX - len)
			return refuse(err, path, "has a bad data offset");
		if (off + (off_t)len > end)
			end = off + (off_t)len;
		if (all_zero(buf, len))
			continue;
		int rc = write_all_at(fd, buf, len, off);
		if (rc < 0)
			return entry_err(err, path, -rc, "write");
		if (off + (off_t)len > written)
			written = off + (off_t)len;
	}
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > end)
		end = archive_entry_size(e);
	/* A trailing hole (or skipped zeros) still counts in the size. */
	if (end != written && ftruncate(fd, end) < 0)
		return entry_err(err, path, errno, "set size");
	return 0;
}

static int unpack_file(struct nvz_unpack *u, struct archive *a, struct archive_entry *e,
		       const char *path, struct nvz_error **err)
{
	const char *base;
	cleanup_close int pfd = open_parent(u, path, &base, err);
	if (pfd < 0)
		return -1;
	/* O_EXCL never follows a symlink in the way; whatever is there is
	 * removed and the create retried once. */
	const int flags = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
	cleanup_close int fd = openat(pfd, base, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (make_room(pfd, base, path, err) < 0)
			return -1;
		fd = openat(pfd, base, flags, 0600);
	}
	if (fd < 0)
		return entry_err(err, path, errno, "create file");
	if (write_data(a, fd, e, path, err) < 0)
		return -1;
	return apply_meta_fd(u, fd, e, path, true, err);
}

static int unpack_dir(struct nvz_unpack *u, struct archive_entry *e, const char *path,
		      struct nvz_error **err)
{
	cleanup_close int fd = -1;
	if (!strcmp(path, ".")) {
		fd = nvz_open_in_root(u->rootfd, ".", O_RDONLY | O_DIRECTORY, 0);
	} else {
		const char *base;
		cleanup_close int pfd = open_parent(u, path, &base, err);
		if (pfd < 0)
			return -1;
		/* 0700 until the fixup pass: nobody else may enter meanwhile. */
		if (mkdirat(pfd, base, 0700) < 0) {
			struct stat st;
			if (errno != EEXIST || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return entry_err(err, path, errno, "create directory");
			/* A symlink or file in the way is replaced, never
			 * followed: "lib -> /" then "lib/" must not reach /. */
			if (!S_ISDIR(st.st_mode) &&
			    (unlinkat(pfd, base, 0) < 0 || mkdirat(pfd, base, 0700) < 0))
				return entry_err(err, path, errno, "replace with directory");
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return entry_err(err, path, errno, "open directory");
	if (apply_meta_fd(u, fd, e, path, false, err) < 0)
		return -1;
	return nvz_unpack_add_dir(u, path, e, err);
}

static int unpack_symlink(struct nvz_unpack *u, struct archive_entry *e, const char *path,
			  struct nvz_error **err)
{
	const char *target = archive_entry_symlink(e);
	if (!target)
		target = archive_entry_symlink_utf8(e);
	if (!target || !*target)
		return refuse(err, path, "is a symlink without a target");
	const char *base;
	cleanup_close int pfd = open_parent(u, path, &base, err);
	if (pfd < 0 || make_room(pfd, base, path, err) < 0)
		return -1;
	/* The target is stored verbatim; we never resolve it ourselves. */
	if (symlinkat(target, pfd, base) < 0)
		return entry_err(err, path, errno, "create symlink");
	uid_t uid;
	gid_t gid;
	if (entry_owner(e, path, &uid, &gid, err) < 0)
		return -1;
	if (u->chown && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_err(err, path, errno, "chown symlink");
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_err(err, path, errno, "set symlink times");
	return 0;
}

/* Both ends are resolved inside the root, and the target must already be a
 * regular file there: a hard link can never pull a host file (or a device
 * or a directory) into the container. */
static int unpack_hardlink(struct nvz_unpack *u, const char *link, const char *path,
			   struct nvz_error **err)
{
	cleanup_free char *tpath = NULL;
	if (nvz_archive_path_check(link, &tpath, err) < 0)
		return nvz_err_wrap(err, "template entry '%s': hard link", path);
	if (!strcmp(tpath, ".") || !strcmp(tpath, path))
		return refuse(err, path, "is a hard link to itself or the root");
	const char *tbase, *base;
	cleanup_free char *tparent = split_path(tpath, &tbase);
	if (!tparent)
		return entry_err(err, path, ENOMEM, "split path");
	cleanup_close int tpfd = nvz_open_in_root(u->rootfd, tparent, O_PATH | O_DIRECTORY, 0);
	struct stat tst, st;
	if (tpfd < 0 || fstatat(tpfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(tst.st_mode))
		return nvz_err(err, NVZ_E_BAD_TEMPLATE, EPERM,
			       "template entry '%s' is a hard link to '%s', which is not a regular "
			       "file inside the container root",
			       path, link);
	cleanup_close int pfd = open_parent(u, path, &base, err);
	if (pfd < 0)
		return -1;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
	    st.st_ino == tst.st_ino)
		return 0; /* already the same file: unlinking would lose it */
	if (make_room(pfd, base, path, err) < 0)
		return -1;
	if (linkat(tpfd, tbase, pfd, base, 0) < 0)
		return entry_err(err, path, errno, "create hard link");
	return 0;
}

int nvz_unpack_entry(struct nvz_unpack *u, struct archive *a, struct archive_entry *e,
		     const char *path, struct nvz_error **err)
{
	mode_t type = archive_entry_filetype(e);
	/* start provides /dev; nodes from a template are not trusted. */
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK) {
		u->stats->skipped_devices++;
		return 0;
	}
	bool root = !strcmp(path, ".");
	const char *link = archive_entry_hardlink(e);
	if (!link)
		link = archive_entry_hardlink_utf8(e);
	if (link && *link)
		return root ? refuse(err, path, "replaces the root") : unpack_hardlink(u, link, path, err);
	if (type == AE_IFDIR)
		return unpack_dir(u, e, path, err);
	if (root)
		return refuse(err, path, "replaces the root with a non-directory");
	if (type == AE_IFREG)
		return unpack_file(u, a, e, path, err);
	if (type == AE_IFLNK)
		return unpack_symlink(u, e, path, err);
	return refuse(err, path, "has an unsupported file type");
}
