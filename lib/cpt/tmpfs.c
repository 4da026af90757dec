/* The content of a tmpfs as one stream (see tmpfs.h): what criu would carry
 * with `tar --gzip` (three processes per mount at dump, two at restore),
 * written and read in-process instead.
 *
 * The stream is nested: a DIR record opens a directory, its entries follow,
 * END closes it and only then sets its owner, mode and times (creating
 * entries changes a directory's mtime). The loader creates one name at a time
 * below a directory it opened itself, never a path, so a hostile stream (a
 * dump comes from the CT) cannot reach outside the tmpfs it fills. Sockets
 * are left out, as tar leaves them: criu binds the sockets it restores. A
 * regular file's data goes as extents: holes stay holes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cpt/tmpfs.h"
#include "nvz/cleanup.h"

#define MAGIC "NVZTMPFS1\n"
#define MAX_DEPTH 64
#define MAX_XATTRS (64 * 1024)
#define MAX_LINKS 4096

struct saver {
	FILE *out;
	struct { dev_t dev; ino_t ino; } *links;
	size_t nlinks;
	char buf[65536];
};

static int put(struct saver *s, const void *p, size_t n)
{
	return n && fwrite(p, 1, n, s->out) != n ? -1 : 0;
}

/* name=value pairs of the inode's extended attributes, as one block (NULL:
 * none). From fd, or path when set (not followed). */
static char *xattrs(int fd, const char *path, uint32_t *len)
{
	*len = 0;
	ssize_t n = path ? llistxattr(path, NULL, 0) : flistxattr(fd, NULL, 0);
	cleanup_free char *names = n > 0 && n <= MAX_XATTRS ? malloc((size_t)n) : NULL;
	if (names)
		n = path ? llistxattr(path, names, (size_t)n) : flistxattr(fd, names, (size_t)n);
	if (!names || n <= 0)
		return NULL;
	char *blk = NULL;
	size_t blen = 0;
	FILE *m = open_memstream(&blk, &blen);
	for (char *k = names; m && k < names + n; k += strlen(k) + 1) {
		char val[MAX_XATTRS];
		ssize_t v = path ? lgetxattr(path, k, val, sizeof(val)) : fgetxattr(fd, k, val, sizeof(val));
		if (v < 0)
			continue;
		uint32_t kl = (uint32_t)strlen(k), vl = (uint32_t)v;
		fwrite(&kl, sizeof(kl), 1, m);
		fwrite(&vl, sizeof(vl), 1, m);
		fwrite(k, 1, kl, m);
		fwrite(val, 1, vl, m);
	}
	if (!m || fclose(m) != 0 || blen > MAX_XATTRS) {
		free(blk);
		return NULL;
	}
	*len = (uint32_t)blen;
	return blk;
}

static int put_rec(struct saver *s, uint32_t type, const struct stat *st, const char *name,
		   const char *xa, uint32_t xalen, uint32_t link_id)
{
	struct nvz_tmpfs_rec r = {
		.type = type, .mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid,
		.rdev = st->st_rdev, .size = type == NVZ_TMPFS_FILE || type == NVZ_TMPFS_LNK ? (uint64_t)st->st_size : 0,
		.atime = st->st_atim.tv_sec, .mtime = st->st_mtim.tv_sec,
		.atime_ns = (uint32_t)st->st_atim.tv_nsec, .mtime_ns = (uint32_t)st->st_mtim.tv_nsec,
		.namelen = (uint32_t)strlen(name), .xattrlen = xalen, .link_id = link_id,
	};
	return put(s, &r, sizeof(r)) || put(s, name, r.namelen) || put(s, xa, xalen) ? -1 : 0;
}

/* A second name of an inode already written: its link id, or a new id. */
static int link_id(struct saver *s, const struct stat *st, bool *seen)
{
	*seen = false;
	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return 0;
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].ino == st->st_ino && s->links[i].dev == st->st_dev) {
			*seen = true;
			return (int)i + 1;
		}
	if (s->nlinks >= MAX_LINKS)
		return 0;
	void *v = realloc(s->links, (s->nlinks + 1) * sizeof(*s->links));
	if (!v)
		return -1;
	s->links = v;
	s->links[s->nlinks].dev = st->st_dev;
	s->links[s->nlinks].ino = st->st_ino;
	return (int)++s->nlinks;
}

