/* Unit tests of the resource side of lib/cgroup: limits, device access and
 * counters on this machine's real kernel (cgroup v1, the BPF device program
 * on the hybrid cgroup2), and the v2 writers against a fixture tree, as the
 * host's cgroup2 has no memory/pids/cpu controllers to write to. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cgroup.h"
#include "nvz/error.h"
#include "nvz/res.h"

#define MiB (1024ULL * 1024)
#define U NVZ_UNLIMITED

static struct nvz_cgroup *g_cg, *g_cg2;
static char g_prefix[64];
static char g_tmp[64];
static pid_t g_kids[4];
static int g_nkids;

static void suite_init(void)
{
	snprintf(g_prefix, sizeof(g_prefix), "nvz-unit-lim-%d", (int)getpid());
	unsetenv("NVZ_CGROUP_VERSION");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void drop_cg(struct nvz_cgroup **cgp)
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

static void suite_fini(void)
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

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to create cgroups");
}

static struct nvz_cgroup *make_cg(const char *name)
{
	struct nvz_cgroup *cg = NULL;
	OK(nvz_cgroup_open(&cg, g_prefix, name, ERR));
	OK(nvz_cgroup_create(cg, ERR));
	return cg;
}

static void expect(struct nvz_cgroup *cg, const char *file, const char *want)
{
	char *val = NULL;
	OK(nvz_cgroup_read(cg, NULL, file, &val, ERR));
	cr_expect_str_eq(val, want, "%s: got '%s', want '%s'", file, val, want);
	free(val);
}

static struct nvz_res_limits base(void)
{
	return (struct nvz_res_limits){ .mem_bytes = U, .memsw_bytes = U, .tcp_bytes = U,
					.pids = U, .cpu_units = 1000, .io_prio = 4 };
}

/* The first disk the IO limits go to ("254:0"), or "" if there is none. */
static void first_disk(char out[32])
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

/* ---- limits on the v1 kernel -------------------------------------------- */

Test(limits, v1_readback)
{
	need_root();
	g_cg = make_cg("t");
	cr_assert_eq(nvz_cgroup_version(g_cg), NVZ_CGROUP_V1);
	cr_assert(nvz_cgroup_has_controller(g_cg, "memory"));
	cr_assert(!nvz_cgroup_has_controller(g_cg, "hugetlb"));
	struct nvz_res_limits l = base();
	l.mem_bytes = 64 * MiB;
	l.memsw_bytes = 96 * MiB;
	l.tcp_bytes = 8 * MiB;
	l.pids = 20;
	l.cpu_units = 2000;
	l.cpu_limit_pct = 50;
	l.cpus = 1;
	snprintf(l.cpumask, sizeof(l.cpumask), "0");
	l.io_bps = MiB;
	l.io_iops = 100;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "memory.limit_in_bytes", "67108864");
	expect(g_cg, "memory.memsw.limit_in_bytes", "100663296");
	expect(g_cg, "memory.kmem.tcp.limit_in_bytes", "8388608");
	expect(g_cg, "pids.max", "20");
	expect(g_cg, "cpu.shares", "2048");
	expect(g_cg, "cpu.cfs_period_us", "100000");
	expect(g_cg, "cpu.cfs_quota_us", "50000");
	expect(g_cg, "cpuset.cpus", "0");
	char disk[32], line[64];
	first_disk(disk);
	if (disk[0]) {
		snprintf(line, sizeof(line), "%s 1048576", disk);
		expect(g_cg, "blkio.throttle.read_bps_device", line);
		expect(g_cg, "blkio.throttle.write_bps_device", line);
		snprintf(line, sizeof(line), "%s 100", disk);
		expect(g_cg, "blkio.throttle.read_iops_device", line);
		expect(g_cg, "blkio.throttle.write_iops_device", line);
	}

	/* CPUS alone limits too; CPULIMIT above CPUS*100 is capped. */
	l.cpu_limit_pct = 0;
	l.cpus = 2;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "cpu.cfs_quota_us", "200000");
	l.cpu_limit_pct = 300;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "cpu.cfs_quota_us", "200000");
	/* 500000 units would be 512000 shares: clamped to the kernel's maximum. */
	l.cpu_units = 500000;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "cpu.shares", "262144");

	/* Back to no limits at all. */
	l = base();
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "memory.limit_in_bytes", "9223372036854771712");
	expect(g_cg, "memory.memsw.limit_in_bytes", "9223372036854771712");
	expect(g_cg, "memory.kmem.tcp.limit_in_bytes", "9223372036854771712");
	expect(g_cg, "pids.max", "max");
	expect(g_cg, "cpu.shares", "1024");
	expect(g_cg, "cpu.cfs_quota_us", "-1");
	expect(g_cg, "blkio.throttle.read_bps_device", "");
	expect(g_cg, "blkio.throttle.write_iops_device", "");
	char *parent = NULL;
	OK(nvz_cg_read_file("/sys/fs/cgroup/cpuset/cpuset.effective_cpus", &parent, ERR));
	parent[strcspn(parent, "\n")] = '\0';
	expect(g_cg, "cpuset.cpus", parent);
	free(parent);
}

