/* Unit tests of lib/core/fs.c: in-root resolution against a hostile CT tree,
 * atomic replace, recursive removal, mount points and per-CT locks.
 * Every link the "container" plants points at a sentinel directory this test
 * owns, outside the CT root: an escape lands there and is detected, and never
 * touches a real host path. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvz/error.h"
#include "nvz/fs.h"

static char base[] = "/tmp/nvz-test-fs-XXXXXX";
static char root[PATH_MAX], sentinel[PATH_MAX];
static int rootfd = -1;

static const char sentinel_hosts[] = "SENTINEL hosts\n";
static const char sentinel_passwd[] = "SENTINEL passwd\n";
static const char sentinel_deep[] = "SENTINEL deep\n";

/* ---- helpers ---------------------------------------------------------- */

/* printf into one of a small ring of buffers, so a test can hold a few paths. */
__attribute__((format(printf, 1, 2))) static const char *P(const char *fmt, ...)
{
	static char ring[32][PATH_MAX * 2];
	static unsigned next;
	char *b = ring[next++ % 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return b;
}

static bool put_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return false;
	size_t n = strlen(s);
	bool ok = write(fd, s, n) == (ssize_t)n && fchmod(fd, mode) == 0;
	close(fd);
	return ok;
}

/* Whole file (not following a final symlink) or NULL. */
static char *get_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	ssize_t n = buf ? read(fd, buf, (1 << 16) - 1) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void xwrite(const char *path, const char *s, mode_t mode)
{
	cr_assert(put_file(path, s, mode), "write %s: %s", path, strerror(errno));
}

static void xmkdir(const char *path)
{
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", path);
}

static void xmkdir_p(const char *path)
{
	char buf[PATH_MAX * 2];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			xmkdir(buf);
			*s = '/';
		}
	xmkdir(buf);
}

static void xsymlink(const char *target, const char *link)
{
	cr_assert_eq(symlink(target, link), 0, "symlink %s -> %s: %m", link, target);
}

static void assert_file_eq(const char *path, const char *want)
{
	char *got = get_file(path);
	cr_assert_not_null(got, "read %s: %m", path);
	cr_assert_str_eq(got, want, "%s", path);
	free(got);
}

static void assert_mode(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s: %m", path);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o, want %o", path, st.st_mode & 07777,
		     mode);
	cr_assert(st.st_uid == uid && st.st_gid == gid, "%s: owner %d:%d, want %d:%d", path,
		  (int)st.st_uid, (int)st.st_gid, (int)uid, (int)gid);
}

static bool is_type(const char *path, mode_t type)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Entries of dir whose name starts with prefix ("" for all but . and ..). */
static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += !strncmp(de->d_name, prefix, strlen(prefix)) && strcmp(de->d_name, ".") &&
		     strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Leftovers of nvz_write_in_root in dir. */
static int count_tmp(const char *dir)
{
	return count_entries(dir, ".nvz-tmp");
}

/* NULL if the sentinel holds exactly what setup put there. Usable from a
 * forked child, where Criterion's asserts must not be called. */
static const char *sentinel_problem(void)
{
	const char *files[][2] = {
		{"hosts", sentinel_hosts}, {"passwd", sentinel_passwd}, {"sub/deep", sentinel_deep}};
	for (size_t i = 0; i < 3; i++) {
		const char *path = P("%s/%s", sentinel, files[i][0]);
		char *got = get_file(path);
		bool same = got && !strcmp(got, files[i][1]) && is_type(path, S_IFREG);
		free(got);
		if (!same)
			return P("sentinel file %s was modified or removed", files[i][0]);
	}
	if (count_entries(sentinel, "") != 3 || count_entries(P("%s/sub", sentinel), "") != 1)
		return "entries appeared in or vanished from the sentinel";
	return NULL;
}

static void assert_sentinel_intact(void)
{
	const char *m = sentinel_problem();
	cr_assert_null(m, "%s", m);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(path, 0700);
	remove(path);
	return 0;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
	xmkdir(root);
	xmkdir(sentinel);
	xmkdir(P("%s/sub", sentinel));
	xwrite(P("%s/hosts", sentinel), sentinel_hosts, 0644);
	xwrite(P("%s/passwd", sentinel), sentinel_passwd, 0644);
	xwrite(P("%s/sub/deep", sentinel), sentinel_deep, 0644);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rootfd, 0);
}

