/* Unit tests of lib/cgroup: mountinfo parsing and version detection from
 * fixtures, then the v1 and v2 backends on this machine's real kernel. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cgroup.h"
#include "nvz/error.h"

/* This machine: v1 controllers one per mount, name=systemd, an empty cgroup2. */
static const char host_hybrid[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
	"24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334192k,nr_inodes=3083548,mode=755\n"
	"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683584k\n"
	"26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534\n"
	"28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755\n"
	"29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
	"30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683584k\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Debian 12 with systemd: unified only. */
static const char host_v2[] =
	"21 26 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"22 26 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
	"26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
	"27 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

/* Debian 10 / CentOS 7 style: co-mounted controllers, systemd's xattr, a
 * release agent, net_cls,net_prio. */
static const char host_comount[] =
	"25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755\n"
	"26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate\n"
	"27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup "
	"rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
	"30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct\n"
	"31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio\n"
	"32 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory\n"
	"33 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids\n"
	"34 25 0:31 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset,clone_children\n";

/* A unified host where something (docker, lxcfs) keeps a v1 name=systemd. */
static const char host_v2_compat[] =
	"27 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
	"40 27 0:40 / /run/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd\n";

/* ---- parsing ------------------------------------------------------------ */

static struct nvz_cg_mounts parse(const char *text)
{
	struct nvz_cg_mounts m;
	struct nvz_error *err = NULL;
	int r = nvz_cg_mountinfo_parse(text, strlen(text), &m, &err);
	cr_assert_eq(r, 0, "parse failed: %s", err ? err->msg : "?");
	return m;
}

static const struct nvz_cg_mount *by_mnt(const struct nvz_cg_mounts *m, const char *mnt)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].mnt, mnt) == 0)
			return &m->v[i];
	cr_assert_fail("no mount at %s", mnt);
	return NULL;
}

static size_t strv_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

Test(mountinfo, hybrid_host)
{
	struct nvz_cg_mounts m = parse(host_hybrid);
	cr_assert_eq(m.n, 10);
	const struct nvz_cg_mount *mem = by_mnt(&m, "/sys/fs/cgroup/memory");
	cr_assert(!mem->v2);
	cr_assert_str_eq(mem->root, "/");
	cr_assert_eq(strv_len(mem->ctrls), 1);
	cr_assert_str_eq(mem->ctrls[0], "memory");
	cr_assert_null(mem->name);
	cr_assert_eq(mem->dev_major, 0);
	cr_assert_eq(mem->dev_minor, 32);
	const struct nvz_cg_mount *sd = by_mnt(&m, "/sys/fs/cgroup/systemd");
	cr_assert_str_eq(sd->name, "systemd");
	cr_assert_eq(strv_len(sd->ctrls), 0);
	const struct nvz_cg_mount *u = by_mnt(&m, "/sys/fs/cgroup/unified");
	cr_assert(u->v2);
	cr_assert_eq(strv_len(u->ctrls), 0);
	nvz_cg_mounts_free(&m);
}

Test(mountinfo, pure_v2)
{
	struct nvz_cg_mounts m = parse(host_v2);
	cr_assert_eq(m.n, 1);
	cr_assert(m.v[0].v2);
	cr_assert_str_eq(m.v[0].mnt, "/sys/fs/cgroup");
	nvz_cg_mounts_free(&m);
}

Test(mountinfo, comounted)
{
	struct nvz_cg_mounts m = parse(host_comount);
	cr_assert_eq(m.n, 7);
	const struct nvz_cg_mount *cpu = by_mnt(&m, "/sys/fs/cgroup/cpu,cpuacct");
	cr_assert_eq(strv_len(cpu->ctrls), 2);
	cr_assert_str_eq(cpu->ctrls[0], "cpu");
	cr_assert_str_eq(cpu->ctrls[1], "cpuacct");
	/* Flags and the release agent are no controllers. */
	const struct nvz_cg_mount *sd = by_mnt(&m, "/sys/fs/cgroup/systemd");
	cr_assert_eq(strv_len(sd->ctrls), 0);
	cr_assert_str_eq(sd->name, "systemd");
	cr_assert_eq(strv_len(sd->flags), 1);
	cr_assert_str_eq(sd->flags[0], "xattr");
	const struct nvz_cg_mount *cs = by_mnt(&m, "/sys/fs/cgroup/cpuset");
	cr_assert_eq(strv_len(cs->ctrls), 1);
	cr_assert_str_eq(cs->flags[0], "clone_children");
	nvz_cg_mounts_free(&m);
}