static void set_mem(uint64_t mem, uint64_t memsw)
{
	struct nvz_res_limits l = base();
	l.mem_bytes = mem;
	l.memsw_bytes = memsw;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	char want[32];
	snprintf(want, sizeof(want), "%llu", mem == U ? 9223372036854771712ULL : (unsigned long long)mem);
	expect(g_cg, "memory.limit_in_bytes", want);
	snprintf(want, sizeof(want), "%llu",
		 memsw == U ? 9223372036854771712ULL : (unsigned long long)memsw);
	expect(g_cg, "memory.memsw.limit_in_bytes", want);
}

/* The kernel refuses memsw < mem at any moment (EINVAL): raising and
 * lowering must each pick the order that keeps it. */
Test(limits, v1_memory_order)
{
	need_root();
	g_cg = make_cg("t");
	static const uint64_t seq[][2] = {
		{ 64 * MiB, 96 * MiB },	  { 128 * MiB, 192 * MiB }, { 32 * MiB, 48 * MiB },
		{ 32 * MiB, 32 * MiB },	  { 256 * MiB, 256 * MiB }, { 16 * MiB, 1024 * MiB },
		{ 512 * MiB, 512 * MiB }, { U, U },		    { 8 * MiB, U },
		{ 8 * MiB, 8 * MiB },	  { U, U },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		set_mem(seq[i][0], seq[i][1]);

	struct nvz_error *err = NULL;
	struct nvz_res_limits l = base();
	l.mem_bytes = 64 * MiB;
	l.memsw_bytes = 32 * MiB;
	cr_assert_eq(nvz_cgroup_set_limits(g_cg, &l, &err), -EINVAL);
	cr_assert_eq(err->status, NVZ_E_SETUBC);
	cr_assert_not_null(strstr(err->msg, "below the memory limit"), "%s", err->msg);
	nvz_error_free(err);
}

/* A write the kernel refuses late in the plan undoes the earlier ones. */
Test(limits, v1_rollback)
{
	need_root();
	g_cg = make_cg("t");
	struct nvz_res_limits l = base();
	l.mem_bytes = 64 * MiB;
	l.memsw_bytes = 96 * MiB;
	l.pids = 20;
	l.cpu_units = 500;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	char *cpus = NULL;
	OK(nvz_cgroup_read(g_cg, NULL, "cpuset.cpus", &cpus, ERR));

	struct nvz_res_limits bad = base();
	bad.mem_bytes = 128 * MiB;
	bad.memsw_bytes = 256 * MiB;
	bad.pids = 50;
	bad.cpu_units = 4000;
	bad.cpu_limit_pct = 25;
	snprintf(bad.cpumask, sizeof(bad.cpumask), "0-999");
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_cgroup_set_limits(g_cg, &bad, &err), 0);
	cr_assert_eq(err->code, ERANGE, "%s", err->msg);
	cr_assert_eq(err->status, NVZ_E_SYSTEM);
	cr_assert_not_null(strstr(err->msg, "unable to set CPU mask to 0-999"), "%s", err->msg);
	cr_assert_not_null(strstr(err->msg, g_prefix), "%s", err->msg);
	nvz_error_free(err);
	expect(g_cg, "memory.limit_in_bytes", "67108864");
	expect(g_cg, "memory.memsw.limit_in_bytes", "100663296");
	expect(g_cg, "pids.max", "20");
	expect(g_cg, "cpu.shares", "512");
	expect(g_cg, "cpu.cfs_quota_us", "-1");
	expect(g_cg, "cpuset.cpus", cpus);
	free(cpus);
}