static void teardown(void)
{
	if (rootfd >= 0)
		close(rootfd);
	/* FTW_MOUNT: never descend into a mount a failed test might have left. */
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The sentinel's absolute path recreated inside the root: in-root resolution
 * of a link to the sentinel lands here. */
static const char *make_mirror(void)
{
	const char *m = P("%s%s", root, sentinel);
	xmkdir_p(m);
	return m;
}

/* ---- forked children -------------------------------------------------- */

typedef const char *(*child_fn)(void);

static char child_msg[1024];
#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond))                                                     \
			return snprintf(child_msg, sizeof(child_msg), __VA_ARGS__), \
			       child_msg;                                        \
	} while (0)

/* Run fn in a forked child (optionally in a private mount namespace, so its
 * mounts vanish with it and never reach the host) and assert it reported
 * success within timeout_s. The child only reports; the test asserts. */
static void run_child(child_fn fn, bool mntns, unsigned timeout_s)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(timeout_s); /* SIGALRM ends a child that hangs */
		const char *msg = NULL;
		if (mntns && unshare(CLONE_NEWNS) < 0)
			msg = "unshare(CLONE_NEWNS) failed";
		/* Private propagation: nothing mounted below reaches the host. */
		else if (mntns && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			msg = "making / private failed";
		else
			msg = fn();
		if (msg && write(p[1], msg, strlen(msg)) < 0)
			_exit(2);
		_exit(msg ? 1 : 0);
	}
	close(p[1]);
	char buf[1024] = "";
	ssize_t len = read(p[0], buf, sizeof(buf) - 1); /* one write: atomic on a pipe */
	close(p[0]);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_not(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM,
		      "child hung for %u s", timeout_s);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %s",
		  len > 0 ? buf : "(no message, crashed?)");
}

/* ---- in-root resolution ----------------------------------------------- */

/* Expect nvz_write_in_root to fail with an error set; returns its errno. */
static int write_fails(int dirfd, const char *path)
{
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_write_in_root(dirfd, path, "PWNED\n", 6, 0644, &err), 0, "wrote '%s'",
		     path);
	cr_assert_not_null(err, "'%s': no error", path);
	cr_assert_eq(err->status, NVZ_E_SYSTEM, "'%s': status %d", path, err->status);
	int code = err->code;
	nvz_error_free(err);
	return code;
}

static void write_ok(int dirfd, const char *path, const char *data, mode_t mode)
{
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_write_in_root(dirfd, path, data, strlen(data), mode, &err), 0,
		     "write '%s': %s", path, err ? err->msg : "");
}

static void read_fails(int dirfd, const char *path)
{
	struct nvz_error *err = NULL;
	char *out = NULL;
	cr_assert_lt(nvz_read_in_root(dirfd, path, 4096, &out, &err), 0, "read '%s'", path);
	cr_assert_null(out);
	cr_assert_not_null(err);
	nvz_error_free(err);
}

/* Expect nvz_open_in_root to fail with errno want. */
static void open_fails(int dirfd, const char *path, int flags, int want)
{
	int fd = nvz_open_in_root(dirfd, path, flags, 0644);
	cr_assert_lt(fd, 0, "opened '%s'", path);
	cr_assert_eq(errno, want, "'%s': %s, expected %s", path, strerror(errno), strerror(want));
}

TestSuite(in_root, .init = setup, .fini = teardown);

Test(in_root, absolute_dir_link_does_not_escape)
{
	xsymlink(sentinel, P("%s/etc", root)); /* etc -> /tmp/.../sentinel */
	open_fails(rootfd, "/etc/hosts", O_RDONLY, ENOENT);
	open_fails(rootfd, "etc/evil", O_WRONLY | O_CREAT | O_EXCL, ENOENT);
	write_fails(rootfd, "/etc/hosts");
	write_fails(rootfd, "/etc/pwned");
	read_fails(rootfd, "/etc/passwd");
	assert_sentinel_intact();
}

Test(in_root, absolute_dir_link_lands_inside_root)
{
	const char *mirror = make_mirror();
	xsymlink(sentinel, P("%s/etc", root));
	write_ok(rootfd, "/etc/hosts", "inside\n", 0644);
	assert_file_eq(P("%s/hosts", mirror), "inside\n");

	char *out = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_read_in_root(rootfd, "etc/hosts", 4096, &out, &err), 7);
	cr_assert_str_eq(out, "inside\n");
	free(out);

	int fd = nvz_open_in_root(rootfd, "/etc/hosts", O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	struct stat a, b;
	cr_assert_eq(fstat(fd, &a), 0);
	cr_assert_eq(stat(P("%s/hosts", mirror), &b), 0);
	cr_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	cr_assert_eq(count_tmp(mirror), 0);
	assert_sentinel_intact();
}

