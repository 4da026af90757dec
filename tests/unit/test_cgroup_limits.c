/* Unit tests of the resource side of lib/cgroup on this machine's real
 * kernel (cgroup v1): limits, their order and rollback, and the counters of
 * processes held by them. Devices and v2: test_cgroup_devices.c. */
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

#include "cg_fixture.h"
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
	snprintf(l.nodemask, sizeof(l.nodemask), "0");
	l.io_bps = MiB;
	l.io_iops = 100;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect(g_cg, "cpuset.mems", "0");
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
/* kmem.limit_in_bytes exists here, but 6.x ignores what is written to it. */
Test(limits, v1_enforces)
{
	need_root();
	g_cg = make_cg("t");
	expect_enforced(g_cg, " physpages swappages numproc tcpsndbuf tcprcvbuf ");
}

