/* ploop: VE_PRIVATE/root.hdd is a sparse raw image holding an ext4 fs,
 * mounted at VE_ROOT through a loop device (OpenVZ's "ploop raw" idea, no
 * ploop kernel module). DISKSPACE's hard limit is the image size; DISKINODES's
 * hard limit is the inode count given to mkfs (ext4 fixes it there); the
 * soft limits and QUOTATIME have no meaning here. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "core/child.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "storage/ext4sb.h"
#include "storage/layouts.h"
#include "storage/loop.h"
#include "storage/overlay.h"
#include "storage/tool.h"

#define IMAGE "root.hdd"
#define MIN_KB (16 * 1024ULL)
/* The DISKINODES the image was made for (see inodes_differ). */
#define INODES_XATTR "user.nvz.diskinodes"
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, __u64)
#endif

/* No MS_NOSUID: a CT needs its setuid binaries (su, ping, sudo). MS_NODEV:
 * the CT's /dev is a tmpfs of its own (lib/linux/rootfs.c), so no device node
 * on the image is ever needed, and a CT able to mknod cannot reach host
 * devices through its own disk. */
#define MOUNT_FLAGS MS_NODEV

static char *join(const char *dir, const char *name)
{
	char *s = NULL;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static void fmt_kb(uint64_t kb, char *buf, size_t len)
{
	if (kb && kb % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRIu64 "G", kb >> 20);
	else if (kb && kb % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 "M", kb >> 10);
	else if (kb >= 1024)
		snprintf(buf, len, "%.1fM", (double)kb / 1024);
	else
		snprintf(buf, len, "%" PRIu64 "K", kb);
}

/* e2fsck -p replays the journal and repairs what is safe; without -f it
 * checks the whole fs only when it is marked unclean. resize2fs insists on
 * a forced check first. */
static int fsck_image(const char *image, bool force, struct nvz_error **err)
{
	char out[1024];
	char *argv[] = { "e2fsck", "-p", force ? "-f" : (char *)image, force ? (char *)image : NULL, NULL };
	int rc = nvz_run_tool(argv, out, sizeof(out), err);
	if (rc < 0)
		return -1;
	if (rc > 1) /* 0: clean, 1: errors corrected */
		return nvz_err(err, NVZ_E_MOUNT, EUCLEAN,
			       "e2fsck -p %s: exit %d, the filesystem needs a manual e2fsck: %s", image, rc,
			       out);
	return 0;
}

/* e2fsck -p opens a filesystem whose superblock says clean, finds nothing
 * to do and exits: on a paravirtualised guest its exec alone is ~10 ms of
 * every start. It is skipped where it would skip the check (ext4sb.h);
 * *skipped tells the mount to run it after all if the kernel refuses the
 * filesystem (what e2fsck's own superblock checks would have found). */
static int fsck_if_needed(const char *image, bool *skipped, struct nvz_error **err)
{
	struct nvz_ext4_sb sb;
	*skipped = nvz_ext4_sb_read(image, &sb, NULL) == 0 && !nvz_ext4_check_reason(&sb, time(NULL));
	return *skipped ? 0 : fsck_image(image, false, err);
}

/* Is the loop device nr what is mounted at root? */
static bool mounted_at(const char *root, int nr)
{
	char dev[32];
	struct stat r, l;
	nvz_loop_path(nr, dev, sizeof(dev));
	return stat(root, &r) == 0 && stat(dev, &l) == 0 && r.st_dev == l.st_rdev;
}

/* Attach image (or reuse the device already bound to it: one device is one
 * ext4 superblock, while two devices over one file would be two ext4
 * instances writing the same blocks) and mount it at dir. Our device fd is
 * closed on return: from then on the mount holds the device, and autoclear
 * frees it on the last unmount, also when a mount namespace dies. */
static int image_mount(const char *image, const char *dir, unsigned long flags, const char *data,
		       struct nvz_error **err)
{
	int nr;
	int found = nvz_loop_find(image, &nr, err);
	if (found < 0)
		return -1;
	char dev[32];
	if (found) {
		nvz_loop_path(nr, dev, sizeof(dev));
		if (mount(dev, dir, "ext4", flags, data) < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount %s (%s) on %s", image, dev, dir);
		return 0;
	}
	bool skipped;
	if (fsck_if_needed(image, &skipped, err) < 0)
		return -1;
	for (;;) {
		cleanup_close int lfd = nvz_loop_attach(image, &nr, err);
		if (lfd < 0)
			return -1;
		nvz_loop_path(nr, dev, sizeof(dev));
		if (mount(dev, dir, "ext4", flags, data) == 0)
			return 0;
		int e = errno;
		if (!skipped || (e != EUCLEAN && e != EINVAL && e != EIO))
			return nvz_err_sys(err, NVZ_E_MOUNT, e, "mount %s (%s) on %s", image, dev, dir);
		/* The kernel refused what the superblock called clean: e2fsck -p
		 * after all, then a device of its own (this one cached what the
		 * failed mount read) on the next turn. */
		skipped = false;
		if (fsck_image(image, false, err) < 0)
			return -1;
	}
}

static int trim(const char *dir, struct nvz_error **err)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", dir);
	/* Blocks freed by a deletion reach the free-space map when their
	 * transaction commits: commit first, or FITRIM skips them. */
	syncfs(fd);
	/* The loop device turns the discards into holes punched in the image. */
	struct fstrim_range r = { .start = 0, .len = UINT64_MAX, .minlen = 0 };
	if (ioctl(fd, FITRIM, &r) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "trim the filesystem at %s", dir);
	return 0;
}

/* Work on unmounted images in a child with a mount namespace of its own.
 * Mount propagation to the host is cut first, so nothing it mounts ever
 * appears there; when it ends, however it ends (PR_SET_PDEATHSIG: also when
 * we are killed), its mounts go and the autoclear loop devices with them. */
struct ns_job {
	const char *image; /* mounted read-only when fresh is set */
	const char *fresh; /* copy image's tree into this image; NULL: trim image */
	const char *mnt;   /* an empty directory for the scratch tmpfs */
};

static int job_run(const struct ns_job *j, struct nvz_error **err)
{
	if (mount("tmpfs", j->mnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount tmpfs on %s", j->mnt);
	cleanup_free char *a = join(j->mnt, "old"), *b = join(j->mnt, "new");
	if (!a || !b || mkdir(a, 0700) < 0 || mkdir(b, 0700) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno ? errno : ENOMEM, "mkdir in %s", j->mnt);
	if (image_mount(j->image, a, MOUNT_FLAGS | (j->fresh ? MS_RDONLY : 0), NULL, err) < 0)
		return -1;
	if (!j->fresh)
		return trim(a, err) < 0 ? -1 : umount2(a, 0);
	if (image_mount(j->fresh, b, MOUNT_FLAGS, NULL, err) < 0)
		return -1;
	/* cp -a: modes, owners, times, symlinks, hard links, ACLs and xattrs
	 * (rsync is not installed everywhere; cp is). */
	cleanup_free char *from = join(a, ".");
	char out[1024];
	char *argv[] = { "cp", "-a", "--", from, b, NULL };
	int rc = from ? nvz_run_tool(argv, out, sizeof(out), err) : -1;
	if (rc != 0)
		return rc < 0 ? -1 : nvz_err(err, NVZ_E_RESOURCE, EIO, "copy %s into a new image: %s",
					     j->image, out);
	/* Unmount explicitly: errors writing the new image show up here. */
	if (umount2(b, 0) < 0)
		return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount the new image");
	return umount2(a, 0);
}

static int ns_child(void *arg, struct nvz_error **err)
{
	const struct ns_job *j = arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "private mount namespace");
	if (job_run(j, err) < 0)
		return *err ? -1 : nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", j->image);
	return 0;
}

static int in_mount_ns(const struct ns_job *j, struct nvz_error **err)
{
	return nvz_child_run(ns_child, (void *)j, "image helper", err);
}

/* The mount point of the scratch tmpfs: <private>/.nvz-mnt, a fixed name
 * (the CT lock is held) so that one left by a killed command is reused. */
static char *scratch_dir(const struct nvz_disk *d, struct nvz_error **err)
{
	char *mnt = join(d->private, ".nvz-mnt");
	if (!mnt) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	rmdir(mnt);
	if (mkdir(mnt, 0700) < 0) {
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create %s", mnt);
		free(mnt);
		return NULL;
	}
	return mnt;
}

/* Creation */

static void record_inodes(const char *image, uint64_t inodes)
{
	char v[32];
	int n = snprintf(v, sizeof(v), "%" PRIu64, inodes);
	/* Best effort: without user xattrs on the host fs, DISKINODES is judged
	 * by the inode count alone. */
	lsetxattr(image, INODES_XATTR, v, (size_t)n, 0);
}

static bool recorded_inodes(const char *image, uint64_t *out)
{
	char v[32];
	ssize_t n = lgetxattr(image, INODES_XATTR, v, sizeof(v) - 1);
	if (n <= 0)
		return false;
	v[n] = '\0';
	char *end;
	*out = strtoull(v, &end, 10);
	return *end == '\0';
}

/* A new sparse file of kb KiB with a fresh ext4 in it; seed: a directory
 * whose tree mkfs copies into the new fs (mke2fs -d), or NULL. */
static int make_image(const char *image, const char *private, uint64_t kb, uint64_t inodes,
		      const char *seed, struct nvz_error **err)
{
	cleanup_close int fd = open(image, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create image %s", image);
	if (ftruncate(fd, (off_t)(kb * 1024)) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "size image %s", image);
	/* Label nvz-<CT>, at most 16 bytes (ext4); create works in <private>.tmp. */
	const char *base = strrchr(private, '/');
	base = base ? base + 1 : private;
	size_t blen = strlen(base);
	if (blen > 4 && !strcmp(base + blen - 4, ".tmp"))
		blen -= 4;
	char label[17], count[32];
	snprintf(label, sizeof(label), "nvz-%.*s", (int)blen, base);
	snprintf(count, sizeof(count), "%" PRIu64, inodes);
	/* 4 KiB blocks whatever the size: mke2fs picks 1 KiB for a small fs and
	 * that could never change as the CT grows. -m 0: the CT's root owns its
	 * disk. The file is new and sparse, so it already reads as zeros: nothing
	 * to discard or zero (assume_storage_prezeroed also spares the kernel's
	 * lazy inode table init). -N: the minimum inode count; mke2fs rounds it
	 * up to fill whole inode table blocks in every group. */
	char *argv[20] = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-m", "0", "-E",
			   "nodiscard,lazy_itable_init=1,lazy_journal_init=1,assume_storage_prezeroed=1",
			   "-L", label };
	size_t n = 11;
	if (inodes) {
		argv[n++] = "-N";
		argv[n++] = count;
	}
	if (seed) {
		argv[n++] = "-d";
		argv[n++] = (char *)seed;
	}
	argv[n++] = (char *)image;
	char out[1024];
	int rc = nvz_run_tool(argv, out, sizeof(out), err);
	if (rc != 0)
		return rc < 0 ? -1 : nvz_err(err, NVZ_E_CANT_CREATE_PRIVATE, EIO,
					     "mkfs.ext4 %s failed (exit %d): %s", image, rc, out);
	record_inodes(image, inodes);
	return 0;
}

static int check_space(uint64_t kb, struct nvz_error **err)
{
	char s[32];
	if (!kb)
		return nvz_err(err, NVZ_E_DISKSPACE_NOTSET, EINVAL,
			       "Error: diskspace not set (required for ploop)");
	fmt_kb(kb, s, sizeof(s));
	if (kb > (1ULL << 40)) /* 1 EiB: beyond ext4 and keeps kb * 1024 exact */
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "diskspace %s is too large", s);
	if (kb < MIN_KB)
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "diskspace %s is too small for a ploop image (minimum 16M)", s);
	return 0;
}