Test(in_root, final_symlink_is_replaced_not_followed)
{
	xmkdir(P("%s/etc", root));
	xsymlink(P("%s/hosts", sentinel), P("%s/etc/hosts", root));
	/* From root/etc, ../../sentinel is the real sentinel for a naive walk. */
	xsymlink("../../sentinel/passwd", P("%s/etc/passwd", root));
	read_fails(rootfd, "/etc/hosts");
	read_fails(rootfd, "/etc/passwd");

	write_ok(rootfd, "/etc/hosts", "new hosts\n", 0644);
	write_ok(rootfd, "etc/passwd", "new passwd\n", 0600);
	cr_assert(is_type(P("%s/etc/hosts", root), S_IFREG), "hosts is still a symlink");
	cr_assert(is_type(P("%s/etc/passwd", root), S_IFREG), "passwd is still a symlink");
	assert_file_eq(P("%s/etc/hosts", root), "new hosts\n");
	assert_file_eq(P("%s/etc/passwd", root), "new passwd\n");
	assert_mode(P("%s/etc/passwd", root), 0600, 0, 0); /* a replaced symlink: as requested */
	cr_assert_eq(count_tmp(P("%s/etc", root)), 0);
	assert_sentinel_intact();
}

Test(in_root, relative_dotdot_chain_stays_inside)
{
	xmkdir_p(P("%s/a/b/c", root));
	/* Far more ".." than the depth: a naive walk ends at the host's "/". */
	xsymlink("../../../../../../../../../..", P("%s/a/b/c/up", root));
	char via[PATH_MAX * 2];
	snprintf(via, sizeof(via), "a/b/c/up%s", sentinel);
	open_fails(rootfd, P("%s/hosts", via), O_RDONLY, ENOENT);
	write_fails(rootfd, P("%s/pwned", via));
	/* Plain ../ in the path itself is clamped at the root too. */
	write_fails(rootfd, P("../../../..%s/pwned", sentinel));
	assert_sentinel_intact();

	const char *mirror = make_mirror();
	write_ok(rootfd, P("%s/pwned", via), "in\n", 0644);
	assert_file_eq(P("%s/pwned", mirror), "in\n");
	write_ok(rootfd, P("../../..%s/p2", sentinel), "in\n", 0644);
	assert_file_eq(P("%s/p2", mirror), "in\n");
	assert_sentinel_intact();
}

Test(in_root, symlink_loops_fail_or_get_replaced)
{
	xsymlink("loop2", P("%s/loop1", root));
	xsymlink("/loop1", P("%s/loop2", root));
	xsymlink("self", P("%s/self", root));
	open_fails(rootfd, "loop1", O_RDONLY, ELOOP);
	open_fails(rootfd, "/self/x", O_RDONLY, ELOOP);
	read_fails(rootfd, "self");
	write_fails(rootfd, "loop1/x");
	/* The loop at the target itself is just a symlink to replace. */
	write_ok(rootfd, "/loop1", "ok\n", 0644);
	cr_assert(is_type(P("%s/loop1", root), S_IFREG));
	cr_assert(is_type(P("%s/loop2", root), S_IFLNK));
	cr_assert_eq(count_tmp(root), 0);
	assert_sentinel_intact();
}

