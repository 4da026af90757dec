/* Shared by the fs unit tests: a temp "CT root" with a sentinel directory
 * outside it that hostile links point at, and forked-child helpers. */
#ifndef NVZ_TEST_FS_HELPERS_H
#define NVZ_TEST_FS_HELPERS_H

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
#include "pathfmt.h"

static __attribute__((unused)) char base[] = "/tmp/nvz-test-fs-XXXXXX";
static __attribute__((unused)) char root[PATH_MAX], sentinel[PATH_MAX];
static __attribute__((unused)) int rootfd = -1;

static __attribute__((unused)) const char sentinel_hosts[] = "SENTINEL hosts\n";
static __attribute__((unused)) const char sentinel_passwd[] = "SENTINEL passwd\n";
static __attribute__((unused)) const char sentinel_deep[] = "SENTINEL deep\n";

/* ---- helpers ---------------------------------------------------------- */

static __attribute__((unused)) bool put_file(const char *path, const char *s, mode_t mode)
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
static __attribute__((unused)) char *get_file(const char *path)
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

static __attribute__((unused)) void xwrite(const char *path, const char *s, mode_t mode)
{
	cr_assert(put_file(path, s, mode), "write %s: %s", path, strerror(errno));
}

static __attribute__((unused)) void xmkdir(const char *path)
{
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", path);
}

static __attribute__((unused)) void xmkdir_p(const char *path)
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

static __attribute__((unused)) void xsymlink(const char *target, const char *link)
{
	cr_assert_eq(symlink(target, link), 0, "symlink %s -> %s: %m", link, target);
}

static __attribute__((unused)) void assert_file_eq(const char *path, const char *want)
{
	char *got = get_file(path);
	cr_assert_not_null(got, "read %s: %m", path);
	cr_assert_str_eq(got, want, "%s", path);
	free(got);
}

static __attribute__((unused)) void assert_mode(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s: %m", path);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o, want %o", path, st.st_mode & 07777,
		     mode);
	cr_assert(st.st_uid == uid && st.st_gid == gid, "%s: owner %d:%d, want %d:%d", path,
		  (int)st.st_uid, (int)st.st_gid, (int)uid, (int)gid);
}

static __attribute__((unused)) bool is_type(const char *path, mode_t type)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Entries of dir whose name starts with prefix ("" for all but . and ..). */
static __attribute__((unused)) int count_entries(const char *dir, const char *prefix)
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
static __attribute__((unused)) int count_tmp(const char *dir)
{
	return count_entries(dir, ".nvz-tmp");
}

/* NULL if the sentinel holds exactly what setup put there. Usable from a
 * forked child, where Criterion's asserts must not be called. */
static __attribute__((unused)) const char *sentinel_problem(void)
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

static __attribute__((unused)) void assert_sentinel_intact(void)
{
	const char *m = sentinel_problem();
	cr_assert_null(m, "%s", m);
}

static __attribute__((unused)) int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(path, 0700);
	remove(path);
	return 0;
}

static __attribute__((unused)) void setup(void)
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

static __attribute__((unused)) void teardown(void)
{
	if (rootfd >= 0)
		close(rootfd);
	/* FTW_MOUNT: never descend into a mount a failed test might have left. */
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The sentinel's absolute path recreated inside the root: in-root resolution
 * of a link to the sentinel lands here. */
static __attribute__((unused)) const char *make_mirror(void)
{
	const char *m = P("%s%s", root, sentinel);
	xmkdir_p(m);
	return m;
}

/* ---- forked children -------------------------------------------------- */

typedef const char *(*child_fn)(void);

static __attribute__((unused)) char child_msg[1024];
#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond))                                                     \
			return snprintf(child_msg, sizeof(child_msg), __VA_ARGS__), \
			       child_msg;                                        \
	} while (0)

/* Run fn in a forked child (optionally in a private mount namespace, so its
 * mounts vanish with it and never reach the host) and assert it reported
 * success within timeout_s. The child only reports; the test asserts. */
static __attribute__((unused)) void run_child(child_fn fn, bool mntns, unsigned timeout_s)
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
static __attribute__((unused)) int write_fails(int dirfd, const char *path)
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

static __attribute__((unused)) void write_ok(int dirfd, const char *path, const char *data, mode_t mode)
{
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_write_in_root(dirfd, path, data, strlen(data), mode, &err), 0,
		     "write '%s': %s", path, err ? err->msg : "");
}

static __attribute__((unused)) void read_fails(int dirfd, const char *path)
{
	struct nvz_error *err = NULL;
	char *out = NULL;
	cr_assert_lt(nvz_read_in_root(dirfd, path, 4096, &out, &err), 0, "read '%s'", path);
	cr_assert_null(out);
	cr_assert_not_null(err);
	nvz_error_free(err);
}

/* Expect nvz_open_in_root to fail with errno want. */
static __attribute__((unused)) void open_fails(int dirfd, const char *path, int flags, int want)
{
	int fd = nvz_open_in_root(dirfd, path, flags, 0644);
	cr_assert_lt(fd, 0, "opened '%s'", path);
	cr_assert_eq(errno, want, "'%s': %s, expected %s", path, strerror(errno), strerror(want));
}

#endif
