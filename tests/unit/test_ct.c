/* Unit tests of lib/ct/registry.c: paths from vz.conf, the config directory
 * listing and opening a CT, the run state, against a throwaway server root
 * (ct-fixture.h; IDs and names: test_ct_names.c). */
#include "ct-fixture.h"

TestSuite(ct, .init = setup, .fini = teardown);

/* ---- paths from vz.conf ----------------------------------------------- */

Test(ct, veid_substitution)
{
	open_ctx("");
	struct nvz_ct *ct = open_ct(101);
	cr_assert_str_eq(ct->root, P("%s/root/101", base));
	cr_assert_str_eq(ct->private, P("%s/private/101", base));
	cr_assert_str_eq(ct->conf_path, P("%s/conf/101.conf", base));
	cr_assert_str_eq(ct->rundir, P("%s/run/101", base));
	cr_assert_str_eq(ct->id, "101");

	/* The CT's own file overrides vz.conf; both forms, several times. */
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_set(ct->conf, "VE_ROOT", P("%s/r/${VEID}/x/$VEID", base), &err), 0);
	cr_assert_eq(nvz_conf_set(ct->conf, "VE_PRIVATE", P("%s/p/$VEID.d", base), &err), 0);
	cr_assert_eq(nvz_ct_refresh_paths(ct, &err), 0, "%s", err ? err->msg : "");
	cr_assert_str_eq(ct->root, P("%s/r/101/x/101", base));
	cr_assert_str_eq(ct->private, P("%s/p/101.d", base));
	nvz_ct_free(ct);

	ct = open_ct(2147483644UL);
	cr_assert_str_eq(ct->root, P("%s/root/2147483644", base));
	cr_assert_str_eq(ct->private, P("%s/private/2147483644", base));
	nvz_ct_free(ct);
}

Test(ct, ct_conf_overrides_global_paths)
{
	open_ctx("");
	put(P("%s/conf/101.conf", base), P("VE_ROOT=\"%s/own/$VEID\"\nONBOOT=\"\"\n", base));
	struct nvz_ct *ct = open_ct(101);
	cr_assert_str_eq(ct->root, P("%s/own/101", base));
	cr_assert_str_eq(ct->private, P("%s/private/101", base));
	cr_assert_str_eq(nvz_ct_get(ct, "LOCKDIR", ""), P("%s/lock", base));
	cr_assert_str_eq(nvz_ct_get(ct, "ONBOOT", "dflt"), "dflt");
	nvz_ct_free(ct);
}

static void assert_open_fails(unsigned long veid, int status)
{
	struct nvz_ct *ct = NULL;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ct_open(ctx, veid, &ct, &err), 0, "opened with a bad path");
	cr_assert_not_null(err);
	cr_assert_eq(err->status, status, "status %d (%s)", err->status, err->msg);
	nvz_error_free(err);
}

Test(ct, relative_ve_root_refused)
{
	open_ctx("VE_ROOT=vz/root/$VEID\n");
	assert_open_fails(101, NVZ_E_INVALID_CONFIG);
}

Test(ct, relative_ve_private_refused)
{
	open_ctx("VE_PRIVATE=private/$VEID\n");
	assert_open_fails(101, NVZ_E_INVALID_CONFIG);
}

Test(ct, dotdot_ve_root_refused)
{
	open_ctx("VE_ROOT=/vz/../etc/$VEID\n");
	assert_open_fails(101, NVZ_E_INVALID_CONFIG);
}

Test(ct, unset_ve_root_refused)
{
	open_ctx("VE_ROOT=\n");
	assert_open_fails(101, NVZ_E_VE_ROOT_NOTSET);
}

Test(ct, relative_ve_root_in_ct_conf_refused)
{
	open_ctx("");
	put(P("%s/conf/101.conf", base), "VE_ROOT=\"root/$VEID\"\n");
	assert_open_fails(101, NVZ_E_INVALID_CONFIG);
}

