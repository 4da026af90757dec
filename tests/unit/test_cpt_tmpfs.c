/* Unit tests of lib/cpt/tmpfs.c: a tree saved as nvz's tmpfs stream comes
 * back the same (types, content, owners, modes, times, hard links, extended
 * attributes; sockets left out), and a hostile stream (a dump comes from
 * the CT) creates nothing outside the directory it fills. The CT's own
 * tmpfs mounts go through this in tests/integration/test_cpt.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cpt/tmpfs.h"
#include "nvz/fs.h"

static char dir[] = "/tmp/nvz-test-tmpfs-XXXXXX";
static char src[300], dst[300], img[300];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(dst, sizeof(dst), "%s/dst", dir);
	snprintf(img, sizeof(img), "%s/img", dir);
	cr_assert_eq(mkdir(src, 0755), 0);
	cr_assert_eq(mkdir(dst, 0700), 0);
}

static void teardown(void)
{
	nvz_rm_rf(dir, NULL);
}

TestSuite(tmpfs, .init = setup, .fini = teardown);

static void at(char *buf, size_t len, const char *base, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", base, name);
	cr_assert(n > 0 && (size_t)n < len, "path too long");
}

static void make_file(const char *name, const char *data, size_t len, mode_t mode)
{
	char p[400];
	at(p, sizeof(p), src, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static int save_load(void)
{
	int out = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int tree = open(src, O_PATH | O_DIRECTORY);
	cr_assert(out >= 0 && tree >= 0);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cpt_tmpfs_save(tree, out, &err), 0, "%s", err ? err->msg : "");
	close(tree);
	int in = open(img, O_RDONLY | O_CLOEXEC);
	int to = open(dst, O_RDONLY | O_DIRECTORY);
	int r = nvz_cpt_tmpfs_load(in, to, &err);
	close(to);
	nvz_error_free(err);
	return r;
}

static void same(const char *name)
{
	char a[400], b[400];
	struct stat x, y;
	at(a, sizeof(a), src, name);
	at(b, sizeof(b), dst, name);
	cr_assert_eq(lstat(a, &x), 0, "%s", a);
	cr_assert_eq(lstat(b, &y), 0, "%s missing after load", name);
	cr_assert_eq(x.st_mode, y.st_mode, "%s: mode %o != %o", name, x.st_mode, y.st_mode);
	cr_assert_eq(x.st_uid, y.st_uid, "%s: uid", name);
	cr_assert_eq(x.st_gid, y.st_gid, "%s: gid", name);
	if (!S_ISDIR(x.st_mode))
		cr_assert_eq(x.st_size, y.st_size, "%s: size", name);
	cr_assert_eq(x.st_rdev, y.st_rdev, "%s: rdev", name);
	cr_assert_eq(x.st_mtim.tv_sec, y.st_mtim.tv_sec, "%s: mtime", name);
	cr_assert_eq(x.st_mtim.tv_nsec, y.st_mtim.tv_nsec, "%s: mtime ns", name);
}

Test(tmpfs, round_trip)
{
	static char big[300000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	char p[400], q[400];
	make_file("a.txt", "hello\n", 6, 0644);
	make_file("big", big, sizeof(big), 0600);
	make_file("suid", "#!\n", 3, 04755);
	at(p, sizeof(p), src, "a.txt");
	cr_assert_eq(chown(p, 12, 34), 0);
	/* A user xattr where the file system takes one (tmpfs since 6.6, ext4). */
	bool xa = setxattr(p, "user.nvz", "kept", 4, 0) == 0;
	at(p, sizeof(p), src, "sub");
	cr_assert_eq(mkdir(p, 0750), 0);
	at(p, sizeof(p), src, "sub/deep");
	cr_assert_eq(mkdir(p, 01777), 0);
	make_file("sub/deep/f", "deep", 4, 0600);
	at(p, sizeof(p), src, "a.txt");
	at(q, sizeof(q), src, "sub/hard");
	cr_assert_eq(link(p, q), 0);
	at(p, sizeof(p), src, "sub/sym");
	cr_assert_eq(symlink("../a.txt", p), 0);
	at(p, sizeof(p), src, "fifo");
	cr_assert_eq(mkfifo(p, 0620), 0);
	at(p, sizeof(p), src, "null");
	cr_assert_eq(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	cr_assert_eq(chown(p, 5, 6), 0);
	/* A sparse file (an shm segment ftruncate'd large): its holes stay out of
	 * the image and come back as holes. */
	at(p, sizeof(p), src, "sparse");
	int sp = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(sp >= 0 && ftruncate(sp, 64 << 20) == 0);
	cr_assert_eq(pwrite(sp, "middle", 6, 10 << 20), 6);
	close(sp);
	/* A socket: not carried (criu binds the sockets it restores). */
	int sk = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	at(sa.sun_path, sizeof(sa.sun_path), src, "sock");
	cr_assert_eq(bind(sk, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sk);
	/* Times as set, for directories too (set after their entries). */
	struct timespec t[2] = { { 981173106, 5 }, { 981173106, 123456789 } };
	at(p, sizeof(p), src, "big");
	cr_assert_eq(utimensat(AT_FDCWD, p, t, 0), 0);
	at(p, sizeof(p), src, "sub");
	cr_assert_eq(utimensat(AT_FDCWD, p, t, 0), 0);

	cr_assert_eq(save_load(), 0);
	static const char *const names[] = { "a.txt", "big", "suid", "sub", "sub/deep", "sub/deep/f",
					     "sub/hard", "sub/sym", "fifo", "null", "sparse" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		same(names[i]);
	struct stat x, y;
	at(p, sizeof(p), dst, "a.txt");
	at(q, sizeof(q), dst, "sub/hard");
	cr_assert(stat(p, &x) == 0 && stat(q, &y) == 0 && x.st_ino == y.st_ino, "hard link lost");
	at(p, sizeof(p), dst, "sock");
	cr_assert_neq(access(p, F_OK), 0, "a socket was carried");
	char buf[16] = "";
	at(p, sizeof(p), dst, "sub/sym");
	cr_assert_eq(readlink(p, buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "../a.txt");
	if (xa) {
		at(p, sizeof(p), dst, "a.txt");
		memset(buf, 0, sizeof(buf));
		cr_assert_eq(getxattr(p, "user.nvz", buf, sizeof(buf)), 4);
		cr_assert_str_eq(buf, "kept");
	}
	struct stat is;
	cr_assert_eq(stat(img, &is), 0);
	cr_assert_lt(is.st_size, 1 << 20, "holes written into the image: %lld bytes", (long long)is.st_size);
	at(p, sizeof(p), dst, "sparse");
	cr_assert(stat(p, &x) == 0 && x.st_blocks < 1024, "holes filled: %lld blocks", (long long)x.st_blocks);
	int sfd = open(p, O_RDONLY);
	cr_assert_eq(pread(sfd, buf, 6, 10 << 20), 6);
	close(sfd);
	cr_assert_eq(memcmp(buf, "middle", 6), 0);
	static char back[sizeof(big)];
	at(p, sizeof(p), dst, "big");
	int fd = open(p, O_RDONLY);
	cr_assert_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	close(fd);
	cr_assert_eq(memcmp(back, big, sizeof(big)), 0, "content of big differs");
}


static void rec(FILE *f, uint32_t type, mode_t mode, const char *name, const char *data)
{
	struct nvz_tmpfs_rec r = { .type = type, .mode = mode, .namelen = (uint32_t)strlen(name),
			 .size = data ? strlen(data) : 0 };
	fwrite(&r, sizeof(r), 1, f);
	fwrite(name, 1, strlen(name), f);
	if (data)
		fwrite(data, 1, strlen(data), f);
}

static int load_crafted(void (*craft)(FILE *))
{
	FILE *f = fopen(img, "we");
	fputs("NVZTMPFS1\n", f);
	rec(f, NVZ_TMPFS_DIR, S_IFDIR | 0755, "", NULL);
	craft(f);
	rec(f, NVZ_TMPFS_END, S_IFDIR | 0755, "", NULL);
	fclose(f);
	int in = open(img, O_RDONLY | O_CLOEXEC);
	int to = open(dst, O_RDONLY | O_DIRECTORY);
	struct nvz_error *err = NULL;
	int r = nvz_cpt_tmpfs_load(in, to, &err);
	close(to);
	nvz_error_free(err);
	return r;
}

static void dotdot(FILE *f)
{
	rec(f, NVZ_TMPFS_FILE, S_IFREG | 0644, "../escaped", "x");
}

static void slash(FILE *f)
{
	rec(f, NVZ_TMPFS_FILE, S_IFREG | 0644, "a/escaped", "x");
}

/* A symlink to the outside, then a directory of the same name to write
 * through it. */
static void through_symlink(FILE *f)
{
	rec(f, NVZ_TMPFS_LNK, S_IFLNK | 0777, "x", dir);
	rec(f, NVZ_TMPFS_DIR, S_IFDIR | 0755, "x", NULL);
	rec(f, NVZ_TMPFS_FILE, S_IFREG | 0644, "escaped", "x");
	rec(f, NVZ_TMPFS_END, S_IFDIR | 0755, "", NULL);
}

static void bad_link(FILE *f)
{
	struct nvz_tmpfs_rec r = { .type = NVZ_TMPFS_HARD, .mode = S_IFREG | 0644, .namelen = 1, .link_id = 7 };
	fwrite(&r, sizeof(r), 1, f);
	fputc('h', f);
}

Test(tmpfs, hostile_streams_stay_inside)
{
	void (*crafts[])(FILE *) = { dotdot, slash, through_symlink, bad_link };
	char p[400];
	for (size_t i = 0; i < sizeof(crafts) / sizeof(crafts[0]); i++) {
		cr_assert_lt(load_crafted(crafts[i]), 0, "crafted stream %zu was loaded", i);
		at(p, sizeof(p), dir, "escaped");
		cr_assert_neq(access(p, F_OK), 0, "stream %zu wrote outside", i);
		nvz_rm_rf(dst, NULL);
		cr_assert_eq(mkdir(dst, 0700), 0);
	}
	/* And a truncated one. */
	FILE *f = fopen(img, "we");
	fputs("NVZTMPFS1\n", f);
	rec(f, NVZ_TMPFS_DIR, S_IFDIR | 0755, "", NULL);
	rec(f, NVZ_TMPFS_FILE, S_IFREG | 0644, "short", NULL);
	fclose(f);
	cr_assert_eq(truncate(img, 10 + 2 * (long)sizeof(struct nvz_tmpfs_rec) - 3), 0);
	int in = open(img, O_RDONLY | O_CLOEXEC);
	int to = open(dst, O_RDONLY | O_DIRECTORY);
	cr_assert_lt(nvz_cpt_tmpfs_load(in, to, NULL), 0);
	close(to);
}
