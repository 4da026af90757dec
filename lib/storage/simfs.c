/* simfs: the private area is a directory on the host filesystem, bind-mounted
 * at VE_ROOT (what vzctl itself did on non-OpenVZ kernels). Disk limits are
 * the kernel's project quota: project id = CT ID on every file of the area,
 * with PROJINHERIT on directories so that what is created later inherits it;
 * statfs of a PROJINHERIT directory (the CT's "/") then reports the project's
 * limits, so df inside the CT shows DISKSPACE. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "storage/layouts.h"
#include "storage/overlay.h"
#include "storage/quota.h"

/* One open directory per level: deeper trees fail (EMFILE comes first with
 * the default 1024 files) instead of being half counted. */
#define WALK_MAX_DEPTH 900

/* ---- tree walks -------------------------------------------------------- */

/* (dev, ino) of inodes with several links, to count them once. */
struct inoset {
	struct { dev_t dev; ino_t ino; } *v;
	size_t cap, n;
};

static bool inoset_add(struct inoset *s, dev_t dev, ino_t ino, bool *added)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		__typeof__(s->v) nv = calloc(ncap, sizeof(*nv));
		if (!nv)
			return false;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i].ino)
				continue;
			size_t h = (s->v[i].ino * 0x9E3779B97F4A7C15ULL) % ncap;
			while (nv[h].ino)
				h = (h + 1) % ncap;
			nv[h] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	size_t h = (ino * 0x9E3779B97F4A7C15ULL) % s->cap;
	for (; s->v[h].ino; h = (h + 1) % s->cap)
		if (s->v[h].ino == ino && s->v[h].dev == dev) {
			*added = false;
			return true;
		}
	s->v[h].dev = dev;
	s->v[h].ino = ino; /* inode 0 does not exist on Linux filesystems */
	s->n++;
	*added = true;
	return true;
}

struct walk {
	int status;
	dev_t dev;
	uint64_t mnt_id; /* 0 if the kernel does not tell */
	/* usage */
	struct nvz_tree_usage *u;
	struct inoset links;
	/* tagging */
	bool tag;
	uint32_t projid;
	struct nvz_tag_stats *st;
};

static int walk_dir(struct walk *w, int fd, const char *path, int depth, struct nvz_error **err);

static void count(struct walk *w, const struct statx *x, bool *ok)
{
	if (!S_ISDIR(x->stx_mode) && x->stx_nlink > 1) {
		bool added;
		if (!inoset_add(&w->links, makedev(x->stx_dev_major, x->stx_dev_minor), x->stx_ino,
				&added)) {
			*ok = false;
			return;
		}
		if (!added)
			return;
	}
	w->u->inodes++;
	w->u->space_bytes += x->stx_blocks * 512;
}

static int tag_one(struct walk *w, int dirfd, const char *name, const char *path, bool dir,
		   bool reg, struct nvz_error **err)
{
	int r = nvz_projid_set(dirfd, name, w->projid, dir);
	if (r == 0) {
		w->st->tagged++;
		return 0;
	}
	if (r == -ENOENT)
		return 0; /* removed meanwhile (the CT may be running) */
	if (r == -EOPNOTSUPP && !dir && !reg) {
		w->st->skipped++; /* symlink, device, fifo, socket on this kernel */
		return 0;
	}
	return nvz_err_sys(err, w->status, -r, "set project id %" PRIu32 " on %s", w->projid,
			   path);
}

/* A child entry: count or tag it, then descend if it is a directory of the
 * same mount. */
static int walk_entry(struct walk *w, int dirfd, const char *name, const char *path, int depth,
		      struct nvz_error **err)
{
	struct statx x;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_BASIC_STATS | STATX_MNT_ID, &x) < 0)
		return errno == ENOENT ? 0 : nvz_err_sys(err, w->status, errno, "stat %s", path);
	/* A mount point: neither counted nor entered (st_dev alone would miss
	 * a bind mount of the same filesystem). */
	if (makedev(x.stx_dev_major, x.stx_dev_minor) != w->dev ||
	    (w->mnt_id && (x.stx_mask & STATX_MNT_ID) && x.stx_mnt_id != w->mnt_id) ||
	    ((x.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	     (x.stx_attributes & STATX_ATTR_MOUNT_ROOT)))
		return 0;
	bool dir = S_ISDIR(x.stx_mode);
	if (!dir) {
		bool ok = true;
		if (w->u)
			count(w, &x, &ok);
		if (!ok)
			return nvz_err(err, w->status, ENOMEM, "out of memory");
		return w->tag ? tag_one(w, dirfd, name, path, false, S_ISREG(x.stx_mode), err) : 0;
	}
	if (depth >= WALK_MAX_DEPTH)
		return nvz_err(err, w->status, ELOOP, "%s: more than %d directory levels", path,
			       WALK_MAX_DEPTH);
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statx y;
	if (fd < 0)
		return errno == ENOENT ? 0 : nvz_err_sys(err, w->status, errno, "open %s", path);
	/* Swapped between the stat and the open: leave it. */
	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO, &y) < 0 || y.stx_ino != x.stx_ino)
		return 0;
	return walk_dir(w, steal_fd(&fd), path, depth + 1, err);
}

