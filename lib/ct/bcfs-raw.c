/* The beancounter file system's requests, answered by the hub or the small
 * monitor (vzmon) without libfuse. The start made it and answered INIT with
 * libfuse (bcfs.c); a libfuse session cannot be carried over an
 * exec (its state, INIT included, lives in the old heap), and the protocol
 * for one read-only file, the file system's root, is small: getattr, open,
 * read and release. Everything else gets ENOSYS, which the kernel
 * remembers, as libfuse answers for operations bcfs.c does not implement.
 * Requests come from the CT's processes: every length is checked against
 * what was read before it is used. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "ct/bcraw.h"
#include "ct/monwait.h"
#include "nvz/cleanup.h"
#include "nvz/ctx.h"
#include "nvz/ubcview.h"

#define BC_FH_TAG 0x6e767a0000000000ULL /* "nvz": our handles, not libfuse's */
/* The kernel refuses a read of /dev/fuse smaller than a request could be:
 * libfuse negotiated a max_write of 1 MiB. Mapped, not touched: only the
 * pages a request fills are ever faulted in. */
#define BC_BUF_SIZE ((1u << 20) + 8192)

/* The CT's table now, from its config and counters. In the small monitor
 * (vzmon, one thread) it is computed in a child that writes it to a pipe
 * and exits, so that loading the config leaves nothing in that process's
 * heap (which would stay dirty for the CT's whole life: a malloc'd config
 * does not give its pages back). The hub has threads: a child forked from
 * it may find a heap lock held by one of them and must not allocate, so
 * the hub computes it itself, and gives the heap back once quiet (its
 * trim, hub.c: a burst of reads, or a tool polling every CT, costs one). */
static bool table_here, table_made;

void nvz_bcraw_table_here(void)
{
	table_here = true;
}

bool nvz_bcraw_table_made(void)
{
	bool made = table_made;
	table_made = false;
	return made;
}

static char *table_now(unsigned long veid)
{
	struct nvz_ctx *ctx = NULL;
	struct nvz_ct *ct = NULL;
	char *text = NULL;
	if (nvz_ctx_open(&ctx, NULL, NULL, NULL) == 0 && nvz_ct_open(ctx, veid, &ct, NULL) == 0 &&
	    nvz_ct_ubc_table(ct, &text, NULL) < 0)
		text = NULL;
	nvz_ct_free(ct);
	nvz_ctx_free(ctx);
	return text;
}

static void table_child(const struct nvz_bcraw *b, int out)
{
	char *text = table_now(b->veid);
	size_t len = text ? strlen(text) : 0, done = 0;
	while (done < len) {
		ssize_t n = write(out, text + done, len - done);
		if (n <= 0)
			_exit(1);
		done += (size_t)n;
	}
	_exit(text ? 0 : 1);
}

static char *bc_text_here(const struct nvz_bcraw *b, int *code)
{
	char *text = table_now(b->veid);
	table_made = true;
	*code = text ? 0 : EIO;
	return text;
}

