/* simfs disk quota: the probe of what the kernel and filesystem can do, the
 * du-like walk, project id tagging (for real, on an XFS image: XFS keeps
 * project ids without quota support; ext4 with the project feature cannot
 * even be mounted read-write by a kernel without CONFIG_QFMT_V2), the simfs
 * layout, and DISKSPACE/DISKINODES/QUOTATIME parsing errors. Each test runs
 * in its own process, in its own mount namespace: its mounts die with it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "storage/layouts.h"
#include "storage/loop.h"
#include "storage/quota.h"
#include "pathfmt.h"

static char base[] = "/tmp/nvz-test-quota-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	/* Mounts made by the test stay in this process's namespace. */
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
}

static void teardown(void)
{
	/* Deepest first: a tmpfs may sit inside the XFS image's mount. */
	static const char *const mnts[] = { "xfs/101/mnt", "tree/mnt", "root", "xfs" };
	for (size_t i = 0; i < sizeof(mnts) / sizeof(mnts[0]); i++)
		umount2(P("%s/%s", base, mnts[i]), MNT_DETACH);
	/* nvz_rm_rf holds a descriptor per level: the deep tree needs rm. */
	if (nvz_rm_rf(base, NULL) < 0)
		cr_assert_eq(system(P("rm -rf %s", base)), 0);
}

TestSuite(quota, .init = setup, .fini = teardown);

static void xwrite(const char *path, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	char buf[4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1); /* not zeros: no sparse surprises */
	for (size_t done = 0; done < size;) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		cr_assert_eq(write(fd, buf, n), (ssize_t)n);
		done += n;
	}
	cr_assert_eq(fsync(fd), 0);
	close(fd);
}

static void xmount_tmpfs(const char *dir)
{
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=8m"), 0, "%s", strerror(errno));
	xwrite(P("%s/inside", dir), 1 << 20);
}

static uint64_t blocks_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s", path);
	return (uint64_t)st.st_blocks * 512;
}

/* A kernel config option from /proc/config.gz: 'y', 'm', 'n' (not set), or
 * 0 when the config is not available. */
static char kconfig(const char *name)
{
	FILE *f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
	if (!f)
		return 0;
	char line[512], state = 0;
	size_t nl = strlen(name);
	while (fgets(line, sizeof(line), f)) {
		state = state ? state : 'n';
		if (!strncmp(line, name, nl) && line[nl] == '=')
			state = line[nl + 1];
	}
	pclose(f);
	return state;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* ---- the probe --------------------------------------------------------- */

Test(quota, probe_host_fs)
{
	cleanup_close int fd = open_dir(base);
	struct nvz_quota_fs fs;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_quota_probe(fd, &fs, &err), 0, "%s", err ? err->msg : "");
	cr_assert(*fs.why, "no reason given");
	cr_assert(*fs.fstype && *fs.source && *fs.mountpoint, "mount not found");
	struct statfs sfs;
	cr_assert_eq(fstatfs(fd, &sfs), 0);
	char quotactl = kconfig("CONFIG_QUOTACTL"), qfmt = kconfig("CONFIG_QFMT_V2");
	if (!quotactl)
		return; /* no /proc/config.gz: nothing to compare with */
	if (quotactl != 'y') {
		cr_assert_eq(fs.state, NVZ_QUOTA_NO_KERNEL, "%s", fs.why);
	} else if (sfs.f_type == EXT4_SUPER_MAGIC && qfmt == 'n') {
		/* This machine: CONFIG_QUOTA=y but no quota format, so no ext4 can
		 * have quota on (the kernel refuses the project feature rw). */
		cr_assert_eq(fs.state, NVZ_QUOTA_NO_KERNEL, "%s: %s",
			     nvz_quota_state_name(fs.state), fs.why);
		cr_assert(strstr(fs.why, "CONFIG_QFMT_V2"), "%s", fs.why);
		cr_assert_str_eq(fs.fstype, "ext4");
	}
	if (fs.state != NVZ_QUOTA_ENFORCED && fs.state != NVZ_QUOTA_ACCOUNTING)
		cr_assert_not(fs.prjquota_opt && fs.state == NVZ_QUOTA_OFF);
}