/* A file's data as extents { offset, length, bytes } ending with a zero
 * length: the holes of a sparse file (a POSIX shm segment ftruncate'd
 * large, say) are not written out, as tar --sparse did not. */
struct extent {
	uint64_t off, len;
};

static int put_extent(struct saver *s, int fd, off_t off, off_t end)
{
	struct extent e = { (uint64_t)off, (uint64_t)(end - off) };
	if (put(s, &e, sizeof(e)) < 0)
		return -1;
	while (off < end) {
		size_t want = end - off < (off_t)sizeof(s->buf) ? (size_t)(end - off) : sizeof(s->buf);
		ssize_t n = pread(fd, s->buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* Nothing writes to the file now; a shorter one reads as zeros. */
		if (n == 0) {
			memset(s->buf, 0, want);
			n = (ssize_t)want;
		}
		if (put(s, s->buf, (size_t)n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

static int save_data(struct saver *s, int fd, off_t size)
{
	for (off_t pos = 0; pos < size;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			/* No SEEK_DATA here: all of it as one extent. */
			if (errno != EINVAL || pos != 0)
				return -1;
			data = 0;
			hole = size;
		}
		if (data >= size)
			break;
		if (hole > size)
			hole = size;
		if (put_extent(s, fd, data, hole) < 0)
			return -1;
		pos = hole;
	}
	struct extent end = { 0, 0 };
	return put(s, &end, sizeof(end));
}

static int save_file(struct saver *s, int dirfd, const char *name, const struct stat *st, int id)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (fd < 0)
		return -1;
	uint32_t xl;
	cleanup_free char *xa = xattrs(fd, NULL, &xl);
	if (put_rec(s, NVZ_TMPFS_FILE, st, name, xa, xl, (uint32_t)id) < 0)
		return -1;
	return save_data(s, fd, st->st_size);
}

static int save_dir(struct saver *s, int fd, const char *name, int depth);

static int save_entry(struct saver *s, int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISSOCK(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? -1 : save_dir(s, fd, name, depth + 1);
	}
	bool seen;
	int id = link_id(s, &st, &seen);
	if (id < 0)
		return -1;
	if (seen)
		return put_rec(s, NVZ_TMPFS_HARD, &st, name, NULL, 0, (uint32_t)id);
	if (S_ISREG(st.st_mode))
		return save_file(s, dirfd, name, &st, id);
	char path[64 + NAME_MAX];
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	uint32_t xl;
	cleanup_free char *xa = xattrs(-1, path, &xl);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
		if (n < 0 || n == (ssize_t)sizeof(target))
			return -1;
		st.st_size = n;
		return put_rec(s, NVZ_TMPFS_LNK, &st, name, xa, xl, (uint32_t)id) || put(s, target, (size_t)n) ? -1 : 0;
	}
	return put_rec(s, NVZ_TMPFS_NODE, &st, name, xa, xl, (uint32_t)id);
}

/* Takes fd. */
static int save_dir(struct saver *s, int fd, const char *name, int depth)
{
	cleanup_dir DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct stat st;
	if (depth > MAX_DEPTH || fstat(fd, &st) < 0)
		return -1;
	uint32_t xl;
	cleanup_free char *xa = xattrs(fd, NULL, &xl);
	if (put_rec(s, NVZ_TMPFS_DIR, &st, name, xa, xl, 0) < 0)
		return -1;
	for (;;) {
		errno = 0; /* readdir's end and its error look alike but for errno */
		struct dirent *de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (save_entry(s, fd, de->d_name, depth) < 0)
			return -1;
	}
	/* The directory's times as they were before we read it. */
	return errno ? -1 : put_rec(s, NVZ_TMPFS_END, &st, "", NULL, 0, 0);
}

int nvz_cpt_tmpfs_save(int treefd, int outfd, struct nvz_error **err)
{
	int fd = openat(treefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_fclose FILE *out = fd < 0 ? NULL : fdopen(outfd, "we");
	if (fd < 0 || !out) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		close(outfd);
		return nvz_err_sys(err, NVZ_E_CHKPNT, e, "open a tmpfs of the CT to save it");
	}
	cleanup_free struct saver *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	}
	s->out = out;
	int r = put(s, MAGIC, strlen(MAGIC)) < 0 ? -1 : save_dir(s, fd, "", 0);
	int e = errno;
	free(s->links);
	if (r == 0 && fflush(out) != 0)
		r = -1, e = errno;
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, e ? e : EIO, "save a tmpfs of the CT");
	return 0;
}

