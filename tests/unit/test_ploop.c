/* Unit tests of the ploop layout (lib/storage/ploop.c, loop.c) on real loop
 * devices and ext4, as root; and of the DISKSPACE/DISKINODES parser. Every
 * test works in its own temp dir and, in .fini, unmounts, waits for its loop
 * device to be freed and removes the dir, even when an assertion failed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "nvz/fs.h"
#include "nvz/storage.h"
#include "storage/ext4sb.h"
#include "storage/layouts.h"
#include "storage/loop.h"
#include "pathfmt.h"

#define MiB (1024ULL * 1024)

static char base[64], priv[128], root[128], image[160], sentinel[160];
static struct nvz_disk disk;
static pid_t holder; /* a child holding a mount, killed in teardown */
static const struct nvz_layout *L;

static bool bound(void)
{
	int nr;
	return nvz_loop_find(image, &nr, NULL) == 1;
}

/* No /sys/block/loop* names our image (the text the kernel shows). */
static bool named_in_sysfs(void)
{
	DIR *d = opendir("/sys/block");
	bool hit = false;
	for (struct dirent *de; d && (de = readdir(d));) {
		char buf[512] = "";
		FILE *f = fopen(P("/sys/block/%s/loop/backing_file", de->d_name), "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, base))
			hit = true;
		fclose(f);
	}
	if (d)
		closedir(d);
	return hit;
}

/* Up to 15 s: under load the last close (autoclear) can come late. */
static bool wait_unbound(void)
{
	for (int i = 0; i < 1500; i++) {
		if (!bound() && !named_in_sysfs())
			return true;
		usleep(10000);
	}
	return false;
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for loop devices and mounts");
	snprintf(base, sizeof(base), "/var/tmp/nvz-ploop-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(priv, sizeof(priv), "%s/101", base);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(image, sizeof(image), "%s/root.hdd", priv);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
	FILE *f = fopen(sentinel, "w");
	cr_assert_not_null(f);
	fputs("untouched\n", f);
	fclose(f);
	disk = (struct nvz_disk){ .private = priv, .root = root };
	cr_assert_eq(nvz_layout_get("ploop", &L, NULL), 0);
}

static void teardown(void)
{
	if (!base[0])
		return;
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	while (umount2(root, 0) == 0)
		;
	umount2(root, MNT_DETACH);
	bool freed = wait_unbound();
	nvz_rm_rf(base, NULL);
	cr_assert(freed, "a loop device is still bound to %s", image);
}

TestSuite(ploop, .init = setup, .fini = teardown, .timeout = 120);

static void set_limits(uint64_t space_kb, uint64_t inodes)
{
	disk.limits = (struct nvz_disk_limits){ .space_soft_kb = space_kb, .space_hard_kb = space_kb,
						.inodes_soft = inodes, .inodes_hard = inodes };
}

#define OK(call)                                                                            \
	do {                                                                                \
		struct nvz_error *e_ = NULL;                                                \
		int r_ = (call);                                                            \
		cr_assert_geq(r_, 0, "%s: %s", #call, e_ ? e_->msg : "(no error)");         \
		nvz_error_free(e_);                                                         \
	} while (0)
#define E (&e_)
/* Expect a failure: its status and a part of its message. */
#define FAILS(call, status, text)                                                           \
	do {                                                                                \
		struct nvz_error *e_ = NULL;                                                \
		int r_ = (call);                                                            \
		fails(r_, e_, status, text);                                                \
	} while (0)

static void fails(int r, struct nvz_error *e, int status, const char *text)
{
	cr_assert_lt(r, 0);
	cr_assert_not_null(e);
	cr_assert_eq(e->status, status, "status %d: %s", e->status, e->msg);
	cr_assert(strstr(e->msg, text), "message '%s' lacks '%s'", e->msg, text);
	nvz_error_free(e);
}

static void make(uint64_t space_kb, uint64_t inodes)
{
	set_limits(space_kb, inodes);
	OK(L->create(&disk, E));
	OK(L->mount(&disk, E));
}

static void write_file(const char *path, uint64_t bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	static char buf[1 << 20];
	memset(buf, 0x5a, sizeof(buf));
	for (uint64_t done = 0; done < bytes; done += sizeof(buf))
		cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf), "write %s: %s", path,
			     strerror(errno));
	cr_assert_eq(fsync(fd), 0);
	close(fd);
}

static void assert_file(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing", path);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, text);
}

static struct statfs fs_of_root(void)
{
	struct statfs s;
	cr_assert_eq(statfs(root, &s), 0);
	cr_assert_eq(s.f_type, 0xEF53);
	return s;
}

static uint64_t fs_bytes(void)
{
	struct statfs s = fs_of_root();
	return (uint64_t)s.f_blocks * s.f_bsize;
}

static void umount_root(void)
{
	OK(L->umount(&disk, E));
	cr_assert(wait_unbound(), "loop device left after umount");
	cr_assert(!nvz_is_mountpoint(root));
}

static off_t image_size(void)
{
	struct stat st;
	cr_assert_eq(stat(image, &st), 0);
	return st.st_size;
}

static uint64_t image_alloc(void)
{
	struct stat st;
	cr_assert_eq(stat(image, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

Test(ploop, create_needs_diskspace)
{
	set_limits(0, 0);
	FAILS(L->create(&disk, E), NVZ_E_DISKSPACE_NOTSET,
	      "Error: diskspace not set (required for ploop)");
	cr_assert_eq(NVZ_E_DISKSPACE_NOTSET, 63);
	set_limits(8 * 1024, 0);
	FAILS(L->create(&disk, E), NVZ_E_VALUE, "too small");
	cr_assert(!nvz_path_exists(priv));
	/* mkfs.ext4's own complaint reaches the message; nothing is left. */
	set_limits(16 * 1024, 1000000);
	FAILS(L->create(&disk, E), NVZ_E_CANT_CREATE_PRIVATE, "too big for a");
	cr_assert(!nvz_path_exists(priv));
}

Test(ploop, create_mount_fill_umount)
{
	make(64 * 1024, 5000);
	struct stat st;
	cr_assert_eq(stat(priv, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(image_size(), (off_t)(64 * MiB));
	cr_assert(nvz_is_mountpoint(root));
	struct statfs s = fs_of_root();
	uint64_t size = (uint64_t)s.f_blocks * s.f_bsize;
	cr_assert(size > 56 * MiB && size <= 64 * MiB, "fs size %lu", (unsigned long)size);
	/* mkfs -N is a minimum, rounded up to whole inode table blocks. */
	cr_assert(s.f_files >= 5000 && s.f_files < 2 * 5000, "f_files %lu", (unsigned long)s.f_files);
	cr_assert(s.f_flags & ST_NODEV);
	cr_assert(!(s.f_flags & ST_NOSUID));

	struct nvz_disk_usage u;
	OK(L->usage(&disk, false, &u, E));
	cr_assert_eq(u.inodes_total, s.f_files);
	cr_assert_eq(u.space_total_kb, size / 1024);

	/* Fill it: ENOSPC inside, the image never grows past DISKSPACE. */
	int fd = open(P("%s/fill", root), O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	static char buf[1 << 20];
	int e = 0;
	for (int i = 0; i < 200 && !e; i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			e = errno;
	close(fd);
	cr_assert_eq(e, ENOSPC, "no ENOSPC: %s", strerror(e));
	cr_assert_eq(image_size(), (off_t)(64 * MiB));
	cr_assert_leq(image_alloc(), 65 * MiB); /* data and the host's extent blocks */
	assert_file(sentinel, "untouched\n");
	DIR *d = opendir(base);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	cr_assert_eq(n, 3, "new entries next to the CT"); /* 101, root, sentinel */

	OK(L->usage(&disk, false, &u, E));
	umount_root();
	struct nvz_disk_usage off;
	OK(L->usage(&disk, false, &off, E)); /* from the superblock now: the same numbers */
	cr_assert_eq(off.inodes_total, u.inodes_total);
	cr_assert_eq(off.inodes_used, u.inodes_used);
	cr_assert_eq(off.space_total_kb, u.space_total_kb);
	cr_assert_eq(off.space_used_kb, u.space_used_kb);
	cr_assert_gt(off.space_used_kb, 50 * 1024);
	/* Mount again: the data is there; then destroy refuses while mounted. */
	OK(L->mount(&disk, E));
	cr_assert(nvz_path_exists(P("%s/fill", root)));
	FAILS(L->destroy(&disk, E), NVZ_E_FS_MOUNTED, "in use");
	umount_root();
	OK(L->destroy(&disk, E));
	cr_assert(!nvz_path_exists(priv));
}

Test(ploop, resize_offline)
{
	make(64 * 1024, 0);
	write_file(P("%s/data", root), 8 * MiB);
	FILE *f = fopen(P("%s/hello", root), "w");
	fputs("hello\n", f);
	fclose(f);
	umount_root();

	set_limits(128 * 1024, 0);
	OK(L->set_limits(&disk, false, E));
	cr_assert_eq(image_size(), (off_t)(128 * MiB));
	OK(L->mount(&disk, E));
	cr_assert(fs_bytes() > 112 * MiB && fs_bytes() <= 128 * MiB);
	assert_file(P("%s/hello", root), "hello\n");
	umount_root();

	set_limits(96 * 1024, 0);
	OK(L->set_limits(&disk, false, E));
	cr_assert_eq(image_size(), (off_t)(96 * MiB));
	OK(L->mount(&disk, E));
	cr_assert(fs_bytes() > 80 * MiB && fs_bytes() <= 96 * MiB);
	assert_file(P("%s/hello", root), "hello\n");
	write_file(P("%s/big", root), 60 * MiB);
	umount_root();

	/* Below the usage: refused, the image untouched and still mounts. */
	set_limits(48 * 1024, 0);
	FAILS(L->set_limits(&disk, false, E), NVZ_E_VALUE, "is below the CT's current usage");
	cr_assert_eq(image_size(), (off_t)(96 * MiB));
	/* Between the usage and what resize2fs accepts: also the usage message. */
	set_limits(70 * 1024, 0);
	struct nvz_error *e = NULL;
	int r = L->set_limits(&disk, false, &e);
	if (r < 0)
		fails(r, e, NVZ_E_VALUE, "is below the CT's current usage");
	OK(L->mount(&disk, E));
	assert_file(P("%s/hello", root), "hello\n");
	struct stat st;
	cr_assert_eq(stat(P("%s/big", root), &st), 0);
	cr_assert_eq(st.st_size, (off_t)(60 * MiB));
}

static bool have_cap_sys_resource(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}

static uint64_t loop_bytes(void)
{
	int nr;
	cr_assert_eq(nvz_loop_find(image, &nr, NULL), 1);
	FILE *f = fopen(P("/sys/block/loop%d/size", nr), "r");
	unsigned long long sectors = 0;
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%llu", &sectors), 1);
	fclose(f);
	return sectors * 512;
}

Test(ploop, resize_online)
{
	make(64 * 1024, 5000);
	uint64_t before = fs_bytes();

	set_limits(32 * 1024, 5000);
	FAILS(L->set_limits(&disk, true, E), NVZ_E_FS_MOUNTED,
	      "Unable to shrink a mounted ploop image: stop the container first");
	set_limits(64 * 1024, 20000);
	FAILS(L->set_limits(&disk, true, E), NVZ_E_FS_MOUNTED,
	      "ploop: the inode count is set when the image is created (ext4); current: 5008. "
	      "To change it: vzctl stop CT; vzctl set CT --diskinodes 20000 --save; vzctl start CT");
	/* Unchanged limits: nothing to do. */
	set_limits(64 * 1024, 5000);
	OK(L->set_limits(&disk, true, E));

	set_limits(128 * 1024, 5000);
	struct nvz_error *e = NULL;
	int r = L->set_limits(&disk, true, &e);
	if (have_cap_sys_resource()) {
		cr_assert_eq(r, 0, "%s", e ? e->msg : "");
		cr_assert(fs_bytes() > before + 56 * MiB);
		cr_assert_eq(image_size(), (off_t)(128 * MiB));
	} else {
		fails(r, e, NVZ_E_RESOURCE,
		      "online resize of CT's ext4 refused by the kernel (Operation not permitted: "
		      "this host lacks CAP_SYS_RESOURCE); stop the container and set --diskspace "
		      "again to resize offline");
		cr_assert_eq(fs_bytes(), before);
		cr_assert_eq(image_size(), (off_t)(64 * MiB));
		cr_assert_eq(loop_bytes(), 64 * MiB);
	}
	cr_assert(nvz_is_mountpoint(root));
	write_file(P("%s/after", root), 4 * MiB);
	umount_root();
	OK(L->mount(&disk, E));
	cr_assert(nvz_path_exists(P("%s/after", root)));
}

Test(ploop, inode_rebuild_offline)
{
	make(64 * 1024, 5000);
	cr_assert_eq(fs_of_root().f_files, 5008);
	/* A tree with everything cp -a must carry over. */
	cr_assert_eq(mkdir(P("%s/dir", root), 0711), 0);
	FILE *f = fopen(P("%s/dir/file", root), "w");
	fputs("content\n", f);
	fclose(f);
	cr_assert_eq(chmod(P("%s/dir/file", root), 04750), 0);
	cr_assert_eq(chown(P("%s/dir/file", root), 1234, 5678), 0);
	cr_assert_eq(chmod(P("%s/dir/file", root), 04750), 0); /* chown drops setuid */
	cr_assert_eq(link(P("%s/dir/file", root), P("%s/hardlink", root)), 0);
	cr_assert_eq(symlink("dir/file", P("%s/symlink", root)), 0);
	cr_assert_eq(lchown(P("%s/symlink", root), 42, 43), 0);
	cr_assert_eq(setxattr(P("%s/dir/file", root), "user.nvz", "value", 5, 0), 0);
	cr_assert_eq(setxattr(P("%s/dir/file", root), "trusted.nvz", "t", 1, 0), 0);
	cr_assert_eq(mkfifo(P("%s/fifo", root), 0600), 0);
	umount_root();

	set_limits(64 * 1024, 20000);
	OK(L->set_limits(&disk, false, E));
	cr_assert(!nvz_path_exists(P("%s.new", image)));
	DIR *d = opendir(priv);
	for (struct dirent *de; (de = readdir(d));)
		cr_assert(!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
				  !strcmp(de->d_name, "root.hdd"),
			  "left over in private: %s", de->d_name);
	closedir(d);
	cr_assert(wait_unbound());

	OK(L->mount(&disk, E));
	struct statfs s = fs_of_root();
	cr_assert(s.f_files >= 20000 && s.f_files < 2 * 20000, "f_files %lu", (unsigned long)s.f_files);
	struct stat a, b;
	cr_assert_eq(stat(P("%s/dir", root), &a), 0);
	cr_assert_eq(a.st_mode & 07777, 0711);
	cr_assert_eq(stat(P("%s/dir/file", root), &a), 0);
	cr_assert_eq(a.st_mode & 07777, 04750);
	cr_assert(a.st_uid == 1234 && a.st_gid == 5678);
	cr_assert_eq(a.st_nlink, 2);
	cr_assert_eq(stat(P("%s/hardlink", root), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	assert_file(P("%s/hardlink", root), "content\n");
	char buf[64] = "";
	cr_assert_eq(readlink(P("%s/symlink", root), buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "dir/file");
	cr_assert_eq(lstat(P("%s/symlink", root), &a), 0);
	cr_assert(a.st_uid == 42 && a.st_gid == 43);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(getxattr(P("%s/dir/file", root), "user.nvz", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "value");
	cr_assert_eq(getxattr(P("%s/dir/file", root), "trusted.nvz", buf, sizeof(buf)), 1);
	cr_assert_eq(lstat(P("%s/fifo", root), &a), 0);
	cr_assert(S_ISFIFO(a.st_mode));

	/* The new count is the recorded one: growing the space keeps it valid
	 * (the count scales with the groups), online and offline alike. */
	umount_root();
	set_limits(300 * 1024, 20000);
	OK(L->set_limits(&disk, false, E));
	OK(L->mount(&disk, E));
	cr_assert_gt(fs_of_root().f_files, 20000);
	assert_file(P("%s/hardlink", root), "content\n");
}

Test(ploop, compact)
{
	make(64 * 1024, 0);
	uint64_t before, after;
	write_file(P("%s/junk", root), 30 * MiB);
	uint64_t full = image_alloc();
	cr_assert_geq(full, 30 * MiB);
	cr_assert_eq(unlink(P("%s/junk", root)), 0);
	OK(nvz_ploop_compact(&disk, &before, &after, E));
	cr_assert_leq(image_alloc() + 20 * MiB, full, "mounted: %lu -> %lu", (unsigned long)full,
		      (unsigned long)image_alloc());
	cr_assert_eq(before * 1024, full);
	cr_assert_eq(after * 1024, image_alloc());

	/* Unmounted: the same through a private mount namespace. */
	write_file(P("%s/junk", root), 30 * MiB);
	cr_assert_eq(unlink(P("%s/junk", root)), 0);
	umount_root();
	full = image_alloc();
	OK(L->compact(&disk, E));
	cr_assert_leq(image_alloc() + 20 * MiB, full, "unmounted: %lu -> %lu", (unsigned long)full,
		      (unsigned long)image_alloc());
	cr_assert(wait_unbound());
	cr_assert(!nvz_is_mountpoint(root));
}

Test(ploop, killed_holder_frees_the_loop)
{
	set_limits(64 * 1024, 0);
	OK(L->create(&disk, E));
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	holder = pid;
	if (pid == 0) {
		struct nvz_error *e = NULL;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    L->mount(&disk, &e) < 0)
			_exit(1);
		int fd = open(P("%s/held", root), O_WRONLY | O_CREAT, 0644); /* busy too */
		(void)fd;
		if (write(p[1], "m", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	cr_assert_eq(read(p[0], &c, 1), 1, "child could not mount");
	close(p[0]);
	cr_assert(bound());
	cr_assert(!nvz_is_mountpoint(root)); /* never seen by the host */
	kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	holder = 0;
	cr_assert(wait_unbound(), "loop device still bound after its holder was killed");
	/* And the image is fine to mount here afterwards. */
	OK(L->mount(&disk, E));
	cr_assert(nvz_path_exists(P("%s/held", root)));
}

/* A little-endian value into the image's superblock. */
static void poke_sb(off_t off, uint32_t v, int bytes)
{
	unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	int fd = open(image, O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, b, (size_t)bytes, 1024 + off), bytes);
	close(fd);
}

static void expect_reason(const struct nvz_ext4_sb *sb, time_t now, const char *want)
{
	const char *r = nvz_ext4_check_reason(sb, now);
	if (!want)
		cr_assert_null(r, "checked: %s", r);
	else
		cr_assert(r && strstr(r, want), "want \"%s\", got \"%s\"", want, r ? r : "clean");
}

/* A mount skips e2fsck -p only where e2fsck -p would skip the check: what
 * the superblock records, field by field, on a real mkfs'd image. */
Test(ploop, superblock_says_when_e2fsck_would_check)
{
	make(64 * 1024, 0);
	OK(L->umount(&disk, E));
	struct nvz_ext4_sb sb, t;
	time_t now = time(NULL);
	cr_assert_eq(nvz_ext4_sb_read(image, &sb, NULL), 0);
	expect_reason(&sb, now, NULL);
	t = sb, t.state |= 0x2;
	expect_reason(&t, now, "errors");
	t = sb, t.error_count = 1;
	expect_reason(&t, now, "errors");
	t = sb, t.state &= ~0x1u;
	expect_reason(&t, now, "not cleanly unmounted");
	t = sb, t.feature_incompat |= 0x4;
	expect_reason(&t, now, "journal");
	t = sb, t.feature_ro_compat |= 0x10000;
	expect_reason(&t, now, "orphan");
	t = sb, t.state |= 0x4;
	expect_reason(&t, now, "orphan");
	t = sb, t.max_mnt_count = 20, t.mnt_count = 20;
	expect_reason(&t, now, "mount count");
	t.mnt_count = 19;
	expect_reason(&t, now, NULL);
	t = sb, t.max_mnt_count = -1, t.mnt_count = 60000;
	expect_reason(&t, now, NULL);
	t = sb, t.checkinterval = 3600, t.lastcheck = (uint32_t)(now - 3600);
	expect_reason(&t, now, "periodic");
	t.lastcheck = (uint32_t)(now - 10);
	expect_reason(&t, now, NULL);
	t.lastcheck = (uint32_t)(now + 1000); /* in the future: e2fsck checks too */
	expect_reason(&t, now, "periodic");
	/* The fields are read from their places in the image. */
	poke_sb(0x3a, 0x3, 2);
	poke_sb(0x194, 5, 4);
	poke_sb(0x34, 7, 2);
	poke_sb(0x36, 0xffff, 2);
	cr_assert_eq(nvz_ext4_sb_read(image, &t, NULL), 0);
	cr_assert_eq(t.state, 0x3u);
	cr_assert_eq(t.error_count, 5u);
	cr_assert_eq(t.mnt_count, 7u);
	cr_assert_eq(t.max_mnt_count, -1);
	expect_reason(&t, now, "errors");
	struct nvz_error *e = NULL;
	cr_assert_lt(nvz_ext4_sb_read(sentinel, &t, &e), 0);
	cr_assert(e && strstr(e->msg, "no ext4"), "%s", e ? e->msg : "");
	nvz_error_free(e);
}

Test(ploop, mount_twice_is_one_mount)
{
	make(32 * 1024, 0);
	OK(L->mount(&disk, E));
	umount_root();
}

/* The parser and the table: no root needed. */

Test(limits, parse)
{
	struct nvz_disk_limits l;
	cr_assert_eq(nvz_disk_limits_parse("200M:210M", "5000:6000", "600", &l, NULL), 0);
	cr_assert(l.space_soft_kb == 200 * 1024 && l.space_hard_kb == 210 * 1024);
	cr_assert(l.inodes_soft == 5000 && l.inodes_hard == 6000 && l.quotatime == 600);
	cr_assert_eq(nvz_disk_limits_parse("2G:2.2G", "131072:144179", NULL, &l, NULL), 0);
	cr_assert(l.space_soft_kb == 2097152 && l.space_hard_kb == 2306867);
	cr_assert_eq(nvz_disk_limits_parse("1048576", "1000", "0", &l, NULL), 0);
	cr_assert(l.space_soft_kb == 1048576 && l.space_hard_kb == 1048576 && l.inodes_hard == 1000);
	cr_assert_eq(nvz_disk_limits_parse("unlimited:9223372036854775807", NULL, NULL, &l, NULL), 0);
	cr_assert(l.space_soft_kb == 0 && l.space_hard_kb == 0 && l.inodes_hard == 0);
	cr_assert_eq(nvz_disk_limits_parse("1T:1t", "", "", &l, NULL), 0);
	cr_assert_eq(l.space_hard_kb, 1ULL << 30);
	cr_assert_eq(nvz_disk_limits_parse(NULL, NULL, NULL, &l, NULL), 0);
	cr_assert_eq(l.space_hard_kb, 0);
	/* vzctl takes K/M/G/T for inodes too (x1024) */
	cr_assert_eq(nvz_disk_limits_parse(NULL, "5k:1.5M", NULL, &l, NULL), 0);
	cr_assert(l.inodes_soft == 5120 && l.inodes_hard == 1572864);

	static const char *const bad[][3] = {
		{ "10X", NULL, NULL },	 { "1.5", NULL, NULL }, { "M", NULL, NULL },
		{ "1:2:3", NULL, NULL }, { "-1", NULL, NULL },	{ NULL, "5x", NULL },
		{ NULL, "1.5", NULL },	 { NULL, NULL, "1:2" }, { NULL, NULL, "x" },
		{ "10G ", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_error *e = NULL;
		l.space_hard_kb = 77;
		cr_assert_lt(nvz_disk_limits_parse(bad[i][0], bad[i][1], bad[i][2], &l, &e), 0,
			     "accepted %s %s %s", bad[i][0], bad[i][1], bad[i][2]);
		cr_assert_eq(e->status, NVZ_E_VALUE);
		cr_assert_eq(l.space_hard_kb, 0);
		nvz_error_free(e);
	}
}

/* What vzctl set/create save (config.c store_dq): "soft:hard" numbers. */
Test(limits, option_value)
{
	static const char *const ok[][3] = {
		{ "diskspace", "10G", "10485760:10485760" },
		{ "diskspace", "1G:2G", "1048576:2097152" },
		{ "diskspace", "2G:2.2G", "2097152:2306867" },
		{ "diskspace", "1048576", "1048576:1048576" },
		{ "diskspace", "0", "0:0" },
		{ "diskspace", "1G:unlimited", "1048576:unlimited" },
		{ "diskinodes", "200000", "200000:200000" },
		{ "diskinodes", "100K:1m", "102400:1048576" },
		{ "quotatime", "0600", "600" },
		{ "quotatime", "0", "0" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct nvz_error *e = NULL;
		char *v = nvz_disk_option_value(ok[i][0], ok[i][1], &e);
		cr_assert_not_null(v, "--%s %s: %s", ok[i][0], ok[i][1], e ? e->msg : "?");
		cr_assert_str_eq(v, ok[i][2], "--%s %s", ok[i][0], ok[i][1]);
		free(v);
	}
	static const char *const bad[][3] = {
		{ "diskspace", "10X", "Bad parameter for --diskspace: 10X" },
		{ "diskspace", "", "Bad parameter for --diskspace: " },
		{ "diskspace", "2G:1G",
		  "Bad parameter for --diskspace: 2G:1G (soft limit is greater than hard limit)" },
		{ "diskinodes", "1.5", "Bad parameter for --diskinodes: 1.5" },
		{ "diskinodes", "-5", "Bad parameter for --diskinodes: -5" },
		{ "quotatime", "1:2", "Bad parameter for --quotatime: 1:2" },
		{ "quotatime", "1K", "Bad parameter for --quotatime: 1K" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_error *e = NULL;
		cr_assert_null(nvz_disk_option_value(bad[i][0], bad[i][1], &e), "--%s %s accepted",
			       bad[i][0], bad[i][1]);
		cr_assert_eq(e->status, NVZ_E_VALUE);
		cr_assert_str_eq(e->msg, bad[i][2]);
		nvz_error_free(e);
	}
}

Test(limits, layout_table)
{
	const struct nvz_layout *l;
	cr_assert_eq(nvz_layout_get("ploop", &l, NULL), 0);
	cr_assert_str_eq(l->name, "ploop");
	cr_assert_eq(nvz_layout_get(NULL, &l, NULL), 0);
	cr_assert_str_eq(l->name, "simfs");
	struct nvz_error *e = NULL;
	cr_assert_lt(nvz_layout_get("zfs", &l, &e), 0);
	cr_assert_eq(e->status, NVZ_E_VALUE);
	nvz_error_free(e);
}

Test(mount_opts, flags_data_and_refusals)
{
	unsigned long flags;
	char data[64];
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_mount_opts_parse("noatime,commit=30,data=ordered,nosuid", &flags, data, sizeof(data), &err), 0);
	cr_assert_eq(flags, MS_NOATIME | MS_NOSUID);
	cr_assert_str_eq(data, "commit=30,data=ordered");
	cr_assert_eq(nvz_mount_opts_parse(NULL, &flags, data, sizeof(data), &err), 0);
	cr_assert_eq(flags, 0);
	cr_assert_str_eq(data, "");
	static const char *const bad[] = { "dev", "suid", "errors=panic", "commit=", "commit=1x", "data=none",
					   "noatime,,x", "exec", "loop=/dev/sda", "commit=12345678901" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		cr_assert_lt(nvz_mount_opts_parse(bad[i], &flags, data, sizeof(data), &err), 0, "%s accepted", bad[i]);
		cr_assert_eq(err->status, NVZ_E_VALUE, "%s", bad[i]);
		nvz_error_free(err);
	}
	err = NULL;
	char small[8];
	cr_assert_lt(nvz_mount_opts_parse("commit=30,data=journal", &flags, small, sizeof(small), &err), 0);
	nvz_error_free(err);
}
