/* bcfs: /proc/user_beancounters for a CT on a kernel without beancounters.
 * A libfuse3 low-level filesystem whose root is the one regular file (no
 * directory, so no lookup), served by the CT's monitor from its poll loop
 * (see bcfs.h). The text is
 * built at open() and kept with the open file, so a reader sees one
 * consistent snapshot however small its reads are (direct_io). The file
 * reports the text's real size, as lxcfs does: sendfile() (busybox cat)
 * reads through the page cache and stops at i_size, so a size of 0, as
 * procfs reports, would read as empty. Every column has a fixed width, so
 * the length of a CT's table never changes and a cached size stays right. */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/ubcview.h"

#define BC_TIMEOUT 86400.0

struct nvz_bcfs {
	const struct nvz_ct *ct;
	struct fuse_session *se;
	struct fuse_buf buf;
	char *path; /* where it is mounted on the host, or NULL (detached) */
	int tree_fd;
	time_t mounted_at;
	off_t size; /* of the table, computed once; < 0 until then */
};

struct bc_open_file {
	size_t len;
	char text[];
};

/* The CT's table now; returns 0 or a positive errno for the reply. */
static int bc_text(const struct nvz_bcfs *bc, char **text)
{
	struct nvz_error *err = NULL;
	if (nvz_ct_ubc_table(bc->ct, text, &err) < 0) {
		int code = err && err->code == ENOMEM ? ENOMEM : EIO;
		nvz_error_free(err);
		return code;
	}
	return 0;
}

/* The table's length without reading a counter: every column has a fixed
 * width, so a table of default values is as long as the live one. getattr
 * needs only this. */
static off_t bc_size(struct nvz_bcfs *bc)
{
	if (bc->size < 0) {
		struct nvz_ubc_row rows[UBC_COUNT];
		nvz_ubc_rows(NULL, NULL, rows);
		cleanup_free char *text = NULL;
		if (nvz_ubc_table_rows(bc->ct->id, rows, true, &text, NULL) < 0)
			return 0;
		bc->size = (off_t)strlen(text);
	}
	return bc->size;
}

static void bc_stat(struct nvz_bcfs *bc, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_atime = st->st_mtime = st->st_ctime = bc->mounted_at;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = bc_size(bc);
}

static void bc_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct nvz_bcfs *bc = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	bc_stat(bc, &st);
	fuse_reply_attr(req, &st, BC_TIMEOUT);
}

static void bc_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct nvz_bcfs *bc = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	cleanup_free char *text = NULL;
	int code = bc_text(bc, &text);
	size_t len = code ? 0 : strlen(text);
	struct bc_open_file *f = code ? NULL : malloc(sizeof(*f) + len);
	if (!f) {
		fuse_reply_err(req, code ? code : ENOMEM);
		return;
	}
	f->len = len;
	memcpy(f->text, text, len);
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) < 0)
		free(f); /* the opener was interrupted: no release will come */
}

static void bc_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	const struct bc_open_file *f = (const struct bc_open_file *)(uintptr_t)fi->fh;
	if (off < 0 || (uint64_t)off >= f->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = f->len - (size_t)off;
	fuse_reply_buf(req, f->text + off, n < size ? n : size);
}

static void bc_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops bc_ops = {
	.getattr = bc_getattr,
	.open = bc_open,
	.read = bc_read,
	.release = bc_release,
};

/* libfuse reports problems on stderr; the library never prints. */
static void bc_log_drop(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
}

/* libfuse gets the device as "/dev/fd/N": its session then owns no mount,
 * and freeing it leaves the mount alone, as the hub needs once a start in
 * one of its threads handed the device over (nvz_bcfs_release). The kernel
 * queued INIT when the file system was made: answered here, so the device
 * handed over is past it (the hub's raw side, bcfs-raw.c, expects that). */