Test(quota, probe_tmpfs_has_no_project_quota)
{
	xmount_tmpfs(P("%s/root", base));
	cleanup_close int fd = open_dir(P("%s/root", base));
	struct nvz_quota_fs fs;
	cr_assert_eq(nvz_quota_probe(fd, &fs, NULL), 0);
	cr_assert_str_eq(fs.fstype, "tmpfs");
	cr_assert_str_eq(fs.mountpoint, P("%s/root", base));
	if (kconfig("CONFIG_QUOTACTL") == 'y')
		cr_assert_eq(fs.state, NVZ_QUOTA_NO_FS, "%s: %s", nvz_quota_state_name(fs.state),
			     fs.why);
	cr_assert(strstr(fs.why, "tmpfs"), "%s", fs.why);
}

Test(quota, mountinfo_parse)
{
	static const char mi[] =
		"22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
		"40 22 7:0 / /srv/with\\040space rw master:3 shared:9 - xfs /dev/loop0 rw,prjquota\n"
		"41 22 0:50 / /run/x rw - tmpfs tmpfs rw,size=10k\n"
		"42 22 7:1 / /srv/acct rw - xfs /dev/loop1 rw,pqnoenforce\n"
		"43 22 0:51 / /trunc rw -\n";
	struct nvz_quota_fs fs = { 0 };
	cr_assert_eq(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 40, &fs), 0);
	cr_assert_str_eq(fs.mountpoint, "/srv/with space");
	cr_assert_str_eq(fs.fstype, "xfs");
	cr_assert_str_eq(fs.source, "/dev/loop0");
	cr_assert(fs.prjquota_opt);
	memset(&fs, 0, sizeof(fs));
	cr_assert_eq(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 22, &fs), 0);
	cr_assert_str_eq(fs.mountpoint, "/");
	cr_assert_not(fs.prjquota_opt);
	cr_assert_eq(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 42, &fs), 0);
	cr_assert_not(fs.prjquota_opt, "pqnoenforce is accounting only");
	cr_assert_eq(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 41, &fs), 0);
	cr_assert_str_eq(fs.source, "tmpfs");
	cr_assert_lt(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 43, &fs), 0, "truncated line");
	cr_assert_lt(nvz_quota_mountinfo_find(mi, sizeof(mi) - 1, 99, &fs), 0);
	cr_assert_lt(nvz_quota_mountinfo_find("", 0, 22, &fs), 0);
}

/* ---- the du-like walk -------------------------------------------------- */

/* tree/: a, sub/, sub/b, sub/hl (hard link to a), sym -> big file outside,
 * fifo, mnt/ (a tmpfs holding 1 MiB). Returns the expected usage. */
static struct nvz_tree_usage build_tree(const char *where)
{
	char t[512];
	snprintf(t, sizeof(t), "%s", where);
	cr_assert_eq(mkdir(t, 0755), 0);
	xwrite(P("%s/a", t), 100000);
	cr_assert_eq(mkdir(P("%s/sub", t), 0755), 0);
	xwrite(P("%s/sub/b", t), 5000);
	cr_assert_eq(link(P("%s/a", t), P("%s/sub/hl", t)), 0);
	xwrite(P("%s/big-outside", base), 2 << 20);
	cr_assert_eq(symlink(P("%s/big-outside", base), P("%s/sym", t)), 0);
	cr_assert_eq(mkfifo(P("%s/fifo", t), 0600), 0);
	xmount_tmpfs(P("%s/mnt", t));
	struct nvz_tree_usage u = { .inodes = 6 }; /* ., a, sub, b, sym, fifo */
	static const char *const counted[] = { "", "/a", "/sub", "/sub/b", "/sym", "/fifo" };
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		u.space_bytes += blocks_of(P("%s%s", t, counted[i]));
	return u;
}

