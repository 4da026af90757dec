/* nvz_rm_rf_at, nvz_is_mountpoint and nvz_lock against hostile trees. */
#include "fs_helpers.h"

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