static char *bc_text(const struct nvz_bcraw *b, int *code)
{
	if (table_here)
		return bc_text_here(b, code);
	int p[2];
	*code = EIO;
	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		table_child(b, p[1]);
	}
	close(p[1]);
	size_t cap = (size_t)b->size + 4096, len = 0;
	char *text = pid > 0 ? malloc(cap + 1) : NULL;
	ssize_t n = 0;
	while (text && len < cap && ((n = read(p[0], text + len, cap - len)) > 0 || (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(p[0]);
	int status = -1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!text || n < 0 || status != 0 || len == 0) {
		*code = text ? EIO : ENOMEM;
		free(text);
		return NULL;
	}
	text[len] = '\0';
	*code = 0;
	return text;
}

/* As bcfs.c: every column has a fixed width, so a table of default values
 * is exactly as long as the live one; only the id's length changes it.
 * Kept by that length: the server's file system (bcsrv.c) needs it in the
 * lookup a start waits for. */
static off_t bc_size(const char *id)
{
	static off_t by_len[32];
	size_t len = strlen(id);
	if (len < sizeof(by_len) / sizeof(by_len[0]) && by_len[len])
		return by_len[len];
	struct nvz_ubc_row rows[UBC_COUNT];
	nvz_ubc_rows(NULL, NULL, rows);
	char *text = NULL;
	off_t n = nvz_ubc_table_rows(id, rows, true, &text, NULL) < 0 ? 0 : (off_t)strlen(text);
	free(text);
	if (n > 0 && len < sizeof(by_len) / sizeof(by_len[0]))
		by_len[len] = n;
	return n;
}

/* One request buffer for every CT of the process (the hub serves many, one
 * request at a time): one mapping, its touched pages shared. */
static char *request_buf;
static unsigned request_buf_users;

struct nvz_bcraw *nvz_bcraw_new(const struct nvz_monwait *m)
{
	if (m->bc_fd < 0)
		return NULL;
	struct nvz_bcraw *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (!request_buf) {
		void *p = mmap(NULL, BC_BUF_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			free(b);
			return NULL;
		}
		request_buf = p;
	}
	request_buf_users++;
	b->buf = request_buf;
	b->fd = m->bc_fd;
	b->nodeid = FUSE_ROOT_ID;
	b->veid = m->veid;
	snprintf(b->id, sizeof(b->id), "%lu", m->veid);
	b->mounted_at = m->bc_mounted_at;
	b->size = bc_size(b->id);
	return b;
}

struct nvz_bcraw *nvz_bcraw_node(int fd, unsigned long veid, uint64_t nodeid, time_t at)
{
	struct nvz_bcraw *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->fd = fd;
	b->nodeid = nodeid;
	b->veid = veid;
	snprintf(b->id, sizeof(b->id), "%lu", veid);
	b->mounted_at = at;
	b->size = bc_size(b->id);
	return b;
}

void nvz_bcraw_free(struct nvz_bcraw *b)
{
	if (!b)
		return;
	for (int i = 0; i < BC_OPEN_MAX; i++)
		free(b->open[i]);
	/* A node of the server's file system (bcsrv.c) reads into its own. */
	if (b->buf && --request_buf_users == 0) {
		munmap(request_buf, BC_BUF_SIZE);
		request_buf = NULL;
	}
	free(b);
}

void nvz_bcraw_reply(int fd, uint64_t unique, int error, const void *data, size_t len)
{
	struct fuse_out_header h = { .len = (uint32_t)(sizeof(h) + (error ? 0 : len)),
				     .error = -error, .unique = unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, error ? 0 : len } };
	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	if (writev(fd, iov, 2) < 0)
		return;
}

static void reply(const struct nvz_bcraw *b, uint64_t unique, int error, const void *data,
		  size_t len)
{
	nvz_bcraw_reply(b->fd, unique, error, data, len);
}

void nvz_bcraw_attr(const struct nvz_bcraw *b, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = b->nodeid;
	a->atime = a->mtime = a->ctime = (uint64_t)b->mounted_at;
	a->mode = S_IFREG | 0444;
	a->nlink = 1;
	a->size = (uint64_t)b->size;
}

static void do_getattr(struct nvz_bcraw *b, const struct fuse_in_header *h)
{
	if (h->nodeid != b->nodeid) {
		reply(b, h->unique, ENOENT, NULL, 0);
		return;
	}
	struct fuse_attr_out a = { .attr_valid = BC_TIMEOUT };
	nvz_bcraw_attr(b, &a.attr);
	reply(b, h->unique, 0, &a, sizeof(a));
}

static void do_open(struct nvz_bcraw *b, const struct fuse_in_header *h, const char *body,
		    size_t len)
{
	const struct fuse_open_in *in = (const void *)body;
	if (h->nodeid != b->nodeid || len < sizeof(*in)) {
		reply(b, h->unique, len < sizeof(*in) ? EINVAL : ENOENT, NULL, 0);
		return;
	}
	if ((in->flags & O_ACCMODE) != O_RDONLY) {
		reply(b, h->unique, EACCES, NULL, 0);
		return;
	}
	int slot = 0;
	while (slot < BC_OPEN_MAX && b->open[slot])
		slot++;
	int code = EMFILE;
	char *text = slot < BC_OPEN_MAX ? bc_text(b, &code) : NULL;
	if (!text) {
		reply(b, h->unique, code, NULL, 0);
		return;
	}
	b->open[slot] = text;
	b->open_len[slot] = strlen(text);
	struct fuse_open_out o = { .fh = BC_FH_TAG | (uint64_t)slot, .open_flags = FOPEN_DIRECT_IO };
	reply(b, h->unique, 0, &o, sizeof(o));
}

/* Our slot for fh, or -1: a handle libfuse gave out before the exec. */
static int slot_of(const struct nvz_bcraw *b, uint64_t fh)
{
	uint64_t s = fh & ~BC_FH_TAG;
	if ((fh & BC_FH_TAG) != BC_FH_TAG || s >= BC_OPEN_MAX || !b->open[s])
		return -1;
	return (int)s;
}