static int ploop_create(const struct nvz_disk *d, struct nvz_error **err)
{
	if (check_space(d->limits.space_hard_kb, err) < 0)
		return -1;
	cleanup_free char *image = join(d->private, IMAGE);
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* 0700: the image holds the whole CT, readable by root only. */
	if (mkdir(d->private, 0700) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create %s", d->private);
	/* On a shared template the image holds the overlay's upper and work
	 * directories: mkfs writes them from a seed directory, so create needs
	 * no loop device, e2fsck or mount (most of its time before). */
	cleanup_free char *seed = d->template_tree ? join(d->private, ".nvz-seed") : NULL;
	int r = d->template_tree && !seed ? nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory") : 0;
	if (r == 0 && seed && (mkdir(seed, 0755) < 0 || chmod(seed, 0755) < 0))
		r = nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create %s", seed);
	if (r == 0 && seed)
		r = nvz_overlay_prepare(seed, err);
	if (r == 0)
		r = make_image(image, d->private, d->limits.space_hard_kb, d->limits.inodes_hard, seed,
			       err);
	if (r == 0 && seed)
		r = nvz_rm_rf(seed, err);
	if (r < 0)
		nvz_rm_rf(d->private, NULL);
	return r;
}

/* Mount, unmount, remove */

static int ploop_mount(const struct nvz_disk *d, struct nvz_error **err)
{
	cleanup_free char *image = join(d->private, IMAGE);
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	int nr;
	int found = nvz_loop_find(image, &nr, err);
	if (found < 0)
		return -1;
	if (found && mounted_at(d->root, nr))
		return 0;
	unsigned long flags;
	char data[512];
	if (nvz_mount_opts_parse(d->mount_opts, &flags, data, sizeof(data), err) < 0 ||
	    nvz_mkdir_p(d->root, 0755, err) < 0 ||
	    image_mount(image, d->root, MOUNT_FLAGS | flags, *data ? data : NULL, err) < 0)
		return -1;
	/* Private: what the CT mounts inside must never appear on the host,
	 * and host mounts elsewhere must not appear in the CT. */
	if (mount(NULL, d->root, NULL, MS_PRIVATE, NULL) < 0) {
		int e = errno;
		umount2(d->root, MNT_DETACH);
		return nvz_err_sys(err, NVZ_E_MOUNT, e, "make %s private", d->root);
	}
	return 0;
}

/* The kernel unbinds an autoclear loop device after the last unmount, but
 * asynchronously: seconds on a busy host (measured here: over 5 s under
 * the parallel test load). Wait so that a stopped or unmounted CT's image
 * is free for the next command (destroy, compact, an offline resize). */
static void wait_unbound(const char *image, int tenths)
{
	int nr;
	for (int i = 0; i < tenths * 5 && nvz_loop_find(image, &nr, NULL) > 0; i++)
		usleep(20000);
}

static int ploop_umount(const struct nvz_disk *d, struct nvz_error **err)
{
	/* Flush the CT's dirty data now, while we wait: the last reference
	 * may be a dying CT namespace's, and the kernel then writes it back
	 * from a worker after we return (tens of seconds seen on a busy host). */
	int rootfd = open(d->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd >= 0) {
		syncfs(rootfd);
		close(rootfd); /* closed before the unmount: it would keep it busy */
	}
	/* The loop device frees itself (autoclear) with the last unmount. */
	if (umount2(d->root, UMOUNT_NOFOLLOW) < 0) {
		if (errno == EINVAL || errno == ENOENT)
			return 0; /* not mounted */
		/* Busy (a shell of the admin in it): detach so the CT is stopped
		 * anyway; the device goes when the last user does. */
		if (errno != EBUSY || umount2(d->root, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", d->root);
		return 0;
	}
	cleanup_free char *image = join(d->private, IMAGE);
	if (image)
		wait_unbound(image, 100);
	return 0;
}

/* An image bound to a loop device is in use (mounted here, in a CT's mount
 * namespace, or by hand): offline operations must not touch it. */
static int check_unused(const char *image, struct nvz_error **err)
{
	int nr, found;
	/* The last unmount releases the loop device asynchronously (the
	 * superblock goes with the last reference, e.g. a CT's dying mount
	 * namespace, whose ext4 flushes its journal first; seconds on a loaded
	 * host): give it up to 10 s before calling the image busy. */
	for (int tries = 0; (found = nvz_loop_find(image, &nr, err)) > 0 && tries < 500; tries++)
		usleep(20000);
	if (found < 0)
		return -1;
	if (found)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY,
			       "ploop image %s is in use (/dev/loop%d): unmount the container first",
			       image, nr);
	return 0;
}

static int ploop_destroy(const struct nvz_disk *d, struct nvz_error **err)
{
	cleanup_free char *image = join(d->private, IMAGE);
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (check_unused(image, err) < 0)
		return -1;
	return nvz_rm_rf(d->private, err);
}

/* Limits */

/* ext4 fixes the inodes per group at mkfs; a resize adds or drops whole
 * groups, so the count scales with the size. A DISKINODES unchanged since
 * the image was made (recorded in an xattr) is honoured whatever a resize
 * did to the count; a new one is if the count after resizing to kb is what
 * mkfs -N would round it to. */
static bool inodes_differ(const char *image, const struct nvz_ext4_sb *sb, uint64_t kb, uint64_t want)
{
	uint64_t blocks = kb * 1024 / sb->bsize;
	uint64_t groups = (blocks + sb->blocks_per_group - 1) / sb->blocks_per_group;
	uint64_t rec, per_block = sb->bsize / sb->inode_size;
	uint64_t after = groups * sb->inodes_per_group;
	if (!want || (recorded_inodes(image, &rec) && rec == want))
		return false;
	/* mke2fs rounds each group up to whole inode table blocks, then down to
	 * a multiple of 8. */
	uint64_t slack = groups * (per_block > 8 ? per_block : 8);
	return !(after + slack > want && after < want + slack);
}

static int below_usage(uint64_t kb, uint64_t used_kb, struct nvz_error **err)
{
	char a[32], b[32];
	fmt_kb(kb, a, sizeof(a));
	fmt_kb(used_kb, b, sizeof(b));
	return nvz_err(err, NVZ_E_VALUE, ENOSPC, "diskspace %s is below the CT's current usage %s", a,
		       b);
}

/* Grow the mounted fs: the file, then the device, then ext4 itself. */
static int grow_online(const struct nvz_disk *d, const char *image, int nr, uint64_t bytes,
		       uint32_t bsize, struct nvz_error **err)
{
	cleanup_close int rootfd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int fd = open(image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	struct statfs before, after;
	if (rootfd < 0 || fd < 0 || fstat(fd, &st) < 0 || fstatfs(rootfd, &before) < 0)
		return nvz_err_sys(err, NVZ_E_RESOURCE, errno, "open %s", rootfd < 0 ? d->root : image);
	if (ftruncate(fd, (off_t)bytes) < 0)
		return nvz_err_sys(err, NVZ_E_RESOURCE, errno, "grow image %s", image);
	uint64_t nblocks = bytes / bsize;
	int e = 0;
	if (nvz_loop_set_capacity(nr, err) < 0)
		e = -1;
	else if (ioctl(rootfd, EXT4_IOC_RESIZE_FS, &nblocks) == 0)
		return 0;
	else
		e = errno;
	/* Roll back only while ext4 has not grown into the new tail: giving
	 * the device and the file their old size back is then harmless. */
	if (fstatfs(rootfd, &after) == 0 && after.f_blocks == before.f_blocks &&
	    ftruncate(fd, st.st_size) == 0)
		nvz_loop_set_capacity(nr, NULL);
	if (e == EPERM)
		return nvz_err(err, NVZ_E_RESOURCE, e,
			       "online resize of CT's ext4 refused by the kernel (Operation not "
			       "permitted: this host lacks CAP_SYS_RESOURCE); stop the container and "
			       "set --diskspace again to resize offline");
	return e < 0 ? -1 : nvz_err_sys(err, NVZ_E_RESOURCE, e, "online resize of %s", image);
}

static int set_online(const struct nvz_disk *d, const char *image, struct nvz_ext4_sb *sb,
		      uint64_t kb, struct nvz_error **err)
{
	uint64_t want = d->limits.inodes_hard;
	/* The live counts: the superblock on disk lags behind a mounted fs. */
	struct statfs s;
	if (statfs(d->root, &s) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "statfs %s", d->root);
	sb->inodes = s.f_files;
	if (inodes_differ(image, sb, kb, want))
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY,
			       "ploop: the inode count is set when the image is created (ext4); "
			       "current: %" PRIu64 ". To change it: vzctl stop CT; vzctl set CT "
			       "--diskinodes %" PRIu64 " --save; vzctl start CT",
			       sb->inodes, want);
	cleanup_close int fd = open(image, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "stat %s", image);
	/* The fs spans the file (kept so by every resize); the superblock on
	 * disk may not show an online resize yet. */
	uint64_t bytes = kb * 1024 / sb->bsize * sb->bsize;
	uint64_t cur = (uint64_t)st.st_size / sb->bsize * sb->bsize;
	if (bytes < cur)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY,
			       "Unable to shrink a mounted ploop image: stop the container first");
	if (bytes > cur) {
		int nr;
		int found = nvz_loop_find(image, &nr, err);
		if (found < 0)
			return -1;
		if (!found || !mounted_at(d->root, nr))
			return nvz_err(err, NVZ_E_FS_NOT_MOUNTED, ENXIO,
				       "ploop image %s is not mounted at %s", image, d->root);
		if (grow_online(d, image, nr, bytes, sb->bsize, err) < 0)
			return -1;
	}
	if (want)
		record_inodes(image, want);
	return 0;
}

/* Offline inode change: a new image made with mkfs -N, the tree copied over
 * in a private mount namespace, then renamed over the old one (one atomic
 * step: a kill before it leaves the old image and a stale .new file). */
static int rebuild(const struct nvz_disk *d, const char *image, uint64_t kb, uint64_t inodes,
		   struct nvz_error **err)
{
	cleanup_free char *fresh = join(d->private, IMAGE ".new");
	cleanup_free char *mnt = NULL;
	if (!fresh)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	unlink(fresh);
	if (make_image(fresh, d->private, kb, inodes, NULL, err) < 0) {
		unlink(fresh);
		return -1;
	}
	int r = (mnt = scratch_dir(d, err)) ? 0 : -1;
	if (r == 0) {
		struct ns_job job = { .image = image, .fresh = fresh, .mnt = mnt };
		r = in_mount_ns(&job, err);
		rmdir(mnt);
	}
	if (r == 0 && rename(fresh, image) < 0)
		r = nvz_err_sys(err, NVZ_E_RESOURCE, errno, "rename %s", fresh);
	if (r < 0) {
		unlink(fresh);
		return nvz_err_wrap(err, "rebuild %s with %" PRIu64 " inodes", image, inodes);
	}
	return 0;
}

static int resize2fs(const char *image, uint64_t kb, char *out, size_t outlen,
		     struct nvz_error **err)
{
	char size[32];
	snprintf(size, sizeof(size), "%" PRIu64 "K", kb);
	char *argv[] = { "resize2fs", (char *)image, size, NULL };
	return nvz_run_tool(argv, out, outlen, err);
}

static int set_offline(const struct nvz_disk *d, const char *image, const struct nvz_ext4_sb *sb,
		       uint64_t kb, struct nvz_error **err)
{
	uint64_t want = d->limits.inodes_hard;
	uint64_t used_kb = (sb->blocks - sb->free_blocks) * (sb->bsize / 1024);
	if (check_unused(image, err) < 0)
		return -1;
	if (kb < used_kb)
		return below_usage(kb, used_kb, err);
	if (inodes_differ(image, sb, kb, want))
		return rebuild(d, image, kb, want, err);
	uint64_t bytes = kb * 1024 / sb->bsize * sb->bsize, cur = sb->blocks * sb->bsize;
	cleanup_close int fd = open(image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", image);
	char out[1024] = "";
	int rc = 0;
	if (bytes != cur) {
		/* Growing: the file first, resize2fs fills it. Shrinking: the fs
		 * first, then the file loses the tail no block lives in any more. */
		if (fsck_image(image, true, err) < 0)
			return -1;
		if (bytes > cur && ftruncate(fd, (off_t)bytes) < 0)
			return nvz_err_sys(err, NVZ_E_RESOURCE, errno, "grow image %s", image);
		rc = resize2fs(image, bytes / 1024, out, sizeof(out), err);
	}
	if (rc != 0) {
		/* A grow that did not happen gives the file its old size back. */
		struct nvz_ext4_sb now;
		if (bytes > cur && nvz_ext4_sb_read(image, &now, NULL) == 0 && now.blocks == sb->blocks &&
		    ftruncate(fd, st.st_size) < 0) {
			/* A larger file is harmless: the fs ignores the tail. */
		}
		if (rc < 0)
			return -1;
		/* resize2fs counts what moving blocks needs too: its minimum is
		 * the usage that matters. */
		const char *min = strstr(out, "smaller than minimum (");
		unsigned long long min_blocks = 0;
		if (bytes < cur && min && sscanf(min, "smaller than minimum (%llu)", &min_blocks) == 1)
			return below_usage(kb, min_blocks * (sb->bsize / 1024), err);
		return nvz_err(err, NVZ_E_RESOURCE, EIO, "resize2fs %s failed (exit %d): %s", image,
			       rc, out);
	}
	if ((uint64_t)st.st_size != bytes && bytes <= cur && ftruncate(fd, (off_t)bytes) < 0)
		return nvz_err_sys(err, NVZ_E_RESOURCE, errno, "shrink image %s", image);
	if (want)
		record_inodes(image, want);
	return 0;
}

static int ploop_set_limits(const struct nvz_disk *d, bool mounted, struct nvz_error **err)
{
	if (check_space(d->limits.space_hard_kb, err) < 0)
		return -1;
	cleanup_free char *image = join(d->private, IMAGE);
	struct nvz_ext4_sb sb;
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_ext4_sb_read(image, &sb, err) < 0)
		return -1;
	return mounted ? set_online(d, image, &sb, d->limits.space_hard_kb, err)
		       : set_offline(d, image, &sb, d->limits.space_hard_kb, err);
}

/* Compact and usage */

int nvz_ploop_compact(const struct nvz_disk *d, uint64_t *before_kb, uint64_t *after_kb,
		      struct nvz_error **err)
{
	cleanup_free char *image = join(d->private, IMAGE);
	cleanup_free char *mnt = NULL;
	struct stat st;
	int nr, r;
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (stat(image, &st) < 0)
		return nvz_err_sys(err, NVZ_E_NOPRIVATE, errno, "stat %s", image);
	if (before_kb)
		*before_kb = (uint64_t)st.st_blocks / 2;
	int found = nvz_loop_find(image, &nr, err);
	if (found < 0)
		return -1;
	if (found && mounted_at(d->root, nr)) {
		r = trim(d->root, err);
	} else if (found) {
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY,
			       "ploop image %s is in use (/dev/loop%d) but not mounted at %s", image, nr,
			       d->root);
	} else if (!(mnt = scratch_dir(d, err))) {
		return -1;
	} else {
		struct ns_job job = { .image = image, .mnt = mnt };
		r = in_mount_ns(&job, err);
		rmdir(mnt);
	}
	if (r < 0)
		return -1;
	if (after_kb)
		*after_kb = stat(image, &st) == 0 ? (uint64_t)st.st_blocks / 2 : 0;
	return 0;
}