/* ---- processes in the cgroup -------------------------------------------- */

/* Fork a child that joins cg and runs body(fd); body reports on fd. */
static pid_t spawn_in(struct nvz_cgroup *cg, void (*body)(int fd), int *rfd)
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

static int wait_kid(pid_t pid)
{
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] == pid)
			g_kids[i] = g_kids[--g_nkids];
	return st;
}

static long read_long(int fd)
{
	char buf[64] = "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static void report(int fd, long v)
{
	dprintf(fd, "%ld", v);
}

/* Touch every page through a volatile pointer: the compiler may drop a
 * malloc'd buffer that is never read, and with it the whole test. */
static bool touch(size_t len)
{
	volatile char *p = malloc(len);
	if (!p)
		return false;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	return true;
}

static void touch_20m(int fd)
{
	if (!touch(20 * MiB))
		_exit(91);
	report(fd, 1);
	close(fd);
	for (;;)
		pause();
}

static void hog_64m(int fd)
{
	(void)fd;
	_exit(touch(64 * MiB) ? 0 : 92);
}

static void fork_20(int fd)
{
	pid_t kids[20];
	int n = 0, failed = 0;
	for (int i = 0; i < 20; i++) {
		pid_t k = fork();
		if (k == 0) {
			for (;;)
				pause();
		}
		if (k < 0)
			failed++;
		else
			kids[n++] = k;
	}
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	report(fd, failed);
}

Test(limits, v1_busy_memory_message)
{
	need_root();
	g_cg = make_cg("t");
	int fd;
	pid_t pid = spawn_in(g_cg, touch_20m, &fd);
	cr_assert_eq(read_long(fd), 1);
	struct nvz_res_limits l = base();
	l.mem_bytes = 8 * MiB;
	l.memsw_bytes = 8 * MiB;
	l.pids = 30;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_set_limits(g_cg, &l, &err), -EBUSY);
	cr_assert_eq(err->status, NVZ_E_SETUBC);
	cr_assert_not_null(strstr(err->msg, "unable to set memory limit to 8388608 bytes: the "
					    "container uses more (Device or resource busy)"),
			   "%s", err->msg);
	nvz_error_free(err);
	expect(g_cg, "memory.limit_in_bytes", "9223372036854771712");
	expect(g_cg, "pids.max", "max");
	kill(pid, SIGKILL);
	wait_kid(pid);
}