Test(in_root, proc_magic_links_refused)
{
	/* A dirfd on /proc/self: "root" and "fd/N" are magic links to the host.
	 * RESOLVE_NO_MAGICLINKS gives ELOOP (RESOLVE_IN_ROOT alone gives EXDEV). */
	int procfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(procfd, 0);
	int sfd = open(sentinel, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(sfd, 0);
	open_fails(procfd, P("root%s/hosts", sentinel), O_RDONLY, ELOOP);
	open_fails(procfd, P("fd/%d/hosts", sfd), O_RDONLY, ELOOP);
	write_fails(procfd, P("root%s/pwned", sentinel));
	write_fails(procfd, P("fd/%d/pwned", sfd));
	read_fails(procfd, P("fd/%d/hosts", sfd));
	close(sfd);
	close(procfd);
	assert_sentinel_intact();
}

/* In a CT root whose /proc is a real procfs: x -> /proc/self/root. */
static const char *magic_in_ct_root(void)
{
	CHECK(mkdir(P("%s/proc", root), 0555) == 0, "mkdir proc: %m");
	CHECK(mount("/proc", P("%s/proc", root), NULL, MS_BIND | MS_REC, NULL) == 0,
	      "bind /proc: %m");
	CHECK(symlink("/proc/self/root", P("%s/x", root)) == 0, "symlink: %m");
	int sfd = open(sentinel, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(sfd >= 0, "open sentinel: %m");
	CHECK(symlink(P("/proc/self/fd/%d", sfd), P("%s/y", root)) == 0, "symlink: %m");
	/* Reopen: the fd from before unshare walks the old namespace's mounts. */
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rfd >= 0, "open root: %m");

	int fd = nvz_open_in_root(rfd, P("x%s/hosts", sentinel), O_RDONLY, 0);
	CHECK(fd < 0, "opened the sentinel through x -> /proc/self/root");
	CHECK(errno == ELOOP, "x: expected ELOOP, got %s", strerror(errno));
	fd = nvz_open_in_root(rfd, P("/proc/self/root%s/hosts", sentinel), O_RDONLY, 0);
	CHECK(fd < 0 && errno == ELOOP, "/proc/self/root: fd %d, %s", fd, strerror(errno));
	fd = nvz_open_in_root(rfd, "y/hosts", O_RDONLY, 0);
	CHECK(fd < 0 && errno == ELOOP, "y -> /proc/self/fd/N: fd %d, %s", fd, strerror(errno));
	struct nvz_error *err = NULL;
	CHECK(nvz_write_in_root(rfd, P("x%s/pwned", sentinel), "x", 1, 0644, &err) < 0,
	      "wrote through x");
	nvz_error_clear(&err);
	CHECK(nvz_write_in_root(rfd, "y/pwned", "x", 1, 0644, &err) < 0, "wrote through y");
	nvz_error_clear(&err);
	char *out = NULL;
	CHECK(nvz_read_in_root(rfd, "y/hosts", 4096, &out, &err) < 0, "read through y");
	CHECK(nvz_read_in_root(rfd, "/proc/self/root/etc/hostname", 4096, &out, NULL) < 0,
	      "read the host's /etc/hostname through /proc/self/root");
	return sentinel_problem();
}

Test(in_root, proc_magic_link_in_ct_root)
{
	run_child(magic_in_ct_root, true, 10);
	assert_sentinel_intact();
}

Test(in_root, directory_replaced_by_a_file)
{
	xwrite(P("%s/etc", root), "not a dir\n", 0644);
	open_fails(rootfd, "/etc/hosts", O_RDONLY, ENOTDIR);
	cr_assert_eq(write_fails(rootfd, "/etc/hosts"), ENOTDIR);
	read_fails(rootfd, "/etc/hosts");
	assert_file_eq(P("%s/etc", root), "not a dir\n");
	cr_assert_eq(count_tmp(root), 0);
}

Test(in_root, target_that_is_a_directory_is_not_replaced)
{
	xmkdir_p(P("%s/etc/hosts", root));
	xwrite(P("%s/etc/hosts/keep", root), "keep\n", 0644);
	write_fails(rootfd, "/etc/hosts");
	assert_file_eq(P("%s/etc/hosts/keep", root), "keep\n");
	cr_assert_eq(count_tmp(P("%s/etc", root)), 0, "temp file left after a failed rename");
}

Test(in_root, bad_paths_refused)
{
	const char *bad[] = {"", "/", "etc/", "etc/..", "etc/.", ".", ".."};
	xmkdir(P("%s/etc", root));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		write_fails(rootfd, bad[i]);
	cr_assert_eq(count_tmp(root), 0);
	cr_assert_eq(count_tmp(P("%s/etc", root)), 0);
}

Test(in_root, replace_keeps_owner_and_mode)
{
	xmkdir(P("%s/etc", root));
	const char *shadow = P("%s/etc/shadow", root);
	xwrite(shadow, "old\n", 0640);
	cr_assert_eq(chown(shadow, 42, 42), 0);
	cr_assert_eq(chmod(shadow, 0640), 0);
	struct stat before, after;
	cr_assert_eq(stat(shadow, &before), 0);
	write_ok(rootfd, "/etc/shadow", "new\n", 0600);
	cr_assert_eq(stat(shadow, &after), 0);
	assert_file_eq(shadow, "new\n");
	assert_mode(shadow, 0640, 42, 42);
	cr_assert_neq(after.st_ino, before.st_ino, "not replaced atomically (same inode)");

	/* setgid survives: chown (which clears it) must come before chmod. */
	const char *tool = P("%s/etc/tool", root);
	xwrite(tool, "old\n", 0755);
	cr_assert_eq(chown(tool, 0, 42), 0);
	cr_assert_eq(chmod(tool, 02750), 0);
	write_ok(rootfd, "etc/tool", "new\n", 0644);
	assert_mode(tool, 02750, 0, 42);
	cr_assert_eq(count_tmp(P("%s/etc", root)), 0);
}

Test(in_root, new_file_gets_requested_mode)
{
	write_ok(rootfd, "/a", "a", 0600);
	write_ok(rootfd, "/b", "b", 0644);
	assert_mode(P("%s/a", root), 0600, 0, 0);
	assert_mode(P("%s/b", root), 0644, 0, 0);
	assert_file_eq(P("%s/a", root), "a");
	cr_assert_eq(count_tmp(root), 0);
}

Test(in_root, hardlink_to_outside_file_is_not_written_through)
{
	xmkdir(P("%s/etc", root));
	cr_assert_eq(link(P("%s/hosts", sentinel), P("%s/etc/hosts", root)), 0, "link: %m");
	write_ok(rootfd, "/etc/hosts", "ct\n", 0644);
	assert_file_eq(P("%s/etc/hosts", root), "ct\n");
	struct stat st;
	cr_assert_eq(stat(P("%s/hosts", sentinel), &st), 0);
	cr_assert_eq(st.st_nlink, 1);
	assert_sentinel_intact();
}

Test(in_root, planted_temp_name_is_not_followed)
{
	xmkdir(P("%s/etc", root));
	/* The temp name is predictable; a CT can pre-create it as a symlink. */
	xsymlink(P("%s/hosts", sentinel), P("%s/etc/.nvz-tmp.%d", root, (int)getpid()));
	xsymlink("../../sentinel/passwd", P("%s/.nvz-tmp.%d", root, (int)getpid()));
	write_ok(rootfd, "/etc/hostname", "ct\n", 0644);
	write_ok(rootfd, "/hostname", "ct\n", 0644);
	assert_file_eq(P("%s/etc/hostname", root), "ct\n");
	assert_file_eq(P("%s/hostname", root), "ct\n");
	cr_assert_eq(count_tmp(P("%s/etc", root)), 0);
	cr_assert_eq(count_tmp(root), 0);
	assert_sentinel_intact();
}

/* A write that fails half-way (ENOSPC) leaves the old file and no temp. */
static const char *enospc_child(void)
{
	const char *small = P("%s/small", root);
	CHECK(mkdir(small, 0755) == 0, "mkdir: %m");
	CHECK(mount("tmpfs", small, "tmpfs", 0, "size=64k") == 0, "mount tmpfs: %m");
	CHECK(put_file(P("%s/f", small), "old\n", 0644), "write old: %m");
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rfd >= 0, "open root: %m");
	size_t len = 4 << 20;
	char *big = malloc(len);
	CHECK(big, "malloc");
	memset(big, 'x', len);
	struct nvz_error *err = NULL;
	CHECK(nvz_write_in_root(rfd, "small/f", big, len, 0644, &err) < 0, "4 MiB fit in 64k?");
	CHECK(err && err->code == ENOSPC, "expected ENOSPC, got %s", err ? err->msg : "no err");
	char *old = get_file(P("%s/f", small));
	CHECK(old && !strcmp(old, "old\n"), "old file damaged: '%s'", old ? old : "(gone)");
	CHECK(count_tmp(small) == 0, "temp file left after ENOSPC");
	return NULL;
}

