/* Template lookup and safe unpacking: archives are built here with
 * libarchive's writer, unpacked into tmp/outer/root, and the host side of
 * the tree (tmp, tmp/outer, tmp/outer/sentinel) must stay untouched. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/template.h"

#define GiB (1024LL * 1024 * 1024)

struct tree {
	char tmp[64];
	char outer[96];
	char root[128];
	char archive[128];
	int rootfd;
};

static struct tree T;

static void path_of(char *buf, size_t len, const char *dir, const char *name)
{
	cr_assert(snprintf(buf, len, "%s/%s", dir, name) < (int)len);
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "fopen %s", path);
	fputs(data, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(T.tmp, sizeof(T.tmp), "/tmp/nvz-tpl-XXXXXX");
	cr_assert_not_null(mkdtemp(T.tmp));
	path_of(T.outer, sizeof(T.outer), T.tmp, "outer");
	path_of(T.root, sizeof(T.root), T.outer, "root");
	path_of(T.archive, sizeof(T.archive), T.tmp, "t.tar");
	cr_assert_eq(mkdir(T.outer, 0755), 0);
	cr_assert_eq(mkdir(T.root, 0755), 0);
	char sentinel[160];
	path_of(sentinel, sizeof(sentinel), T.outer, "sentinel");
	write_file(sentinel, "host\n");
	T.rootfd = open(T.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(T.rootfd, 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void teardown(void)
{
	if (T.rootfd >= 0)
		close(T.rootfd);
	if (T.tmp[0])
		nftw(T.tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

TestSuite(template, .init = setup, .fini = teardown);

/* The host side must look exactly as setup left it. */
static void assert_host_untouched(void)
{
	const char *want_tmp[] = { "outer", "t.tar", "t.tar.gz" };
	const char *want_outer[] = { "root", "sentinel" };
	const char *dirs[] = { T.tmp, T.outer };
	for (int d = 0; d < 2; d++) {
		cleanup_dir DIR *dir = opendir(dirs[d]);
		cr_assert_not_null(dir);
		struct dirent *de;
		while ((de = readdir(dir))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			bool ok = false;
			const char **w = d ? want_outer : want_tmp;
			size_t n = d ? 2 : 3;
			for (size_t i = 0; i < n; i++)
				ok |= !strcmp(de->d_name, w[i]);
			cr_assert(ok, "unexpected %s/%s outside the root", dirs[d], de->d_name);
		}
	}
	char sentinel[160], buf[16] = { 0 };
	path_of(sentinel, sizeof(sentinel), T.outer, "sentinel");
	struct stat st;
	cr_assert_eq(stat(sentinel, &st), 0);
	cr_assert_eq(st.st_nlink, 1, "sentinel gained a hard link");
	FILE *f = fopen(sentinel, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "host\n");
}

/* ---- archive builder ------------------------------------------------- */

struct spec {
	const char *name;
	mode_t type;
	mode_t perm;
	int64_t uid, gid;
	const char *data;
	const char *symlink;
	const char *hardlink;
	const char *xattr;
	const void *xval;
	size_t xlen;
	time_t mtime;
};