Test(mountinfo, escapes_roots_and_duplicates)
{
	/* A bind of a subtree first, then the whole hierarchy: the whole one wins;
	 * a second mount of the same superblock is dropped. */
	static const char text[] =
		"50 1 0:32 /nvz/101 /var/lib/with\\040space rw - cgroup cgroup rw,memory\n"
		"51 1 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		"52 1 0:32 / /elsewhere rw - cgroup cgroup rw,memory\n"
		"53 1 0:40 /a\\134b /x\\011y rw shared:3 master:1 - cgroup cgroup rw,pids\n";
	struct nvz_cg_mounts m = parse(text);
	cr_assert_eq(m.n, 2);
	cr_assert_str_eq(m.v[0].mnt, "/sys/fs/cgroup/memory");
	cr_assert_str_eq(m.v[0].root, "/");
	cr_assert_str_eq(m.v[1].mnt, "/x\ty");
	cr_assert_str_eq(m.v[1].root, "/a\\b");
	nvz_cg_mounts_free(&m);

	m = parse("60 1 0:32 /nvz/101 /var/lib/with\\040space rw - cgroup cgroup rw,memory");
	cr_assert_eq(m.n, 1);
	cr_assert_str_eq(m.v[0].mnt, "/var/lib/with space");
	cr_assert_str_eq(m.v[0].root, "/nvz/101");
	nvz_cg_mounts_free(&m);
}

Test(mountinfo, malformed)
{
	static const char *bad[] = {
		"22 27 0:21 / /proc\n",
		"22 27 0:21 / /proc rw no-separator cgroup cgroup rw\n",
		"22 27 0:21 / /proc rw -\n",
		"22 27 nodev / /sys/fs/cgroup/x rw - cgroup cgroup rw,pids\n",
		"22  27 0:21 / /proc rw - proc proc rw\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_cg_mounts m;
		struct nvz_error *err = NULL;
		cr_assert_lt(nvz_cg_mountinfo_parse(bad[i], strlen(bad[i]), &m, &err), 0, "%s", bad[i]);
		cr_assert_eq(err->code, EINVAL);
		cr_assert_not_null(strstr(err->msg, "line 1"), "%s", err->msg);
		cr_assert_eq(m.n, 0);
		nvz_error_free(err);
	}
	/* No trailing newline, no NUL inside len: still one line. */
	struct nvz_cg_mounts m = parse("");
	cr_assert_eq(m.n, 0);
	nvz_cg_mounts_free(&m);
}

static enum nvz_cgroup_version detect(const char *text, const char *override, int want_rc)
{
	struct nvz_cg_mounts m = parse(text);
	struct nvz_error *err = NULL;
	enum nvz_cgroup_version v = 0;
	int r = nvz_cg_detect(&m, override, &v, &err);
	nvz_cg_mounts_free(&m);
	cr_assert_eq(r, want_rc, "detect: %d (%s)", r, err ? err->msg : "ok");
	cr_assert_eq(!!err, r < 0);
	nvz_error_free(err);
	return v;
}

Test(detect, by_where_controllers_are)
{
	cr_assert_eq(detect(host_hybrid, NULL, 0), NVZ_CGROUP_V1);
	cr_assert_eq(detect(host_comount, NULL, 0), NVZ_CGROUP_V1);
	cr_assert_eq(detect(host_v2, NULL, 0), NVZ_CGROUP_V2);
	cr_assert_eq(detect(host_v2_compat, NULL, 0), NVZ_CGROUP_V2);
	cr_assert_eq(detect(host_hybrid, "", 0), NVZ_CGROUP_V1);
	detect("22 27 0:21 / /proc rw - proc proc rw\n", NULL, -ENOENT);
}