/* Loading. */

struct loader {
	FILE *in;
	int dirs[MAX_DEPTH + 2];
	struct nvz_tmpfs_rec dirrec[MAX_DEPTH + 2];
	char *dirxa[MAX_DEPTH + 2];
	int depth;
	int links[MAX_LINKS];
	char buf[65536];
};

static int get(struct loader *l, void *p, size_t n)
{
	return n && fread(p, 1, n, l->in) != n ? -1 : 0;
}

/* One component: no separator, not . or .. */
static bool good_name(const char *n)
{
	return *n && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/');
}

static void set_xattrs(int fd, const char *path, const char *xa, uint32_t len)
{
	for (uint32_t off = 0; off + 8 <= len;) {
		uint32_t kl, vl;
		memcpy(&kl, xa + off, 4);
		memcpy(&vl, xa + off + 4, 4);
		if (kl == 0 || kl > 255 || vl > len || off + 8 + kl + vl > len)
			return;
		char key[256];
		memcpy(key, xa + off + 8, kl);
		key[kl] = '\0';
		const char *val = xa + off + 8 + kl;
		/* Best effort, as tar --xattrs: a name this kernel refuses is skipped. */
		if (path)
			(void)lsetxattr(path, key, val, vl, 0);
		else
			(void)fsetxattr(fd, key, val, vl, 0);
		off += 8 + kl + vl;
	}
}

/* Owner first: chown clears the set-id bits the mode then sets, and a file
 * capability (security.capability) set before it. Times last. */
static int set_attrs(int fd, const struct nvz_tmpfs_rec *r, const char *xa)
{
	struct timespec t[2] = { { r->atime, r->atime_ns }, { r->mtime, r->mtime_ns } };
	if (fchown(fd, r->uid, r->gid) < 0 || fchmod(fd, r->mode & 07777) < 0)
		return -1;
	set_xattrs(fd, NULL, xa, r->xattrlen);
	return futimens(fd, t);
}

/* The extents of save_data, each inside the size the record gave (the
 * file was truncated to it first: holes stay holes). */
static int copy_data(struct loader *l, int fd, uint64_t size)
{
	if (size > (uint64_t)INT64_MAX || ftruncate(fd, (off_t)size) < 0)
		return -1;
	for (;;) {
		struct extent e;
		if (get(l, &e, sizeof(e)) < 0)
			return -1;
		if (e.len == 0)
			return 0;
		if (e.off > size || e.len > size - e.off)
			return -1;
		while (e.len > 0) {
			size_t n = e.len < sizeof(l->buf) ? (size_t)e.len : sizeof(l->buf);
			if (get(l, l->buf, n) < 0)
				return -1;
			for (size_t done = 0; done < n;) {
				ssize_t w = pwrite(fd, l->buf + done, n - done, (off_t)(e.off + done));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return -1;
				done += (size_t)w;
			}
			e.off += n;
			e.len -= n;
		}
	}
}

static int load_file(struct loader *l, int dir, const char *name, const struct nvz_tmpfs_rec *r, const char *xa)
{
	cleanup_close int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || copy_data(l, fd, r->size) < 0 || set_attrs(fd, r, xa) < 0)
		return -1;
	if (r->link_id > 0 && r->link_id <= MAX_LINKS && l->links[r->link_id - 1] < 0)
		l->links[r->link_id - 1] = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return 0;
}