Test(limits, v1_counters)
{
	need_root();
	g_cg = make_cg("t");
	struct nvz_res_limits l = base();
	l.mem_bytes = 64 * MiB;
	l.memsw_bytes = 64 * MiB;
	l.pids = 10;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	int fd;
	pid_t pid = spawn_in(g_cg, touch_20m, &fd);
	cr_assert_eq(read_long(fd), 1);
	struct nvz_cgroup_counter c[UBC_COUNT];
	OK(nvz_cgroup_counters(g_cg, c, ERR));
	cr_assert(c[UBC_PHYSPAGES].valid);
	cr_assert_geq(c[UBC_PHYSPAGES].held, 5000, "held %llu",
		      (unsigned long long)c[UBC_PHYSPAGES].held);
	cr_assert_geq(c[UBC_PHYSPAGES].maxheld, c[UBC_PHYSPAGES].held);
	cr_assert_eq(c[UBC_PHYSPAGES].limit, 16384);
	cr_assert(c[UBC_SWAPPAGES].valid);
	cr_assert_eq(c[UBC_SWAPPAGES].limit, 0);
	cr_assert(c[UBC_NUMPROC].valid);
	cr_assert_eq(c[UBC_NUMPROC].held, 1);
	cr_assert_eq(c[UBC_NUMPROC].limit, 10);
	cr_assert(c[UBC_TCPSNDBUF].valid);
	cr_assert_eq(c[UBC_TCPSNDBUF].limit, U);
	cr_assert(!c[UBC_TCPRCVBUF].valid, "the kernel counts both buffers together");
	cr_assert(c[UBC_KMEMSIZE].valid);
	cr_assert(!c[UBC_NUMFILE].valid);
	kill(pid, SIGKILL);
	wait_kid(pid);

	/* Forks beyond pids.max fail and are counted. */
	pid = spawn_in(g_cg, fork_20, &fd);
	long failed = read_long(fd);
	cr_assert_geq(failed, 10, "only %ld forks failed", failed);
	cr_assert(WIFEXITED(wait_kid(pid)));
	OK(nvz_cgroup_counters(g_cg, c, ERR));
	cr_assert_geq(c[UBC_NUMPROC].failcnt, (uint64_t)failed);
	cr_assert_eq(c[UBC_NUMPROC].maxheld, 10);
}

/* memsw == mem: the charge fails on memsw, whose failcnt 6.13+ no longer
 * keeps; memsw > mem (no swap on this host): memory.failcnt counts. */
Test(limits, v1_oom_counts_failures)
{
	need_root();
	static const uint64_t memsw[] = { 32 * MiB, 64 * MiB };
	for (size_t i = 0; i < 2; i++) {
		g_cg = make_cg(i ? "t2" : "t1");
		struct nvz_res_limits l = base();
		l.mem_bytes = 32 * MiB;
		l.memsw_bytes = memsw[i];
		OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
		int fd;
		pid_t pid = spawn_in(g_cg, hog_64m, &fd);
		close(fd);
		int st = wait_kid(pid);
		cr_assert(WIFSIGNALED(st) ? WTERMSIG(st) == SIGKILL : WEXITSTATUS(st) == 92,
			  "the hog survived: status %#x", st);
		struct nvz_cgroup_counter c[UBC_COUNT];
		OK(nvz_cgroup_counters(g_cg, c, ERR));
		cr_assert_gt(c[UBC_PHYSPAGES].failcnt, 0, "memsw %llu", (unsigned long long)memsw[i]);
		cr_assert_eq(c[UBC_PHYSPAGES].limit, 8192);
		cr_assert_eq(c[UBC_SWAPPAGES].limit, i ? 8192 : 0);
		drop_cg(&g_cg);
	}
}

/* Exactly the beancounters named in list are enforced. */
static void expect_enforced(const struct nvz_cgroup *cg, const char *list)
{
	for (int id = 0; id <= UBC_COUNT; id++) {
		char word[64];
		snprintf(word, sizeof(word), " %s ", id < UBC_COUNT ? nvz_ubc_info(id)->name : "?");
		bool want = strstr(list, word) != NULL;
		cr_expect_eq(nvz_cgroup_enforces(cg, id), want, "%s", word);
	}
}

/* kmem.limit_in_bytes exists here, but 6.x ignores what is written to it. */
Test(limits, v1_enforces)
{
	need_root();
	g_cg = make_cg("t");
	expect_enforced(g_cg, " physpages swappages numproc tcpsndbuf tcprcvbuf ");
}

/* ---- device access ------------------------------------------------------ */

static void make_tmp(void)
{
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/nvz-unit-lim-XXXXXX");
	cr_assert_not_null(mkdtemp(g_tmp));
}

static char *tmp_path(const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", g_tmp, rel) < 0)
		abort();
	return p;
}