Test(detect, override_for_tests)
{
	cr_assert_eq(detect(host_hybrid, "2", 0), NVZ_CGROUP_V2);
	cr_assert_eq(detect(host_hybrid, "1", 0), NVZ_CGROUP_V1);
	cr_assert_eq(detect(host_v2, "2", 0), NVZ_CGROUP_V2);
	detect(host_v2, "1", -ENOENT);
	detect(host_v2_compat, "1", -ENOENT);
	detect(host_hybrid, "3", -EINVAL);
	detect(host_hybrid, "v2", -EINVAL);
}

Test(open, rejects_bad_names)
{
	static const char *bad[][2] = {
		{ "", "1" },	  { "/abs", "1" }, { "a//b", "1" }, { "a/../b", "1" },
		{ "nvz", "" },	  { "nvz", ".." }, { "nvz", "a/b" }, { "nvz", "." },
		{ "nvz/", "1" }, { "nvz", "a\nb" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_cgroup *cg = NULL;
		struct nvz_error *err = NULL;
		cr_assert_eq(nvz_cgroup_open(&cg, bad[i][0], bad[i][1], &err), -EINVAL, "%zu", i);
		cr_assert_null(cg);
		cr_assert_not_null(strstr(err->msg, "invalid cgroup"), "%s", err->msg);
		nvz_error_free(err);
	}
}

/* ---- the real kernel ---------------------------------------------------- */

/* Shared by a test and its .fini, which runs even when an assertion fails. */
static struct nvz_cgroup *g_cg;
static char g_prefix[64];
static char g_tmp[64];
static pid_t g_kids[4];
static int g_nkids;

static void kernel_init(void)
{
	snprintf(g_prefix, sizeof(g_prefix), "nvz-unit-%d", (int)getpid());
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void kernel_fini(void)
{
	for (int i = 0; i < g_nkids; i++) {
		kill(g_kids[i], SIGKILL);
		waitpid(g_kids[i], NULL, 0);
	}
	g_nkids = 0;
	if (g_cg) {
		nvz_cgroup_kill(g_cg, NULL);
		nvz_cgroup_destroy(g_cg, NULL);
		/* The prefix is shared by containers, so destroy leaves it to us. */
		for (size_t i = 0; i < g_cg->nhier; i++) {
			char *p = nvz_cg_join(g_cg->hier[i].mnt, g_prefix);
			rmdir(p);
			free(p);
		}
		nvz_cgroup_free(g_cg);
		g_cg = NULL;
	}
	/* Children are reaped, so their mount namespaces and mounts are gone. */
	if (g_tmp[0])
		nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(kernel, .init = kernel_init, .fini = kernel_fini, .timeout = 30);

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to create cgroups");
}

static void open_cg(const char *name)
{
	struct nvz_error *err = NULL;
	int r = nvz_cgroup_open(&g_cg, g_prefix, name, &err);
	cr_assert_eq(r, 0, "open: %s", err ? err->msg : "?");
}

#define OK(call)                                                                     \
	do {                                                                         \
		struct nvz_error *e_ = NULL;                                         \
		int r_ = (call);                                                     \
		cr_assert_geq(r_, 0, "%s: %s", #call, e_ ? e_->msg : "no message"); \
		cr_assert_null(e_);                                                  \
	} while (0)
#define ERR &e_

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	g_kids[g_nkids++] = pid;
	return pid;
}

static void reap_killed(pid_t pid)
{
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] == pid)
			g_kids[i] = g_kids[--g_nkids];
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	struct nvz_error *err = NULL;
	cr_assert_geq(nvz_cg_read_file(path, &buf, &err), 0, "%s", err ? err->msg : "?");
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* /proc/<pid>/cgroup has "<n>:<ctrls>:<path>"; find the line for ctrls. */
static bool in_cgroup(pid_t pid, const char *ctrls, const char *path)
{
	char file[64], want[256];
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof(want), ":%s:%s\n", ctrls, path);
	char *text = slurp(file);
	bool found = strstr(text, want) != NULL;
	free(text);
	return found;
}