static struct archive *arc_open_filter(const char *path, int filter)
{
	struct archive *w = archive_write_new();
	cr_assert_not_null(w);
	cr_assert_eq(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
	/* ARCHIVE_WARN: libarchive will run the external compressor. */
	cr_assert_geq(archive_write_add_filter(w, filter), ARCHIVE_WARN, "filter %d: %s", filter,
		      archive_error_string(w));
	cr_assert_eq(archive_write_open_filename(w, path), ARCHIVE_OK);
	return w;
}

static struct archive *arc_open(const char *path, bool gz)
{
	return arc_open_filter(path, gz ? ARCHIVE_FILTER_GZIP : ARCHIVE_FILTER_NONE);
}

static void arc_add(struct archive *w, const struct spec *s)
{
	/* Names are UTF-8; the unpack side runs in the "C" locale. */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	cr_assert_not_null(utf8);
	locale_t old = uselocale(utf8);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname_utf8(e, s->name);
	archive_entry_set_filetype(e, s->type ? s->type : AE_IFREG);
	archive_entry_set_perm(e, s->perm ? s->perm : 0644);
	archive_entry_set_uid(e, s->uid);
	archive_entry_set_gid(e, s->gid);
	archive_entry_set_mtime(e, s->mtime ? s->mtime : 1000000000, 0);
	if (s->symlink)
		archive_entry_set_symlink(e, s->symlink);
	if (s->hardlink)
		archive_entry_set_hardlink(e, s->hardlink);
	if (s->type == AE_IFCHR)
		archive_entry_set_rdev(e, makedev(1, 3));
	if (s->xattr)
		archive_entry_xattr_add_entry(e, s->xattr, s->xval, s->xlen);
	size_t len = s->data ? strlen(s->data) : 0;
	archive_entry_set_size(e, (la_int64_t)len);
	cr_assert_geq(archive_write_header(w, e), ARCHIVE_WARN, "%s", archive_error_string(w));
	if (len)
		cr_assert_eq(archive_write_data(w, s->data, len), (la_ssize_t)len);
	archive_entry_free(e);
	uselocale(old);
	freelocale(utf8);
}

#define ADD(w, ...) arc_add(w, &(struct spec){ __VA_ARGS__ })

static void arc_close(struct archive *w)
{
	cr_assert_eq(archive_write_close(w), ARCHIVE_OK);
	archive_write_free(w);
}

static int unpack(const char *archive, struct nvz_unpack_stats *st, struct nvz_error **err)
{
	return nvz_template_unpack(T.rootfd, archive, st, err);
}

static int count_fds(void)
{
	cleanup_dir DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	return n;
}

static void expect_refused(const char *needle)
{
	struct nvz_error *err = NULL;
	int fds = count_fds();
	cr_assert_lt(unpack(T.archive, NULL, &err), 0);
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_BAD_TEMPLATE, "status %d: %s", err->status, err->msg);
	if (needle)
		cr_assert_not_null(strstr(err->msg, needle), "message: %s", err->msg);
	nvz_error_free(err);
	assert_host_untouched();
}

static void expect_ok(struct nvz_unpack_stats *st)
{
	struct nvz_error *err = NULL;
	int fds = count_fds();
	int r = unpack(T.archive, st, &err);
	cr_assert_eq(r, 0, "unpack: %s", err ? err->msg : "?");
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
	assert_host_untouched();
}

static void stat_in(const char *rel, struct stat *st)
{
	cr_assert_eq(fstatat(T.rootfd, rel, st, AT_SYMLINK_NOFOLLOW), 0, "stat %s: %s", rel,
		     strerror(errno));
}

static void read_in(const char *rel, char *buf, size_t len)
{
	cleanup_close int fd = openat(T.rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s", rel);
	ssize_t n = read(fd, buf, len - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
}

/* ---- nvz_archive_path_check ------------------------------------------ */

static void check_ok(const char *in, const char *want)
{
	char *out = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_archive_path_check(in, &out, &err), 0, "'%s'", in);
	cr_assert_str_eq(out, want, "'%s'", in);
	free(out);
}

static void check_bad(const char *in)
{
	char *out = NULL;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_archive_path_check(in, &out, &err), 0, "'%s' accepted", in);
	cr_assert_null(out);
	cr_assert_eq(err->status, NVZ_E_BAD_TEMPLATE);
	nvz_error_free(err);
}

Test(template, path_check_normalises)
{
	check_ok("etc/passwd", "etc/passwd");
	check_ok("./etc/passwd", "etc/passwd");
	check_ok("/etc/passwd", "etc/passwd");
	check_ok("///etc//./passwd/", "etc/passwd");
	check_ok("./", ".");
	check_ok(".", ".");
	check_ok("/", ".");
	check_ok("...", "...");
	check_ok("..foo/bar..", "..foo/bar..");
	check_ok("a/.hidden", "a/.hidden");
}

Test(template, path_check_refuses)
{
	check_bad("");
	check_bad(NULL);
	check_bad("..");
	check_bad("../x");
	check_bad("./../x");
	check_bad("/../x");
	check_bad("a/../../x");
	check_bad("a/..");
	check_bad("a/../b"); /* harmless, but no legitimate archive has it */
	char *out = NULL;
	struct nvz_error *err = NULL;
	nvz_archive_path_check("../escape", &out, &err);
	cr_assert_str_eq(err->msg, "template entry '../escape' escapes the container root");
	nvz_error_free(err);
	char longname[5000];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	check_bad(longname);
	char longcomp[300];
	memset(longcomp, 'b', sizeof(longcomp) - 1);
	longcomp[sizeof(longcomp) - 1] = '\0';
	check_bad(longcomp);
}