/* null (1:3) and kmsg (1:11) nodes of our own, so the test needs no /dev. */
static void make_nodes(void)
{
	make_tmp();
	char *null = tmp_path("null"), *kmsg = tmp_path("kmsg");
	cr_assert_eq(mknod(null, S_IFCHR | 0600, makedev(1, 3)), 0);
	cr_assert_eq(mknod(kmsg, S_IFCHR | 0600, makedev(1, 11)), 0);
	free(null), free(kmsg);
}

/* Reports errno of open(null) * 1000 + errno of open(kmsg) (0 = opened). */
static void try_open(int fd)
{
	char *null = tmp_path("null"), *kmsg = tmp_path("kmsg");
	int a = open(null, O_RDWR | O_CLOEXEC), ea = a < 0 ? errno : 0;
	int b = open(kmsg, O_RDONLY | O_NONBLOCK | O_CLOEXEC), eb = b < 0 ? errno : 0;
	report(fd, ea * 1000 + eb);
}

static long open_in(struct nvz_cgroup *cg)
{
	int fd;
	pid_t pid = spawn_in(cg, try_open, &fd);
	long v = read_long(fd);
	int st = wait_kid(pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	return v;
}

static const struct nvz_dev_rule kmsg_rw = { 'c', 1, 11, true, true, false, "" };

Test(limits, v1_devices)
{
	need_root();
	g_cg = make_cg("t");
	make_nodes();
	cr_assert_eq(open_in(g_cg), 0, "everything is allowed before");
	OK(nvz_cgroup_set_devices(g_cg, NULL, 0, ERR));
	cr_assert_eq(open_in(g_cg), EPERM, "null must open, kmsg must not");
	char *list = NULL;
	OK(nvz_cgroup_read(g_cg, "devices", "devices.list", &list, ERR));
	cr_assert_not_null(strstr(list, "c 1:3 rwm\n"), "%s", list);
	cr_assert_not_null(strstr(list, "c 136:* rwm\n"), "%s", list);
	cr_assert_not_null(strstr(list, "c *:* m\n"), "%s", list);
	cr_assert_not_null(strstr(list, "b *:* m"), "%s", list);
	free(list);
	OK(nvz_cgroup_set_devices(g_cg, &kmsg_rw, 1, ERR));
	cr_assert_eq(open_in(g_cg), 0);

	/* With a child cgroup inside, the rules change without "a" (which the
	 * kernel refuses then); the child loses what the parent drops. */
	const struct nvz_cg_hier *h = NULL;
	OK(g_cg->ops->file_hier(g_cg, "devices", "devices.list", &h, ERR));
	char *sub = nvz_cg_join(h->path, "init.scope");
	cr_assert_eq(mkdir(sub, 0755), 0);
	OK(nvz_cgroup_set_devices(g_cg, NULL, 0, ERR));
	cr_assert_eq(open_in(g_cg), EPERM);
	char *sublist = nvz_cg_join(sub, "devices.list"), *text = NULL;
	OK(nvz_cg_read_file(sublist, &text, ERR));
	cr_assert_null(strstr(text, "c 1:11"), "%s", text);
	free(text), free(sublist);
	OK(nvz_cgroup_set_devices(g_cg, &kmsg_rw, 1, ERR));
	cr_assert_eq(open_in(g_cg), 0);
	rmdir(sub);
	free(sub);

	/* Never restricted and already holding children: refused, by name. */
	g_cg2 = make_cg("u");
	OK(g_cg2->ops->file_hier(g_cg2, "devices", "devices.list", &h, ERR));
	sub = nvz_cg_join(h->path, "init.scope");
	cr_assert_eq(mkdir(sub, 0755), 0);
	free(sub);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_set_devices(g_cg2, NULL, 0, &err), -EBUSY);
	cr_assert_eq(err->status, NVZ_E_DEVICES);
	cr_assert_not_null(strstr(err->msg, "has child cgroups"), "%s", err->msg);
	nvz_error_free(err);
}

/* cgroup2 is mounted on this hybrid host and device programs attach to its
 * directories; the kernel runs them for tasks in the cgroup. */