Test(in_root, failed_write_leaves_old_file_and_no_temp)
{
	run_child(enospc_child, true, 20);
}

static void read_eq(const char *path, size_t max, const char *want)
{
	struct nvz_error *err = NULL;
	char *out = NULL;
	int r = nvz_read_in_root(rootfd, path, max, &out, &err);
	cr_assert_eq(r, (int)strlen(want), "read '%s' max %zu: %d %s", path, max, r,
		     err ? err->msg : "");
	cr_assert_str_eq(out, want);
	free(out);
}

Test(in_root, read_honours_max)
{
	char data[101];
	for (int i = 0; i < 100; i++)
		data[i] = (char)('a' + i % 26);
	data[100] = '\0';
	xwrite(P("%s/f", root), data, 0644);
	xwrite(P("%s/empty", root), "", 0644);
	read_eq("/f", 10, "abcdefghij");
	read_eq("f", 100, data);
	read_eq("f", 1 << 20, data);
	read_eq("f", 0, "");
	read_eq("empty", 100, "");
	struct nvz_error *err = NULL;
	char *out = NULL;
	cr_assert_lt(nvz_read_in_root(rootfd, "missing", 100, &out, &err), 0);
	cr_assert_eq(err->code, ENOENT);
	nvz_error_free(err);
}