/* ---- nvz_template_find ----------------------------------------------- */

Test(template, find_prefers_in_order)
{
	char cache[160], p[512];
	path_of(cache, sizeof(cache), T.tmp, "cache");
	cr_assert_eq(mkdir(cache, 0755), 0);
	path_of(p, sizeof(p), cache, "deb.tar.xz");
	write_file(p, "");
	path_of(p, sizeof(p), cache, "deb.tar.zst");
	write_file(p, "");
	struct nvz_error *err = NULL;
	char *got = nvz_template_find(T.tmp, "deb", &err);
	cr_assert_not_null(got, "%s", err ? err->msg : "");
	path_of(p, sizeof(p), cache, "deb.tar.xz");
	cr_assert_str_eq(got, p);
	free(got);
	path_of(p, sizeof(p), cache, "deb.tar.gz");
	write_file(p, "");
	char dir_slash[80];
	snprintf(dir_slash, sizeof(dir_slash), "%s/", T.tmp);
	got = nvz_template_find(dir_slash, "deb", &err);
	cr_assert_str_eq(got, p);
	free(got);
	/* A directory with the right name is not a template. */
	path_of(p, sizeof(p), cache, "dir.tar");
	cr_assert_eq(mkdir(p, 0755), 0);
	cr_assert_null(nvz_template_find(T.tmp, "dir", &err));
	nvz_error_free(err);
	rmdir(p);
	unlink(p);
	char rm[512];
	for (const char *const *x = (const char *const[]){ "deb.tar.xz", "deb.tar.zst", "deb.tar.gz",
							  NULL };
	     *x; x++) {
		path_of(rm, sizeof(rm), cache, *x);
		unlink(rm);
	}
	rmdir(cache);
}

/* vzctl looked for .tar, .tar.gz, .tar.bz2, .tar.xz in that order: of a
 * bz2 and an xz archive of one name, the bz2 one is the template. */
Test(template, find_bz2_before_xz)
{
	char cache[160], p[512], want[512];
	path_of(cache, sizeof(cache), T.tmp, "cache");
	cr_assert_eq(mkdir(cache, 0755), 0);
	path_of(p, sizeof(p), cache, "c7.tar.xz");
	write_file(p, "");
	path_of(want, sizeof(want), cache, "c7.tar.bz2");
	write_file(want, "");
	struct nvz_error *err = NULL;
	char *got = nvz_template_find(T.tmp, "c7", &err);
	cr_assert_not_null(got, "%s", err ? err->msg : "");
	cr_assert_str_eq(got, want);
	free(got);
	unlink(p);
	unlink(want);
	rmdir(cache);
}

Test(template, find_not_found_message)
{
	struct nvz_error *err = NULL;
	cr_assert_null(nvz_template_find("/nonexistent/tpl", "centos-7", &err));
	cr_assert_eq(err->status, NVZ_E_OSTEMPLATE_NOT_FOUND);
	cr_assert_eq(err->code, ENOENT);
	cr_assert_str_eq(err->msg, "Cached OS template /nonexistent/tpl/cache/centos-7"
				   ".tar[.gz|.bz2|.xz|.zst] not found");
	nvz_error_free(err);
}

Test(template, find_refuses_bad_names)
{
	const char *bad[] = { "", "a/b", "..", ".", "x\ny", "../../etc/shadow" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_error *err = NULL;
		cr_assert_null(nvz_template_find(T.tmp, bad[i], &err));
		cr_assert(err->status == NVZ_E_VALUE || err->status == NVZ_E_OSTEMPLATE_NOTSET,
			  "'%s': %d", bad[i], err->status);
		nvz_error_free(err);
	}
}

/* ---- good archives ---------------------------------------------------- */