static void assert_all_gone(void)
{
	for (size_t i = 0; i < g_cg->nhier; i++)
		cr_assert(!is_dir(g_cg->hier[i].path), "%s still exists", g_cg->hier[i].path);
	cr_assert(!nvz_cgroup_exists(g_cg));
}

Test(kernel, missing_cgroup_is_no_error)
{
	need_root();
	open_cg("never-created");
	cr_assert(!nvz_cgroup_exists(g_cg));
	OK(nvz_cgroup_nr_procs(g_cg, ERR));
	OK(nvz_cgroup_kill(g_cg, ERR));
	OK(nvz_cgroup_destroy(g_cg, ERR));
}

Test(kernel, v1_lifecycle)
{
	need_root();
	open_cg("t1");
	cr_assert_eq(nvz_cgroup_version(g_cg), NVZ_CGROUP_V1);
	cr_assert(!nvz_cgroup_exists(g_cg));
	OK(nvz_cgroup_create(g_cg, ERR));
	cr_assert(nvz_cgroup_exists(g_cg));
	/* Every v1 hierarchy plus the hybrid cgroup2. */
	cr_assert_geq(g_cg->nhier, 9);
	for (size_t i = 0; i < g_cg->nhier; i++)
		cr_assert(is_dir(g_cg->hier[i].path), "%s missing", g_cg->hier[i].path);
	cr_assert(nvz_cg_has_controller(g_cg, "memory"));
	cr_assert(!nvz_cg_has_controller(g_cg, "hugetlb"));

	pid_t pid = spawn_sleeper();
	OK(nvz_cgroup_attach(g_cg, pid, ERR));
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_nr_procs(g_cg, &err), 1);
	char path[128];
	snprintf(path, sizeof(path), "/%s/t1", g_prefix);
	cr_assert(in_cgroup(pid, "pids", path));
	cr_assert(in_cgroup(pid, "memory", path));
	cr_assert(in_cgroup(pid, "cpuset", path));
	cr_assert(in_cgroup(pid, "name=systemd", path));
	cr_assert(in_cgroup(pid, "", path), "not in the hybrid cgroup2");

	OK(nvz_cgroup_write(g_cg, "pids", "pids.max", "10", ERR));
	char *val = NULL;
	OK(nvz_cgroup_read(g_cg, "pids", "pids.max", &val, ERR));
	cr_assert_str_eq(val, "10");
	free(val);
	/* Without a controller, the file's prefix picks the hierarchy. */
	OK(nvz_cgroup_read(g_cg, NULL, "cpuset.cpus", &val, ERR));
	cr_assert_neq(val[0], '\0', "cpuset.cpus was not copied from the parent");
	free(val);
	cr_assert_eq(nvz_cgroup_read(g_cg, NULL, "hugetlb.2MB.limit_in_bytes", &val, &err), -ENOENT);
	cr_assert_not_null(strstr(err->msg, "'hugetlb'"), "%s", err->msg);
	nvz_error_clear(&err);
	cr_assert_eq(nvz_cgroup_write(g_cg, "pids", "../pids.max", "1", &err), -EINVAL);
	nvz_error_clear(&err);

	OK(nvz_cgroup_kill(g_cg, ERR));
	reap_killed(pid);
	cr_assert_eq(nvz_cgroup_nr_procs(g_cg, &err), 0);
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
	OK(nvz_cgroup_destroy(g_cg, ERR));
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* vzctl exec's stub enters the v1 hierarchies through files opened before
 * its clone (it must not allocate): all but the counting one (pids). */