Test(limits, v2_bpf_devices)
{
	need_root();
	setenv("NVZ_CGROUP_VERSION", "2", 1);
	g_cg = make_cg("t");
	cr_assert_eq(nvz_cgroup_version(g_cg), NVZ_CGROUP_V2);
	make_nodes();
	cr_assert_eq(open_in(g_cg), 0);
	OK(nvz_cgroup_set_devices(g_cg, NULL, 0, ERR));
	cr_assert_eq(open_in(g_cg), EPERM, "null must open, kmsg must not");
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cg_bpf_count(g_cg->hier[0].path, &err), 1);
	OK(nvz_cgroup_set_devices(g_cg, &kmsg_rw, 1, ERR));
	cr_assert_eq(open_in(g_cg), 0);
	cr_assert_eq(nvz_cg_bpf_count(g_cg->hier[0].path, &err), 1, "the old program stayed");
	/* Read-only kmsg: O_RDONLY opens, a write open does not. */
	struct nvz_dev_rule ro = kmsg_rw;
	ro.write = false;
	OK(nvz_cgroup_set_devices(g_cg, &ro, 1, ERR));
	cr_assert_eq(open_in(g_cg), 0);
	struct nvz_dev_rule any = { 'a', -1, -1, true, true, true, "" };
	OK(nvz_cgroup_set_devices(g_cg, &any, 1, ERR));
	cr_assert_eq(open_in(g_cg), 0);
	OK(nvz_cgroup_set_devices(g_cg, NULL, 0, ERR));
	cr_assert_eq(open_in(g_cg), EPERM);
	cr_assert_eq(nvz_cg_bpf_count(g_cg->hier[0].path, &err), 1);
}

/* ---- v2 on this host's empty cgroup2 and on a fixture tree -------------- */

Test(limits, v2_without_controllers)
{
	need_root();
	setenv("NVZ_CGROUP_VERSION", "2", 1);
	g_cg = make_cg("t");
	struct nvz_res_limits l = base();
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	l.pids = 20;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_set_limits(g_cg, &l, &err), -EOPNOTSUPP);
	cr_assert_eq(err->status, NVZ_E_SETUBC);
	cr_assert_not_null(strstr(err->msg, "need the 'pids' cgroup controller"), "%s", err->msg);
	nvz_error_free(err);
	expect_enforced(g_cg, "");
	struct nvz_cgroup_counter c[UBC_COUNT];
	OK(nvz_cgroup_counters(g_cg, c, ERR));
	for (int i = 0; i < UBC_COUNT; i++)
		cr_assert(!c[i].valid, "%d", i);
}