Test(template, unpack_good_archive)
{
	char gz[160];
	snprintf(gz, sizeof(gz), "%s.gz", T.archive);
	struct archive *w = arc_open(gz, true);
	ADD(w, .name = "./", .type = AE_IFDIR, .perm = 0755);
	ADD(w, .name = "./etc/", .type = AE_IFDIR, .perm = 0755, .mtime = 1234567890);
	ADD(w, .name = "./etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n", .mtime = 1111111111);
	ADD(w, .name = "./etc/shadow", .perm = 0640, .gid = 42, .data = "root:!:1::::::\n");
	ADD(w, .name = "./usr/bin/su", .perm = 04755, .uid = 0, .data = "ELF");
	ADD(w, .name = "./usr/bin/wall", .perm = 02755, .gid = 5, .data = "ELF");
	ADD(w, .name = "./home/u/f", .perm = 0600, .uid = 1000, .gid = 1000, .data = "mine");
	ADD(w, .name = "./tmp/", .type = AE_IFDIR, .perm = 01777);
	ADD(w, .name = "./ro/", .type = AE_IFDIR, .perm = 0500);
	ADD(w, .name = "./ro/inside", .data = "x");
	ADD(w, .name = "./lib", .type = AE_IFLNK, .perm = 0777, .symlink = "usr/lib");
	ADD(w, .name = "./abs", .type = AE_IFLNK, .perm = 0777, .symlink = "/etc/passwd", .uid = 7);
	ADD(w, .name = "./dangling", .type = AE_IFLNK, .perm = 0777, .symlink = "../../../../nope");
	ADD(w, .name = "./etc/passwd-link", .hardlink = "./etc/passwd");
	ADD(w, .name = "./dev/null", .type = AE_IFCHR, .perm = 0666);
	ADD(w, .name = "./dev/fifo", .type = AE_IFIFO, .perm = 0644);
	ADD(w, .name = "./caf\xc3\xa9", .data = "utf8");
	ADD(w, .name = "./x/user-xattr", .data = "x", .xattr = "user.nvz", .xval = "v1", .xlen = 2);
	arc_close(w);

	struct nvz_unpack_stats st = { 99, 99 };
	struct nvz_error *err = NULL;
	cr_assert_eq(unpack(gz, &st, &err), 0, "unpack: %s", err ? err->msg : "?");
	assert_host_untouched();
	cr_assert_eq(st.entries, 18);
	cr_assert_eq(st.skipped_devices, 2);

	char buf[128];
	read_in("etc/passwd", buf, sizeof(buf));
	cr_assert_str_eq(buf, "root:x:0:0::/root:/bin/sh\n");
	struct stat s, s2;
	stat_in("etc/passwd", &s);
	cr_assert_eq(s.st_mode & 07777, 0644);
	cr_assert_eq(s.st_mtim.tv_sec, 1111111111);
	stat_in("etc/passwd-link", &s2);
	cr_assert_eq(s.st_ino, s2.st_ino);
	cr_assert_eq(s.st_nlink, 2);
	stat_in("etc", &s);
	cr_assert(S_ISDIR(s.st_mode));
	cr_assert_eq(s.st_mode & 07777, 0755);
	cr_assert_eq(s.st_mtim.tv_sec, 1234567890, "dir mtime applied after contents");
	stat_in("etc/shadow", &s);
	cr_assert_eq(s.st_mode & 07777, 0640);
	cr_assert_eq(s.st_gid, 42);
	stat_in("usr/bin/su", &s);
	cr_assert_eq(s.st_mode & 07777, 04755, "setuid kept: %o", s.st_mode & 07777);
	stat_in("usr/bin/wall", &s);
	cr_assert_eq(s.st_mode & 07777, 02755);
	cr_assert_eq(s.st_gid, 5);
	stat_in("usr/bin", &s);
	cr_assert_eq(s.st_mode & 07777, 0755, "implicit parents are 0755");
	stat_in("home/u/f", &s);
	cr_assert_eq(s.st_uid, 1000);
	cr_assert_eq(s.st_gid, 1000);
	stat_in("tmp", &s);
	cr_assert_eq(s.st_mode & 07777, 01777);
	stat_in("ro", &s);
	cr_assert_eq(s.st_mode & 07777, 0500);
	read_in("ro/inside", buf, sizeof(buf));
	cr_assert_str_eq(buf, "x");

	ssize_t n = readlinkat(T.rootfd, "lib", buf, sizeof(buf));
	cr_assert_eq(n, 7);
	cr_assert_eq(memcmp(buf, "usr/lib", 7), 0);
	n = readlinkat(T.rootfd, "abs", buf, sizeof(buf));
	cr_assert_eq(n, 11);
	cr_assert_eq(memcmp(buf, "/etc/passwd", 11), 0);
	stat_in("abs", &s);
	cr_assert_eq(s.st_uid, 7, "symlink owner set without following");
	n = readlinkat(T.rootfd, "dangling", buf, sizeof(buf));
	cr_assert_eq(n, 16);
	cr_assert_eq(memcmp(buf, "../../../../nope", 16), 0);

	cr_assert_eq(fstatat(T.rootfd, "dev/null", &s, AT_SYMLINK_NOFOLLOW), -1);
	cr_assert_eq(fstatat(T.rootfd, "dev/fifo", &s, AT_SYMLINK_NOFOLLOW), -1);
	read_in("caf\xc3\xa9", buf, sizeof(buf));
	cr_assert_str_eq(buf, "utf8");

	char xp[512];
	snprintf(xp, sizeof(xp), "%s/x/user-xattr", T.root);
	n = getxattr(xp, "user.nvz", buf, sizeof(buf));
	cr_assert_eq(n, 2, "user xattr: %s", strerror(errno));
	cr_assert_eq(memcmp(buf, "v1", 2), 0);
}