/* ---- listing and opening ---------------------------------------------- */

Test(ct, list_ids_filters_and_sorts)
{
	open_ctx("");
	static const char *const files[] = {
		"1000.conf", "101.conf", "3.conf", "20.conf", "abc.conf", "0.conf", ".x.conf",
		".101.conf.AbCdEf", "101.conf.destroyed", "ve-basic.conf-sample",
		"ve-vswap-256m.conf-sample", "2147483645.conf", "12a.conf", "conf", ".conf",
		"-5.conf", "+7.conf", " 8.conf", "9.conf~", "99999999999.conf", "5.CONF"};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		put(P("%s/conf/%s", base, files[i]), "ONBOOT=\"no\"\n");
	unsigned long *ids = NULL;
	size_t n = 0;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_list_ids(ctx, &ids, &n, &err), 0, "%s", err ? err->msg : "");
	const unsigned long want[] = {3, 20, 101, 1000};
	cr_assert_eq(n, 4, "got %zu ids", n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ids[i], want[i], "ids[%zu] = %lu", i, ids[i]);
	free(ids);
}

Test(ct, list_ids_many_sorted)
{
	open_ctx("");
	for (unsigned long id = 300; id > 100; id -= 3)
		put(P("%s/conf/%lu.conf", base, id), "");
	unsigned long *ids = NULL;
	size_t n = 0;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_list_ids(ctx, &ids, &n, &err), 0);
	cr_assert_eq(n, 67);
	for (size_t i = 1; i < n; i++)
		cr_assert_lt(ids[i - 1], ids[i]);
	cr_assert_eq(ids[0], 102);
	cr_assert_eq(ids[n - 1], 300);
	free(ids);
}

Test(ct, list_ids_without_conf_dir)
{
	open_ctx("");
	cr_assert_eq(rmdir(P("%s/conf", base)), 0);
	unsigned long *ids = (unsigned long *)1;
	size_t n = 7;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_list_ids(ctx, &ids, &n, &err), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(ids);
	cr_assert_null(err);
}

Test(ct, open_missing_ct)
{
	open_ctx("");
	struct nvz_ct *ct = open_ct(555);
	cr_assert_not(ct->conf_exists);
	cr_assert_not_null(ct->conf);
	cr_assert_eq(ct->veid, 555);
	cr_assert_eq(ct->lockfd, -1);
	cr_assert_str_eq(ct->root, P("%s/root/555", base));
	cr_assert_null(nvz_conf_get(ct->conf, "ONBOOT"));
	nvz_ct_free(ct);
	cr_assert_eq(logs.n, 0, "unexpected message: %s", logs.n ? logs.msg[0] : "");
}

Test(ct, open_malformed_config_warns)
{
	open_ctx("");
	put(P("%s/conf/101.conf", base),
	    "HOSTNAME=\"a.example\"\nthis is not an assignment\nONBOOT=\"yes\"\n");
	struct nvz_ct *ct = open_ct(101);
	cr_assert(ct->conf_exists);
	cr_assert_str_eq(nvz_ct_get(ct, "HOSTNAME", ""), "a.example");
	cr_assert_str_eq(nvz_ct_get(ct, "ONBOOT", ""), "yes");
	nvz_ct_free(ct);
	cr_assert_eq(logs.n, 1, "%zu messages", logs.n);
	cr_assert_eq(logs.level[0], NVZ_LOG_WARN);
	cr_assert_not_null(strstr(logs.msg[0], "Warning"), "%s", logs.msg[0]);
	cr_assert_not_null(strstr(logs.msg[0], "101.conf:2"), "%s", logs.msg[0]);
}

Test(ct, open_unreadable_config_fails)
{
	open_ctx("");
	/* A directory where the config should be: not "missing", an error. */
	cr_assert_eq(mkdir(P("%s/conf/101.conf", base), 0755), 0);
	struct nvz_ct *ct = NULL;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ct_open(ctx, 101, &ct, &err), 0);
	cr_assert_not_null(err);
	nvz_error_free(err);
}