Test(quota, tree_usage_links_symlinks_mounts)
{
	char t[512];
	snprintf(t, sizeof(t), "%s/tree", base);
	struct nvz_tree_usage want = build_tree(t);
	cleanup_close int fd = open_dir(t);
	struct nvz_tree_usage u;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_tree_usage(fd, &u, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(u.inodes, want.inodes, "inodes %lu, want %lu", (unsigned long)u.inodes,
		     (unsigned long)want.inodes);
	cr_assert_eq(u.space_bytes, want.space_bytes, "bytes %lu, want %lu",
		     (unsigned long)u.space_bytes, (unsigned long)want.space_bytes);
	/* Sanity: the hard link is not counted twice, the mount not at all. */
	cr_assert_lt(u.space_bytes, 100000 * 2 + (1 << 20));
	/* The walk left the caller's fd where it was: a second walk agrees. */
	struct nvz_tree_usage again;
	cr_assert_eq(nvz_tree_usage(fd, &again, NULL), 0);
	cr_assert_eq(again.inodes, u.inodes);
}

static void make_deep(const char *top, int levels)
{
	cr_assert_eq(mkdir(top, 0755), 0);
	int fd = open_dir(top);
	for (int i = 0; i < levels; i++) {
		cr_assert_eq(mkdirat(fd, "d", 0755), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert_geq(next, 0);
		close(fd);
		fd = next;
	}
	close(fd);
}

Test(quota, tree_usage_depth_is_bounded)
{
	make_deep(P("%s/ok", base), 200);
	cleanup_close int fd = open_dir(P("%s/ok", base));
	struct nvz_tree_usage u;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_tree_usage(fd, &u, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(u.inodes, 201);
	/* Deeper than the walk goes: an error, never a silent undercount. */
	make_deep(P("%s/deep", base), 1000);
	cleanup_close int dfd = open_dir(P("%s/deep", base));
	cr_assert_lt(nvz_tree_usage(dfd, &u, &err), 0);
	cr_assert(err->code == ELOOP || err->code == EMFILE, "%s", err->msg);
	nvz_error_free(err);
}

Test(quota, report_without_kernel_quota_counts)
{
	struct nvz_tree_usage want = build_tree(P("%s/tree", base));
	struct nvz_quota_report r;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_quota_report(P("%s/tree", base), 101, true, &r, &err), 0, "%s",
		     err ? err->msg : "");
	if (r.from_kernel)
		return; /* a host with project quota on this fs */
	/* A listing that must stay cheap does not walk. */
	cr_assert_lt(nvz_quota_report(P("%s/tree", base), 101, false, &r, &err), 0);
	cr_assert_eq(err->code, ENOTSUP);
	nvz_error_free(err);
	err = NULL;
	cr_assert_eq(nvz_quota_report(P("%s/tree", base), 101, true, &r, &err), 0);
	cr_assert_eq(r.dq.inodes, want.inodes);
	cr_assert_eq(r.dq.space_bytes, want.space_bytes);
	cr_assert_eq(r.dq.bhard_kb, 0);
	cr_assert_lt(nvz_quota_report(P("%s/nonexistent", base), 101, true, &r, &err), 0);
	cr_assert_eq(err->status, NVZ_E_NOPRIVATE);
	nvz_error_free(err);
}

/* ---- tagging on XFS ---------------------------------------------------- */

/* An XFS image on a loop device (ioctls only, autoclear), mounted at
 * base/xfs in this test's mount namespace. Skips without mkfs.xfs. */
static void mount_xfs(void)
{
	if (access("/usr/sbin/mkfs.xfs", X_OK) && access("/sbin/mkfs.xfs", X_OK))
		cr_skip_test("mkfs.xfs (xfsprogs) is not installed: project ids cannot be tested");
	char img[512], mnt[512];
	snprintf(img, sizeof(img), "%s/xfs.img", base);
	snprintf(mnt, sizeof(mnt), "%s/xfs", base);
	int ifd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(ifd, 0);
	cr_assert_eq(ftruncate(ifd, 300 << 20), 0); /* mkfs.xfs's minimum */
	close(ifd);
	cr_assert_eq(system(P("mkfs.xfs -q -f %s >/dev/null 2>&1", img)), 0, "mkfs.xfs failed");
	int nr;
	struct nvz_error *err = NULL;
	int lfd = nvz_loop_attach(img, &nr, &err);
	cr_assert_geq(lfd, 0, "%s", err ? err->msg : "");
	char dev[64];
	nvz_loop_path(nr, dev, sizeof(dev));
	cr_assert_eq(mkdir(mnt, 0755), 0);
	int r = mount(dev, mnt, "xfs", 0, NULL);
	int e = errno;
	close(lfd); /* autoclear: the device goes with the mount */
	cr_assert_eq(r, 0, "mount xfs: %s", strerror(e));
}

static void assert_projid(const char *path, uint32_t want, bool inherit)
{
	uint32_t id = 12345;
	bool inh = !inherit;
	int r = nvz_projid_get(AT_FDCWD, path, &id, &inh);
	cr_assert_eq(r, 0, "%s: %s", path, strerror(-r));
	cr_assert_eq(id, want, "%s: projid %u, want %u", path, id, want);
	cr_assert_eq(inh, inherit, "%s: PROJINHERIT %d", path, inh);
}

/* Special files carry project ids only through file_setattr (Linux 6.17). */
static bool special_files_taggable(const char *fifo)
{
	uint32_t id;
	return nvz_projid_get(AT_FDCWD, fifo, &id, NULL) == 0;
}

Test(quota, tag_tree_inherit_and_retag)
{
	mount_xfs();
	char a[512];
	snprintf(a, sizeof(a), "%s/xfs/101", base);
	cr_assert_eq(mkdir(a, 0755), 0);
	cr_assert_eq(mkdir(P("%s/d1", a), 0755), 0);
	cr_assert_eq(mkdir(P("%s/d1/d2", a), 0755), 0);
	xwrite(P("%s/d1/f", a), 10000);
	xwrite(P("%s/d1/d2/g", a), 100);
	cr_assert_eq(link(P("%s/d1/f", a), P("%s/hl", a)), 0);
	cr_assert_eq(mkfifo(P("%s/fifo", a), 0600), 0);
	cr_assert_eq(symlink("/etc/passwd", P("%s/sym", a)), 0);
	xmount_tmpfs(P("%s/mnt", a));

	cleanup_close int fd = open_dir(a);
	struct nvz_tag_stats st;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_tree_tag(fd, 4242, &st, &err), 0, "%s", err ? err->msg : "");
	assert_projid(a, 4242, true);
	assert_projid(P("%s/d1", a), 4242, true);
	assert_projid(P("%s/d1/d2", a), 4242, true);
	assert_projid(P("%s/d1/f", a), 4242, false);
	assert_projid(P("%s/d1/d2/g", a), 4242, false);
	bool special = special_files_taggable(P("%s/fifo", a));
	if (special) {
		assert_projid(P("%s/fifo", a), 4242, false);
		assert_projid(P("%s/sym", a), 4242, false);
		cr_assert_eq(st.skipped, 0);
	} else {
		cr_assert_eq(st.skipped, 2, "fifo and symlink skipped before Linux 6.17");
	}
	/* ., d1, d2, f, g, hl, + fifo and sym; the tmpfs is not entered. */
	cr_assert_eq(st.tagged + st.skipped, 8, "tagged %lu skipped %lu",
		     (unsigned long)st.tagged, (unsigned long)st.skipped);
	struct stat ls;
	cr_assert_eq(lstat("/etc/passwd", &ls), 0, "the symlink's target is the host's");

	/* New files inherit: nothing to walk after the first tagging. */
	xwrite(P("%s/d1/d2/new", a), 10);
	cr_assert_eq(mkdir(P("%s/d1/newdir", a), 0755), 0);
	assert_projid(P("%s/d1/d2/new", a), 4242, false);
	assert_projid(P("%s/d1/newdir", a), 4242, true);

	/* A rename into the area from another project is refused (EXDEV, so mv
	 * copies and the copy inherits): the kernel keeps the area closed. */
	xwrite(P("%s/xfs/outside", base), 10);
	cr_assert_eq(nvz_projid_set(AT_FDCWD, P("%s/xfs/outside", base), 7, false), 0);
	cr_assert_eq(rename(P("%s/xfs/outside", base), P("%s/d1/moved", a)), -1);
	cr_assert_eq(errno, EXDEV);

	/* A file that left the project (re-tagged from the host) comes back on
	 * the next walk: what vzquota drop does. */
	cr_assert_eq(nvz_projid_set(AT_FDCWD, P("%s/d1/f", a), 7, false), 0);
	assert_projid(P("%s/hl", a), 7, false);
	cr_assert_eq(nvz_tree_tag(fd, 4242, &st, NULL), 0);
	assert_projid(P("%s/d1/f", a), 4242, false);

	/* Without quota on this XFS, drop has nothing to recount. */
	bool done = true;
	cr_assert_eq(nvz_quota_retag(a, 4242, &done, &err), 0, "%s", err ? err->msg : "");
	struct nvz_quota_fs fs;
	cr_assert_eq(nvz_quota_probe(fd, &fs, NULL), 0);
	cr_assert_eq(done, fs.state == NVZ_QUOTA_ENFORCED || fs.state == NVZ_QUOTA_ACCOUNTING);
	if (kconfig("CONFIG_XFS_QUOTA") == 'n') {
		cr_assert_eq(fs.state, NVZ_QUOTA_NO_KERNEL, "%s", fs.why);
		cr_assert(strstr(fs.why, "CONFIG_XFS_QUOTA"), "%s", fs.why);
	} else if (kconfig("CONFIG_XFS_QUOTA") == 'y') {
		cr_assert_eq(fs.state, NVZ_QUOTA_OFF, "mounted without prjquota: %s", fs.why);
	}
}

Test(quota, projid_on_fs_without_project_ids)
{
	/* tmpfs stores no project id: setting one fails, reading gives 0. */
	xmount_tmpfs(P("%s/root", base));
	int r = nvz_projid_set(AT_FDCWD, P("%s/root/inside", base), 5, false);
	cr_assert_lt(r, 0);
	uint32_t id = 1;
	if (nvz_projid_get(AT_FDCWD, P("%s/root/inside", base), &id, NULL) == 0)
		cr_assert_eq(id, 0);
}

/* ---- the simfs layout -------------------------------------------------- */

static char rootdir[512];

static struct nvz_disk disk(const char *private)
{
	snprintf(rootdir, sizeof(rootdir), "%s/root", base);
	return (struct nvz_disk){ .private = private, .root = rootdir };
}

Test(quota, simfs_limits_refused_without_quota)
{
	char priv[512];
	snprintf(priv, sizeof(priv), "%s/101", base);
	struct nvz_disk d = disk(priv);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_layout_simfs.create(&d, &err), 0, "%s", err ? err->msg : "");
	cleanup_close int fd = open_dir(priv);
	struct nvz_quota_fs fs;
	cr_assert_eq(nvz_quota_probe(fd, &fs, NULL), 0);
	if (fs.state == NVZ_QUOTA_ENFORCED)
		cr_skip_test("project quota is enforced on %s", fs.source);
	/* No limits: works as before, nothing to enforce. */
	cr_assert_eq(nvz_layout_simfs.set_limits(&d, false, &err), 0, "%s", err ? err->msg : "");
	d.limits = (struct nvz_disk_limits){ .space_soft_kb = 204800, .space_hard_kb = 204800 };
	cr_assert_lt(nvz_layout_simfs.set_limits(&d, true, &err), 0);
	cr_assert_eq(err->status, NVZ_QS_SETLIMIT);
	cr_assert(strstr(err->msg, "unable to apply disk quota to"), "%s", err->msg);
	cr_assert(strstr(err->msg, fs.why), "%s", err->msg);
	cr_assert(strstr(err->msg, "use the ploop layout (VE_LAYOUT=ploop)"), "%s", err->msg);
	nvz_error_free(err);
	err = NULL;
	/* Same for a private area whose name is no CT ID. */
	char web[512];
	snprintf(web, sizeof(web), "%s/web", base);
	struct nvz_disk w = disk(web);
	cr_assert_eq(nvz_layout_simfs.create(&w, NULL), 0);
	cr_assert_eq(nvz_layout_simfs.set_limits(&w, false, NULL), 0);
	w.limits.inodes_hard = 100;
	cr_assert_lt(nvz_layout_simfs.set_limits(&w, false, &err), 0);
	cr_assert_eq(err->status, NVZ_QS_SETLIMIT);
	nvz_error_free(err);
	err = NULL;
	cr_assert_lt(nvz_quota_apply(priv, 0, &d.limits, false, NVZ_QS_INIT, &err), 0);
	cr_assert_eq(err->status, NVZ_QS_INIT);
	nvz_error_free(err);
}