Test(kernel, v1_tasks_opened_ahead)
{
	need_root();
	open_cg("t1");
	OK(nvz_cgroup_create(g_cg, ERR));
	int fds[NVZ_CGROUP_V1_MAX], before = count_fds();
	int n = nvz_cgroup_open_v1_tasks(g_cg, true, fds, NVZ_CGROUP_V1_MAX);
	cr_assert_geq(n, 8);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++)
			if (write(fds[i], "0", 1) != 1)
				_exit(1);
		pause();
		_exit(0);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	char path[128];
	snprintf(path, sizeof(path), "/%s/t1", g_prefix);
	for (int i = 0; i < 100 && !in_cgroup(pid, "memory", path); i++)
		usleep(10000);
	cr_assert(in_cgroup(pid, "memory", path));
	cr_assert(in_cgroup(pid, "cpuset", path));
	cr_assert(!in_cgroup(pid, "pids", path), "the counting hierarchy was joined");
	kill(pid, SIGKILL);
	reap_killed(pid);
	/* Too small an array: nothing left open. */
	cr_assert_eq(nvz_cgroup_open_v1_tasks(g_cg, false, fds, 3), -1);
	cr_assert_eq(errno, E2BIG);
	cr_assert_eq(count_fds(), before);
	OK(nvz_cgroup_destroy(g_cg, ERR));
}

/* An init inside makes sub-cgroups and moves processes there (systemd). */
Test(kernel, v1_kill_and_destroy_nested)
{
	need_root();
	open_cg("t1");
	OK(nvz_cgroup_create(g_cg, ERR));
	pid_t a = spawn_sleeper(), b = spawn_sleeper();
	OK(nvz_cgroup_attach(g_cg, a, ERR));
	OK(nvz_cgroup_attach(g_cg, b, ERR));
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)b);
	for (size_t i = 0; i < g_cg->nhier; i++) {
		const struct nvz_cg_hier *h = &g_cg->hier[i];
		if (!h->name && !nvz_cg_strv_has(h->ctrls, "pids"))
			continue;
		char *sub = nvz_cg_join(h->path, "system.slice"), *deep = nvz_cg_join(sub, "x.service");
		cr_assert_eq(mkdir(sub, 0755), 0);
		cr_assert_eq(mkdir(deep, 0755), 0);
		char *procs = nvz_cg_join(deep, "cgroup.procs");
		OK(nvz_cg_write_file(procs, buf, ERR));
		free(procs), free(sub), free(deep);
	}
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_nr_procs(g_cg, &err), 2);
	OK(nvz_cgroup_kill(g_cg, ERR));
	reap_killed(a);
	reap_killed(b);
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
}

Test(kernel, destroy_busy_names_the_path, .timeout = 30)
{
	need_root();
	open_cg("t1");
	OK(nvz_cgroup_create(g_cg, ERR));
	pid_t pid = spawn_sleeper();
	OK(nvz_cgroup_attach(g_cg, pid, ERR));
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_destroy(g_cg, &err), -EBUSY);
	cr_assert_not_null(strstr(err->msg, g_prefix), "%s", err->msg);
	cr_assert_not_null(strstr(err->msg, "Device or resource busy"), "%s", err->msg);
	nvz_error_free(err);
	cr_assert(nvz_cgroup_exists(g_cg));
}

static void v2_setup(void)
{
	/* This host's cgroup2 is empty, but it drives the whole v2 backend. */
	setenv("NVZ_CGROUP_VERSION", "2", 1);
	open_cg("t1");
	cr_assert_eq(nvz_cgroup_version(g_cg), NVZ_CGROUP_V2);
	cr_assert_eq(g_cg->nhier, 1);
	cr_assert(g_cg->hier[0].v2);
	OK(nvz_cgroup_create(g_cg, ERR));
}