Test(ct, save_creates_config_and_sweeps_own_temp_files)
{
	open_ctx("");
	put(P("%s/conf/.101.conf.AbC123", base), "stale");
	put(P("%s/conf/.1010.conf.AbC123", base), "other ct");
	struct nvz_ct *ct = open_ct(101);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_lock(ct, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_conf_set(ct->conf, "ONBOOT", "yes", &err), 0);
	save_ct(ct);
	cr_assert(ct->conf_exists);
	struct stat st;
	cr_assert_neq(stat(P("%s/conf/.101.conf.AbC123", base), &st), 0, "stale temp kept");
	cr_assert_eq(stat(P("%s/conf/.1010.conf.AbC123", base), &st), 0, "other CT's file swept");
	nvz_ct_free(ct);
	ct = open_ct(101);
	cr_assert(ct->conf_exists);
	cr_assert_str_eq(nvz_ct_get(ct, "ONBOOT", ""), "yes");
	nvz_ct_free(ct);
}

Test(ct, ct_lock_is_exclusive_across_processes)
{
	open_ctx("");
	struct nvz_ct *ct = open_ct(101);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_lock(ct, &err), 0, "%s", err ? err->msg : "");
	cr_assert_geq(ct->lockfd, 0);
	struct stat st;
	cr_assert_eq(stat(P("%s/lock/101.lck", base), &st), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The inherited descriptor shares the lock: drop it first. */
		close(ct->lockfd);
		struct nvz_ct *other = NULL;
		struct nvz_error *e = NULL;
		if (nvz_ct_open(ctx, 101, &other, &e) < 0)
			_exit(2);
		int r = nvz_ct_lock(other, &e);
		_exit(r < 0 && e && e->status == NVZ_E_LOCKED ? 0 : 1);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second lock was not refused");
	nvz_ct_unlock(ct);
	cr_assert_eq(ct->lockfd, -1);
	nvz_ct_free(ct);
}

Test(ct, log_after_ct_free_does_not_use_freed_id)
{
	/* nvz_ct_open tags the context's log lines with the CT ID; once the CT
	 * is freed, a later line must not read the freed ID. M_PERTURB fills
	 * freed memory so a dangling tag shows up as garbage. */
	open_ctx(P("LOGGING=yes\nLOGFILE=%s/vzctl.log\n", base));
	int perturb = mallopt(M_PERTURB, 0x41);
#ifndef __SANITIZE_ADDRESS__
	/* Under ASan mallopt is a no-op; ASan itself reports the use after free. */
	cr_assert_eq(perturb, 1);
#endif
	(void)perturb;
	struct nvz_ct *ct = open_ct(101);
	nvz_log(ctx, NVZ_LOG_INFO, "while open");
	nvz_ct_free(ct);
	nvz_log(ctx, NVZ_LOG_INFO, "after free");
	mallopt(M_PERTURB, 0);
	FILE *f = fopen(P("%s/vzctl.log", base), "r");
	cr_assert_not_null(f);
	char line[512], last[512] = "";
	bool open_ok = false;
	while (fgets(line, sizeof(line), f)) {
		open_ok = open_ok || strstr(line, "CT 101: while open");
		snprintf(last, sizeof(last), "%s", line);
	}
	fclose(f);
	cr_assert(open_ok, "no tagged line while the CT was open");
	cr_assert_not_null(strstr(last, "after free"), "last line: %s", last);
	const char *tag = strstr(last, "]: ");
	cr_assert_not_null(tag);
	cr_assert(!strncmp(tag, "]: after free", 13) || !strncmp(tag, "]: CT 101: after free", 21),
		  "log line after nvz_ct_free read a dangling CT tag: %s", last);
}

/* A taken-over CT's init is not the hub's child: its wait status is read
 * from its zombie's /proc stat (field 52), and only from the process that
 * started at the time the state names. */