Test(in_root, read_refuses_non_regular_files)
{
	xmkdir(P("%s/dir", root));
	xsymlink("/dir", P("%s/dirlink", root));
	cr_assert_eq(mknod(P("%s/null", root), S_IFCHR | 0666, makedev(1, 3)), 0, "mknod: %m");
	read_fails(rootfd, "/dir");
	read_fails(rootfd, "dirlink");
	read_fails(rootfd, "/");
	read_fails(rootfd, "null");
}

static const char *read_fifo_child(void)
{
	struct nvz_error *err = NULL;
	char *out = NULL;
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(nvz_read_in_root(rfd, "/etc/fifo", 100, &out, &err) < 0, "read a FIFO");
	return NULL;
}

Test(in_root, read_refuses_fifo_without_hanging)
{
	/* A CT can plant a FIFO where the host expects /etc/hosts: opening it
	 * for reading must not block the command (and its CT lock) forever. */
	xmkdir(P("%s/etc", root));
	cr_assert_eq(mkfifo(P("%s/etc/fifo", root), 0644), 0);
	run_child(read_fifo_child, false, 2);
}

/* ---- nvz_mkdir_p ------------------------------------------------------ */

TestSuite(mkdir_p, .init = setup, .fini = teardown);

Test(mkdir_p, nested_and_existing)
{
	struct nvz_error *err = NULL;
	const char *deep = P("%s/a/b/c/d", base);
	cr_assert_eq(nvz_mkdir_p(deep, 0755, &err), 0, "%s", err ? err->msg : "");
	cr_assert(is_type(deep, S_IFDIR));
	cr_assert(is_type(P("%s/a/b", base), S_IFDIR));
	cr_assert_eq(nvz_mkdir_p(deep, 0755, &err), 0, "existing path");
	cr_assert_eq(nvz_mkdir_p(P("%s/a/b/", base), 0755, &err), 0, "trailing slash");
	cr_assert_eq(nvz_mkdir_p(base, 0755, &err), 0);
	cr_assert_eq(nvz_mkdir_p(P("%s/a/x/y/", base), 0755, &err), 0);
	cr_assert(is_type(P("%s/a/x/y", base), S_IFDIR));
	cr_assert_null(err);
}

Test(mkdir_p, through_a_file_fails)
{
	xwrite(P("%s/file", base), "f\n", 0644);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_mkdir_p(P("%s/file/sub/x", base), 0755, &err), 0);
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_CANT_CREATE_DIR);
	cr_assert_eq(err->code, ENOTDIR);
	cr_assert_not_null(strstr(err->msg, "file/sub"), "%s", err->msg);
	nvz_error_free(err);
	assert_file_eq(P("%s/file", base), "f\n");
}

Test(mkdir_p, existing_file_as_last_component_fails)
{
	/* Like mkdir -p: a non-directory where the directory should be is an error. */
	xwrite(P("%s/file", base), "f\n", 0644);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_mkdir_p(P("%s/file", base), 0755, &err), 0,
		     "nvz_mkdir_p succeeded although the path is a regular file");
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_CANT_CREATE_DIR);
	nvz_error_free(err);
}

/* ---- nvz_rm_rf_at / nvz_rm_rf / nvz_is_mountpoint --------------------- */

TestSuite(rm_rf, .init = setup, .fini = teardown);

static void build_hostile_tree(const char *where)
{
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s", where);
	xmkdir_p(P("%s/a/b/c", t));
	xmkdir_p(P("%s/empty", t));
	xwrite(P("%s/a/b/c/file", t), "f\n", 0644);
	xsymlink(sentinel, P("%s/link_dir", t));
	xsymlink(P("%s/hosts", sentinel), P("%s/link_file", t));
	xsymlink("../sentinel", P("%s/rel", t));
	xsymlink("../../../sentinel", P("%s/a/b/up", t));
	xsymlink("/nonexistent-nvz-test", P("%s/dangling", t));
	xsymlink("loop", P("%s/a/loop", t));
	cr_assert_eq(link(P("%s/passwd", sentinel), P("%s/a/hard", t)), 0);
	cr_assert_eq(mkfifo(P("%s/a/fifo", t), 0600), 0);
	xmkdir(P("%s/locked", t));
	xwrite(P("%s/locked/f", t), "f\n", 0644);
	cr_assert_eq(chmod(P("%s/locked", t), 0), 0);
}