static void put(const char *rel, const char *text)
{
	char *p = tmp_path(rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
	free(p);
}

static void check_file(const char *rel, const char *want, bool whole)
{
	char *p = tmp_path(rel), *text = NULL;
	OK(nvz_cg_read_file(p, &text, ERR));
	if (whole)
		cr_expect_str_eq(text, want, "%s", rel);
	else
		cr_expect_not_null(strstr(text, want), "%s: %s", rel, text);
	free(text), free(p);
}

static void expect_file(const char *rel, const char *want)
{
	check_file(rel, want, true);
}

static void expect_in_file(const char *rel, const char *want)
{
	check_file(rel, want, false);
}

/* The struct is internal to lib/cgroup; tests build one over a directory
 * tree that stands in for a cgroup2 mount with every controller. */
static struct nvz_cgroup *fake_v2(const char *name)
{
	struct nvz_cgroup *cg = calloc(1, sizeof(*cg));
	cr_assert_not_null(cg);
	cg->ops = &nvz_cg_v2_backend;
	cg->prefix = strdup("nvz");
	cg->name = strdup(name);
	cg->hier = calloc(1, sizeof(*cg->hier));
	cg->nhier = 1;
	cg->hier[0].v2 = true;
	cg->hier[0].mnt = strdup(g_tmp);
	cr_assert_geq(asprintf(&cg->hier[0].path, "%s/nvz/%s", g_tmp, name), 0);
	cg->hier[0].ctrls = calloc(1, sizeof(char *));
	cg->hier[0].flags = calloc(1, sizeof(char *));
	return cg;
}

static void make_fixture(void)
{
	make_tmp();
	char *d = tmp_path("nvz"), *ct = tmp_path("nvz/101");
	cr_assert_eq(mkdir(d, 0755), 0);
	cr_assert_eq(mkdir(ct, 0755), 0);
	free(d), free(ct);
	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	put("nvz/cgroup.subtree_control", "cpu memory pids\n");
	put("nvz/cpuset.cpus.effective", "0-1\n");
	put("nvz/101/cgroup.controllers", "cpuset cpu io memory pids\n");
	put("nvz/101/cgroup.procs", "");
	put("nvz/101/memory.max", "max\n");
	put("nvz/101/memory.swap.max", "max\n");
	put("nvz/101/pids.max", "max\n");
	put("nvz/101/cpu.weight", "100\n");
	put("nvz/101/cpu.max", "max 100000\n");
	put("nvz/101/cpuset.cpus", "\n");
	put("nvz/101/io.max", "");
	put("nvz/101/memory.current", "20971520\n");
	put("nvz/101/memory.peak", "31457280\n");
	put("nvz/101/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	put("nvz/101/memory.swap.current", "8192\n");
	put("nvz/101/memory.swap.events", "high 0\nmax 2\nfail 0\n");
	put("nvz/101/memory.stat", "anon 1000\nfile 2000\nkernel 300\nsock 16384\nshmem 0\n");
	put("nvz/101/pids.current", "5\n");
	put("nvz/101/pids.peak", "7\n");
	put("nvz/101/pids.events", "max 4\n");
}

static struct nvz_res_limits fixture_limits(void)
{
	struct nvz_res_limits l = base();
	l.mem_bytes = 64 * MiB;
	l.memsw_bytes = 96 * MiB;
	l.tcp_bytes = MiB; /* no such limit on v2: skipped, enforces() says so */
	l.pids = 20;
	l.cpu_units = 2000;
	l.cpu_limit_pct = 50;
	snprintf(l.cpumask, sizeof(l.cpumask), "0");
	l.io_bps = MiB;
	l.io_iops = 100;
	return l;
}

Test(limits, v2_writers_on_fixture)
{
	make_fixture();
	g_cg = fake_v2("101");
	struct nvz_res_limits l = fixture_limits();
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect_file("nvz/101/memory.max", "67108864");
	expect_file("nvz/101/memory.swap.max", "33554432");
	expect_file("nvz/101/pids.max", "20");
	expect_file("nvz/101/cpu.weight", "79"); /* shares 2048 */
	expect_file("nvz/101/cpu.max", "50000 100000");
	expect_file("nvz/101/cpuset.cpus", "0");
	char disk[32];
	first_disk(disk);
	/* Each device is one write; the fixture keeps the last one. */
	if (disk[0])
		expect_in_file("nvz/101/io.max", " rbps=1048576 wbps=1048576 riops=100 wiops=100");
	l = base();
	l.cpu_units = 8;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect_file("nvz/101/memory.max", "max");
	expect_file("nvz/101/memory.swap.max", "max");
	expect_file("nvz/101/pids.max", "max");
	expect_file("nvz/101/cpu.weight", "1");
	expect_file("nvz/101/cpu.max", "max 100000");
	expect_file("nvz/101/cpuset.cpus", "\n");
	if (disk[0])
		expect_in_file("nvz/101/io.max", " rbps=max wbps=max riops=max wiops=max");
	expect_enforced(g_cg, " physpages swappages numproc ");
}

Test(limits, v2_swap_accounting_missing)
{
	make_fixture();
	char *p = tmp_path("nvz/101/memory.swap.max");
	cr_assert_eq(unlink(p), 0);
	free(p);
	g_cg = fake_v2("101");
	struct nvz_res_limits l = fixture_limits();
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_cgroup_set_limits(g_cg, &l, &err), 0);
	cr_assert_eq(err->status, NVZ_E_SETUBC);
	cr_assert_not_null(strstr(err->msg, "swap accounting is not enabled on this kernel"), "%s",
			   err->msg);
	nvz_error_free(err);
	expect_file("nvz/101/memory.max", "max\n");
	l.memsw_bytes = U;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect_file("nvz/101/memory.max", "67108864");
	expect_enforced(g_cg, " physpages numproc ");
}

/* The last file is read-only (a bind mount in this test's own mount
 * namespace): everything written before it is put back. */
Test(limits, v2_rollback_on_fixture)
{
	need_root();
	make_fixture();
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL), 0);
	char *io = tmp_path("nvz/101/io.max");
	cr_assert_eq(mount(io, io, NULL, MS_BIND, NULL), 0);
	cr_assert_eq(mount(NULL, io, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), 0);
	free(io);
	char disk[32];
	first_disk(disk);
	if (!disk[0])
		cr_skip_test("no block device for an IO limit");
	g_cg = fake_v2("101");
	struct nvz_res_limits l = fixture_limits();
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_set_limits(g_cg, &l, &err), -EROFS);
	cr_assert_not_null(strstr(err->msg, "unable to set IO limit"), "%s", err->msg);
	nvz_error_free(err);
	expect_file("nvz/101/memory.max", "max");
	expect_file("nvz/101/memory.swap.max", "max");
	expect_file("nvz/101/pids.max", "max");
	expect_file("nvz/101/cpu.weight", "100");
	expect_file("nvz/101/cpu.max", "max 100000");
	expect_file("nvz/101/cpuset.cpus", "\n");
}