Test(template, unpack_file_capability_survives_chown)
{
	/* VFS_CAP_REVISION_2 with cap_net_raw (13) permitted+effective. */
	const unsigned char cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00 };
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "ping", .perm = 0755, .uid = 0, .gid = 0, .data = "ELF",
	    .xattr = "security.capability", .xval = cap, .xlen = sizeof(cap));
	arc_close(w);
	expect_ok(NULL);
	char p[512];
	unsigned char got[32];
	snprintf(p, sizeof(p), "%s/ping", T.root);
	ssize_t n = getxattr(p, "security.capability", got, sizeof(got));
	cr_assert_eq(n, (ssize_t)sizeof(cap), "security.capability: %s", strerror(errno));
	cr_assert_eq(memcmp(got, cap, sizeof(cap)), 0);
}

Test(template, unpack_huge_sparse_file)
{
	const long long size = 10 * GiB;
	struct archive *w = arc_open(T.archive, false);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "var/huge.img");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_entry_sparse_add_entry(e, 0, 4096);
	archive_entry_sparse_add_entry(e, 5 * GiB, 4096);
	archive_entry_sparse_add_entry(e, size - 4096, 4096);
	cr_assert_geq(archive_write_header(w, e), ARCHIVE_WARN, "%s", archive_error_string(w));
	/* The pax writer takes the logical stream and drops the holes. */
	static char chunk[1 << 20];
	memset(chunk, 'A', sizeof(chunk));
	for (long long off = 0; off < size; off += (long long)sizeof(chunk))
		cr_assert_eq(archive_write_data(w, chunk, sizeof(chunk)), (la_ssize_t)sizeof(chunk));
	archive_entry_free(e);
	arc_close(w);
	struct stat ast;
	cr_assert_eq(stat(T.archive, &ast), 0);
	cr_assert_lt(ast.st_size, 1 << 20, "archive itself is small");

	expect_ok(NULL);
	struct stat s;
	stat_in("var/huge.img", &s);
	cr_assert_eq(s.st_size, size);
	cr_assert_lt((long long)s.st_blocks * 512, 4LL << 20, "allocated %lld bytes",
		     (long long)s.st_blocks * 512);
	cleanup_close int fd = openat(T.rootfd, "var/huge.img", O_RDONLY | O_CLOEXEC);
	char b[4];
	cr_assert_eq(pread(fd, b, 1, 0), 1);
	cr_assert_eq(b[0], 'A');
	cr_assert_eq(pread(fd, b, 1, 2 * GiB), 1);
	cr_assert_eq(b[0], 0);
	cr_assert_eq(pread(fd, b, 1, 5 * GiB + 100), 1);
	cr_assert_eq(b[0], 'A');
	cr_assert_eq(pread(fd, b, 1, size - 1), 1);
	cr_assert_eq(b[0], 'A');
}

/* ---- hostile archives -------------------------------------------------- */

Test(template, symlink_to_root_stays_inside)
{
	char abs_outer[512];
	snprintf(abs_outer, sizeof(abs_outer), "%s", T.outer);
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "evil", .type = AE_IFLNK, .symlink = "/");
	ADD(w, .name = "evil/etc/x", .data = "in-root");
	/* Would land next to the sentinel if followed on the host. */
	ADD(w, .name = abs_outer, .type = AE_IFDIR, .perm = 0755);
	ADD(w, .name = "host", .type = AE_IFLNK, .symlink = abs_outer);
	ADD(w, .name = "host/pwned", .data = "in-root");
	ADD(w, .name = "up", .type = AE_IFLNK, .symlink = "../..");
	ADD(w, .name = "up/pwned2", .data = "in-root");
	ADD(w, .name = "up/outer/pwned3", .data = "in-root");
	arc_close(w);
	expect_ok(NULL);
	char buf[32], rel[512];
	read_in("etc/x", buf, sizeof(buf));
	cr_assert_str_eq(buf, "in-root");
	snprintf(rel, sizeof(rel), "%s/pwned", T.outer + 1);
	read_in(rel, buf, sizeof(buf));
	cr_assert_str_eq(buf, "in-root");
	read_in("pwned2", buf, sizeof(buf));
	read_in("outer/pwned3", buf, sizeof(buf));
}