Test(rm_rf, removes_tree_without_following_links)
{
	build_hostile_tree(P("%s/tree", base));
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(bfd, 0);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_rm_rf_at(bfd, "tree", &err), 0, "%s", err ? err->msg : "");
	cr_assert_not(nvz_path_exists(P("%s/tree", base)));
	assert_sentinel_intact();
	struct stat st;
	cr_assert_eq(stat(P("%s/passwd", sentinel), &st), 0);
	cr_assert_eq(st.st_nlink, 1);

	/* Missing is success; a top-level symlink is removed, not its target. */
	cr_assert_eq(nvz_rm_rf_at(bfd, "tree", &err), 0);
	xsymlink(sentinel, P("%s/top", base));
	cr_assert_eq(nvz_rm_rf_at(bfd, "top", &err), 0);
	cr_assert_not(nvz_path_exists(P("%s/top", base)));
	close(bfd);

	build_hostile_tree(P("%s/tree2", base));
	cr_assert_eq(nvz_rm_rf(P("%s/tree2", base), &err), 0, "%s", err ? err->msg : "");
	cr_assert_not(nvz_path_exists(P("%s/tree2", base)));
	cr_assert_eq(nvz_rm_rf(P("%s/never/was", base), &err), 0);
	cr_assert_null(err);
	assert_sentinel_intact();
}

static const char *rm_tmpfs_child(void)
{
	const char *mnt = P("%s/tree/a/mnt", base);
	CHECK(mount("tmpfs", mnt, "tmpfs", 0, "size=1m") == 0, "mount tmpfs: %m");
	CHECK(put_file(P("%s/keep", mnt), "keep\n", 0644), "write keep: %m");
	CHECK(nvz_is_mountpoint(mnt), "tmpfs not seen as a mount point");
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(bfd >= 0, "open base: %m");
	struct nvz_error *err = NULL;
	CHECK(nvz_rm_rf_at(bfd, "tree", &err) < 0, "removed a tree holding a mount");
	CHECK(err && err->code == EBUSY, "expected EBUSY, got %s", err ? err->msg : "no err");
	CHECK(err->status == NVZ_E_DELETE, "status %d", err->status);
	nvz_error_clear(&err);
	char *keep = get_file(P("%s/keep", mnt));
	CHECK(keep && !strcmp(keep, "keep\n"), "tmpfs content was removed");
	/* The mount point itself as the name. */
	int afd = open(P("%s/tree/a", base), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(nvz_rm_rf_at(afd, "mnt", &err) < 0 && err && err->code == EBUSY,
	      "mount point as the name: %s", err ? err->msg : "removed");
	nvz_error_clear(&err);
	keep = get_file(P("%s/keep", mnt));
	CHECK(keep && !strcmp(keep, "keep\n"), "tmpfs content was removed");
	return NULL;
}

Test(rm_rf, refuses_to_descend_into_tmpfs_mount)
{
	xmkdir_p(P("%s/tree/a/mnt", base));
	xwrite(P("%s/tree/a/file", base), "f\n", 0644);
	run_child(rm_tmpfs_child, true, 10);
}

static const char *rm_bind_child(void)
{
	const char *mnt = P("%s/tree/a/bind", base);
	/* Same filesystem as the tree: st_dev alone cannot see this mount. */
	CHECK(mount(sentinel, mnt, NULL, MS_BIND, NULL) == 0, "bind: %m");
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(bfd >= 0, "open base: %m");
	struct nvz_error *err = NULL;
	int r = nvz_rm_rf_at(bfd, "tree", &err);
	const char *m = sentinel_problem();
	CHECK(!m, "rm_rf crossed into a bind mount: %s (rm_rf returned %d: %s)", m, r,
	      err ? err->msg : "");
	CHECK(r < 0 && err && err->code == EBUSY, "expected EBUSY, got %s",
	      err ? err->msg : "success");
	return NULL;
}

Test(rm_rf, refuses_to_descend_into_bind_mount)
{
	xmkdir_p(P("%s/tree/a/bind", base));
	run_child(rm_bind_child, true, 10);
	assert_sentinel_intact();
}

static const char *mountpoint_child(void)
{
	CHECK(mount("tmpfs", P("%s/m1", base), "tmpfs", 0, "size=1m") == 0, "tmpfs: %m");
	CHECK(mount(sentinel, P("%s/m2", base), NULL, MS_BIND, NULL) == 0, "bind: %m");
	CHECK(nvz_is_mountpoint(P("%s/m1", base)), "tmpfs");
	CHECK(nvz_is_mountpoint(P("%s/m2", base)), "bind mount of the same filesystem");
	CHECK(!nvz_is_mountpoint(P("%s/plain", base)), "plain dir");
	CHECK(!nvz_is_mountpoint(P("%s/m2/sub", base)), "dir inside a bind mount");
	return NULL;
}

Test(rm_rf, is_mountpoint)
{
	xmkdir(P("%s/m1", base));
	xmkdir(P("%s/m2", base));
	xmkdir(P("%s/plain", base));
	xwrite(P("%s/file", base), "f\n", 0644);
	run_child(mountpoint_child, true, 10);
	cr_assert_not(nvz_is_mountpoint(P("%s/m1", base)), "mount leaked out of the child");
	cr_assert_not(nvz_is_mountpoint(P("%s/plain", base)));
	cr_assert_not(nvz_is_mountpoint(P("%s/file", base)));
	cr_assert_not(nvz_is_mountpoint(P("%s/missing", base)));
	cr_assert(nvz_is_mountpoint("/proc"));
}

/* ---- nvz_lock --------------------------------------------------------- */

TestSuite(lock, .init = setup, .fini = teardown);

/* Fork a holder of lockdir/id; it signals once locked, then sleeps hold_ms
 * (or forever with -1). */
static pid_t spawn_holder(const char *lockdir, const char *id, int hold_ms)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd;
		if (nvz_lock(lockdir, id, false, &fd, NULL) < 0)
			_exit(1);
		if (write(p[1], "L", 1) != 1)
			_exit(1);
		if (hold_ms < 0)
			for (;;)
				pause();
		usleep((useconds_t)hold_ms * 1000);
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	cr_assert_eq(read(p[0], &c, 1), 1, "holder failed to take the lock");
	close(p[0]);
	return pid;
}