static int load_other(struct loader *l, int dir, const char *name, const struct nvz_tmpfs_rec *r, const char *xa)
{
	if (r->type == NVZ_TMPFS_HARD)
		return r->link_id == 0 || r->link_id > MAX_LINKS || l->links[r->link_id - 1] < 0 ? -1
		       : linkat(l->links[r->link_id - 1], "", dir, name, AT_EMPTY_PATH);
	if (r->type == NVZ_TMPFS_LNK) {
		if (r->size == 0 || r->size >= PATH_MAX || get(l, l->buf, (size_t)r->size) < 0)
			return -1;
		l->buf[r->size] = '\0';
		if (strlen(l->buf) != r->size || symlinkat(l->buf, dir, name) < 0)
			return -1;
	} else {
		mode_t type = r->mode & S_IFMT;
		if ((type != S_IFCHR && type != S_IFBLK && type != S_IFIFO) ||
		    mknodat(dir, name, type | 0600, (dev_t)r->rdev) < 0)
			return -1;
		if (fchmodat(dir, name, r->mode & 07777, 0) < 0)
			return -1;
	}
	char path[64 + NAME_MAX];
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir, name);
	struct timespec t[2] = { { r->atime, r->atime_ns }, { r->mtime, r->mtime_ns } };
	if (fchownat(dir, name, r->uid, r->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (r->type == NVZ_TMPFS_NODE && fchmodat(dir, name, r->mode & 07777, 0) < 0))
		return -1;
	set_xattrs(-1, path, xa, r->xattrlen);
	if (utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (r->link_id > 0 && r->link_id <= MAX_LINKS && l->links[r->link_id - 1] < 0)
		l->links[r->link_id - 1] = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return 0;
}

static int load_dir(struct loader *l, const char *name, const struct nvz_tmpfs_rec *r, char **xa)
{
	if (l->depth > MAX_DEPTH)
		return -1;
	int fd;
	if (l->depth == 0) {
		fd = dup(l->dirs[0]);
	} else {
		int parent = l->dirs[l->depth];
		if (mkdirat(parent, name, 0700) < 0)
			return -1;
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	l->depth++;
	l->dirs[l->depth] = fd;
	l->dirrec[l->depth] = *r;
	l->dirxa[l->depth] = steal_ptr(xa);
	return 0;
}

static int load_end(struct loader *l)
{
	if (l->depth < 1)
		return -1;
	int fd = l->dirs[l->depth];
	int r = set_attrs(fd, &l->dirrec[l->depth], l->dirxa[l->depth]);
	close(fd);
	free(l->dirxa[l->depth]);
	l->dirxa[l->depth] = NULL;
	l->depth--;
	return r;
}

static int load_one(struct loader *l, bool *done)
{
	struct nvz_tmpfs_rec r;
	char name[NAME_MAX + 1];
	if (get(l, &r, sizeof(r)) < 0 || r.namelen > NAME_MAX || r.xattrlen > MAX_XATTRS ||
	    get(l, name, r.namelen) < 0)
		return -1;
	name[r.namelen] = '\0';
	cleanup_free char *xa = r.xattrlen ? malloc(r.xattrlen) : NULL;
	if ((r.xattrlen && !xa) || get(l, xa, r.xattrlen) < 0)
		return -1;
	if (r.type == NVZ_TMPFS_END) {
		int ret = load_end(l);
		*done = l->depth == 0;
		return ret;
	}
	/* Only the first record (the tmpfs root) has no name. */
	if (l->depth == 0 ? r.type != NVZ_TMPFS_DIR || r.namelen : !good_name(name) || strlen(name) != r.namelen)
		return -1;
	if (r.type == NVZ_TMPFS_DIR)
		return load_dir(l, name, &r, &xa);
	int dir = l->dirs[l->depth];
	if (r.type == NVZ_TMPFS_FILE)
		return load_file(l, dir, name, &r, xa);
	if (r.type == NVZ_TMPFS_LNK || r.type == NVZ_TMPFS_NODE || r.type == NVZ_TMPFS_HARD)
		return load_other(l, dir, name, &r, xa);
	return -1;
}

int nvz_cpt_tmpfs_load(int infd, int dirfd, struct nvz_error **err)
{
	cleanup_fclose FILE *in = fdopen(infd, "re");
	cleanup_free struct loader *l = in ? calloc(1, sizeof(*l)) : NULL;
	if (!l) {
		if (!in)
			close(infd);
		return nvz_err_sys(err, NVZ_E_RESTORE, errno ? errno : ENOMEM, "read a tmpfs image");
	}
	l->in = in;
	l->dirs[0] = dirfd;
	for (size_t i = 0; i < MAX_LINKS; i++)
		l->links[i] = -1;
	char magic[sizeof(MAGIC) - 1];
	bool done = false;
	errno = 0;
	int r = get(l, magic, sizeof(magic)) < 0 || memcmp(magic, MAGIC, sizeof(magic)) ? -1 : 0;
	while (r == 0 && !done)
		r = load_one(l, &done);
	int e = errno;
	while (l->depth > 0) {
		close(l->dirs[l->depth]);
		free(l->dirxa[l->depth--]);
	}
	for (size_t i = 0; i < MAX_LINKS; i++)
		if (l->links[i] >= 0)
			close(l->links[i]);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, e ? e : EINVAL, "bad or unreadable tmpfs image");
	return 0;
}
