/* Unit tests of device access on this machine's real kernel (the v1 devices
 * cgroup, the BPF device program on the hybrid cgroup2), and of the v2
 * backend on this host's empty cgroup2 and against a fixture tree, as the
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

#include "cg_fixture.h"
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
	put("nvz/cpuset.mems.effective", "0\n");
	put("nvz/101/cgroup.controllers", "cpuset cpu io memory pids\n");
	put("nvz/101/cgroup.procs", "");
	put("nvz/101/memory.max", "max\n");
	put("nvz/101/memory.swap.max", "max\n");
	put("nvz/101/pids.max", "max\n");
	put("nvz/101/cpu.weight", "100\n");
	put("nvz/101/cpu.max", "max 100000\n");
	put("nvz/101/cpuset.cpus", "\n");
	put("nvz/101/cpuset.mems", "\n");
	put("nvz/101/io.max", "");
	put("nvz/101/memory.current", "20971520\n");
	put("nvz/101/memory.peak", "31457280\n");
	put("nvz/101/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	put("nvz/101/memory.swap.current", "8192\n");
	put("nvz/101/memory.swap.events", "high 0\nmax 2\nfail 0\n");
	/* Keys that begin like others ("kernel_stack", "slab"), to match whole. */
	put("nvz/101/memory.stat", "anon 1000\nfile 2000\nkernel_stack 100\nkernel 300\nsock 16384\n"
				   "shmem 40960\nunevictable 12288\nslab 5700\n"
				   "slab_reclaimable 5000\nslab_unreclaimable 700\n");
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
	/* Back to all: the parent's list (the kernel refuses to empty a
	 * cpuset with tasks); an empty one stays empty. */
	expect_file("nvz/101/cpuset.cpus", "0-1");
	expect_file("nvz/101/cpuset.mems", "\n");
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

/* A cgroup a start just made (fresh): its files hold the kernel's
 * defaults, so a limit left at its default is neither read nor written, and
 * one that differs is written without reading the file first. The fixture's
 * "x" stands for what a fresh cgroup would never hold: it stays wherever
 * nothing was written. Once limits were set the cgroup is not fresh. */
Test(limits, v2_fresh_cgroup_writes_only_what_differs)
{
	make_fixture();
	static const char *const files[] = { "memory.max", "memory.swap.max", "pids.max",
					     "cpu.weight", "cpu.max" };
	char rel[64];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "nvz/101/%s", files[i]);
		put(rel, "x\n");
	}
	g_cg = fake_v2("101");
	g_cg->fresh = true;
	struct nvz_res_limits l = base();
	l.pids = 20;
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect_file("nvz/101/pids.max", "20");
	/* 1000 units are shares 1024, weight 39 (not the kernel's 100). */
	expect_file("nvz/101/cpu.weight", "39");
	expect_file("nvz/101/memory.max", "x\n");
	expect_file("nvz/101/memory.swap.max", "x\n");
	expect_file("nvz/101/cpu.max", "x\n");
	cr_assert_not(g_cg->fresh);
	/* Now every file is read, and what differs from the wanted value is
	 * written. */
	l = base();
	OK(nvz_cgroup_set_limits(g_cg, &l, ERR));
	expect_file("nvz/101/pids.max", "max");
	expect_file("nvz/101/memory.max", "max");
	expect_file("nvz/101/memory.swap.max", "max");
	expect_file("nvz/101/cpu.weight", "39");
	expect_file("nvz/101/cpu.max", "max 100000");
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
	/* memory.stat: held only, in the parameter's unit. */
	cr_assert(c[UBC_KMEMSIZE].valid);
	cr_assert_eq(c[UBC_KMEMSIZE].held, 300);
	cr_assert_eq(c[UBC_KMEMSIZE].maxheld, 300);
	cr_assert_eq(c[UBC_KMEMSIZE].limit, U);
	cr_assert_eq(c[UBC_SHMPAGES].held, 10);
	cr_assert_eq(c[UBC_LOCKEDPAGES].held, 3);
	cr_assert_eq(c[UBC_DCACHESIZE].held, 5000);
	cr_assert_eq(c[UBC_DCACHESIZE].failcnt, 0);
	/* RAM and swap together. */
	cr_assert(c[UBC_OOMGUARPAGES].valid);
	cr_assert_eq(c[UBC_OOMGUARPAGES].held, 5122);
	cr_assert_eq(c[UBC_OOMGUARPAGES].maxheld, 7682);
	cr_assert_eq(c[UBC_OOMGUARPAGES].limit, U);
	cr_assert(!c[UBC_PRIVVMPAGES].valid);
	cr_assert(!c[UBC_NUMFILE].valid);

	cr_assert(nvz_cgroup_has_controller(g_cg, "io"));
	/* 102 does not exist yet: the parent's subtree_control decides. */
	g_cg2 = fake_v2("102");
	cr_assert(nvz_cgroup_has_controller(g_cg2, "memory"));
	cr_assert(!nvz_cgroup_has_controller(g_cg2, "io"));
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cgroup_counters(g_cg2, c, &err), -ENOENT);
	nvz_error_free(err);
}