Test(proc, zombie_status)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(7);
	siginfo_t si;
	cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	unsigned long long start = nvz_proc_starttime(pid);
	cr_assert_neq(start, 0);
	cr_assert_not(nvz_proc_alive(pid, start), "a zombie is not running");
	cr_assert_eq(nvz_proc_zombie_status(pid, start), 7 << 8);
	cr_assert_eq(nvz_proc_zombie_status(pid, start + 1), -1, "another process's start time");
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(nvz_proc_zombie_status(pid, start), -1, "reaped: nothing to read");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	start = nvz_proc_starttime(pid);
	cr_assert(nvz_proc_alive(pid, start));
	cr_assert_eq(nvz_proc_zombie_status(pid, start), -1, "running");
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
}

/* The state keeps the starter's limits (infinity included) for the
 * restart after a reboot inside; a CT started without them has none, and
 * a state whose LIMITS is damaged has none rather than half of them. */
Test(ct, runstate_keeps_start_limits)
{
	open_ctx("");
	struct nvz_ct *ct = open_ct(101);
	struct rlimit want[RLIM_NLIMITS];
	for (int r = 0; r < RLIM_NLIMITS; r++)
		want[r] = (struct rlimit){ (rlim_t)r * 1000 + 1, r % 3 ? (rlim_t)r * 2000 + 2 : RLIM_INFINITY };
	want[RLIMIT_CORE].rlim_cur = 0;
	ct->start_rlimits = want;
	struct nvz_runstate rs, back;
	nvz_runstate_make(ct, getpid(), getppid(), &rs);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_runstate_write(ct, &rs, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_runstate_read(ct, &back), 0);
	cr_assert_eq(back.init_pid, getpid());
	cr_assert_eq(back.monitor_start, nvz_proc_starttime(getppid()));
	cr_assert(back.has_limits);
	cr_assert_arr_eq(back.limits, want, sizeof(want));

	ct->start_rlimits = NULL;
	nvz_runstate_make(ct, getpid(), getppid(), &rs);
	cr_assert_eq(nvz_runstate_write(ct, &rs, &err), 0);
	cr_assert_eq(nvz_runstate_read(ct, &back), 0);
	cr_assert_not(back.has_limits);
	cr_assert_eq(back.init_pid, getpid());

	FILE *f = fopen(P("%s/state", ct->rundir), "a");
	cr_assert_not_null(f);
	fputs("LIMITS=\"1:2 3:4 x\"\n", f);
	fclose(f);
	cr_assert_eq(nvz_runstate_read(ct, &back), 0);
	cr_assert_not(back.has_limits, "a damaged LIMITS taken");
	nvz_ct_free(ct);
}

/* One state file for the processes and the resources applied: each writer
 * keeps the other's keys; an older nvz's `resources` file is read where
 * the state has none. */