Test(lock, held_lock_refused_then_freed_by_sigkill)
{
	const char *lockdir = P("%s/lock/nested", base);
	pid_t holder = spawn_holder(lockdir, "101", -1);
	assert_file_eq(P("%s/101.lck", lockdir), P("%d\n", (int)holder));

	int fd = -1;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_lock(lockdir, "101", false, &fd, &err), 0);
	cr_assert_eq(fd, -1);
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_LOCKED);
	cr_assert_eq(strncmp(err->msg, "Container already locked", 24), 0, "%s", err->msg);
	cr_assert_not_null(strstr(err->msg, P("%d", (int)holder)), "%s", err->msg);
	nvz_error_free(err);
	err = NULL;

	/* Another ID is independent. */
	cr_assert_eq(nvz_lock(lockdir, "102", false, &fd, &err), 0);
	close(fd);

	kill(holder, SIGKILL);
	cr_assert_eq(waitpid(holder, NULL, 0), holder);
	fd = -1;
	cr_assert_eq(nvz_lock(lockdir, "101", false, &fd, &err), 0, "%s", err ? err->msg : "");
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_file_eq(P("%s/101.lck", lockdir), P("%d\n", (int)getpid()));
	close(fd);
}

Test(lock, blocking_lock_waits_for_holder)
{
	const char *lockdir = P("%s/lock", base);
	pid_t holder = spawn_holder(lockdir, "101", 500);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = -1;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_lock(lockdir, "101", true, &fd, &err), 0, "%s", err ? err->msg : "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_geq(ms, 300, "blocking lock returned after %ld ms while held", ms);
	int status;
	cr_assert_eq(waitpid(holder, &status, 0), holder);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

Test(lock, symlinked_lock_file_refused)
{
	const char *lockdir = P("%s/lock", base);
	xmkdir(lockdir);
	xsymlink(P("%s/hosts", sentinel), P("%s/101.lck", lockdir));
	int fd = -1;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_lock(lockdir, "101", false, &fd, &err), 0);
	cr_assert_eq(err->status, NVZ_E_LOCKED);
	nvz_error_free(err);
	assert_sentinel_intact();
}
