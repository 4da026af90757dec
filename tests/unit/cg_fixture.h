/* Shared fixture of the lib/cgroup resource tests (test_cgroup_limits.c,
 * test_cgroup_devices.c): cgroups made under a per-run prefix, children
 * forked into them, and their cleanup. Included by each test file once. */
#ifndef NVZ_CG_FIXTURE_H
#define NVZ_CG_FIXTURE_H

#define MiB (1024ULL * 1024)
#define U NVZ_UNLIMITED

__attribute__((unused)) static struct nvz_cgroup *g_cg, *g_cg2;
__attribute__((unused)) static char g_prefix[64];
__attribute__((unused)) static char g_tmp[64];
__attribute__((unused)) static pid_t g_kids[4];
__attribute__((unused)) static int g_nkids;

__attribute__((unused)) static void suite_init(void)
{
	snprintf(g_prefix, sizeof(g_prefix), "nvz-unit-lim-%d", (int)getpid());
	unsetenv("NVZ_CGROUP_VERSION");
}

__attribute__((unused)) static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

__attribute__((unused)) static void drop_cg(struct nvz_cgroup **cgp)
{
	struct nvz_cgroup *cg = *cgp;
	if (!cg)
		return;
	/* A fixture cgroup lives in g_tmp and is removed with it. */
	if (strncmp(cg->hier[0].mnt, "/tmp/", 5) != 0) {
		nvz_cgroup_kill(cg, NULL);
		nvz_cgroup_destroy(cg, NULL);
		for (size_t i = 0; i < cg->nhier; i++) {
			char *p = nvz_cg_join(cg->hier[i].mnt, g_prefix);
			rmdir(p);
			free(p);
		}
	}
	nvz_cgroup_free(cg);
	*cgp = NULL;
}

__attribute__((unused)) static void suite_fini(void)
{
	for (int i = 0; i < g_nkids; i++) {
		kill(g_kids[i], SIGKILL);
		waitpid(g_kids[i], NULL, 0);
	}
	g_nkids = 0;
	drop_cg(&g_cg);
	drop_cg(&g_cg2);
	if (g_tmp[0]) {
		/* v2_rollback_on_fixture's read-only bind, in this process's namespace. */
		char io[128];
		snprintf(io, sizeof(io), "%s/nvz/101/io.max", g_tmp);
		umount2(io, MNT_DETACH);
		nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

TestSuite(limits, .init = suite_init, .fini = suite_fini, .timeout = 60);

#define OK(call)                                                                     \
	do {                                                                         \
		struct nvz_error *e_ = NULL;                                         \
		int r_ = (call);                                                     \
		cr_assert_geq(r_, 0, "%s: %s", #call, e_ ? e_->msg : "no message"); \
		cr_assert_null(e_);                                                  \
	} while (0)
#define ERR &e_

__attribute__((unused)) static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to create cgroups");
}

__attribute__((unused)) static struct nvz_cgroup *make_cg(const char *name)
{
	struct nvz_cgroup *cg = NULL;
	OK(nvz_cgroup_open(&cg, g_prefix, name, ERR));
	OK(nvz_cgroup_create(cg, ERR));
	return cg;
}

__attribute__((unused)) static void expect(struct nvz_cgroup *cg, const char *file, const char *want)
{
	char *val = NULL;
	OK(nvz_cgroup_read(cg, NULL, file, &val, ERR));
	cr_expect_str_eq(val, want, "%s: got '%s', want '%s'", file, val, want);
	free(val);
}

__attribute__((unused)) static struct nvz_res_limits base(void)
{
	return (struct nvz_res_limits){ .mem_bytes = U, .memsw_bytes = U, .tcp_bytes = U,
					.pids = U, .cpu_units = 1000, .io_prio = 4 };
}

/* The first disk the IO limits go to ("254:0"), or "" if there is none. */
__attribute__((unused)) static void first_disk(char out[32])
{
	static const char *const skip[] = { "loop", "ram", "zram", "." };
	out[0] = '\0';
	DIR *d = opendir("/sys/block");
	char best[32] = "";
	for (struct dirent *de; d && (de = readdir(d));) {
		bool bad = false;
		for (size_t i = 0; i < 4; i++)
			bad = bad || strncmp(de->d_name, skip[i], strlen(skip[i])) == 0;
		char path[300], dev[32] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		FILE *f = bad ? NULL : fopen(path, "r");
		if (f && fgets(dev, sizeof(dev), f)) {
			dev[strcspn(dev, "\n")] = '\0';
			if (!best[0] || strcmp(dev, best) < 0)
				snprintf(best, sizeof(best), "%s", dev);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	snprintf(out, 32, "%s", best);
}

/* ---- processes in the cgroup -------------------------------------------- */

/* Fork a child that joins cg and runs body(fd); body reports on fd. */
__attribute__((unused)) static pid_t spawn_in(struct nvz_cgroup *cg, void (*body)(int fd), int *rfd)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (nvz_cgroup_attach(cg, getpid(), NULL) < 0)
			_exit(90);
		body(p[1]);
		_exit(0);
	}
	close(p[1]);
	g_kids[g_nkids++] = pid;
	*rfd = p[0];
	return pid;
}

__attribute__((unused)) static int wait_kid(pid_t pid)
{
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] == pid)
			g_kids[i] = g_kids[--g_nkids];
	return st;
}

__attribute__((unused)) static long read_long(int fd)
{
	char buf[64] = "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

__attribute__((unused)) static void report(int fd, long v)
{
	dprintf(fd, "%ld", v);
}


/* Exactly the beancounters named in list are enforced. */
__attribute__((unused)) static void expect_enforced(const struct nvz_cgroup *cg, const char *list)
{
	for (int id = 0; id <= UBC_COUNT; id++) {
		char word[64];
		snprintf(word, sizeof(word), " %s ", id < UBC_COUNT ? nvz_ubc_info(id)->name : "?");
		bool want = strstr(list, word) != NULL;
		cr_expect_eq(nvz_cgroup_enforces(cg, id), want, "%s", word);
	}
}

#endif