Test(limits, v2_counters_and_controllers_on_fixture)
{
	make_fixture();
	g_cg = fake_v2("101");
	put("nvz/101/memory.max", "67108864\n");
	struct nvz_cgroup_counter c[UBC_COUNT];
	OK(nvz_cgroup_counters(g_cg, c, ERR));
	cr_assert(c[UBC_PHYSPAGES].valid);
	cr_assert_eq(c[UBC_PHYSPAGES].held, 5120);
	cr_assert_eq(c[UBC_PHYSPAGES].maxheld, 7680);
	cr_assert_eq(c[UBC_PHYSPAGES].limit, 16384);
	cr_assert_eq(c[UBC_PHYSPAGES].failcnt, 3);
	/* No swap.peak: maxheld is what is held now. */
	cr_assert(c[UBC_SWAPPAGES].valid);
	cr_assert_eq(c[UBC_SWAPPAGES].held, 2);
	cr_assert_eq(c[UBC_SWAPPAGES].maxheld, 2);
	cr_assert_eq(c[UBC_SWAPPAGES].limit, U);
	cr_assert_eq(c[UBC_SWAPPAGES].failcnt, 2);
	cr_assert(c[UBC_NUMPROC].valid);
	cr_assert_eq(c[UBC_NUMPROC].held, 5);
	cr_assert_eq(c[UBC_NUMPROC].maxheld, 7);
	cr_assert_eq(c[UBC_NUMPROC].limit, U);
	cr_assert_eq(c[UBC_NUMPROC].failcnt, 4);
	cr_assert(c[UBC_TCPSNDBUF].valid);
	cr_assert_eq(c[UBC_TCPSNDBUF].held, 16384);
	cr_assert_eq(c[UBC_TCPSNDBUF].limit, U);
	cr_assert(!c[UBC_TCPRCVBUF].valid);
	cr_assert(!c[UBC_KMEMSIZE].valid);

	cr_assert(nvz_cgroup_has_controller(g_cg, "io"));
	/* 102 does not exist yet: the parent's subtree_control decides. */
	g_cg2 = fake_v2("102");
	cr_assert(nvz_cgroup_has_controller(g_cg2, "memory"));
	cr_assert(!nvz_cgroup_has_controller(g_cg2, "io"));
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_counters(g_cg2, c, &err), -ENOENT);
	nvz_error_free(err);
}