Test(kernel, v2_lifecycle)
{
	need_root();
	v2_setup();
	pid_t pid = spawn_sleeper();
	OK(nvz_cgroup_attach(g_cg, pid, ERR));
	char path[128];
	snprintf(path, sizeof(path), "/%s/t1", g_prefix);
	cr_assert(in_cgroup(pid, "", path));
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_nr_procs(g_cg, &err), 1);
	/* No pids controller in this cgroup2: refused by name. */
	cr_assert_eq(nvz_cgroup_write(g_cg, "pids", "pids.max", "10", &err), -ENOENT);
	cr_assert_not_null(strstr(err->msg, "controller 'pids' is not enabled"), "%s", err->msg);
	nvz_error_clear(&err);
	cr_assert(!nvz_cg_has_controller(g_cg, "pids"));
	char *val = NULL;
	OK(nvz_cgroup_read(g_cg, NULL, "cgroup.type", &val, ERR));
	cr_assert_str_eq(val, "domain");
	free(val);
	OK(nvz_cgroup_kill(g_cg, ERR));
	reap_killed(pid);
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
}

Test(kernel, v2_kill_without_cgroup_kill)
{
	need_root();
	v2_setup();
	pid_t a = spawn_sleeper(), b = spawn_sleeper();
	OK(nvz_cgroup_attach(g_cg, a, ERR));
	OK(nvz_cgroup_attach(g_cg, b, ERR));
	char *sub = nvz_cg_join(g_cg->hier[0].path, "init.scope");
	char *procs = nvz_cg_join(sub, "cgroup.procs");
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)b);
	cr_assert_eq(mkdir(sub, 0755), 0);
	OK(nvz_cg_write_file(procs, buf, ERR));
	free(procs), free(sub);
	OK(nvz_cg_v2_kill_by_freeze(g_cg, ERR));
	reap_killed(a);
	reap_killed(b);
	char *val = NULL;
	OK(nvz_cgroup_read(g_cg, NULL, "cgroup.freeze", &val, ERR));
	cr_assert_str_eq(val, "0", "left frozen");
	free(val);
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
}

/* ---- mount_inside, in a child with its own mount and cgroup namespaces -- */

__attribute__((format(printf, 2, 3), noreturn)) static void child_fail(int fd, const char *fmt,
									 ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	_exit(1);
}

static char *tmp_path(const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", g_tmp, rel) < 0)
		abort();
	return p;
}

static void make_tmp_root(void)
{
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/nvz-unit-cg-XXXXXX");
	cr_assert_not_null(mkdtemp(g_tmp));
	char *sys = tmp_path("sys");
	cr_assert_eq(mkdir(sys, 0755), 0);
	free(sys);
}

/* Like the start path: private mount ns, a fresh sysfs at <root>/sys, join
 * the cgroup, then a new cgroup namespace rooted there. */
