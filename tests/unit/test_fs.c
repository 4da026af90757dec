/* Unit tests of lib/core/fs.c: in-root resolution against a hostile CT tree,
 * atomic replace, recursive removal, mount points and per-CT locks.
 * Every link the "container" plants points at a sentinel directory this test
 * owns, outside the CT root: an escape lands there and is detected, and never
 * touches a real host path. */
#include "fs_helpers.h"

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

/* ---- nvz_close_fds_except ------------------------------------------------ */

/* In a child (Criterion's own descriptors must live): 40 descriptors
 * above stderr, 20 of them kept, given out of order with repeats and a
 * negative; exactly those stay open. 1 + the first wrong fd on a failure. */
static int close_fds_child(void)
{
	int fds[40], keep[24], nkeep = 0;
	for (int i = 0; i < 40; i++)
		if ((fds[i] = open("/dev/null", O_RDONLY)) < 0)
			return 1;
	for (int i = 39; i >= 0; i -= 2)
		keep[nkeep++] = fds[i];
	keep[nkeep++] = fds[3];
	keep[nkeep++] = -1;
	keep[nkeep++] = fds[39];
	keep[nkeep++] = 1;
	nvz_close_fds_except(keep, (size_t)nkeep);
	for (int i = 0; i < 40; i++) {
		bool kept = i % 2 == 1;
		if ((fcntl(fds[i], F_GETFD) >= 0) != kept)
			return 1 + fds[i];
	}
	return fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0 ? 0 : 1;
}

Test(close_fds, keeps_any_number_in_any_order)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(close_fds_child());
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}