static int ploop_compact(const struct nvz_disk *d, struct nvz_error **err)
{
	return nvz_ploop_compact(d, NULL, NULL, err);
}

/* Mounted here: the live counts (statfs). Otherwise the superblock's, which
 * are exact after a clean unmount (stale while the image is in use
 * elsewhere, e.g. only in a CT's mount namespace). */
static int ploop_usage(const struct nvz_disk *d, bool walk, struct nvz_disk_usage *u,
		       struct nvz_error **err)
{
	(void)walk; /* the fs's own counts: never a walk */
	cleanup_free char *image = join(d->private, IMAGE);
	if (!image)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	int nr;
	int found = nvz_loop_find(image, &nr, err);
	struct statfs s;
	if (found < 0)
		return -1;
	if (found && mounted_at(d->root, nr) && statfs(d->root, &s) == 0) {
		*u = (struct nvz_disk_usage){
			.space_used_kb = (uint64_t)(s.f_blocks - s.f_bfree) * (uint64_t)s.f_bsize / 1024,
			.space_total_kb = (uint64_t)s.f_blocks * (uint64_t)s.f_bsize / 1024,
			.inodes_used = (uint64_t)(s.f_files - s.f_ffree),
			.inodes_total = (uint64_t)s.f_files,
		};
		return 0;
	}
	struct nvz_ext4_sb sb;
	if (nvz_ext4_sb_read(image, &sb, err) < 0)
		return -1;
	/* Like df: without the fs's own metadata. */
	uint64_t blocks = sb.blocks - sb.overhead;
	*u = (struct nvz_disk_usage){
		.space_used_kb = (blocks > sb.free_blocks ? blocks - sb.free_blocks : 0) * (sb.bsize / 1024),
		.space_total_kb = blocks * (sb.bsize / 1024),
		.inodes_used = sb.inodes - sb.free_inodes,
		.inodes_total = sb.inodes,
	};
	return 0;
}

const struct nvz_layout nvz_layout_ploop = {
	.name = "ploop",
	.create = ploop_create,
	.mount = ploop_mount,
	.umount = ploop_umount,
	.destroy = ploop_destroy,
	.set_limits = ploop_set_limits,
	.compact = ploop_compact,
	.usage = ploop_usage,
};