Test(template, dangling_symlink_parent_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "host", .type = AE_IFLNK, .symlink = T.outer);
	ADD(w, .name = "host/pwned", .data = "out");
	arc_close(w);
	expect_refused("host/pwned");
}

Test(template, absolute_names_land_inside)
{
	char name[512], rel[512];
	snprintf(name, sizeof(name), "%s/abs-escape", T.outer);
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = name, .data = "in-root");
	arc_close(w);
	expect_ok(NULL);
	char buf[32];
	snprintf(rel, sizeof(rel), "%s/abs-escape", T.outer + 1);
	read_in(rel, buf, sizeof(buf));
	cr_assert_str_eq(buf, "in-root");
}

Test(template, dotdot_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "ok", .data = "x");
	ADD(w, .name = "../escape", .data = "out");
	arc_close(w);
	expect_refused("template entry '../escape' escapes the container root");
}

Test(template, dotdot_inside_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "a/b/../../../escape", .data = "out");
	arc_close(w);
	expect_refused("escapes the container root");
}

Test(template, hardlink_dotdot_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "passwd", .hardlink = "../../etc/passwd");
	arc_close(w);
	expect_refused("escapes the container root");
}

Test(template, hardlink_to_host_file_refused)
{
	char target[512];
	snprintf(target, sizeof(target), "%s/sentinel", T.outer);
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "evil", .type = AE_IFLNK, .symlink = "/");
	ADD(w, .name = "l1", .hardlink = target); /* absolute: in-root, missing */
	arc_close(w);
	expect_refused("not a regular file inside the container root");

	w = arc_open(T.archive, false);
	snprintf(target, sizeof(target), "up/outer/sentinel");
	ADD(w, .name = "up", .type = AE_IFLNK, .symlink = "../..");
	ADD(w, .name = "l2", .hardlink = target);
	arc_close(w);
	expect_refused("not a regular file inside the container root");
}

Test(template, hardlink_to_symlink_or_dir_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "s", .type = AE_IFLNK, .symlink = "/etc/shadow");
	ADD(w, .name = "l", .hardlink = "s");
	arc_close(w);
	expect_refused("not a regular file");
	w = arc_open(T.archive, false);
	ADD(w, .name = "d", .type = AE_IFDIR, .perm = 0755);
	ADD(w, .name = "l", .hardlink = "d");
	arc_close(w);
	expect_refused("not a regular file");
}

Test(template, symlink_chain_stays_inside)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "a", .type = AE_IFLNK, .symlink = "b");
	ADD(w, .name = "b", .type = AE_IFLNK, .symlink = "c/../..");
	ADD(w, .name = "c", .type = AE_IFLNK, .symlink = "/../../..");
	ADD(w, .name = "a/chain-x", .data = "in-root");
	arc_close(w);
	expect_ok(NULL);
	char buf[32];
	read_in("chain-x", buf, sizeof(buf));
	cr_assert_str_eq(buf, "in-root");
}

Test(template, symlink_loop_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "l1", .type = AE_IFLNK, .symlink = "l2");
	ADD(w, .name = "l2", .type = AE_IFLNK, .symlink = "l1");
	ADD(w, .name = "l1/x", .data = "x");
	arc_close(w);
	expect_refused("l1/x");
}

