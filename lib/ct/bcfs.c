/* bcfs: /proc/user_beancounters for a CT on a kernel without beancounters.
 * A libfuse3 low-level filesystem with one regular file, served by the
 * single-threaded CT monitor from its poll loop (see bcfs.h). The text is
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
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/ubcview.h"

#define BC_FILE "user_beancounters"
#define BC_FILE_INO 2
#define BC_TIMEOUT 86400.0
#define TREE_TIMEOUT_MS 10000

struct nvz_bcfs {
	const struct nvz_ct *ct;
	struct fuse_session *se;
	bool mounted; /* by us, at dir (bc_session) */
	struct fuse_buf buf;
	char *dir;
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
 * width, so a table of default values is as long as the live one. Lookup
 * and getattr need only this, and open_tree() at start does a lookup. */
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

static void bc_stat(struct nvz_bcfs *bc, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_atime = st->st_mtime = st->st_ctime = bc->mounted_at;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = bc_size(bc);
	}
}

static void bc_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct nvz_bcfs *bc = fuse_req_userdata(req);
	if (parent != FUSE_ROOT_ID || strcmp(name, BC_FILE)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e = {
		.ino = BC_FILE_INO, .generation = 1,
		.attr_timeout = BC_TIMEOUT, .entry_timeout = BC_TIMEOUT,
	};
	bc_stat(bc, BC_FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void bc_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct nvz_bcfs *bc = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID && ino != BC_FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	bc_stat(bc, ino, &st);
	fuse_reply_attr(req, &st, BC_TIMEOUT);
}

static void bc_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t mode;
	} ents[] = {
		{ ".", FUSE_ROOT_ID, S_IFDIR }, { "..", FUSE_ROOT_ID, S_IFDIR },
		{ BC_FILE, BC_FILE_INO, S_IFREG },
	};
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	char buf[512];
	size_t len = 0, cap = size < sizeof(buf) ? size : sizeof(buf);
	for (size_t i = off < 0 ? 0 : (size_t)off; i < sizeof(ents) / sizeof(ents[0]); i++) {
		struct stat st = { .st_ino = ents[i].ino, .st_mode = ents[i].mode };
		size_t need = fuse_add_direntry(req, buf + len, cap - len, ents[i].name, &st,
						(off_t)i + 1);
		if (need > cap - len)
			break;
		len += need;
	}
	fuse_reply_buf(req, buf, len);
}

static void bc_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct nvz_bcfs *bc = fuse_req_userdata(req);
	if (ino != BC_FILE_INO) {
		fuse_reply_err(req, EISDIR);
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
	.lookup = bc_lookup,
	.getattr = bc_getattr,
	.readdir = bc_readdir,
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

struct tree_job {
	char *path;
	int fd, code, efd;
};

static void *tree_thread(void *arg)
{
	struct tree_job *j = arg;
	j->fd = open_tree(AT_FDCWD, j->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	j->code = j->fd < 0 ? errno : 0;
	uint64_t one = 1;
	if (write(j->efd, &one, sizeof(one)) < 0)
		j->code = j->code ? j->code : errno;
	return NULL;
}

/* Serve requests until the helper thread's lookup and clone are done. */
static int serve_until(struct nvz_bcfs *bc, int efd)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = efd, .events = POLLIN },
			{ .fd = fuse_session_fd(bc->se), .events = POLLIN },
		};
		int n = poll(p, 2, 200);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents & POLLIN)
			return 0;
		if ((p[1].revents & POLLIN) && nvz_bcfs_process(bc) < 0)
			return -ENOTCONN;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    TREE_TIMEOUT_MS)
			return -ETIMEDOUT;
	}
}

/* open_tree() looks the file up through FUSE, so another thread must make
 * the call while this one answers. */
static int make_tree(struct nvz_bcfs *bc, struct nvz_error **err)
{
	struct tree_job j = { .fd = -1, .efd = eventfd(0, EFD_CLOEXEC) };
	if (j.efd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "eventfd");
	if (asprintf(&j.path, "%s/%s", bc->dir, BC_FILE) < 0) {
		close(j.efd);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	pthread_t t;
	int rc = pthread_create(&t, NULL, tree_thread, &j);
	if (rc != 0) {
		free(j.path);
		close(j.efd);
		return nvz_err_sys(err, NVZ_E_SYSTEM, rc, "start bcfs helper thread");
	}
	rc = serve_until(bc, j.efd);
	if (rc < 0) {
		/* Aborting the connection fails the thread's pending lookup. */
		fuse_session_unmount(bc->se);
		fuse_session_destroy(bc->se);
		bc->se = NULL;
	}
	pthread_join(t, NULL);
	close(j.efd);
	if (rc == 0 && j.fd < 0)
		rc = -j.code;
	if (rc < 0) {
		if (j.fd >= 0)
			close(j.fd);
		nvz_err_sys(err, NVZ_E_MOUNT, -rc, "clone mount of %s", j.path);
		free(j.path);
		return -1;
	}
	free(j.path);
	bc->tree_fd = j.fd;
	return 0;
}

/* We mount /dev/fuse ourselves and give libfuse the descriptor
 * ("/dev/fd/N"): its session then owns no mount, and freeing it leaves the
 * mount alone, as the hub needs once a start in one of its threads handed
 * the device over (nvz_bcfs_release); unmounting is ours (bc_free). */
static int bc_session(struct nvz_bcfs *bc, struct nvz_error **err)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open /dev/fuse");
	cleanup_free char *opts = NULL, *fsname = NULL, *devfd = NULL;
	if (asprintf(&opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions", fd) < 0 ||
	    asprintf(&fsname, "nvz-bc-%s", bc->ct->id) < 0 || asprintf(&devfd, "/dev/fd/%d", fd) < 0) {
		close(fd);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	if (mount(fsname, bc->dir, "fuse.nvz-bc", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0) {
		int e = errno;
		close(fd);
		return nvz_err_sys(err, NVZ_E_MOUNT, e, "mount beancounter view at %s", bc->dir);
	}
	bc->mounted = true;
	char *argv[] = { "nvz-bcfs", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	fuse_set_log_func(bc_log_drop);
	bc->se = fuse_session_new(&args, &bc_ops, sizeof(bc_ops), bc);
	fuse_opt_free_args(&args);
	if (!bc->se || fuse_session_mount(bc->se, devfd) != 0) {
		close(fd);
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "create FUSE session for %s", bc->dir);
	}
	/* A request the kernel withdraws between poll and read (its sender
	 * was interrupted) must not leave the monitor blocked in read(). */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

struct nvz_bcfs *nvz_bcfs_mount(const struct nvz_ct *ct, const char *dir, struct nvz_error **err)
{
	struct nvz_bcfs *bc = calloc(1, sizeof(*bc));
	if (!bc || !(bc->dir = strdup(dir))) {
		free(bc);
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	bc->ct = ct;
	bc->tree_fd = -1;
	bc->size = -1;
	bc->mounted_at = time(NULL);
	/* A monitor that died leaves a dead mount ("transport endpoint is not
	 * connected") that would fail the mkdir below. */
	umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
	if (nvz_mkdir_p(dir, 0755, err) < 0 || bc_session(bc, err) < 0 || make_tree(bc, err) < 0) {
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
	if (unmount && bc->mounted)
		umount2(bc->dir, MNT_DETACH | UMOUNT_NOFOLLOW);
	if (bc->se)
		fuse_session_destroy(bc->se);
	if (unmount && bc->dir)
		rmdir(bc->dir);
	free(bc->buf.mem);
	free(bc->dir);
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