static void child_enter(int fd, bool with_sysfs, bool with_cgns)
{
	struct nvz_error *err = NULL;
	if (unshare(CLONE_NEWNS) < 0)
		child_fail(fd, "unshare mount ns: %m");
	/* Nothing we mount here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(fd, "make / rslave: %m");
	char *sys = tmp_path("sys");
	if (with_sysfs && mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(fd, "mount sysfs at %s: %m", sys);
	free(sys);
	if (!with_cgns)
		return;
	if (nvz_cgroup_attach(g_cg, getpid(), &err) < 0)
		child_fail(fd, "%s", err->msg);
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(fd, "unshare cgroup ns: %m");
}

static void child_mount(int fd)
{
	struct nvz_error *err = NULL;
	if (nvz_cgroup_mount_inside(g_cg, g_tmp, &err) < 0)
		child_fail(fd, "%s", err->msg);
}

static void child_expect_pid(int fd, const char *rel)
{
	char *p = tmp_path(rel), *text = NULL, me[32];
	snprintf(me, sizeof(me), "%d", (int)getpid());
	if (nvz_cg_read_file(p, &text, NULL) < 0 || !has_line(text, me))
		child_fail(fd, "%s does not list %s:\n%s", p, me, text ? text : "(unreadable)");
	free(text);
	free(p);
}

static void child_expect_mkdir(int fd, const char *rel, int want_errno)
{
	char *p = tmp_path(rel);
	int r = mkdir(p, 0755);
	if (want_errno ? (r == 0 || errno != want_errno) : r < 0)
		child_fail(fd, "mkdir %s: got %s, want %s", p, r ? strerror(errno) : "success",
			   want_errno ? strerror(want_errno) : "success");
	if (r == 0 && rmdir(p) < 0)
		child_fail(fd, "rmdir %s: %m", p);
	free(p);
}

static void v1_mount_checks(int fd)
{
	child_enter(fd, true, true);
	child_mount(fd);
	/* The namespace's view: the container's own cgroup is the root. */
	child_expect_pid(fd, "sys/fs/cgroup/memory/cgroup.procs");
	child_expect_pid(fd, "sys/fs/cgroup/pids/cgroup.procs");
	child_expect_pid(fd, "sys/fs/cgroup/systemd/cgroup.procs");
	child_expect_pid(fd, "sys/fs/cgroup/unified/cgroup.procs");
	child_expect_mkdir(fd, "sys/fs/cgroup/memory/x", EROFS);
	child_expect_mkdir(fd, "sys/fs/cgroup/cpuset/x", EROFS);
	child_expect_mkdir(fd, "sys/fs/cgroup/systemd/x", 0);
	child_expect_mkdir(fd, "sys/fs/cgroup/unified/x", 0);
	child_expect_mkdir(fd, "sys/fs/cgroup/new", EROFS);
	char *text = NULL;
	if (nvz_cg_read_file("/proc/self/cgroup", &text, NULL) < 0 || !strstr(text, ":memory:/\n"))
		child_fail(fd, "not rooted in a cgroup namespace:\n%s", text ? text : "?");
	_exit(0);
}

static void v2_mount_checks(int fd)
{
	child_enter(fd, true, true);
	child_mount(fd);
	child_expect_pid(fd, "sys/fs/cgroup/cgroup.procs");
	child_expect_mkdir(fd, "sys/fs/cgroup/x", 0);
	_exit(0);
}

/* sys/fs/cgroup planted as an absolute symlink and no sysfs over it: the
 * mounts must land inside the root, never on the host's path. */
static void planted_link_checks(int fd)
{
	child_enter(fd, false, false);
	child_mount(fd);
	char *evil = tmp_path("evil");
	struct statfs sf;
	if (statfs(evil, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
		child_fail(fd, "tmpfs not mounted at %s", evil);
	if (access("/evil", F_OK) == 0)
		child_fail(fd, "followed the symlink out of the root");
	_exit(0);
}

static void run_child(void (*body)(int fd))
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		body(p[1]);
	}
	g_kids[g_nkids++] = pid;
	close(p[1]);
	char msg[4096] = "";
	ssize_t n, len = 0;
	while ((n = read(p[0], msg + len, sizeof(msg) - 1 - (size_t)len)) > 0)
		len += n;
	msg[len] = '\0';
	close(p[0]);
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	g_nkids--;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s (status %#x)", msg, st);
}

Test(kernel, v1_mount_inside)
{
	need_root();
	open_cg("t1");
	OK(nvz_cgroup_create(g_cg, ERR));
	make_tmp_root();
	run_child(v1_mount_checks);
	/* The writable name=systemd mount reached the host's cgroup. */
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
}

Test(kernel, v2_mount_inside)
{
	need_root();
	v2_setup();
	make_tmp_root();
	run_child(v2_mount_checks);
	OK(nvz_cgroup_destroy(g_cg, ERR));
	assert_all_gone();
}

Test(kernel, mount_inside_stays_in_root)
{
	need_root();
	open_cg("t1");
	make_tmp_root();
	char *evil = tmp_path("evil"), *fs = tmp_path("sys/fs"), *link = tmp_path("sys/fs/cgroup");
	char target[128];
	cr_assert_eq(mkdir(evil, 0755), 0);
	cr_assert_eq(mkdir(fs, 0755), 0);
	snprintf(target, sizeof(target), "/evil");
	cr_assert_eq(symlink(target, link), 0);
	free(evil), free(fs), free(link);
	run_child(planted_link_checks);
}