Test(template, file_replaces_symlink_without_following)
{
	char target[512];
	snprintf(target, sizeof(target), "%s/sentinel", T.outer);
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "f", .type = AE_IFLNK, .symlink = target);
	ADD(w, .name = "f", .data = "overwritten", .perm = 04755);
	ADD(w, .name = "g", .type = AE_IFLNK, .symlink = "../sentinel");
	ADD(w, .name = "g", .data = "overwritten");
	ADD(w, .name = "d", .type = AE_IFLNK, .symlink = T.outer);
	ADD(w, .name = "d", .type = AE_IFDIR, .perm = 0777);
	ADD(w, .name = "d/x", .data = "in-root");
	arc_close(w);
	expect_ok(NULL);
	struct stat s;
	stat_in("f", &s);
	cr_assert(S_ISREG(s.st_mode));
	stat_in("g", &s);
	cr_assert(S_ISREG(s.st_mode));
	stat_in("d", &s);
	cr_assert(S_ISDIR(s.st_mode));
	cr_assert_eq(s.st_mode & 07777, 0777);
	stat_in("d/x", &s);
}

Test(template, device_with_hostile_name_skipped)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "dev/sda", .type = AE_IFBLK, .perm = 0666);
	ADD(w, .name = "dev/mem", .type = AE_IFCHR, .perm = 0666);
	arc_close(w);
	struct nvz_unpack_stats st;
	expect_ok(&st);
	cr_assert_eq(st.entries, 2);
	cr_assert_eq(st.skipped_devices, 2);
	struct stat s;
	cr_assert_eq(fstatat(T.rootfd, "dev/sda", &s, AT_SYMLINK_NOFOLLOW), -1);
}

Test(template, root_replaced_by_file_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = ".", .data = "x");
	arc_close(w);
	expect_refused("'.'");
}

Test(template, garbage_and_empty_archives_fail)
{
	write_file(T.archive, "this is not a tar archive at all, not even close........\n");
	struct nvz_error *err = NULL;
	cr_assert_lt(unpack(T.archive, NULL, &err), 0);
	cr_assert_eq(err->status, NVZ_E_BAD_TEMPLATE, "%s", err->msg);
	nvz_error_free(err);
	err = NULL;
	struct archive *w = arc_open(T.archive, false);
	arc_close(w);
	cr_assert_lt(unpack(T.archive, NULL, &err), 0);
	cr_assert_eq(err->status, NVZ_E_BAD_TEMPLATE, "%s", err->msg);
	nvz_error_free(err);
	err = NULL;
	char missing[160];
	path_of(missing, sizeof(missing), T.tmp, "missing.tar");
	cr_assert_lt(unpack(missing, NULL, &err), 0);
	cr_assert_eq(err->status, NVZ_E_OSTEMPLATE_NOT_FOUND);
	nvz_error_free(err);
}

Test(template, unpack_every_compression)
{
	const int filters[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_XZ,
				ARCHIVE_FILTER_ZSTD, ARCHIVE_FILTER_BZIP2 };
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct archive *w = arc_open_filter(T.archive, filters[i]);
		char name[32];
		snprintf(name, sizeof(name), "f%zu", i);
		ADD(w, .name = name, .data = "compressed");
		arc_close(w);
		expect_ok(NULL);
		char buf[32];
		read_in(name, buf, sizeof(buf));
		cr_assert_str_eq(buf, "compressed", "filter %d", filters[i]);
	}
}

Test(template, dir_fixup_never_follows_a_later_symlink)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "d/", .type = AE_IFDIR, .perm = 0777, .mtime = 12345);
	ADD(w, .name = "d", .type = AE_IFLNK, .symlink = T.outer);
	ADD(w, .name = "e/", .type = AE_IFDIR, .perm = 0777, .mtime = 12345);
	ADD(w, .name = "e", .type = AE_IFLNK, .symlink = "..");
	arc_close(w);
	struct stat before, after, rbefore, rafter;
	cr_assert_eq(stat(T.outer, &before), 0);
	cr_assert_eq(stat(T.root, &rbefore), 0);
	expect_ok(NULL);
	cr_assert_eq(stat(T.outer, &after), 0);
	cr_assert_eq(stat(T.root, &rafter), 0);
	cr_assert_eq(after.st_mode, before.st_mode, "host dir mode changed");
	cr_assert_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	cr_assert_eq(rafter.st_mode, rbefore.st_mode, "root mode changed through 'e'");
}

Test(template, file_used_as_directory_refused)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "f", .data = "x");
	ADD(w, .name = "f/x", .data = "y");
	arc_close(w);
	expect_refused("f/x");
}

Test(template, nonempty_dir_not_replaced)
{
	struct archive *w = arc_open(T.archive, false);
	ADD(w, .name = "etc/passwd", .data = "x");
	ADD(w, .name = "etc", .type = AE_IFLNK, .symlink = "/");
	arc_close(w);
	expect_refused("'etc'");
}