/* fd (taken over) is counted/tagged here, then its entries. Directories
 * are tagged before their content: what is created meanwhile inherits. */
static int walk_dir(struct walk *w, int fd, const char *path, int depth, struct nvz_error **err)
{
	cleanup_dir DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return nvz_err_sys(err, w->status, e, "open %s", path);
	}
	struct statx x;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x) < 0)
		return nvz_err_sys(err, w->status, errno, "stat %s", path);
	bool ok = true;
	if (w->u)
		count(w, &x, &ok);
	if (w->tag && tag_one(w, fd, "", path, true, false, err) < 0)
		return -1;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *child = NULL;
		if (asprintf(&child, "%s/%s", path, de->d_name) < 0)
			return nvz_err(err, w->status, ENOMEM, "out of memory");
		if (walk_entry(w, fd, de->d_name, child, depth, err) < 0)
			return -1;
	}
	if (errno)
		return nvz_err_sys(err, w->status, errno, "read directory %s", path);
	return ok ? 0 : nvz_err(err, w->status, ENOMEM, "out of memory");
}

static int walk_root(struct walk *w, int dirfd, struct nvz_error **err)
{
	struct statx x;
	if (statx(dirfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &x) < 0)
		return nvz_err_sys(err, w->status, errno, "stat the tree's root");
	w->dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	w->mnt_id = (x.stx_mask & STATX_MNT_ID) ? x.stx_mnt_id : 0;
	/* A new open file description: readdir must not move the caller's offset. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, w->status, errno, "open the tree's root");
	int r = walk_dir(w, fd, ".", 0, err);
	free(w->links.v);
	return r;
}

int nvz_tree_usage(int dirfd, struct nvz_tree_usage *u, struct nvz_error **err)
{
	*u = (struct nvz_tree_usage){ 0 };
	struct walk w = { .status = NVZ_E_SYSTEM, .u = u };
	return walk_root(&w, dirfd, err);
}

static int tree_tag(int dirfd, uint32_t projid, int status, struct nvz_tag_stats *st,
		    struct nvz_error **err)
{
	*st = (struct nvz_tag_stats){ 0 };
	struct walk w = { .status = status, .tag = true, .projid = projid, .st = st };
	return walk_root(&w, dirfd, err);
}

int nvz_tree_tag(int dirfd, uint32_t projid, struct nvz_tag_stats *st, struct nvz_error **err)
{
	return tree_tag(dirfd, projid, NVZ_E_SYSTEM, st, err);
}

/* ---- what the commands call -------------------------------------------- */

static int open_private(const char *private, int status, struct nvz_error **err)
{
	int fd = open(private, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, errno == ENOENT ? NVZ_E_NOPRIVATE : status, errno,
				   "open private area %s", private);
	return fd;
}

static bool counts(const struct nvz_quota_fs *fs)
{
	return fs->state == NVZ_QUOTA_ENFORCED || fs->state == NVZ_QUOTA_ACCOUNTING;
}

static bool tagged(int fd, uint32_t projid)
{
	uint32_t id;
	bool inherit;
	return nvz_projid_get(fd, "", &id, &inherit) == 0 && id == projid && inherit;
}

/* Tag the area unless its root shows it was done: everything created since
 * inherits the id, and a rename into it from another project gets EXDEV
 * (so mv copies, and the copy inherits). */
static int tag_area(int fd, const char *private, uint32_t projid, bool retag, int status,
		    struct nvz_error **err)
{
	if (!retag && tagged(fd, projid))
		return 0;
	int r = nvz_projid_set(fd, "", projid, true);
	if (r == -EOPNOTSUPP)
		return nvz_err(err, status, EOPNOTSUPP,
			       "unable to apply disk quota to %s: its filesystem cannot store "
			       "project ids (ext4: tune2fs -O project)",
			       private);
	struct nvz_tag_stats st;
	if (r < 0 || tree_tag(fd, projid, status, &st, err) < 0)
		return r < 0 ? nvz_err_sys(err, status, -r, "set project id on %s", private)
			     : nvz_err_wrap(err, "%s", private);
	return 0;
}

static bool any_limit(const struct nvz_disk_limits *l)
{
	return l->space_soft_kb || l->space_hard_kb || l->inodes_soft || l->inodes_hard;
}

int nvz_quota_apply(const char *private, uint32_t projid, const struct nvz_disk_limits *l,
		    bool retag, int status, struct nvz_error **err)
{
	cleanup_close int fd = open_private(private, status, err);
	if (fd < 0)
		return -1;
	struct nvz_quota_fs fs;
	struct nvz_error *perr = NULL;
	if (nvz_quota_probe(fd, &fs, &perr) < 0) {
		/* quotactl refused (a seccomp filter...): fatal only for limits. */
		int r = any_limit(l) ? nvz_err(err, status, perr->code,
					      "unable to apply disk quota to %s: %s", private,
					      perr->msg)
				     : 0;
		nvz_error_free(perr);
		return r;
	}
	if (any_limit(l) && fs.state != NVZ_QUOTA_ENFORCED)
		return nvz_err(err, status, EOPNOTSUPP,
			       "unable to apply disk quota to %s: %s; use the ploop layout "
			       "(VE_LAYOUT=ploop) for per-CT disk limits",
			       private, fs.why);
	if (!counts(&fs))
		return 0; /* no limits asked, none possible: nothing to do */
	if (projid == 0) /* the default project: every file not in another one */
		return nvz_err(err, status, EINVAL, "no project id (CT ID) for private area %s",
			       private);
	if (tag_area(fd, private, projid, retag, status, err) < 0)
		return -1;
	return nvz_quota_set(fd, projid, l, status, err);
}

int nvz_quota_report(const char *private, uint32_t projid, bool walk,
		     struct nvz_quota_report *r, struct nvz_error **err)
{
	memset(r, 0, sizeof(*r));
	cleanup_close int fd = open_private(private, NVZ_QS_USAGE, err);
	if (fd < 0)
		return -1;
	struct nvz_error *perr = NULL;
	if (nvz_quota_probe(fd, &r->fs, &perr) < 0) {
		/* Cannot ask the kernel: count. */
		r->fs.state = NVZ_QUOTA_NO_KERNEL;
		snprintf(r->fs.why, sizeof(r->fs.why), "%s", perr->msg);
		nvz_error_free(perr);
	}
	if (projid && counts(&r->fs) && tagged(fd, projid)) {
		r->from_kernel = true;
		return nvz_quota_get(fd, projid, &r->dq, err);
	}
	if (!walk)
		return nvz_err(err, NVZ_QS_USAGE, ENOTSUP, "%s: the kernel keeps no usage of it (%s)",
			       private, r->fs.why);
	struct nvz_tree_usage u;
	struct walk w = { .status = NVZ_QS_USAGE, .u = &u };
	u = (struct nvz_tree_usage){ 0 };
	if (walk_root(&w, fd, err) < 0)
		return nvz_err_wrap(err, "%s", private);
	r->dq.space_bytes = u.space_bytes;
	r->dq.inodes = u.inodes;
	return 0;
}

/* drop: files moved in from outside the area by the host keep their project
 * id (a rename inside one filesystem keeps the inode), so "df lies after
 * writing from the host". Re-tagging every file puts them back into the
 * CT's project, which is all a recount can mean for project quota. */
int nvz_quota_retag(const char *private, uint32_t projid, bool *done, struct nvz_error **err)
{
	*done = false;
	cleanup_close int fd = open_private(private, NVZ_E_SYSTEM, err);
	struct nvz_quota_fs fs;
	if (fd < 0 || nvz_quota_probe(fd, &fs, err) < 0)
		return -1;
	if (!counts(&fs))
		return 0;
	if (tag_area(fd, private, projid, true, NVZ_E_SYSTEM, err) < 0)
		return -1;
	*done = true;
	return 0;
}

int nvz_quota_clear(const char *private, uint32_t projid, bool *done, struct nvz_error **err)
{
	*done = false;
	cleanup_close int fd = open_private(private, NVZ_QS_OFF, err);
	struct nvz_quota_fs fs;
	if (fd < 0 || nvz_quota_probe(fd, &fs, err) < 0)
		return -1;
	if (!counts(&fs))
		return 0;
	struct nvz_disk_limits none = { 0 };
	if (nvz_quota_set(fd, projid, &none, NVZ_QS_OFF, err) < 0)
		return -1;
	*done = true;
	return 0;
}

/* ---- the layout -------------------------------------------------------- */

static int simfs_create(const struct nvz_disk *d, struct nvz_error **err)
{
	if (mkdir(d->private, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create %s", d->private);
	/* The private area is what a mount binds at VE_ROOT: the layer's
	 * directories are made right here, no mount needed. */
	return d->template_tree ? nvz_overlay_prepare(d->private, err) : 0;
}

static int simfs_mount(const struct nvz_disk *d, struct nvz_error **err)
{
	if (nvz_mkdir_p(d->root, 0755, err) < 0)
		return -1;
	if (mount(d->private, d->root, NULL, MS_BIND, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind mount %s on %s", d->private,
				   d->root);
	/* Private: what the CT mounts inside must never appear on the host,
	 * and host mounts elsewhere must not appear in the CT. */
	if (mount(NULL, d->root, NULL, MS_PRIVATE, NULL) < 0) {
		int e = errno;
		umount2(d->root, MNT_DETACH);
		return nvz_err_sys(err, NVZ_E_MOUNT, e, "make %s private", d->root);
	}
	return 0;
}

static int simfs_umount(const struct nvz_disk *d, struct nvz_error **err)
{
	if (umount2(d->root, 0) < 0) {
		if (errno == EINVAL)
			return 0; /* not mounted */
		/* Busy (a shell of the admin in it): detach so the CT is stopped anyway. */
		if (errno != EBUSY || umount2(d->root, MNT_DETACH) < 0)
			return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", d->root);
	}
	return 0;
}

static int simfs_destroy(const struct nvz_disk *d, struct nvz_error **err)
{
	return nvz_rm_rf(d->private, err);
}

/* The project id is the CT ID. struct nvz_disk does not carry it: take the
 * last component of VE_PRIVATE ($VEID in every default), else the id the
 * area already carries. */
static bool simfs_projid(const struct nvz_disk *d, uint32_t *id)
{
	const char *slash = strrchr(d->private, '/');
	const char *base = slash ? slash + 1 : d->private;
	char *end;
	errno = 0;
	unsigned long v = strtoul(base, &end, 10);
	if (!errno && end != base && !*end && *base >= '1' && *base <= '9' && v <= UINT32_MAX) {
		*id = (uint32_t)v;
		return true;
	}
	cleanup_close int fd = open(d->private, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool inherit;
	*id = 0;
	return fd >= 0 && nvz_projid_get(fd, "", id, &inherit) == 0 && *id && inherit;
}

static int simfs_set_limits(const struct nvz_disk *d, bool mounted, struct nvz_error **err)
{
	(void)mounted; /* project quota is changed online */
	uint32_t id;
	/* Without an id there is nothing to tag; limits then fail in apply,
	 * which first tells whether quota is possible here at all. */
	if (!simfs_projid(d, &id) && !any_limit(&d->limits))
		return 0;
	return nvz_quota_apply(d->private, id, &d->limits, false, NVZ_QS_SETLIMIT, err);
}

static int simfs_usage(const struct nvz_disk *d, bool walk, struct nvz_disk_usage *u,
		       struct nvz_error **err)
{
	uint32_t id;
	simfs_projid(d, &id); /* 0 if unknown: counted by walking */
	struct nvz_quota_report r;
	if (nvz_quota_report(d->private, id, walk, &r, err) < 0)
		return -1;
	struct statfs sfs;
	if (statfs(d->private, &sfs) < 0)
		return nvz_err_sys(err, NVZ_QS_USAGE, errno, "statfs %s", d->private);
	uint64_t bhard = r.from_kernel ? r.dq.bhard_kb : d->limits.space_hard_kb;
	uint64_t ihard = r.from_kernel ? r.dq.ihard : d->limits.inodes_hard;
	*u = (struct nvz_disk_usage){
		.space_used_kb = (r.dq.space_bytes + 1023) / 1024,
		.space_total_kb = bhard ? bhard : (uint64_t)sfs.f_blocks * sfs.f_frsize / 1024,
		.inodes_used = r.dq.inodes,
		.inodes_total = ihard ? ihard : (uint64_t)sfs.f_files,
	};
	return 0;
}

const struct nvz_layout nvz_layout_simfs = {
	.name = "simfs",
	.create = simfs_create,
	.mount = simfs_mount,
	.umount = simfs_umount,
	.destroy = simfs_destroy,
	.set_limits = simfs_set_limits,
	.compact = NULL,
	.usage = simfs_usage,
};