Test(ct, runstate_keeps_the_applied_resources)
{
	open_ctx("");
	struct nvz_ct *ct = open_ct(101);
	struct nvz_error *err = NULL;
	struct nvz_conf *applied = nvz_conf_new(), *back = NULL;
	cr_assert_eq(nvz_conf_set(applied, "NUMPROC", "40:40", NULL), 0);
	cr_assert_eq(nvz_conf_set(applied, "CPUUNITS", "2000", NULL), 0);
	/* A start applies the resources before it records the processes. */
	cr_assert_eq(nvz_runstate_write_applied(ct, applied, true, &err), 0, "%s", err ? err->msg : "");
	struct nvz_runstate rs, rsback;
	nvz_runstate_make(ct, getpid(), getppid(), &rs);
	cr_assert_eq(nvz_runstate_write(ct, &rs, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_runstate_read_applied(ct, &back, &err), 0);
	cr_assert_str_eq(nvz_conf_get(back, "NUMPROC"), "40:40");
	cr_assert_str_eq(nvz_conf_get(back, "CPUUNITS"), "2000");
	nvz_conf_free(back);
	/* A live set changes its keys only. */
	cr_assert_eq(nvz_conf_set(applied, "NUMPROC", "90:90", NULL), 0);
	cr_assert_eq(nvz_runstate_write_applied(ct, applied, false, &err), 0);
	cr_assert_eq(nvz_runstate_read(ct, &rsback), 0);
	cr_assert_eq(rsback.init_pid, getpid());
	cr_assert_eq(rsback.monitor_start, nvz_proc_starttime(getppid()));
	cr_assert_eq(nvz_runstate_read_applied(ct, &back, &err), 0);
	cr_assert_str_eq(nvz_conf_get(back, "NUMPROC"), "90:90");
	nvz_conf_free(back);
	/* A CT started by an older nvz. */
	cr_assert_eq(unlink(P("%s/state", ct->rundir)), 0);
	cr_assert_eq(nvz_runstate_read_applied(ct, &back, &err), 0);
	cr_assert_null(back);
	FILE *f = fopen(P("%s/resources", ct->rundir), "w");
	cr_assert_not_null(f);
	fputs("NUMPROC=\"7:7\"\nCPUUNITS=\"1000\"\n", f);
	fclose(f);
	nvz_runstate_make(ct, getpid(), getppid(), &rs);
	cr_assert_eq(nvz_runstate_write(ct, &rs, &err), 0);
	cr_assert_eq(nvz_runstate_read_applied(ct, &back, &err), 0);
	cr_assert_str_eq(nvz_conf_get(back, "NUMPROC"), "7:7");
	nvz_conf_free(back);
	/* A live set on it keeps that file current for the older hub. */
	cr_assert_eq(nvz_runstate_write_applied(ct, applied, false, &err), 0);
	char *text = NULL;
	cr_assert_eq(nvz_read_file(P("%s/resources", ct->rundir), 4096, &text, NULL, NULL), 0);
	cr_assert_not_null(strstr(text, "NUMPROC=\"90:90\""), "%s", text);
	free(text);
	/* A new run is ours: the file goes. */
	cr_assert_eq(nvz_runstate_write_applied(ct, applied, true, &err), 0);
	cr_assert_neq(access(P("%s/resources", ct->rundir), F_OK), 0);
	/* A failed start leaves nothing of it. */
	f = fopen(P("%s/resources.live", ct->rundir), "w");
	cr_assert_not_null(f);
	fclose(f);
	nvz_runstate_forget(ct);
	cr_assert_neq(access(ct->rundir, F_OK), 0, "run directory left");
	nvz_conf_free(applied);
	nvz_ct_free(ct);
}

/* vzpid's mapping: a CT is the numeric directory right below the prefix,
 * in any hierarchy line (v1 hybrid or v2); the hub's cgroup, the host's
 * and a CT-like name under another prefix are not CTs. */
Test(hostview, cgroup_text_ctid)
{
	char id[24];
	const char *v1 = "12:pids:/nvz/101/init.scope\n11:memory:/nvz/101\n0::/nvz/101\n";
	cr_assert_eq(nvz_cgroup_text_ctid(v1, "nvz", id, sizeof(id)), 1);
	cr_assert_str_eq(id, "101");
	cr_assert_eq(nvz_cgroup_text_ctid("0::/a/b/7\n", "/a/b/", id, sizeof(id)), 1);
	cr_assert_str_eq(id, "7");
	cr_assert_eq(nvz_cgroup_text_ctid("0::/nvz/hub\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("0::/user.slice/session-1.scope\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("0::/nvzx/101\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("0::/other/nvz/101\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("0::/nvz/101x\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("0::/nvz/12345678901234567890123456\n", "nvz", id, sizeof(id)), 0);
	cr_assert_eq(nvz_cgroup_text_ctid("", "nvz", id, sizeof(id)), 0);
}

/* vzcpucheck's power: bogomips of every CPU, x 25 (any case, as OpenVZ). */
Test(hostview, node_power)
{
	char path[] = "/tmp/nvz-cpuinfo-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char *text = "processor\t: 0\nbogomips\t: 4000.50\n\nprocessor\t: 1\nBogoMIPS\t: 1000\nflags\t: x\n";
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_float_eq(nvz_node_power(path), 125012.5, 0.01);
	unlink(path);
	cr_assert_float_eq(nvz_node_power("/nonexistent"), 0, 0.01);
}

/* vzsplit's arithmetic: the host keeps 1/16 of the RAM (at least 256 MiB),
 * each CT an equal share of the rest (at least 64 MiB, else refused with
 * the largest N that fits); swap from the host or -s; half the disk the
 * host can spare; CPU units clamped to OpenVZ's 8..500000. */
Test(hostview, split_compute)
{
	struct nvz_split_host h = { .ram = 16ULL << 30, .swap = 4ULL << 30, .procs = 100000,
				    .disk_kb = 100ULL << 20, .inodes = 6400000, .power = 100000 };
	struct nvz_split s;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_split_compute(&h, 15, &s, &err), 0);
	cr_assert_eq(s.ram, (16ULL << 30) / 16);
	cr_assert_eq(s.swap, (4ULL << 30) / 15);
	cr_assert_eq(s.numproc, 100000 / 2 / 15);
	cr_assert_eq(s.disk_kb, ((100ULL << 20) - (10ULL << 20)) / 30);
	cr_assert_eq(s.inodes, (6400000ULL - 100000) / 30);
	cr_assert_eq(s.cpuunits, 100000 / 16);
	h.swap_set = true;
	h.swap_given = 1ULL << 30;
	cr_assert_eq(nvz_split_compute(&h, 4, &s, &err), 0);
	cr_assert_eq(s.swap, (1ULL << 30) / 4);
	h.power = 1;
	cr_assert_eq(nvz_split_compute(&h, 4, &s, &err), 0);
	cr_assert_eq(s.cpuunits, 8);
	/* 1 GiB: 768 MiB to give, 12 CTs of 64 MiB at most. */
	struct nvz_split_host small = { .ram = 1ULL << 30, .procs = 1000 };
	cr_assert_eq(nvz_split_compute(&small, 12, &s, &err), 0);
	cr_assert_eq(s.numproc, 64);
	cr_assert_lt(nvz_split_compute(&small, 13, &s, &err), 0);
	cr_assert_not_null(strstr(err->msg, "The maximum allowed value is 12"), "%s", err->msg);
	nvz_error_free(err);
	err = NULL;
	cr_assert_lt(nvz_split_compute(&small, 0, &s, &err), 0);
	nvz_error_free(err);
}

/* The header as OpenVZ 4.x's vzsplit wrote it: "container " for one,
 * memory in MB, max threads capped at 16000 above 2 GiB of low memory
 * (8000 below). */
Test(hostview, split_format_header)
{
	struct nvz_split_host h = { .ram = 16ULL << 30, .lowmem = 16ULL << 30, .swap = 4ULL << 30,
				    .procs = 100000, .threads = 126000, .power = 100000 };
	struct nvz_split s = { .ram = 1ULL << 30, .numproc = 100, .cpuunits = 1000 };
	char *t = nvz_split_format(&h, 1, &s);
	cr_assert_not_null(t);
	const char *want = "# Configuration file generated by vzsplit for 1 container \n"
			   "# on HN with total amount of physical memory 16384 Mb,\n"
			   "# low memory 16384 Mb, swap size 4096 Mb, max threads 16000.\n";
	cr_assert(!strncmp(t, want, strlen(want)), "%s", t);
	free(t);
	h.lowmem = 1ULL << 30;
	t = nvz_split_format(&h, 3, &s);
	cr_assert_not_null(strstr(t, "for 3 containers\n"), "%s", t);
	cr_assert_not_null(strstr(t, "# low memory 1024 Mb, swap size 4096 Mb, max threads 8000.\n"), "%s", t);
	free(t);
}