static void do_read(struct nvz_bcraw *b, const struct fuse_in_header *h, const char *body,
		    size_t len)
{
	const struct fuse_read_in *in = (const void *)body;
	if (len < sizeof(*in)) {
		reply(b, h->unique, EINVAL, NULL, 0);
		return;
	}
	int s = slot_of(b, in->fh);
	int code = 0;
	/* A file opened before the exec has no snapshot here: read a fresh one. */
	char *fresh = s < 0 ? bc_text(b, &code) : NULL;
	if (s < 0 && !fresh) {
		reply(b, h->unique, code, NULL, 0);
		return;
	}
	const char *text = s < 0 ? fresh : b->open[s];
	size_t tlen = s < 0 ? strlen(fresh) : b->open_len[s];
	size_t n = in->offset >= tlen ? 0 : tlen - (size_t)in->offset;
	reply(b, h->unique, 0, text + (n ? in->offset : 0), n < in->size ? n : in->size);
	free(fresh);
}

static void do_release(struct nvz_bcraw *b, const struct fuse_in_header *h, const char *body,
		       size_t len)
{
	const struct fuse_release_in *in = (const void *)body;
	int s = len >= sizeof(*in) ? slot_of(b, in->fh) : -1;
	if (s >= 0) {
		free(b->open[s]);
		b->open[s] = NULL;
	}
	reply(b, h->unique, 0, NULL, 0);
}

void nvz_bcraw_dispatch(struct nvz_bcraw *b, const struct fuse_in_header *h, const char *body,
			size_t len)
{
	struct fuse_statfs_out sf = { .st = { .bsize = 512, .namelen = 255 } };
	switch (h->opcode) {
	case FUSE_GETATTR: do_getattr(b, h); break;
	case FUSE_OPEN: do_open(b, h, body, len); break;
	case FUSE_READ: do_read(b, h, body, len); break;
	case FUSE_RELEASE: do_release(b, h, body, len); break;
	case FUSE_STATFS: reply(b, h->unique, 0, &sf, sizeof(sf)); break;
	/* No reply is expected to these. */
	case FUSE_FORGET: case FUSE_BATCH_FORGET: case FUSE_INTERRUPT: case FUSE_NOTIFY_REPLY: break;
	default: reply(b, h->unique, ENOSYS, NULL, 0); break;
	}
}

int nvz_bcraw_process(struct nvz_bcraw *b)
{
	for (;;) {
		ssize_t n = read(b->fd, b->buf, BC_BUF_SIZE);
		if (n < 0)
			/* EAGAIN: all answered; ENOENT: a request withdrawn; ENODEV:
			 * unmounted (the CT's mount namespace went with init). */
			return errno == EAGAIN || errno == EINTR || errno == ENOENT ? 0 : -1;
		const struct fuse_in_header *h = (const void *)b->buf;
		if ((size_t)n < sizeof(*h) || h->len != (uint32_t)n)
			continue;
		nvz_bcraw_dispatch(b, h, b->buf + sizeof(*h), (size_t)n - sizeof(*h));
	}
}

/* A beancounter file system on the FUSE device devfd, detached: fsopen and
 * fsmount give a mount that is in no namespace yet, so nothing on the host
 * sees it. rootmode: a regular file (a CT's own, bcfs.c) or a directory
 * (the server's, bcsrv.c). allow_other: the CT's root is not host root in
 * a user namespace; the modes (0444, 0555) decide who reads. Returns the
 * fsmount fd (close on exec). */
int nvz_bc_fsmount(int devfd, const char *source, mode_t rootmode, struct nvz_error **err)
{
	char fd[16], mode[16];
	snprintf(fd, sizeof(fd), "%d", devfd);
	snprintf(mode, sizeof(mode), "%o", (unsigned)rootmode);
	const struct {
		const char *key, *value;
	} params[] = {
		{ "source", source }, { "subtype", "nvz-bc" }, { "fd", fd }, { "rootmode", mode },
		{ "user_id", "0" }, { "group_id", "0" }, { "default_permissions", NULL },
		{ "allow_other", NULL }, { "ro", NULL },
	};
	cleanup_close int fs = fsopen("fuse", FSOPEN_CLOEXEC);
	if (fs < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "fsopen fuse");
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (fsconfig(fs, params[i].value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			     params[i].key, params[i].value, 0) < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "beancounter view: option %s",
					   params[i].key);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "create the beancounter view");
	int tree = fsmount(fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (tree < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount the beancounter view");
	return tree;
}

/* Here, not in bcfs.c: vzmon clears it too, and links no libfuse. */
void nvz_bcfs_clear_host(const char *path)
{
	umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
	if (unlink(path) < 0 && errno == EISDIR)
		rmdir(path);
}