Test(quota, simfs_usage_and_mount_cycle)
{
	char priv[512];
	snprintf(priv, sizeof(priv), "%s/101", base);
	struct nvz_disk d = disk(priv);
	cr_assert_eq(nvz_layout_simfs.create(&d, NULL), 0);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_layout_simfs.create(&d, &err), 0, "private area created twice");
	cr_assert_eq(err->status, NVZ_E_CANT_CREATE_PRIVATE);
	nvz_error_free(err);
	err = NULL;
	xwrite(P("%s/data", priv), 50000);
	struct nvz_disk_usage u;
	cr_assert_eq(nvz_layout_simfs.usage(&d, true, &u, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(u.inodes_used, 2);
	cr_assert_eq(u.space_used_kb, (blocks_of(priv) + blocks_of(P("%s/data", priv)) + 1023) / 1024);
	struct statfs sfs;
	cr_assert_eq(statfs(priv, &sfs), 0);
	cr_assert_eq(u.space_total_kb, (uint64_t)sfs.f_blocks * sfs.f_frsize / 1024);
	d.limits.space_hard_kb = 4096;
	d.limits.inodes_hard = 77;
	cr_assert_eq(nvz_layout_simfs.usage(&d, true, &u, NULL), 0);
	cr_assert_eq(u.space_total_kb, 4096, "total is the hard limit");
	cr_assert_eq(u.inodes_total, 77);

	/* Mount, a busy unmount (detached), then destroy. */
	cr_assert_eq(nvz_layout_simfs.mount(&d, &err), 0, "%s", err ? err->msg : "");
	cr_assert(nvz_is_mountpoint(d.root));
	struct stat st;
	cr_assert_eq(stat(P("%s/data", d.root), &st), 0);
	cleanup_close int busy = open(P("%s/data", d.root), O_RDONLY | O_CLOEXEC);
	cr_assert_geq(busy, 0);
	cr_assert_eq(chdir(d.root), 0);
	cr_assert_eq(nvz_layout_simfs.umount(&d, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(chdir("/"), 0);
	cr_assert_not(nvz_is_mountpoint(d.root));
	cr_assert_eq(nvz_layout_simfs.umount(&d, &err), 0, "not mounted is fine");
	cr_assert_eq(nvz_layout_simfs.destroy(&d, &err), 0);
	cr_assert_not(nvz_path_exists(priv));
	cr_assert_null(nvz_layout_simfs.compact);
}

/* ---- limits parsing ---------------------------------------------------- */

static int parse(const char *ds, const char *di, const char *qt, struct nvz_disk_limits *l,
		 int *status)
{
	struct nvz_error *err = NULL;
	int r = nvz_disk_limits_parse(ds, di, qt, l, &err);
	*status = err ? err->status : 0;
	if (r < 0)
		cr_assert(err && strstr(err->msg, "invalid"), "message: %s", err ? err->msg : "");
	nvz_error_free(err);
	return r < 0 ? -1 : r;
}

Test(quota, limits_parse_values_and_errors)
{
	struct nvz_disk_limits l;
	int st;
	cr_assert_eq(parse("200M:200M", "5000:6000", "3600", &l, &st), 0);
	cr_assert_eq(l.space_soft_kb, 204800);
	cr_assert_eq(l.space_hard_kb, 204800);
	cr_assert_eq(l.inodes_soft, 5000);
	cr_assert_eq(l.inodes_hard, 6000);
	cr_assert_eq(l.quotatime, 3600);
	cr_assert_eq(parse("2G:2.2G", "131072:144179", "0", &l, &st), 0, "OpenVZ's sample");
	cr_assert_eq(l.space_soft_kb, 2097152);
	cr_assert_eq(l.space_hard_kb, 2306867);
	cr_assert_eq(parse("1048576", NULL, NULL, &l, &st), 0, "one value: soft = hard, KiB");
	cr_assert_eq(l.space_soft_kb, 1048576);
	cr_assert_eq(l.space_hard_kb, 1048576);
	cr_assert_eq(l.inodes_hard, 0);
	cr_assert_eq(parse("unlimited", "9223372036854775807", "", &l, &st), 0);
	cr_assert_eq(l.space_hard_kb, 0, "unlimited is no limit");
	cr_assert_eq(l.inodes_hard, 0, "LONG_MAX is OpenVZ's unlimited");

	static const char *const bad_space[] = {
		"abc", "10Q", "1:2:3", ":5", "5:", "-1", "1.5", "1 M", "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad_space) / sizeof(bad_space[0]); i++) {
		cr_assert_eq(parse(bad_space[i], NULL, NULL, &l, &st), -1, "'%s' accepted", bad_space[i]);
		cr_assert_eq(st, NVZ_E_VALUE);
	}
	static const char *const bad_inodes[] = { "5X", "1.5", "x:1", "1e3" };
	for (size_t i = 0; i < sizeof(bad_inodes) / sizeof(bad_inodes[0]); i++)
		cr_assert_eq(parse(NULL, bad_inodes[i], NULL, &l, &st), -1, "'%s' accepted",
			     bad_inodes[i]);
	static const char *const bad_time[] = { "abc", "1:2", "-5", "10m" };
	for (size_t i = 0; i < sizeof(bad_time) / sizeof(bad_time[0]); i++)
		cr_assert_eq(parse(NULL, NULL, bad_time[i], &l, &st), -1, "'%s' accepted", bad_time[i]);
}

/* A BTF-like file: names between NULs, one of them across the 64 kB
 * boundary of the chunked read. */
static void write_names_file(const char *path, const char *straddling)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	size_t at = 64 * 1024 - strlen(straddling) / 2;
	for (size_t i = 0; i < at; i++)
		fputc(i % 7 ? 'x' : '\0', f);
	fputc('\0', f);
	fputs(straddling, f);
	fputc('\0', f);
	fputs("tail_function", f);
	fputc('\0', f);
	fclose(f);
}

Test(quota, btf_names_found_in_both_ways)
{
	char path[] = "/tmp/nvz-btf-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	write_names_file(path, "v2_read_file_info");
	for (int map = 0; map < 2; map++) {
		cr_assert_eq(nvz_btf_has_function(path, "v2_read_file_info", map), 1, "map %d", map);
		cr_assert_eq(nvz_btf_has_function(path, "tail_function", map), 1, "map %d", map);
		/* Whole names only. */
		cr_assert_eq(nvz_btf_has_function(path, "v2_read_file", map), 0, "map %d", map);
		cr_assert_eq(nvz_btf_has_function(path, "read_file_info", map), 0, "map %d", map);
	}
	unlink(path);
	cr_assert_eq(nvz_btf_has_function(path, "x", true), -1);
	/* This kernel's own, if it has BTF: a function every kernel has. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		for (int map = 0; map < 2; map++) {
			cr_assert_eq(nvz_btf_has_function("/sys/kernel/btf/vmlinux", "vfs_read", map), 1);
			cr_assert_eq(nvz_btf_has_function("/sys/kernel/btf/vmlinux", "nvz_no_such_fn", map), 0);
		}
}