static int bc_session(struct nvz_bcfs *bc, struct nvz_error **err)
{
	cleanup_close int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open /dev/fuse");
	char source[64];
	snprintf(source, sizeof(source), "nvz-bc-%s", bc->ct->id);
	/* Its root is the file itself: attaching it needs no lookup. */
	if ((bc->tree_fd = nvz_bc_fsmount(fd, source, S_IFREG | 0444, err)) < 0)
		return -1;
	char devfd[32];
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", fd);
	char *argv[] = { "nvz-bcfs", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	fuse_set_log_func(bc_log_drop);
	bc->se = fuse_session_new(&args, &bc_ops, sizeof(bc_ops), bc);
	fuse_opt_free_args(&args);
	if (!bc->se || fuse_session_mount(bc->se, devfd) != 0)
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "create FUSE session for the beancounter view");
	steal_fd(&fd); /* the session's now */
	if (nvz_bcfs_process(bc) < 0)
		return nvz_err(err, NVZ_E_MOUNT, EPROTO, "beancounter view: no FUSE handshake");
	/* A request the kernel withdraws between poll and read (its sender
	 * was interrupted) must not leave the monitor blocked in read(). */
	int dev = fuse_session_fd(bc->se);
	fcntl(dev, F_SETFL, fcntl(dev, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* Restore: criu binds the CT's file from a path on the host. */
static int bc_attach_host(struct nvz_bcfs *bc, const char *path, struct nvz_error **err)
{
	/* A monitor that died leaves a dead mount ("transport endpoint is not
	 * connected") where the file is to be. */
	nvz_bcfs_clear_host(path);
	int t = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (t < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "create %s", path);
	close(t);
	if (!(bc->path = strdup(path)))
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_bcfs_attach(bc->tree_fd, path, err) < 0)
		return -1;
	close(steal_fd(&bc->tree_fd));
	return 0;
}

struct nvz_bcfs *nvz_bcfs_new(const struct nvz_ct *ct, const char *path, struct nvz_error **err)
{
	struct nvz_bcfs *bc = calloc(1, sizeof(*bc));
	if (!bc) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	bc->ct = ct;
	bc->tree_fd = -1;
	bc->size = -1;
	bc->mounted_at = time(NULL);
	if (bc_session(bc, err) < 0 || (path && bc_attach_host(bc, path, err) < 0)) {
		nvz_err_wrap(err, "CT %s", ct->id);
		nvz_bcfs_unmount(bc);
		return NULL;
	}
	return bc;
}

int nvz_bcfs_fd(const struct nvz_bcfs *bc)
{
	return bc && bc->se ? fuse_session_fd(bc->se) : -1;
}

time_t nvz_bcfs_mounted_at(const struct nvz_bcfs *bc)
{
	return bc ? bc->mounted_at : 0;
}

int nvz_bcfs_file_tree(const struct nvz_bcfs *bc)
{
	return bc ? bc->tree_fd : -1;
}

int nvz_bcfs_process(struct nvz_bcfs *bc)
{
	if (!bc->se || fuse_session_exited(bc->se))
		return -1;
	int r = fuse_session_receive_buf(bc->se, &bc->buf);
	if (r > 0)
		fuse_session_process_buf(bc->se, &bc->buf);
	/* receive_buf marks the session exited when the mount went away. */
	return fuse_session_exited(bc->se) ? -1 : 0;
}

int nvz_bcfs_attach(int tree_fd, const char *target, struct nvz_error **err)
{
	if (move_mount(tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount beancounters on %s", target);
	return 0;
}

static void bc_free(struct nvz_bcfs *bc, bool unmount)
{
	if (!bc)
		return;
	if (bc->tree_fd >= 0)
		close(bc->tree_fd);
	if (unmount && bc->path)
		nvz_bcfs_clear_host(bc->path);
	if (bc->se)
		fuse_session_destroy(bc->se);
	free(bc->buf.mem);
	free(bc->path);
	free(bc);
}

void nvz_bcfs_unmount(struct nvz_bcfs *bc)
{
	bc_free(bc, true);
}

void nvz_bcfs_release(struct nvz_bcfs *bc)
{
	bc_free(bc, false);
}
